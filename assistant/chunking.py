"""Structure-aware chunks of a speech.

A chunk never splits a heading or an item: the opening, the transition, each
item of a part and the closing are units of their own; a part's heading goes
with its introduction; long plain paragraphs are split at sentence ends only.
Each chunk carries metadata for filtering and provenance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .structure import Paragraph, Speech

MAX_CHARS = 520  # plain text is grouped up to this size; items are kept whole whatever their size
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])(?![”’」』）)])|(?<=[。！？；!?;][”’」』）)])")  # a closing quote stays with its sentence


@dataclass
class Chunk:
    text: str
    role: str  # opening / significance / tasks / guarantees / closing / other
    section: str  # opening / transition / part / closing
    part: int = 0  # 1-based part number, 0 outside the parts
    heading: str = ""
    item: int = 0  # 1-based item number, 0 when the chunk is not an item
    start: int = 0
    end: int = 0

    def metadata(self, **extra) -> dict:
        md = {
            "role": self.role,
            "section": self.section,
            "part": self.part,
            "heading": self.heading,
            "item": self.item,
            "start": self.start,
            "end": self.end,
        }
        md.update({k: v for k, v in extra.items() if v is not None})
        return md


def _sentences(p: Paragraph) -> list[Paragraph]:
    out, pos = [], 0
    for piece in _SENTENCE_END.split(p.text):
        if piece:
            out.append(Paragraph(piece, p.start + pos, p.start + pos + len(piece)))
            pos += len(piece)
    return out


def _group(paras: list[Paragraph], limit: int) -> list[list[Paragraph]]:
    """Group consecutive paragraphs up to ``limit`` characters; split an oversized paragraph into sentences."""
    units: list[Paragraph] = []
    for p in paras:
        units.extend(_sentences(p) if len(p.text) > limit else [p])
    groups: list[list[Paragraph]] = []
    size = 0
    for u in units:
        if groups and size + len(u.text) <= limit:
            groups[-1].append(u)
            size += len(u.text)
        else:
            groups.append([u])
            size = len(u.text)
    return groups


def _join(text: str, group: list[Paragraph]) -> str:
    # sentences of one paragraph are joined without a newline, paragraphs with one
    out = group[0].text
    for prev, cur in zip(group, group[1:]):
        out += ("" if cur.start == prev.end else "\n") + cur.text
    return out


def _uncovered(part) -> tuple[list[Paragraph], list[Paragraph]]:
    """Text of a part outside its items: (before the first item, after the last item).

    Paragraph-level items cover whole paragraphs; inline items (一是…二是… inside one
    paragraph) leave a lead-in and maybe later paragraphs, which must not be lost.
    """
    if not part.items:
        return list(part.paragraphs), []
    first, last = part.items[0].start, part.items[-1].end
    before, after = [], []
    for p in part.paragraphs:
        if p.end <= first:
            before.append(p)
        elif p.start < first:
            lead = p.text[: first - p.start].rstrip()
            if lead:
                before.append(Paragraph(lead, p.start, p.start + len(lead)))
        if p.start >= last:
            after.append(p)
        elif p.end > last and p.start < last:
            rest = p.text[last - p.start :].lstrip()
            if rest:
                after.append(Paragraph(rest, p.end - len(rest), p.end))
    return before, after


def chunk_speech(speech: Speech, limit: int = MAX_CHARS) -> list[Chunk]:
    text = speech.text
    chunks: list[Chunk] = []
    for group in _group(speech.opening, limit) if speech.opening else []:
        chunks.append(Chunk(_join(text, group), "opening", "opening", start=group[0].start, end=group[-1].end))
    if speech.transition:
        t = speech.transition
        chunks.append(Chunk(t.text, "opening", "transition", start=t.start, end=t.end))
    for part in speech.parts:
        head = part.heading_line
        intro, tail = _uncovered(part)
        if not intro:
            # the heading alone still tells retrieval what the part is about
            chunks.append(Chunk(head.text, part.role, "part", part.number, part.heading, start=head.start, end=head.end))
        for k, group in enumerate(_group(intro, limit)):
            body = _join(text, group)
            if k == 0:
                body = head.text + "\n" + body
            start = head.start if k == 0 else group[0].start
            chunks.append(Chunk(body, part.role, "part", part.number, part.heading, start=start, end=group[-1].end))
        for item in part.items:
            chunks.append(
                Chunk(item.text, part.role, "part", part.number, part.heading, item.number, item.start, item.end)
            )
        for group in _group(tail, limit):
            chunks.append(Chunk(_join(text, group), part.role, "part", part.number, part.heading,
                                start=group[0].start, end=group[-1].end))
    for group in _group(speech.closing, limit) if speech.closing else []:
        chunks.append(Chunk(_join(text, group), "closing", "closing", start=group[0].start, end=group[-1].end))
    return chunks


MIN_UNIT_CHARS = 8


def sentence_units(text: str) -> list[str]:
    """A chunk's sentences, for sentence-level vectors (the chunk's own vector is their mean).

    Split at line breaks and sentence ends; a piece shorter than ``MIN_UNIT_CHARS`` (a bare
    "一是" or a short heading) joins the next one, the last joins the one before.  A chunk
    always gives at least one unit."""
    pieces = [s.strip() for line in text.splitlines() for s in _SENTENCE_END.split(line)]
    pieces = [p for p in pieces if p]
    units: list[str] = []
    carry = ""
    for p in pieces:
        p = carry + p
        if len(p) < MIN_UNIT_CHARS:
            carry = p
            continue
        units.append(p)
        carry = ""
    if carry:
        if units:
            units[-1] += carry
        else:
            units.append(carry)
    return units or [text.strip() or text]


# what a search can be limited to: the part roles above, by the names users see (UI, CLI, chat)
SEARCH_ROLES = {"": None, "开场白": {"opening"}, "意义": {"significance"}, "任务": {"tasks"}, "保障": {"guarantees"},
                "结尾": {"closing"}}
SEARCH_PARTS = [name for name in SEARCH_ROLES if name]


def part_name(role: str) -> str:
    """The search name of a chunk role (tasks → 任务); "" for a role a search cannot be limited to."""
    return next((name for name, roles in SEARCH_ROLES.items() if roles == {role}), "")
