"""Refining: a section, a selection, an item, the whole speech or a pasted paragraph, paragraph by paragraph,
to a tone or a length (「第二部分更简洁一些」「压缩到三分钟」「帮我润色一下：……」)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .. import guard as guards
from .. import intent as intents
from .. import placeholders, repair
from ..composer import clean_paragraph, drop_section_repeats
from ..diff import diff_summary
from ..document import section_label
from ..events import MAX_SELECTION, PRESET_MESSAGES, STYLE_INSTRUCTIONS, Event
from ..structure import count_chars, match_heading, match_item
from . import draft

if TYPE_CHECKING:
    from ..session import Session

# the code's own lead-in to a tasks part (「……要重点抓好以下几个方面。」): kept as it is when the part is refined
_INTRO_LINE = re.compile(r"以下(?:几|[一二三四五六七八九十])(?:个方面|点)(?:工作)?[。：:]?$")


def do_refine(session: Session, it, message, selection):
    pasted = "" if selection else intents.pasted_text(message)
    if pasted and re.sub(r"\s", "", pasted) not in re.sub(r"\s", "", session.doc.text()):
        yield from refine_pasted(session, pasted, it, message)
        return
    if session.doc.is_empty:
        yield Event("message", "还没有可以修改的内容。请先起草，例如「写开场白」。")
        return
    target = it.target or intents.Target("current")
    if not selection and target.kind == "item":
        item = item_text(session, target)
        if item is None:
            yield Event("message", f"没有找到{target.label()}这一条。" + session._exists_message())
            return
        selection = item  # an item is refined like a selection: the rest of the part stays as it is
    if selection:
        if len(selection) > MAX_SELECTION:
            yield Event("error", f"选中的文字有 {len(selection)} 字，一次最多修改 {MAX_SELECTION} 字。请分段选择。")
            return
        key = session.doc.section_at(session.doc.text().find(selection)) if selection in session.doc.text() else None
        if key is None:
            yield Event("error", "选中的文字在当前文档里找不到（可能已被修改）。请重新选择。")
            return
        keys = [key]
    elif target.kind == "whole":
        keys = [k for k in session.doc.keys() if k not in session.own] or session.doc.keys()
    else:
        key = session._resolve(target)
        if key is None:
            key = session.last_section
        if key is None or not session.doc.get(key):
            what = section_label(key) if key else "这一部分"
            yield Event("message", f"{what}还没有内容，无法修改。" + session._exists_message())
            return
        keys = [key]
    originals = {k: (selection if selection else session.doc.get(k)) for k in keys}
    targets = refine_targets(session, it, originals)
    style = it.style
    if style == "shorten" and sum(t or 0 for t in targets.values()) > 1.1 * sum(count_chars(o) for o in originals.values()):
        # 「控制在400字」 for a 100-character closing asks for more, not less: keep the tone the user named
        tone = intents._style(intents._rx(r"控制在|压缩|缩短|精简").sub("", message))
        style = tone if tone in STYLE_INSTRUCTIONS and tone not in ("shorten", "concise") else "expand"
    instruction = STYLE_INSTRUCTIONS.get(style or "", "")
    if style == "custom" or not instruction:
        instruction = it.instruction or message
    new = session.doc.copy()
    notes: list[str] = []
    before_chars = sum(count_chars(o) for o in originals.values())
    for i, key in enumerate(keys, 1):
        original = originals[key]
        progress = f"第 {i}/{len(keys)} 段" if len(keys) > 1 else ""
        yield Event("status", (f"{progress}：" if progress else "") + f"正在修改{section_label(key)}……", key)
        result = yield from refine_section(session, key, original, instruction, targets.get(key), progress)
        if not result.ok:
            yield Event("error", f"{section_label(key)}没有改动：{result.error}")
            return
        if selection:
            new.set(key, session.doc.get(key).replace(selection, result.text, 1))
        else:
            new.set(key, result.text)
        notes += [n for n in result.notes if n not in notes]
    label = "润色：" + (next((k for k, v in PRESET_MESSAGES.items() if v == it.style), "") or message[:20])
    before = session.doc.text()
    session._commit(new, label, keys[0] if len(keys) == 1 else None)
    session.last_section = keys[0] if len(keys) == 1 else session.last_section
    summary = diff_summary(before, session.doc.text())
    after_chars = sum(count_chars(new.get(k)) for k in keys) if not selection else count_chars(
        session.doc.text()) - count_chars(before) + before_chars
    size = f"，{before_chars} 字 → {after_chars} 字" if targets.get(keys[0]) or len(keys) > 1 else ""
    yield Event("message", session._done_message(f"已修改{'全文' if len(keys) > 1 else section_label(keys[0])}（{summary}{size}）",
                                              keys[0] if len(keys) == 1 else None, notes))


def refine_pasted(session: Session, pasted: str, it, message: str):
    """「帮我润色一下：<a paragraph>」: the pasted text is refined and given back in the chat; the speech in the
    document is not touched."""
    if len(pasted) > MAX_SELECTION:
        yield Event("error", f"粘贴的文字有 {len(pasted)} 字，一次最多修改 {MAX_SELECTION} 字。请分段粘贴。")
        return
    style = it.style
    instruction = STYLE_INSTRUCTIONS.get(style or "", "") if style not in (None, "custom") else ""
    if not instruction:
        instruction = message.split(pasted[:10])[0].rstrip("：: \n") or "润色，使语句更通顺、更符合讲话稿的语气"
    minutes, chars = intents.parse_duration(message.replace(pasted, ""))
    target = chars or (int(minutes * session.cpm) if minutes else None)
    yield Event("status", "正在修改您粘贴的这段文字……")
    result = yield from refine_section(session, "pasted", pasted, instruction, target)
    if not result.ok or not result.text.strip():
        yield Event("error", f"这段没有改好：{result.error or '模型没有给出可用的修改'}。原文没有变化，可以换个说法再试。")
        return
    before, after = count_chars(pasted), count_chars(result.text)
    notes = "".join(f"\n· {n}" for n in result.notes[:4])
    yield Event("message", f"修改好了（{before} 字 → {after} 字）：\n\n{result.text}\n\n"
                f"文档里的讲稿没有改动。要放进讲稿，可以复制到「文档」页，或告诉我放在哪一部分。{notes}")


def refine_targets(session: Session, it, originals: dict[str, str]) -> dict[str, int | None]:
    """Characters each section should have after a refine: a length or time the user asked for is shared
    out by the sections' sizes; 更简洁 is about 70 %, 扩写 140 %; a tone change keeps the length."""
    total = it.chars or (int(it.minutes * session.cpm) if it.minutes else None)
    now = {k: count_chars(v) for k, v in originals.items()}
    if total is None:
        factor = {"concise": 0.7, "shorten": 0.7, "expand": 1.4}.get(it.style or "")
        return {k: (int(n * factor) if factor else None) for k, n in now.items()}
    fixed = {k: sum(count_chars(l) for l in v.split("\n") if match_heading(l) or l.strip().endswith("："))
             for k, v in originals.items()}
    movable = sum(now.values()) - sum(fixed.values())
    room = max(0, total - sum(fixed.values()))
    return {k: fixed[k] + (int(room * (now[k] - fixed[k]) / movable) if movable else 0) for k in now}


