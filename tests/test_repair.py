"""The format rules every model reply passes before it enters the document (assistant/repair.py)."""

from __future__ import annotations

from assistant.plan import SpeechPlan, plan_from_speech
from assistant.repair import (check_refined, repair_closing, repair_opening, repair_outline, repair_part,
                              repair_transition)
from assistant.structure import parse
from tests.fakes import TEMPLATES


def test_a_part_gets_its_own_numeral_and_one_heading():
    r = repair_part("三、聚焦重点任务\n要抓好落实，推动工作。\n四、另一部分\n不该留下。", 2)
    assert r.ok and r.text.split("\n")[0] == "二、聚焦重点任务"
    assert "四、" not in r.text and "不该留下" not in r.text
    assert any("其他部分" in n for n in r.notes)


def test_a_tasks_part_without_items_is_split_into_numbered_items():
    reply = "突出重点\n要统一思想。\n要抓好竞赛。\n要培养人才。\n要维护权益。"
    r = repair_part(reply, 2, role="tasks")
    items = parse(r.text).parts[0].items
    assert [i.marker for i in items] == ["一是", "二是", "三是"]
    assert r.text.split("\n")[1] == "要统一思想。"  # the first paragraph stays the intro


def test_numbered_lists_become_shi_items_renumbered_in_order():
    r = repair_part("聚焦重点\n1. 要抓好竞赛。\n3. 要培养人才。", 2, role="tasks")
    assert [l[:2] for l in r.text.split("\n")[1:]] == ["一是", "二是"]


def test_an_order_part_keeps_its_shouxian_items_only_when_the_plan_says_so():
    reply = "突出重点\n做好工作要抓住关键。\n首先，要抓好竞赛。\n其次，要培养人才。\n最后，要维护权益。"
    kept = repair_part(reply, 2, role="tasks", item_style="order")
    assert [i.marker for i in parse(kept.text).parts[0].items] == ["首先", "其次", "最后"]
    default = repair_part(reply, 2, role="tasks")  # as before: 一是/二是 when the plan has no 首先 items
    assert [i.marker for i in parse(default.text).parts[0].items] == ["一是", "二是", "三是"]


def test_an_empty_reply_or_a_heading_alone_is_refused():
    assert not repair_part("", 1).ok
    assert not repair_part("一、只有标题", 1).ok


def test_an_opening_carries_no_headings_and_no_transition():
    r = repair_opening("同志们：\n今天大会隆重开幕了。\n刚才，XX同志作了报告。下面，我讲三点意见。\n一、提高认识")
    assert r.text == "同志们：\n今天大会隆重开幕了。"


def test_the_transition_ends_with_as_many_points_as_the_plan_has_parts():
    assert repair_transition("大家发言很好。").text == "刚才，大家发言很好。下面，我讲三点意见。"
    assert repair_transition("大家发言很好。", "四").text.endswith("下面，我讲四点意见。")
    said = repair_transition("刚才，XX同志作了报告。下面，我讲两点意见。还有别的话。", "两").text
    assert said == "刚才，XX同志作了报告。下面，我讲两点意见。"


def test_a_closing_gets_its_call_and_loses_opening_lines():
    r = repair_closing("大家好，今天大会隆重开幕。\n同志们，使命光荣。")
    assert r.text.startswith("同志们，使命光荣。") and "让我们" in r.text
    assert not repair_closing("尊敬的各位来宾").ok


def test_an_outline_has_as_many_parts_as_the_plan():
    reply = "一、认识意义\n二、重点任务\n一是抓好竞赛\n二是培养人才\n三、维护权益\n四、加强领导\n五、多出来的"
    headings, items, notes = repair_outline(reply)
    assert sorted(headings) == [1, 2, 3] and items[2] == ["抓好竞赛", "培养人才"]
    four = plan_from_speech((TEMPLATES / "four_part_zonggonghui.txt").read_text(encoding="utf-8"))
    headings, _, notes = repair_outline(reply, plan=four)
    assert sorted(headings) == [1, 2, 3, 4] and headings[4] == "加强领导"
    assert not any("第三部分还没有分条任务" in n for n in notes)  # only the first tasks part is asked about
    short, _, notes = repair_outline("一、认识意义", plan=four)
    assert sorted(short) == [1, 2, 3, 4] and sum("已补默认标题" in n for n in notes) == 3
    assert SpeechPlan.default().count == 3


def test_a_refined_text_that_loses_structure_is_refused():
    original = "二、重点任务\n一是抓好竞赛。\n二是培养人才。"
    assert check_refined(original, "二、重点任务\n一是抓紧竞赛。\n二是培养更多人才。") is None
    assert "丢失" in check_refined(original, "二、重点任务\n一是抓好竞赛。")
    assert "标题" in check_refined(original, "一是抓好竞赛。\n二是培养人才。")
