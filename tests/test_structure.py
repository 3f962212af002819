"""The speech parser: opening, transition, parts 一/二/三 with items, closing — exact boundaries and offsets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from assistant.loaders import read_speech, speech_files
from assistant.structure import (
    Speech,
    classify_role,
    cn_number,
    cn_numeral,
    count_chars,
    iter_paragraph_roles,
    match_heading,
    match_item,
    parse,
    split_front_matter,
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "knowledge" / "speeches"
SHARED_SEED = Path("/work/shared/seed/000_cee338bc757c0ce3.txt")
CORPUS_SEED = CORPUS / "000_seed_gonghui_daibiao_dahui.txt"
CORPUS_FILES = speech_files(CORPUS)


def _seed_text() -> str:
    if SHARED_SEED.exists():
        return SHARED_SEED.read_text(encoding="utf-8")
    # the corpus copy keeps the body verbatim below its front matter
    text = CORPUS_SEED.read_text(encoding="utf-8")
    return text[split_front_matter(text)[1]:]


SEED = _seed_text()
SEED_LINES = [line for line in SEED.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def seed() -> Speech:
    return parse(SEED)


def all_spans(s: Speech):
    """Every paragraph and item of a parsed speech (what must satisfy text[start:end] == text)."""
    spans = list(s.opening) + ([s.transition] if s.transition else []) + list(s.closing)
    for part in s.parts:
        spans.append(part.heading_line)
        spans.extend(part.paragraphs)
        spans.extend(part.items)
    return spans


def assert_offsets(s: Speech) -> None:
    for span in all_spans(s):
        assert s.text[span.start:span.end] == span.text, span


# --------------------------------------------------------------------------- the seed, exactly


def test_seed_is_the_reference_text():
    assert len(SEED_LINES) == 15
    assert SEED_LINES[0] == "工会讲话致辞"


def test_seed_title_line(seed):
    assert seed.title == "工会讲话致辞"
    # the title line is not part of the opening
    assert all("工会讲话致辞" != p.text for p in seed.opening)
    assert seed.body_start == SEED.index("\n")


def test_seed_opening_is_exactly_the_first_paragraph(seed):
    assert len(seed.opening) == 1
    opening = seed.opening[0].text
    assert opening == SEED_LINES[1]
    assert opening.startswith("在全区“_”目标")
    assert opening.endswith("表示衷心的感谢!")


def test_seed_transition(seed):
    t = seed.transition
    assert t is not None
    assert t.text == SEED_LINES[2]
    assert t.text.startswith("刚才，惠兰同志")
    assert t.text.endswith("再讲三点意见。")


def test_seed_three_parts_with_exact_headings_and_roles(seed):
    assert [p.number for p in seed.parts] == [1, 2, 3]
    assert [p.numeral for p in seed.parts] == ["一", "二", "三"]
    assert [p.heading for p in seed.parts] == [
        "深刻认识新形势下工会工作的重大意义",
        "围绕中心、服务大局，奋力开创全区工会事业发展新局面",
        "切实加强和改进新时期对工会工作的领导",
    ]
    assert [p.heading_line.text for p in seed.parts] == [SEED_LINES[3], SEED_LINES[7], SEED_LINES[12]]
    assert [p.role for p in seed.parts] == ["significance", "tasks", "guarantees"]
    assert [p.title_line for p in seed.parts] == [SEED_LINES[3], SEED_LINES[7], SEED_LINES[12]]


def test_seed_part_bodies(seed):
    one, two, three = seed.parts
    assert [p.text for p in one.paragraphs] == SEED_LINES[4:7]
    assert [p.text for p in two.paragraphs] == SEED_LINES[8:12]
    assert [p.text for p in two.intro] == [SEED_LINES[8]]
    assert [p.text for p in three.paragraphs] == [SEED_LINES[13]]
    assert len(three.paragraphs) == 1
    assert one.items == [] and three.items == []


def test_seed_part_two_items(seed):
    items = seed.part(2).items
    assert len(items) == 3
    assert [i.marker for i in items] == ["一是", "二是", "三是"]
    assert [i.style for i in items] == ["shi"] * 3
    assert [i.number for i in items] == [1, 2, 3]
    # each item is the whole paragraph, not a sentence of it
    assert [i.text for i in items] == SEED_LINES[9:12]
    assert items[0].text.startswith("一是要进一步引导广大职工充分发挥主力军作用")
    assert items[0].text.endswith("创新成果不断涌现。")
    assert items[2].text.endswith("“职工之家”。")


def test_seed_closing_is_exactly_the_last_paragraph(seed):
    assert len(seed.closing) == 1
    closing = seed.closing[0].text
    assert closing == SEED_LINES[-1]
    assert closing.startswith("加快科学发展步伐")
    assert "让我们" in closing
    # the closing is not swallowed by part 三
    assert closing not in seed.part(3).body


def test_seed_offsets(seed):
    assert_offsets(seed)
    assert seed.part(1).start == SEED.index(SEED_LINES[3])
    assert seed.part(3).end == SEED.index(SEED_LINES[13]) + len(SEED_LINES[13])


def test_seed_chars_add_up(seed):
    # everything except the title line, white space excluded
    assert seed.chars == count_chars(SEED) - count_chars("工会讲话致辞")
    assert seed.chars == sum(count_chars(line) for line in SEED_LINES[1:])
    parts_total = sum(p.chars for p in seed.parts)
    assert parts_total == sum(count_chars(line) for line in SEED_LINES[3:14])
    d = seed.to_dict()
    assert d["chars"] == seed.chars
    assert [p["chars"] for p in d["parts"]] == [p.chars for p in seed.parts]


def test_seed_to_dict(seed):
    d = seed.to_dict()
    assert d["title"] == "工会讲话致辞"
    assert d["has_opening"] and d["has_transition"] and d["has_closing"]
    assert d["opening"] == SEED_LINES[1]
    assert d["transition"] == SEED_LINES[2]
    assert d["closing"] == SEED_LINES[-1]
    assert [p["number"] for p in d["parts"]] == [1, 2, 3]
    assert [p["role"] for p in d["parts"]] == ["significance", "tasks", "guarantees"]
    assert d["parts"][1]["items"] == SEED_LINES[9:12]
    assert d["parts"][0]["items"] == [] and d["parts"][2]["items"] == []
    for p, part in zip(d["parts"], seed.parts):
        assert (p["start"], p["end"]) == (part.start, part.end)


def test_seed_paragraph_roles_cover_every_line(seed):
    roles = list(iter_paragraph_roles(seed))
    assert [p.text for _, p in roles] == SEED_LINES[1:]
    assert [r for r, _ in roles] == (
        ["opening", "transition"] + ["significance"] * 4 + ["tasks"] * 5 + ["guarantees"] * 2 + ["closing"]
    )


def test_corpus_copy_of_seed_parses_like_the_seed(seed):
    s = parse(CORPUS_SEED.read_text(encoding="utf-8"))
    assert s.title.startswith("在昌平区工会第三次代表大会上的讲话")  # from the front matter
    assert s.meta["occasion"] == "昌平区工会第三次代表大会"
    assert [p.text for p in s.opening] == [p.text for p in seed.opening]
    assert s.transition.text == seed.transition.text
    assert [(p.heading, p.role, [i.text for i in p.items]) for p in s.parts] == [
        (p.heading, p.role, [i.text for i in p.items]) for p in seed.parts
    ]
    assert [p.text for p in s.closing] == [p.text for p in seed.closing]
    assert s.chars == seed.chars
    assert_offsets(s)


# --------------------------------------------------------------------------- the corpus


def test_corpus_has_25_speeches():
    assert len(CORPUS_FILES) == 25
    assert sum(f.suffix == ".md" for f in CORPUS_FILES) == 1


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_file_structure(path):
    text = read_speech(path)
    s = parse(text)
    assert s.meta.get("title"), "every corpus file has front matter"
    assert s.title == str(s.meta["title"]).strip()
    assert s.opening, "opening"
    assert s.transition is not None, "transition"
    assert [p.number for p in s.parts] == [1, 2, 3]
    assert [p.role for p in s.parts] == ["significance", "tasks", "guarantees"]
    assert all(p.heading and len(p.heading) <= 48 for p in s.parts)
    items = s.part(2).items
    assert len(items) >= 3, [i.marker for i in items]
    assert [i.number for i in items] == list(range(1, len(items) + 1))
    assert len({i.style for i in items}) == 1
    assert s.closing, "closing"
    assert_offsets(s)
    # no text is lost: every non-blank body line is in exactly one section
    body_lines = [ln.strip() for ln in text[s.body_start:].splitlines() if ln.strip()]
    assert [p.text for _, p in iter_paragraph_roles(s)] == body_lines
    # items lie inside part 二 and do not overlap
    two = s.part(2)
    assert all(two.start <= i.start < i.end <= two.end for i in items)
    assert all(a.end < b.start for a, b in zip(items, items[1:]))
    # chars add up
    assert s.chars == sum(count_chars(p.text) for _, p in iter_paragraph_roles(s)) - sum(
        count_chars(p.heading_line.text) - count_chars(p.title_line) for p in s.parts
    )


def test_corpus_markdown_headings():
    md = CORPUS / "123_fulian_sanbajie.md"
    s = parse(read_speech(md))
    assert [p.heading_line.text[:5] for p in s.parts] == ["## 一、", "## 二、", "## 三、"]
    assert [p.title_line for p in s.parts] == [p.heading_line.text[3:] for p in s.parts]
    assert not any(p.heading.startswith("#") for p in s.parts)


def test_corpus_item_styles_are_all_represented():
    styles = {parse(read_speech(f)).part(2).items[0].style for f in CORPUS_FILES}
    assert styles == {"shi", "paren", "order"}


# --------------------------------------------------------------------------- synthetic variants

OPEN = "今天，我们在这里召开全县工作会议，主要任务是总结去年工作，部署今年任务。"
TRANS = "下面，我讲三点意见。"
H1, H2, H3 = "一、提高思想认识", "二、突出工作重点", "三、加强组织领导"
P1 = "做好今年工作意义重大。我们要认清形势，增强信心。"
P3 = "各级党委政府要加强领导，压实责任，形成合力。"
CLOSE = "同志们，让我们团结一心，奋力拼搏，圆满完成全年目标任务！"


def speech(*part2: str, h1=H1, h2=H2, h3=H3, title="在全县工作会议上的讲话", sep="\n") -> str:
    lines = ([title] if title else []) + [OPEN, TRANS, h1, P1, h2, *part2, h3, P3, CLOSE]
    return sep.join(lines) + sep


def test_paren_items():
    items = ["（一）抓项目建设。确保投资稳定增长。", "（二）抓招商引资。引进一批好项目。", "（三）抓民生改善。办好十件实事。"]
    s = parse(speech("要抓好三个方面。", *items))
    two = s.part(2)
    assert [i.marker for i in two.items] == ["（一）", "（二）", "（三）"]
    assert [i.style for i in two.items] == ["paren"] * 3
    assert [i.number for i in two.items] == [1, 2, 3]
    assert [i.text for i in two.items] == items
    assert [p.text for p in two.intro] == ["要抓好三个方面。"]
    assert two.role == "tasks"
    assert_offsets(s)


def test_ascii_paren_items():
    items = ["(一)抓项目建设。", "(二)抓招商引资。", "(三)抓民生改善。"]
    s = parse(speech(*items))
    assert [i.marker for i in s.part(2).items] == ["(一)", "(二)", "(三)"]


def test_order_word_items():
    items = ["首先，要抓项目建设，确保投资增长。", "其次，要抓招商引资，引进好项目。", "再次，要抓营商环境。", "最后，要抓民生改善，办好实事。"]
    s = parse(speech(*items))
    two = s.part(2)
    assert [i.marker for i in two.items] == ["首先", "其次", "再次", "最后"]
    assert [i.style for i in two.items] == ["order"] * 4
    assert [i.number for i in two.items] == [1, 2, 3, 4]  # 最后 takes its position
    assert [i.text for i in two.items] == items
    assert_offsets(s)


def test_a_single_order_word_is_not_an_item():
    s = parse(speech("首先，要统一思想。各项工作都要抓紧。"))
    assert s.part(2).items == []


def test_trailing_paragraph_stays_with_last_item():
    s = parse(speech("一是要抓项目。", "二是要抓招商。", "三是要抓民生。", "这三件事都很重要。"))
    items = s.part(2).items
    assert len(items) == 3
    assert items[-1].text == "三是要抓民生。\n这三件事都很重要。"
    assert s.text[items[-1].start:items[-1].end] == "三是要抓民生。\n这三件事都很重要。"


def test_inline_items_in_one_paragraph():
    para = "全县上下要抓好三件事：一是要抓项目建设，确保投资增长；二是要抓招商引资，引进一批好项目；三是要抓民生改善，办好十件实事。"
    s = parse(speech(para))
    two = s.part(2)
    assert len(two.paragraphs) == 1
    items = two.items
    assert [i.marker for i in items] == ["一是", "二是", "三是"]
    assert [i.style for i in items] == ["inline"] * 3
    assert [i.number for i in items] == [1, 2, 3]
    assert [i.text for i in items] == [
        "一是要抓项目建设，确保投资增长；",
        "二是要抓招商引资，引进一批好项目；",
        "三是要抓民生改善，办好十件实事。",
    ]
    assert_offsets(s)
    assert two.role == "tasks"


def test_inline_items_need_one_and_two():
    # a lone 二是 (without 一是 before it) does not make a list
    s = parse(speech("要把思想统一到决策部署上来，这是前提。二是要抓好落实。"))
    assert s.part(2).items == []


def test_markdown_hash_headings():
    text = speech(
        "一是要抓项目。", "二是要抓招商。", "三是要抓民生。",
        h1="## " + H1, h2="## " + H2, h3="## " + H3, title="# 在全县工作会议上的讲话",
    )
    s = parse(text)
    assert s.title == "在全县工作会议上的讲话"
    assert [p.heading for p in s.parts] == ["提高思想认识", "突出工作重点", "加强组织领导"]
    assert [p.heading_line.text for p in s.parts] == ["## " + H1, "## " + H2, "## " + H3]
    assert [p.role for p in s.parts] == ["significance", "tasks", "guarantees"]
    assert len(s.part(2).items) == 3
    assert [p.text for p in s.opening] == [OPEN]
    assert [p.text for p in s.closing] == [CLOSE]
    assert_offsets(s)


def test_markdown_bold_headings_with_blank_lines():
    text = speech(
        "一是要抓项目。", "二是要抓招商。", "三是要抓民生。",
        h1=f"**{H1}**", h2=f"**{H2}**", h3=f"**{H3}**", sep="\n\n",
    )
    s = parse(text)
    assert s.title == "在全县工作会议上的讲话"
    assert [p.heading for p in s.parts] == ["提高思想认识", "突出工作重点", "加强组织领导"]
    assert [p.title_line for p in s.parts] == [H1, H2, H3]
    assert [p.role for p in s.parts] == ["significance", "tasks", "guarantees"]
    assert [i.text for i in s.part(2).items] == ["一是要抓项目。", "二是要抓招商。", "三是要抓民生。"]
    assert s.transition.text == TRANS
    assert_offsets(s)
    # ** markup does not count as speech characters
    assert s.part(1).chars == count_chars(H1) + count_chars(P1)


def test_no_headings_is_all_opening():
    paras = [
        "金秋十月，丹桂飘香。今天，我们欢聚一堂，共同庆祝学校建校六十周年。",
        "六十年来，学校培养了数以万计的优秀人才，为地方经济社会发展作出了重要贡献。",
        "衷心祝愿学校越办越好，再创新的辉煌！",
    ]
    s = parse("\n".join(paras) + "\n")
    assert s.parts == []
    assert [p.text for p in s.opening] == paras
    assert s.transition is None
    assert s.closing == []
    assert s.title == ""
    assert s.chars == sum(count_chars(p) for p in paras)
    assert_offsets(s)


def test_no_headings_with_closing_call():
    s = parse("热烈祝贺大会胜利召开！\n希望大家再接再厉。\n同志们，让我们携手奋进！\n")
    assert [p.text for p in s.opening] == ["热烈祝贺大会胜利召开！", "希望大家再接再厉。"]
    assert [p.text for p in s.closing] == ["同志们，让我们携手奋进！"]


def test_crlf_line_endings(seed):
    text = SEED.replace("\n", "\r\n")
    s = parse(text)
    assert s.title == "工会讲话致辞"
    assert_offsets(s)
    assert not any("\r" in sp.text for sp in all_spans(s))
    assert [p.text for p in s.opening] == [p.text for p in seed.opening]
    assert s.transition.text == seed.transition.text
    assert [(p.heading, p.role) for p in s.parts] == [(p.heading, p.role) for p in seed.parts]
    assert [i.text for i in s.part(2).items] == [i.text for i in seed.part(2).items]
    assert [p.text for p in s.closing] == [p.text for p in seed.closing]
    assert s.chars == seed.chars


def test_crlf_front_matter():
    text = CORPUS_SEED.read_text(encoding="utf-8").replace("\n", "\r\n")
    s = parse(text)
    assert s.meta["occasion"] == "昌平区工会第三次代表大会"
    assert [p.number for p in s.parts] == [1, 2, 3]
    assert_offsets(s)


def test_bom(seed):
    s = parse("\ufeff" + SEED)
    assert s.title == "工会讲话致辞"
    assert_offsets(s)
    assert [p.text for p in s.opening] == [p.text for p in seed.opening]
    assert [(p.heading, p.role, len(p.items)) for p in s.parts] == [(p.heading, p.role, len(p.items)) for p in seed.parts]
    assert s.chars == seed.chars


def test_bom_with_front_matter():
    s = parse("\ufeff" + CORPUS_SEED.read_text(encoding="utf-8"))
    assert s.meta["date"] is not None and s.meta["occasion"] == "昌平区工会第三次代表大会"
    assert [p.number for p in s.parts] == [1, 2, 3]
    assert_offsets(s)


def test_indented_paragraphs(seed):
    text = "\n".join("\u3000\u3000" + line for line in SEED.split("\n"))
    s = parse(text)
    assert_offsets(s)
    assert [(p.heading, p.role) for p in s.parts] == [(p.heading, p.role) for p in seed.parts]
    assert [i.text for i in s.part(2).items] == [i.text for i in seed.part(2).items]


def test_long_sentence_starting_with_yi_is_not_a_heading():
    sentence = "一、我们要深刻认识做好新形势下工作的极端重要性和现实紧迫性，切实增强责任感和使命感，把思想和行动统一到决策部署上来。"
    assert match_heading(sentence) is None
    s = parse(speech("一是要抓项目。", "二是要抓招商。", "三是要抓民生。").replace(P1, P1 + "\n" + sentence))
    assert [p.number for p in s.parts] == [1, 2, 3]
    assert [p.text for p in s.part(1).paragraphs] == [P1, sentence]


def test_heading_matching():
    assert match_heading("一、提高思想认识") == ("一", "提高思想认识")
    assert match_heading("## 二、突出工作重点") == ("二", "突出工作重点")
    assert match_heading("**三、加强组织领导**") == ("三", "加强组织领导")
    assert match_heading("十二、其他事项") == ("十二", "其他事项")
    assert match_heading("一是要抓项目。") is None
    assert match_heading("（一）抓项目") is None
    assert match_heading("一、") is None


def test_item_matching():
    assert match_item("一是要抓项目") == ("一是", "shi", 1)
    assert match_item("十二是要抓好") == ("十二是", "shi", 12)
    assert match_item("（三）抓民生") == ("（三）", "paren", 3)
    assert match_item("其次，要抓招商") == ("其次", "order", 2)
    assert match_item("最后：要抓落实") == ("最后", "order", 0)
    assert match_item("首先要说明") is None  # no comma after the order word
    assert match_item("要抓项目") is None


def test_role_classification_uses_keywords_over_position():
    assert classify_role("充分认识重大意义", 2, False) == "significance"
    assert classify_role("加强组织领导", 1, False) == "guarantees"
    assert classify_role("聚焦重点任务", 3, True) == "tasks"
    assert classify_role("其他", 5, False, total_parts=5) == "other"


def test_front_matter_split():
    meta, start = split_front_matter("---\ntitle: 讲话\ndate: 2024-01-01\n---\n正文")
    assert meta["title"] == "讲话" and start == len("---\ntitle: 讲话\ndate: 2024-01-01\n---\n")
    meta, start = split_front_matter("---\n: : bad yaml [\n---\n正文")
    assert meta == {} and start > 0
    assert split_front_matter("正文") == ({}, 0)
    assert split_front_matter("\ufeff正文") == ({}, 1)


def test_cn_number_round_trip_1_to_99():
    for n in range(1, 100):
        s = cn_numeral(n)
        assert re.fullmatch(r"[一二三四五六七八九十]{1,3}", s), s
        assert cn_number(s) == n, (n, s)
    assert [cn_numeral(n) for n in (1, 9, 10, 11, 19, 20, 21, 90, 99)] == [
        "一", "九", "十", "十一", "十九", "二十", "二十一", "九十", "九十九",
    ]
    assert cn_number("") == 0
    assert cn_number("百") == 0


# --------------------------------------------------------------------------- every common form of opening and closing
# tests/data/speech_forms: speeches written for these tests (not from the corpus), one per form of opening and
# closing of a 讲话稿 / 致辞; expected.yaml lists, by hand, the paragraphs of each section by the start of their text.

FORMS = ROOT / "tests" / "data" / "speech_forms"
FORMS_EXPECTED = yaml.safe_load((FORMS / "expected.yaml").read_text(encoding="utf-8"))


def _starts(paras) -> list[str]:
    return [p.text for p in paras]


def _assert_paragraphs(paras, prefixes, what):
    texts = _starts(paras)
    assert len(texts) == len(prefixes), (what, [t[:20] for t in texts])
    for text, prefix in zip(texts, prefixes):
        assert text.startswith(prefix), (what, text[:40], prefix)


def test_forms_set_is_complete():
    files = sorted(p.name for p in speech_files(FORMS))
    assert files == sorted(FORMS_EXPECTED), "every speech in speech_forms has its expected labels and vice versa"
    assert len(files) >= 13


@pytest.mark.parametrize("name", sorted(FORMS_EXPECTED), ids=lambda n: n.split("_", 1)[0])
def test_speech_form(name):
    exp = FORMS_EXPECTED[name]
    text = read_speech(FORMS / name)
    s = parse(text)
    assert s.title == exp["title"]
    _assert_paragraphs(s.opening, exp["opening"], "opening")
    if exp["transition"] is None:
        assert s.transition is None, s.transition.text[:40]
    else:
        assert s.transition is not None and s.transition.text.startswith(exp["transition"])
    assert [p.heading for p in s.parts] == exp["parts"]
    assert [len(p.items) for p in s.parts] == exp["items"]
    _assert_paragraphs(s.closing, exp["closing"], "closing")
    assert_offsets(s)
    # no text is lost, nothing is counted twice: every body line is in exactly one section, in order
    body_lines = [ln.strip() for ln in text[s.body_start:].splitlines() if ln.strip()]
    assert [p.text for _, p in iter_paragraph_roles(s)] == body_lines
    # the parts are exactly the lines between their heading and the next heading (or the closing)
    for k, part in enumerate(s.parts):
        start = body_lines.index(part.heading_line.text) + 1
        end = (body_lines.index(s.parts[k + 1].heading_line.text) if k + 1 < len(s.parts)
               else len(body_lines) - len(s.closing))
        assert _starts(part.paragraphs) == body_lines[start:end]


def _form(name: str) -> Speech:
    return parse(read_speech(FORMS / name))


def test_salutation_line_is_the_first_line_of_the_opening_not_the_title():
    s = _form("01_salutation_occasion_report_transition.txt")
    assert s.title == ""  # 同志们： is no title
    assert s.opening[0].text == "同志们："
    assert s.opening[0].start == 0 and s.body_start == 0
    roles = list(iter_paragraph_roles(s))
    assert roles[0] == ("opening", s.opening[0]) and roles[1][0] == "opening"
    assert roles[1][1].text.startswith("今天，县委、县政府召开")


@pytest.mark.parametrize("name", ["04_salutation_occasion_with_transition_sentence.txt",
                                  "07_thanks_first_with_transition_sentence.txt",
                                  "12_salutation_occasion_greeting_jiangjidian.txt"])
def test_occasion_paragraph_ending_with_the_points_is_opening_not_transition(name):
    s = _form(name)
    assert s.transition is None
    occasion = s.opening[-1].text
    assert re.search(r"今天|首先，我代表", occasion) and re.search(r"讲[三几]点意见。$", occasion)
    chunks_roles = {role for role, p in iter_paragraph_roles(s) if p.text == occasion}
    assert chunks_roles == {"opening"}


def test_a_report_paragraph_is_the_transition_even_after_a_salutation_only():
    text = "同志们：\n刚才，张明同志作了工作报告，我完全同意。今天召开的这次会议很重要。下面，我讲三点意见。\n" \
           f"{H1}\n{P1}\n{H2}\n一是要抓项目。\n二是要抓招商。\n{H3}\n{P3}\n{CLOSE}\n"
    s = parse(text)
    assert _starts(s.opening) == ["同志们："]
    assert s.transition.text.startswith("刚才，张明同志")


def test_salutation_with_greeting_then_occasion_with_the_points():
    text = "同志们：大家好！\n今天，我们召开全区工作会议，部署今年任务。下面，我讲三点意见。\n" \
           f"{H1}\n{P1}\n{H2}\n一是要抓项目。\n二是要抓招商。\n{H3}\n{P3}\n{CLOSE}\n"
    s = parse(text)
    assert s.title == ""
    assert [p.text[:5] for p in s.opening] == ["同志们：大", "今天，我们"]
    assert s.transition is None
    assert _starts(s.closing) == [CLOSE]


def test_thanks_first_opening_with_salutation():
    s = _form("06_thanks_first_then_occasion.txt")
    assert [p.text[:5] for p in s.opening] == ["同志们：", "首先，我代", "今天，我们"]
    assert s.transition.text.startswith("刚才") and s.transition.text.endswith("下面，我再强调三点。")


def test_zhici_closing_with_yuzhu_and_thanks():
    s = _form("03_zhici_respectful_salutation_yuzhu.txt")
    assert s.opening[0].text == "尊敬的各位领导、各位来宾，女士们、先生们："
    assert _starts(s.closing)[-1] == "谢谢大家！"
    assert s.closing[0].text.startswith("最后，预祝") and "圆满成功" in s.closing[0].text
    # the closing is not swallowed by part 三
    assert all("预祝" not in p.text and "谢谢" not in p.text for p in s.part(3).paragraphs)


def test_zhici_without_headings_closing_and_mid_speech_vocative():
    s = _form("10_zhici_no_headings.txt")
    assert s.parts == []
    assert _starts(s.closing)[0].startswith("最后，预祝") and _starts(s.closing)[1] == "谢谢大家！"
    # 女士们、先生们，…… in the middle of the speech is its body, not the start of the closing
    assert any(p.text.startswith("女士们、先生们，") for p in s.opening)


def test_closing_that_starts_with_zuihou_is_not_an_item():
    s = _form("08_closing_zuihou_after_order_items.txt")
    assert [i.marker for i in s.part(3).items] == ["首先", "其次", "再次"]
    assert len(s.closing) == 1 and s.closing[0].text.startswith("最后，我代表区委")
    assert s.part(3).paragraphs[-1].text.startswith("再次，要加强队伍建设")
    assert s.closing[0].text not in s.part(3).body


def test_zuihou_item_and_rang_women_de_stay_in_the_part():
    s = _form("09_order_items_then_vocative_closing.txt")
    three = s.part(3)
    assert [i.marker for i in three.items] == ["首先", "其次", "最后"]
    assert "让我们的学生家长" in three.items[-1].text  # 让我们的…… is no call to action
    assert len(s.closing) == 1 and s.closing[0].text.startswith("同志们，") and "让我们" not in s.closing[0].text


def test_closing_without_rang_women_and_other_vocatives():
    # 同志们，……任务艰巨、使命光荣。……努力奋斗！
    s = _form("12_salutation_occasion_greeting_jiangjidian.txt")
    assert len(s.closing) == 1 and s.closing[0].text.endswith("努力奋斗！")
    # 同志们、朋友们，…… then 让我们……
    s = _form("07_thanks_first_with_transition_sentence.txt")
    assert [p.text[:7] for p in s.closing] == ["同志们、朋友们", "让我们从自身做"]


def test_vocative_inside_the_last_part_is_not_the_closing():
    s = _form("02_title_two_salutations_greeting.txt")
    assert any(p.text.startswith("各位代表，新一届") for p in s.part(3).paragraphs)
    s = _form("11_front_matter_comma_salutation_trap.txt")
    assert s.part(3).paragraphs[-1].text.startswith("受表彰的同志们，")
    assert s.closing[0].text.startswith("同志们，朋友们，")


def test_closing_call_then_thanks_without_vocative():
    s = _form("13_occasion_zhiji_rangwomen_thanks.txt")
    assert [p.text[:5] for p in s.closing] == ["让我们携起", "谢谢大家！"]


def test_salutation_and_transition_helpers():
    from assistant.structure import is_salutation, is_transition

    for line in ["同志们：", "各位代表、同志们：", "尊敬的各位领导、各位来宾，女士们、先生们：", "同志们，朋友们：",
                 "各位同志：", "尊敬的王书记、各位来宾:", "同志们：大家好！", "各位来宾：上午好！"]:
        assert is_salutation(line), line
    for line in ["下面，我讲三点意见：", "在全县工作会议上的讲话", "主要任务是：", "同志们，今天我们召开大会。"]:
        assert not is_salutation(line), line
    assert is_transition("下面，我就做好全县工会工作讲三点意见。")
    assert is_transition("借此机会，我就做好老龄工作讲几点意见。")
    assert is_transition("我再强调三个方面的问题。")
    assert not is_transition("今天，县委召开全县工作会议。")
