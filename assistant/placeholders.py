"""Placeholders ("blanks") in a speech: detection, the ledger, filling by conversation.

A draft may contain blanks the user has to fill (“_”规划, XX同志, 【待补充】 …).
This module finds them, keeps them in a :class:`Ledger` (open → proposed →
confirmed), understands fill requests in the conversation (:func:`parse_fill`),
applies remembered values to later drafts (:meth:`Ledger.apply`) and guards the
promise that drafts never invent names, dates, numbers or titles
(:func:`find_invented` / :func:`blank_out`).

Conventions recognised as blanks: ``_`` ``__`` ``＿`` ``X`` ``XX`` ``XXX`` ``××``
``○○`` ``□□`` ``【…】`` ``[…]`` ``{…}`` ``（待补充）`` ``某某`` and date templates
(``X年X月X日``, ``20XX年``, ``某年某月某日``).  A single ``某`` counts as a blank
only before a noun that names a person or an organisation (某同志, 某单位, 某区,
某县, 某市, 某镇, 某乡, 某村, 某街道, 某社区, 某公司, 某企业, 某集团, 某部门):
in a speech such a phrase is always a stand-in, while 某些/某种/某个/某一/某区域
are ordinary words and stay untouched.  Latin words (XML, XXL) are not blanks.

The matching key (:func:`blank_key`) decides which blanks take the same value:

- a date template → ``日期`` (all date blanks are one group);
- a quoted blank → the quotes and the word after them: ``“_”规划``, ``“_”目标``
  (the same quoted name means the same thing wherever it appears);
- a person before 同志 → the title before it, else the verb after it:
  ``主席_同志``, ``_同志代表`` (two different people never share a key);
- any other blank → the word before and the word after: ``以_为``, ``投资_亿元``.

Pure Python; nothing is read or written at import time.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import asdict, dataclass, field
from typing import Iterable

from .structure import cn_number, cn_numeral

# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

KINDS = ("规划名称", "目标名称", "时期", "会议名称", "人名", "领导人", "职务", "日期", "数字", "机构名", "其他")
STATUSES = ("open", "proposed", "confirmed")
STATUS_LABELS = {"open": "待填", "proposed": "待确认", "confirmed": "已确认"}

CONTEXT_CHARS = 12  # characters of context kept on either side of a blank
MAX_VALUE_CHARS = 50

OPEN_QUOTES = "“\"「『‘'《"
CLOSE_QUOTES = "”\"」』’'》"
_QUOTE_PAIRS = {"“": "”", '"': '"', "「": "」", "『": "』", "‘": "’", "'": "'", "《": "》"}

# Words that may follow a blank and name what it is (longest first when matched).
_RIGHT_HEADS = sorted(
    (
        "这五年", "这几年", "新征程", "时期", "期间", "以来", "开局", "收官",
        "规划", "纲要", "计划", "目标", "任务", "工程", "行动", "战略", "精神", "思想",
        "同志为核心", "为核心", "为", "同志", "主席", "书记", "主任",
        "会议", "大会", "全会", "论坛", "座谈会",
        "亿元", "万元", "万人", "元", "%", "％", "个", "项", "名", "人", "家", "座", "次", "届",
        "年", "月", "日", "公司", "单位", "部门", "街道", "社区", "区", "县", "市", "镇", "乡", "村",
    ),
    key=len,
    reverse=True,
)
# Titles that may stand right before a name: 区总工会主席XX同志.
TITLES = sorted(
    (
        "副巡视员", "巡视员", "董事长", "总经理", "副主席", "主席", "副书记", "书记", "副主任", "主任",
        "区长", "县长", "市长", "镇长", "乡长", "省长", "部长", "局长", "厅长", "处长", "科长",
        "校长", "院长", "所长", "站长", "经理", "委员", "常委", "组长", "队长", "代表",
    ),
    key=len,
    reverse=True,
)
# One-character prepositions: the word before a blank is just this character (在以_为 → 以_为).
_PREPOSITIONS = "以在由向对与和同给及把被为从经"

# Kind of a blank from the word after it.
_KIND_BY_HEAD = [
    ("规划名称", ("规划", "纲要", "计划")),
    ("目标名称", ("目标", "任务")),
    ("时期", ("这五年", "这几年", "时期", "期间", "以来", "新征程", "开局", "收官", "阶段", "发展", "末", "初")),
    ("会议名称", ("会议", "大会", "全会", "论坛", "座谈会", "报告会", "会")),
]
# Hints written inside a bracket blank: 【待补充：表彰人数】.
_KIND_BY_HINT = [
    ("日期", ("日期", "时间")),
    ("会议名称", ("会议",)),
    ("人名", ("姓名", "人名", "名字")),
    ("职务", ("职务", "职位")),
    ("机构名", ("单位", "机构", "部门", "公司")),
    ("数字", ("人数", "数量", "金额", "数字", "数据", "比例", "个数")),
]
_UNIT_AFTER = re.compile(r"(?:个|项|人|名|万|亿|千|百|%|％|元|座|家|次|届|条|处|户|所|倍|位|岁|天|吨|公里|千米|平方|亩|台|辆|件|场|批)")
_NUMBER_BEFORE = re.compile(r"(?:第|增长|下降|提高|降低|达到|达|完成|共|累计|约|超过|新增|减少)(?:至|到)?$")
_ORG_AFTER = re.compile(r"(?:公司|单位|部门|集团|企业|协会|学校|医院|中心|街道|社区|工会|妇联|团委|委员会|局|委|办|厅|区(?!域)|县|市|镇|乡|村)")
_JOB_BEFORE = re.compile(r"(?:担任|兼任|任|职务[:：]?)$")
_PERSON_AFTER = re.compile(r"(?:同志(?!们)|先生|女士|主席|书记|省长|市长|区长|县长|镇长|主任|部长|局长)")

# --------------------------------------------------------------------------
# Detection regexes
# --------------------------------------------------------------------------

_CJK = "\u4e00-\u9fff"

# One blank inside a date template: X, XX, __, ＿, 某, ○○, □□.
_DATE_BLANK = r"(?:[XＸx×]{1,4}|[_＿]{1,8}|某|○{1,4}|□{1,4})"
# A date written with blanks: X年X月X日, 2026年X月X日, 20XX年, X月X日, 某年某月某日.
_DATE_TEMPLATE = re.compile(
    rf"(?P<year>\d{{4}}|\d{{0,3}}{_DATE_BLANK})年(?:(?P<month>\d{{1,2}}|{_DATE_BLANK})月(?:(?P<day>\d{{1,2}}|{_DATE_BLANK})日)?)?"
    rf"|(?P<month2>\d{{1,2}}|{_DATE_BLANK})月(?P<day2>\d{{1,2}}|{_DATE_BLANK})日"
)
_HAS_DATE_BLANK = re.compile(r"[XＸx×_＿某○□]")

_BLANK_PATTERNS = [
    # 【待补充】, 【会议名称】, 【】: square lenticular brackets always mark a blank.
    ("lenticular", r"【[^【】\n]{0,30}】"),
    # [..] and {..}: only empty, an ellipsis, X/_ or Chinese inside ([1] and markdown links are not blanks).
    ("square", r"\[(?:\s*|…+|\.{3,}|[^\[\]\n]{0,20}?[%s_X…][^\[\]\n]{0,20}?)\](?!\()" % _CJK),
    ("brace", r"\{(?:\s*|…+|\.{3,}|[^{}\n]{0,20}?[%s_X…][^{}\n]{0,20}?)\}" % _CJK),
    # （待补充） （待定） （此处填写姓名）
    ("note", r"[（(]\s*(?:待补充|待定|待填写?|待确认|待核实|需补充|请补充|请填写|此处填写|填写)[^（）()\n]{0,16}?\s*[）)]"),
    # _ __ ＿＿ (not inside identifiers such as file_name)
    ("underscore", r"(?<![A-Za-z0-9_＿])[_＿]+(?![A-Za-z0-9_＿])"),
    # XX XXX ×× (not inside latin words: XML, XXL)
    ("x", r"(?<![A-Za-z])(?:[XＸ]{2,}|x{2,}|×{2,})(?![A-Za-z])"),
    # a single X next to Chinese: X同志, 第X次, 增长X% (not X光, X射线)
    ("x", r"(?:(?<=[%s])[XＸ]|(?<![A-Za-z])[XＸ](?=[%s%%％]))(?![A-Za-z]|光|射线)" % (_CJK, _CJK)),
    # ○○ □□ (not ○ used as a zero: 二○○八年)
    ("circle", r"(?<![一二三四五六七八九十〇零○])[○□]{2,}(?![一二三四五六七八九十〇零○])"),
    # 某某, and 某 before a person or organisation noun (某同志, 某镇); not 某些/某种/某区域.
    ("mou", r"某{2,}|某(?=同志|单位|部门|公司|企业|集团|街道|社区|县|市|镇|乡|村|区(?!域|别|分))"),
]
_BLANK = re.compile("|".join(f"(?P<{name}{i}>{rx})" for i, (name, rx) in enumerate(_BLANK_PATTERNS)))
# A blank as users type it in a chat message (lower-case xx too): 「“_”规划是十五五」「xx同志是王惠兰」.
TYPED_BLANK = r"[_＿]+|xx+|××+|某某|〇〇|○○"


@dataclass
class Blank:
    """A blank found in a text."""

    text: str  # as written: _, XX, 【待补充】 …
    start: int
    end: int
    convention: str  # date / lenticular / square / brace / note / underscore / x / circle / mou


def has_blank(text: str) -> bool:
    """Whether ``text`` holds a blank of any convention above."""
    return bool(find_blanks(text))


def find_blanks(text: str) -> list[Blank]:
    """All blanks in ``text``, in document order."""
    found: list[Blank] = []
    taken: list[tuple[int, int]] = []
    for m in _DATE_TEMPLATE.finditer(text):
        if _is_date_template(m):
            found.append(Blank(m.group(0), m.start(), m.end(), "date"))
            taken.append(m.span())
    for m in _BLANK.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        convention = re.sub(r"\d+$", "", m.lastgroup or "")
        found.append(Blank(m.group(0), m.start(), m.end(), convention))
    return sorted(found, key=lambda b: b.start)


def _is_date_template(m: re.Match) -> bool:
    if not _HAS_DATE_BLANK.search(m.group(0)):
        return False
    year = m.group("year")
    if year is not None and m.group("month") is None:
        # a year alone is a date blank only when it reads as a year: 20XX年, XXXX年, ____年
        blank = re.sub(r"^\d+", "", year)
        return year[0].isdigit() or len(blank) >= 4
    return True


def has_blank(text: str) -> bool:
    return bool(find_blanks(text))


detect = find_blanks  # the name the session uses


def placeholder_json(text: str) -> list[dict]:
    """The blanks of a text as plain dicts (for ``check --json``)."""
    return [
        {"id": e.id, "text": e.text, "label": e.label, "kind": e.kind, "key": e.key,
         "context": e.context, "start": e.start, "end": e.end}
        for e in Ledger.from_text(text).listed()
    ]


# --------------------------------------------------------------------------
# Context, kind, key
# --------------------------------------------------------------------------


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    """(before, after): up to CONTEXT_CHARS either side, not crossing a line break."""
    before = text[max(0, start - CONTEXT_CHARS) : start].rsplit("\n", 1)[-1]
    after = text[end : end + CONTEXT_CHARS].split("\n", 1)[0]
    return before, after


def _quoted(before: str, after: str) -> bool:
    return bool(before) and bool(after) and before[-1] in _QUOTE_PAIRS and after[0] == _QUOTE_PAIRS[before[-1]]


def _head_after(s: str) -> str:
    """The word right after a blank (vocabulary first, else up to two Chinese characters)."""
    for w in _RIGHT_HEADS:
        if s.startswith(w):
            return w
    m = re.match(rf"[{_CJK}]{{1,2}}", s)
    return m.group(0) if m else ""


def _head_before(s: str) -> str:
    """The word right before a blank: a title, a one-character preposition, or two characters."""
    for w in TITLES:
        if s.endswith(w):
            return w
    if s and s[-1] in _PREPOSITIONS:
        return s[-1]
    m = re.search(rf"[{_CJK}]{{1,2}}$", s)
    return m.group(0) if m else ""


def _person_verb(after: str) -> str:
    """For XX同志代表…: the two characters after 同志 (代表)."""
    m = re.match(rf"同志([{_CJK}]{{1,2}})", after)
    return m.group(1) if m else ""


def infer_kind(text: str, before: str, after: str, convention: str = "") -> str:
    """What a blank stands for, from its own hint and its context."""
    if convention == "date":
        return "日期"
    inner = text.strip("【】[]{}（）()")
    for kind, hints in _KIND_BY_HINT:
        if any(h in inner for h in hints):
            return kind
    quoted = _quoted(before, after)
    a = after[1:] if quoted else after
    if before.endswith("以") and (a.startswith("为") or a.startswith("同志为核心")):
        return "领导人"
    if not quoted and _PERSON_AFTER.match(a):
        return "人名"
    if not quoted and any(before.endswith(t) for t in TITLES) and re.match(r"[和、，,与及同]", a):
        return "人名"
    head = _head_after(a)
    for kind, heads in _KIND_BY_HEAD:
        if any(head.startswith(h) or a.startswith(h) for h in heads):
            return kind
    if _JOB_BEFORE.search(before) or a.startswith("职务"):
        return "职务"
    if re.match(r"年(?:来|间|内|多)", a):  # X年来: a number of years
        return "数字"
    if re.match(r"[年月日]", a):
        return "日期"
    if _NUMBER_BEFORE.search(before) or _UNIT_AFTER.match(a):
        return "数字"
    if _ORG_AFTER.match(a):
        return "机构名"
    return "其他"


def _key(text: str, before: str, after: str, convention: str) -> str:
    if convention == "date":
        return "日期"
    if _quoted(before, after):
        return f"“_”{_head_after(after[1:])}"
    left, right = _head_before(before), _head_after(after)
    if right == "同志" and left not in TITLES:
        return f"_同志{_person_verb(after)}"
    return f"{left}_{right}"


def blank_key(entry: "Entry") -> str:
    """The matching key: blanks with equal keys take the same value (see the module doc)."""
    return _key(entry.text, entry.before, entry.after, entry.convention)


# --------------------------------------------------------------------------
# Ledger
# --------------------------------------------------------------------------


class BadValue(ValueError):
    """A fill value that cannot go into a draft; ``str(err)`` is a Chinese message for the user."""


# What a label shows after a blank: up to five characters of the same clause.
_LABEL_TAIL = re.compile(r"[^，。；：！？、,.;:!?\s“”\"「」]{0,5}")


@dataclass
class Entry:
    id: str
    text: str  # the blank as written
    before: str
    after: str
    kind: str
    key: str
    convention: str = ""
    status: str = "open"
    value: str = ""
    reason: str = ""  # why a value was proposed
    start: int = 0  # offsets in the ledger's current text
    end: int = 0
    in_text: bool = True  # False once the blank has been filled in the document

    @property
    def context(self) -> str:
        return f"{self.before}{self.text}{self.after}"

    @property
    def label(self) -> str:
        """Short name of the blank for messages: “_”规划, 以_为的党中央, XX同志代表."""
        if _quoted(self.before, self.after):
            return f"{self.before[-1]}{self.text}{self.after[0]}{_head_after(self.after[1:])}"
        if self.convention == "date":
            return self.text
        if self.after.startswith("同志"):
            return f"{_head_before(self.before)}{self.text}同志{_person_verb(self.after)}"
        tail = _LABEL_TAIL.match(self.after).group(0)  # type: ignore[union-attr]
        nxt = find_blanks(tail)
        tail = tail[: nxt[0].start] if nxt else tail
        return f"{_head_before(self.before)}{self.text}{tail}"


@dataclass
class Filled:
    """The value remembered for one key (for the rest of the session)."""

    value: str = ""
    status: str = "open"
    reason: str = ""
    rejected: list[str] = field(default_factory=list)


@dataclass
class Change:
    """One blank filled by :meth:`Ledger.apply`."""

    id: str  # ledger entry with the same key ("" when the ledger has none)
    key: str
    blank: str
    value: str  # the text that replaced the blank (and a swallowed 为)
    start: int  # span of the replaced text in the input text
    end: int
    new_start: int  # where the value starts in the output text
    context: str

    @property
    def offset(self) -> int:
        """Where the filled value now stands (for locating the section it is in)."""
        return self.new_start


@dataclass
class Ledger:
    entries: dict[str, Entry] = field(default_factory=dict)
    values: dict[str, Filled] = field(default_factory=dict)  # by key
    facts: dict[str, str] = field(default_factory=dict)  # named mentions: 惠兰同志 → 区总工会主席王惠兰
    text: str = ""
    next_number: int = 1

    @classmethod
    def from_text(cls, text: str) -> "Ledger":
        ledger = cls()
        ledger.refresh(text)
        return ledger

    # --- detection ----------------------------------------------------------

    def refresh(self, text: str) -> list[Entry]:
        """Re-detect the blanks of a new version of the document.

        A blank keeps the id of an earlier entry with the same key (first come,
        first served) and takes the value remembered for its key.  Entries whose
        blank is gone stay in the ledger (``in_text=False``) when they carry a
        value, so the table still shows what was filled.
        """
        old = sorted(self.entries.values(), key=lambda e: (not e.in_text, e.start))
        used: set[str] = set()
        fresh: dict[str, Entry] = {}
        for b in find_blanks(text):
            before, after = _context(text, b.start, b.end)
            key = _key(b.text, before, after, b.convention)
            prev = next((e for e in old if e.key == key and e.id not in used), None)
            if prev:
                eid = prev.id
            else:
                eid = f"p{self.next_number}"
                self.next_number += 1
            used.add(eid)
            kind = infer_kind(b.text, before, after, b.convention)
            fresh[eid] = Entry(eid, b.text, before, after, kind, key, b.convention, start=b.start, end=b.end)
        for e in old:
            if e.id not in used and self.values.get(e.key, Filled()).status != "open":
                e.in_text = False
                fresh[e.id] = e
        self.entries = fresh
        self.text = text
        self._sync()
        return self.listed()

    def _sync(self) -> None:
        for e in self.entries.values():
            f = self.values.get(e.key, Filled())
            e.status, e.value, e.reason = f.status, f.value, f.reason

    # --- views --------------------------------------------------------------

    def listed(self) -> list[Entry]:
        """Blanks present in the document, in document order (numbered 1, 2 … in messages)."""
        return sorted((e for e in self.entries.values() if e.in_text), key=lambda e: e.start)

    def open_entries(self) -> list[Entry]:
        return [e for e in self.listed() if e.status == "open"]

    @property
    def open_count(self) -> int:
        return len(self.open_entries())

    def group(self, key: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.key == key]

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for e in self.listed() + [e for e in self.entries.values() if not e.in_text]:
            seen.setdefault(e.key, None)
        return list(seen)

    def value_of(self, key: str, include_proposed: bool = False) -> str:
        f = self.values.get(key)
        if f and (f.status == "confirmed" or (include_proposed and f.status == "proposed")):
            return f.value
        return ""

    def allowed_text(self) -> str:
        """Confirmed values and facts, for :func:`find_invented`'s ``allowed``."""
        confirmed = [f.value for f in self.values.values() if f.status == "confirmed"]
        facts = [f"{k}{v}" for k, v in self.facts.items()]
        return "\n".join(confirmed + facts)

    def to_rows(self) -> list[dict]:
        """Rows for the UI table."""
        return [
            {
                "id": e.id,
                "blank": e.label,
                "kind": e.kind,
                "status": e.status,
                "status_label": STATUS_LABELS[e.status],
                "value": e.value,
                "context": e.context,
            }
            for e in self.listed() + [e for e in self.entries.values() if not e.in_text]
        ]

    # --- changes ------------------------------------------------------------

    def fill(self, ids: Iterable[str], value: str, status: str = "confirmed", reason: str = "") -> list[Entry]:
        """Give ``value`` to the keys of ``ids``: every blank with one of those keys is filled.

        Raises :class:`BadValue` (ledger unchanged) for a value that cannot go into a draft
        and ``KeyError`` for an unknown id.
        """
        if status not in STATUSES or status == "open":
            raise ValueError(f"unknown status {status!r}")
        ids = list(ids)
        for i in ids:
            if i not in self.entries:
                raise KeyError(i)
        value = value.strip()
        problem = value_problem(value)
        if problem:
            raise BadValue(problem)
        keys = {self.entries[i].key for i in ids}
        for k in keys:
            f = self.values.setdefault(k, Filled())
            f.value, f.status, f.reason = value, status, reason
        self._sync()
        return [e for e in self.entries.values() if e.key in keys]

    def propose(self, key: str, value: str, reason: str) -> bool:
        """Suggest a value (status proposed); never overrides a confirmed or rejected value."""
        f = self.values.get(key, Filled())
        if f.status == "confirmed" or value in f.rejected or value_problem(value):
            return False
        f.value, f.status, f.reason = value, "proposed", reason
        self.values[key] = f
        self._sync()
        return True

    def confirm(self, entry_id: str) -> Entry:
        e = self.entries[entry_id]
        f = self.values.get(e.key)
        if not f or not f.value:
            raise BadValue(f"{e.label}还没有建议的内容，请直接告诉我要填什么。")
        f.status = "confirmed"
        self._sync()
        return e

    def reject(self, entry_id: str) -> Entry:
        """Drop the value of the entry's key; the blank is open again."""
        e = self.entries[entry_id]
        f = self.values.setdefault(e.key, Filled())
        if f.value:
            f.rejected.append(f.value)
        f.value, f.status, f.reason = "", "open", ""
        self._sync()
        return e

    def accept(self, request: "FillRequest") -> list[Entry]:
        """Carry out a :class:`FillRequest` from :func:`parse_fill`."""
        if request.how == "mention":
            problem = value_problem(request.value)
            if problem:
                raise BadValue(problem)
            self.facts[request.target] = request.value
            return []
        return self.fill(request.ids, request.value)

    def apply(self, text: str, include_proposed: bool = False) -> tuple[str, list[Change]]:
        """Fill every remembered value into every blank of ``text`` with the same key."""
        out: list[str] = []
        changes: list[Change] = []
        pos = 0
        length = 0
        for b in find_blanks(text):
            if b.start < pos:  # the previous fill swallowed this one's start
                continue
            before, after = _context(text, b.start, b.end)
            key = _key(b.text, before, after, b.convention)
            value = self.value_of(key, include_proposed)
            if not value:
                continue
            fitted, swallow = fit_value(value, b.text, before, after)
            out.append(text[pos : b.start])
            length += b.start - pos
            eid = next((e.id for e in self.group(key)), "")
            end = b.end + swallow
            changes.append(Change(eid, key, b.text, fitted, b.start, end, length, before + b.text + after))
            out.append(fitted)
            length += len(fitted)
            pos = end
        out.append(text[pos:])
        return "".join(out), changes

    # --- persistence --------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "version": 1,
            "text": self.text,
            "next_number": self.next_number,
            "entries": [asdict(e) for e in self.entries.values()],
            "values": {k: asdict(f) for k, f in self.values.items()},
            "facts": dict(self.facts),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Ledger":
        entries = {d["id"]: Entry(**d) for d in data.get("entries", [])}
        values = {k: Filled(**f) for k, f in data.get("values", {}).items()}
        numbers = [int(i[1:]) for i in entries if i[1:].isdigit()]
        next_number = max([data.get("next_number", 1)] + [n + 1 for n in numbers])
        return cls(entries, values, dict(data.get("facts", {})), data.get("text", ""), next_number)


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------

