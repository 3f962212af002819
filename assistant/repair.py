"""Validate and repair a model reply before it enters the document.

Code owns the structure: whatever a small model returns, a drafted part gets
its heading with the right numeral, a tasks part gets 一是/二是/三是 items,
an opening never carries headings, a transition ends in 「下面，我讲三点意见」
(as many points as the speech's plan has parts) and a closing has its call
「让我们……」.  A reply that cannot be repaired is refused with a message and the document stays as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .plan import DEFAULT_ROLES, SpeechPlan
from .structure import cn_number, cn_numeral, match_heading, match_item

_PREAMBLE = re.compile(
    r"^(好的|当然|以下是|下面是|根据您的要求|根据你的要求|按照您的要求|这是|为您|我为您|修改后|润色后|输出)[^\n]{0,40}[：:]\s*$"
)
_NOTE = re.compile(r"^[（(]?(注|说明|备注|提示)[：:]")
_MD = re.compile(r"(\*\*|__|`{1,3}|^#{1,6}\s*|^>\s*)", re.M)
_LIST_MARK = re.compile(r"^(?:(\d{1,2})[.、．)）]\s*|[（(](\d{1,2})[)）]\s*|第([一二三四五六七八九十])[，,、：:]\s*)")
_SENT = re.compile(r"(?<=[。！？!?；;])")

DEFAULT_HEADINGS = {
    "significance": "提高政治站位，深刻认识做好这项工作的重要意义",
    "tasks": "突出工作重点，推动各项任务落地见效",
    "guarantees": "切实加强组织领导，为各项工作提供坚强保障",
    "other": "统一思想，扎实做好各项工作",
}
ROLE_BY_PART = DEFAULT_ROLES
TRANSITION_END = "下面，我讲三点意见。"


def transition_end(count: str = "三") -> str:
    """The transition's last sentence for a speech of ``count`` points (三 / 四 / 两)."""
    return f"下面，我讲{count}点意见。"
CLOSING_CALL = "让我们凝心聚力、奋发有为，为_作出新的更大贡献！"


@dataclass
class Repaired:
    text: str
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def clean_lines(reply: str) -> list[str]:
    """Strip markdown, chatter before and after, and blank lines."""
    text = reply.replace("\r\n", "\n")
    text = re.sub(r"^```[a-z]*\s*$", "", text, flags=re.M)
    lines = []
    for raw in text.split("\n"):
        line = raw.strip().strip("\u3000")
        if not line:
            continue
        heading = match_heading(line)
        line = _MD.sub("", line).strip()
        if heading is None and line.startswith("- "):
            line = line[2:].strip()
        if not line or _PREAMBLE.match(line) or _NOTE.match(line):
            continue
        lines.append(line)
    # drop a closing pleasantry like 「希望这段讲话稿对您有帮助」
    while lines and re.search(r"(希望|如需|如果需要|可以根据).{0,20}(帮助|修改|调整)", lines[-1]):
        lines.pop()
    return lines


def _normalize_items(lines: list[str]) -> tuple[list[str], bool]:
    """Turn 1. / （1） / 第一， list markers into 一是/二是/三是; returns (lines, changed)."""
    out, n, changed = [], 0, False
    for line in lines:
        m = _LIST_MARK.match(line)
        if m:
            n += 1
            body = line[m.end():].lstrip("，,：: ")
            out.append(f"{cn_numeral(n)}是{body}")
            changed = True
        else:
            out.append(line)
    return out, changed


def _renumber_items(lines: list[str]) -> tuple[list[str], bool]:
    """Number 一是/二是 items in order, whatever the model wrote."""
    out, n, changed = [], 0, False
    for line in lines:
        m = match_item(line)
        if m and m[1] == "shi":
            n += 1
            fixed = cn_numeral(n) + "是" + line[len(m[0]):]
            changed |= fixed != line
            out.append(fixed)
        else:
            out.append(line)
    return out, changed