def refine_section(session: Session, key: str, original: str, instruction: str, target: int | None, progress: str = ""):
    """Refine a section paragraph by paragraph: headings, salutation lines and item markers stay as code keeps
    them, each paragraph gets its share of the length, and a paragraph the model spoils keeps its old text."""
    from ..composer import _sentences, _trim, closest_trim

    lines = [l for l in original.split("\n")]
    fixed = [bool(match_heading(l) or l.strip().endswith("：") or not l.strip() or _INTRO_LINE.search(l))
             for l in lines]
    body_now = sum(count_chars(l) for l, f in zip(lines, fixed) if not f)
    body_target = (target - sum(count_chars(l) for l, f in zip(lines, fixed) if f)) if target else None
    notes: list[str] = []
    allowed = session.allowed_text()
    passages = list(session.seen_passages.values())
    composer = session._composer()
    out = list(lines)
    shares: dict[int, tuple[str, str, int | None]] = {}  # paragraph → (marker, original body, its share)
    for i, (line, keep) in enumerate(zip(lines, fixed)):
        if keep:
            continue
        m = match_item(line)
        marker = m[0] if m and m[1] in ("shi", "paren", "order") else ""
        body = line[len(marker):]
        share = int(body_target * count_chars(line) / body_now) if body_target and body_now else None
        want = max(20, share - count_chars(marker)) if share else None
        rule = (f"修改后约{want}字（原文{count_chars(body)}字）。" if want else "篇幅与原文大致相当。")
        prefix = "\n".join(out[:i])
        goal = want or count_chars(body)
        variables = {"brief": session.brief.prompt_block(), "instruction": instruction, "length_rule": rule, "text": body}
        for temperature in (None, 0.85):  # a reply that is empty, spoiled or the original again: once more, warmer
            raw = yield from session._relay(composer._call("refine", variables, goal, prefix, temperature=temperature),
                                         key, progress)
            new = clean_paragraph(raw, int(goal * 1.1) + 10)
            if marker:
                new = re.sub(r"^[一二三四五六七八九十]是|^[（(][一二三四五六七八九十][）)]|^(?:首先|其次|再次|最后)[，,：:]", "", new)
            problem = ""
            if not new or composer.is_echo(new):
                problem = "empty"
            elif len(placeholders.find_blanks(new)) < len(placeholders.find_blanks(body)):
                problem = "blanks"
            elif re.sub(r"\W", "", new) == re.sub(r"\W", "", body) and not want:
                problem = "unchanged"
            if not problem:
                break
        if problem == "unchanged":
            problem = ""
        if problem:
            if want and count_chars(body) > want * 1.2:
                new = _trim(body, want)  # cut whole sentences of the original instead
                notes.append("有的段落按篇幅删减了句子")
            else:
                new = body
                notes.append("有一段模型没改好，保留了原文")
        else:
            g = guards.guard(new, allowed + "\n" + body, passages, speech_date=session.speech_date, terms=session.terms)
            new = g.text
            notes += [n for n in g.notes if n not in notes]
        if want and count_chars(new) > want * 1.2:
            new = _trim(new, int(want * 1.1))
        if want and count_chars(new) < want * 0.85 and count_chars(body) >= want:
            # cut too far (精简到200字 gave 150): whole sentences of the original, when that comes closer
            cut = closest_trim(body, want)
            new = cut if abs(count_chars(cut) - want) < abs(count_chars(new) - want) else new
        out[i] = marker + new
        shares[i] = (marker, body, want)
    text = "\n".join(l for l in out if l.strip())
    if target and count_chars(text) < 0.85 * target and count_chars(original) >= target:
        # the paragraphs together cut too far (开场白精简到200字 gave 157): the ones cut most get whole sentences
        # of their original back, up to their share, until the section is near the length asked
        for i in sorted(shares, key=lambda i: count_chars(out[i]) - (shares[i][2] or 0)):
            marker, body, want = shares[i]
            back = closest_trim(body, want) if want else ""
            if count_chars(marker + back) > count_chars(out[i]):
                out[i] = marker + back
            if count_chars("\n".join(l for l in out if l.strip())) >= 0.85 * target:
                break
        text = "\n".join(l for l in out if l.strip())
    if target and count_chars(text) < 0.8 * target and count_chars(original) < 0.8 * target:
        # asked for more than there is (结尾控制在400字 on a 100-character closing): the shortest paragraphs go
        # on, each on a new aspect, until the section has about the length asked
        job = draft.make_job(session, key, instruction, chars=target)
        job.style = instruction
        role = key if key in ("opening", "closing") else ""
        for _ in range(2):  # a second round when the first left it short (a share too small to add to)
            open_lines = sorted((i for i, l in enumerate(out) if l.strip() and not fixed[i]),
                                key=lambda i: count_chars(out[i]))
            for n_left, i in zip(range(len(open_lines), 0, -1), open_lines):
                now = count_chars("\n".join(l for l in out if l.strip()))
                if now >= 0.85 * target:
                    break
                item = match_item(out[i])
                line_role = role or ("tasks_item" if item else "other")
                topic = _sentences(out[i])[0] if item and _sentences(out[i]) else ""
                want = count_chars(out[i]) + max(40, (target - now) // n_left)
                longer = yield from session._relay(composer.extend(out[i], job, passages, want, notes, line_role,
                                                                "\n".join(out[:i]), topic=topic), key, progress)
                if count_chars(longer) > count_chars(out[i]):
                    out[i] = longer
            if count_chars("\n".join(l for l in out if l.strip())) >= 0.85 * target:
                break
        text = "\n".join(l for l in out if l.strip())
    text, repeats = drop_section_repeats(text, session.user_text())
    if repeats:
        notes.append(f"删去了{repeats}句与本段前文重复的话")
    why = repair.check_refined(original, text)
    if why:
        return repair.Repaired("", error=why + "，为保持结构，原文保留。可以换个说法再试。")
    return repair.Repaired(text, notes)


def item_text(session: Session, target) -> str | None:
    from ..structure import parse

    key = target.section_key()
    if not key or not session.doc.get(key):
        return None
    part = parse(session.doc.get(key)).parts
    items = part[0].items if part else []
    return next((i.text for i in items if i.number == target.item), None)
