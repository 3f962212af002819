"""The conversational answers: help, 「第一部分我已经写好了」 (context), a foreign-language request, small talk
and a question back when the request is unclear."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..events import HELP, Event

if TYPE_CHECKING:
    from ..session import Session


def do_help(session: Session, it, message, selection):
    yield Event("message", HELP)


def do_context(session: Session, it, message, selection):
    """「第一部分我已经写好了」: remembered and kept, not acted on."""
    said = session._remember_own(it.own or (it.target,))
    yield Event("message", said + "按提纲写全文、整篇润色时会跳过；需要我参考或检查它，可以把它粘贴过来。"
                "改主意了就说「写第一部分」之类。")


def do_language(session: Session, it, message, selection):
    yield Event("message", "讲稿助手只起草和修改中文讲话稿，不做翻译，也不写外文稿：外文版本请交专业翻译。"
                "请用中文告诉我会议名称、您的身份和要写的部分，例如「为区妇联第四次代表大会写开场白，我是区委书记」。")


def do_chat(session: Session, it, message, selection):
    yield Event("message", "我是讲稿助手，专门帮您起草和修改讲话稿。\n" + HELP)


def do_clarify(session: Session, it, message, selection):
    yield Event("message", it.question or "请说得具体一些：要写哪一部分？是什么会议或场合？")
