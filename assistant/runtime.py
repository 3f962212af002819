"""Composition root: settings → knowledge base → retriever → drafter → sessions.

The web app, the CLI and the tests all build the product here, so a fake chat
model or a temporary index is one argument away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from .drafting import Drafter
from .offline import quiet_third_parties
from .knowledge_base import KnowledgeBase
from .live import LiveSessions
from .retrieval import HybridSearcher
from .session import Session
from .settings import ROOT, Settings
from .store import SessionStore
from .terms import TermsFileError, default_terms_paths, load_terms


@dataclass
class Services:
    settings: Settings
    kb: KnowledgeBase
    searcher: HybridSearcher
    drafter: Drafter
    store: SessionStore | None = None
    terms: list | None = None
    live: LiveSessions = field(default_factory=LiveSessions)  # this server's sessions and their running turns

    def new_session(self) -> Session:
        s = Session(
            self.drafter,
            chars_per_minute=self.settings.chars_per_minute,
            max_message_chars=self.settings.max_message_chars,
            speech_date=self.settings.speech_date,
        )
        s.terms = self.terms or []
        return s


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
    store = SessionStore(settings.resolved_sessions_url)
    try:
        terms = load_terms(default_terms_paths(ROOT))
    except TermsFileError as exc:  # a broken user file must not stop the app; the check says why
        print(f"提法检查未启用：{exc}")
        terms = []
    return Services(settings, kb, searcher, drafter, store, terms)
