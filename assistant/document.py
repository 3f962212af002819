"""The speech being drafted, as a document of named sections.

Sections, in order: ``opening``, ``transition``, ``part1`` … ``partN``, ``closing``.
A part's text starts with its heading line (``二、……``).  The document can be
rebuilt from free text (the user edits it in the UI) with the structure parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .structure import cn_numeral, parse

FIXED_BEFORE = ("opening", "transition")
FIXED_AFTER = ("closing",)

SECTION_NAMES = {"opening": "开场白", "transition": "过渡语", "closing": "结尾"}


def part_key(n: int) -> str:
    return f"part{n}"


def section_label(key: str) -> str:
    if key.startswith("part"):
        return f"第{cn_numeral(int(key[4:]))}部分"
    return SECTION_NAMES.get(key, key)


@dataclass
class Document:
    title: str = ""
    sections: dict[str, str] = field(default_factory=dict)

    def keys(self) -> list[str]:
        parts = sorted((k for k in self.sections if k.startswith("part")), key=lambda k: int(k[4:]))
        return [k for k in FIXED_BEFORE if k in self.sections] + parts + [k for k in FIXED_AFTER if k in self.sections]

    def part_numbers(self) -> list[int]:
        return [int(k[4:]) for k in self.keys() if k.startswith("part")]

    def get(self, key: str) -> str:
        return self.sections.get(key, "")

    def set(self, key: str, text: str) -> None:
        text = text.strip()
        if text:
            self.sections[key] = text
        else:
            self.sections.pop(key, None)

    @property
    def is_empty(self) -> bool:
        return not any(v.strip() for v in self.sections.values())

    def text(self) -> str:
        lines = [self.title] if self.title else []
        lines += [self.sections[k] for k in self.keys() if self.sections[k].strip()]
        return "\n".join(lines)

    def span(self, key: str) -> tuple[int, int] | None:
        """Character span of a section inside :meth:`text`."""
        pos = len(self.title) + 1 if self.title else 0
        for k in self.keys():
            t = self.sections[k]
            if not t.strip():
                continue
            if k == key:
                return pos, pos + len(t)
            pos += len(t) + 1
        return None

    def with_replacements(self, spans: list[tuple[int, int, str]]) -> "Document":
        """A copy with ``text()[start:end]`` replaced by each value, section by section: filling a blank never
        moves text from one section to another (re-parsing the whole text could take a closing for part three)."""
        new = self.copy()
        bounds = {k: self.span(k) for k in self.keys()}
        for start, end, value in sorted(spans, reverse=True):
            key = next((k for k, sp in bounds.items() if sp and sp[0] <= start and end <= sp[1]), None)
            if key is None:
                raise ValueError(f"replacement {start}-{end} crosses a section boundary")
            s0 = bounds[key][0]
            t = new.sections[key]
            new.sections[key] = t[: start - s0] + value + t[end - s0 :]
        return new

    def section_at(self, offset: int) -> str | None:
        for k in self.keys():
            sp = self.span(k)
            if sp and sp[0] <= offset <= sp[1]:
                return k
        return None

    def copy(self) -> "Document":
        return Document(self.title, dict(self.sections))

    def snapshot(self) -> dict:
        return {"title": self.title, "sections": dict(self.sections)}

    @classmethod
    def from_snapshot(cls, snap: dict) -> "Document":
        return cls(snap.get("title", ""), dict(snap.get("sections", {})))

    @classmethod
    def from_text(cls, text: str) -> "Document":
        """Split free text into sections with the structure parser."""
        text = text.replace("\r\n", "\n")
        sp = parse(text)
        doc = cls(title=sp.title)
        if sp.opening:
            doc.sections["opening"] = "\n".join(p.text for p in sp.opening)
        if sp.transition:
            doc.sections["transition"] = sp.transition.text
        for part in sp.parts:
            lines = [part.heading_line.text] + [p.text for p in part.paragraphs]
            key = part_key(part.number)
            if key in doc.sections:  # duplicate numbering: keep both, the later one after the others
                key = part_key(max(doc.part_numbers()) + 1)
            doc.sections[key] = "\n".join(lines)
        if sp.closing:
            doc.sections["closing"] = "\n".join(p.text for p in sp.closing)
        return doc


def outline_text(headings: dict[int, str], items: dict[int, list[str]] | None = None,
                 styles: dict[int, str] | None = None) -> str:
    """Render an outline: 一、heading then item lines, marked as ``styles`` says per part (一是…… by default,
    （一）…… or 首先…… as the speech's plan has them)."""
    from .plan import item_marker

    items = items or {}
    styles = styles or {}
    lines = []
    for n in sorted(headings):
        lines.append(f"{cn_numeral(n)}、{headings[n]}")
        listed = items.get(n, [])
        for k, it in enumerate(listed, 1):
            it = re.sub(r"^[一二三四五六七八九十]+是", "", it).strip()
            lines.append(f"{item_marker(styles.get(n, 'shi'), k, len(listed))}{it}")
    return "\n".join(lines)
