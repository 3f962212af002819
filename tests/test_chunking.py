"""Structure-aware chunks: never split an item or a heading; metadata and offsets agree with the parser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.chunking import MAX_CHARS, Chunk, chunk_speech
from assistant.loaders import read_speech, speech_files
from assistant.structure import Speech, iter_paragraph_roles, parse, split_front_matter

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "knowledge" / "speeches"
SHARED_SEED = Path("/work/shared/seed/000_cee338bc757c0ce3.txt")


def _seed_text() -> str:
    if SHARED_SEED.exists():
        return SHARED_SEED.read_text(encoding="utf-8")
    text = (CORPUS / "000_seed_gonghui_daibiao_dahui.txt").read_text(encoding="utf-8")
    return text[split_front_matter(text)[1]:]


SEED = _seed_text()
SOURCES = [("seed", SEED)] + [(p.name, read_speech(p)) for p in speech_files(CORPUS)]
SENTENCE_END = "。！？；!?;"
CLOSERS = "”’」』）)"
_WS = re.compile(r"\s")
# sentence ends; a closing quote belongs to the sentence it closes
SENTENCE_SPLIT = re.compile(r"(?<=[。！？；!?;])(?![”’」』）)])|(?<=[。！？；!?;][”’」』）)])")


def squash(s: str) -> str:
    return _WS.sub("", s)


def ends_sentence(s: str) -> bool:
    s = s.rstrip(CLOSERS) if len(s) > 1 and s[-1] in CLOSERS else s
    return bool(s) and s[-1] in SENTENCE_END


def check_chunks(s: Speech, chunks: list[Chunk], *, exact_offsets: bool = True, limit: int = MAX_CHARS) -> None:
    """Every invariant a chunking must keep, for any speech."""
    text = s.text
    assert chunks, "a speech with text has chunks"

    # offsets point at the chunk text in the source
    for c in chunks:
        assert 0 <= c.start < c.end <= len(text)
        assert c.text.strip() == c.text and c.text
        if exact_offsets:
            assert text[c.start:c.end] == c.text, c
        else:
            assert squash(text[c.start:c.end]) == squash(c.text), c

    # chunks are in document order and never overlap
    spans = [(c.start, c.end) for c in chunks]
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))

    # no item is split: each item lies wholly inside exactly one chunk, which no other chunk touches
    for part in s.parts:
        for item in part.items:
            holders = [c for c in chunks if c.start <= item.start and item.end <= c.end]
            touching = [c for c in chunks if c.start < item.end and item.start < c.end]
            assert len(holders) == 1 and touching == holders, item.marker
            assert item.text in holders[0].text
            c = holders[0]
            assert (c.role, c.section, c.part, c.heading, c.item) == (part.role, "part", part.number, part.heading, item.number)

    # no heading is split: every heading line is the first line of a chunk and inside no other chunk
    for part in s.parts:
        h = part.heading_line
        firsts = [c for c in chunks if c.start == h.start]
        assert len(firsts) == 1 and firsts[0].text.split("\n")[0] == h.text
        assert [c for c in chunks if c.start < h.end and h.start < c.end] == firsts
        assert firsts[0].item == 0

    # metadata matches the parser
    opening_span = (s.opening[0].start, s.opening[-1].end) if s.opening else None
    closing_span = (s.closing[0].start, s.closing[-1].end) if s.closing else None
    for c in chunks:
        if c.section == "opening":
            assert c.role == "opening" and c.part == 0 and c.heading == "" and c.item == 0
            assert opening_span[0] <= c.start and c.end <= opening_span[1]
        elif c.section == "transition":
            assert c.role == "opening" and c.part == 0
            assert (c.start, c.end, c.text) == (s.transition.start, s.transition.end, s.transition.text)
        elif c.section == "closing":
            assert c.role == "closing" and c.part == 0 and c.heading == "" and c.item == 0
            assert closing_span[0] <= c.start and c.end <= closing_span[1]
        else:
            assert c.section == "part"
            part = s.part(c.part)
            assert part is not None
            assert (c.role, c.heading) == (part.role, part.heading)
            assert part.start <= c.start and c.end <= part.end
            if c.item:
                assert c.item in [i.number for i in part.items]
        md = c.metadata(source="x.txt", title="t", occasion=None)
        assert md["role"] == c.role and md["part"] == c.part and md["heading"] == c.heading
        assert (md["start"], md["end"], md["item"]) == (c.start, c.end, c.item)
        assert "occasion" not in md and md["source"] == "x.txt"
        assert all(isinstance(v, (str, int)) for v in md.values())  # what Chroma accepts

    # sizes are sensible: plain chunks stay under the limit (plus their heading); only items may be larger
    for c in chunks:
        if c.item or c.section == "transition":  # items and the transition are units, whatever their size
            continue
        head = s.part(c.part).heading_line.text if c.section == "part" and c.start == s.part(c.part).start else ""
        body = c.text[len(head) + 1:] if head and c.text != head else ("" if head else c.text)
        too_long_sentence = max((len(x) for x in SENTENCE_SPLIT.split(body)), default=0) > limit
        assert len(body) <= limit or too_long_sentence, (len(body), c.text[:30])


def covered(chunks: list[Chunk], start: int, end: int, text: str) -> bool:
    """Every non-blank character of text[start:end] lies inside some chunk."""
    inside = [False] * (end - start)
    for c in chunks:
        for i in range(max(c.start, start), min(c.end, end)):
            inside[i - start] = True
    return all(ok or text[start + i].isspace() for i, ok in enumerate(inside))


# --------------------------------------------------------------------------- seed and corpus


@pytest.mark.parametrize("name,text", SOURCES, ids=[n for n, _ in SOURCES])
def test_chunks_keep_structure(name, text):
    s = parse(text)
    chunks = chunk_speech(s)
    check_chunks(s, chunks)
    # every paragraph of the speech is in the chunks (nothing dropped)
    for _, p in iter_paragraph_roles(s):
        assert covered(chunks, p.start, p.end, text), p.text[:20]
    # one chunk per item, and a sensible number of chunks for a 2–4k character speech
    n_items = sum(len(p.items) for p in s.parts)
    assert sum(1 for c in chunks if c.item) == n_items
    assert n_items + 5 <= len(chunks) <= n_items + 12
    assert max(len(c.text) for c in chunks) <= 1000
    assert min(len(c.text) for c in chunks) >= 10
    roles = {c.role for c in chunks}
    assert roles == {"opening", "significance", "tasks", "guarantees", "closing"}


def test_seed_chunks_exactly():
    s = parse(SEED)
    chunks = chunk_speech(s)
    lines = [line for line in SEED.splitlines() if line.strip()]
    assert [(c.section, c.role, c.part, c.item) for c in chunks] == [
        ("opening", "opening", 0, 0),
        ("transition", "opening", 0, 0),
        # part 一: heading + first paragraph, then one chunk per paragraph (two do not fit in 520 characters)
        ("part", "significance", 1, 0),
        ("part", "significance", 1, 0),
        ("part", "significance", 1, 0),
        ("part", "tasks", 2, 0),  # heading + intro
        ("part", "tasks", 2, 1),
        ("part", "tasks", 2, 2),
        ("part", "tasks", 2, 3),
        ("part", "guarantees", 3, 0),  # heading + its single paragraph
        ("closing", "closing", 0, 0),
    ]
    assert [c.text for c in chunks if c.part == 1] == [lines[3] + "\n" + lines[4], lines[5], lines[6]]
    assert chunks[0].text == lines[1]
    assert chunks[1].text == lines[2]
    assert chunks[2].text.startswith(lines[3] + "\n")
    tasks_head = next(c for c in chunks if c.part == 2 and c.item == 0)
    assert tasks_head.text == lines[7] + "\n" + lines[8]
    assert [c.text for c in chunks if c.item] == lines[9:12]
    assert next(c for c in chunks if c.part == 3).text == lines[12] + "\n" + lines[13]
    assert chunks[-1].text == lines[-1]
    assert chunks[-1].section == "closing"


def test_seed_chunk_metadata_headings():
    s = parse(SEED)
    for c in chunk_speech(s):
        if c.section == "part":
            assert c.heading == s.part(c.part).heading
            assert c.metadata()["heading"] == c.heading


def test_small_limit_splits_plain_text_at_sentence_ends_but_keeps_items_whole():
    s = parse(SEED)
    chunks = chunk_speech(s, limit=120)
    check_chunks(s, chunks, limit=120)
    # items are far longer than 120 characters and still one chunk each
    items = s.part(2).items
    assert all(len(i.text) > 120 for i in items)
    assert [c.text for c in chunks if c.item] == [i.text for i in items]
    # the opening paragraph is split, only at sentence ends, and nothing is lost
    opening = [c for c in chunks if c.section == "opening"]
    assert len(opening) > 1
    assert "".join(c.text for c in opening) == s.opening[0].text
    assert all(ends_sentence(c.text) for c in opening)
    for _, p in iter_paragraph_roles(s):
        assert covered(chunks, p.start, p.end, SEED)


# --------------------------------------------------------------------------- synthetic speeches


def _long_paragraph(n: int = 70) -> str:
    sentences = []
    for i in range(n):
        if i % 5 == 1:
            sentences.append(f"大家常说：“第{i}件事情要抓紧抓实，不能有丝毫松懈。”")
        elif i % 5 == 3:
            sentences.append(f"第{i}项任务能不能按期完成？关键在于落实！")
        elif i % 7 == 4:
            sentences.append(f"第{i}个方面要统筹推进；")
        else:
            sentences.append(f"第{i}个方面的工作要扎实推进，确保取得实实在在的成效。")
    return "".join(sentences)


LONG = _long_paragraph()
LONG_ITEM = "一是要抓项目建设。" + "各地要加快项目建设进度，确保按期投产达效。" * 40


def _speech_with_long_paragraphs() -> str:
    return "\n".join(
        [
            "在全县工作会议上的讲话",
            LONG,
            "下面，我讲三点意见。",
            "一、提高思想认识",
            LONG,
            "做好今年工作意义重大。",
            "二、突出工作重点",
            LONG_ITEM,
            "二是要抓招商引资，引进一批好项目。",
            "三是要抓民生改善，办好十件实事。",
            "三、加强组织领导",
            "各级党委政府要加强领导，压实责任。",
            "同志们，让我们团结一心，奋力拼搏！",
        ]
    ) + "\n"


def test_long_plain_paragraphs_are_split_only_at_sentence_ends():
    assert len(LONG) > 2 * MAX_CHARS
    text = _speech_with_long_paragraphs()
    s = parse(text)
    chunks = chunk_speech(s)
    check_chunks(s, chunks)

    opening = [c for c in chunks if c.section == "opening"]
    assert len(opening) >= 3
    assert "".join(c.text for c in opening) == LONG
    part1 = [c for c in chunks if c.part == 1]
    assert len(part1) >= 3
    assert part1[0].text.startswith("一、提高思想认识\n")

    for group in (opening, part1):
        for c in group:
            assert len(c.text) <= MAX_CHARS + len("一、提高思想认识\n")
            # a chunk ends at a sentence end (a closing quote stays with its sentence) ...
            assert ends_sentence(c.text), c.text[-12:]
            # ... and the next one never starts with the tail of the previous sentence
            assert c.text.split("\n")[-1][0] not in CLOSERS + "，,、：:"
    # the sentences of the long paragraph are all there, each whole in one chunk
    sentences = [x for x in re.findall(r".*?[。！？；](?:”)?", LONG)]
    assert "".join(sentences) == LONG
    ends, pos = set(), 0
    for sent in sentences:
        pos += len(sent)
        ends.add(pos)
    cuts, pos = [], 0
    for c in opening:
        pos += len(c.text)
        cuts.append(pos)
    assert set(cuts) <= ends  # every cut is at the end of a whole sentence
    assert all(LONG[cut:cut + 1] != "”" for cut in cuts)  # never between 。 and its closing quote


def test_closing_quotes_stay_with_their_sentence():
    quoted = ["“要把群众的小事当作自己的大事。”", "“群众满意不满意，是检验工作的标准！”", "“怎样才能做得更好？”", "这是大家的共识。"]
    text = "\n".join(["今天召开会议。" + "".join(quoted), "一、提高认识", "认识很重要。"])
    s = parse(text)
    chunks = chunk_speech(s, limit=10)  # every sentence is longer than the limit: one chunk each
    check_chunks(s, chunks, limit=10)
    assert [c.text for c in chunks if c.section == "opening"] == ["今天召开会议。", *quoted]


def test_an_oversized_item_is_kept_whole():
    text = _speech_with_long_paragraphs()
    s = parse(text)
    chunks = chunk_speech(s)
    item = s.part(2).items[0]
    assert len(item.text) > MAX_CHARS
    holders = [c for c in chunks if item.text in c.text]
    assert len(holders) == 1 and holders[0].text == item.text and holders[0].item == 1


def test_paren_and_order_items_get_their_own_chunks():
    for markers in (["（一）", "（二）", "（三）"], ["首先，", "其次，", "最后，"]):
        items = [f"{m}要抓好第{k}项重点工作，确保落到实处。" for k, m in enumerate(markers, 1)]
        text = "\n".join(
            ["今天召开全县工作会议。", "下面，我讲三点意见。", "一、提高认识", "认识很重要。", "二、突出重点",
             "要抓好以下几项工作。", *items, "三、加强领导", "要加强领导。", "同志们，让我们努力奋斗！"]
        )
        s = parse(text)
        chunks = chunk_speech(s)
        check_chunks(s, chunks)
        assert [c.text for c in chunks if c.item] == items
        assert [c.item for c in chunks if c.item] == [1, 2, 3]
        assert next(c for c in chunks if c.part == 2).text == "二、突出重点\n要抓好以下几项工作。"


def test_heading_without_intro_is_a_chunk_of_its_own():
    text = "\n".join(
        ["今天召开会议。", "下面，我讲三点意见。", "一、提高认识", "认识很重要。", "二、突出重点",
         "一是要抓项目。", "二是要抓招商。", "三、加强领导", "要加强领导。"]
    )
    s = parse(text)
    chunks = chunk_speech(s)
    check_chunks(s, chunks)
    head = [c for c in chunks if c.part == 2 and c.item == 0]
    assert len(head) == 1 and head[0].text == "二、突出重点"
    assert (head[0].role, head[0].heading) == ("tasks", "突出重点")


def test_markdown_and_crlf_offsets():
    md = "\r\n\r\n".join(
        ["# 在大会上的讲话", "同志们好，今天召开大会。", "下面，我讲三点意见。", "**一、提高认识**", "认识很重要。",
         "**二、突出重点**", "一是要抓项目。", "二是要抓招商。", "三是要抓民生。", "**三、加强领导**", "要加强领导。",
         "同志们，让我们奋斗！"]
    )
    s = parse(md)
    chunks = chunk_speech(s)
    check_chunks(s, chunks, exact_offsets=False)
    assert [c.text for c in chunks if c.part == 1] == ["**一、提高认识**\n认识很重要。"]
    assert [c.heading for c in chunks if c.part] == ["提高认识", "突出重点", "突出重点", "突出重点", "突出重点", "加强领导"]


def test_crlf_seed_chunks_match_lf_chunks():
    lf = chunk_speech(parse(SEED))
    s = parse(SEED.replace("\n", "\r\n"))
    crlf = chunk_speech(s)
    check_chunks(s, crlf, exact_offsets=False)
    assert [c.text for c in crlf] == [c.text for c in lf]
    assert [(c.role, c.part, c.item) for c in crlf] == [(c.role, c.part, c.item) for c in lf]


def test_inline_items_are_chunks():
    para = "全县上下要抓好三件事：一是要抓项目建设，确保投资增长；二是要抓招商引资，引进一批好项目；三是要抓民生改善，办好十件实事。"
    text = "\n".join(["今天召开会议。", "下面，我讲三点意见。", "一、提高认识", "认识很重要。", "二、突出重点", para,
                      "三、加强领导", "要加强领导。"])
    s = parse(text)
    chunks = chunk_speech(s)
    check_chunks(s, chunks)
    assert [c.text for c in chunks if c.item] == [
        "一是要抓项目建设，确保投资增长；", "二是要抓招商引资，引进一批好项目；", "三是要抓民生改善，办好十件实事。",
    ]



def test_inline_items_lose_no_text():
    para = "全县上下要抓好三件事：一是要抓项目建设，确保投资增长；二是要抓招商引资，引进一批好项目；三是要抓民生改善，办好十件实事。"
    text = "\n".join(["今天召开会议。", "下面，我讲三点意见。", "一、提高认识", "认识很重要。", "二、突出重点", para,
                      "此外，还要抓好安全生产。", "三、加强领导", "要加强领导。"])
    s = parse(text)
    chunks = chunk_speech(s)
    check_chunks(s, chunks)
    joined = "\n".join(c.text for c in chunks)
    assert "全县上下要抓好三件事" in joined
    assert "此外，还要抓好安全生产。" in joined
    # every character of the speech body is in some chunk
    for _, p in iter_paragraph_roles(s):
        assert covered(chunks, p.start, p.end, text), p.text[:20]
    two = [c for c in chunks if c.part == 2]
    # the lead-in goes with the heading; the items follow; the paragraph after them is a chunk of part 二
    assert two[0].text == "二、突出重点\n全县上下要抓好三件事："
    assert [c.item for c in two] == [0, 1, 2, 3, 0]
    assert two[-1].text == "此外，还要抓好安全生产。"
    assert (two[-1].role, two[-1].heading) == ("tasks", "突出重点")


def test_speech_without_headings():
    text = "金秋十月，丹桂飘香。今天我们欢聚一堂。\n六十年来，学校培养了大批人才。\n衷心祝愿学校越办越好！\n"
    s = parse(text)
    chunks = chunk_speech(s)
    check_chunks(s, chunks)
    assert len(chunks) == 1
    assert chunks[0].section == "opening" and chunks[0].text == text.strip()