# Markup and control characters that must not reach a draft through a fill.
_MARKUP = re.compile(r"[<>{}\[\]`*#|\\]|&[a-z]+;")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_UNIT_CHARS = "个项人名万亿元%％座家次届处条户所位"


def value_problem(value: str) -> str:
    """A Chinese message when ``value`` cannot fill a blank, else ""."""
    if not value.strip():
        return "要填入的内容是空的，请告诉我具体填什么。"
    if _CONTROL.search(value):
        return "要填入的内容里有换行或控制字符，请只给一行文字。"
    if _MARKUP.search(value):
        return "要填入的内容里有标记或代码符号（如 < > [ ] * #），请只给纯文字。"
    if len(value) > MAX_VALUE_CHARS:
        return f"要填入的内容太长（{len(value)}字），请控制在{MAX_VALUE_CHARS}字以内。"
    inner = find_blanks(value)
    if inner:
        return f"要填入的内容里还有空（“{inner[0].text}”），请给出确定的内容。"
    return ""


validate_value = value_problem  # the name the session's ledger panel uses


def _strip_quotes(value: str) -> str:
    while len(value) >= 2 and value[0] in OPEN_QUOTES and value[-1] in CLOSE_QUOTES:
        value = value[1:-1].strip()
    return value


def fit_value(value: str, blank: str, before: str, after: str) -> tuple[str, int]:
    """(text to put in place of the blank, characters after the blank to replace as well).

    Words the value repeats from the context are dropped, so nothing is doubled:
    “_”规划 + “十四五”规划 → 十四五; XX同志 + 王惠兰同志 → 王惠兰; 以_为 + 以习近平… → 习近平….
    A value that itself contains 为 replaces the 为 after the blank too:
    以_为的党中央 + 习近平同志为核心 → 以习近平同志为核心的党中央.
    """
    value = _strip_quotes(value.strip())
    quoted = _quoted(before, after)
    a = after[1:] if quoted else after
    # right overlap: the value ends with the words that follow the blank
    for k in range(min(len(a), len(value) - 1), 0, -1):
        if value.endswith(a[:k]) and (k >= 2 or a[0] in _UNIT_CHARS):
            value = value[:-k]
            break
    if quoted:  # the blank's own quotes stay in the text: “十四五” → 十四五
        value = value.lstrip(OPEN_QUOTES).rstrip(CLOSE_QUOTES)
    # left overlap: the value starts with the words before the blank
    b = before[:-1] if quoted else before
    for k in range(min(len(b), len(value) - 1), 0, -1):
        if value.startswith(b[-k:]) and (k >= 2 or b[-1] in _PREPOSITIONS):
            value = value[k:]
            break
    # a date template with a written year keeps it: 2026年X月X日 + 3月15日
    m = re.match(r"\d{4}年", blank)
    if m and "年" not in value:
        value = m.group(0) + value
    swallow = 1 if not quoted and after.startswith("为") and "为" in value[1:] else 0
    return value, swallow


