"""The draft-quality judges (assistant/judges.py): each one fails a realistic bad reply and passes a good one.

The scenario is the benchmark's 科协 congress (bench/draft_scenarios.yaml, ``kexie-congress``), given here in full so
that the judges' inputs are plain dicts, as :func:`assistant.draft_eval.judge_transcript` builds them.
"""

from __future__ import annotations

from datetime import date

import pytest

from assistant import judges as J
from assistant.draft_eval import judge_transcript, load_terms_for_judges
from assistant.draft_runner import prompt_templates

KEXIE = {
    "id": "kexie-congress", "occasion": "丰林区科学技术协会第五次代表大会", "organisation": "丰林区科协",
    "speaker": "区长", "audience": "代表", "topic": ["科协", "科技工作者", "科普", "创新"],
    "salutations": ["各位代表", "同志们"],
}
SAID = ["为丰林区科协第五次代表大会写讲话提纲，我是区长", "写第二部分，重点讲科普阵地建设、科技人才服务、学会改革三项"]
DAY = date(2026, 12, 3)
PASSAGE = ("青川区科技工作者协会成立以来，广大科技工作者围绕全区中心工作，积极投身科技创新主战场，"
           "为青川区经济社会发展作出了重要贡献。")

GOOD_PART = (
    "二、着力建强科普阵地，更好服务科技工作者\n"
    "新形势下，要把科协工作摆在更加突出的位置，团结引领广大科技工作者投身创新发展。\n"
    "一是加强科普阵地建设。要推动科普资源向基层延伸，办好科普大讲堂。\n"
    "二是做好科技人才服务。要为科技工作者办实事、解难题，营造尊重人才的良好氛围。\n"
    "三是深化学会改革。要激发学会活力，提升学术交流质量。"
)
GOOD_OPENING = ("各位代表，同志们：\n今天，丰林区科协第五次代表大会隆重开幕了。在此，我代表区委、区政府，"
                "向大会的召开表示热烈的祝贺！向全区广大科技工作者致以诚挚的问候！")


@pytest.fixture(scope="module")
def terms():
    return load_terms_for_judges()


@pytest.fixture
def ctx(terms):
    return J.Context(dict(KEXIE), list(SAID), DAY, [PASSAGE], ["在青川区科协代表大会上的讲话"],
                     list(prompt_templates().values()), terms)


# --------------------------------------------------------------------------- echo


def test_echo_fails_a_template_read_back(ctx):
    v = J.judge_echo("一、（第一部分标题：讲意义）\n一是……\n二是……", ctx)
    assert not v.ok and "（第一部分标题：讲意义）" in v.example


def test_echo_fails_empty_items(ctx):
    v = J.judge_echo("二、着力建强科普阵地\n一是……\n二是……", ctx)
    assert not v.ok and v.example == "一是……"


def test_echo_fails_the_fixed_text_of_a_prompt_file(ctx):
    v = J.judge_echo("一是加强科普阵地建设。用户没有给出的人名、职务、日期、数字、地名、规划名称，一律不写。", ctx)
    assert not v.ok and v.detail == "回复照抄了提示词"


def test_echo_passes_a_real_part(ctx):
    assert J.judge_echo(GOOD_PART, ctx).ok


# --------------------------------------------------------------------------- topic


def test_topic_fails_trade_union_text_in_a_science_association_speech(ctx):
    text = ("二、加强工会组织建设\n各级工会要团结引领广大职工建功立业，维护职工合法权益，推动工会工作高质量发展。"
            "要深化劳动竞赛，搭建职工创新平台。")
    v = J.judge_topic(text, ctx, "part", "part2")
    assert not v.ok and "工会" in v.detail


def test_topic_fails_an_outline_whose_headings_miss_the_occasion(ctx):
    text = "一、深刻认识新时代妇女工作的重要意义\n二、团结引领广大妇女建功新时代\n三、切实加强党对妇女工作的领导"
    assert not J.judge_topic(text, ctx, "outline").ok


