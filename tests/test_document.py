"""The speech being drafted as named sections (assistant/document.py)."""

from __future__ import annotations

import pytest

from assistant.document import Document, outline_text, section_label

TEXT = ("在区妇联第五次代表大会上的讲话\n各位代表，同志们：\n今天大会隆重开幕了。\n刚才，XX同志作了报告。下面，我讲四点意见。\n"
        "一、认识意义\n意义重大。\n二、重点任务\n一是抓好竞赛。\n三、维护权益\n（一）健全机制。\n四、加强领导\n要加强领导。\n"
        "同志们，让我们团结奋斗！")


def test_free_text_becomes_named_sections_in_order():
    doc = Document.from_text(TEXT)
    assert doc.title == "在区妇联第五次代表大会上的讲话"
    assert doc.keys() == ["opening", "transition", "part1", "part2", "part3", "part4", "closing"]
    assert doc.part_numbers() == [1, 2, 3, 4] and doc.get("part4").startswith("四、")
    assert doc.text() == TEXT
    assert [section_label(k) for k in doc.keys()[2:6]] == ["第一部分", "第二部分", "第三部分", "第四部分"]


def test_a_replacement_stays_inside_its_section():
    doc = Document.from_text(TEXT)
    start = doc.text().index("XX")
    new = doc.with_replacements([(start, start + 2, "王海涛")])
    assert new.get("transition").startswith("刚才，王海涛同志") and new.get("opening") == doc.get("opening")
    end = doc.span("opening")[1]
    with pytest.raises(ValueError):
        doc.with_replacements([(end - 2, end + 3, "跨段")])


def test_outline_items_are_marked_as_the_plan_marks_each_part():
    headings = {1: "认识意义", 2: "重点任务", 3: "维护权益"}
    items = {2: ["抓好竞赛", "培养人才"], 3: ["健全机制", "办好实事", "加强服务"]}
    assert outline_text(headings, items).split("\n")[2:4] == ["一是抓好竞赛", "二是培养人才"]
    styled = outline_text(headings, items, {3: "paren"}).split("\n")
    assert styled[5:] == ["（一）健全机制", "（二）办好实事", "（三）加强服务"]
    ordered = outline_text({1: "重点任务"}, {1: ["抓好竞赛", "培养人才", "加强服务"]}, {1: "order"}).split("\n")
    assert ordered[1:] == ["首先，抓好竞赛", "其次，培养人才", "最后，加强服务"]