# --------------------------------------------------------------------------
# Filling by conversation
# --------------------------------------------------------------------------


@dataclass
class FillRequest:
    """The user filled one group of blanks."""

    ids: tuple[str, ...]
    key: str
    value: str
    how: str  # template / word / ordinal / id / kind / generic / mention
    target: str  # the user's words for the blank


@dataclass
class FillProblem:
    """The message was a fill request that cannot be carried out; ``message`` is for the user."""

    message: str
    reason: str  # ambiguous / not_found / bad_value / several
    candidates: tuple[str, ...] = ()  # entry ids (one per key group) the user can choose from


# Separators between the blank and the value: “_”规划是十四五, 第一个空填十三五, p3：十三五.
_FILL_SEPARATOR = re.compile(
    r"应该填成?|应该是|应填|应是|就填|就是|填成|填为|填上|填入|填写|填|改成|改为|换成|写成|写为|是|[：:=＝→]"
)
# 用十四五填“_”规划 / 把十四五填到“_”规划里
# After an explicit blank a comma or a space is enough: “_”规划，十四五 / 第一个空 十三五
_WEAK_SEPARATOR = re.compile(r"[，,\s]+")
_REVERSE_FILL = re.compile(r"^(?:用|把|将)(?P<value>.+?)(?:填到|填进|填入|填在|填)(?P<target>.+)$")
_POLITE_PREFIX = re.compile(r"^(?:请你?|麻烦你?|帮我|帮忙|你|就|再)*(?:把|将|在)?")
# 那个空 / 这个空 / 的空 / 处 / 那里 … after the blank's name
_SPACE_MARKER = re.compile(r"(?:(?:那个|这个|那一个|这一个|的)?(?:空白|空格|空)|(?:那|这)(?:里|儿|处)|的位置|位置|处)$")
_TRAILING_WORDS = re.compile(r"(?:里|中|上|就|应该|应|要|请|都)$")
_ORDINAL = re.compile(
    r"^(?:第(?P<n>[一二三四五六七八九十两\d]+)(?:个|处)?(?:空白|空格|空|处)?|(?:空白|空格|空)(?P<n2>\d+)|(?P<n3>\d+)号空"
    r"|(?P<last>最后|最末)一?(?:个|处)?(?:空白|空格|空|处)?)$"
)
_ENTRY_ID = re.compile(r"^[pP](\d+)$")
_MENTION = re.compile(rf"^[{_CJK}]{{2,3}}同志$")
# Words that name a kind of blank: 日期是…, 会议名称是…, 主讲人是….
KIND_ALIASES: dict[str, tuple[str, ...]] = {
    "日期": ("日期",), "时间": ("日期",), "会议日期": ("日期",), "会议时间": ("日期",), "讲话日期": ("日期",),
    "会议名称": ("会议名称",), "会议": ("会议名称",), "大会名称": ("会议名称",), "会名": ("会议名称",),
    "人名": ("人名", "领导人"), "姓名": ("人名", "领导人"), "名字": ("人名", "领导人"),
    "主讲人": ("人名",), "讲话人": ("人名",), "发言人": ("人名",), "报告人": ("人名",),
    "领导人": ("领导人",), "领导": ("领导人",), "党中央": ("领导人",),
    "职务": ("职务",), "职位": ("职务",),
    "单位": ("机构名",), "机构": ("机构名",), "单位名称": ("机构名",), "机构名称": ("机构名",),
    "规划名称": ("规划名称",), "目标名称": ("目标名称",),
}
_SENTENCE_END = "。！!？?～~；;，, \u3000"