def test_topic_passes_a_part_on_the_science_association(ctx):
    assert J.judge_topic(GOOD_PART, ctx, "part", "part2").ok


# --------------------------------------------------------------------------- wording


def test_wording_fails_the_fourteenth_plan_as_the_current_plan_in_2026(ctx):
    v = J.judge_wording("在“十四五”开局起步的关键时期，我们召开丰林区科协第五次代表大会。", ctx)
    assert not v.ok


def test_wording_fails_implementing_the_fourteenth_plan_in_2026(ctx):
    v = J.judge_wording("要深入实施“十四五”规划，推动科协事业高质量发展。", ctx)
    assert not v.ok and "十五五" in v.detail


def test_wording_passes_current_wording_and_a_look_back(ctx):
    assert J.judge_wording("要深入实施“十五五”规划，推动科协事业高质量发展。", ctx).ok
    assert J.judge_wording("回顾“十四五”时期，全区科协工作取得了显著成绩。", ctx).ok


def test_wording_has_nothing_to_say_without_a_terms_file(ctx):
    ctx.terms = None
    assert J.judge_wording("要深入实施“十四五”规划。", ctx).ok


# --------------------------------------------------------------------------- invented


def test_invented_fails_a_name_and_a_festival_nobody_gave(ctx):
    v = J.judge_invented("张建国同志作了工作报告。我们在这里庆祝五四青年节。", ctx)
    assert not v.ok
    kinds = {k for k, _ in J.invented_facts("张建国同志作了工作报告。我们在这里庆祝五四青年节。", ctx)}
    assert kinds == {"人名", "节日"}
    assert "张建国同志" in v.detail


def test_invented_fails_a_number_and_a_past_speechs_place(ctx):
    facts = J.invented_facts("青川区的经验值得借鉴，全区1200名科技工作者参加。", ctx)
    assert ("地名", "青川区") in facts
    assert any(k == "数字" and "1200" in f for k, f in facts)


def test_invented_passes_facts_the_user_gave(ctx):
    ctx.said.append("作工作报告的是张建国同志")
    assert J.judge_invented("刚才，张建国同志代表区科协作了工作报告。", ctx).ok


def test_invented_passes_a_part_without_facts_and_blanks(ctx):
    v = J.judge_invented(GOOD_PART + "\n刚才，XX同志作了工作报告。", ctx)
    assert v.ok and v.figure == 0


# --------------------------------------------------------------------------- corruption

RAW = "这次大会是全面发展的新起点，科技事业的繁荣离不开大家。我要代表区委、区政府表示祝贺。"


def test_corruption_fails_blanks_inside_words():
    final = "这次大会是全面发XX新起点，科技事XX繁荣离不开大家。我要XX区委、区政府表示祝贺。"
    v = J.judge_corruption(final, [RAW])
    assert not v.ok and v.figure == 3
    words = [w for w, _ in J.corrupted_words(final, [RAW])]
    assert words == ["发展的", "科技事业的", "代表"]


def test_corruption_passes_the_untouched_reply_and_a_blanked_name():
    assert J.judge_corruption(RAW, [RAW]).ok
    assert J.judge_corruption("刚才，XX同志作了工作报告。", ["刚才，张建国同志作了工作报告。"]).ok
    assert J.judge_corruption("全区X名科技工作者参加。", ["全区1200名科技工作者参加。"]).ok


def test_corruption_passes_a_blank_the_model_wrote_itself():
    assert J.judge_corruption("在全区上下奋力推进“_”规划的关键时期。", ["在全区上下奋力推进“_”规划的关键时期。"]).ok


# --------------------------------------------------------------------------- copy


def test_copy_fails_a_forty_character_run_from_a_passage(ctx):
    v = J.judge_copy("我们要看到，" + PASSAGE[:40] + "。", ctx)
    assert not v.ok and v.figure == 40 and v.example == PASSAGE[:40]


