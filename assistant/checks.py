"""Live checks of a speech draft, without any model.

:func:`run_checks` looks at

* **structure** – opening, transition and closing present; ``expected_parts`` parts (three by
  default; a session passes its plan's count) numbered 一、二、三… in order (gaps, duplicates
  and wrong order are errors; a part the plan has and the text lacks is missing); the items of
  each part (一是/二是…, （一）（二）…, 首先/其次…) numbered without gaps,
  repeats or swaps;
* **length** – characters per section and per part (:func:`structure.count_chars`,
  white space not counted), total characters and speaking time
  ``chars / chars_per_minute`` (rounded to 0.1 minute).  With ``budget_minutes``
  the whole speech must fit in ``budget_minutes * chars_per_minute`` characters,
  and each block gets a share of that budget:

  ====================  =======
  opening + transition   15 %
  each of three parts    25 %
  closing                10 %
  ====================  =======

  (with another number of parts, the parts share 75 % equally).  A block fits
  when its characters do not exceed its share; otherwise a warning says how many
  characters to cut;
* **repeated phrases** – maximal phrases of 6+ characters (punctuation and white
  space removed) that occur in two or more different sections/parts.  Function
  characters at a phrase's edges (的、和、要…) are trimmed, and genre boilerplate
  (:data:`BOILERPLATE`: 以习近平同志为核心的党中央, 要进一步, 全区, 工作 …) does not
  count towards the 6 characters, so 「深入贯彻落实科学发展观」 is not reported but
  「职工群众的桥梁和纽带」 is.  At most 10 are listed, longest first;
* **verbatim copy** – with ``sources`` (texts of past speeches), every run of 30
  or more consecutive characters (white space ignored) that appears verbatim in
  one source; source 30-grams are indexed by hash (:class:`SourceIndex`).

Offsets are character offsets into the text given to :func:`run_checks`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Iterable, Literal, Sequence

from . import icons
from .structure import (
    Item,
    Paragraph,
    Part,
    Speech,
    cn_number,
    cn_numeral,
    count_chars,
    parse,
    split_front_matter,
)

Level = Literal["ok", "warn", "error"]

SHARES = {"intro": 0.15, "parts": 0.75, "closing": 0.10}
MIN_PHRASE = 6
MAX_PHRASES = 10
COPY_MIN = 30

# Genre boilerplate and scope words: they do not count towards the 6 characters of a
# repeated phrase, so 「深入贯彻落实科学发展观」 or 「全县安全生产工作」 are not reported
# while 「职工群众的桥梁和纽带」 is.
BOILERPLATE = (
    "以习近平同志为核心的党中央",
    "习近平新时代中国特色社会主义思想",
    "中国特色社会主义",
    "更加紧密地团结在",
    "紧密团结在",
    "周围",
    "党中央",
    "科学发展观",
    "高质量发展",
    "深入贯彻落实",
    "认真贯彻落实",
    "贯彻落实",
    "深入贯彻",
    "全面贯彻",
    "重要意义",
    "十分重要",
    "的重要",
    "要进一步",
    "进一步",
    "加强和改进",
    "切实加强",
    "各级党委",
    "各级党组织",
    "党委政府",
    "区委区政府",
    "党的领导",
    "作出新的更大贡献",
    "作出更大贡献",
    "新的更大",
    "新时代",
    "新征程",
    "新形势",
    "新任务",
    "新要求",
    "重要组成部分",
    "不断提高",
    "不断增强",
    "充分发挥",
    "积极发挥",
    "作用",
    "各级各部门",
    "各项工作",
    "干部群众",
    "同志们",
    "工作",
    "事业",
    "发展",
    "各级",
    "广大",
    "全区",
    "全县",
    "全市",
    "全镇",
    "全省",
    "全乡",
)
_BOILER_RX = re.compile("|".join(re.escape(w) for w in sorted(set(BOILERPLATE), key=len, reverse=True)))
_COUNT_HINT = re.compile(r"(?:讲|谈|提|强调)(?:以下|如下)?([一二三四五六七八九十两])点")
_LEAD_CHARS = "的和与及是要了在把将对为"  # trimmed from the start of a phrase
_TAIL_CHARS = "的和与及要在把对"  # trimmed from its end
_ORDER_NAMES = {1: "首先", 2: "其次", 3: "再次"}
_ICON = {"ok": icons.OK, "warn": icons.WARN, "error": icons.ERROR}


# --------------------------------------------------------------------------- data
@dataclass
class CheckItem:
    level: Level
    code: str
    message: str
    section: str | None = None  # opening / transition / part2 / closing
    part: int | None = None
    offset: int | None = None
    category: str = "structure"  # structure / length / repetition / copy

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SectionLength:
    key: str  # opening / transition / part1 … / closing
    label: str  # 开场白 / 过渡语 / 第一部分 / 结尾
    chars: int
    minutes: float
    part: int | None = None
    heading: str = ""


@dataclass
class BudgetShare:
    key: str  # intro (opening + transition) / part1 … / closing
    label: str
    share: float
    chars: int
    budget_chars: int
    fits: bool
    over_chars: int  # characters to cut, 0 when it fits


@dataclass
class RepeatedPhrase:
    text: str  # as written at the first occurrence (punctuation kept)
    chars: int  # length without punctuation
    sections: list[str]
    offsets: list[int]  # first occurrence in each section


@dataclass
class CopiedRun:
    offset: int  # start in the checked text
    length: int  # span in the checked text: text[offset:offset + length]
    chars: int  # characters without white space
    source: int  # index into ``sources``
    source_offset: int
    text: str


@dataclass
class CheckReport:
    items: list[CheckItem]
    sections: list[SectionLength]
    chars: int
    minutes: float
    chars_per_minute: int
    budget_minutes: float | None = None
    budget_chars: int | None = None
    fits: bool | None = None
    over_chars: int = 0
    over_minutes: float = 0.0
    budget: list[BudgetShare] = field(default_factory=list)
    repeated: list[RepeatedPhrase] = field(default_factory=list)
    repeated_total: int = 0  # before the cap of 10
    copies: list[CopiedRun] = field(default_factory=list)
    speech: Speech | None = field(default=None, repr=False, compare=False)

    @property
    def errors(self) -> list[CheckItem]:
        return [i for i in self.items if i.level == "error"]

    @property
    def warnings(self) -> list[CheckItem]:
        return [i for i in self.items if i.level == "warn"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_code(self, code: str) -> list[CheckItem]:
        return [i for i in self.items if i.code == code]

    def budget_for(self, key: str) -> BudgetShare | None:
        return next((b for b in self.budget if b.key == key), None)

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "summary": self.summary(),
            "items": [i.to_dict() for i in self.items],
            "sections": [asdict(s) for s in self.sections],
            "chars": self.chars,
            "minutes": self.minutes,
            "chars_per_minute": self.chars_per_minute,
            "budget_minutes": self.budget_minutes,
            "budget_chars": self.budget_chars,
            "fits": self.fits,
            "over_chars": self.over_chars,
            "over_minutes": self.over_minutes,
            "budget": [asdict(b) for b in self.budget],
            "repeated_phrases": [asdict(r) for r in self.repeated],
            "repeated_total": self.repeated_total,
            "copies": [asdict(c) for c in self.copies],
        }

    def summary(self) -> str:
        """One line, e.g. 「1 个错误，2 条提醒；全文 3275 字，约 14.9 分钟，超出预算 4.9 分钟」."""
        ne, nw = len(self.errors), len(self.warnings)
        if ne or nw:
            head = "，".join(x for x in (f"{ne} 个错误" if ne else "", f"{nw} 条提醒" if nw else "") if x)
        else:
            head = "检查通过"
        tail = f"全文 {self.chars} 字，约 {self.minutes:g} 分钟"
        if self.budget_minutes is not None:
            if self.fits:
                tail += f"，在 {self.budget_minutes:g} 分钟预算内"
            else:
                tail += f"，超出预算 {self.over_minutes:g} 分钟"
        return f"{head}；{tail}"

    def markdown(self) -> str:
        """Compact Markdown for a UI panel: ✓/⚠/✗ lines and a table of sections."""
        lines: list[str] = [f"**{self.summary()}**", ""]
        titles = {"structure": "结构", "length": "篇幅", "repetition": "重复用语", "copy": "照搬旧稿"}
        for cat, title in titles.items():
            items = [i for i in self.items if i.category == cat]
            if not items:
                continue
            bad = [i for i in items if i.level != "ok"]
            if not bad:
                lines.append(f"- {icons.OK} {title}：" + "；".join(i.message for i in items))
            else:
                for i in bad:
                    lines.append(f"- {_ICON[i.level]} {i.message}")
        lines.append("")
        with_budget = bool(self.budget)
        head = "| 部分 | 字数 | 分钟 |" + (" 预算字数 | |" if with_budget else "")
        sep = "|---|---:|---:|" + ("---:|---|" if with_budget else "")
        lines += [head, sep]
        shown_intro = False
        for s in self.sections:
            row = f"| {s.label} | {s.chars} | {s.minutes:g} |"
            if with_budget:
                key = "intro" if s.key in ("opening", "transition") else s.key
                b = self.budget_for(key)
                if b is None or (key == "intro" and shown_intro):
                    row += " | |"
                else:
                    shown_intro = shown_intro or key == "intro"
                    label = f"{b.budget_chars}" + ("（开场+过渡）" if key == "intro" else "")
                    row += f" {label} | {icons.OK if b.fits else f'{icons.WARN} 超 {b.over_chars} 字'} |"
            lines.append(row)
        total = f"| **合计** | **{self.chars}** | **{self.minutes:g}** |"
        if with_budget:
            total += f" {self.budget_chars} | {icons.OK if self.fits else f'{icons.WARN} 超 {self.over_chars} 字'} |"
        lines.append(total)
        return "\n".join(lines)


# --------------------------------------------------------------------------- helpers
def _minutes(chars: int, cpm: int) -> float:
    return round(chars / cpm, 1) if cpm > 0 else 0.0


def _part_label(n: int) -> str:
    return f"第{cn_numeral(n)}部分" if n > 0 else "部分"


def _section_paragraphs(speech: Speech) -> list[tuple[str, str, list[Paragraph], Part | None]]:
    """(key, label, paragraphs, part) for each non-empty section, in order."""
    out: list[tuple[str, str, list[Paragraph], Part | None]] = []
    if speech.opening:
        out.append(("opening", "开场白", list(speech.opening), None))
    if speech.transition:
        out.append(("transition", "过渡语", [speech.transition], None))
    for p in speech.parts:
        out.append((f"part{p.number}", _part_label(p.number), [p.heading_line] + list(p.paragraphs), p))
    if speech.closing:
        out.append(("closing", "结尾", list(speech.closing), None))
    return out


def _section_at(speech: Speech, offset: int) -> str | None:
    for key, _, paras, _ in _section_paragraphs(speech):
        if paras and paras[0].start <= offset < paras[-1].end:
            return key
    return None


def _count_cn(n: int) -> str:
    """Numeral for a count: 两 rather than 二."""
    return "两" if n == 2 else cn_numeral(n)


def _item_name(style: str, n: int) -> str:
    if style == "paren":
        return f"（{cn_numeral(n)}）"
    if style == "order":
        return _ORDER_NAMES.get(n, "最后")
    return f"{cn_numeral(n)}是"


# --------------------------------------------------------------------------- structure
def _check_sequence(nums: list[int], expected_max: int = 0) -> tuple[list[int], list[int], bool]:
    """(duplicates, missing, out_of_order) of a numbering."""
    seen: dict[int, int] = {}
    for n in nums:
        seen[n] = seen.get(n, 0) + 1
    dups = [n for n, c in seen.items() if c > 1]
    top = max([expected_max] + nums) if nums else expected_max
    missing = [n for n in range(1, top + 1) if n not in seen]
    firsts = list(dict.fromkeys(nums))
    return dups, missing, firsts != sorted(firsts)


def _structure(speech: Speech, expected_parts: int) -> list[CheckItem]:
    items: list[CheckItem] = []
    if not speech.body.strip():
        return [CheckItem("error", "empty", "只有标题，正文为空" if speech.title else "文稿为空")]
    first_off = speech.body_start
    if speech.has_opening:
        items.append(CheckItem("ok", "opening", "有开场白", "opening", offset=speech.opening[0].start))
    else:
        items.append(CheckItem("error", "opening_missing", "缺少开场白：先交代会议背景、致意", "opening", offset=first_off))
    if speech.transition:
        items.append(CheckItem("ok", "transition", "有过渡语", "transition", offset=speech.transition.start))
    else:
        off = speech.parts[0].start if speech.parts else None
        said = "两" if expected_parts == 2 else cn_numeral(max(1, expected_parts))
        items.append(CheckItem("warn", "transition_missing", f"缺少过渡语：在第一部分前加一句“下面，我讲{said}点意见”", "transition", offset=off))
    if speech.has_closing:
        items.append(CheckItem("ok", "closing", "有结尾", "closing", offset=speech.closing[0].start))
    else:
        items.append(CheckItem("error", "closing_missing", "缺少结尾：以“同志们”或“让我们……”收束全篇", "closing", offset=None))

    # parts
    nums = [p.number for p in speech.parts]
    if not nums:
        items.append(CheckItem("error", "parts_missing", f"没有找到部分标题：正文应分为“一、”“二、”“三、”等{_count_cn(expected_parts)}个部分"))
    else:
        dups, missing, disorder = _check_sequence(nums, expected_parts)
        problems = []
        for n in missing:
            problems.append(CheckItem("error", "part_missing", f"缺少{_part_label(n)}", f"part{n}", n))
        for n in dups:
            again = [p for p in speech.parts if p.number == n][1]
            times = nums.count(n)
            problems.append(
                CheckItem("error", "part_duplicate", f"{_part_label(n)}出现{'两' if times == 2 else cn_numeral(times)}次：检查标题编号", f"part{n}", n, again.start)
            )
        if disorder:
            seq = "、".join(cn_numeral(n) for n in nums)
            problems.append(CheckItem("error", "part_order", f"部分编号顺序错误：{seq}", None, None, speech.parts[0].start))
        if len(set(nums)) > expected_parts and not missing:
            problems.append(
                CheckItem("warn", "part_count", f"共有{_count_cn(len(set(nums)))}个部分，通常讲{_count_cn(expected_parts)}点", None, None, None)
            )
        for p in speech.parts:
            if not p.paragraphs:
                problems.append(CheckItem("warn", "part_empty", f"{_part_label(p.number)}只有标题，还没有正文", f"part{p.number}", p.number, p.start))
        if speech.transition:
            m = _COUNT_HINT.search(speech.transition.text)
            said = (2 if m.group(1) == "两" else cn_number(m.group(1))) if m else 0
            if said and said != len(speech.parts):
                problems.append(
                    CheckItem(
                        "warn",
                        "transition_count",
                        f"过渡语说讲{m.group(1)}点，正文有{_count_cn(len(speech.parts))}个部分",  # type: ignore[union-attr]
                        "transition",
                        None,
                        speech.transition.start,
                    )
                )
        if problems:
            items += problems
        else:
            seq = "、".join(cn_numeral(n) for n in nums)
            items.append(CheckItem("ok", "parts", f"{_count_cn(len(nums))}个部分齐全，编号{seq}", None, None, speech.parts[0].start))

    # items inside each part
    for p in speech.parts:
        items += _check_items(p)
    return items


_INLINE_NEXT = re.compile(r"[，,；;。：:]\s*([一二三四五六七八九十])是")


def _item_groups(part: Part) -> list[list[Item]]:
    """Items that form one numbered list.

    Inline 一是……二是…… items are one list per paragraph.  A paragraph that starts
    with 一是 and carries its own ，二是……，三是…… is a self-contained list too, so
    several such paragraphs in one part do not count as a repeated 一是.
    """
    if not part.items:
        return []
    if part.items[0].style == "inline":
        groups: dict[int, list[Item]] = {}
        for it in part.items:
            para = next((k for k, para in enumerate(part.paragraphs) if para.start <= it.start < para.end), -1)
            groups.setdefault(para, []).append(it)
        return list(groups.values())
    if part.items[0].style != "shi":
        return [part.items]
    main: list[Item] = []
    own: list[list[Item]] = []
    for it in part.items:
        line = it.text.split("\n", 1)[0]
        found = list(_INLINE_NEXT.finditer(line))
        nums = [cn_number(m.group(1)) for m in found]
        if nums and nums[0] == it.number + 1:
            group = [it]
            for m, n in zip(found, nums):
                pos = it.start + m.start(1)
                group.append(Item(m.group(1) + "是", "inline", n, line[m.start(1):], pos, it.start + len(line)))
            own.append(group)
        else:
            main.append(it)
    return ([main] if main else []) + own


def _check_items(part: Part) -> list[CheckItem]:
    out: list[CheckItem] = []
    label = _part_label(part.number)
    key = f"part{part.number}"
    for group in _item_groups(part):
        style = group[0].style
        nums = [i.number for i in group]
        dups, missing, disorder = _check_sequence(nums)
        bad = False
        for n in missing:
            out.append(CheckItem("error", "item_missing", f"{label}缺少“{_item_name(style, n)}”：条目编号不连续", key, part.number, group[0].start))
            bad = True
        for n in dups:
            again = [i for i in group if i.number == n][1]
            out.append(CheckItem("error", "item_duplicate", f"{label}“{_item_name(style, n)}”出现两次", key, part.number, again.start))
            bad = True
        if disorder:
            seq = "、".join(i.marker if style == "order" else _item_name(style, i.number) for i in group)
            first_bad = next((b for a, b in zip(group, group[1:]) if b.number < a.number), group[0])
            out.append(CheckItem("error", "item_order", f"{label}条目顺序错误：{seq}", key, part.number, first_bad.start))
            bad = True
        if len(group) == 1 and not bad:
            out.append(
                CheckItem("warn", "item_single", f"{label}只有“{_item_name(style, nums[0])}”一条，补充第二条或去掉编号", key, part.number, group[0].start)
            )
            bad = True
        if not bad:
            out.append(
                CheckItem(
                    "ok",
                    "items",
                    f"{label}条目{_item_name(style, 1)}至{_item_name(style, max(nums)) if style != 'order' else group[-1].marker}编号连贯",
                    key,
                    part.number,
                    group[0].start,
                )
            )
    return out


# --------------------------------------------------------------------------- length
def _length(speech: Speech, cpm: int, budget_minutes: float | None, report: CheckReport) -> list[CheckItem]:
    items: list[CheckItem] = []
    for key, label, paras, part in _section_paragraphs(speech):
        chars = part.chars if part else sum(count_chars(p.text) for p in paras)
        report.sections.append(SectionLength(key, label, chars, _minutes(chars, cpm), part.number if part else None, part.heading if part else ""))
    total = report.chars
    if budget_minutes is None:
        items.append(CheckItem("ok", "length", f"全文 {total} 字，约 {report.minutes:g} 分钟（按每分钟 {cpm} 字）", category="length"))
        return items

    budget_chars = int(round(budget_minutes * cpm))
    report.budget_minutes = budget_minutes
    report.budget_chars = budget_chars
    report.fits = total <= budget_chars
    report.over_chars = max(0, total - budget_chars)
    report.over_minutes = round(report.over_chars / cpm, 1) if cpm > 0 else 0.0
    if report.fits:
        short = budget_chars - total
        if total < 0.8 * budget_chars:
            items.append(
                CheckItem(
                    "warn",
                    "length_under",
                    f"约 {report.minutes:g} 分钟，比 {budget_minutes:g} 分钟预算短 {round(short / cpm, 1):g} 分钟，可补充约 {short} 字",
                    category="length",
                )
            )
        else:
            items.append(CheckItem("ok", "length", f"约 {report.minutes:g} 分钟，在 {budget_minutes:g} 分钟预算内", category="length"))
    else:
        items.append(
            CheckItem(
                "warn",
                "length_over",
                f"全文 {total} 字约 {report.minutes:g} 分钟，超出 {report.over_minutes:g} 分钟，约需压缩 {report.over_chars} 字",
                category="length",
            )
        )

    # per-block shares
    n_parts = len(speech.parts)
    blocks: list[tuple[str, str, float, int, int | None, int | None]] = []
    intro_chars = sum(s.chars for s in report.sections if s.key in ("opening", "transition"))
    intro_off = speech.opening[0].start if speech.opening else (speech.transition.start if speech.transition else None)
    blocks.append(("intro", "开场白和过渡语", SHARES["intro"], intro_chars, None, intro_off))
    for p in speech.parts:
        blocks.append((f"part{p.number}", _part_label(p.number), SHARES["parts"] / n_parts, p.chars, p.number, p.start))
    blocks.append(("closing", "结尾", SHARES["closing"], sum(s.chars for s in report.sections if s.key == "closing"), None, speech.closing[0].start if speech.closing else None))
    for key, label, share, chars, num, off in blocks:
        b_chars = int(round(budget_chars * share))
        fits = chars <= b_chars
        over = max(0, chars - b_chars)
        report.budget.append(BudgetShare(key, label, round(share, 4), chars, b_chars, fits, over))
        if not fits:
            items.append(
                CheckItem(
                    "warn",
                    "section_over",
                    f"{label} {chars} 字，超出分配的 {b_chars} 字（{share:.0%}），约需压缩 {over} 字",
                    "opening" if key == "intro" else key,
                    num,
                    off,
                    category="length",
                )
            )
    return items


# --------------------------------------------------------------------------- repeated phrases
def _clean_with_offsets(text: str, paras: Iterable[Paragraph]) -> tuple[str, list[int]]:
    chars: list[str] = []
    offs: list[int] = []
    for p in paras:
        for k, ch in enumerate(p.text):
            if ch.isalnum():
                chars.append(ch)
                offs.append(p.start + k)
    return "".join(chars), offs


def _is_boilerplate(phrase: str, min_len: int = MIN_PHRASE) -> bool:
    """True when fewer than ``min_len`` characters are left once boilerplate is removed."""
    return len(_BOILER_RX.sub("", phrase)) < min_len


def find_repeated_phrases(speech: Speech, min_len: int = MIN_PHRASE) -> list[RepeatedPhrase]:
    """Maximal phrases (≥ ``min_len`` characters without punctuation) found in ≥ 2 sections, longest first."""
    secs = [(key, *_clean_with_offsets(speech.text, paras)) for key, _, paras, _ in _section_paragraphs(speech)]
    if len(secs) < 2:
        return []
    where: dict[str, set[int]] = {}
    for idx, (_, c, _) in enumerate(secs):
        for i in range(len(c) - min_len + 1):
            where.setdefault(c[i : i + min_len], set()).add(idx)

    found: set[str] = set()
    for idx, (_, c, _) in enumerate(secs):
        others = "\x00".join(s[1] for j, s in enumerate(secs) if j != idx)
        prev_end = -1
        length = 0
        for i in range(len(c) - min_len + 1):
            if not (where.get(c[i : i + min_len], set()) - {idx}):
                length = 0
                continue
            length = max(min_len, length - 1)
            while i + length < len(c) and c[i : i + length + 1] in others:
                length += 1
            end = i + length
            if end > prev_end:  # left-maximal: not inside the previous phrase
                found.add(c[i:end])
                prev_end = end
    # trim function characters at the edges, drop substrings of longer phrases and boilerplate
    trimmed = {ph.lstrip(_LEAD_CHARS).rstrip(_TAIL_CHARS) for ph in found}
    ordered = sorted((ph for ph in trimmed if len(ph) >= min_len), key=lambda ph: (-len(ph), ph))
    kept: list[str] = []
    for ph in ordered:
        if any(ph in k for k in kept):
            continue
        kept.append(ph)
    out: list[RepeatedPhrase] = []
    for ph in kept:
        if _is_boilerplate(ph, min_len):
            continue
        keys, offs = [], []
        first_span: tuple[int, int] | None = None
        for key, c, o in secs:
            pos = c.find(ph)
            if pos >= 0:
                keys.append(key)
                offs.append(o[pos])
                if first_span is None:
                    first_span = (o[pos], o[pos + len(ph) - 1] + 1)
        if len(keys) < 2 or first_span is None:
            continue
        out.append(RepeatedPhrase(speech.text[first_span[0] : first_span[1]], len(ph), keys, offs))
    return out


# --------------------------------------------------------------------------- verbatim copy
def _strip_ws(text: str, start: int = 0) -> tuple[str, list[int]]:
    chars, offs = [], []
    for k in range(start, len(text)):
        ch = text[k]
        if not ch.isspace():
            chars.append(ch)
            offs.append(k)
    return "".join(chars), offs


class SourceIndex:
    """Hash index of the ``n``-grams of past speeches (white space removed, front matter skipped).

    Build it once and pass it as ``sources`` to :func:`run_checks` to check many drafts.
    """

    def __init__(self, sources: Sequence[str], n: int = COPY_MIN):
        self.n = n
        self.texts: list[str] = []
        self.index: dict[int, list[tuple[int, int]]] = {}
        for si, src in enumerate(sources):
            _, body = split_front_matter(src)
            clean, _ = _strip_ws(src, body)
            self.texts.append(clean)
            seen: set[int] = set()
            for p in range(len(clean) - n + 1):
                h = hash(clean[p : p + n])
                if h in seen:
                    continue
                seen.add(h)
                self.index.setdefault(h, []).append((si, p))

    def __len__(self) -> int:
        return len(self.texts)

    def find(self, text: str, start: int = 0) -> list[CopiedRun]:
        """Maximal verbatim runs (≥ n characters) of ``text[start:]`` found in one source."""
        n = self.n
        clean, offs = _strip_ws(text, start)
        runs: list[tuple[int, int, int, int]] = []  # (start, end) in clean, source, source pos
        i = 0
        while i <= len(clean) - n:
            gram = clean[i : i + n]
            best: tuple[int, int, int] | None = None  # (length, source, pos)
            for si, p in self.index.get(hash(gram), ())[:50]:
                src = self.texts[si]
                if src[p : p + n] != gram:
                    continue
                length = n
                while i + length < len(clean) and p + length < len(src):
                    step = min(64, len(clean) - i - length, len(src) - p - length)
                    if clean[i + length : i + length + step] == src[p + length : p + length + step]:
                        length += step
                        continue
                    while clean[i + length] == src[p + length]:
                        length += 1
                    break
                if best is None or length > best[0]:
                    best = (length, si, p)
            if best is None:
                i += 1
                continue
            length, si, p = best
            if runs and runs[-1][2] == si and runs[-1][1] >= i and runs[-1][3] + (i - runs[-1][0]) == p:
                s0, _, _, p0 = runs[-1]
                runs[-1] = (s0, max(runs[-1][1], i + length), si, p0)
            else:
                runs.append((i, i + length, si, p))
            # positions inside the run cannot start a run that ends later, except from here on
            i = max(i + 1, i + length - n + 1)
        out = []
        for s, e, si, p in runs:
            a, b = offs[s], offs[e - 1] + 1
            out.append(CopiedRun(a, b - a, e - s, si, p, text[a:b]))
        return out


def find_copies(text: str, sources: Sequence[str] | SourceIndex, min_len: int = COPY_MIN) -> list[CopiedRun]:
    index = sources if isinstance(sources, SourceIndex) else SourceIndex(sources, min_len)
    _, body = split_front_matter(text)
    return index.find(text, body)


# --------------------------------------------------------------------------- entry points
def run_checks(
    text: str,
    *,
    chars_per_minute: int = 220,
    budget_minutes: float | None = None,
    sources: Sequence[str] | SourceIndex | None = None,
    source_names: Sequence[str] | None = None,
    expected_parts: int = 3,
) -> CheckReport:
    """All checks of one speech text (front matter allowed).  See the module docstring."""
    speech = parse(text)
    total = speech.chars
    report = CheckReport(items=[], sections=[], chars=total, minutes=_minutes(total, chars_per_minute), chars_per_minute=chars_per_minute, speech=speech)
    report.items += _structure(speech, expected_parts)
    if not speech.body.strip():
        return report
    report.items += _length(speech, chars_per_minute, budget_minutes, report)

    repeated = find_repeated_phrases(speech)
    report.repeated_total = len(repeated)
    report.repeated = repeated[:MAX_PHRASES]
    labels = {key: label for key, label, _, _ in _section_paragraphs(speech)}
    for r in report.repeated:
        where = "、".join(labels.get(k, k) for k in r.sections)
        report.items.append(
            CheckItem("warn", "repeated_phrase", f"“{r.text}”在{where}重复出现，换个说法或删去一处", r.sections[-1], _num(r.sections[-1]), r.offsets[-1], "repetition")
        )
    if not repeated:
        report.items.append(CheckItem("ok", "repeated_phrase", "各部分之间没有重复的长句", category="repetition"))
    elif len(repeated) > MAX_PHRASES:
        report.items.append(CheckItem("warn", "repeated_more", f"另有 {len(repeated) - MAX_PHRASES} 处重复用语未列出", category="repetition"))

    if sources:
        report.copies = find_copies(text, sources)
        names = list(source_names or [])
        for c in report.copies:
            name = names[c.source] if c.source < len(names) else f"旧稿 #{c.source + 1}"
            key = _section_at(speech, c.offset)
            report.items.append(
                CheckItem("warn", "copied", f"第 {c.offset} 字起有 {c.chars} 字与{name}完全相同：“{_clip(c.text)}”，请改写", key, _num(key), c.offset, "copy")
            )
        if not report.copies:
            report.items.append(CheckItem("ok", "copied", f"没有与 {len(sources)} 篇旧稿雷同的长句（{COPY_MIN} 字以上）", category="copy"))
    return report


def _num(key: str | None) -> int | None:
    return int(key[4:]) if key and key.startswith("part") else None


def _clip(s: str, n: int = 16) -> str:
    s = s.replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"


def check_json(
    text: str,
    chars_per_minute: int = 220,
    budget_minutes: float | None = None,
    sources: Sequence[str] | SourceIndex | None = None,
) -> dict:
    """JSON for ``speech-assistant check FILE --json``: the parsed structure plus the report."""
    report = run_checks(text, chars_per_minute=chars_per_minute, budget_minutes=budget_minutes, sources=sources)
    assert report.speech is not None
    data = report.speech.to_dict()
    data["chars"] = report.chars
    data["minutes"] = report.minutes
    data["chars_per_minute"] = chars_per_minute
    for p in data["parts"]:
        p["minutes"] = _minutes(p["chars"], chars_per_minute)
        if budget_minutes is not None:
            b = report.budget_for(f"part{p['number']}")
            p["budget_chars"] = b.budget_chars if b else None
            p["fits"] = b.fits if b else None
    if budget_minutes is not None:
        data["budget_minutes"] = budget_minutes
        data["budget_chars"] = report.budget_chars
        data["fits"] = report.fits
        data["over_chars"] = report.over_chars
        data["over_minutes"] = report.over_minutes
        data["budget"] = [asdict(b) for b in report.budget]
    data["sections"] = [asdict(s) for s in report.sections]
    data["ok"] = report.ok
    data["summary"] = report.summary()
    data["checks"] = [
        {"level": i.level, "code": i.code, "message": i.message, "section": i.section, "offset": i.offset} for i in report.items
    ]
    data["repeated_phrases"] = [asdict(r) for r in report.repeated]
    if sources:
        data["copies"] = [asdict(c) for c in report.copies]
    return data
