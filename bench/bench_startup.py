"""Start-up time: `python app.py` to HTTP 200 on the UI, and the local model server's start.

App: a tmp data dir holding a ready index of knowledge/speeches (so nothing is ingested), the
chat provider pointed at the OpenAI stub of tests/openai_stub.py (so no model is started);
``python app.py`` is started twice and the second start is the figure (the first warms the OS
file cache).  The time runs from Popen to the first HTTP 200 on ``/``; the app's own step
lines are timestamped as they arrive, to show where the time goes.

Local model: ``LocalModelServer(gguf, threads=2, ctx=4096).start()`` until ``/v1/models``
answers, started twice (the first may read the 1.1 GB GGUF from disk).

    .venv/bin/python bench/bench_startup.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import _common as C
import httpx

APP_RUNS = 2
MODEL_RUNS = 2


def start_app(env: dict, cwd: Path, url: str, timeout: float = 180) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(C.ROOT / "app.py")], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines: list[tuple[float, str]] = []

    def reader():
        for line in proc.stdout:
            lines.append((time.perf_counter() - t0, line.rstrip()))

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    ready = None
    try:
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                raise RuntimeError("app exited:\n" + "\n".join(l for _, l in lines[-30:]))
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    ready = time.perf_counter() - t0
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        if ready is None:
            raise RuntimeError("app did not answer within the time-out:\n" + "\n".join(l for _, l in lines[-30:]))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        th.join(2)
    return {"ready_s": ready, "lines": lines}


def phases(run: dict) -> list[tuple[str, float]]:
    """Arrival time of the app's milestone lines (as seen by this process)."""
    marks = [("first output (imports, settings, services)", r"对话模型|向量模型"), ("knowledge base ready", r"知识库就绪"),
             ("UI built", r"界面已构建"), ("'讲稿助手已启动' printed", r"讲稿助手已启动")]
    out = []
    for name, pat in marks:
        t = next((t for t, l in run["lines"] if re.search(pat, l)), None)
        if t is not None:
            out.append((name, t))
    out.append(("HTTP 200 on /", run["ready_s"]))
    return out


def bench_app() -> dict:
    from tests.openai_stub import OpenAIStub, unused_port

    from assistant.knowledge_base import KnowledgeBase

    with C.tmpdir("startup") as tmp:
        tmp = Path(tmp)
        data = C.copy_index(tmp / "data")
        if KnowledgeBase(C.settings_for(data)).stale(C.KNOWLEDGE):
            print("WARNING: the copied index is stale; the app will re-ingest at start and the figure includes it")
        stub = OpenAIStub("各位代表：大家好！").start()
        try:
            runs = []
            for i in range(APP_RUNS):
                port = unused_port()
                env = {k: v for k, v in os.environ.items() if not k.startswith(("SPEECH_", "OPENAI_"))}
                env.update(
                    SPEECH_KNOWLEDGE_DIR=str(C.KNOWLEDGE), SPEECH_DATA_DIR=str(data), SPEECH_PORT=str(port),
                    SPEECH_CHAT_PROVIDER="openai", OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="sk-bench",
                    OPENAI_MODEL="stub-model", PYTHONUNBUFFERED="1",
                    ANONYMIZED_TELEMETRY="False", GRADIO_ANALYTICS_ENABLED="False",
                )
                run = start_app(env, tmp, f"http://127.0.0.1:{port}/")
                runs.append(run)
                print(f"app start {i + 1}: {run['ready_s']:.2f} s to HTTP 200")
            chat_calls = len(stub.requests_to("/chat/completions"))
        finally:
            stub.stop()
    if chat_calls:
        print(f"WARNING: the app called the chat model {chat_calls} times during start-up")
    return {"runs": runs}


def bench_model() -> list[float]:
    from assistant.local_server import LocalModelServer
    from assistant.model_files import ensure_default_gguf

    settings = C.settings_for(C.ROOT / "data", chat_provider="local")
    gguf = ensure_default_gguf(settings, log=lambda m: print("  " + m))
    times = []
    for i in range(MODEL_RUNS):
        server = LocalModelServer(gguf, threads=settings.local_threads, ctx=settings.local_ctx)
        t0 = time.perf_counter()
        try:
            server.start()
            times.append(time.perf_counter() - t0)
        finally:
            server.stop()
        print(f"local model server start {i + 1}: {times[-1]:.2f} s to /v1/models")
    return times


def import_time(module: str) -> float:
    """Seconds to import one module in a fresh interpreter (warm file cache)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=C.ROOT, env=env)
    return float(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else float("nan")


def main() -> int:
    print(f"== start-up ({C.load_note()})")
    app = bench_app()
    model = bench_model()
    imports = {m: import_time(m) for m in ("gradio", "chromadb", "langchain_openai", "jieba")}

    print()
    second = app["runs"][-1]
    rows = []
    prev = 0.0
    for name, t in phases(second):
        rows.append([name, t, t - prev])
        prev = t
    print("app start (run 2), times since Popen:")
    C.table(["milestone", "at s", "step s"], rows)
    print()
    C.table(["figure", "seconds"], [
        *[[f"app to HTTP 200, run {i + 1}", r["ready_s"]] for i, r in enumerate(app["runs"])],
        *[[f"local model server start, run {i + 1}", t] for i, t in enumerate(model)],
    ])
    print("\nimport alone, fresh interpreter: " + ", ".join(f"{m} {t:.2f} s" for m, t in imports.items()))
    print(f"\n({C.load_note()} at the end)")
    C.emit("startup", {
        "import_s": imports,
        "app_ready_s": second["ready_s"],
        "app_ready_runs_s": [r["ready_s"] for r in app["runs"]],
        "app_milestones_s": {name: t for name, t in phases(second)},
        "model_server_start_s": model[-1],
        "model_server_start_runs_s": model,
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
