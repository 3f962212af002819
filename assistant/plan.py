"""The speech's plan: its parts in order, what each part does and how its items are marked.

A :class:`SpeechPlan` is data the rest of the product reads instead of assuming three parts: the outline has
one heading per part, drafting writes 第四部分 when the plan has four (with that part's role), the transition
announces 「讲四点意见」, the router accepts 「写第四部分」, the checks expect four parts, and a session stores its
plan next to its outline.

* :meth:`SpeechPlan.default` is the seed speech's shape (today's behaviour): 一、意义 / 二、任务（一是……）/
  三、领导保障, with an opening, a transition and a closing.
* :func:`plan_from_speech` reads the plan of any speech — one in the knowledge base, found by its title with
  :func:`find_template`, or one the user pasted: 「按《区总工会第三次代表大会讲话》的结构写」「用这篇当模板」.
  Only the structure is taken.  The template's headings are kept with their facts blanked (names, numbers,
  years, plan names, places → XX, by :func:`assistant.guard.guard` with nothing allowed); they are shown to the
  model as examples of how a heading reads, never copied (the heading check refuses a copy), and the template's
  paragraphs are not kept at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .structure import cn_numeral, parse

# the seed speech: part 一 significance, 二 tasks (一是/二是/三是), 三 leadership and guarantees
DEFAULT_ROLES = {1: "significance", 2: "tasks", 3: "guarantees"}
ROLE_LABELS = {"significance": "意义", "tasks": "任务", "guarantees": "保障", "other": "其他"}
ITEM_STYLES = ("shi", "paren", "order")
MAX_PARTS = 8  # a template with more "parts" is a list, not a speech's plan
_ORDER_WORDS = ("首先", "其次", "再次")


class PlanError(ValueError):
    """A speech that cannot serve as a template; the message says why, in words the user can act on."""


@dataclass
class PlanPart:
    role: str  # significance / tasks / guarantees / other
    heading: str = ""  # the template's heading with its facts blanked; "" in the default plan
    item_style: str = ""  # shi (一是) / paren (（一）) / order (首先、其次……最后); "" when the part lists no items
    items: int = 0  # how many items the template's part has (0: none, or not known)

    def to_dict(self) -> dict:
        return {"role": self.role, "heading": self.heading, "item_style": self.item_style, "items": self.items}

    @classmethod
    def from_dict(cls, d: dict) -> "PlanPart":
        role = d.get("role") if d.get("role") in ROLE_LABELS else "other"
        style = d.get("item_style") if d.get("item_style") in ITEM_STYLES else ""
        return cls(role, str(d.get("heading", "")), style, int(d.get("items") or 0))


@dataclass
class SpeechPlan:
    parts: list[PlanPart]
    source: str = ""  # the template's title; "" for the default plan
    occasion: str = ""  # the template's occasion, to adapt its headings (工会 → 科协)
    opening: bool = True
    transition: bool = True
    closing: bool = True
    notes: list[str] = field(default_factory=list)  # what the user should know about how the plan was read

    @classmethod
    def default(cls) -> "SpeechPlan":
        return cls([PlanPart("significance"), PlanPart("tasks", item_style="shi", items=3), PlanPart("guarantees")])

    # --- reading -------------------------------------------------------------------
    @property
    def is_default(self) -> bool:
        return not self.source

    @property
    def count(self) -> int:
        return len(self.parts)

    @property
    def count_word(self) -> str:
        """三 / 四 / 两: the number as the transition says it (讲四点意见)."""
        return "两" if self.count == 2 else cn_numeral(self.count)

    def numbers(self) -> list[int]:
        return list(range(1, self.count + 1))

    def has_part(self, n: int) -> bool:
        return 1 <= n <= self.count

    def part(self, n: int) -> PlanPart | None:
        return self.parts[n - 1] if self.has_part(n) else None

    def role(self, n: int) -> str:
        """The role of part ``n``: the plan's, else (a part beyond the plan) what the default plan says."""
        p = self.part(n)
        return p.role if p else DEFAULT_ROLES.get(n, "other")

    def roles(self) -> tuple[str, ...]:
        return tuple(p.role for p in self.parts)

    def item_style(self, n: int) -> str:
        p = self.part(n)
        return (p.item_style if p and p.item_style else "shi")

    def item_count(self, n: int) -> int:
        """Items to plan for part ``n``: the template's count when it is a usual one (2–6), else 3."""
        p = self.part(n)
        return p.items if p and 2 <= p.items <= 6 else 3

    def tasks_parts(self) -> list[int]:
        return [n for n in self.numbers() if self.role(n) == "tasks"]

    def first(self, role: str) -> int | None:
        return next((n for n in self.numbers() if self.role(n) == role), None)

    def section_keys(self) -> list[str]:
        """The sections a whole speech is drafted in, in order."""
        keys = (["opening"] if self.opening else []) + (["transition"] if self.transition else [])
        keys += [f"part{n}" for n in self.numbers()]
        return keys + (["closing"] if self.closing else [])

    def example(self, n: int) -> tuple[str, str] | None:
        """(template occasion, template heading) for part ``n``: how the template's heading read, facts blanked."""
        p = self.part(n)
        return (self.occasion or self.source, p.heading) if p and p.heading else None

    # --- words for the user -----------------------------------------------------------
    def label(self) -> str:
        """结构：四部分（来自《……》） / 结构：三部分（默认）"""
        where = f"来自《{self.source}》" if self.source else "默认"
        return f"结构：{cn_numeral(self.count)}部分（{where}）"

    def describe(self) -> str:
        """One line per part: 一、意义 / 二、任务（一是……） …"""
        out = []
        for n, p in enumerate(self.parts, 1):
            marker = {"shi": "一是", "paren": "（一）", "order": "首先"}.get(p.item_style, "")
            extra = f"（{cn_numeral(p.items) if p.items else '几'}条“{marker}……”）" if marker else ""
            head = f"：{p.heading}" if p.heading else ""
            out.append(f"{cn_numeral(n)}、{ROLE_LABELS.get(p.role, '其他')}{extra}{head}")
        return "\n".join(out)

    def change_note(self, *, outline_dropped: bool = False, has_document: bool = False) -> str:
        """What the user is told when the speech starts following this plan."""
        if self.is_default:
            lines = [f"好的，恢复默认结构：{cn_numeral(self.count)}个部分（意义、任务、保障），过渡语讲“{self.count_word}点意见”。"]
        else:
            lines = [f"好的，按《{self.source}》的结构写：{self.count_word}个部分，过渡语讲“{self.count_word}点意见”。",
                     self.describe(),
                     "只借用它的结构：原文的内容不照搬，标题里的人名、数字、地名等已换成空白，只作写法参照。"]
        lines += [f"· {n}" for n in self.notes]
        if outline_dropped:
            lines.append("原来的提纲是按另一种结构拟的，已清空：说「列个提纲」按新结构重拟。")
        if has_document:
            lines.append("文档里已写的内容没有改动；重写某一部分或「按提纲写全文」时按新结构写。")
        return "\n".join(lines)

    def parts_phrase(self) -> str:
        """第一至第四部分 / 第一/二/三部分 (for a question about which part to write)."""
        if self.count <= 3:
            return "第" + "/".join(cn_numeral(n) for n in self.numbers()) + "部分"
        return f"第一至第{cn_numeral(self.count)}部分"

    # --- persistence --------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"parts": [p.to_dict() for p in self.parts], "source": self.source, "occasion": self.occasion,
                "opening": self.opening, "transition": self.transition, "closing": self.closing}

    @classmethod
    def from_dict(cls, d: dict | None) -> "SpeechPlan":
        if not d or not d.get("parts"):
            return cls.default()
        return cls([PlanPart.from_dict(p) for p in d["parts"]][:MAX_PARTS], str(d.get("source", "")),
                   str(d.get("occasion", "")), bool(d.get("opening", True)), bool(d.get("transition", True)),
                   bool(d.get("closing", True)))


