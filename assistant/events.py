"""What a turn yields and the words its actions share: :class:`Event`, :class:`Turn`, :class:`PartialReply`, the
help text and the tone presets.  Kept apart from ``session`` so the action modules (``assistant/actions``) and the
session can both import them without a cycle; ``assistant.session`` re-exports every name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from . import tones
from .retrieval import Passage

# status: progress while the model reads or waits; delta: the section as it is being written; section: one section
# of a longer job has been accepted and is in the document; message / error: the turn's last word
EventKind = Literal["status", "delta", "section", "message", "error"]

# the tone presets of prompts/tones.yaml (assistant/tones.py): id → instruction, button label → id
STYLE_INSTRUCTIONS = tones.INSTRUCTIONS
PRESET_MESSAGES = tones.BUTTON_LABELS
MAX_SELECTION = 5_000

HELP = (
    "我可以帮您起草讲话稿。试试这样说：\n"
    "- 「为区妇联第四次代表大会写开场白」\n"
    "- 「帮我给区妇联第四次代表大会写个提纲」，再说「按提纲写全文」\n"
    "- 「写第二部分：围绕中心、服务大局」\n"
    "- 「按《区总工会第三次代表大会讲话》的结构写」（照往年讲话的结构，例如四个部分；只借结构，不抄内容）\n"
    "- 「第二部分更简洁一些」「开头语气再亲切点」「压缩到三分钟」\n"
    "- 「“_”规划是十五五」（填写空白），「撤销」「对比一下改了什么」「检查一下」\n"
    "- 「找一下“墩苗”计划那段」「哪篇讲话提到过一码通办」（查往年讲话）"
)


@dataclass
class Event:
    kind: EventKind
    text: str = ""
    section: str | None = None


@dataclass
class Turn:
    """What one turn produced, for the UI and for tests."""

    reply: str = ""
    sources: list[Passage] = field(default_factory=list)
    timing: dict = field(default_factory=dict)


class PartialReply(RuntimeError):
    """A reply broke off after some text had arrived."""

    def __init__(self, text: str, cause: Exception):
        super().__init__(str(cause))
        self.text = text
        self.cause = cause
