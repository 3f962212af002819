import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # until the project is installed

import json

import pytest

from assistant.checks import SourceIndex, check_json, find_copies, run_checks
from assistant.document import Document
from assistant.structure import parse

ROOT = Path(__file__).resolve().parent.parent
SEED = Path("/work/shared/seed/000_cee338bc757c0ce3.txt")
CORPUS = sorted(p for p in (ROOT / "knowledge" / "speeches").glob("*") if p.suffix in (".txt", ".md"))


@pytest.fixture(scope="module")
def seed() -> str:
    return SEED.read_text(encoding="utf-8")


def lines_of(text):
    return text.split("\n")


def errors(report):
    return [i.message for i in report.items if i.level == "error"]


def codes(report, level=None):
    return [i.code for i in report.items if level is None or i.level == level]


# ---------------------------------------------------------------- structure
def test_seed_passes_structure_checks(seed):
    r = run_checks(seed)
    assert errors(r) == []
    assert r.ok
    assert {"opening", "transition", "closing", "parts", "items"} <= set(codes(r, "ok"))
    ok_msgs = [i.message for i in r.items if i.level == "ok"]
    assert "三个部分齐全，编号一、二、三" in ok_msgs
    assert any("第二部分条目" in m for m in ok_msgs)


def test_seed_lengths_add_up(seed):
    r = run_checks(seed)
    assert r.chars == 3275 == parse(seed).chars
    assert r.minutes == 14.9
    assert [s.key for s in r.sections] == ["opening", "transition", "part1", "part2", "part3", "closing"]
    assert sum(s.chars for s in r.sections) == r.chars
    parts = [s for s in r.sections if s.part]
    assert [s.part for s in parts] == [1, 2, 3]
    assert all(s.minutes == round(s.chars / 220, 1) for s in r.sections)
    # speed is a parameter
    assert run_checks(seed, chars_per_minute=250).minutes == round(3275 / 250, 1)


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_has_no_structure_errors(path):
    text = path.read_text(encoding="utf-8")
    r = run_checks(text)  # front matter is skipped by structure.parse
    assert errors(r) == [], f"{path.name}: {errors(r)}"
    assert sum(s.chars for s in r.sections) == r.chars


def drop_part(text, numeral):
    ls = lines_of(text)
    i = next(k for k, line in enumerate(ls) if line.startswith(numeral + "、"))
    j = next((k for k in range(i + 1, len(ls)) if ls[k][:2] in ("一、", "二、", "三、")), None)
    if j is None:  # last part: keep the closing paragraph
        j = len(ls) - 1
    return "\n".join(ls[:i] + ls[j:])


def test_missing_third_part(seed):
    r = run_checks(drop_part(seed, "三"))
    assert "缺少第三部分" in errors(r)
    assert "part_missing" in codes(r, "error")
    # the transition still announces three points
    assert any(i.code == "transition_count" and "两个部分" in i.message for i in r.items)


def test_missing_second_part(seed):
    r = run_checks(drop_part(seed, "二"))
    assert errors(r) == ["缺少第二部分"]


def test_parts_out_of_order(seed):
    ls = lines_of(seed)
    i2 = next(k for k, line in enumerate(ls) if line.startswith("二、"))
    i3 = next(k for k, line in enumerate(ls) if line.startswith("三、"))
    swapped = ls[:i2] + ls[i3 : i3 + 2] + ls[i2:i3] + ls[i3 + 2 :]
    r = run_checks("\n".join(swapped))
    assert "部分编号顺序错误：一、三、二" in errors(r)
    assert not any("缺少" in m for m in errors(r))


def test_duplicate_part(seed):
    r = run_checks(seed.replace("三、切实加强", "二、切实加强"))
    msgs = errors(r)
    assert any(m.startswith("第二部分出现两次") for m in msgs)
    assert "缺少第三部分" in msgs


def test_swapped_items_flagged(seed):
    swapped = seed.replace("二是要充分发挥", "@@").replace("三是要以改革", "二是要以改革").replace("@@", "三是要充分发挥")
    r = run_checks(swapped)
    bad = [i for i in r.items if i.code == "item_order"]
    assert len(bad) == 1
    assert bad[0].message == "第二部分条目顺序错误：一是、三是、二是"
    assert bad[0].part == 2 and bad[0].section == "part2"
    assert swapped[bad[0].offset : bad[0].offset + 2] == "二是"


