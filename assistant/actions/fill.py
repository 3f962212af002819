"""Filling blanks: 「“_”规划是十五五」, a new value for a filled blank, a person the speech names, 「确认建议」,
and the ledger panel's value for one blank (``Session.fill_from_panel``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from .. import placeholders
from ..document import Document, section_label
from ..events import Event

if TYPE_CHECKING:
    from ..session import Session


def do_fill(session: Session, it, message, selection):
    if session.doc.is_empty:
        yield Event("message", "文档里还没有空白可填。请先起草或粘贴讲稿。")
        return
    session.ledger.refresh(session.doc.text())
    req = placeholders.parse_fill(message, session.ledger)
    if req is None:
        yield Event("message", "没看出要填哪个空。可以这样说：「“_”规划是十五五」「第一个空填十四五」。")
        return
    if isinstance(req, placeholders.FillProblem):
        if req.reason == "not_found":
            again = refill(session, message)
            if again is not None:
                yield from again
                return
        yield Event("message", req.message)
        return
    if req.how == "refill":
        yield from change_filled(session, session.ledger.entries[req.ids[0]], req.value)
        return
    if req.how == "mention":  # 「惠兰同志是区总工会主席王惠兰」: a person the speech names, not a blank
        yield from note_mention(session, req)
        return
    yield from fill(session, req.ids, req.value)


def note_mention(session: Session, req) -> Iterator[Event]:
    """A person the speech names becomes a known fact: drafts may name them so without it being taken for an
    invented name; the text is not touched (a mention is not a blank)."""
    try:
        session.ledger.accept(req)
    except placeholders.BadValue as exc:
        yield Event("message", str(exc))
        return
    yield Event("message", f"记下了：{req.target}是“{req.value}”。以后起草时可以这样称呼，不会当作编造的人名；"
                           f"文中的“{req.target}”不是空白，原样保留，需要改写可以直接在文档里编辑。")


def refill(session: Session, message: str) -> Iterator[Event] | None:
    """A blank that was already filled gets a new value: change it everywhere it was filled."""
    filled = [e for e in session.ledger.entries.values() if not e.in_text and e.value and e.status == "confirmed"]
    hit = next((e for e in filled if e.label in message), None)
    m = re.search(r"(?:是|为|填|改成|改为|换成)\s*[“\"「]?([^“”\"「」]+?)[”\"」]?[。！!]?$", message)
    if hit is None or m is None:
        return None
    return change_filled(session, hit, m.group(1).strip())


def change_filled(session: Session, hit, new_value: str) -> Iterator[Event]:
    old_value = hit.value
    problem = placeholders.value_problem(new_value)

    def events():
        if problem:
            yield Event("message", problem)
            return
        if new_value == old_value:
            yield Event("message", f"{hit.label}已经是“{old_value}”了。")
            return
        doc = session.doc.copy()
        count = 0
        for e in session.ledger.group(hit.key):
            old = e.before[-2:] + old_value + e.after[:2]
            new = e.before[-2:] + new_value + e.after[:2]
            for k in doc.keys():  # section by section: no text moves between sections
                count += doc.sections[k].count(old)
                doc.sections[k] = doc.sections[k].replace(old, new)
        if not count:
            yield Event("message", f"文中找不到已填的“{old_value}”（可能已手动修改）。请直接在文档里修改。")
            return
        session.ledger.fill([hit.id], new_value)
        session._commit(doc, f"改填：{hit.label} {old_value}→{new_value}", None)
        yield Event("message", f"{hit.label}原来填的是“{old_value}”，已改为“{new_value}”（{count} 处）。说「撤销」可恢复。")

    return events()


def fill(session: Session, ids: list[str], value: str) -> Iterator[Event]:
    entries = [session.ledger.entries[i] for i in ids if i in session.ledger.entries]
    if not entries:
        yield Event("message", "没有找到这个空白。")
        return
    session.ledger.fill(ids, value)
    text, changes = session.ledger.apply(session.doc.text())
    if not changes:
        yield Event("message", "没有需要改动的地方。")
        return
    new = session.doc.with_replacements([(c.start, c.end, c.value) for c in changes])
    if new.text() != text:  # a change the sections cannot hold apart: fall back to the whole text
        new = Document.from_text(text)
        new.title = session.doc.title
    session._commit(new, f"填空：{entries[0].label}={value}", None)
    where = "、".join(dict.fromkeys(section_label(k) for c in changes if (k := new.section_at(c.new_start))))
    yield Event("message", f"已把 {len(changes)} 处“{entries[0].label}”填为“{value}”（{where}）。以后起草的内容也会沿用这个值。"
                + (f"\n还有 {len(session.ledger.open_entries())} 处空白待填。" if session.ledger.open_entries() else ""))


def confirm_proposals(session: Session) -> Iterator[Event]:
    proposed = [e for e in session.ledger.listed() if e.status == "proposed"]
    if not proposed:
        yield Event("message", "目前没有待确认的建议。")
        return
    done = []
    for key in dict.fromkeys(e.key for e in proposed):
        group = [e for e in proposed if e.key == key]
        for ev in fill(session, [e.id for e in group], group[0].value):
            done.append(ev.text)
    yield Event("message", "\n".join(done))


def from_panel(session: Session, entry_id: str, value: str) -> str:
    """The ledger panel: set a value for one blank (and every matching one)."""
    value = (value or "").strip()
    problem = placeholders.value_problem(value)
    if problem:
        return problem
    session.ledger.refresh(session.doc.text())
    if entry_id not in session.ledger.entries:
        return f"没有编号为 {entry_id} 的空白。"
    key = session.ledger.entries[entry_id].key
    ids = [e.id for e in session.ledger.group(key)]
    return "\n".join(ev.text for ev in fill(session, ids, value))
