"""The retrieval-and-drafting chain (LangChain LCEL).

``retrieve`` finds passages of the target part's role; ``chain(section)`` is
``prompt | chat model | StrOutputParser`` and streams; ``finalize`` repairs the
reply (structure) and blanks out facts nobody gave (names, dates, numbers).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable

from . import placeholders, repair
from .prompts import PromptLibrary
from .retrieval import HybridSearcher, Passage
from .settings import Settings
from .structure import classify_role, cn_numeral

ROLE_RULES = {
    "significance": "这一部分讲意义和认识：阐明这项工作的重要地位、形势和要求，写两到三段，不分条。",
    "tasks": "这一部分讲重点任务：先用一两句话总起，然后分条写，每条单独成段，依次以“一是”“二是”“三是”开头，每条先用一句话概括，再展开说明。",
    "guarantees": "这一部分讲加强领导和保障：从组织领导、责任落实、作风建设、工作保障等方面写两到三段。",
    "other": "围绕标题写两到三段。",
}
ROLE_QUERY_HINT = {
    "opening": "开场白 祝贺 问候 感谢",
    "transition": "刚才 作了报告 下面 我讲三点意见",
    "closing": "让我们 号召",
}


@dataclass
class DraftSpec:
    section: str  # opening / transition / partN / closing / outline
    request: str
    occasion: str = ""
    topic: str = ""
    heading: str | None = None  # from the outline or the user
    items: list[str] = field(default_factory=list)  # outline items for a tasks part
    facts: str = ""  # values the user has given (confirmed blanks)
    guidance: str = ""

    @property
    def part(self) -> int | None:
        return int(self.section[4:]) if self.section.startswith("part") else None

    @property
    def role(self) -> str:
        if self.section in ("opening", "transition"):
            return "opening"
        if self.section == "closing":
            return "closing"
        if self.section == "outline":
            return "outline"
        n = self.part or 0
        return classify_role(self.heading or self.topic or "", n, bool(self.items)) if (self.heading or self.topic) else repair.ROLE_BY_PART.get(n, "other")


class Drafter:
    def __init__(
        self,
        settings: Settings,
        searcher: HybridSearcher | None,
        llm_factory: Callable[[], BaseChatModel],
        prompts: PromptLibrary | None = None,
    ):
        self.settings = settings
        self.searcher = searcher
        self.llm_factory = llm_factory
        self.prompts = prompts or PromptLibrary(settings.prompts_dir)
        self._llm: BaseChatModel | None = None

    @property
    def llm(self) -> BaseChatModel:
        if self._llm is None:
            self._llm = self.llm_factory()
        return self._llm

    # --- retrieval ---------------------------------------------------------
    def retrieve(self, spec: DraftSpec) -> list[Passage]:
        if self.searcher is None:
            return []
        role = spec.role
        roles = None if role == "outline" else {role}
        query = " ".join(x for x in (spec.occasion, spec.heading or "", spec.topic, spec.request) if x)
        if spec.section in ROLE_QUERY_HINT:
            query += " " + ROLE_QUERY_HINT[spec.section]
        hits = self.searcher.search(query, k=self.settings.top_k, roles=roles)
        if not hits and roles:  # an empty role (e.g. a corpus without closings) falls back to all passages
            hits = self.searcher.search(query, k=self.settings.top_k)
        return hits

    def format_passages(self, passages: list[Passage]) -> str:
        budget = self.settings.prompt_passage_budget
        out, used = [], 0
        for p in passages:
            snippet = p.text.replace("\n", "")[: self.settings.passage_chars]
            if used + len(snippet) > budget and out:
                break
            out.append(f"〔{p.title}·{p.part_label.split('：')[0]}〕{snippet}")
            used += len(snippet)
        return "\n".join(out) if out else "（无）"

    # --- prompting -----------------------------------------------------------
    def prompt_name(self, spec: DraftSpec) -> str:
        if spec.section == "outline":
            return "outline"
        if spec.section.startswith("part"):
            return "draft_part"
        return f"draft_{spec.section}"

    def variables(self, spec: DraftSpec, passages: list[Passage]) -> dict:
        n = spec.part or 0
        role = spec.role
        guidance = spec.guidance
        if spec.items:
            guidance = (guidance + "\n" if guidance else "") + "按提纲分条：" + "；".join(
                f"{cn_numeral(i)}是{t}" for i, t in enumerate(spec.items, 1)
            )
        return {
            "numeral": cn_numeral(n) if n else "",
            "heading_hint": spec.heading or spec.topic or "（根据内容拟一个标题）",
            "role_rule": ROLE_RULES.get(role, ROLE_RULES["other"]),
            "guidance": guidance,
            "passages": self.format_passages(passages),
            "occasion": spec.occasion or "（用户未说明，用“XX会议”代替）",
            "facts": f"已确认的信息：{spec.facts}" if spec.facts else "",
            "request": spec.request,
        }

    def stream(self, spec: DraftSpec, passages: list[Passage], timing: dict | None = None) -> Iterator[str]:
        """The LCEL chain ``prompt | chat model``, streamed; ``timing`` receives ttft_s, total_s and finish_reason."""
        chain = self.prompts.chat(self.prompt_name(spec)) | self.llm
        yield from _stream_text(chain, self.variables(spec, passages), timing)

    def refine_stream(self, text: str, instruction: str, length_rule: str = "", timing: dict | None = None) -> Iterator[str]:
        chain = self.prompts.chat("refine") | self.llm
        yield from _stream_text(chain, {"instruction": instruction, "text": text, "length_rule": length_rule}, timing)

    def classify(self, message: str) -> str:
        chain = self.prompts.plain("classify") | self.llm | StrOutputParser()
        reply = chain.invoke({"message": message[:300]}).strip().lower()
        for word in ("draft", "outline", "refine", "fill", "undo", "check", "chat"):
            if word in reply:
                return word
        return "chat"

    # --- repair ----------------------------------------------------------------
    def finalize(self, spec: DraftSpec, raw: str, allowed: str, passages: list[Passage] | None = None) -> repair.Repaired:
        """Repair the structure of a reply, then blank out invented facts."""
        if spec.section.startswith("part"):
            fixed = repair.repair_part(raw, spec.part or 1, heading=spec.heading, role=spec.role)
        elif spec.section == "opening":
            fixed = repair.repair_opening(raw)
        elif spec.section == "transition":
            fixed = repair.repair_transition(raw)
        elif spec.section == "closing":
            fixed = repair.repair_closing(raw)
        else:
            raise ValueError(spec.section)
        if not fixed.ok:
            return fixed
        return guard_facts(fixed, allowed, passages)


class IncompleteReply(RuntimeError):
    """The model's stream ended without saying it had finished (connection dropped)."""


