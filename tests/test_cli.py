"""The command line as a user runs it: check --json, export, kb add/list/remove, eval on a tiny corpus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import docx

ROOT = Path(__file__).resolve().parents[1]
SEED = Path("/work/shared/seed/000_cee338bc757c0ce3.txt")
if not SEED.exists():
    SEED = ROOT.parent / "shared" / "seed" / "000_cee338bc757c0ce3.txt"
if not SEED.exists():
    SEED = ROOT / "knowledge" / "speeches" / "000_seed_gonghui_daibiao_dahui.txt"
SPEECHES = ROOT / "knowledge" / "speeches"


def cli(*args, env=None, cwd=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("SPEECH_", "OPENAI_"))}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          env=e, cwd=cwd or ROOT, timeout=600)


def test_check_json_on_the_seed():
    r = cli("check", str(SEED), "--json", "--budget-minutes", "10", "--date", "2026-06-01")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["has_opening"] and data["has_closing"]
    assert [p["number"] for p in data["parts"]] == [1, 2, 3]
    assert [p["role"] for p in data["parts"]] == ["significance", "tasks", "guarantees"]
    assert len(data["parts"][1]["items"]) == 3 and data["parts"][1]["items"][0].startswith("一是")
    assert data["chars"] > sum(p["chars"] for p in data["parts"]) > 2000  # opening and closing count too
    assert abs(data["minutes"] - data["chars"] / 220) < 0.1
    assert data["fits"] is False and all("fits" in p for p in data["parts"])
    blanks = data["placeholders"]
    assert len(blanks) == 6 and all(b["status"] == "open" for b in blanks)
    assert [b["offset"] for b in blanks] == sorted(b["offset"] for b in blanks)
    terms = {w["term"] for w in data["term_warnings"]}
    assert any("三个北京" in t for t in terms) and "又好又快" in terms


def test_check_an_unreadable_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"not a zip at all")
    r = cli("check", str(bad), "--json")
    assert r.returncode == 2 and "不是有效的 .docx" in r.stderr and "Traceback" not in r.stderr


def test_export_docx_and_md(tmp_path):
    out = tmp_path / "seed.docx"
    r = cli("export", str(SEED), "--to", str(out), "--date", "2026-06-01")
    assert r.returncode == 0, r.stderr
    assert "空白" in r.stderr and "三个北京" in r.stderr  # open blanks and outdated wording are warned about
    old = cli("export", str(SEED), "--to", str(tmp_path / "old.docx"), "--date", "2011-06-01")
    assert "三个北京" not in old.stderr
    d = docx.Document(str(out))
    headings = [p.text for p in d.paragraphs if p.text.startswith(("一、", "二、", "三、"))]
    assert len(headings) == 3
    r = cli("export", str(SEED), "--to", str(tmp_path / "seed.md"))
    assert r.returncode == 0 and (tmp_path / "seed.md").read_text().count("\n## ") == 3


def test_kb_add_list_remove_round_trip(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    shutil.copy(SPEECHES / "105_anquan_shengchan.txt", kb)
    env = {"SPEECH_KNOWLEDGE_DIR": str(kb), "SPEECH_DATA_DIR": str(tmp_path / "data")}
    assert cli("ingest", str(kb), env=env).returncode == 0
    gbk = tmp_path / "gbk_speech.txt"
    gbk.write_bytes((SPEECHES / "117_fangxun_kanghan.txt").read_text(encoding="utf-8").encode("gbk"))
    notzip = tmp_path / "fake.docx"
    notzip.write_bytes(b"hello")
    dup = tmp_path / "same_again.txt"
    shutil.copy(gbk, dup)
    r = cli("kb", "add", str(gbk), str(notzip), str(dup), env=env)
    assert r.returncode == 0, r.stderr
    assert "✓ gbk_speech.txt" in r.stdout and "fake.docx" in r.stdout and "不是有效" in r.stdout
    assert "已有内容相同" in r.stdout  # the same file twice is not added twice
    listed = cli("kb", "list", env=env).stdout
    assert "gbk_speech.txt" in listed and "105_anquan_shengchan.txt" in listed
    r = cli("kb", "remove", "gbk_speech.txt", env=env)
    assert "已移除" in r.stdout
    assert "gbk_speech.txt" not in cli("kb", "list", env=env).stdout
    assert not (kb / "gbk_speech.txt").exists() and (tmp_path / "data" / "removed" / "gbk_speech.txt").exists()


def test_eval_json_on_a_tiny_corpus(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    for name in ("105_anquan_shengchan.txt", "117_fangxun_kanghan.txt", "101_fulian_daibiao_dahui.txt"):
        shutil.copy(SPEECHES / name, kb)
    q = tmp_path / "q.jsonl"
    q.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"query": "隐患排查整治 安全生产责任", "relevant": ["105_anquan_shengchan.txt"]},
        {"query": "水库山塘 汛期 防汛", "relevant": ["117_fangxun_kanghan.txt"]},
        {"query": "家庭家教家风 妇女", "relevant": ["101_fulian_daibiao_dahui.txt"]},
    ]), encoding="utf-8")
    r = cli("eval", "--knowledge", str(kb), "--queries", str(q), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout.strip().splitlines()[-1])
    assert data["queries"] == 3 and set(data) >= {"vector", "keyword", "hybrid"}
    assert data["hybrid"]["recall@5"] == 1.0
    assert "建立知识库索引" in r.stderr  # progress on stderr, JSON alone on stdout


def test_eval_with_an_empty_knowledge_folder(tmp_path):
    (tmp_path / "kb").mkdir()
    q = tmp_path / "q.jsonl"
    q.write_text('{"query": "安全生产", "relevant": ["x.txt"]}\n', encoding="utf-8")
    r = cli("eval", "--knowledge", str(tmp_path / "kb"), "--queries", str(q), "--json")
    assert r.returncode == 2 and "没有可读取的讲话稿" in r.stderr


def test_upload_names_cannot_escape_the_knowledge_folder():
    from assistant.kb_admin import safe_name

    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("..\\..\\x.md") == "x.md"
    assert "/" not in safe_name("a/b/../c 讲话.docx")


def test_eval_over_two_folders_with_known_items(tmp_path):
    """Several --knowledge folders make one corpus; --known-items adds queries made from its quoted names."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    shutil.copy(SPEECHES / "105_anquan_shengchan.txt", a)
    shutil.copy(SPEECHES / "117_fangxun_kanghan.txt", b)
    q = tmp_path / "q.jsonl"
    q.write_text(json.dumps({"query": "水库山塘 汛期 防汛", "relevant": ["117_fangxun_kanghan.txt"]},
                            ensure_ascii=False) + "\n", encoding="utf-8")
    r = cli("eval", "--knowledge", str(a), "--knowledge", str(b), "--queries", str(q), "--known-items", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout.strip().splitlines()[-1])
    assert data["queries"] > 5  # the one written query + the quoted names of two speeches
    assert data["hybrid"]["recall@10"] >= data["vector"]["recall@10"]
    assert "name" in r.stderr  # the per-kind table (on stderr with --json) has the known-item rows


def test_eval_refuses_two_files_of_the_same_name(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    shutil.copy(SPEECHES / "105_anquan_shengchan.txt", a)
    shutil.copy(SPEECHES / "117_fangxun_kanghan.txt", b / "105_anquan_shengchan.txt")
    r = cli("eval", "--knowledge", str(a), "--knowledge", str(b), "--known-items")
    assert r.returncode == 2 and "同名" in r.stderr
