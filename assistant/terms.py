"""Date-aware wording check: formulations that were current once and are dated now.

Owns the wording list (``knowledge/terms.yaml`` plus an optional user file
``knowledge/terms.local.yaml``) and the check itself.  An entry says when a
formulation was the current one (``valid_from`` … ``valid_until``); a speech
dated after ``valid_until`` gets a warning with the suggested wording and a
note.  ``context`` / ``unless`` (regular expressions looked for in the same
clause, or sentence with ``scope: sentence``) keep the check conservative: “十四五”
is flagged only where it is named as the plan about to start, not where its
results are reviewed.  Blanks such as “_”规划 are never flagged.

A bad entry is skipped with a warning (``load_terms(...).warnings``); a file that
is not valid YAML raises :class:`TermsFileError` naming the file and the line.
"""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

from .placeholders import has_blank
from .structure import split_front_matter

log = logging.getLogger(__name__)

PROJECT_FILE = Path("knowledge") / "terms.yaml"
LOCAL_FILE = Path("knowledge") / "terms.local.yaml"

_FIELDS = {"term", "regex", "valid_from", "valid_until", "suggestion", "replace", "note", "context", "unless", "scope",
           "enabled"}
_CLAUSE_END = "，,、；;。！？!?：:\n"
_SENTENCE_END = "。！？!?；;\n"
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


class TermsFileError(ValueError):
    """A wording file that cannot be read at all; the message names the file and line."""


def _parse_date(value: object, *, end: bool) -> date:
    """2025 / "2022-10" / 2022-10-22 → the first (end=False) or last (end=True) day it covers."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    m = _DATE.match(str(value).strip())
    if not m:
        raise ValueError(f"日期 {value!r} 应写成 2025、2025-10 或 2025-10-22")
    y = int(m.group(1))
    mo = int(m.group(2)) if m.group(2) else (12 if end else 1)
    if m.group(3):
        return date(y, mo, int(m.group(3)))
    return date(y, mo, calendar.monthrange(y, mo)[1] if end else 1)


@dataclass
class Term:
    term: str  # literal text, or a regular expression when regex is true
    valid_until: date  # last day the formulation is current
    valid_from: date | None = None
    suggestion: str | dict[date, str] = ""  # text, or {from-date: text} when it depends on the date
    note: str = ""
    # a drop-in replacement for the matched text (the drafting guard applies it to model replies); "" when the
    # suggestion needs rewording by hand
    replace: str | dict[date, str] = ""
    regex: bool = False
    context: str | None = None
    unless: str | None = None
    scope: str = "clause"  # clause / sentence: where context and unless are looked for
    source: str = ""  # file name, for messages
    pattern: re.Pattern = field(init=False, repr=False)
    _context: re.Pattern | None = field(init=False, repr=False, default=None)
    _unless: re.Pattern | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.term if self.regex else re.escape(self.term))
        self._context = re.compile(self.context) if self.context else None
        self._unless = re.compile(self.unless) if self.unless else None

    @property
    def key(self) -> tuple[str, bool]:
        return self.term, self.regex

    def suggestion_for(self, day: date) -> str:
        return _dated(self.suggestion, day)

    def replace_for(self, day: date) -> str:
        return _dated(self.replace, day)

    @classmethod
    def from_dict(cls, raw: dict, source: str = "") -> "Term":
        return _term_from_dict(cls, raw, source)


def _dated(value: str | dict, day: date) -> str:
    """A text, or the entry of a {from-date: text} mapping in force on ``day``."""
    if isinstance(value, str):
        return value
    dated = sorted(value.items())
    chosen = dated[0][1]
    for since, text in dated:
        if since <= day:
            chosen = text
    return chosen


def _text_or_dated(raw: dict, name: str) -> str | dict[date, str]:
    value = raw.get(name) or ""
    if isinstance(value, dict):
        return {_parse_date(k, end=False): str(v) for k, v in value.items()}
    if not isinstance(value, str):
        raise ValueError(f"{name} 应为文字，或“起始日期: 文字”的映射")
    return value


def _term_from_dict(cls, raw: dict, source: str = "") -> "Term":
    unknown = set(raw) - _FIELDS
    if unknown:
        raise ValueError(f"未知字段 {'、'.join(sorted(unknown))}")
    term = raw.get("term")
    if not isinstance(term, str) or not term.strip():
        raise ValueError("缺少 term")
    if raw.get("valid_until") is None:
        raise ValueError("缺少 valid_until")
    scope = raw.get("scope", "clause")
    if scope not in ("clause", "sentence"):
        raise ValueError(f"scope 只能是 clause 或 sentence，不是 {scope!r}")
    valid_from = raw.get("valid_from")
    try:
        return cls(
            term=term,
            regex=bool(raw.get("regex", False)),
            valid_from=_parse_date(valid_from, end=False) if valid_from is not None else None,
            valid_until=_parse_date(raw["valid_until"], end=True),
            suggestion=_text_or_dated(raw, "suggestion"),
            replace=_text_or_dated(raw, "replace"),
            note=str(raw.get("note") or ""),
            context=raw.get("context") or None,
            unless=raw.get("unless") or None,
            scope=scope,
            source=source,
        )
    except re.error as exc:
        raise ValueError(f"正则表达式有误（{exc}）") from exc


class TermList(list):
    """The loaded entries (a plain list of :class:`Term`) plus the warnings about skipped ones."""

    def __init__(self, items=(), warnings: list[str] | None = None):
        super().__init__(items)
        self.warnings: list[str] = list(warnings or [])


@dataclass
class TermWarning:
    term: str  # the text as found in the speech
    offset: int  # character offset into the text given to check_terms
    end: int
    suggestion: str
    note: str
    valid_until: str  # e.g. "2025-12-31", for the UI's explanation
    source: str = ""
    replace: str = ""  # a drop-in replacement for ``term`` on that date, when the terms file gives one

    def to_dict(self) -> dict:
        return asdict(self)


def default_terms_paths(root: Path) -> list[Path]:
    """The project wording file and, when present, the user's ``terms.local.yaml``."""
    paths = [root / PROJECT_FILE]
    local = root / LOCAL_FILE
    if local.is_file():
        paths.append(local)
    return paths


