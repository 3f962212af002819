"""Structure of a speech: opening, transition, parts 一/二/三 with items, closing.

The parser is pure text processing, shared by ingestion (chunking), the live
checks, the repair of model replies and the CLI ``check`` command.  Offsets are
character offsets into the text handed to :func:`parse` (front matter included),
so ``text[p.start:p.end] == p.text`` for every paragraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

import yaml

CN_DIGITS = "一二三四五六七八九十"
ROLES = ("opening", "significance", "tasks", "guarantees", "closing", "other")

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
# 一、标题 / ## 一、标题 / **一、标题** ; the heading text is short and has no full stop in it.
_HEADING = re.compile(r"^(?:#{1,6}\s*)?(?:\*\*)?([一二三四五六七八九十]{1,3})、\s*(.+?)(?:\*\*)?\s*$")
_ITEM_MARKERS = [
    ("shi", re.compile(r"^([一二三四五六七八九十]{1,3})是")),
    ("paren", re.compile(r"^[（(]([一二三四五六七八九十]{1,3})[）)]")),
    ("order", re.compile(r"^(首先|其次|再次|第三|最后)[，,：:]")),
]
_INLINE_SHI = re.compile(r"([一二三四五六七八九十])是(?=[要抓坚持加强推进着力聚焦突出强化深化切实全力扎实持续围绕以在把])")
# --- what a paragraph before part 一 or at the end of the speech does --------------------------------
# Whom a speech addresses: 同志们 / 各位代表 / 尊敬的各位领导 / 女士们、先生们 / 老同志 / 青年朋友们 …
_ADDRESSEE = (
    r"(?:尊敬的|亲爱的)?(?:各位|全体|在座的)?(?:老|青年|年轻的)?"
    r"(?:领导|同志|朋友|同学|老师|女士|先生|代表|来宾|嘉宾|姐妹|家长|委员|企业家|战友|父老乡亲|乡亲|同胞|职工)们?"
)
_ADDRESS_RUN = rf"{_ADDRESSEE}(?:\s*[、，,和及]\s*{_ADDRESSEE})*"
# A paragraph that opens by turning to the audience: 同志们， / 同志们、朋友们， / 各位老领导、老同志，
_VOCATIVE = re.compile(rf"^{_ADDRESS_RUN}\s*[，,！!]")
# Words that make a short line ending with a colon a salutation line (同志们： / 尊敬的王书记、各位来宾：)
_ADDRESS_WORD = re.compile(r"们|各位|尊敬的|亲爱的|同志|来宾|嘉宾|代表|领导")
# A greeting that may follow the salutation on its line: 同志们：大家好！ / 各位来宾：上午好！
_GREETING = re.compile(r"([：:])\s*(?:大家|各位|你们|同志们)?(?:上午|下午|晚上|早上)?好[！!。]?$")
# The transition leads into the parts: 刚才……作了报告…… / 下面，我讲三点意见 / 我再强调三点 / 谈几个问题
_TRANSITION_HINT = re.compile(
    r"下面[，,]?\s*我|(?:讲|谈|提|强调|说)[一二三四五六七八九十几两](?:点|个方面|个问题|条)"
)
# The opening states the occasion or greets and thanks: 今天召开…… / ……隆重开幕 / 在……之际 / 我代表……表示祝贺
_OCCASION = re.compile(
    r"今天|今晚|今年|此时此刻|值此|时值|之际|前夕|召开|开幕|举行|举办|集会|欢聚|齐聚|相聚"
    r"|我代表|谨代表|祝贺|欢迎|感谢|问候|敬意"
)
# The closing calls to action, wishes or thanks: 让我们…… (not 让我们的……) / 预祝……圆满成功 / 谢谢大家 /
# 祝各位…… / 最后，我代表……, 最后，预祝……, 最后，同志们……
_CLOSING_CALL = re.compile(
    r"让我们(?!的)|预祝"
    r"|^(?:再次)?(?:谢谢|感谢)(?:大家|各位|您们|你们)?[！!。.]?$"
    r"|^(?:衷心)?祝愿?(?:各位|大家|全体|同志们|你们|与会)"
    rf"|^最后[，,]\s*(?:我(?!们)|再次|衷心|预祝|祝|让我们|谢谢|{_ADDRESSEE}[，,、！!])"
)
# A vocative paragraph followed by more than this many other paragraphs is the body speaking to the
# audience (女士们、先生们，我市区位优越……), not the closing — unless everything after it reads as closing.
_VOCATIVE_CLOSING_TAIL = 2

_ROLE_KEYWORDS = {
    "significance": ("意义", "认识", "形势", "重要性", "使命", "站位", "把握", "定位", "方位", "作用", "地位", "功绩", "信心", "紧迫感"),
    "tasks": ("任务", "重点", "推动", "推进", "聚焦", "着力", "发力", "做好", "打造", "建功", "攻坚", "施策", "服务大局", "开创"),
    "guarantees": ("领导", "保障", "责任", "合力", "格局", "落地见效", "担当", "良好条件", "良好环境", "组织"),
}
_POSITION_PRIOR = {1: "significance", 2: "tasks", 3: "guarantees"}


def cn_number(s: str) -> int:
    """Chinese numeral up to 99 (一 … 九十九) to int; 0 when unknown."""
    if not s:
        return 0
    if s == "十":
        return 10
    if "十" in s:
        tens, _, ones = s.partition("十")
        t = CN_DIGITS.index(tens) + 1 if tens else 1
        o = CN_DIGITS.index(ones) + 1 if ones else 0
        return t * 10 + o
    if len(s) == 1 and s in CN_DIGITS:
        return CN_DIGITS.index(s) + 1
    return 0


def cn_numeral(n: int) -> str:
    """int 1 … 99 to a Chinese numeral."""
    if n <= 10:
        return CN_DIGITS[n - 1] if n < 10 else "十"
    tens, ones = divmod(n, 10)
    return (CN_DIGITS[tens - 1] if tens > 1 else "") + "十" + (CN_DIGITS[ones - 1] if ones else "")


ORDER_WORDS = {"首先": 1, "其次": 2, "再次": 3, "第三": 3, "最后": 0}


@dataclass
class Paragraph:
    text: str
    start: int
    end: int


@dataclass
class Item:
    marker: str  # as written: 一是 / （一） / 首先
    style: str  # shi / paren / order / inline
    number: int  # 1-based position as written (首先=1, 其次=2; 最后 = position)
    text: str  # the item's text, marker included
    start: int
    end: int


@dataclass
class Part:
    number: int
    numeral: str
    heading: str  # without the 一、 prefix
    role: str
    heading_line: Paragraph
    paragraphs: list[Paragraph] = field(default_factory=list)  # body, heading excluded
    items: list[Item] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.heading_line.start

    @property
    def end(self) -> int:
        return self.paragraphs[-1].end if self.paragraphs else self.heading_line.end

    @property
    def title_line(self) -> str:
        return f"{self.numeral}、{self.heading}"

    @property
    def body(self) -> str:
        return "\n".join(p.text for p in self.paragraphs)

    @property
    def intro(self) -> list[Paragraph]:
        """Body paragraphs before the first item."""
        if not self.items:
            return list(self.paragraphs)
        return [p for p in self.paragraphs if p.end <= self.items[0].start]

    @property
    def chars(self) -> int:
        return count_chars(self.title_line) + sum(count_chars(p.text) for p in self.paragraphs)


@dataclass
class Speech:
    text: str
    meta: dict
    title: str
    body_start: int
    opening: list[Paragraph] = field(default_factory=list)
    transition: Paragraph | None = None
    parts: list[Part] = field(default_factory=list)
    closing: list[Paragraph] = field(default_factory=list)

    @property
    def has_opening(self) -> bool:
        return bool(self.opening)

    @property
    def has_closing(self) -> bool:
        return bool(self.closing)

    @property
    def body(self) -> str:
        return self.text[self.body_start:]

    @property
    def chars(self) -> int:
        paras = list(self.opening) + ([self.transition] if self.transition else []) + list(self.closing)
        return sum(count_chars(p.text) for p in paras) + sum(p.chars for p in self.parts)

    def part(self, number: int) -> Part | None:
        return next((p for p in self.parts if p.number == number), None)

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "meta": {k: str(v) for k, v in self.meta.items()},
            "has_opening": self.has_opening,
            "has_transition": self.transition is not None,
            "has_closing": self.has_closing,
            "chars": self.chars,
            "opening": "\n".join(p.text for p in self.opening),
            "transition": self.transition.text if self.transition else "",
            "parts": [
                {
                    "number": p.number,
                    "heading": p.heading,
                    "role": p.role,
                    "items": [i.text for i in p.items],
                    "chars": p.chars,
                    "start": p.start,
                    "end": p.end,
                }
                for p in self.parts
            ],
            "closing": "\n".join(p.text for p in self.closing),
        }


_NON_TEXT = re.compile(r"[\s\u3000]")


def count_chars(text: str) -> int:
    """Characters as a speechwriter counts them: everything but white space."""
    return len(_NON_TEXT.sub("", text))


def split_front_matter(text: str) -> tuple[dict, int]:
    """(front matter as a dict, offset where the body starts)."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, 1 if text.startswith("\ufeff") else 0
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    return meta, m.end()


