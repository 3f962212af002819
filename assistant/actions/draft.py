"""Drafting a section or the whole speech: 「写开场白」「写第二部分」「按提纲写全文」.

The job a section is composed from (its heading, items, length and the facts it may use), the repair rules'
last look at what was composed, the copy check against past speeches, and the commit of the section."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Iterator

from .. import intent as intents
from .. import repair
from ..composer import Job, Written, drop_section_repeats, item_topics, part_role
from ..document import section_label
from ..events import STYLE_INSTRUCTIONS, Event
from ..retrieval import Passage
from ..structure import count_chars, match_heading

if TYPE_CHECKING:
    from ..session import Session


def do_draft(session: Session, it, message, selection):
    if it.target is None:
        yield Event("message", f"要写哪一部分？开场白、过渡语、{session.plan.parts_phrase()}，还是结尾？")
        return
    if it.target.kind in ("whole",):
        yield from do_draft_all(session, it, message, selection)
        return
    key = session._resolve(it.target)
    if key is None:
        yield Event("message", "没弄清要写哪一部分。" + session._exists_message())
        return
    if key.startswith("part") and not session.plan.has_part(int(key[4:])) and int(key[4:]) not in session.doc.part_numbers():
        yield Event("message", session._no_such_part(int(key[4:])))
        return
    minutes, chars = intents.parse_duration(message)
    chars = chars or (int(minutes * session.cpm) if minutes else None)
    session.own.discard(key)  # asked for by name: the user wants it written after all
    yield from draft_section(session, key, message, topic=it.topic, style=it.style, chars=chars)


def do_draft_all(session: Session, it, message, selection):
    if session.outline is None and not session.brief.occasion:
        yield Event("message", "请先告诉我是什么会议或场合，例如「为区妇联第四次代表大会写个提纲」。")
        return
    minutes, chars = intents.parse_duration(message)
    if minutes or chars:
        session.brief.minutes = minutes or round(chars / session.cpm, 1)
    t0 = time.perf_counter()
    done: list[str] = []
    notes: list[str] = []
    keys = session.plan.section_keys()
    for i, key in enumerate(keys, 1):
        progress = f"第 {i}/{len(keys)} 段"
        if key in session.own:
            yield Event("section", f"{progress}：{section_label(key)}由您自己写，已跳过。", key)
            notes.append(f"{section_label(key)}由您自己写，没有起草")
            continue
        for ev in draft_section(session, key, message, progress=progress):
            if ev.kind == "message":
                done.append(section_label(key))
                notes += [l[2:] for l in ev.text.split("\n") if l.startswith("· ")]
                yield Event("section", f"{progress}：{section_label(key)}已写好（{count_chars(session.doc.get(key))} 字）。", key)
                continue
            if ev.kind == "error":
                yield ev
                yield Event("message", f"已完成：{'、'.join(done) or '无'}。{ev.text} 可以再说「写{section_label(key)}」重试。")
                return
            yield ev
    total = count_chars(session.doc.text())
    took = time.perf_counter() - t0
    head = (f"全文已起草完成（{'、'.join(done)}），共 {total} 字，约 {total / session.cpm:.1f} 分钟；"
            f"整篇用时 {took:.0f} 秒")
    kept = list(dict.fromkeys(notes))[:6]
    yield Event("message", session._done_message(head, None, kept))


def draft_section(session: Session, key: str, message: str, topic: str = "", style: str | None = None, *,
                   chars: int | None = None, progress: str = "") -> Iterator[Event]:
    label = section_label(key)
    job = make_job(session, key, message, topic, style, chars)
    lead = f"{progress}：" if progress else ""
    yield Event("status", f"{lead}正在写{label}……" + ("" if progress else "（本地模型约需十几秒到一分钟）"), key)
    t0 = time.perf_counter()
    written: Written = yield from session._relay(session._composer().write(job), key, progress)
    session.last.timing.setdefault("sections", {})[key] = round(time.perf_counter() - t0, 1)
    session.sources = list(written.passages)
    session.last.sources = list(written.passages)
    session.section_sources[key] = [{"title": p.title, "source": getattr(p, "source", ""),
                                  "snippet": re.sub(r"\s+", "", p.text)[:60] + "……"} for p in written.passages[:6]]
    session.seen_passages.update({p.id: p for p in written.passages})
    fixed = check_written(session, key, written.text, written.heading)
    if not fixed.ok:
        yield Event("error", f"{label}没有写入：{fixed.error}")
        return
    text, repeats = drop_section_repeats(fixed.text, session.user_text())  # not the document: its old text is no licence
    text, filled = apply_known(session, text)
    text, blanked = session.materials.ground(text, session.user_text() + "\n" + session.doc.text())
    text, woven = weave_facts(session, key, text, written.heading)
    notes = written.notes + fixed.notes + copy_notes(text, written.passages) + woven
    notes += [f"删去了{repeats}句与本段前文重复的话"] if repeats else []
    notes += [f"模型写入了材料里没有的数字（{'、'.join(dict.fromkeys(blanked))}），已改成待填空白"] if blanked else []
    new = session.doc.copy()
    new.set(key, text)
    session._commit(new, f"起草{label}", key)
    session.last_section = key
    if key.startswith("part") and session.outline is not None and written.heading:
        n = int(key[4:])
        session.outline[0][n] = written.heading
        if written.items:
            session.outline[1][n] = list(written.items)
    notes += [f"已按您确认的信息填入：{filled}"] if filled else []
    yield Event("message", session._done_message(f"已起草{label}", key, notes), key)


def weave_facts(session: Session, key: str, text: str, heading: str) -> tuple[str, list[str]]:
    """A significance part (成绩、意义) that the meeting's materials have figures for, but whose draft uses none of
    them — the small model does not always use the facts it is shown — gets the best fact sentence, quoted from the
    materials, after its first paragraph's topic sentence; the note says so.  Code, not the model, keeps the speech
    grounded in the work report."""
    from ..composer import _sentences
    from ..materials import occurs

    if not session.materials or not key.startswith("part") or not text:
        return text, []
    if part_role(session.plan, int(key[4:]), heading) != "significance":
        return text, []
    found = [c for c in session.fact_sentences(heading) if c.facts]
    if not found or any(occurs(f, text) for c in found for f in c.facts):
        return text, []
    best = found[0]
    sentence = best.text.strip()
    sentence += "" if re.search(r"[。！？!?]$", sentence) else "。"
    lines = text.split("\n")
    at = next((i for i, l in enumerate(lines) if l.strip() and not match_heading(l)), None)
    if at is None:
        return text, []
    first = _sentences(lines[at])
    lines[at] = "".join(first[:1] + [sentence] + first[1:])
    return "\n".join(lines), [f"模型没有用上会议材料里的事实，已把材料原句「{sentence}」写进{section_label(key)}"]


def make_job(session: Session, key: str, message: str, topic: str = "", style: str | None = None, chars: int | None = None) -> Job:
    heading, items = "", []
    listed = item_topics(message)
    if key.startswith("part"):
        n = int(key[4:])
        if topic and len(topic) <= 30 and not listed:
            heading = topic
        elif session.outline and n in session.outline[0]:
            heading = session.outline[0][n]
            items = [] if listed else list(session.outline[1].get(n, []))
        elif session.doc.get(key):
            h = match_heading(session.doc.get(key).split("\n", 1)[0])
            heading = h[1] if h else ""
    scale = 1.0
    if session.brief.minutes and not chars:
        from ..composer import speech_scale

        scale = speech_scale(session.brief.minutes * session.cpm, session.plan)
    return Job(key=key, brief=session.brief, request=message, said=session.allowed_text(), heading=heading, items=items,
               chars=chars, scale=scale, style=STYLE_INSTRUCTIONS.get(style or "", ""),
               previous="\n".join(session.doc.get(k) for k in session.doc.keys() if k != key), plan=session.plan,
               facts=session._facts_for if session.materials else None)


def check_written(session: Session, key: str, text: str, heading: str = "") -> repair.Repaired:
    """The structure of a composed section, checked once more by the repair rules (they own the format)."""
    if key.startswith("part"):
        n = int(key[4:])
        return repair.repair_part(text, n, heading=heading or None, role=part_role(session.plan, n, heading),
                                  item_style=session.plan.item_style(n))
    if key == "opening":
        return repair.repair_opening(text)
    if key == "transition":
        return repair.repair_transition(text, session.plan.count_word)
    return repair.repair_closing(text)


def copy_notes(text: str, passages: list[Passage]) -> list[str]:
    """Runs of 30+ characters copied verbatim from a past speech: the user should rewrite them."""
    from ..checks import find_copies

    if not passages:
        return []
    runs = find_copies(text, [p.text for p in passages])
    if not runs:
        return []
    worst = max(runs, key=lambda r: r.chars)
    title = passages[worst.source].title
    return [f"有 {len(runs)} 处与往年讲话原文相同（最长 {worst.chars} 字，出自《{title}》），建议改写，见“检查”页"]


def apply_known(session: Session, text: str) -> tuple[str, str]:
    """Fill blanks in new text with values the user already confirmed."""
    new, changes = session.ledger.apply(text)
    shown = "、".join(dict.fromkeys(f"{c.value}" for c in changes)) if changes else ""
    return new, shown
