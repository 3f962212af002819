"""An existing inference engine as the model endpoint, configured the way a deployment configures vLLM or
Ollama: only ``OPENAI_BASE_URL`` / ``OPENAI_MODEL`` / ``OPENAI_API_KEY``.

The engine is llama.cpp's OpenAI-compatible server (llama-cpp-python), started here as a separate process
with its own model alias and API key — the app does not start or manage it.  vLLM and Ollama servers cannot
run on this machine (no GPU, neither is in the package registries); they speak the same protocol.
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

from assistant.model_files import ensure_default_gguf
from assistant.settings import Settings
from tests.harness import stop_group
from tests.openai_stub import unused_port

ROOT = Path(__file__).resolve().parents[1]
ALIAS = "qwen2.5-coder-1.5b-instruct"
KEY = "engine-key-7f3a"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    gguf = ensure_default_gguf(Settings())
    port = unused_port()
    log_path = tmp_path_factory.mktemp("engine") / "engine.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", ALIAS,
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2",
         "--api_key", KEY, "--logits_all", "False"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log_path.read_text()[-2000:]
            try:
                if httpx.get(base + "/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the engine did not start"
            time.sleep(0.5)
        yield base, log_path
    finally:
        stop_group(proc)
        log.close()


def run_draft(tmp_path: Path, base: str, key: str, request: str) -> tuple[int, dict, str]:
    kb = tmp_path / "kb"
    if not kb.exists():
        kb.mkdir()
        for name in ("000_seed_gonghui_daibiao_dahui.txt", "122_gonghui_xiangzhen.txt"):
            shutil.copy(ROOT / "knowledge" / "speeches" / name, kb / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPEECH_", "OPENAI_"))}
    env.update(OPENAI_BASE_URL=base, OPENAI_MODEL=ALIAS, OPENAI_API_KEY=key, SPEECH_KNOWLEDGE_DIR=str(kb),
               SPEECH_DATA_DIR=str(tmp_path / "data"), SPEECH_MAX_TOKENS="120", SPEECH_MAX_RETRIES="0")
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "draft", request, "--json"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    data = json.loads(out.stdout[out.stdout.index("{"):]) if "{" in out.stdout else {}
    return out.returncode, data, out.stderr


@pytest.mark.slow
def test_drafting_through_a_separately_run_engine(engine, tmp_path):
    base, log = engine
    rc, data, err = run_draft(tmp_path, base, KEY, "为全镇工会代表大会写结尾")
    assert rc == 0 and data["ok"], (data, err[-2000:])
    assert data["target"] == "closing"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in data["text"]), data["text"]
    assert data["sources"], "the passages it drew on are listed"
    assert "/v1/chat/completions" in log.read_text() or data["timing"], "the engine served the request"
    # a wrong key: the engine refuses it, the user gets one clear message, and the key is not echoed
    rc, data, err = run_draft(tmp_path, base, "wrong-key-123", "为全镇工会代表大会写结尾")
    assert rc == 1 and not data["ok"]
    assert "401" in data["message"] and "OPENAI_API_KEY" in data["message"], data["message"]
    assert "wrong-key-123" not in json.dumps(data, ensure_ascii=False) + err
