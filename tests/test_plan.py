"""The speech's plan (assistant/plan.py): a four-part speech used as the template gives a four-part outline,
「讲四点意见」, a drafted 第四部分, checks against four parts and a four-part export — with a scripted model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant import intent as intents
from assistant.drafting import Drafter
from assistant.plan import PlanError, SpeechPlan, find_template, item_marker, plan_from_speech
from assistant.repair import repair_outline, repair_transition
from assistant.session import FULL_ORDER, Session
from assistant.settings import Settings
from assistant.structure import parse
from tests.fakes import SPEECHES, TEMPLATES, FakeKnowledgeBase, KnowledgeSearcher, scripted, speech_script

FOUR = TEMPLATES / "four_part_zonggonghui.txt"
FOUR_TITLE = "在青川区总工会第三次代表大会上的讲话"
SEED = SPEECHES / "000_seed_gonghui_daibiao_dahui.txt"
# what belongs to the template's occasion and must never reach the new speech
TEMPLATE_FACTS = ("青川", "王建华", "1.2万", "工匠摇篮", "86家", "100名", "20件", "总工会第二届")
OCCASION = "区妇联第五次代表大会"


def make_session(script=speech_script) -> Session:
    llm = scripted(script)
    kb = FakeKnowledgeBase(SEED, FOUR)
    s = Session(Drafter(Settings(), KnowledgeSearcher(kb), lambda: llm))
    s._llm = llm
    return s


def run(session: Session, message: str):
    return list(session.turn(message))


def final(events):
    return [e for e in events if e.kind in ("message", "error")][-1]


def four_part_session() -> Session:
    s = make_session()
    ev = final(run(s, "按《区总工会第三次代表大会讲话》的结构写"))
    assert ev.kind == "message", ev.text
    assert s.plan.count == 4
    return s


# --------------------------------------------------------------------------- the plan as data


def test_default_plan_is_the_seed_speech_shape():
    plan = SpeechPlan.default()
    seed = plan_from_speech(SEED.read_text(encoding="utf-8"))
    assert plan.roles() == seed.roles() == ("significance", "tasks", "guarantees")
    assert plan.item_style(2) == seed.item_style(2) == "shi"
    assert tuple(plan.section_keys()) == FULL_ORDER
    assert plan.count_word == "三" and plan.label() == "结构：三部分（默认）"


def test_a_four_part_speech_gives_a_four_part_plan_with_its_roles_and_item_styles():
    plan = plan_from_speech(FOUR.read_text(encoding="utf-8"))
    assert plan.count == 4 and plan.count_word == "四"
    assert plan.roles() == ("significance", "tasks", "tasks", "guarantees")
    assert [plan.item_style(n) for n in (2, 3)] == ["shi", "paren"]
    assert plan.item_count(2) == plan.item_count(3) == 3
    assert plan.source == FOUR_TITLE and plan.label() == f"结构：四部分（来自《{FOUR_TITLE}》）"
    assert plan.section_keys() == ["opening", "transition", "part1", "part2", "part3", "part4", "closing"]
    # the template's headings are kept as examples only, with the occasion's facts blanked
    assert "青川" not in plan.describe() and "XX" in plan.part(1).heading


def test_item_markers_follow_the_style():
    assert [item_marker("shi", k, 3) for k in (1, 2, 3)] == ["一是", "二是", "三是"]
    assert [item_marker("paren", k, 3) for k in (1, 2, 3)] == ["（一）", "（二）", "（三）"]
    assert [item_marker("order", k, 3) for k in (1, 2, 3)] == ["首先，", "其次，", "最后，"]


def test_a_speech_without_parts_cannot_be_a_template():
    with pytest.raises(PlanError, match="部分标题"):
        plan_from_speech("同志们：\n今天我们召开座谈会。\n让我们共同努力！", "座谈会致辞")


def test_find_template_by_title_occasion_or_close_words():
    kb = FakeKnowledgeBase(SEED, FOUR)
    assert find_template("区总工会第三次代表大会讲话", kb.sources())[0] == FOUR.name
    assert find_template(FOUR_TITLE, kb.sources())[0] == FOUR.name
    assert find_template("昌平区工会第三次代表大会", kb.sources())[0] == SEED.name
    assert find_template("区总工会第四次代表大会", kb.sources())[0] == FOUR.name  # last year's, for this year's
    name, close = find_template("区妇联第三次代表大会讲话", kb.sources())
    assert name is None and close and close[0] == FOUR_TITLE  # another organisation: only offered
    assert find_template("全市防汛抗旱工作会议", kb.sources()) == (None, [])


def test_plan_survives_persistence():
    s = four_part_session()
    fresh = make_session()
    fresh.restore_state(s.to_dict())
    assert fresh.plan.roles() == s.plan.roles() and fresh.plan.source == FOUR_TITLE
    assert make_session().to_dict()["plan"] is None  # the default plan is not stored: old sessions read the same


# --------------------------------------------------------------------------- routing


def test_template_requests_route_before_anything_else():
    assert intents.template_request("按《区总工会第三次代表大会讲话》的结构写") == ("区总工会第三次代表大会讲话", "")
    assert intents.template_request("用这篇当模板") == ("this", "")
    assert intents.template_request("恢复默认结构") == ("default", "")
    what, rest = intents.template_request(f"按《{FOUR_TITLE}》的结构，为{OCCASION}写个提纲")
    assert what == FOUR_TITLE and rest == f"为{OCCASION}写个提纲"
    assert intents.route("用《区总工会讲话》当模板写全文").action == "template"
    assert intents.template_request("按提纲写全文") is None


def test_the_plan_roles_decide_which_part_a_semantic_name_means():
    roles = ("significance", "tasks", "tasks", "guarantees")
    assert intents.parse_target("领导保障部分", part_count=4, roles=roles).part == 4
    assert intents.parse_target("最后一部分", part_count=4).part == 4
    assert intents.parse_target("下一部分", last_section="part3", part_count=4).part == 4
    assert intents.parse_target("下一部分", last_section="part3", part_count=3).kind == "closing"


def test_part_four_is_refused_without_a_four_part_plan():
    s = make_session()
    run(s, f"为{OCCASION}写第三部分")
    before = s.doc.snapshot()
    ev = final(run(s, "写第四部分"))
    assert "没有第四部分" in ev.text and "三部分" in ev.text and "模板" in ev.text, ev.text
    assert s.doc.snapshot() == before


def test_unknown_template_title_says_what_is_close():
    s = make_session()
    ev = final(run(s, "按《区妇联第三次代表大会讲话》的结构写"))
    assert "没有找到" in ev.text and f"最接近的有：《{FOUR_TITLE}》" in ev.text, ev.text
    assert s.plan.is_default
    ev = final(run(s, "按《全市防汛抗旱工作会议讲话》的结构写"))
    assert "没有找到" in ev.text and "最接近" not in ev.text and s.plan.is_default


# --------------------------------------------------------------------------- the four-part speech end to end


def test_template_message_says_four_parts_and_keeps_no_facts():
    s = make_session()
    ev = final(run(s, "按《区总工会第三次代表大会讲话》的结构写"))
    assert "四个部分" in ev.text and "四点意见" in ev.text
    told = ev.text.replace(f"《{FOUR_TITLE}》", "")  # the template is named; nothing of its content is shown
    assert not any(f in told for f in TEMPLATE_FACTS), ev.text


def test_four_part_template_yields_a_four_part_outline():
    s = make_session()
    events = run(s, f"按《区总工会第三次代表大会讲话》的结构，为{OCCASION}写个提纲，我是区委书记")
    ev = final(events)
    assert ev.kind == "message", ev.text
    headings, items = s.outline
    assert sorted(headings) == [1, 2, 3, 4]
    assert sorted(items) == [2, 3]  # both tasks parts of the template get their items
    assert len(re.findall(r"^[一二三四]、", ev.text, re.M)) == 4 and "四、" in ev.text
    assert "（一）" in ev.text and "一是" in ev.text  # part 三 keeps the template's （一） items
    assert "结构：四部分" in ev.text
    asked = [p for p in s._llm.prompts_named("heading") if "第四部分" in p]
    assert asked, "the model was asked for part 四's heading"
    assert not any(f in ev.text.replace(f"《{FOUR_TITLE}》", "") for f in TEMPLATE_FACTS), ev.text
    # the template's heading is shown as an example, facts blanked, never its places
    assert not any("青川" in p for p in s._llm.calls)


def test_four_part_plan_drafts_the_whole_speech_in_four_parts():
    s = four_part_session()
    run(s, f"为{OCCASION}写个提纲，我是区委书记")
    ev = final(run(s, "按提纲写全文"))
    assert ev.kind == "message", ev.text
    assert s.doc.keys() == ["opening", "transition", "part1", "part2", "part3", "part4", "closing"]
    assert "讲四点意见" in s.doc.get("transition")
    assert s.doc.get("part4").startswith("四、")
    three = parse(s.doc.get("part3")).parts[0]
    assert [i.marker for i in three.items] == ["（一）", "（二）", "（三）"]
    two = parse(s.doc.get("part2")).parts[0]
    assert [i.marker for i in two.items] == ["一是", "二是", "三是"]
    # the second tasks part does not open with the first one's sentence
    assert s.doc.get("part2").split("\n")[1] != s.doc.get("part3").split("\n")[1]
    text = s.doc.text()
    assert not any(f in text for f in TEMPLATE_FACTS), [f for f in TEMPLATE_FACTS if f in text]
    # checks expect the plan's four parts: all there, no "usually three" warning
    report = s.check_report()
    codes = {i.code for i in report.items}
    assert "parts" in codes and "part_count" not in codes and "part_missing" not in codes
    assert "transition_count" not in codes
    assert any(i.message.startswith("四个部分齐全") for i in report.items)


def test_write_part_four_with_the_four_part_plan():
    s = four_part_session()
    ev = final(run(s, f"为{OCCASION}写第四部分"))
    assert ev.kind == "message", ev.text
    assert s.doc.get("part4").startswith("四、")
    assert "第四部分" in ev.text


def test_checks_miss_part_four_when_the_plan_has_four():
    s = four_part_session()
    for n in ("一", "二", "三"):
        run(s, f"为{OCCASION}写第{n}部分")
    assert {i.code for i in s.check_report().errors} >= {"part_missing"}
    assert any("第四部分" in i.message for i in s.check_report().errors)
    default = make_session()
    default.restore_state({**s.to_dict(), "plan": None})
    assert "part_missing" not in {i.code for i in default.check_report().errors}


def test_export_has_four_parts(tmp_path):
    import docx

    from assistant.ui import export_document

    s = four_part_session()
    run(s, f"为{OCCASION}写个提纲")
    run(s, "按提纲写全文")
    out = export_document(s, "docx", tmp_path, confirmed=True)
    assert out["path"], out["message"]
    paragraphs = [p.text for p in docx.Document(out["path"]).paragraphs]
    assert [p[:2] for p in paragraphs if re.match(r"^[一二三四五]、", p)] == ["一、", "二、", "三、", "四、"]
    assert any("讲四点意见" in p for p in paragraphs)


def test_use_this_as_template_with_the_speech_pasted():
    s = make_session()
    ev = final(run(s, "用这篇当模板\n" + FOUR.read_text(encoding="utf-8")))
    assert s.plan.count == 4 and "四个部分" in ev.text
    assert s.doc.is_empty  # the template is not loaded as the document


def test_use_this_as_template_on_the_current_document():
    s = make_session()
    run(s, FOUR.read_text(encoding="utf-8"))  # pasted: it becomes the document
    assert s.plan.is_default and len(s.doc.part_numbers()) == 4
    ev = final(run(s, "用这篇当模板"))
    assert s.plan.count == 4, ev.text


def test_back_to_the_default_plan_drops_a_four_part_outline():
    s = four_part_session()
    run(s, f"为{OCCASION}写个提纲")
    assert len(s.outline[0]) == 4
    ev = final(run(s, "恢复默认结构"))
    assert s.plan.is_default and s.outline is None and "三个部分" in ev.text


def test_the_menu_sets_a_template_by_file_name():
    s = make_session()
    note = s.use_template(FOUR.name)
    assert s.plan.count == 4 and "四个部分" in note
    assert "默认" in s.use_template("") and s.plan.is_default


# --------------------------------------------------------------------------- repair


def test_repair_outline_keeps_four_parts_when_the_plan_has_four():
    reply = "一、认识意义\n二、重点任务\n一是抓好竞赛\n二是培养人才\n三、维护权益\n（一）健全机制\n四、加强领导"
    four = plan_from_speech(FOUR.read_text(encoding="utf-8"))
    headings, items, _ = repair_outline(reply, plan=four)
    assert sorted(headings) == [1, 2, 3, 4] and headings[4] == "加强领导"
    headings, _, _ = repair_outline(reply)
    assert sorted(headings) == [1, 2, 3]  # the default plan: three parts, as before


def test_repair_transition_adds_the_plan_count():
    assert repair_transition("刚才，大家发言很好。", "四").text.endswith("下面，我讲四点意见。")
    assert repair_transition("刚才，大家发言很好。").text.endswith("下面，我讲三点意见。")
    kept = repair_transition("刚才，XX同志作了报告。下面，我讲四点意见。", "四").text
    assert kept.endswith("下面，我讲四点意见。") and kept.count("意见") == 1


# --------------------------------------------------------------------------- the page and the command line


def test_the_page_shows_the_plan_and_offers_the_knowledge_base_speeches():
    from types import SimpleNamespace

    from assistant.ui import panels, plan_line, template_choices

    s = four_part_session()
    assert plan_line(s) == f"**结构：四部分（来自《{FOUR_TITLE}》）**：一、意义 二、任务 三、任务 四、保障"
    assert panels(s)[-1] == plan_line(s)
    choices = template_choices(SimpleNamespace(kb=s.knowledge_base()))
    assert choices[0][1] == "" and "默认" in choices[0][0]
    assert (f"《{FOUR_TITLE}》（四部分）", FOUR.name) in choices


def test_cli_draft_follows_a_template(tmp_path, openai_stub):
    """``speech-assistant draft … --template TITLE``: part 四 exists with a four-part template, and an unknown
    title is one clear error before any model call."""
    import json
    import shutil

    from tests.fakes import speech_script
    from tests.test_cli import cli

    kb = tmp_path / "kb"
    kb.mkdir()
    shutil.copy(FOUR, kb)
    shutil.copy(SEED, kb)
    openai_stub.reply = lambda body: speech_script("\n".join(str(m.get("content", "")) for m in body["messages"]))
    env = {"SPEECH_KNOWLEDGE_DIR": str(kb), "SPEECH_DATA_DIR": str(tmp_path / "data"), "SPEECH_AUTO_INGEST": "false",
           "OPENAI_BASE_URL": openai_stub.base_url, "OPENAI_API_KEY": "sk-test", "OPENAI_MODEL": "stub"}
    assert cli("ingest", str(kb), env=env).returncode == 0
    r = cli("draft", f"为{OCCASION}写第四部分", "--template", "区总工会第三次代表大会", "--json", env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["target"] == "part4" and out["text"].startswith("四、"), out
    assert out["plan"]["parts"] == 4 and out["plan"]["template"] == FOUR_TITLE
    assert "四点意见" in r.stderr  # what the plan is, told before drafting
    asked = len(openai_stub.requests_to("/v1/chat/completions"))
    bad = cli("draft", f"为{OCCASION}写第四部分", "--template", "全市防汛抗旱工作会议", env=env)
    assert bad.returncode == 2 and "没有找到" in bad.stderr
    assert len(openai_stub.requests_to("/v1/chat/completions")) == asked


# --------------------------------------------------------------------------- the real local model


@pytest.mark.slow
def test_local_model_outline_from_a_four_part_template_has_four_headings():
    from assistant.model_files import ensure_default_gguf
    from assistant.providers import make_chat_model, stop_local_server

    settings = Settings(chat_provider="local")
    ensure_default_gguf(settings)
    kb = FakeKnowledgeBase(SEED, FOUR)
    s = Session(Drafter(settings, KnowledgeSearcher(kb), lambda: make_chat_model(settings)))
    try:
        ev = final(run(s, "按《区总工会第三次代表大会讲话》的结构，为区科协第五次代表大会写个提纲，我是区长"))
    finally:
        stop_local_server()
    assert ev.kind == "message", ev.text
    headings, items = s.outline
    assert sorted(headings) == [1, 2, 3, 4] and all(len(h) >= 6 for h in headings.values()), headings
    assert re.findall(r"^([一二三四五六七八九十])、", ev.text, re.M) == ["一", "二", "三", "四"], ev.text
    assert len(items[2]) == 3 and len(items[3]) == 3
    assert not any(f in ev.text.replace(f"《{FOUR_TITLE}》", "") for f in TEMPLATE_FACTS), ev.text


def test_a_heading_that_copies_the_template_is_asked_again():
    """The template's heading is an example: a reply that reads it back (facts blanked or not) is refused."""
    from tests.fakes import by_prompt

    copied = plan_from_speech(FOUR.read_text(encoding="utf-8")).part(2).heading

    def heading(prompt):
        return ("二、" + copied) if "第二部分" in prompt else speech_script(prompt)

    llm = scripted(by_prompt({"heading": heading}))
    s = Session(Drafter(Settings(), KnowledgeSearcher(FakeKnowledgeBase(SEED, FOUR)), lambda: llm))
    run(s, "按《区总工会第三次代表大会讲话》的结构写")
    ev = final(run(s, f"为{OCCASION}写个提纲"))
    assert s.outline[0][2] != copied and copied not in ev.text
    assert sum("照抄了模板讲话的标题" in p for p in llm.prompts_named("heading")) >= 1  # the fault was named
    assert len(set(s.outline[0].values())) == 4  # and no two parts share a heading


def test_pasting_a_four_part_speech_says_how_to_follow_it():
    s = make_session()
    ev = final(run(s, FOUR.read_text(encoding="utf-8")))
    assert "四个部分" in ev.text and "用这篇当模板" in ev.text


def test_a_template_that_cannot_be_read_is_one_clear_message():
    from assistant.plan import plan_from_knowledge

    with pytest.raises(PlanError, match="知识库里还没有讲话"):
        plan_from_knowledge(None, "任何讲话")
    kb = FakeKnowledgeBase(SEED, FOUR)
    kb.paths.pop(FOUR.name)  # listed in the manifest, but the file has gone
    with pytest.raises(PlanError, match="读不出"):
        plan_from_knowledge(kb, FOUR.name)
    assert plan_from_knowledge(kb, SEED.name).count == 3
