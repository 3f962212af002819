"""Start the web app: index when stale, start the model, serve Gradio; print each step's time."""

from __future__ import annotations

import signal
import sys
import time


def _step(name: str, t0: float) -> float:
    t = time.perf_counter()
    print(f"[{t - t0:6.1f}s] {name}", flush=True)
    return t


def install_shutdown(services) -> None:
    """SIGTERM (systemd, Docker) and SIGINT stop the model server and close the session store, then exit.
    (atexit alone does not run on SIGTERM: the llama.cpp child would live on, holding 2 GB and its port.)"""
    from .providers import stop_local_server

    def shutdown(signum, _frame):
        print(f"收到信号 {signal.Signals(signum).name}，正在关闭本地模型和会话库……", flush=True)
        try:
            stop_local_server()
        finally:
            store = getattr(services, "store", None)
            engine = getattr(store, "engine", None)
            if engine is not None:
                engine.dispose()
        raise SystemExit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, shutdown)


def serve(host: str | None = None, port: int | None = None, *, block: bool = True):
    from .knowledge_base import IndexError_
    from .model_files import ModelFileError
    from .providers import describe, local_server
    from .runtime import build_services
    from .store import StoreError
    from .settings import Settings

    t0 = time.perf_counter()
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v}
    settings = Settings(**overrides)
    try:
        services = build_services(settings)
    except StoreError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(describe(settings), flush=True)
    if block:  # signal handlers belong to the main thread of a process that serves until stopped
        install_shutdown(services)
    try:
        if settings.auto_ingest and services.kb.stale(settings.knowledge_dir):
            report = services.kb.ingest(settings.knowledge_dir, progress=True)
            print(report.summary(), flush=True)
        else:
            services.kb.keyword, services.kb.vectors, services.kb.passages  # load the search indexes now
        _step(f"知识库就绪（{len(services.kb.sources())} 篇讲话，{services.kb.count()} 个片段）", t0)
    except IndexError_ as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    services.kb.embeddings.embed_query("预热")  # load the embedding model before the first user waits for it
    if settings.resolved_chat_provider == "local":
        try:
            local_server(settings)
            _step("本地模型已启动", t0)
        except ModelFileError as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return 2
    from .ui import CSS, HEAD, build_app, gradio_i18n

    demo = build_app(services)
    # The local model answers one request at a time; a few concurrent turns keep
    # quick actions (fill, undo, checks) responsive while a draft is generating.
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    if settings.host not in ("127.0.0.1", "localhost") and not settings.auth_pairs:
        print("警告：服务对外开放（host 不是 127.0.0.1），且未启用登录（SPEECH_AUTH）。请只在可信网络中这样做。", file=sys.stderr)
    _step("界面已构建", t0)
    print(f"讲稿助手已启动：http://{settings.host}:{settings.port}", flush=True)
    demo.launch(
        server_name=settings.host, server_port=settings.port, css=CSS, head=HEAD, i18n=gradio_i18n(), prevent_thread_lock=not block,
        show_error=False, quiet=True, footer_links=[], auth=settings.auth_pairs or None,
        max_file_size=f"{settings.max_upload_mb}mb", allowed_paths=[str(settings.data_dir / "exports")],
    )
    return demo if not block else 0