# --------------------------------------------------------------------------- building a plan


def item_marker(style: str, k: int, total: int) -> str:
    """The marker of item ``k`` of ``total`` in ``style``: 一是 / （一） / 首先， … 最后，"""
    if style == "paren":
        return f"（{cn_numeral(k)}）"
    if style == "order" and total <= len(_ORDER_WORDS) + 1:
        return (_ORDER_WORDS[k - 1] if k < total else "最后") + "，"
    return f"{cn_numeral(k)}是"


def blank_facts(text: str, template: str = "", title: str = "", occasion: str = "") -> str:
    """A template's heading with its facts blanked: nothing the user said is allowed, so every name, number,
    year and plan name becomes XX, and so does every place the template names (the same guard the drafts pass
    through, with the template as the past speech)."""
    from types import SimpleNamespace

    from . import guard as guards

    source = SimpleNamespace(title=title, occasion=occasion, text=template)
    return guards.guard(text, "", [source] if template else ()).text


def plan_from_speech(text: str, title: str = "") -> SpeechPlan:
    """The plan of a speech: its parts' roles, item styles and counts; its headings with facts blanked.
    Raises :class:`PlanError` when the speech has no parts to follow."""
    sp = parse(text)
    name = (title or sp.title or "").strip()
    shown = f"《{name}》" if name else "这篇讲话"
    if len(sp.parts) < 2:
        raise PlanError(f"{shown}没有找到“一、二、三”这样的部分标题，不能当结构模板。"
                        "请换一篇分部分写的讲话，或在正文里给各部分加上“一、”“二、”标题。")
    if len(sp.parts) > MAX_PARTS:
        raise PlanError(f"{shown}有 {len(sp.parts)} 个“一、”式标题，不像讲话的几个部分，不能当结构模板。")
    notes = []
    nums = [p.number for p in sp.parts]
    if nums != list(range(1, len(nums) + 1)):
        notes.append(f"模板的部分编号是{'、'.join(p.numeral for p in sp.parts)}，已按顺序当作第一至第{cn_numeral(len(nums))}部分")
    occasion = str(sp.meta.get("occasion", "")).strip()
    parts = []
    for p in sp.parts:
        style = {"inline": "shi"}.get(p.items[0].style, p.items[0].style) if p.items else ""
        heading = blank_facts(p.heading, text, name, occasion)
        parts.append(PlanPart(p.role, heading, style if style in ITEM_STYLES else "", len(p.items)))
    return SpeechPlan(parts, name or "粘贴的讲话", occasion, bool(sp.opening), sp.transition is not None,
                      bool(sp.closing), notes)