def _norm(s: str) -> str:
    """Context for comparison: every quote is ", every blank is _."""
    s = re.sub(f"[{re.escape(OPEN_QUOTES + CLOSE_QUOTES)}]", '"', s)
    out, pos = [], 0
    for b in find_blanks(s):
        out.append(s[pos : b.start] + "_")
        pos = b.end
    return "".join(out) + s[pos:]


def _clean_value(raw: str) -> str:
    value = raw.strip().lstrip("：:=＝→").strip(_SENTENCE_END)
    value = re.sub(r"(?:吧|啊|呀|哦|呢|就行|即可|就好|就可以)$", "", value).strip(_SENTENCE_END)
    value = re.sub(r"^(?:成|为|上|入)(?=[“\"「])", "", value)
    return _strip_quotes(value)


def _listing(entries: list[Entry], numbering: list[Entry]) -> str:
    return " ".join(f"{numbering.index(e) + 1}.{e.label}" for e in entries)


def _groups(entries: Iterable[Entry]) -> list[Entry]:
    """One entry (the first) per key."""
    seen: dict[str, Entry] = {}
    for e in entries:
        seen.setdefault(e.key, e)
    return list(seen.values())


def _resolve(target: str, entries: list[Entry], ledger: Ledger, name: str) -> FillRequest | FillProblem:
    """One key group out of the matching entries, or the problem."""
    listed = ledger.listed()
    groups = _groups(entries)
    if not groups:
        if listed:
            return FillProblem(
                f"没有找到{name}这个空。目前的空有：{_listing(_groups(listed), listed)}",
                "not_found",
                tuple(e.id for e in _groups(listed)),
            )
        return FillProblem(f"没有找到{name}这个空，文中目前没有待填的空。", "not_found")
    if len(groups) > 1:
        shown = [g for g in groups if g in listed]
        numbering = listed if len(shown) == len(groups) else listed + [g for g in groups if g not in listed]
        return FillProblem(
            f"{name}指哪一个？目前有：{_listing(groups, numbering)}。请说“第几个空填……”。",
            "ambiguous",
            tuple(g.id for g in groups),
        )
    key = groups[0].key
    return FillRequest(tuple(e.id for e in ledger.group(key)), key, "", "", target)