def test_copy_passes_a_reply_that_only_shares_words(ctx):
    v = J.judge_copy(GOOD_PART, ctx)
    assert v.ok and v.figure <= J.COPY_LIMIT


def test_longest_common_run_ignores_white_space():
    n, run = J.longest_common_run("甲乙 丙丁戊", ["乙丙\n丁戊己"])
    assert (n, run) == (4, "乙丙丁戊")


# --------------------------------------------------------------------------- repetition

SENTENCE = "要加强科普阵地建设，推动科普资源向基层延伸。"


def test_repetition_fails_a_sentence_said_twice_in_one_part(ctx):
    v = J.judge_repetition({"part2": "二、建强科普阵地\n" + SENTENCE + "同时，" + SENTENCE}, ctx)
    assert not v.ok and "part2" in v.detail


def test_repetition_fails_a_sentence_in_two_parts(ctx):
    v = J.judge_repetition({"part1": "一、认识意义\n要抓落实。" + SENTENCE, "part2": "二、建强阵地\n要抓保障。" + SENTENCE}, ctx)
    assert not v.ok and v.example == SENTENCE


def test_repetition_fails_a_sentence_that_opens_two_parts(ctx):
    v = J.judge_repetition({"part1": "一、认识意义\n" + SENTENCE + "要抓落实。", "part2": "二、建强阵地\n" + SENTENCE + "要抓保障。"}, ctx)
    assert not v.ok


def test_repetition_passes_parallel_but_different_sentences(ctx):
    assert J.judge_repetition({"part2": GOOD_PART, "opening": GOOD_OPENING}, ctx).ok


# --------------------------------------------------------------------------- structure


def test_structure_fails_the_wrong_number_of_items():
    two = "\n".join(GOOD_PART.split("\n")[:4])
    v = J.judge_structure("part", {"part2": two}, {"kind": "part", "part": 2, "items": 3}, {})
    assert not v.ok and "应有 3 条" in v.detail


def test_structure_fails_a_wrong_heading_numeral_and_an_outline_with_two_parts():
    v = J.judge_structure("part", {"part2": GOOD_PART.replace("二、", "三、", 1)}, {"kind": "part", "part": 2}, {})
    assert not v.ok and "应为“二、”" in v.detail
    outline = {"headings": {"1": "深刻认识新时代科协工作的重要意义", "2": "聚焦主责主业推动科协事业高质量发展"},
               "items": {"2": ["加强科普阵地建设", "做好科技人才服务"]}}
    assert not J.judge_structure("outline", {}, {"outline": outline}, {}).ok


def test_structure_passes_a_good_part_and_a_good_outline():
    assert J.judge_structure("part", {"part2": GOOD_PART}, {"kind": "part", "part": 2, "items": 3}, {}).ok
    outline = {"headings": {"1": "深刻认识新时代科协工作的重要意义", "2": "聚焦主责主业推动科协事业高质量发展",
                            "3": "切实加强党对科协工作的领导"},
               "items": {"2": ["加强科普阵地建设", "做好科技人才服务"]}}
    assert J.judge_structure("outline", {}, {"outline": outline}, {}).ok


# --------------------------------------------------------------------------- length


@pytest.mark.parametrize("n", [180, 420])
def test_length_fails_forty_percent_off(n):
    v = J.judge_length("字" * n, 300)
    assert not v.ok and v.figure == pytest.approx(n / 300)


def test_length_passes_within_twenty_percent_and_when_nobody_asked():
    assert J.judge_length("字" * 250, 300).ok and J.judge_length("字" * 355, 300).ok
    assert J.judge_length("字" * 10, None).ok


# --------------------------------------------------------------------------- register


def test_register_fails_dear_colleagues_from_a_district_head_at_a_congress(ctx):
    v = J.judge_register({"opening": "亲爱的同事们：\n今天，丰林区科协第五次代表大会隆重开幕了。"}, ctx)
    assert not v.ok and v.example == "亲爱的同事们"


