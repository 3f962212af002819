"""Prompt files under ``prompts/``, read once and turned into LangChain prompt templates.

The system prompt comes first and never changes, so llama.cpp can reuse its
KV cache across turns; the variable parts (passages, request) come last.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate


class PromptLibrary:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @lru_cache(maxsize=32)
    def text(self, name: str) -> str:
        path = self.folder / f"{name}.md"
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise FileNotFoundError(f"缺少提示词文件 {path}。请从仓库恢复 prompts/ 目录。") from exc

    def chat(self, name: str) -> ChatPromptTemplate:
        """System prompt + the named task template as the human message."""
        return ChatPromptTemplate.from_messages([("system", self.text("system")), ("human", self.text(name))])

    def plain(self, name: str) -> ChatPromptTemplate:
        return ChatPromptTemplate.from_messages([("human", self.text(name))])