def test_missing_and_repeated_items(seed):
    r = run_checks(seed.replace("二是要充分发挥", "三是要充分发挥"))
    msgs = errors(r)
    assert "第二部分缺少“二是”：条目编号不连续" in msgs
    assert "第二部分“三是”出现两次" in msgs


def test_paren_items_gap():
    text = "\n".join(
        [
            "同志们：今天召开全县教育工作会议，主要任务是部署今年工作。",
            "下面，我讲三点意见。",
            "一、充分认识教育工作的重要意义",
            "教育是国之大计、党之大计。",
            "二、突出重点，推动教育事业高质量发展",
            "（一）推进学前教育普惠发展。要扩大普惠资源。",
            "（三）推进义务教育优质均衡。要办好家门口的学校。",
            "三、加强党对教育工作的全面领导",
            "各级党委要把教育摆上重要位置。",
            "同志们，让我们共同努力，办好人民满意的教育！",
        ]
    )
    r = run_checks(text)
    assert errors(r) == ["第二部分缺少“（二）”：条目编号不连续"]


def test_inline_items_in_separate_paragraphs_are_separate_lists():
    text = "\n".join(
        [
            "同志们：今天召开全区安全生产工作会议。",
            "下面，我讲三点意见。",
            "一、清醒认识安全生产形势",
            "一是要看到成绩，二是要正视问题。",
            "二、压紧压实安全责任",
            "一是要压实企业主体责任，二是要压实部门监管责任，三是要压实属地管理责任。",
            "一是要抓好隐患排查，二是要抓好整改落实。",
            "三、加强组织领导",
            "各级党委政府要把安全生产摆上重要位置。",
            "同志们，让我们守牢安全底线！",
        ]
    )
    r = run_checks(text)
    assert errors(r) == []


def test_missing_opening_and_closing():
    text = "\n".join(
        [
            "一、深刻认识意义",
            "意义重大。",
            "二、抓好重点任务",
            "一是抓项目。",
            "二是抓改革。",
            "三、加强组织领导",
            "压实责任。",
        ]
    )
    r = run_checks(text)
    assert "opening_missing" in codes(r, "error")
    assert "closing_missing" in codes(r, "error")
    assert "transition_missing" in codes(r, "warn")


def test_empty_text():
    r = run_checks("")
    assert errors(r) == ["文稿为空"]
    assert r.chars == 0
    assert "1 个错误" in r.summary()


def test_partial_drafts_do_not_crash():
    drafts = [
        "只有一个标题",
        "同志们：今天开会。\n下面，我讲三点意见。",
        "一、认识\n",
        "一、认识\n二、任务\n三、保障",
        "开场。\n一、认识\n意义。\n同志们，让我们努力！",
    ]
    for t in drafts:
        r = run_checks(t, budget_minutes=5, sources=["无关的旧稿" * 10])
        assert r.errors, t
        json.dumps(check_json(t, budget_minutes=5), ensure_ascii=False)
        assert r.summary() and r.markdown()
    r = run_checks("一、认识\n二、任务\n三、保障")
    assert [i.message for i in r.items if i.code == "part_empty"] == [
        "第一部分只有标题，还没有正文",
        "第二部分只有标题，还没有正文",
        "第三部分只有标题，还没有正文",
    ]


def test_offsets_refer_to_the_given_text_with_crlf_and_front_matter(seed):
    text = "---\ntitle: 测试\n---\n" + seed.replace("\n", "\r\n")
    swapped = text.replace("二是要充分发挥", "@@").replace("三是要以改革", "二是要以改革").replace("@@", "三是要充分发挥")
    r = run_checks(swapped)
    bad = [i for i in r.items if i.code == "item_order"]
    assert swapped[bad[0].offset : bad[0].offset + 4] == "二是要以"
    assert r.chars == 3275


def test_document_text_passes(seed):
    doc = Document.from_text(seed)
    r = run_checks(doc.text())
    assert errors(r) == []
    assert r.chars == 3275


