"""Helpers for the fault, crash-safety, security and load checks (issue 8).

* :class:`LaunchedApp` — :class:`tests.app_process.AppProcess` with extra env vars, a
  ready-made index copied in (so each launch does not re-embed the sample speeches),
  and ``kill()`` (SIGKILL) / ``restart()``;
* :func:`seed_index` — builds the index of the three sample speeches once per test run
  (real ``python -m assistant.cli ingest`` in a child process) and copies it;
* small readers for gradio_client outputs.

Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.app_process import ROOT, SAMPLE, AppProcess
from tests.openai_stub import unused_port

SECRET_KEY = "sk-test-e2e-secret"
_seed_lock = threading.Lock()
_seed_dir: Path | None = None


def clean_env(**extra: str) -> dict:
    """The current environment without SPEECH_/OPENAI_ variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPEECH_", "OPENAI_"))}
    env.update(ANONYMIZED_TELEMETRY="False", GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def seed_index() -> Path:
    """A folder with ``kb/`` (the 3 sample speeches) and ``data/`` (their index), built once per process."""
    global _seed_dir
    with _seed_lock:
        if _seed_dir is not None:
            return _seed_dir
        d = Path(tempfile.mkdtemp(prefix="speech-seed-"))
        import atexit

        atexit.register(shutil.rmtree, d, True)
        (d / "kb").mkdir()
        for name in SAMPLE:
            shutil.copy2(ROOT / "knowledge" / "speeches" / name, d / "kb" / name)
        subprocess.run(
            [sys.executable, "-m", "assistant.cli", "ingest", str(d / "kb"), "--data-dir", str(d / "data")],
            cwd=d, env=clean_env(), check=True, capture_output=True, timeout=300,
        )
        _seed_dir = d
        return d


class LaunchedApp(AppProcess):
    """The real app in a child process; ``extra_env`` overrides AppProcess's variables."""

    def __init__(self, tmp: Path, *, token_delay: float = 0.005, extra_env: dict | None = None, seeded: bool = True):
        super().__init__(tmp, token_delay=token_delay)
        self.extra_env = dict(extra_env or {})
        if seeded and not (self.tmp / "kb").exists():
            seed = seed_index()
            shutil.copytree(seed / "kb", self.tmp / "kb")  # copy2 keeps mtimes: the index is not stale
            shutil.copytree(seed / "data", self.tmp / "data")
            # the manifest records absolute paths of the speeches; point them at the copy
            import json

            m = json.loads((self.tmp / "data" / "manifest.json").read_text(encoding="utf-8"))
            for name, e in m["sources"].items():
                e["path"] = str((self.tmp / "kb" / name).resolve())
            (self.tmp / "data" / "manifest.json").write_text(json.dumps(m, ensure_ascii=False, indent=1), encoding="utf-8")

    def env(self) -> dict:
        env = super().env()
        env.update(ANONYMIZED_TELEMETRY="False", GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
        env.update(self.extra_env)
        return env

    def kill(self) -> None:
        """SIGKILL the app (no clean-up of any kind), keep the stub running."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def restart(self, timeout: float = 180) -> "LaunchedApp":
        """Start again on the same data dir (a new port: the old one may linger in TIME_WAIT)."""
        self.port = unused_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.tmp / f"app-{int(time.time() * 1000)}.log"
        return self.start(timeout)

    def logs(self) -> str:
        return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(self.tmp.glob("app*.log")))


def last_reply(outputs) -> str:
    """The last chat bubble's text as the user reads it (the UI escapes "_" for Markdown: undone here)."""
    chat = outputs[1]
    if not chat:
        return ""
    content = chat[-1]["content"]
    if isinstance(content, list):
        content = "".join(c.get("text", "") for c in content if isinstance(c, dict))
    return str(content).replace("\\_", "_")


def document(outputs) -> str:
    return outputs[2] or ""


def stop_group(proc: subprocess.Popen, grace: float = 20) -> None:
    """Stop a server started with ``start_new_session=True``: SIGTERM to its process group, then SIGKILL."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
