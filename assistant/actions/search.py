"""Past speeches: 「找一下“墩苗”计划那段」 (the knowledge base) and 「这段参考了哪些讲话」 (a section's sources)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..document import section_label
from ..events import Event

if TYPE_CHECKING:
    from ..session import Session


def do_search(session: Session, it, message, selection):
    """Look something up in past speeches: the best passages for what the user remembers, and where they are."""
    from ..chunking import part_name
    from ..kb_admin import search_passages

    if session.drafter.searcher is None:
        yield Event("message", "没有可查的知识库：请先在「知识库」页上传往年讲话。")
        return
    role = ""
    if it.target is not None:
        role = {"opening": "opening", "transition": "opening", "closing": "closing"}.get(it.target.kind, "")
        if it.target.kind in ("part", "item") and it.target.part and session.plan.has_part(it.target.part):
            role = session.plan.role(it.target.part)
    part = part_name(role)
    note, hits = search_passages(session.drafter.searcher, it.topic or "", k=5, part=part)
    if not hits:
        yield Event("message", note)
        return
    scope = f"，限{part}" if part else ""
    lines = [f"往年讲话中与「{it.topic}」最相关的 {len(hits)} 段（按相关程度排序{scope}）："]
    for i, p in enumerate(hits, 1):
        lines.append(f"{i}. 《{p.title}》{p.part_label}（{p.source}）\n   {p.snippet(100)}")
    lines.append("要看某段在原讲话中的位置：在右侧「知识库」页查找同样的内容，点选结果。")
    yield Event("message", "\n".join(lines))


def do_source(session: Session, it, message, selection):
    """「这段参考了哪些讲话」: the past speeches a section was drafted from; a quoted sentence is looked up instead."""
    key = session._resolve(it.target) or session.last_section
    label = section_label(key) if key else "这一部分"
    rows = session.section_sources.get(key or "", [])
    if not rows:
        yield Event("message", f"{label}没有记录参考来源（可能是您粘贴或手动编辑的内容，或还没有起草）。"
                    "要查一句话的出处，请把它放在引号里问我，例如：“坚持以人民为中心”出自哪篇讲话？")
        return
    lines = [f"{label}起草时参考了这些往年讲话（只借鉴写法，事实没有照搬）："]
    for i, r in enumerate(rows[:6], 1):
        lines.append(f"{i}. 《{r.get('title', '')}》（{r.get('source', '')}）\n   {r.get('snippet', '')}")
    lines.append("在右侧「参考来源」页点选一行，可以看到这段在原讲话中的位置。")
    yield Event("message", "\n".join(lines))