def _match_template(template: str, ledger: Ledger) -> list[Entry]:
    """Entries whose context matches a template written with a blank: “_”规划, 以_为的党中央."""
    norm = _norm(template)
    left, _, right = norm.partition("_")
    left, right = left[-CONTEXT_CHARS:], right[:CONTEXT_CHARS]
    pool = ledger.listed() or list(ledger.entries.values())

    def fits(e: Entry, strip_quotes: bool) -> bool:
        b, a, lt, rt = _norm(e.before), _norm(e.after), left, right
        if strip_quotes:
            b, a, lt, rt = (x.replace('"', "") for x in (b, a, lt, rt))
        return b.endswith(lt) and a.startswith(rt)

    return [e for e in pool if fits(e, False)] or [e for e in pool if fits(e, True)]


def _match_word(word: str, ledger: Ledger) -> list[Entry]:
    """Entries named by a word of their context: 规划, 这五年, 党中央."""
    pool = ledger.listed()
    tiers = [
        lambda e: e.after.lstrip(CLOSE_QUOTES).startswith(word) or e.key.endswith(word),
        lambda e: e.before.rstrip(OPEN_QUOTES).endswith(word),
        lambda e: word in e.after[:8] or word in e.before[-6:],
    ]
    for tier in tiers:
        found = [e for e in pool if tier(e)]
        if found:
            return found
    return []


