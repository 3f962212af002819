"""Plain functions behind the Gradio handlers: panels and export (no browser)."""

from __future__ import annotations

import docx

from assistant.ui import export_document, panels
from tests.test_session import make_session, run


def test_panels_reflect_the_session():
    s = make_session()
    run(s, "为区妇联第四次代表大会写开场白")
    doc, sources, checks, ledger, versions, diff, status, plan = panels(s)
    assert "祝贺" in doc
    assert plan.startswith("**结构：三部分（默认）**")
    assert any("规划" in row[1] for row in ledger)
    assert versions and versions[0][2].startswith("起草开场白")
    assert "空白" in checks


def test_export_warns_until_confirmed_then_writes_a_docx(tmp_path):
    s = make_session()
    run(s, "为区妇联第四次代表大会写开场白")
    first = export_document(s, "docx", tmp_path, confirmed=False)
    assert first["path"] is None and "空白" in first["message"]
    second = export_document(s, "docx", tmp_path, confirmed=True)
    assert second["path"] and docx.Document(second["path"]).paragraphs


def test_export_of_an_empty_document_is_refused(tmp_path):
    s = make_session()
    assert export_document(s, "md", tmp_path, confirmed=True)["path"] is None
    assert list(tmp_path.iterdir()) == []


def test_selecting_a_blank_marks_every_matching_blank_in_the_document():
    from assistant.ui import highlight_blank

    s = make_session()
    run(s, "为区妇联第四次代表大会写开场白")
    entry = next(e for e in s.ledger.listed() if "规划" in e.label)
    marked = [t for t, label in highlight_blank(s, entry.id) if label]
    assert marked == ["_"] * len(s.ledger.group(entry.key))
    assert "".join(t for t, _ in highlight_blank(s, entry.id)) == s.doc.text()


def test_a_source_passage_opens_inside_its_speech(tmp_path):
    from types import SimpleNamespace

    from assistant.retrieval import Passage
    from assistant.ui import passage_in_speech

    speech = "开场白。\n一、意义\n这是参考片段的原文。\n二、任务\n一是要抓落实。"
    start = speech.index("这是")
    p = Passage("a#1", "这是参考片段的原文。", "a.txt", "某讲话", "significance", 1, "意义", 0.1, start, start + 10)
    kb = SimpleNamespace(source_text=lambda name: speech)
    s = make_session()
    s.sources = [p]
    view = passage_in_speech(SimpleNamespace(kb=kb), s, 0)
    assert [t for t, label in view if label] == ["这是参考片段的原文。"]
    assert "".join(t for t, _ in view).endswith(speech)
    gone = SimpleNamespace(kb=SimpleNamespace(source_text=lambda name: (_ for _ in ()).throw(KeyError(name))))
    assert "已不在知识库" in passage_in_speech(gone, s, 0)[0][0]
