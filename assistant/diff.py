"""Character-level diff for Chinese text (no spaces between words).

:func:`char_diff` runs :class:`difflib.SequenceMatcher` on characters
(``autojunk=False``) and then folds tiny unchanged runs (1–2 characters
between two changes) into the surrounding change, so that an edit reads as
「删 “加快推进” 增 “全面推动”」 rather than as a confetti of single characters.
"""

from __future__ import annotations

import html
from difflib import SequenceMatcher
from typing import Literal

from .structure import count_chars

Op = Literal["equal", "insert", "delete"]


def _raw_ops(old: str, new: str) -> list[tuple[str, str, str]]:
    """(op, old_text, new_text) from SequenceMatcher; 'replace' kept as one op."""
    sm = SequenceMatcher(None, old, new, autojunk=False)
    return [(tag, old[i1:i2], new[j1:j2]) for tag, i1, i2, j1, j2 in sm.get_opcodes()]


def char_diff(old: str, new: str, merge_equal: int = 2) -> list[tuple[Op, str]]:
    """Diff ``old`` → ``new`` as [(op, text)] with op in equal / insert / delete.

    Within one change a deletion comes before its insertion.  Unchanged runs of
    at most ``merge_equal`` characters lying between two changes are folded into
    both sides of the change.  Joining the equal+delete texts gives ``old``,
    joining the equal+insert texts gives ``new``.
    """
    if old == new:
        return [("equal", old)] if old else []
    raw = _raw_ops(old, new)
    out: list[tuple[Op, str]] = []
    dels: list[str] = []
    ins: list[str] = []
    in_change = False

    def flush() -> None:
        nonlocal in_change
        d, i = "".join(dels), "".join(ins)
        if d:
            out.append(("delete", d))
        if i:
            out.append(("insert", i))
        dels.clear()
        ins.clear()
        in_change = False

    for k, (tag, a, b) in enumerate(raw):
        if tag == "equal":
            between = in_change and k + 1 < len(raw)  # a change on both sides
            if between and len(a) <= merge_equal:
                dels.append(a)
                ins.append(a)
                continue
            if in_change:
                flush()
            out.append(("equal", a))
        else:
            in_change = True
            dels.append(a)
            ins.append(b)
    if in_change:
        flush()
    # merge neighbours with the same op (can only happen for equal runs)
    merged: list[tuple[Op, str]] = []
    for op, t in out:
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + t)
        else:
            merged.append((op, t))
    return merged


def _esc(text: str) -> str:
    return html.escape(text, quote=False).replace("\r\n", "\n").replace("\n", "<br>")


def diff_html(old: str, new: str) -> str:
    """HTML fragment: deletions in <del>, insertions in <ins>, escaped text, <br> for line breaks."""
    parts = []
    for op, t in char_diff(old, new):
        if op == "equal":
            parts.append(_esc(t))
        elif op == "delete":
            parts.append(f"<del>{_esc(t)}</del>")
        else:
            parts.append(f"<ins>{_esc(t)}</ins>")
    return "".join(parts)


def diff_stats(old: str, new: str) -> dict:
    """{"deleted": chars, "inserted": chars, "changes": places} (white space not counted)."""
    deleted = inserted = changes = 0
    prev = "equal"
    for op, t in char_diff(old, new):
        if op == "delete":
            deleted += count_chars(t)
        elif op == "insert":
            inserted += count_chars(t)
        if op != "equal" and prev == "equal":
            changes += 1
        prev = op
    return {"deleted": deleted, "inserted": inserted, "changes": changes}


def diff_summary(old: str, new: str) -> str:
    """「删去 120 字，新增 45 字，改动 3 处」, or 「无改动」."""
    s = diff_stats(old, new)
    if not s["changes"]:
        return "无改动"
    bits = []
    if s["deleted"]:
        bits.append(f"删去 {s['deleted']} 字")
    if s["inserted"]:
        bits.append(f"新增 {s['inserted']} 字")
    bits.append(f"改动 {s['changes']} 处")
    return "，".join(bits)


def diff_for_gradio(old: str, new: str) -> list[tuple[str, str | None]]:
    """gr.HighlightedText value: [(text, "+" | "-" | None)]."""
    label = {"equal": None, "insert": "+", "delete": "-"}
    return [(t, label[op]) for op, t in char_diff(old, new)]