def _target(raw: str, ledger: Ledger, strict_verb: bool, weak: bool = False) -> tuple[str, FillRequest | FillProblem] | None:
    """(how, resolution) when ``raw`` names a blank; None when it does not look like one.

    ``strict_verb``: the separator was 填…, so a bare context word (规划) may name a blank;
    ``weak``: the separator was only a comma or a space, so only ids, ordinals and
    written blanks count.
    """
    target = raw.strip().strip(_SENTENCE_END)
    target = _POLITE_PREFIX.sub("", target).strip()
    marked = False
    for _ in range(3):
        stripped = _TRAILING_WORDS.sub("", _SPACE_MARKER.sub("", target)).strip(_SENTENCE_END)
        if stripped == target:
            break
        marked = marked or bool(_SPACE_MARKER.search(target))
        target = stripped
    listed = ledger.listed()

    m = _ENTRY_ID.match(target)
    if m:
        e = ledger.entries.get(f"p{m.group(1)}")
        return "id", _resolve(target, [e] if e else [], ledger, target)
    m = _ORDINAL.match(target)
    if m:
        if m.group("last"):
            chosen = listed[-1:]
        else:
            raw_n = m.group("n") or m.group("n2") or m.group("n3")
            n = int(raw_n) if raw_n.isdigit() else (2 if raw_n == "两" else cn_number(raw_n))
            chosen = listed[n - 1 : n] if n >= 1 else []
            if not chosen:
                shown = _listing(_groups(listed), listed) if listed else "无"
                return "ordinal", FillProblem(f"没有{target}空，文中目前有{len(listed)}个空：{shown}", "not_found")
        return "ordinal", _resolve(target, chosen, ledger, target)
    blanks = find_blanks(target)
    if len(blanks) > 1:
        return "template", FillProblem("请一次只填一个空，例如““_”规划是十四五”。", "several")
    if blanks:
        name = f"“{target}”" if target[0] not in OPEN_QUOTES else target
        return "template", _resolve(target, _match_template(target, ledger), ledger, name)
    if weak:
        return None
    if not target:
        if not marked:
            return None
        return "generic", _resolve("空", listed, ledger, "“空”")
    if target in KIND_ALIASES:
        kinds = KIND_ALIASES[target]
        return "kind", _resolve(target, [e for e in listed if e.kind in kinds], ledger, target)
    if _MENTION.match(target) and target in ledger.text:
        return "mention", FillRequest((), "", "", "mention", target)
    if re.fullmatch(rf"[{_CJK}]{{1,8}}", target) and (marked or strict_verb):
        found = _match_word(target, ledger)
        if found or marked:
            return "word", _resolve(target, found, ledger, f"“{target}”")
    return None


# A correction before a fill (不对，作工作报告的是王海涛同志): the fill is what follows (also used by intent routing)
CORRECTION_WORDS = "不对|不是|错了|说错了|更正一下|更正|纠正一下"

# A person named by what they did at the meeting: 作工作报告的是陈桂芳同志 / 工作报告是王海涛同志作的 /
# 刚才通报情况的是区城管局局长王志刚 → the XX同志 blank before that act (作了工作报告, 通报了…).
_ACTS = {"报告": r"作了?(?:工作)?报告|报告", "通报": r"通报", "主持": r"主持", "宣读": r"宣读", "发言": r"发言|讲话"}
_ACTS_SHORT = {"报告": r"作了?(?:工作)?报|报告"}  # a filled entry keeps only ~12 characters of context
_ROLE_FILL = [
    re.compile(r"^(?:刚才)?(?:作|做)了?(?:工作)?(?P<act>报告)(?:的)?(?:人)?(?:是|为)(?P<value>.+)$"),
    re.compile(r"^(?:刚才)?(?:工作)?(?P<act>报告)(?:是|由)(?P<value>.+?)(?:作|做)的?[。！!]?$"),
    re.compile(r"^(?:刚才)?(?P<act>通报|主持|宣读|发言)[^是]{0,6}?的(?:人)?(?:是|为)(?P<value>.+)$"),
    re.compile(r"^(?:刚才)?(?:是|由)?(?P<value>.+?)(?:同志)?(?P<act>通报|主持|宣读)的?[。！!]?$"),
]


def _role_fill(msg: str, ledger: Ledger) -> FillRequest | FillProblem | None:
    for rx in _ROLE_FILL:
        m = rx.match(msg)
        if not m:
            continue
        act = _ACTS[m.group("act")]
        value = re.sub(r"同志$", "", _clean_value(m.group("value"))).strip()
        pool = ledger.listed() or [e for e in ledger.entries.values() if e.in_text]
        hits = [e for e in pool if e.after.startswith("同志") and re.search(act, re.split(r"[。！？；]", ledger.text[e.end : e.end + 30])[0])]
        if not hits:
            # already filled: the user names someone else for the same act → change that value
            done = [e for e in ledger.entries.values() if not e.in_text and e.value and e.after.startswith("同志")
                    and re.search(_ACTS_SHORT.get(m.group("act"), act), e.after)]
            done = _groups(done)
            if len(done) == 1 and not value_problem(value):
                return FillRequest((done[0].id,), done[0].key, value, "refill", msg)
            return None
        problem = value_problem(value)
        if problem:
            return FillProblem(problem, "bad_value")
        req = _resolve(msg, hits, ledger, f"“{m.group('act')}人”")
        if isinstance(req, FillRequest):
            req.value, req.how = value, "role"
        return req
    return None