def _read_file(path: Path) -> tuple[list, list[int]]:
    """The entries of one file and the line (1-based) where each starts."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise TermsFileError(f"提法文件 {path} 不存在。") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TermsFileError(f"提法文件 {path} 无法读取：{exc}") from exc
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"第 {mark.line + 1} 行" if mark is not None else "某处"
        problem = getattr(exc, "problem", None) or str(exc)
        raise TermsFileError(f"提法文件 {path} {where}格式有误（{problem}），请检查缩进、冒号和引号。") from exc
    if data is None:
        return [], []
    seq = root
    if isinstance(data, dict):
        if not isinstance(data.get("terms"), list):
            raise TermsFileError(f"提法文件 {path} 应包含 terms: 列表。")
        seq = next(v for k, v in root.value if k.value == "terms")
        data = data["terms"]
    elif not isinstance(data, list):
        raise TermsFileError(f"提法文件 {path} 应是一个列表（或含 terms: 列表）。")
    lines = [n.start_mark.line + 1 for n in seq.value]
    return data, lines


def load_terms(paths: list[Path]) -> TermList:
    """Entries of all files in order; a later file's entry replaces one with the same term.

    ``enabled: false`` in a later file switches an entry off.  Bad entries are
    skipped and described in ``.warnings``; a file that cannot be parsed raises
    :class:`TermsFileError`.
    """
    merged: dict[tuple[str, bool], Term] = {}
    warnings: list[str] = []
    for path in paths:
        path = Path(path)
        entries, lines = _read_file(path)
        for raw, line in zip(entries, lines):
            where = f"{path.name} 第 {line} 行"
            if not isinstance(raw, dict):
                warnings.append(f"{where}：条目应为“字段: 值”的映射，已跳过。")
                continue
            if raw.get("enabled") is False:
                merged.pop((str(raw.get("term")), bool(raw.get("regex", False))), None)
                continue
            try:
                term = Term.from_dict(raw, source=path.name)
            except (ValueError, TypeError) as exc:
                warnings.append(f"{where}：{exc}，已跳过。")
                continue
            merged[term.key] = term
    for w in warnings:
        log.warning("提法文件：%s", w)
    return TermList(merged.values(), warnings)


def _span(text: str, start: int, end: int, stops: str) -> str:
    left = max(text.rfind(c, 0, start) for c in stops) + 1
    rights = [i for i in (text.find(c, end) for c in stops) if i >= 0]
    return text[left : min(rights) if rights else len(text)]


def check_terms(text: str, speech_date: date, terms: list[Term]) -> list[TermWarning]:
    """Dated formulations in ``text`` for a speech given on ``speech_date``, in document order."""
    if isinstance(speech_date, datetime):
        speech_date = speech_date.date()
    _, body_start = split_front_matter(text)
    found: list[TermWarning] = []
    for term in terms:
        if speech_date <= term.valid_until:
            continue
        stops = _SENTENCE_END if term.scope == "sentence" else _CLAUSE_END
        for m in term.pattern.finditer(text, body_start):
            if not m.group(0) or has_blank(m.group(0)):  # a blank left for the user is never a wording problem
                continue
            around = _span(text, m.start(), m.end(), stops)
            if term._context and not term._context.search(around):
                continue
            if term._unless and term._unless.search(around):
                continue
            found.append(
                TermWarning(
                    term=m.group(0),
                    offset=m.start(),
                    end=m.end(),
                    suggestion=term.suggestion_for(speech_date),
                    note=term.note,
                    valid_until=term.valid_until.isoformat(),
                    source=term.source,
                    replace=term.replace_for(speech_date),
                )
            )
    # one warning per place: a longer match (决胜全面建成小康社会) covers a shorter one inside it
    found.sort(key=lambda w: (w.offset, -(w.end - w.offset)))
    kept: list[TermWarning] = []
    for w in found:
        if any(k.offset <= w.offset and w.end <= k.end for k in kept):
            continue
        kept.append(w)
    return kept


def date_of_speech(text: str) -> date | None:
    """The ``date:`` of the speech's front matter, if it has a usable one."""
    meta, _ = split_front_matter(text)
    value = meta.get("date")
    if value is None:
        return None
    try:
        return _parse_date(value, end=False)
    except ValueError:
        return None
