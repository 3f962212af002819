"""The embedded chat model: llama-cpp-python's OpenAI-compatible server in a child process.

Running llama.cpp behind its own OpenAI-compatible server means the app talks
to the local model exactly as it talks to any API (one code path through the
``openai`` client), a crash in native code cannot take the web app down, and
llama.cpp keeps the KV cache of the previous prompt so a stable prompt prefix
is not read again.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from .model_files import ModelFileError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalModelServer:
    """Start, health-check and stop ``python -m llama_cpp.server`` for one GGUF file."""

    alias = "local"

    def __init__(self, gguf: Path, threads: int = 2, ctx: int = 4096, port: int = 0, lookup_tokens: int = 0):
        self.gguf = Path(gguf)
        self.lookup_tokens = lookup_tokens  # >0: llama.cpp prompt-lookup decoding, this many tokens guessed ahead
        self.threads = threads
        self.ctx = ctx
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            # the child watches this process and stops when it is gone (SIGKILL included)
            sys.executable, "-m", "assistant.server_child", "--parent", str(os.getpid()), "llama_cpp.server",
            "--model", str(self.gguf),
            "--model_alias", self.alias,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.ctx),
            "--n_threads", str(self.threads),
            "--n_threads_batch", str(self.threads),
            "--verbose", "False",
            "--logits_all", "False",  # the server's default keeps every logit: 20 % slower prompt reading
            # the server's default aborts a running completion when another request arrives: one user's
            # classification call would throw away another's half-written section.  The app queues instead.
            "--interrupt_requests", "False",
        ] + (["--draft_model", "prompt-lookup-decoding", "--draft_model_num_pred_tokens", str(self.lookup_tokens)]
             if self.lookup_tokens > 0 else [])

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 120.0) -> "LocalModelServer":
        with self._lock:
            if self.running():
                return self
            try:
                import llama_cpp  # noqa: F401
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ModelFileError(
                    "本地模型需要 llama-cpp-python，但它没有安装。请运行 `make install`，或设置 OPENAI_BASE_URL 使用 API。"
                ) from exc
            self.proc = subprocess.Popen(
                self.command(), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
            atexit.register(self.stop)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise ModelFileError(f"本地模型进程启动失败（退出码 {self.proc.returncode}）：{self.log_tail()}")
                try:
                    r = httpx.get(self.base_url + "/models", timeout=1.0)
                    if r.status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            self.stop()
            raise ModelFileError(f"本地模型在 {timeout:.0f} 秒内没有就绪：{self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = Path(self._log.name).read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " / ".join(text[-lines:])

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