def parse_fill(message: str, ledger: Ledger) -> FillRequest | FillProblem | None:
    """Understand a fill request: “_”规划是十四五 / 第一个空填十三五 / 日期是2026年3月15日 ….

    None when the message is not about a blank; a :class:`FillRequest` for exactly one
    group of blanks; a :class:`FillProblem` when it is ambiguous, names no existing blank
    or the value is bad.
    """
    msg = message.strip()
    if not msg:
        return None
    msg = re.sub(rf"^(?:{CORRECTION_WORDS})[，,。：:！!\s]*", "", msg)
    msg = re.sub(r"^(?:那个|这个)?(?:空着的|空白的|留空的|没填的)", "", msg)
    by_role = _role_fill(msg, ledger)
    if by_role is not None:
        return by_role
    attempts: list[tuple[str, str, bool, bool]] = []  # (target, value, strict verb, weak separator)
    m = _REVERSE_FILL.match(msg)
    if m:
        attempts.append((m.group("target"), m.group("value"), True, False))
    for sep in _FILL_SEPARATOR.finditer(msg):
        if sep.start() == 0:
            continue
        strict = sep.group(0).startswith(("填", "应填", "就填", "应该填"))
        attempts.append((msg[: sep.start()], msg[sep.end() :], strict, False))
    for sep in _WEAK_SEPARATOR.finditer(msg):
        if sep.start() > 0:
            attempts.append((msg[: sep.start()], msg[sep.end() :], False, True))
    for raw_target, raw_value, strict, weak in attempts:
        found = _target(raw_target, ledger, strict, weak)
        if found is None:
            continue
        how, resolution = found
        if isinstance(resolution, FillProblem):
            return resolution
        # a line break is refused, not silently trimmed away with the punctuation
        value = raw_value.strip() if "\n" in raw_value.strip() else _clean_value(raw_value)
        if resolution.ids and not value_problem(value):
            e = ledger.entries[resolution.ids[0]]  # drop what the value repeats of the context
            value, _ = fit_value(value, e.text, e.before, e.after)
        problem = value_problem(value)
        if problem:
            return FillProblem(problem, "bad_value")
        resolution.value, resolution.how = value, how
        return resolution
    return None


# --------------------------------------------------------------------------
# Proposals from context
# --------------------------------------------------------------------------


@dataclass
class Proposal:
    key: str
    value: str
    reason: str


# Context that places a blank in the completed period or in the period ahead.
_PAST_MARKERS = re.compile(r"这五年|这几年|胜利完成|圆满完成|完成|实现|收官|过去|回顾|以来|期间")
_FUTURE_MARKERS = re.compile(r"新征程|即将|开局|开启|起步|谋划|编制|实施")


def plan_number(year: int) -> int:
    """Number of the five-year plan a year belongs to (2021–2025 → 14, 2026–2030 → 15)."""
    return (year - 1966) // 5 + 3


def plan_name(n: int) -> str:
    return f"{cn_numeral(n)}五"


def plan_years(n: int) -> tuple[int, int]:
    start = 1966 + (n - 3) * 5
    return start, start + 4


def propose_from_context(ledger: Ledger, speech_date: datetime.date) -> list[Proposal]:
    """Propose plan names from the speech date; the user still has to confirm them.

    The current plan (2021–2025 “十四五”, 2026–2030 “十五五”) for 规划名称 blanks and for
    periods that lie ahead (“_”新征程); the previous plan for goals and periods that are
    completed (“_”目标胜利完成, “_”这五年).  Blanks whose context says neither stay open.
    """
    current = plan_number(speech_date.year)
    proposals: list[Proposal] = []
    for e in _groups(ledger.listed()):
        if e.status != "open":
            continue
        after = e.after.lstrip(CLOSE_QUOTES)
        near = e.before[-6:] + " " + after
        n = 0
        if e.kind == "规划名称":
            n = current
            why = "当前规划"
        elif e.kind in ("目标名称", "时期") and _PAST_MARKERS.search(after[:8]):
            n = current - 1
            why = "已完成的上一个规划期"
        elif e.kind == "时期" and _FUTURE_MARKERS.search(near):
            n = current
            why = "正在开启的规划期"
        if not n:
            continue
        start, end = plan_years(n)
        value = plan_name(n)
        reason = f"讲话时间为{speech_date.year}年，{e.label}应指{why}：“{value}”（{start}—{end}年）。请确认。"
        if ledger.propose(e.key, value, reason):
            proposals.append(Proposal(e.key, value, reason))
    return proposals


# --------------------------------------------------------------------------
# Nothing invented
# --------------------------------------------------------------------------


@dataclass
class Invention:
    """A fact in a model reply that nobody gave."""

    kind: str  # 人名 / 日期 / 数字 / 规划名称 / 会次
    text: str
    start: int
    end: int
    replacement: str  # the blank that takes its place

    @property
    def message(self) -> str:
        return f"“{self.text}”（{self.kind}）不在已提供的材料中，已改为“{self.replacement}”待填。"


_CN_NUM = "一二三四五六七八九十百零〇两"
_FACT_PATTERNS = [
    # 2025年 / 2026年3月 / 2026年3月15日 / 二〇二五年 / 3月15日
    ("日期", r"(?<!\d)(?:(?:19|20)\d{2}|[〇零一二三四五六七八九○]{4})年(?:\d{1,2}月(?:\d{1,2}日)?)?|(?<!\d)\d{1,2}月\d{1,2}日"),
    # 第三次代表大会 / 第二届委员会 / 三届十一次全会
    ("会次", rf"第(?:[{_CN_NUM}]+|\d+)[次届](?=[^，。；！？\n]{{0,10}}?(?:大会|全会|会议|委员会|代表会|常委会))"
             rf"|(?:[{_CN_NUM}]+|\d+)届(?:[{_CN_NUM}]+|\d+)次(?=全会|会议|全体会议)"),
    # “十四五” / 十五五 (not 二十五年)
    ("规划名称", r"[“\"「](?:十[一二三四五六七八九]|[一二三四五六七八九])五[”\"」]"
                 r"|(?<![一二三四五六七八九十百千万〇零两])十[一二三四五六七八九]五(?![年个日岁%％万亿千百点十])"),
    # 120万元 / 35% / 1200名 / 3.5亿元
    ("数字", r"(?<![\d.])\d+(?:\.\d+)?(?:(?:万亿|千万|百万|万|亿|千)(?:元|人次|人|名|户|吨|亩|平方米|千瓦)?"
             r"|元|人次|人|名|个|项|家|座|次|所|户|条|处|吨|公里|千米|平方米|米|亩|%|％|岁|天|倍|台|辆|件|场|批|位|篇|套)"),
]
_FACT = re.compile("|".join(f"(?P<f{i}>{rx})" for i, (_, rx) in enumerate(_FACT_PATTERNS)))
_TONGZHI = re.compile(r"同志(?!们)")

# Common surnames: a third character before 同志 belongs to the name only when it is one of these.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
    "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
    "戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻"
    "苑迟邝"
)
# Characters that never end a name before 同志 (的同志, 各位同志, 党员同志 …).
_NOT_NAME_CHARS = set("的们和与及等这那其每各诸些位名个者员体级层线众部老女男")
# Words before 同志 that describe a group, not a person.
GENERIC_BEFORE_TONGZHI = {
    "各位", "广大", "全体", "青年", "年轻", "老年", "基层", "党员", "干部", "职工", "领导", "有关", "相关",
    "其他", "一些", "部分", "许多", "很多", "在座", "与会", "参会", "优秀", "先进", "一线", "女性", "男性",
    "退休", "离休", "我们", "你们", "他们", "大家", "负责", "分管", "主要", "同行", "战线", "工会", "妇女",
    "机关", "这些", "那些", "好", "新", "小", "老", "女", "男", "青", "某", "某某",
}
_FUNCTION_CHARS = set("向和与由对给请把让被为是的在及同跟从")