def _paragraphs(text: str, offset: int) -> list[Paragraph]:
    out = []
    pos = offset
    for line in text[offset:].splitlines(keepends=True):
        stripped = line.strip().strip("\u3000")
        if stripped:
            lead = line.index(stripped[0])
            out.append(Paragraph(stripped, pos + lead, pos + lead + len(stripped)))
        pos += len(line)
    return out


def match_heading(line: str) -> tuple[str, str] | None:
    """(numeral, heading text) when ``line`` is a top-level heading like 一、……"""
    m = _HEADING.match(line.strip())
    if not m:
        return None
    heading = m.group(2).strip().strip("*").strip()
    if not heading or len(heading) > 48 or cn_number(m.group(1)) == 0:
        return None
    # A long line that ends like a sentence is a paragraph that happens to start with 一、
    if len(heading) > 30 and heading.endswith("。"):
        return None
    return m.group(1), heading.rstrip("。")


def match_item(text: str) -> tuple[str, str, int] | None:
    """(marker, style, number) when a paragraph starts an item."""
    for style, rx in _ITEM_MARKERS:
        m = rx.match(text)
        if m:
            if style == "order":
                return m.group(1), style, ORDER_WORDS[m.group(1)]
            return m.group(0), style, cn_number(m.group(1))
    return None