# ---------------------------------------------------------------- length budget
def test_ten_minute_budget_on_seed_is_over(seed):
    r = run_checks(seed, budget_minutes=10)
    assert r.budget_chars == 2200
    assert r.fits is False
    assert r.over_chars == 3275 - 2200 == 1075
    assert r.over_minutes == 4.9
    over = [i for i in r.items if i.code == "length_over"]
    assert len(over) == 1 and "超出 4.9 分钟，约需压缩 1075 字" in over[0].message
    shares = {b.key: b for b in r.budget}
    assert shares["intro"].budget_chars == 330  # 15 %
    assert shares["part1"].budget_chars == shares["part2"].budget_chars == shares["part3"].budget_chars == 550  # 25 %
    assert shares["closing"].budget_chars == 220  # 10 %
    assert shares["part2"].fits is False and shares["part2"].over_chars == shares["part2"].chars - 550
    assert shares["part3"].fits is True
    part_warn = [i for i in r.items if i.code == "section_over" and i.part == 2]
    assert part_warn and f"约需压缩 {shares['part2'].over_chars} 字" in part_warn[0].message
    assert "超出预算 4.9 分钟" in r.summary()


def test_generous_budget_fits(seed):
    r = run_checks(seed, budget_minutes=16)
    assert r.fits is True and r.over_chars == 0
    assert "length_over" not in codes(r)
    assert "在 16 分钟预算内" in r.summary()


def test_far_too_short_is_a_warning(seed):
    r = run_checks(seed, budget_minutes=30)
    assert r.fits is True
    assert "length_under" in codes(r, "warn")


# ---------------------------------------------------------------- repeated phrases
def test_planted_phrase_in_two_parts(seed):
    phrase = "把职工满意作为检验工会工作成效的根本标准"
    ls = lines_of(seed)
    i1 = next(k for k, line in enumerate(ls) if line.startswith("一、")) + 1
    i3 = next(k for k, line in enumerate(ls) if line.startswith("三、")) + 1
    ls[i1] = ls[i1] + "我们要" + phrase + "。"
    ls[i3] = ls[i3] + "始终" + phrase + "。"
    text = "\n".join(ls)
    r = run_checks(text)
    hit = [p for p in r.repeated if "职工满意作为检验工会工作成效的根本标准" in p.text]
    assert len(hit) == 1
    assert hit[0].sections == ["part1", "part3"]
    for off in hit[0].offsets:
        assert text[off:].startswith("职工满意") or text[off:].startswith("把职工满意")
    assert any(i.code == "repeated_phrase" and "第一部分、第三部分" in i.message for i in r.items)
    assert len(r.repeated) <= 10


def test_repeated_phrases_are_maximal_and_deduplicated(seed):
    r = run_checks(seed)
    texts = [p.text for p in r.repeated]
    assert any("高端引领、创新驱动、绿色发展、开放包容的京北创新中心、国际科教新城" in t for t in texts)
    clean = ["".join(ch for ch in t if ch.isalnum()) for t in texts]
    for a in clean:
        assert len(a) >= 6
        assert not any(a != b and a in b for b in clean)
    assert all(len(p.sections) >= 2 and len(set(p.sections)) == len(p.sections) for p in r.repeated)


def test_repetition_within_one_section_or_boilerplate_is_not_reported():
    text = "\n".join(
        [
            "同志们：今天我们召开会议，认真贯彻落实科学发展观。",
            "下面，我讲三点意见。",
            "一、深刻认识重要意义",
            "要深入贯彻落实科学发展观。把群众满意作为唯一标准，把群众满意作为唯一标准。",
            "二、抓好重点任务",
            "一是要深入贯彻落实科学发展观。二是要加强和改进工作。",
            "三、加强组织领导",
            "各级党委要加强和改进领导。",
            "让我们紧密团结在以习近平同志为核心的党中央周围，作出新的更大贡献！",
        ]
    )
    r = run_checks(text)
    assert r.repeated == []
    assert "repeated_phrase" in codes(r, "ok")


# ---------------------------------------------------------------- verbatim copy
def test_copied_run_of_40_is_flagged_with_offset(seed):
    copied = seed.split("\n")[5][20:60]
    assert len(copied) == 40
    source = "这是去年的旧稿，开头不同。" + copied + "后面也完全不同的内容。"
    offset = seed.index(copied)
    r = run_checks(seed, sources=["另一篇毫不相干的讲话稿。", source])
    assert len(r.copies) == 1
    c = r.copies[0]
    assert (c.offset, c.length, c.source) == (offset, 40, 1)
    assert seed[c.offset : c.offset + c.length] == copied
    assert c.source_offset == source.index(copied)
    warn = [i for i in r.items if i.code == "copied"]
    assert warn[0].level == "warn" and warn[0].offset == offset and warn[0].section == "part1"


def test_copied_run_of_25_is_not_flagged(seed):
    copied = seed.split("\n")[5][20:45]
    source = "这是去年的旧稿，开头不同。" + copied + "后面也完全不同的内容。"
    r = run_checks(seed, sources=[source])
    assert r.copies == []
    assert "copied" in codes(r, "ok")