def _name_before(text: str, pos: int) -> int | None:
    """Start of a person's name that ends at ``pos`` (right before 同志), or None."""
    run = re.search(rf"[{_CJK}]{{1,6}}$", text[max(0, pos - 6) : pos])
    if not run:
        return None
    chars = run.group(0)
    for title in TITLES:  # 区总工会主席王惠兰同志
        i = chars.rfind(title)
        if i >= 0 and 2 <= len(chars) - i - len(title) <= 3:
            return pos - (len(chars) - i - len(title))
    if len(chars) < 2:
        return None
    two = chars[-2:]
    if two in GENERIC_BEFORE_TONGZHI or two[-1] in GENERIC_BEFORE_TONGZHI:  # 青年同志, 老同志
        return None
    if any(c in _NOT_NAME_CHARS or c in _FUNCTION_CHARS for c in two):  # 参会的同志, 党员同志
        return None
    # 王惠兰同志: a surname before a two-character given name (but not 向张三同志)
    if len(chars) >= 3 and chars[-3] in SURNAMES and chars[-3] not in _FUNCTION_CHARS and two[0] not in SURNAMES:
        return pos - 3
    return pos - 2


def _normal_fact(s: str) -> str:
    return re.sub(r"\s", "", s.replace("％", "%"))


def _date_blank(s: str) -> str:
    parts = re.findall(r"(年|月|日)", s)
    if parts == ["年"]:
        return "20XX年"
    return "".join(f"X{p}" for p in parts)


def find_invented(reply: str, allowed: str) -> list[Invention]:
    """Names, dates, numbers, plan names and meeting ordinals in ``reply`` not found in ``allowed``.

    ``allowed`` is everything the user gave: their messages, the confirmed values
    (:meth:`Ledger.allowed_text`) and the opening document.
    """
    norm_allowed = _normal_fact(allowed)
    found: list[Invention] = []
    for m in _TONGZHI.finditer(reply):
        start = _name_before(reply, m.start())
        if start is None:
            continue
        name = reply[start : m.start()]
        if name in allowed:
            continue
        found.append(Invention("人名", name, start, m.start(), "XX"))
    for m in _FACT.finditer(reply):
        kind = _FACT_PATTERNS[int((m.lastgroup or "f0")[1:])][0]
        text = m.group(0)
        if kind == "规划名称":
            inner = text.strip("“”\"「」")
            if inner in allowed:
                continue
            quoted = text[0] in OPEN_QUOTES
            found.append(Invention(kind, text, m.start(), m.end(), f"{text[0]}_{text[-1]}" if quoted else "“_”"))
            continue
        if _normal_fact(text) in norm_allowed:
            continue
        if kind == "日期":
            replacement = _date_blank(text)
        elif kind == "会次":
            replacement = re.sub(rf"[{_CN_NUM}\d]+", "X", text)
        else:
            replacement = re.sub(r"^\d+(?:\.\d+)?", "X", text)
        found.append(Invention(kind, text, m.start(), m.end(), replacement))
    found.sort(key=lambda i: i.start)
    out: list[Invention] = []
    for inv in found:  # drop overlaps, first one wins
        if not out or inv.start >= out[-1].end:
            out.append(inv)
    return out


def blank_out(reply: str, inventions: list[Invention]) -> str:
    """Replace each invention by its blank: 张三同志 → XX同志, 2025年3月15日 → X年X月X日."""
    for inv in sorted(inventions, key=lambda i: i.start, reverse=True):
        if reply[inv.start : inv.end] == inv.text:
            reply = reply[: inv.start] + inv.replacement + reply[inv.end :]
    return reply


# --------------------------------------------------------------------------
# Consistency
# --------------------------------------------------------------------------


def open_count(text: str, ledger: Ledger | None = None) -> int:
    """Blanks in ``text`` that have no confirmed value in the ledger."""
    n = 0
    for b in find_blanks(text):
        before, after = _context(text, b.start, b.end)
        if not ledger or not ledger.value_of(_key(b.text, before, after, b.convention)):
            n += 1
    return n


# A five-year-plan name: 十四五, 十五五, 九五.
_PLAN_NAME = re.compile(r"(?:十[一二三四五六七八九]|[一二三四五六七八九])五")


def _filled_values(text: str, key: str, confirmed: str) -> list[str]:
    """Values written in ``text`` where a quoted key's blank was: “十四五”规划 → 十四五.

    Only plan names and the confirmed value count: other quoted words before the same
    head (“双赢”发展) are ordinary phrases, not fills.
    """
    head = key[3:]
    rx = re.compile(r"[“\"「]([^”\"」\n]{1,12})[”\"」]" + re.escape(head))
    return [v for v in rx.findall(text) if v == confirmed or _PLAN_NAME.fullmatch(v)]


def consistency_issues(text: str, ledger: Ledger) -> list[str]:
    """Chinese messages: one key filled in different ways, a value that contradicts the
    confirmed one, and the blanks still open.

    Filled places are recognised for quoted keys (“_”规划) whose value is a plan name
    or the confirmed value; other keys are checked through their open blanks only.
    """
    issues: list[str] = []
    for key in ledger.keys():
        if not key.startswith("“_”") or len(key) <= 3:
            continue
        confirmed = ledger.value_of(key)
        written = list(dict.fromkeys(_filled_values(text, key, confirmed)))
        head = key[3:]
        shown = "、".join(f"“{v}”{head}" for v in written)
        if len(written) > 1:
            note = f"（已确认为“{confirmed}”）" if confirmed else ""
            issues.append(f"{key}在文中填法不一致：{shown}{note}。")
        elif written and confirmed and written[0] != confirmed:
            issues.append(f"{key}已确认为“{confirmed}”，文中却写作{shown}。")
    n = open_count(text, ledger)
    if n:
        labels = []
        probe = Ledger.from_text(text)
        for e in probe.listed():
            if not ledger.value_of(e.key) and e.label not in labels:
                labels.append(e.label)
        issues.append(f"还有{n}个空待填：{'、'.join(labels)}。")
    return issues


__all__ = [
    "BadValue", "Blank", "Change", "Entry", "FillProblem", "FillRequest", "Filled", "Invention", "KINDS",
    "Ledger", "Proposal", "STATUS_LABELS", "blank_key", "blank_out", "consistency_issues", "detect",
    "find_blanks", "find_invented", "fit_value", "has_blank", "infer_kind", "open_count", "parse_fill",
    "placeholder_json", "plan_name", "plan_number", "propose_from_context", "validate_value", "value_problem",
]