def _split_into_items(paragraphs: list[str], want: int = 3) -> list[str]:
    """A tasks part without items: keep the first paragraph as intro, make the rest 一是/二是/三是."""
    if len(paragraphs) >= want + 1:
        intro, rest = paragraphs[:1], paragraphs[1:]
    elif len(paragraphs) >= want:
        intro, rest = [], paragraphs
    else:
        sentences = [s for s in _SENT.split("".join(paragraphs)) if s.strip()]
        if len(sentences) < want + 1:
            return paragraphs
        intro = [sentences[0]]
        body = sentences[1:]
        size = -(-len(body) // want)
        rest = ["".join(body[i : i + size]) for i in range(0, len(body), size)]
    items = [f"{cn_numeral(i)}是{re.sub(r'^(首先|其次|再次|最后|另外|此外|同时)[，,]', '', p)}" for i, p in enumerate(rest, 1)]
    return intro + items


def repair_part(reply: str, number: int, *, heading: str | None = None, role: str | None = None,
                item_style: str = "shi") -> Repaired:
    """A drafted part: exactly one heading ``{numeral}、…`` first, then the body; items for a tasks part.
    ``item_style``: how the plan marks this part's items; 首先/其次 lines count as items only in an "order" part."""
    role = role or ROLE_BY_PART.get(number, "other")
    notes: list[str] = []
    lines = clean_lines(reply)
    if not lines:
        return Repaired("", error="模型没有返回内容。原文未改动，请重试或换个说法。")
    numeral = cn_numeral(number)
    head_idx = [i for i, l in enumerate(lines) if match_heading(l)]
    model_heading = None
    if head_idx:
        first = head_idx[0]
        if first > 2:  # a heading deep inside: text before it is chatter or another part
            notes.append("删去了标题前多余的内容")
        model_heading = match_heading(lines[first])[1]  # type: ignore[index]
        if len(head_idx) > 1:
            notes.append("模型多写了其他部分，已只保留所要求的这一部分")
        lines = lines[first + 1 : head_idx[1] if len(head_idx) > 1 else None]
    else:
        # a short first line without a full stop reads as a heading the model forgot to number
        if lines and len(lines[0]) <= 30 and not re.search(r"[。！？]$", lines[0]) and len(lines) > 1:
            model_heading = lines[0].rstrip("：:")
            lines = lines[1:]
    chosen = heading or model_heading or DEFAULT_HEADINGS.get(role, DEFAULT_HEADINGS["other"])
    chosen = re.sub(r"^[一二三四五六七八九十]+、", "", chosen).strip().rstrip("。")
    if not model_heading and not heading:
        notes.append("模型没有写标题，已补上默认标题，可修改")
    if not lines:
        return Repaired("", error="模型只返回了标题，没有正文。原文未改动，请重试。")
    lines, changed = _normalize_items(lines)
    if changed:
        notes.append("把数字编号改成了“一是、二是……”")
    if role == "tasks":
        kinds = ("shi", "paren", "order") if item_style == "order" else ("shi", "paren")
        has_items = sum(1 for l in lines if (m := match_item(l)) and m[1] in kinds)
        if has_items == 0:
            new = _split_into_items(lines)
            if new != lines:
                notes.append("任务部分没有分条，已按段落分为“一是、二是……”")
            lines = new
        lines, changed = _renumber_items(lines)
        if changed:
            notes.append("条目序号已按顺序重排")
    return Repaired("\n".join([f"{numeral}、{chosen}"] + lines), notes)


def _no_headings(lines: list[str], what: str, notes: list[str]) -> list[str]:
    idx = next((i for i, l in enumerate(lines) if match_heading(l)), None)
    if idx is not None:
        notes.append(f"{what}里不应有“一、”等标题，已删去后面的内容")
        lines = lines[:idx]
    return lines


def _drop_title_line(lines: list[str], notes: list[str]) -> list[str]:
    """A short first line without punctuation is a title the model added (「在……上的讲话·开场白」)."""
    if (len(lines) > 1 and len(lines[0]) <= 40 and not re.search(r"[。，；！？,;!?]", lines[0])
            and not lines[0].endswith(("：", ":"))):  # 同志们： is the salutation, not a title
        notes.append("删去了模型加的标题行")
        return lines[1:]
    return lines


def repair_opening(reply: str) -> Repaired:
    notes: list[str] = []
    lines = _drop_title_line(_no_headings(clean_lines(reply), "开场白", notes), notes)
    # the transition belongs to its own section
    cut = next((i for i, l in enumerate(lines) if i > 0 and (l.startswith("刚才") or "下面，我讲" in l)), None)
    if cut is not None:
        lines = lines[:cut]
        notes.append("开场白后面的过渡语已删去（过渡语单独起草）")
    if not lines:
        return Repaired("", error="模型没有返回开场白内容。原文未改动，请重试。")
    return Repaired("\n".join(lines), notes)


def repair_transition(reply: str, count: str = "三") -> Repaired:
    """``count``: how many points the speech makes (its plan's parts), for the sentence added when none leads in."""
    notes: list[str] = []
    lines = _no_headings(clean_lines(reply), "过渡语", notes)
    if not lines:
        return Repaired("", error="模型没有返回过渡语。原文未改动，请重试。")
    text = "".join(lines)
    if not text.startswith("刚才"):
        text = "刚才，" + text.lstrip("，,")
        notes.append("过渡语补上了“刚才”")
    m = re.search(r"下面[，,]?\s*我[^。]*?(讲|谈|强调|提)[^。]*?(意见|几点|[一二两三四五六七八九十]点)[^。]*。?", text)
    if m:
        text = text[: m.end()]
        if not text.endswith("。"):
            text += "。"
    else:
        end = transition_end(count)
        text = text.rstrip("。") + "。" + end
        notes.append(f"补上了“{end}”")
    return Repaired(text, notes)


# lines that open a speech (salutation, welcome, congratulations on the meeting): a small model often starts a
# closing with them
_OPENING_LINE = re.compile(r"^(尊敬的|各位[^，,。]{0,12}[，,：:]?\s*(女士们|大家好))|大家好|齐聚一堂|隆重(召开|开幕)|胜利召开|在此，我代表")


def repair_closing(reply: str) -> Repaired:
    notes: list[str] = []
    lines = _drop_title_line(_no_headings(clean_lines(reply), "结尾", notes), notes)
    lead = 0
    while lead < len(lines) and _OPENING_LINE.search(lines[lead]):
        lead += 1
    if lead:
        lines = lines[lead:]
        notes.append("结尾开头的问候、祝贺开会等开场白内容已删去")
    if not lines:
        return Repaired("", error="模型写成了开场白，没有结尾内容。原文未改动，请重试。")
    if not any("让我们" in l for l in lines):
        lines.append(CLOSING_CALL)
        notes.append("结尾缺少“让我们……”的号召，已补上一句（含待填空白）")
    return Repaired("\n".join(lines), notes)


def repair_outline(reply: str, parts: int | None = None, *, plan: SpeechPlan | None = None
                   ) -> tuple[dict[int, str], dict[int, list[str]], list[str]]:
    """Outline reply → (headings, items, notes); as many parts as the plan has (a four-part reply keeps its
    四、 when the plan has four; a part beyond the plan is dropped); missing parts get default headings."""
    plan = plan or SpeechPlan.default()
    parts = parts or plan.count
    notes: list[str] = []
    headings: dict[int, str] = {}
    items: dict[int, list[str]] = {}
    current = None
    lines, _ = _normalize_items(clean_lines(reply))
    for line in lines:
        h = match_heading(line)
        if h:
            n = cn_number(h[0])
            if 1 <= n <= parts and n not in headings:
                current = n
                headings[n] = h[1]
                continue
            current = None
            continue
        m = match_item(line)
        if m and current:
            text = line[len(m[0]):].strip("，,：: ")
            items.setdefault(current, []).append(text.rstrip("。；;"))
    for n in range(1, parts + 1):
        if n not in headings:
            headings[n] = DEFAULT_HEADINGS.get(plan.role(n), DEFAULT_HEADINGS["other"])
            notes.append(f"提纲缺少第{cn_numeral(n)}部分，已补默认标题")
    for n in [k for k in plan.tasks_parts() if k <= parts][:1]:
        if not items.get(n):
            notes.append(f"第{cn_numeral(n)}部分还没有分条任务，可以说“第{cn_numeral(n)}部分加一条……”")
    return headings, items, notes


def check_refined(original: str, refined: str) -> str | None:
    """Why a refined text must be refused (structure lost), or None when it keeps the structure."""
    o_head = [match_heading(l) for l in original.split("\n") if match_heading(l)]
    r_head = [match_heading(l) for l in refined.split("\n") if match_heading(l)]
    if o_head and [h[0] for h in o_head] != [h[0] for h in r_head]:
        return "修改稿丢失或改动了标题行"
    o_items = [m[0] for l in original.split("\n") if (m := match_item(l))]
    r_items = [m[0] for l in refined.split("\n") if (m := match_item(l))]
    if o_items and o_items != r_items:
        missing = [i for i in o_items if i not in r_items]
        if missing:
            return f"修改稿丢失了“{missing[0]}”条目"
        return "修改稿的条目顺序或数量变了"
    return None
