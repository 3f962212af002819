"""Checks: 「检查一下」 (structure, length, blanks) and 「讲话控制在十分钟」 (the time budget)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..events import Event

if TYPE_CHECKING:
    from ..session import Session


def do_check(session: Session, it, message, selection):
    if session.doc.is_empty:
        yield Event("message", "文档还是空的，没有可检查的内容。")
        return
    yield Event("message", session.check_report().summary())


def do_budget(session: Session, it, message, selection):
    if it.minutes:
        session.budget_minutes = it.minutes
    elif it.chars:
        session.budget_minutes = round(it.chars / session.cpm, 1)
    msg = f"好的，讲话时间控制在 {session.budget_minutes:g} 分钟（约 {int((session.budget_minutes or 0) * session.cpm)} 字）。"
    if not session.doc.is_empty:
        msg += "\n" + session.check_report().summary()
    yield Event("message", msg)