def _stream_text(chain: Runnable, variables: dict, timing: dict | None) -> Iterator[str]:
    """Yield text pieces; record time to first token and why the model stopped.

    A stream that ends without a finish reason was cut off: raise IncompleteReply so
    the partial text is never taken for a finished draft.
    """
    timing = timing if timing is not None else {}
    t0 = time.perf_counter()
    finish = None
    got_text = False
    for chunk in chain.stream(variables):
        piece = chunk.content if isinstance(chunk.content, str) else ""
        reason = (getattr(chunk, "response_metadata", None) or {}).get("finish_reason")
        if reason:
            finish = reason
        if piece:
            if not got_text:
                got_text = True
                timing["ttft_s"] = time.perf_counter() - t0
            yield piece
    timing["total_s"] = time.perf_counter() - t0
    timing["finish_reason"] = finish
    if got_text and finish is None:
        raise IncompleteReply("模型的回复中途中断了")


_PLACE = re.compile(r"([\u4e00-\u9fff]{2})(区|县|市|镇|乡)")
_GENERIC_PLACE = set("全区 全县 全市 全镇 全乡 我区 我县 我市 本区 本县 本市 该区 各区 各县 各市 城区 市区 社区 园区 景区 "
                     "辖区 地区 片区 山区 郊区 新区 老区 街区 校区 矿区 灾区 库区 牧区 集镇 城镇 乡镇 村镇 城市 都市 "
                     "开发区 示范区 试验区 功能区".split())


