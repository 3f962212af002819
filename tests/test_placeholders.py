"""The placeholder ledger: detection, filling by conversation, proposals, the no-invention guard."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.placeholders import (  # noqa: E402
    BadValue,
    FillProblem,
    FillRequest,
    Ledger,
    blank_key,
    blank_out,
    consistency_issues,
    find_blanks,
    find_invented,
    open_count,
    parse_fill,
    propose_from_context,
)
from assistant.structure import split_front_matter  # noqa: E402

PHRASINGS = Path(__file__).parent / "data" / "fill_phrasings.jsonl"
SHARED_SEED = Path("/work/shared/seed/000_cee338bc757c0ce3.txt")
REPO_SEED = ROOT / "knowledge" / "speeches" / "000_seed_gonghui_daibiao_dahui.txt"


def _seed() -> str:
    path = SHARED_SEED if SHARED_SEED.exists() else REPO_SEED
    if not path.exists():
        pytest.skip("seed speech not available")
    text = path.read_text(encoding="utf-8")
    _, body = split_front_matter(text)
    return text[body:]


@pytest.fixture(scope="module")
def seed() -> str:
    return _seed()


@pytest.fixture
def ledger(seed: str) -> Ledger:
    return Ledger.from_text(seed)


# --------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, blanks",
    [
        ("在“_”规划即将实施之际", ["_"]),
        ("完成“__”目标", ["__"]),
        ("“＿＿”时期", ["＿＿"]),
        ("刚才，XX同志作了报告", ["XX"]),
        ("XXX公司作了交流发言", ["XXX"]),
        ("××区委员会", ["××"]),
        ("ＸＸ县人民政府", ["ＸＸ"]),
        ("○○同志宣读了决定", ["○○"]),
        ("□□局局长", ["□□"]),
        ("受表彰的【待补充：表彰人数】名劳动模范", ["【待补充：表彰人数】"]),
        ("【会议名称】隆重开幕", ["【会议名称】"]),
        ("由[单位名称]承办", ["[单位名称]"]),
        ("此处引用[…]的讲话", ["[…]"]),
        ("{姓名}同志", ["{姓名}"]),
        ("主办单位（待补充）", ["（待补充）"]),
        ("地点(待定)", ["(待定)"]),
        ("某某同志", ["某某"]),
        ("某镇党委书记", ["某"]),
        ("某同志代表", ["某"]),
        ("会议于X年X月X日召开", ["X年X月X日"]),
        ("会议于2026年X月X日召开", ["2026年X月X日"]),
        ("20XX年工作要点", ["20XX年"]),
        ("____年__月__日", ["____年__月__日"]),
        ("某年某月某日", ["某年某月某日"]),
        ("增长X%，召开第X次代表大会", ["X", "X"]),
        ("XX同志和XX同志", ["XX", "XX"]),
    ],
)
def test_detects_every_convention(text: str, blanks: list[str]) -> None:
    assert [b.text for b in find_blanks(text)] == blanks


@pytest.mark.parametrize(
    "text",
    [
        "导出XML文件",  # latin word
        "XXL号工作服",
        "变量file_name和__init__",
        "参考文献[1]",
        "详见[通知](http://example.com)",
        "二○○八年奥运会",  # ○ used as zero
        "某些同志认识不足",  # ordinary 某
        "某种程度上",
        "某区域内",
        "X光检查",
        "3×4的格子",
        "在“十四五”规划即将实施之际",
    ],
)
def test_ignores_text_that_is_not_a_blank(text: str) -> None:
    assert find_blanks(text) == []


def test_seed_has_exactly_six_open_blanks_in_order(ledger: Ledger) -> None:
    rows = ledger.to_rows()
    assert [r["id"] for r in rows] == ["p1", "p2", "p3", "p4", "p5", "p6"]
    assert [r["blank"] for r in rows] == ["“_”目标", "“_”规划", "“_”这五年", "“_”发展", "“_”新征程", "以_为的党中央"]
    assert [r["kind"] for r in rows] == ["目标名称", "规划名称", "时期", "时期", "时期", "领导人"]
    assert all(r["status"] == "open" and r["status_label"] == "待填" and r["value"] == "" for r in rows)
    assert "胜利完成" in rows[0]["context"] and "即将全面实施" in rows[1]["context"]
    assert ledger.open_count == 6


def test_seed_keys_keep_completed_and_new_plan_apart(ledger: Ledger) -> None:
    keys = [blank_key(e) for e in ledger.listed()]
    assert keys == ["“_”目标", "“_”规划", "“_”这五年", "“_”发展", "“_”新征程", "以_为"]
    assert len(set(keys)) == 6


@pytest.mark.parametrize(
    "text, kind",
    [
        ("刚才，XX同志作了工作报告", "人名"),
        ("区总工会主席XX同志宣读了决定", "人名"),
        ("妇产科主任【待补充】和妇联主席", "人名"),
        ("紧密团结在以XX同志为核心的党中央周围", "领导人"),
        ("他担任XX，分管工会工作", "职务"),
        ("会议定于X年X月X日召开", "日期"),
        ("全年增长【待补充】%", "数字"),
        ("完成投资【待补充】亿元", "数字"),
        ("表彰XX名劳动模范", "数字"),
        ("临河街道和XX公司作了交流发言", "机构名"),
        ("【会议名称】隆重开幕", "会议名称"),
        ("在“_”会议上", "会议名称"),
        ("以“_”工程为抓手", "其他"),
    ],
)
def test_kind_from_context(text: str, kind: str) -> None:
    (entry,) = Ledger.from_text(text).listed()
    assert entry.kind == kind


def test_two_people_never_share_a_key() -> None:
    ledger = Ledger.from_text("刚才，XX同志作了工作报告，XX同志宣读了表彰决定，区总工会主席XX同志讲了话。")
    assert [e.key for e in ledger.listed()] == ["_同志作了", "_同志宣读", "主席_同志"]


# --------------------------------------------------------------------------
# Filling by conversation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message, ids, value",
    [
        ("“_”规划是十四五", ["p2"], "十四五"),
        ('"_"规划是十四五', ["p2"], "十四五"),
        ("规划那个空填十五五", ["p2"], "十五五"),
        ("第一个空填十三五", ["p1"], "十三五"),
        ("第2个空是十四五", ["p2"], "十四五"),
        ("以_为的党中央 填 习近平同志为核心", ["p6"], "习近平同志为核心"),
    ],
)
def test_fill_phrasings_from_the_spec(ledger: Ledger, message: str, ids: list[str], value: str) -> None:
    request = parse_fill(message, ledger)
    assert isinstance(request, FillRequest), request
    assert list(request.ids) == ids
    assert request.value == value


def _phrasing_cases() -> list[dict]:
    lines = PHRASINGS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("case", _phrasing_cases(), ids=lambda c: c["message"])
def test_fill_phrasings_from_the_data_file(seed: str, case: dict) -> None:
    ledger = Ledger.from_text(seed)
    request = parse_fill(case["message"], ledger)
    assert isinstance(request, FillRequest), request
    if "expect_key" in case:
        assert request.key == case["expect_key"]
        assert list(request.ids) == [e.id for e in ledger.group(case["expect_key"])]
    else:
        assert list(request.ids) == case["expect_ids"]
    assert request.value == case["value"]
    # carried out, it fills exactly that group and nothing else
    ledger.accept(request)
    filled, changes = ledger.apply(seed)
    assert {c.key for c in changes} == {request.key}
    assert open_count(filled) == 6 - len(request.ids)


def test_phrasing_file_has_at_least_ten_lines() -> None:
    assert len(_phrasing_cases()) >= 10


def test_filling_keeps_the_quotes_and_touches_only_that_key(ledger: Ledger, seed: str) -> None:
    ledger.accept(parse_fill("“_”规划是十四五", ledger))
    filled, changes = ledger.apply(seed)
    assert "“_”目标胜利完成、“十四五”规划即将全面实施" in filled
    assert [(c.id, c.key, c.value) for c in changes] == [("p2", "“_”规划", "十四五")]
    assert filled[changes[0].new_start : changes[0].new_start + 3] == "十四五"
    assert filled.count("“_”") == 4


def test_leader_blank_is_not_doubled(ledger: Ledger, seed: str) -> None:
    ledger.accept(parse_fill("以_为的党中央 填 习近平同志为核心", ledger))
    filled, _ = ledger.apply(seed)
    assert "紧密团结在以习近平同志为核心的党中央周围" in filled
    assert "为核心为" not in filled and "以以" not in filled


def test_fill_a_person_blank_by_template_or_role() -> None:
    text = "刚才，XX同志代表区总工会作了工作报告。"
    for message in ("XX同志是王惠兰", "主讲人是王惠兰", "XX同志是王惠兰同志"):
        ledger = Ledger.from_text(text)
        request = parse_fill(message, ledger)
        assert isinstance(request, FillRequest), (message, request)
        ledger.accept(request)
        assert ledger.apply(text)[0] == "刚才，王惠兰同志代表区总工会作了工作报告。"


def test_fill_a_person_blank_by_what_they_did_at_the_meeting() -> None:
    text = "刚才，XX同志代表县残联作了工作报告，讲得很好。刚才，XX同志通报了城管工作有关情况。在“_”规划开局之年……"
    cases = [
        ("作工作报告的是县残联理事长陈桂芳同志", "刚才，县残联理事长陈桂芳同志代表县残联作了工作报告", "XX同志通报"),
        ("工作报告是王海涛同志作的", "刚才，王海涛同志代表县残联作了工作报告", "XX同志通报"),
        ("刚才通报情况的是区城管局局长王志刚", "刚才，区城管局局长王志刚同志通报了城管工作", "XX同志代表"),
        ("规划那里是十五五", "在“十五五”规划开局之年", "XX同志代表"),
        ("空着的规划名称是“十五五”", "在“十五五”规划开局之年", "XX同志通报"),
    ]
    for message, filled, untouched in cases:
        ledger = Ledger.from_text(text)
        request = parse_fill(message, ledger)
        assert isinstance(request, FillRequest), (message, request)
        ledger.accept(request)
        after = ledger.apply(text)[0]
        assert filled in after and untouched in after, (message, after)


def test_a_named_person_mention_becomes_an_allowed_fact(ledger: Ledger, seed: str) -> None:
    request = parse_fill("惠兰同志是区总工会主席王惠兰", ledger)
    assert isinstance(request, FillRequest)
    assert (request.how, request.target, request.value, request.ids) == ("mention", "惠兰同志", "区总工会主席王惠兰", ())
    ledger.accept(request)
    assert ledger.facts == {"惠兰同志": "区总工会主席王惠兰"}
    reply = "刚才，区总工会主席王惠兰同志作了工作报告。"
    assert find_invented(reply, seed + ledger.allowed_text()) == []
    assert ledger.apply(seed)[0] == seed  # a mention is not a blank: the text is not touched


def test_fill_the_date_blanks() -> None:
    text = "会议定于X年X月X日在区委礼堂召开。"
    ledger = Ledger.from_text(text)
    request = parse_fill("日期是2026年3月15日", ledger)
    assert isinstance(request, FillRequest) and request.how == "kind"
    ledger.accept(request)
    assert ledger.apply(text)[0] == "会议定于2026年3月15日在区委礼堂召开。"


def test_a_written_year_is_kept_when_the_value_has_none() -> None:
    ledger = Ledger.from_text("会议定于2026年X月X日召开。")
    ledger.accept(parse_fill("日期是3月15日", ledger))
    assert ledger.apply("会议定于2026年X月X日召开。")[0] == "会议定于2026年3月15日召开。"


def test_fill_the_meeting_name() -> None:
    text = "【会议名称】今天隆重开幕。"
    ledger = Ledger.from_text(text)
    request = parse_fill("会议名称是昌平区工会第三次代表大会", ledger)
    assert isinstance(request, FillRequest)
    ledger.accept(request)
    assert ledger.apply(text)[0] == "昌平区工会第三次代表大会今天隆重开幕。"


# --------------------------------------------------------------------------
# Ambiguity, unknown blanks, not a fill request
# --------------------------------------------------------------------------


def test_which_blank_is_asked_back_with_the_candidates(ledger: Ledger) -> None:
    problem = parse_fill("空填十四五", ledger)
    assert isinstance(problem, FillProblem) and problem.reason == "ambiguous"
    assert problem.message.startswith("“空”指哪一个？目前有：1.“_”目标 2.“_”规划")
    assert "6.以_为的党中央" in problem.message
    assert problem.candidates == ("p1", "p2", "p3", "p4", "p5", "p6")
    assert ledger.open_count == 6


def test_quoted_blank_without_its_word_is_ambiguous(ledger: Ledger) -> None:
    problem = parse_fill("“_”是十四五", ledger)
    assert isinstance(problem, FillProblem) and problem.reason == "ambiguous"
    assert problem.candidates == ("p1", "p2", "p3", "p4", "p5")


def test_two_person_blanks_ask_which_then_an_ordinal_settles_it() -> None:
    text = "刚才，XX同志作了工作报告，XX同志宣读了表彰决定。"
    ledger = Ledger.from_text(text)
    problem = parse_fill("XX同志是王惠兰", ledger)
    assert isinstance(problem, FillProblem) and problem.reason == "ambiguous"
    assert "1.XX同志作了" in problem.message and "2.XX同志宣读" in problem.message
    request = parse_fill("第二个空是王惠兰", ledger)
    assert isinstance(request, FillRequest) and request.ids == ("p2",)
    ledger.accept(request)
    assert ledger.apply(text)[0] == "刚才，XX同志作了工作报告，王惠兰同志宣读了表彰决定。"


def test_unknown_blank_lists_the_existing_ones(ledger: Ledger) -> None:
    problem = parse_fill("“_”计划是十四五", ledger)
    assert isinstance(problem, FillProblem) and problem.reason == "not_found"
    assert problem.message.startswith("没有找到“_”计划这个空。目前的空有：1.“_”目标 2.“_”规划")
    problem = parse_fill("第九个空填十三五", ledger)
    assert isinstance(problem, FillProblem) and problem.message.startswith("没有第九个空，文中目前有6个空")


@pytest.mark.parametrize(
    "message",
    ["写第二部分", "更简洁一些", "第二部分写成三段", "语气改成亲切一些", "发展是第一要务", "开头填一句感谢的话", "谢谢", ""],
)
def test_other_messages_are_not_fill_requests(ledger: Ledger, message: str) -> None:
    assert parse_fill(message, ledger) is None


# --------------------------------------------------------------------------
# Bad values
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message, words",
    [
        ("“_”规划是", "是空的"),
        ("“_”规划是" + "十四五" * 17, "太长"),
        ("“_”规划是<b>十四五</b>", "标记"),
        ("“_”规划是**十四五**", "标记"),
        ("“_”规划是十四\n五", "换行"),
        ("“_”规划是十四五\x07", "控制字符"),
        ("“_”规划是XX", "还有空"),
        ("“_”规划是“_”", "还有空"),
    ],
)
def test_bad_values_are_refused_and_the_ledger_is_unchanged(ledger: Ledger, message: str, words: str) -> None:
    before = ledger.to_dict()
    problem = parse_fill(message, ledger)
    assert isinstance(problem, FillProblem) and problem.reason == "bad_value"
    assert words in problem.message
    assert ledger.to_dict() == before


@pytest.mark.parametrize("value", ["", "<script>x</script>", "十四\n五", "X" * 3, "十" * 51])
def test_fill_refuses_bad_values_directly(ledger: Ledger, value: str) -> None:
    before = ledger.to_dict()
    with pytest.raises(BadValue):
        ledger.fill(["p2"], value)
    assert ledger.to_dict() == before


# --------------------------------------------------------------------------
# Ledger lifecycle
# --------------------------------------------------------------------------


def test_redraft_keeps_confirmed_values_and_ids(ledger: Ledger, seed: str) -> None:
    ledger.accept(parse_fill("“_”规划是十四五", ledger))
    ledger.accept(parse_fill("以_为的党中央 填 习近平同志为核心", ledger))
    document, _ = ledger.apply(seed)
    ledger.refresh(document)
    assert [e.id for e in ledger.open_entries()] == ["p1", "p3", "p4", "p5"]
    filled_rows = {r["id"]: r for r in ledger.to_rows() if r["status"] == "confirmed"}
    assert filled_rows["p2"]["value"] == "十四五"  # still shown in the table after it was applied

    # a freshly drafted part writes the same blanks again
    part = "二、……要深入实施“_”规划，确保“_”规划各项任务落到实处。\n让我们紧密团结在以_为的党中央周围。"
    new_part, changes = ledger.apply(part)
    assert new_part == (
        "二、……要深入实施“十四五”规划，确保“十四五”规划各项任务落到实处。\n让我们紧密团结在以习近平同志为核心的党中央周围。"
    )
    first, second = part.index("“_”规划") + 1, part.rindex("“_”规划") + 1
    assert [(c.id, c.start) for c in changes] == [("p2", first), ("p2", second), ("p6", part.index("以_为") + 1)]
    assert changes[2].end == changes[2].start + 2  # the 为 after the blank went with it

    # re-detection of a redraft that still has the blank reuses the id and the value
    ledger.refresh(document + "\n" + part + "\n“_”工程为抓手")
    plan = [e for e in ledger.listed() if e.key == "“_”规划"]
    assert [(e.id, e.status, e.value) for e in plan] == [("p2", "confirmed", "十四五"), ("p7", "confirmed", "十四五")]
    last = ledger.listed()[-1]
    assert (last.id, last.label, last.status) == ("p8", "“_”工程", "open")


def test_fill_by_id_fills_the_whole_key_group(seed: str) -> None:
    text = "实施“_”规划，落实“_”规划，完成“_”目标。"
    ledger = Ledger.from_text(text)
    ledger.fill(["p1"], "十四五")
    assert [e.status for e in ledger.listed()] == ["confirmed", "confirmed", "open"]
    assert ledger.apply(text)[0] == "实施“十四五”规划，落实“十四五”规划，完成“_”目标。"


def test_persistence_round_trip(ledger: Ledger, seed: str) -> None:
    ledger.accept(parse_fill("“_”规划是十四五", ledger))
    ledger.accept(parse_fill("惠兰同志是区总工会主席王惠兰", ledger))
    propose_from_context(ledger, datetime.date(2026, 3, 15))
    ledger.refresh(ledger.apply(seed)[0])
    data = json.loads(json.dumps(ledger.to_dict(), ensure_ascii=False))
    restored = Ledger.from_dict(data)
    assert restored == ledger
    assert restored.to_rows() == ledger.to_rows()
    restored.refresh(ledger.text + "\n“_”工程为抓手")
    assert restored.listed()[-1].id == "p7"


# --------------------------------------------------------------------------
# Proposals
# --------------------------------------------------------------------------


def test_proposals_for_a_2026_speech(ledger: Ledger) -> None:
    proposals = propose_from_context(ledger, datetime.date(2026, 3, 15))
    assert {p.key: p.value for p in proposals} == {
        "“_”规划": "十五五",
        "“_”目标": "十四五",
        "“_”这五年": "十四五",
        "“_”新征程": "十五五",
    }
    statuses = {r["id"]: (r["status"], r["value"]) for r in ledger.to_rows()}
    assert statuses["p2"] == ("proposed", "十五五")
    assert statuses["p4"] == ("open", "") and statuses["p6"] == ("open", "")
    assert "2026" in ledger.entries["p2"].reason and "请确认" in ledger.entries["p2"].reason
    # proposed is not confirmed: nothing goes into a draft until the user confirms
    assert ledger.value_of("“_”规划") == ""
    assert ledger.apply(ledger.text)[1] == []
    assert "“十五五”规划" in ledger.apply(ledger.text, include_proposed=True)[0]
    ledger.confirm("p2")
    assert ledger.value_of("“_”规划") == "十五五"


def test_proposals_for_a_2023_speech(ledger: Ledger) -> None:
    propose_from_context(ledger, datetime.date(2023, 5, 1))
    assert ledger.entries["p2"].value == "十四五" and ledger.entries["p1"].value == "十三五"


def test_proposals_never_override_the_user(ledger: Ledger) -> None:
    ledger.accept(parse_fill("“_”规划是十四五", ledger))
    propose_from_context(ledger, datetime.date(2026, 3, 15))
    assert ledger.entries["p2"].status == "confirmed" and ledger.entries["p2"].value == "十四五"
    ledger.reject("p1")  # the user turns down 十四五 for “_”目标
    assert ledger.entries["p1"].status == "open"
    assert "“_”目标" not in {p.key for p in propose_from_context(ledger, datetime.date(2026, 3, 15))}
    with pytest.raises(BadValue):
        ledger.confirm("p6")  # nothing proposed there


# --------------------------------------------------------------------------
# Nothing invented
# --------------------------------------------------------------------------

FAKE_REPLY = (
    "刚才，张三同志作了工作报告，惠兰同志作了总结。2025年3月15日，全区新增就业1200名，"
    "职工收入增长35%，筹集帮扶资金120万元。“十五五”规划即将实施，第四次代表大会将于明年召开。"
    "各位同志、全体党员同志、青年同志、老同志，下面我讲三点意见。"
)


def test_a_made_up_name_date_and_numbers_are_caught_and_blanked(seed: str) -> None:
    allowed = seed + "\n写一篇工会代表大会的讲话"
    found = find_invented(FAKE_REPLY, allowed)
    assert [(i.kind, i.text) for i in found] == [
        ("人名", "张三"),
        ("日期", "2025年3月15日"),
        ("数字", "1200名"),
        ("数字", "35%"),
        ("数字", "120万元"),
        ("规划名称", "“十五五”"),
        ("会次", "第四次"),
    ]
    blanked = blank_out(FAKE_REPLY, found)
    assert blanked.startswith("刚才，XX同志作了工作报告，惠兰同志作了总结。X年X月X日，全区新增就业X名")
    for piece in ("增长X%", "X万元", "“_”规划", "第X次代表大会", "各位同志、全体党员同志、青年同志、老同志"):
        assert piece in blanked
    for made_up in ("张三", "2025", "1200", "35", "120", "十五五", "第四次"):
        assert made_up not in blanked
    # every placeholder left behind is a blank the ledger picks up
    assert Ledger.from_text(blanked).open_count == len(found)


def test_facts_the_user_gave_are_not_flagged(seed: str, ledger: Ledger) -> None:
    ledger.accept(parse_fill("“_”规划是十五五", ledger))
    allowed = "\n".join([seed, "张三同志是区总工会主席，会议在2025年3月15日召开，帮扶资金120万元", ledger.allowed_text()])
    found = find_invented(FAKE_REPLY, allowed)
    assert [i.text for i in found] == ["1200名", "35%", "第四次"]


def test_titles_before_a_name_are_not_part_of_it() -> None:
    found = find_invented("区总工会主席李明同志、副巡视员贾炯协同志讲了话。", "")
    assert [i.text for i in found] == ["李明", "贾炯协"]
    assert blank_out("区总工会主席李明同志讲了话。", found[:1]) == "区总工会主席XX同志讲了话。"


# --------------------------------------------------------------------------
# Consistency
# --------------------------------------------------------------------------


def test_one_key_filled_two_ways_is_reported(ledger: Ledger, seed: str) -> None:
    ledger.accept(parse_fill("“_”规划是十四五", ledger))
    text = seed.replace("“_”规划即将", "“十四五”规划即将") + "\n要全面实施“十五五”规划。"
    issues = consistency_issues(text, ledger)
    assert any("“十四五”规划" in i and "“十五五”规划" in i and "不一致" in i for i in issues)
    assert issues[-1].startswith("还有5个空待填：“_”目标、“_”这五年")


def test_a_value_against_the_confirmed_one_is_reported(ledger: Ledger, seed: str) -> None:
    ledger.accept(parse_fill("“_”规划是十四五", ledger))
    text = seed.replace("“_”规划即将", "“十五五”规划即将")
    assert "“_”规划已确认为“十四五”，文中却写作“十五五”规划。" in consistency_issues(text, ledger)


def test_a_consistent_filled_text_has_no_issues(ledger: Ledger, seed: str) -> None:
    for message in ("“_”目标是十三五", "“_”规划是十四五", "第三个空是十三五", "第四个空是十三五", "第五个空是十四五"):
        ledger.accept(parse_fill(message, ledger))
    ledger.accept(parse_fill("以_为的党中央 填 习近平同志为核心", ledger))
    filled, changes = ledger.apply(seed)
    assert len(changes) == 6
    assert open_count(filled, ledger) == 0 and open_count(seed, ledger) == 0 and open_count(seed) == 6
    assert consistency_issues(filled, ledger) == []


# --------------------------------------------------------------------------
# Names the session and the CLI use
# --------------------------------------------------------------------------


def test_helpers_used_by_the_session_and_cli(seed: str) -> None:
    from assistant import placeholders

    assert [b.text for b in placeholders.detect(seed)] == ["_"] * 6
    assert [p["text"] for p in placeholders.placeholder_json("刚才，XX同志作了报告")] == ["XX"]
    assert placeholders.validate_value("十四五") == "" and placeholders.validate_value("<b>")
    ledger = Ledger.from_text(seed)
    ledger.fill(["p2"], "十四五")
    filled, (change,) = ledger.apply(seed)
    assert filled[change.offset : change.offset + 3] == "十四五"
