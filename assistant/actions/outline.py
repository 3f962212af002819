"""The outline and the speech's structure: 「列个提纲」, 「第二部分加一条……」, 「按《……》的结构写」."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from .. import guard as guards
from .. import intent as intents
from ..document import section_label
from ..events import Event
from ..plan import PlanError, SpeechPlan, plan_from_speech
from ..structure import cn_numeral, match_heading

if TYPE_CHECKING:
    from ..session import Session


def do_outline(session: Session, it, message, selection):
    if not session.brief.occasion:
        yield Event("message", "请先告诉我是什么会议或场合，例如「为区科协第五次代表大会拟个提纲，我是区长」。")
        return
    tasks = "、".join(section_label(f"part{n}") for n in session.plan.tasks_parts())
    yield Event("status", f"正在拟提纲：{session.plan.count_word}个部分的标题" + (f"和{tasks}的任务" if tasks else "") + "……",
                "outline")
    composer = session._composer()
    headings, items, passages = yield from session._relay(composer.outline(session.brief, session.plan, message), "outline")
    allowed = session.allowed_text()
    guard = lambda t: guards.guard(t, allowed, passages, speech_date=session.speech_date, terms=session.terms).text
    headings = {n: guard(h) for n, h in headings.items()}
    items = {n: [guard(x) for x in v] for n, v in items.items()}
    session.outline = (headings, items)
    session.sources = session.last.sources = passages
    ask = "".join(f"\n· {n}" for n in dict.fromkeys(composer.notes))
    if not session.brief.speaker:
        ask = "\n您以什么身份讲话（例如「我是区长」）？知道后，开场白里“我代表……”会相应写好。"
    shape = "" if session.plan.is_default else session.plan.label() + "\n"
    yield Event("message", session.brief.summary(session.cpm) + "\n" + shape
                + "提纲如下，可以说「第二部分加一条……」调整，或说「按提纲写全文」「写第二部分」：\n"
                + session.outline_text() + ask)


def do_outline_edit(session: Session, it, message, selection):
    if session.outline is None:
        yield Event("message", "还没有提纲。请先说「帮我给……写个提纲」。")
        return
    headings, items = session.outline
    headings, items = dict(headings), {k: list(v) for k, v in items.items()}
    target = it.target
    n = target.part if target and target.part else (session.plan.first("tasks") or 2)
    m_add = re.search(r"(?:加|增加|添加|补充)(?:一条|一项|一点)?(?:关于)?(.+?)(?:的)?(?:内容)?$", message)
    m_title = re.search(r"标题(?:改成|改为|换成)[“\"「]?(.+?)[”\"」]?$", message)
    m_del = re.search(r"(?:删掉|删除|去掉)(?:第[一二三四五六七八九十\d]+部分的?)?第([一二三四五六七八九十\d]+)条", message)
    if m_title:
        headings[n] = m_title.group(1).strip("。")
        done = f"第{cn_numeral(n)}部分标题改为“{headings[n]}”"
    elif m_del:
        k = intents.cn_int(m_del.group(1)) or 0
        if not 1 <= k <= len(items.get(n, [])):
            yield Event("message", f"第{cn_numeral(n)}部分没有第{k}条。")
            return
        removed = items[n].pop(k - 1)
        done = f"删去了第{cn_numeral(n)}部分的“{removed}”"
    elif m_add:
        what = m_add.group(1).strip("。，, ")
        what = re.sub(r"^(一条|一项|一点)?(关于)?", "", what)
        items.setdefault(n, []).append(what if what.startswith(("要", "加强", "推进")) else f"加强{what}")
        done = f"第{cn_numeral(n)}部分加了一条：{items[n][-1]}"
    else:
        yield Event("message", "没看懂要怎么改提纲。可以说「第二部分加一条关于家风建设的」「把第三部分标题改成……」「删掉第二部分第三条」。")
        return
    session.outline = (headings, items)
    yield Event("message", f"好的，{done}。当前提纲：\n" + session.outline_text())


def do_template(session: Session, it: intents.Intent, message: str, selection: str | None) -> Iterator[Event]:
    """「按《……》的结构写」「用这篇当模板」「恢复默认结构」, then the rest of the message, if it asks for more."""
    what, rest = it.topic, it.instruction
    try:
        if what == "default":
            plan = SpeechPlan.default()
        elif what == "this":
            if rest and sum(1 for line in rest.splitlines() if match_heading(line)) >= 2:
                plan, rest = plan_from_speech(rest), ""
            elif not session.doc.is_empty:
                plan = plan_from_speech(session.doc.text(), session.doc.title or "当前文档")
            else:
                raise PlanError("请把要当模板的讲话粘贴在「用这篇当模板」这句话的下一行一起发送，"
                                "或说「按《讲话标题》的结构写」用知识库里的讲话。")
        else:
            plan = session.plan_from_knowledge(what)
    except PlanError as exc:
        yield Event("message", str(exc))
        return
    note = session.set_plan(plan)
    follow = intents.route(rest, has_document=not session.doc.is_empty, has_outline=session.outline is not None,
                           part_count=max(session.plan.count, len(session.doc.part_numbers())),
                           last_section=session.last_section) if rest else None
    if follow is None or follow.action not in ("outline", "draft", "draft_all", "outline_edit"):
        yield Event("message", note + "\n接下来可以说「为……写个提纲」或「按提纲写全文」。")
        return
    yield Event("status", note.split("\n", 1)[0])
    yield from session._dispatch(rest, selection)
