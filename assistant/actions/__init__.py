"""The session's actions: one module per concern, each action a plain function
``(session, intent, message, selection) -> Iterator[Event]``.  ``ACTIONS`` maps an intent's action
(assistant/intent.py) to the function that carries it out; ``Session._dispatch`` looks it up for a button's
intent and a routed one alike.  Helpers one action uses live in its module; helpers several share
(``_relay``, ``_composer``, ``_resolve``, ``_commit`` …) stay on the session."""

from __future__ import annotations

from typing import Callable, Iterator

from ..events import Event
from . import chat, check, draft, fill, history, outline, refine, search

Action = Callable[..., Iterator[Event]]

ACTIONS: dict[str, Action] = {
    "draft": draft.do_draft,
    "draft_all": draft.do_draft_all,
    "outline": outline.do_outline,
    "outline_edit": outline.do_outline_edit,
    "template": outline.do_template,
    "refine": refine.do_refine,
    "fill": fill.do_fill,
    "undo": history.do_undo,
    "redo": history.do_redo,
    "restore": history.do_restore,
    "diff": history.do_diff,
    "search": search.do_search,
    "source": search.do_source,
    "check": check.do_check,
    "budget": check.do_budget,
    "help": chat.do_help,
    "context": chat.do_context,
    "language": chat.do_language,
    "chat": chat.do_chat,
    "clarify": chat.do_clarify,
}

__all__ = ["ACTIONS", "Action", "chat", "check", "draft", "fill", "history", "outline", "refine", "search"]