def foreign_places(passages: list[Passage]) -> set[str]:
    """Place names of past speeches (青川区, 云岭县 …): they belong to those speeches, not to a new one."""
    names = set()
    for p in passages:
        for m in _PLACE.finditer(f"{p.title} {p.occasion} {p.text}"):  # the occasion names the place most often
            name = m.group(0)
            if name not in _GENERIC_PLACE and m.group(1)[-1] not in "全各本该我":
                names.add(name)
    return names


COMMON_WORD_FREQ = 200  # jieba counts: a place stem rarer than this is a name (青川 12, 云岭 60, 昌平 171), not a word (科教 302, 新城 824)


def place_stems(names: set[str]) -> set[str]:
    """The bare names of places (青川区 → 青川, 禾丰镇 → 禾丰), used alone as in 美丽青川 — unless the stem is also a
    common word (新城区 → 新城, 东方市 → 东方), which a draft may use in its own sense."""
    from .keyword import _ensure_jieba

    freq = _ensure_jieba(None).dt.FREQ
    return {n[:-1] for n in names if len(n) == 3 and (freq.get(n[:-1]) or 0) < COMMON_WORD_FREQ}


_FESTIVAL = (r"(?:节日|新春|新年|春节|元旦|元宵|端午|中秋|重阳|国庆|教师节|护士节|记者节|三八节?|妇女节|五一|劳动节|"
             r"五四|青年节|七一|八一|建军节|六一|儿童节)")
_WISH = _FESTIVAL + r"(?:快乐|安康|愉快|吉祥)"


def drop_festival_wishes(text: str, allowed: str) -> tuple[str, list[str]]:
    """A festival wish in a list of wishes (祝大家节日快乐、工作顺利) copied from a past speech, when the user named no
    festival: the wish goes, the list stays.  A lone wish (祝大家中秋快乐！) is left for the user to judge."""
    if re.search(_FESTIVAL, allowed):
        return text, []
    found = re.findall(_WISH + r"(?=、)|(?<=、)" + _WISH, text)
    if not found:
        return text, []
    text = re.sub(_WISH + "、", "", text)
    return re.sub("、" + _WISH, "", text), found


def guard_facts(fixed: repair.Repaired, allowed: str, passages: list[Passage] | None = None) -> repair.Repaired:
    inventions = placeholders.find_invented(fixed.text, allowed)
    if inventions:
        fixed.text = placeholders.blank_out(fixed.text, inventions)
        shown = "、".join(dict.fromkeys(i.text for i in inventions[:5]))
        fixed.notes.append(f"模型写入了您没有提供的信息（{shown}），已改成待填空白")
    places = foreign_places(passages or [])
    copied = sorted(n for n in places if n in fixed.text and n not in allowed)
    for name in copied:
        fixed.text = fixed.text.replace(name, "XX" + name[-1])
    # the same names without 区/县/镇: 美丽青川, 禾丰发展 (after the full names, so XX区 is not touched again)
    bare = sorted(n for n in place_stems(places) if n in fixed.text and n not in allowed)
    for stem in bare:
        fixed.text = fixed.text.replace(stem, "XX")
    if copied or bare:
        fixed.notes.append(f"模型沿用了往年讲话里的地名（{'、'.join(copied + bare)}），已改成待填空白")
    fixed.text, wishes = drop_festival_wishes(fixed.text, allowed)
    if wishes:
        fixed.notes.append(f"已删去与本次场合无关的节日祝福（{'、'.join(dict.fromkeys(wishes))}）")
    return fixed
