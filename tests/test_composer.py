"""Composing sections from small model calls: what the code guarantees whatever the model writes."""

from __future__ import annotations

import pytest

from assistant.composer import clean_paragraph, item_topics
from assistant.drafting import Drafter
from assistant.session import Session
from assistant.settings import Settings
from assistant.structure import parse
from tests.fakes import by_prompt, scripted

ECHO_HEADING = "一、（第一部分标题：讲意义、认识或形势）"
ECHO_ITEMS = "一是……\n二是……\n三是……"


def session(script) -> tuple[Session, object]:
    llm = scripted(script)
    return Session(Drafter(Settings(), None, lambda: llm)), llm


def test_an_echoed_outline_is_asked_again_with_the_fault_named_then_replaced_and_the_user_told():
    """The bug report: the outline came back as the prompt's own template, twice, and was kept."""
    s, llm = session(by_prompt({"heading": ECHO_HEADING, "items": ECHO_ITEMS}))
    final = list(s.turn("为区科协第五次代表大会写讲话提纲，我是区长"))[-1].text
    outline = final.split("「写第二部分」：", 1)[1].split("·")[0]
    assert "（" not in outline and "……" not in outline and "区科协" in outline
    headings, items = s.outline
    assert all(h and "标题" not in h for h in headings.values())
    assert len(items[2]) == 3 and all("……" not in i for i in items[2])
    # each heading asked twice, the second time told what was wrong
    heading_calls = llm.prompts_named("heading")
    assert len(heading_calls) == 6
    assert "上一次写成了" in heading_calls[1] and "说明或占位" in heading_calls[1]
    assert "通用标题" in final and "补了通用的任务条目" in final
    # and the full text built on it has no template in it either
    list(s.turn("按提纲写全文"))
    text = s.doc.text()
    assert "……" not in text and "（第" not in text
    assert [i.marker for i in parse(s.doc.get("part2")).parts[0].items] == ["一是", "二是", "三是"]


def test_a_good_heading_is_taken_at_the_first_try():
    s, llm = session(by_prompt({"heading": "一、深刻认识新时代科协工作的重要意义"}))
    list(s.turn("为区科协第五次代表大会写讲话提纲，我是区长"))
    assert s.outline[0][1] == "深刻认识新时代科协工作的重要意义"
    assert "上一次" not in llm.prompts_named("heading")[0]


@pytest.mark.parametrize("request_, topics", [
    ("写第二部分，重点讲科普阵地建设、科技人才服务、学会改革三项", ["科普阵地建设", "科技人才服务", "学会改革"]),
    ("第二部分讲三项任务：康复服务、就业帮扶、无障碍环境建设", ["康复服务", "就业帮扶", "无障碍环境建设"]),
    ("第二部分讲引才、育才、留才三项任务", ["引才", "育才", "留才"]),
    ("第二部分重点讲三个方面：一是招商引资，二是项目建设，三是营商环境", ["招商引资", "项目建设", "营商环境"]),
    ("写第二部分：围绕中心、服务大局", []),  # the part's subject, not its items
    ("为区科协第五次代表大会写讲话提纲，我是区长", []),
    ("第二部分讲三项任务", []),
])
def test_the_items_a_user_lists_are_the_items(request_, topics):
    assert item_topics(request_) == topics


def test_a_user_listed_part_has_exactly_those_items_in_order():
    s, _ = session(by_prompt({}))
    list(s.turn("为区科协第五次代表大会写第二部分，重点讲科普阵地建设、科技人才服务、学会改革三项"))
    items = parse(s.doc.get("part2")).parts[0].items
    assert [i.marker for i in items] == ["一是", "二是", "三是"]
    for item, topic in zip(items, ["科普阵地建设", "科技人才服务", "学会改革"]):
        assert topic in item.text


def test_a_clause_said_twice_in_a_paragraph_is_said_once():
    text = clean_paragraph("要加强康复服务体系建设，提高残疾人的生活质量。要完善就业帮扶，拓宽渠道，提高残疾人的生活质量。", 200)
    assert text.count("提高残疾人的生活质量") == 1
    assert "要完善就业帮扶，拓宽渠道。" in text


def test_a_clause_from_the_text_before_is_not_repeated():
    text = clean_paragraph("要完善就业帮扶机制，提高残疾人的生活质量。", 200, previous="要加强康复服务体系建设，提高残疾人的生活质量。")
    assert text == "要完善就业帮扶机制。"


def test_the_brief_read_back_by_the_model_is_not_text():
    raw = "【讲话要素】会议：江屿市侨联第六次代表大会；讲话人：副市长。\n侨联工作十分重要，我们要认真做好。"
    assert clean_paragraph(raw, 100) == "侨联工作十分重要，我们要认真做好。"


def test_a_heading_after_a_lead_in_line_is_the_heading():
    from assistant.composer import clean_heading
    from assistant.drafting import first_lines

    reply = "好的，以下是小标题：\n一、深刻认识科协工作的重要意义\n二、……"
    assert clean_heading(reply) == "深刻认识科协工作的重要意义"
    assert reply[: first_lines(1)(reply)].endswith("重要意义")  # the stream is not cut after the lead-in