def test_copy_ignores_line_breaks_and_merges_runs(seed):
    body = seed.split("\n")
    src = body[3] + "\n\n" + body[4]  # a source that copies two whole paragraphs
    idx = SourceIndex([src])
    runs = find_copies(seed, idx)
    assert len(runs) == 1
    run = runs[0]
    start = seed.index(body[3])
    assert run.offset == start
    assert run.offset + run.length == start + len(body[3]) + 1 + len(body[4])
    assert run.chars == len(body[3]) + len(body[4])


def test_corpus_sources_find_self_copy():
    if len(CORPUS) < 2:
        pytest.skip("corpus not written yet")
    texts = [p.read_text(encoding="utf-8") for p in CORPUS[:5]]
    r = run_checks(texts[0], sources=texts[1:])
    assert all(c.source < len(texts) - 1 for c in r.copies)
    r = run_checks(texts[0], sources=texts)
    assert any(c.source == 0 and c.chars >= 1000 for c in r.copies)


# ---------------------------------------------------------------- rendering and JSON
def test_summary_and_markdown(seed):
    r = run_checks(seed, budget_minutes=10)
    assert r.summary().startswith(f"{len(r.warnings)} 条提醒")
    md = r.markdown()
    assert "✓ 结构" in md
    assert "⚠" in md
    assert "| 第二部分 | 1442 |" in md
    assert "| **合计** | **3275** | **14.9** |" in md
    md_bad = run_checks(drop_part(seed, "三")).markdown()
    assert "✗ 缺少第三部分" in md_bad


def test_to_dict_is_json(seed):
    d = run_checks(seed, budget_minutes=10, sources=[seed[:200]]).to_dict()
    s = json.dumps(d, ensure_ascii=False)
    assert "约需压缩 1075 字" in s
    assert d["fits"] is False and d["chars"] == 3275


def test_check_json_for_cli(seed):
    d = check_json(seed)
    json.dumps(d, ensure_ascii=False)
    assert d["has_opening"] is True and d["has_closing"] is True
    assert d["chars"] == 3275 and d["minutes"] == 14.9
    assert [p["number"] for p in d["parts"]] == [1, 2, 3]
    p2 = d["parts"][1]
    assert p2["heading"].startswith("围绕中心、服务大局") and p2["role"] == "tasks"
    assert len(p2["items"]) == 3 and p2["items"][0].startswith("一是")
    assert sum(p["chars"] for p in d["parts"]) < d["chars"]
    assert "fits" not in d and "fits" not in p2
    assert all({"level", "code", "message"} <= set(c) for c in d["checks"])
    assert not [c for c in d["checks"] if c["level"] == "error"]
    assert isinstance(d["repeated_phrases"], list)


def test_check_json_with_budget(seed):
    d = check_json(seed, budget_minutes=10)
    assert d["fits"] is False
    assert [p["budget_chars"] for p in d["parts"]] == [550, 550, 550]
    assert [p["fits"] for p in d["parts"]] == [False, False, True]
    d = check_json(seed, chars_per_minute=330, budget_minutes=10)
    assert d["fits"] is True and d["minutes"] == 9.9


def test_four_parts_is_a_warning_not_an_error(seed):
    extra = "四、几点具体要求\n会后各单位要抓紧传达学习，抓好贯彻落实。"
    ls = lines_of(seed.rstrip("\n"))
    text = "\n".join(ls[:-1] + [extra, ls[-1]])
    r = run_checks(text)
    assert errors(r) == []
    warn = {i.code: i.message for i in r.items if i.level == "warn"}
    assert warn["part_count"] == "共有四个部分，通常讲三点"
    assert warn["transition_count"] == "过渡语说讲三点，正文有四个部分"


def test_order_words_out_of_order():
    text = "\n".join(
        [
            "同志们：今天召开全区优化营商环境大会。",
            "下面，我讲三点意见。",
            "一、认清形势",
            "营商环境就是生产力。",
            "二、突出重点",
            "其次，要提升政务服务效能。",
            "首先，要降低企业成本。",
            "最后，要保护企业合法权益。",
            "三、强化保障",
            "各部门要压实责任。",
            "同志们，让我们一起努力！",
        ]
    )
    r = run_checks(text)
    assert errors(r) == ["第二部分条目顺序错误：其次、首先、最后"]