# --------------------------------------------------------------------------- finding a template by title

_TITLE_NOISE = re.compile(r"^(?:在)|(?:上的)?(?:讲话|致辞|发言)(?:稿)?(?:[（(][^）)]*[）)])?$|^《|》$|[\s“”\"]")


def _core(title: str) -> str:
    s = title.strip()
    for _ in range(3):
        s = _TITLE_NOISE.sub("", s)
    return s


def _bigrams(s: str) -> set[str]:
    return {s[i : i + 2] for i in range(len(s) - 1)}


def find_template(query: str, sources: dict[str, dict]) -> tuple[str | None, list[str]]:
    """(file name of the knowledge-base speech ``query`` names, or None; the closest titles for a message).

    ``sources`` is the knowledge base's manifest (file name → title, occasion …).  A title, its occasion or the
    file name that holds the query (or is held by it) wins, the shortest such first; else the closest title by
    shared character pairs when it shares at least 75 % of the query's (区总工会第四次代表大会 finds last year's
    third; 区妇联第三次代表大会 does not take a 总工会 speech).  The closest titles are those sharing 30 %."""
    q = _core(query)
    if not q or not sources:
        return None, []
    scored = []
    for name, meta in sources.items():
        names = [_core(str(meta.get("title", ""))), _core(str(meta.get("occasion", ""))), name.rsplit(".", 1)[0]]
        names = [n for n in names if n]
        if any(q == n or q in n or (len(n) >= 4 and n in q) for n in names):
            scored.append((2.0, -len(names[0]), name))
            continue
        qb = _bigrams(q)
        best = max((len(qb & _bigrams(n)) / max(1, len(qb)) for n in names), default=0.0)
        scored.append((best, 0, name))
    scored.sort(reverse=True)
    top = scored[0]
    titles = [str(sources[n].get("title") or n) for score, _, n in scored[:3] if score >= 0.3]
    if top[0] >= 0.75:
        return top[2], titles
    return None, titles


def plan_from_knowledge(kb, query: str) -> SpeechPlan:
    """The plan of the knowledge-base speech ``query`` names (a file name, or a title or occasion for
    :func:`find_template`); ``kb`` has ``sources()`` and ``source_text(name)``.  :class:`PlanError` says why not."""
    sources = kb.sources() if kb is not None else {}
    if not sources:
        raise PlanError("知识库里还没有讲话，没有可用的模板。请先在“知识库”页上传，或把讲话粘贴在「用这篇当模板」后面。")
    name, close = (query, []) if query in sources else find_template(query, sources)
    if name is None:
        shown = "、".join(f"《{t}》" for t in close)
        raise PlanError(f"知识库里没有找到《{query}》。" + (f"最接近的有：{shown}。" if shown else "")
                        + "请说出完整的标题，或在“文档”页的“结构”里选一篇。")
    title = sources[name].get("title") or name
    try:
        text = kb.source_text(name)
    except (KeyError, OSError, ValueError) as exc:
        raise PlanError(f"读不出《{title}》的原文（{type(exc).__name__}），请在“知识库”页重建索引后再试。") from exc
    return plan_from_speech(text, title)