def test_a_copy_across_two_sentences_is_not_kept():
    from assistant.composer import Composer, Job
    from assistant.brief import Brief
    from assistant.judges import longest_common_run
    from assistant.retrieval import Passage

    past = "各级工会组织要围绕中心服务大局。积极投身全区经济社会发展主战场。"
    text = "我们要守正创新。各级工会组织要围绕中心服务大局。积极投身全区经济社会发展主战场。"
    c = Composer(Drafter(Settings(), None, lambda: scripted(lambda p: "")))
    notes: list[str] = []
    gen = c.decopy(text, [Passage("x#1", past, "000.txt", "工会讲话", "tasks", 2, "", 0.1)], notes, target=10)
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        out = stop.value
    assert longest_common_run(out, [past])[0] <= 30 and out.startswith("我们要守正创新。")
    assert notes


def test_the_audience_is_addressed_as_the_salutation_names_it():
    from assistant.composer import fit_address

    assert fit_address("同志们，让我们携手共进。", "各位企业家，各位来宾，女士们、先生们，朋友们") == "朋友们，让我们携手共进。"
    assert fit_address("同志们，让我们携手共进。", "各位代表，同志们") == "同志们，让我们携手共进。"


# what the model writes when asked to go on, by the aspect the prompt names (a real model writes new sentences only
# when it is given something new to say)
GO_ON = {
    "取得的成绩": "过去几年，全区妇女工作在服务大局中展现了新作为，广大妇女在各自岗位上贡献了智慧和力量，成绩来之不易。",
    "对大家的期望": "希望各位代表珍惜荣誉、认真履职，集思广益、共商大计，把这次大会开成一次团结的大会、奋进的大会。",
}
# for an item, by the item the prompt names and the aspect it asks for
GO_ON_ITEMS = {
    "聚焦中心大局": {"目标和效果": "要让广大妇女成为全区发展的一支生力军，在经济建设、科技创新一线都能看到妇女的身影。",
                   "怎样抓好落实": "各级妇联要把建功活动纳入年度重点，建立台账、挂图作战，每季度通报进展。"},
    "家庭家教家风": {"目标和效果": "要让好家风成为社会好风气的源头活水，家家户户崇德向善、邻里和睦。",
                   "怎样抓好落实": "要依托新时代文明实践站办好家长课堂，把家教指导送到社区、送进村组。"},
    "妇女儿童合法权益": {"目标和效果": "要让每一位遇到困难的妇女都能找到组织、得到帮助，合法权益得到有效维护。",
                     "怎样抓好落实": "要会同法院、公安、民政建立联动机制，做到投诉有人接、问题有人管、结果有回音。"},
}


def go_on(prompt: str) -> str:
    import re

    aspect = re.search(r"这一段要讲的意思：([^\n]+)", prompt).group(1)
    item = re.search(r"这一条：([^\n]+)", prompt)
    if item:
        replies = next((v for k, v in GO_ON_ITEMS.items() if k in item.group(1)), {})
        return next((v for k, v in replies.items() if k in aspect), "")
    return next((v for k, v in GO_ON.items() if k in aspect), "")


def test_an_opening_asked_longer_than_the_model_writes_goes_on_with_new_aspects_to_about_that_length():
    s, llm = session(by_prompt({"more": go_on}))
    list(s.turn("为区妇联第四次代表大会写开场白，我是区长，300字左右"))
    opening = s.doc.get("opening")
    asked = llm.prompts_named("more")
    assert any("取得的成绩" in a for a in asked) and any("对大家的期望" in a for a in asked)
    assert GO_ON["取得的成绩"] in opening and GO_ON["对大家的期望"] in opening
    from assistant.judges import chars
    assert 240 <= chars(opening) <= 360


def test_an_opening_without_a_length_asked_is_not_padded():
    s, llm = session(by_prompt({"more": go_on}))
    list(s.turn("为区妇联第四次代表大会写开场白，我是区长"))
    assert llm.prompts_named("more") == []


def test_a_part_refined_to_twice_its_length_grows_in_its_short_items_and_keeps_its_lead_in():
    from tests.fakes import PART2

    s, llm = session(by_prompt({"more": go_on, "refine": lambda p: p.split("原文：", 1)[1].strip()}))
    part = PART2.replace("三是要维护妇女儿童合法权益，办好民生实事。要健全维权服务机制。", "三是维护妇女儿童合法权益。")
    s.doc.set("part2", part)
    list(s.turn("第二部分扩写到400字"))
    new = s.doc.get("part2")
    lines = new.split("\n")
    assert lines[:2] == part.split("\n")[:2]  # heading and the lead-in as they were
    third = next(l for l in lines if l.startswith("三是"))
    assert len(third) > len("三是维护妇女儿童合法权益。") + 20
    from assistant.judges import chars
    assert chars(new) >= 0.8 * 400


