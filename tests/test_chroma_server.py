"""Chroma in client-server mode: ``chroma run`` (offline, 127.0.0.1) + ``speech-assistant ingest`` + search.

The ``chroma`` CLI from the venv starts a local server on a free port; ingestion runs with
``SPEECH_CHROMA_HOST``/``SPEECH_CHROMA_PORT`` and a tmp data dir, then :class:`HybridSearcher`
with the same settings finds passages.  No local Chroma folder is created: the vectors live
in the server.  The server is stopped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.harness import clean_env, stop_group
from tests.openai_stub import unused_port

ROOT = Path(__file__).resolve().parents[1]
CHROMA = Path(sys.executable).parent / "chroma"
SPEECHES = ["101_fulian_daibiao_dahui.txt", "105_anquan_shengchan.txt"]


@pytest.fixture
def chroma_server(tmp_path):
    if not CHROMA.exists():
        pytest.skip("no chroma CLI in the venv")
    port = unused_port()
    log = (tmp_path / "chroma.log").open("w")
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=clean_env())
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "chroma.log").read_text()[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("chroma server did not start")
        yield port
    finally:
        stop_group(proc)
        log.close()


def test_ingest_and_search_through_a_chroma_server(chroma_server, tmp_path, monkeypatch):
    port = chroma_server
    kb, data = tmp_path / "kb", tmp_path / "data"
    kb.mkdir()
    for name in SPEECHES:
        shutil.copy2(ROOT / "knowledge" / "speeches" / name, kb / name)
    env = clean_env(SPEECH_CHROMA_HOST="127.0.0.1", SPEECH_CHROMA_PORT=str(port), SPEECH_DATA_DIR=str(data))
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(kb)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    took = time.perf_counter() - t0
    assert run.returncode == 0, run.stderr[-2000:]
    assert "新增 2 篇" in run.stdout, run.stdout
    assert not (data / "chroma").exists(), "the vectors went to the server, not to a local folder"
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    expected = sum(e["chunks"] for e in manifest["sources"].values())

    for name in list(os.environ):
        if name.upper().startswith(("OPENAI_", "SPEECH_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    from assistant.knowledge_base import KnowledgeBase
    from assistant.retrieval import HybridSearcher
    from assistant.settings import Settings

    settings = Settings(_env_file=None, data_dir=data, knowledge_dir=kb, chroma_host="127.0.0.1", chroma_port=port)
    kbase = KnowledgeBase(settings)
    assert kbase.count() == expected
    assert not kbase.stale(kb)
    hits = HybridSearcher(kbase).search("妇联代表大会开幕 祝贺 问候", k=4, roles={"opening"})
    assert hits, "search through the server returns passages"
    assert hits[0].source == "101_fulian_daibiao_dahui.txt"
    assert all(h.role == "opening" for h in hits)
    hits = HybridSearcher(kbase).search("安全生产 隐患排查", k=4)
    assert any(h.source == "105_anquan_shengchan.txt" for h in hits)

    # a second ingestion is incremental against the server too
    again = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(kb)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "未变 2 篇" in again.stdout, again.stdout + again.stderr
    assert KnowledgeBase(settings).count() == expected
    print(f"\nFIGURES chroma server: ingest of {len(SPEECHES)} speeches / {expected} chunks in {took:.1f}s via "
          f"http://127.0.0.1:{port}")
