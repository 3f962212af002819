"""Intent routing: every line of tests/data/intents.jsonl, then focused unit tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.intent import Intent, Target, cn_int, parse_duration, parse_target, route  # noqa: E402

DATA = Path(__file__).parent / "data" / "intents.jsonl"
FLAGS = ("has_document", "has_outline", "part_count", "last_section")
DETAILS = ("style", "minutes", "chars", "occasion", "topic", "version")


def _cases() -> list[dict]:
    cases = []
    for n, line in enumerate(DATA.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            case = json.loads(line)
            case["_line"] = n
            cases.append(case)
    return cases


CASES = _cases()


def test_data_file_is_big_and_well_formed():
    assert len(CASES) >= 80
    actions = {c["action"] for c in CASES}
    assert actions >= {"draft", "outline", "draft_all", "outline_edit", "refine", "fill", "undo", "redo",
                       "restore", "diff", "check", "budget", "help", "clarify", "chat"}
    for c in CASES:
        assert isinstance(c["message"], str) and c["message"]
        unknown = set(c) - {"message", "action", "target", "confidence", "_line", *FLAGS, *DETAILS}
        assert not unknown, (c["_line"], unknown)


def _routes_as_written(case) -> bool:
    try:
        _check_case(case)
        return True
    except AssertionError:
        return False


def test_routing_table_pass_rate(capsys):
    """The figure README states: the share of the routing table's lines routed as written (each line is also its
    own test above, so a misrouted line fails there by name)."""
    ok = sum(_routes_as_written(c) for c in CASES)
    with capsys.disabled():
        print(f"\nrouting table: {ok}/{len(CASES)} lines routed as written ({ok / len(CASES):.1%})")
    assert ok == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[f"line{c['_line']}" for c in CASES])
def test_routing_data(case):
    _check_case(case)


def _check_case(case):
    kwargs = {k: case[k] for k in FLAGS if k in case}
    got = route(case["message"], **kwargs)
    assert got.action == case["action"], got
    if "target" in case:
        exp = case["target"]
        if exp is None:
            assert got.target is None, got
        else:
            assert got.target is not None, got
            assert got.target.kind == exp["kind"], got
            assert got.target.part == exp.get("part"), got
            assert got.target.item == exp.get("item"), got
    for key in DETAILS:
        if key in case:
            assert getattr(got, key) == case[key], (key, got)
    if "confidence" in case:
        assert got.confidence == case["confidence"], got
    if got.action == "clarify":
        assert got.question
    if got.action == "refine":
        assert got.style and got.target is not None and got.instruction


# --------------------------------------------------------------------------- targets


@pytest.mark.parametrize(
    "text,kind,part,item",
    [
        ("开场白", "opening", None, None),
        ("致辞开头", "opening", None, None),
        ("前面的问候", "opening", None, None),
        ("过渡语", "transition", None, None),
        ("过渡那句", "transition", None, None),
        ("“下面我讲三点”那句", "transition", None, None),
        ("第一部分", "part", 1, None),
        ("第一点", "part", 1, None),
        ("一、", "part", 1, None),
        ("（一）部分", "part", 1, None),
        ("第1部分", "part", 1, None),
        ("第１部分", "part", 1, None),
        ("意义那部分", "part", 1, None),
        ("意义部分", "part", 1, None),
        ("第二部分", "part", 2, None),
        ("二、", "part", 2, None),
        ("第二点", "part", 2, None),
        ("任务那部分", "part", 2, None),
        ("重点任务部分", "part", 2, None),
        ("第三部分", "part", 3, None),
        ("三、", "part", 3, None),
        ("领导保障那部分", "part", 3, None),
        ("保障部分", "part", 3, None),
        ("第五部分", "part", 5, None),
        ("第十二部分", "part", 12, None),
        ("part 2", "part", 2, None),
        ("「二是」那条", "item", 2, 2),
        ("二是那条", "item", 2, 2),
        ("第二部分的二是", "item", 2, 2),
        ("第二部分第三条", "item", 2, 3),
        ("第三部分的第二点", "item", 3, 2),
        ("第二部分（三）", "item", 2, 3),
        ("第三条", "item", 2, 3),
        ("结尾", "closing", None, None),
        ("结束语", "closing", None, None),
        ("收尾", "closing", None, None),
        ("最后的号召", "closing", None, None),
        ("「让我们」那段", "closing", None, None),
        ("全文", "whole", None, None),
        ("整篇", "whole", None, None),
        ("全篇", "whole", None, None),
        ("通篇", "whole", None, None),
        ("这部分", "current", None, None),
        ("这段", "current", None, None),
        ("这一段", "current", None, None),
        ("刚才那段", "current", None, None),
        ("上一段", "previous", None, None),
        ("上一部分", "previous", None, None),
        ("前一部分", "previous", None, None),
        ("选中的", "selection", None, None),
        ("选中这段", "selection", None, None),
    ],
)
def test_parse_target(text, kind, part, item):
    t = parse_target(text)
    assert t == Target(kind, part, item)


def test_parse_target_none_and_false_friends():
    assert parse_target("写一篇讲话") is None
    assert parse_target("区妇联第四次代表大会") is None  # 第四次 is not a part
    assert parse_target("围绕中心、服务大局") is None  # 心、 is not a heading numeral
    assert parse_target("统一是前提") is None  # 一是 inside 统一是 is not an item


def test_parse_target_uses_last_section():
    assert parse_target("下一部分", last_section="part1") == Target("part", 2)
    assert parse_target("下一部分", last_section="part3", part_count=3) == Target("closing")
    assert parse_target("接着写", last_section="transition") == Target("part", 1)
    assert parse_target("这部分的二是", last_section="part3") == Target("item", 3, 2)
    assert parse_target("二是那条", last_section="part3") == Target("item", 2, 2)  # default: the tasks part
    assert parse_target("最后一部分", part_count=4) == Target("part", 4)


def test_parse_target_prefers_object_of_ba():
    assert parse_target("把这段改得跟开头一样亲切") == Target("current")
    assert parse_target("开头和结尾都改一下") == Target("opening")
    assert parse_target("全文的开头") == Target("opening")  # specific beats whole


def test_parse_target_ignores_dictated_content_after_colon():
    assert parse_target("写开场白：要提到第三部分的任务") == Target("opening")


def test_section_key():
    assert Target("opening").section_key() == "opening"
    assert Target("transition").section_key() == "transition"
    assert Target("closing").section_key() == "closing"
    assert Target("part", 2).section_key() == "part2"
    assert Target("item", 2, 3).section_key() == "part2"
    for kind in ("whole", "current", "previous", "selection"):
        assert Target(kind).section_key() is None
    assert Target("item", 2, 3).label() == "第二部分的“三是”"


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    "text,minutes,chars",
    [
        ("三分钟", 3.0, None),
        ("3分钟", 3.0, None),
        ("３分钟", 3.0, None),
        ("半分钟", 0.5, None),
        ("十分钟", 10.0, None),
        ("十五分钟", 15.0, None),
        ("两分钟", 2.0, None),
        ("一分半钟", 1.5, None),
        ("3分半", 3.5, None),
        ("1.5分钟", 1.5, None),
        ("3-5分钟", 5.0, None),
        ("八到十分钟", 10.0, None),
        ("半小时", 30.0, None),
        ("1500字", None, 1500),
        ("1,500字", None, 1500),
        ("一千五百字", None, 1500),
        ("一千五字", None, 1500),
        ("两千字", None, 2000),
        ("3千字", None, 3000),
        ("1.5万字", None, 15000),
        ("800来字", None, 800),
        ("字数控制在800以内", None, 800),
        ("压缩到三分钟，800字左右", 3.0, 800),
        ("能讲几分钟", None, None),
        ("第二部分", None, None),
        ("十四五规划", None, None),
        ("第3版", None, None),
    ],
)
def test_parse_duration(text, minutes, chars):
    assert parse_duration(text) == (minutes, chars)


def test_cn_int():
    assert cn_int("十") == 10
    assert cn_int("十五") == 15
    assert cn_int("二十三") == 23
    assert cn_int("一百零五") == 105
    assert cn_int("一千五百") == 1500
    assert cn_int("一千五") == 1500
    assert cn_int("两万五") == 25000
    assert cn_int("二〇二六") == 2026
    assert cn_int("几") is None
    assert cn_int("") is None


# --------------------------------------------------------------------------- precedence


def test_compress_vs_budget():
    r = route("压缩到三分钟", has_document=True)
    assert (r.action, r.style, r.minutes) == ("refine", "shorten", 3.0)
    assert r.target == Target("current")
    r = route("控制在10分钟", has_document=True)
    assert (r.action, r.minutes) == ("budget", 10.0)
    r = route("把第二部分压缩到500字", has_document=True)
    assert (r.action, r.style, r.chars, r.target) == ("refine", "shorten", 500, Target("part", 2))
    r = route("第二部分控制在3分钟", has_document=True)
    assert (r.action, r.style, r.minutes) == ("refine", "shorten", 3.0)


def test_draft_wins_over_tone_and_refine_without_draft_verb():
    assert route("写第二部分").action == "draft"
    r = route("写一段有气势的结尾")
    assert (r.action, r.target, r.style) == ("draft", Target("closing"), "forceful")
    r = route("第二部分再正式一点", has_document=True)
    assert (r.action, r.style, r.target) == ("refine", "formal", Target("part", 2))
    r = route("把第二部分写得更正式", has_document=True)
    assert (r.action, r.style) == ("refine", "formal")
    assert route("重写开头", has_document=True).target == Target("opening")


def test_tone_negation_becomes_custom():
    r = route("结尾不要太正式", has_document=True)
    assert (r.action, r.style) == ("refine", "custom")
    r = route("开头不够正式", has_document=True)
    assert (r.action, r.style) == ("refine", "formal")
    r = route("简洁有力一些", has_document=True)
    assert r.style == "concise"  # the first tone word wins


def test_outline_edit_needs_an_outline():
    msg = "第二部分加一条关于家风建设的"
    r = route(msg, has_outline=True)
    assert (r.action, r.instruction, r.topic) == ("outline_edit", msg, "家风建设")
    r = route(msg, has_outline=True, has_document=True)
    assert r.action == "outline_edit"
    r = route("把第三部分的标题改成“加强组织领导”", has_document=True)
    assert (r.action, r.style) == ("refine", "custom")  # no outline: edit the text
    r = route("提纲第三部分标题改成“加强组织领导”")
    assert r.action == "outline_edit"  # names the outline explicitly


def test_clarify_and_vague():
    r = route("写一篇讲话")
    assert r.action == "clarify" and "会议" in r.question
    r = route("写一篇讲话", has_outline=True)
    assert r.action == "draft_all"
    r = route("改一下")
    assert r.action == "clarify" and r.question
    r = route("改一下", has_document=True)
    assert (r.action, r.style, r.target) == ("refine", "custom", Target("current"))
    assert r.confidence < 1


def test_chat_fallback_confidence_zero():
    r = route("昌平区在哪里")
    assert (r.action, r.confidence) == ("chat", 0.0)
    assert route("").action == "chat"
    assert route("   ").confidence == 0.0


def test_next_after_closing_asks():
    r = route("接着写", has_document=True, last_section="closing")
    assert r.action == "clarify"


def test_undo_redo_restore():
    assert route("撤销").action == "undo"
    assert route("恢复撤销").action == "redo"
    assert route("取消撤销").action == "redo"
    r = route("回到第3版")
    assert (r.action, r.version) == ("restore", 3)
    r = route("恢复到版本2")
    assert (r.action, r.version) == ("restore", 2)
    assert route("回到上一版").action == "undo"
    assert route("回到初稿").version == 1
    assert route("重做开头", has_document=True).action == "draft"


def test_fill_is_not_refine():
    assert route("这段太空了", has_document=True).action == "refine"
    assert route("第一个空填十三五").action == "fill"
    assert route("惠兰同志是谁？").action != "fill"
    assert route("讲话时间是10分钟").action == "budget"


def test_occasion_and_topic():
    r = route("为区妇联第四次代表大会写开场白")
    assert r.occasion == "区妇联第四次代表大会"
    r = route("帮我给区妇联第四次代表大会写个提纲")
    assert (r.action, r.occasion) == ("outline", "区妇联第四次代表大会")
    r = route("给我写个开场白")
    assert r.occasion == ""
    r = route("写一条关于加强党的领导的", has_outline=True)
    assert r.topic == "加强党的领导"
    r = route("写第二部分：围绕中心、服务大局")
    assert (r.topic, r.target) == ("围绕中心、服务大局", Target("part", 2))


def test_intent_defaults():
    i = Intent("chat")
    assert i.target is None and i.confidence == 1.0 and i.instruction == ""


def test_nothing_happens_at_import_time():
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import assistant.intent as m\n"
        "assert m._rx.cache_info().currsize == 0, m._rx.cache_info()\n"
        "assert 'langchain_core' not in sys.modules\n"
    ) % str(ROOT)
    subprocess.run([sys.executable, "-c", code], check=True)