PART_WITH_A_LOOP = ("二、扎实推进重点工作\n要重点抓好以下几个方面。\n"
                    "一是加强科普阵地建设。要完善基层科普设施，提升科普服务能力，让群众就近享受科普服务。\n"
                    "二是做好科技人才服务。要完善基层科普设施，提升科普服务能力，吸引更多人才。要搭建服务平台。")


def test_a_phrase_said_twice_in_a_part_is_said_once():
    from assistant.composer import drop_section_repeats
    from assistant.judges import repeated_run

    assert repeated_run(PART_WITH_A_LOOP)  # the judge hears the loop
    text, dropped = drop_section_repeats(PART_WITH_A_LOOP)
    assert dropped == 1 and not repeated_run(text)
    lines = text.split("\n")
    assert lines[:3] == PART_WITH_A_LOOP.split("\n")[:3]  # heading, lead-in, the first item untouched
    assert lines[3] == "二是做好科技人才服务。要搭建服务平台。"  # the headline stays, the repeat goes, the rest stays


def test_a_repeat_of_a_code_owned_line_drops_the_models_sentence():
    from assistant.composer import drop_section_repeats

    text = ("三、加强组织领导\n要把科普工作摆上重要议程，切实加强组织领导，形成工作合力。"
            "一是健全工作机制，要把科普工作摆上重要议程。")  # the model said the headline's phrase before it
    out, dropped = drop_section_repeats(text.replace("。一是", "。\n一是"))
    assert dropped == 1 and out == "三、加强组织领导\n一是健全工作机制，要把科普工作摆上重要议程。"


def test_what_the_user_gave_may_be_said_twice():
    from assistant.composer import drop_section_repeats

    given = "提升科普服务能力，让群众就近享受"
    text = f"一是加强阵地建设。要{given}科普服务。\n二是做好人才服务。还应{given}人才服务。"
    assert drop_section_repeats(text, allowed=given) == (text, 0)


def test_a_sentence_whose_main_clause_repeats_goes_whole():
    """Dropping the repeated clause must not leave 「回顾这段时间以来。」 standing as a sentence."""
    from assistant.composer import _drop_repeated_clauses

    before = "全区科技工作取得了显著成绩，为经济社会发展作出了重要贡献。"
    assert _drop_repeated_clauses("回顾这段时间以来，全区科技工作取得了显著成绩。", before) == ""
    assert _drop_repeated_clauses("我们要搭建平台，全区科技工作取得了显著成绩。", before) == "我们要搭建平台。"


def test_an_items_headline_that_repeats_the_heading_loses_that_clause():
    from assistant.composer import drop_section_repeats
    from assistant.judges import repeated_run

    text = ("二、突出重点、攻坚突破，推动瑞丰集团取得新成效\n做好今后一个时期的瑞丰集团工作，要重点抓好以下几个方面。\n"
            "一是要强化创新驱动，推动技术进步。要加大科技投入。\n"
            "二是要优化提升战略定位和资源配置，推动瑞丰集团取得新成效。要加强资源配置优化。")
    out, dropped = drop_section_repeats(text)
    assert dropped == 1 and not repeated_run(out)
    assert "二是要优化提升战略定位和资源配置。要加强资源配置优化。" in out
    assert out.startswith("二、突出重点、攻坚突破，推动瑞丰集团取得新成效\n")


def test_an_enumeration_inside_a_paragraph_loses_its_numerals():
    raw = "一、制定科学的战略规划，明确未来发展方向；二、加强市场调研和分析，把握行业动态；三、优化内部管理，提高运营效率。"
    out = clean_paragraph(raw, 200)
    assert "一、" not in out and "二、" not in out and "三、" not in out and "把握行业动态" in out


def test_a_cut_to_whole_sentences_lands_nearest_the_length_asked():
    from assistant.composer import closest_trim
    from assistant.structure import count_chars

    text = "甲" * 59 + "。" + "乙" * 59 + "。" + "丙" * 59 + "。" + "丁" * 59 + "。"
    assert count_chars(closest_trim(text, 200)) == 180  # three sentences (180) is nearer 200 than four (240)
    assert count_chars(closest_trim(text, 220)) == 240
    assert count_chars(closest_trim(text, 20)) == 60  # at least one sentence


def test_a_significance_paragraph_that_opens_with_yi_shi_loses_the_marker():
    """The code's topic sentence goes before the model's paragraph: a 「一是」 opening it would stand mid-paragraph."""
    from assistant.drafting import Drafter
    from assistant.session import Session
    from assistant.settings import Settings
    from tests.fakes import by_prompt, scripted

    reply = "一是科协组织是党和政府联系科技工作者的桥梁纽带，地位作用十分重要。二是全区科技工作者要主动担当，积极作为。"
    llm = scripted(by_prompt({"paragraph": reply}))
    s = Session(Drafter(Settings(), None, lambda: llm))
    list(s.turn("为区科协第五次代表大会写第一部分"))
    part = s.doc.get("part1")
    assert "桥梁纽带" in part, part
    assert "一是科协" not in part and "二是全区" not in part, part