def classify_role(heading: str, number: int, has_items: bool, total_parts: int = 3) -> str:
    """Role of a part from its heading's keywords, its position and whether it lists items.

    Speeches of this genre put significance first, tasks (itemised) second and
    leadership/guarantees last, so position is a strong prior that keywords can
    override (e.g. a four-part speech, or a significance part placed second).
    """
    scores = {role: float(sum(w in heading for w in words)) for role, words in _ROLE_KEYWORDS.items()}
    if total_parts <= 4 and number in _POSITION_PRIOR:
        scores[_POSITION_PRIOR[number]] += 1.5
    if has_items:
        scores["tasks"] += 2.0
    best = max(scores, key=lambda r: scores[r])
    return best if scores[best] > 0 else "other"


def _items(paragraphs: list[Paragraph]) -> list[Item]:
    """Paragraph-level items, or inline 一是……二是…… items inside one paragraph."""
    starts = []
    for idx, p in enumerate(paragraphs):
        m = match_item(p.text)
        if m:
            starts.append((idx, m))
    # 首先/其次 only count as items when at least two of them appear
    if starts and all(m[1] == "order" for _, m in starts) and len(starts) < 2:
        starts = []
    if starts:
        style = starts[0][1][1]
        starts = [(i, m) for i, m in starts if m[1] == style]
        items = []
        for k, (idx, (marker, st, num)) in enumerate(starts):
            nxt = starts[k + 1][0] if k + 1 < len(starts) else len(paragraphs)
            # an item runs until the next item; trailing non-item paragraphs stay with it
            first, last = paragraphs[idx], paragraphs[nxt - 1]
            if st == "order" and num == 0:
                num = k + 1
            text = "\n".join(p.text for p in paragraphs[idx:nxt])
            items.append(Item(marker, st, num, text, first.start, last.end))
        return items
    items = []
    for p in paragraphs:
        found = list(_INLINE_SHI.finditer(p.text))
        nums = [cn_number(m.group(1)) for m in found]
        if len(found) >= 2 and nums[:2] == [1, 2]:
            for k, m in enumerate(found):
                s = m.start()
                e = found[k + 1].start() if k + 1 < len(found) else len(p.text)
                seg = p.text[s:e]
                stripped = seg.rstrip()
                items.append(Item(m.group(0), "inline", nums[k], stripped, p.start + s, p.start + s + len(stripped)))
    return items


def parse(text: str) -> Speech:
    """Parse a speech (optionally with YAML front matter) into its structure."""
    meta, body_start = split_front_matter(text)
    paras = _paragraphs(text, body_start)
    title = str(meta.get("title", "")).strip()

    heading_idx = [i for i, p in enumerate(paras) if match_heading(p.text)]
    # A first short line without punctuation, before any heading, is a title line
    if paras and (not heading_idx or heading_idx[0] > 0):
        first = paras[0].text.lstrip("#").strip()
        if (
            len(first) <= 40
            and not re.search(r"[。，；！？,;!?]", first)
            and not match_heading(first)
            and not is_salutation(first)  # 同志们： is the opening's first line, not a title
        ):
            if not title:
                title = first
            body_start = paras[0].end
            paras = paras[1:]
            heading_idx = [i - 1 for i in heading_idx]

    speech = Speech(text=text, meta=meta, title=title, body_start=body_start)
    if not heading_idx:
        # No parts (a 致辞, a short address): everything is opening unless it reads as the closing
        closing_at = closing_index(paras)
        speech.opening, speech.transition = _split_intro(paras[:closing_at])
        speech.closing = paras[closing_at:]
        return speech

    speech.opening, speech.transition = _split_intro(paras[: heading_idx[0]])

    bounds = heading_idx + [len(paras)]
    for k, h in enumerate(heading_idx):
        numeral, heading = match_heading(paras[h].text)  # type: ignore[misc]
        body = paras[h + 1 : bounds[k + 1]]
        if k == len(heading_idx) - 1:
            closing_at = closing_index(body)
            speech.closing = body[closing_at:]
            body = body[:closing_at]
        items = _items(body)
        number = cn_number(numeral)
        part = Part(
            number=number,
            numeral=numeral,
            heading=heading,
            role="other",
            heading_line=paras[h],
            paragraphs=body,
            items=items,
        )
        speech.parts.append(part)
    for part in speech.parts:
        part.role = classify_role(part.heading, part.number, bool(part.items), len(speech.parts))
    return speech


