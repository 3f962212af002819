"""Versions: 「撤销」「重做」「恢复到版本3」「对比一下改了什么」."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..diff import diff_summary
from ..document import Document
from ..events import Event

if TYPE_CHECKING:
    from ..session import Session


def do_undo(session: Session, it, message, selection):
    yield history_step(session, session.history.undo(), "已撤销", "没有可以撤销的修改了。")


def do_redo(session: Session, it, message, selection):
    yield history_step(session, session.history.redo(), "已重做", "没有可以重做的修改。")


def history_step(session: Session, doc: Document | None, done: str, nothing: str) -> Event:
    if doc is None:
        return Event("message", nothing)
    session._set_doc(doc)
    return Event("message", f"{done}，回到版本 {session.history.current.id}（{session.history.current.label}）。")


def do_restore(session: Session, it, message, selection):
    try:
        doc = session.history.restore(it.version or 0)
    except (KeyError, ValueError, IndexError):
        ids = [v.id for v in session.history.versions]
        yield Event("message", f"没有版本 {it.version}。现有版本：{ids[0]}–{ids[-1]}。" if ids else "还没有任何版本。")
        return
    session._set_doc(doc)
    yield Event("message", f"已恢复到版本 {it.version}，并保存为新版本 {session.history.current.id}。")


def do_diff(session: Session, it, message, selection):
    pair = session.last_change()
    if pair is None:
        yield Event("message", "还只有一个版本，没有可对比的。")
        return
    prev, cur = pair
    yield Event("message", f"版本 {prev.id} → {cur.id}（{cur.label}）：{diff_summary(prev.document().text(), cur.document().text())}。"
                "详细对比见右侧“版本”页。")
