"""Composition root: settings → knowledge base → retriever → drafter → sessions.

The web app, the CLI and the tests all build the product here, so a fake chat
model or a temporary index is one argument away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from .drafting import Drafter
from .offline import quiet_third_parties
from .knowledge_base import KnowledgeBase
from .retrieval import HybridSearcher
from .session import Session
from .settings import Settings


@dataclass
class Services:
    settings: Settings
    kb: KnowledgeBase
    searcher: HybridSearcher
    drafter: Drafter

    def new_session(self) -> Session:
        return Session(
            self.drafter,
            chars_per_minute=self.settings.chars_per_minute,
            max_message_chars=self.settings.max_message_chars,
        )


def build_services(
    settings: Settings,
    *,
    llm_factory: Callable[[], BaseChatModel] | None = None,
    embeddings: Embeddings | None = None,
) -> Services:
    quiet_third_parties()
    kb = KnowledgeBase(settings, embeddings)
    searcher = HybridSearcher(kb)
    if llm_factory is None:
        from .providers import make_chat_model

        def llm_factory() -> BaseChatModel:
            return make_chat_model(settings)

    drafter = Drafter(settings, searcher, llm_factory)
    return Services(settings, kb, searcher, drafter)
