"""Start the real app (``python app.py``) in a child process against a tmp knowledge base and the OpenAI stub."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fakes import speech_script
from tests.openai_stub import OpenAIStub, unused_port

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ["000_seed_gonghui_daibiao_dahui.txt", "101_fulian_daibiao_dahui.txt", "105_anquan_shengchan.txt"]


def grounded_reply(then: str):
    """A stub model that uses the 「可用的事实」 a paragraph prompt shows it, then adds ``then`` (e.g. a made-up
    figure the product must blank); every other prompt gets the well-behaved script."""
    def reply(body: dict) -> str:
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        facts = "".join(re.findall(r"「([^」]+)」", prompt))
        return f"一年来，{facts}{then}" if facts and "这一段的第一句" in prompt else speech_script(prompt)
    return reply


def stub_reply(body: dict) -> str:
    prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
    return speech_script(prompt)


class AppProcess:
    def __init__(self, tmp: Path, *, token_delay: float = 0.03):
        self.tmp = Path(tmp)
        self.stub = OpenAIStub(stub_reply, chunk_chars=3).start()
        self.stub.per_token_delay = token_delay
        self.port = unused_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = self.tmp / "app.log"

    def env(self) -> dict:
        kb = self.tmp / "kb"
        if not kb.exists():
            kb.mkdir(parents=True)
            for name in SAMPLE:
                shutil.copy(ROOT / "knowledge" / "speeches" / name, kb / name)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SPEECH_", "OPENAI_"))}
        env.update(
            SPEECH_KNOWLEDGE_DIR=str(kb),
            SPEECH_DATA_DIR=str(self.tmp / "data"),
            SPEECH_PORT=str(self.port),
            OPENAI_BASE_URL=self.stub.base_url,
            OPENAI_API_KEY="sk-test-e2e-secret",
            OPENAI_MODEL="stub-model",
            SPEECH_REQUEST_TIMEOUT="20",
        )
        return env

    def start(self, timeout: float = 180) -> "AppProcess":
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")], cwd=self.tmp, env=self.env(),
            stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("app exited: " + self.log.read_text()[-2000:])
            try:
                if httpx.get(self.url, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("app did not start: " + self.log.read_text()[-2000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.stub.stop()


class LocalApp(AppProcess):
    """The real app on the embedded local model (no API endpoint)."""

    def env(self) -> dict:
        env = super().env()
        for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL"):
            env.pop(k, None)
        env["SPEECH_CHAT_PROVIDER"] = "local"
        return env