def is_salutation(text: str) -> bool:
    """A salutation line: 同志们： / 各位代表、同志们： / 尊敬的各位领导、各位来宾，女士们、先生们：

    A short line that ends with a colon (or a colon and 大家好！), has no full stop in it and names the
    audience.  It is the first line of the opening (never a title, never a transition such as
    下面，我讲三点意见：).
    """
    t = _GREETING.sub(r"\1", text.strip().strip("*").strip())
    if len(t) > 80 or not t.endswith(("：", ":")) or re.search(r"[。！？!?；;]", t):
        return False
    return bool(_ADDRESS_WORD.search(t)) and not _TRANSITION_HINT.search(t)


def is_transition(text: str) -> bool:
    """The paragraph leads into the parts: it answers the reports (刚才……) or announces the points."""
    return text.startswith("刚才") or bool(_TRANSITION_HINT.search(text))


def states_occasion(text: str) -> bool:
    """The paragraph does what an opening does: names the occasion, greets, congratulates or thanks."""
    return bool(_OCCASION.search(text))


def _split_intro(pre: list[Paragraph]) -> tuple[list[Paragraph], Paragraph | None]:
    """(opening, transition) from the paragraphs before part 一.

    The transition is the paragraph right before part 一 when it leads into the parts.  A paragraph that
    states the occasion (今天召开…… / 首先，我代表……表示感谢) and ends with 下面，我讲三点意见 is still the
    opening when nothing but a salutation line comes before it: the speech opens with it, and the
    announcement of the points is its last sentence.  A paragraph that answers the reports (刚才……) is
    always the transition.  Nothing is dropped: every paragraph is opening or transition.
    """
    if not pre or not is_transition(pre[-1].text):
        return list(pre), None
    last, before = pre[-1], pre[:-1]
    if (
        not last.text.startswith("刚才")
        and states_occasion(last.text)
        and all(is_salutation(p.text) for p in before)
    ):
        return list(pre), None
    return list(before), last


def _closing_call(text: str) -> bool:
    return bool(_CLOSING_CALL.search(text))


def _closing_like(text: str) -> bool:
    return _closing_call(text) or bool(_VOCATIVE.match(text)) or text.rstrip().endswith(("！", "!"))


def closing_index(body: list[Paragraph]) -> int:
    """Where the closing starts among the last paragraphs of a speech (``len(body)`` when it has none).

    The closing is the speech's last block, found by what its first paragraph does:

    * it calls to action, wishes or thanks (让我们…… / 预祝……圆满成功 / 谢谢大家 / 最后，我代表……), or
    * it turns to the audience (同志们，…… / 同志们、朋友们，…… / 各位代表，……) near the end: at most
      two paragraphs follow it, or all that follow read as closing too.

    It is never the first paragraph of ``body`` (a part's first paragraph is its body) and no item of
    the part comes after it (最后，要…… is an item; 最后，预祝…… is the closing).
    """
    for i in range(1, len(body)):
        text = body[i].text
        call = _closing_call(text)
        if (not call and not _VOCATIVE.match(text)) or is_salutation(text):
            continue
        rest = body[i + 1 :]
        if any(match_item(p.text) and not _closing_call(p.text) for p in rest):
            continue
        if not call and len(rest) > _VOCATIVE_CLOSING_TAIL and not all(_closing_like(p.text) for p in rest):
            continue
        return i
    return len(body)


def iter_paragraph_roles(speech: Speech) -> Iterable[tuple[str, Paragraph]]:
    for p in speech.opening:
        yield "opening", p
    if speech.transition:
        yield "transition", speech.transition
    for part in speech.parts:
        yield part.role, part.heading_line
        for p in part.paragraphs:
            yield part.role, p
    for p in speech.closing:
        yield "closing", p