def test_register_fails_the_speaker_in_the_third_person(ctx):
    v = J.judge_register({"part3": "三、加强领导\n在区长的带领下，全区科协工作取得新成效。"}, ctx)
    assert not v.ok and "第三人称" in v.detail


def test_register_passes_the_congress_salutations(ctx):
    assert J.judge_register({"opening": GOOD_OPENING, "closing": "同志们，让我们携手奋进！"}, ctx).ok


# --------------------------------------------------------------------------- fill

BEFORE = {"opening": "各位代表：\n今天大会开幕了。", "transition": "刚才，XX同志作了工作报告，我完全同意。下面，我讲三点意见。"}


def fill_turn(after: dict, final: str = "已填入。") -> dict:
    return {"kind": "fill", "say": "作工作报告的是陈桂芳同志", "value": "陈桂芳", "doc_before": BEFORE, "doc_after": after,
            "final": final}


def test_fill_fails_when_the_value_was_not_put_in():
    after = dict(BEFORE, transition="刚才，有关同志作了工作报告，我完全同意。下面，我讲三点意见。")
    v = J.judge_fill(fill_turn(after))
    assert not v.ok and "没有填入“陈桂芳”" in v.detail


def test_fill_fails_when_it_claims_a_fill_that_did_not_happen():
    assert not J.judge_fill(fill_turn(dict(BEFORE), "已填入陈桂芳。")).ok


def test_fill_fails_when_text_outside_the_blank_changed():
    after = dict(BEFORE, transition="刚才，陈桂芳同志作了工作报告，我完全赞同。下面，我讲三点意见。")
    v = J.judge_fill(fill_turn(after))
    assert not v.ok and "空白以外" in v.detail


def test_fill_passes_a_filled_blank_and_an_honest_no():
    after = dict(BEFORE, transition="刚才，陈桂芳同志作了工作报告，我完全同意。下面，我讲三点意见。")
    assert J.judge_fill(fill_turn(after)).ok
    assert J.judge_fill(fill_turn(dict(BEFORE), "文中没有这个空。")).ok


# --------------------------------------------------------------------------- a whole turn and a transcript


def part_turn(text: str, raw: str | None = None) -> dict:
    return {"kind": "part", "say": SAID[1], "part": 2, "items": 3, "doc_before": {}, "doc_after": {"part2": text},
            "calls": [{"reply": raw if raw is not None else text}], "passages": [{"id": "p1", "title": "往年", "text": PASSAGE}]}


def test_judge_turn_passes_a_good_part_on_every_judge(ctx):
    verdicts = J.judge_turn(part_turn(GOOD_PART), ctx)
    assert {v.judge for v in verdicts} == set(J.JUDGES) - {"fill"}
    assert all(v.ok for v in verdicts), [v for v in verdicts if not v.ok]


def test_judge_turn_names_each_thing_wrong_with_a_bad_part(ctx):
    bad = GOOD_PART.replace("办好科普大讲堂", "学习张建国同志的先进事迹").replace("营造尊重人才的良好氛围", "搞好工会劳动竞赛")
    bad = "\n".join(bad.split("\n")[:4]) + "\n" + PASSAGE[:40]
    failed = {v.judge for v in J.judge_turn(part_turn(bad), ctx) if not v.ok}
    assert failed == {"topic", "invented", "copy", "structure"}


def test_judge_transcript_collects_the_users_words_and_the_passages_turn_by_turn(terms):
    transcript = {"scenario": dict(KEXIE, date="2026-12-03"), "turns": [
        dict(part_turn(GOOD_PART), say=SAID[1]),
        dict(fill_turn(dict(BEFORE, transition=BEFORE["transition"].replace("XX", "陈桂芳")))),
    ]}
    turns = judge_transcript(transcript, prompt_templates(), "2026-12-03", terms)
    assert [t.kind for t in turns] == ["part", "fill"]
    assert all(t.ok for t in turns), [(t.kind, [v for v in t.verdicts if not v.ok]) for t in turns]
    assert turns[0].text == GOOD_PART
