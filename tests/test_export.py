import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # until the project is installed

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Length, Pt

from assistant import export
from assistant.export import ExportError, export_docx, export_markdown, export_warnings

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "knowledge" / "speeches" / "000_seed_gonghui_daibiao_dahui.txt"
SEED_TITLE = "在昌平区工会第三次代表大会上的讲话（工会讲话致辞）"
HEADINGS = [
    "一、深刻认识新形势下工会工作的重大意义",
    "二、围绕中心、服务大局，奋力开创全区工会事业发展新局面",
    "三、切实加强和改进新时期对工会工作的领导",
]

PAREN_SPEECH = """关于做好基层工作的讲话
同志们：今天召开这次会议，主要任务是部署下一阶段工作。下面，我讲两点意见。
一、把握形势
当前形势总体向好。
二、抓好重点任务
（一）抓好安全生产。要压实责任，排查隐患。
（二）抓好民生保障
要把好事办实。
同志们，让我们团结一心，把各项工作做好。
"""


@pytest.fixture(scope="module")
def seed() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_docx(seed, tmp_path_factory) -> docx.document.Document:
    out = export_docx(seed, tmp_path_factory.mktemp("export") / "讲话.docx")
    return docx.Document(str(out))


def rfonts(run) -> dict[str, str]:
    el = run._element.rPr.find(qn("w:rFonts"))
    return {k: el.get(qn(f"w:{k}")) for k in ("ascii", "hAnsi", "eastAsia")}


def assert_font(run, name: str, size: float) -> None:
    assert rfonts(run) == {"ascii": name, "hAnsi": name, "eastAsia": name}, run.text[:20]
    assert run.font.size == Pt(size), run.text[:20]


def test_title_is_centred_small_biaosong_22pt(seed_docx):
    title = seed_docx.paragraphs[0]
    assert title.text == SEED_TITLE  # the front matter's title, not the 工会讲话致辞 line
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    for run in title.runs:
        assert_font(run, "方正小标宋简体", 22)
    assert "工会讲话致辞" not in [p.text for p in seed_docx.paragraphs[1:]]


def test_given_title_wins(seed, tmp_path):
    d = docx.Document(str(export_docx(seed, tmp_path / "a.docx", title="在工会代表大会上的讲话")))
    assert d.paragraphs[0].text == "在工会代表大会上的讲话"


def test_three_headings_in_heiti(seed_docx):
    heiti = [p for p in seed_docx.paragraphs if p.runs and rfonts(p.runs[0])["eastAsia"] == "黑体"]
    assert [p.text for p in heiti] == HEADINGS
    for p in heiti:
        for run in p.runs:
            assert_font(run, "黑体", 16)
        assert p.paragraph_format.first_line_indent == Pt(32)


def test_body_paragraphs_fangsong_16pt_indented(seed_docx):
    body = seed_docx.paragraphs[1:]
    body = [p for p in body if p.text not in HEADINGS]
    assert len(body) == 11  # opening, transition, 3 + 4 + 1 part paragraphs, closing
    assert body[0].text.startswith("在全区“_”目标胜利完成")  # blanks exported as written
    for p in body:
        for run in p.runs:
            assert_font(run, "仿宋_GB2312", 16)
        pf = p.paragraph_format
        assert pf.first_line_indent == Pt(32)  # 2 characters of 三号
        assert p._p.pPr.find(qn("w:ind")).get(qn("w:firstLineChars")) == "200"
        assert pf.line_spacing_rule == WD_LINE_SPACING.EXACTLY
        assert pf.line_spacing.pt == pytest.approx(28.95)


def test_every_run_in_the_document_names_an_east_asian_font(seed_docx):
    runs = [r for p in seed_docx.paragraphs for r in p.runs]
    footers = [f for s in seed_docx.sections for f in (s.footer, s.even_page_footer)]
    runs += [r for f in footers for p in f.paragraphs for r in p.runs]
    assert runs
    for r in runs:
        assert rfonts(r)["eastAsia"], r.text


def test_normal_style_has_east_asian_body_font(seed_docx):
    normal = seed_docx.styles["Normal"]
    assert normal.font.size == Pt(16)
    el = normal.element.rPr.find(qn("w:rFonts"))
    assert el.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert el.get(qn("w:ascii")) == "仿宋_GB2312"
    # no theme font left in the defaults that would override the named one
    defaults = seed_docx.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    assert defaults.find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsiaTheme")) is None


def test_page_a4_margins_and_grid(seed_docx):
    s = seed_docx.sections[0]
    assert s.page_width.mm == pytest.approx(210, abs=0.1)
    assert s.page_height.mm == pytest.approx(297, abs=0.1)
    assert s.top_margin.mm == pytest.approx(37, abs=0.1)
    assert s.bottom_margin.mm == pytest.approx(35, abs=0.1)
    assert s.left_margin.mm == pytest.approx(28, abs=0.1)
    assert s.right_margin.mm == pytest.approx(26, abs=0.1)
    body_w = Length(s.page_width - s.left_margin - s.right_margin)
    body_h = Length(s.page_height - s.top_margin - s.bottom_margin)
    assert body_w.mm == pytest.approx(156, abs=0.1)
    assert body_h.mm == pytest.approx(225, abs=0.1)
    grid = s._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars"
    assert grid.get(qn("w:linePitch")) == "579"
    # 22 lines of 579 twips fit the 225 mm body, a 23rd does not
    assert 22 * 579 <= body_h.twips < 23 * 579
    # the character pitch (Normal size + charSpace/4096 pt) gives 28 characters a line
    pitch = 16 + int(grid.get(qn("w:charSpace"))) / 4096
    assert int(body_w.pt // pitch) == 28


def test_footer_page_number_field(seed_docx):
    assert seed_docx.settings.odd_and_even_pages_header_footer
    s = seed_docx.sections[0]
    for footer, align in ((s.footer, WD_ALIGN_PARAGRAPH.RIGHT), (s.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        p = footer.paragraphs[0]
        instr = [t.text.strip() for t in p._p.iter(qn("w:instrText"))]
        assert instr == ["PAGE"]
        assert [f.get(qn("w:fldCharType")) for f in p._p.iter(qn("w:fldChar"))] == ["begin", "separate", "end"]
        assert p.text == "— 1 —"
        assert p.alignment == align
        for run in p.runs:
            assert_font(run, "宋体", 14)


def test_paren_items_get_kaiti_heading_sentence(tmp_path):
    d = docx.Document(str(export_docx(PAREN_SPEECH, tmp_path / "b.docx")))
    by_text = {p.text: p for p in d.paragraphs}
    first = by_text["（一）抓好安全生产。要压实责任，排查隐患。"]
    assert [r.text for r in first.runs] == ["（一）抓好安全生产。", "要压实责任，排查隐患。"]
    assert_font(first.runs[0], "楷体_GB2312", 16)
    assert_font(first.runs[1], "仿宋_GB2312", 16)
    second = by_text["（二）抓好民生保障"]
    assert [rfonts(r)["eastAsia"] for r in second.runs] == ["楷体_GB2312"]
    assert_font(by_text["要把好事办实。"].runs[0], "仿宋_GB2312", 16)
    assert rfonts(by_text["二、抓好重点任务"].runs[0])["eastAsia"] == "黑体"


def test_markdown_has_title_and_three_headings(seed, tmp_path):
    out = export_markdown(seed, tmp_path / "讲话.md")
    md = out.read_text(encoding="utf-8")
    assert md.startswith(f"# {SEED_TITLE}\n\n")
    assert [line for line in md.splitlines() if line.startswith("## ")] == [f"## {h}" for h in HEADINGS]
    assert "---" not in md and "date:" not in md  # front matter is not part of the speech
    blocks = md.strip().split("\n\n")
    assert len(blocks) == 1 + 3 + 11
    assert all("\n" not in b for b in blocks)


def test_unwritable_target_raises_clear_error_and_leaves_nothing(seed, tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    target = blocker / "讲话.docx"
    with pytest.raises(ExportError) as err:
        export_docx(seed, target)
    assert str(target) in str(err.value) and "无法导出" in str(err.value)
    with pytest.raises(ExportError):
        export_markdown(seed, blocker / "讲话.md")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_a_dir"]


def test_failure_while_writing_keeps_old_file_and_no_temp(seed, tmp_path, monkeypatch):
    target = tmp_path / "讲话.docx"
    target.write_bytes(b"previous export")

    def broken_save(self, stream):
        stream.write(b"PK half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(docx.document.Document, "save", broken_save)
    with pytest.raises(ExportError, match="No space left"):
        export_docx(seed, target)
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["讲话.docx"]


def test_export_creates_missing_folder_and_plain_permissions(seed, tmp_path):
    out = export_markdown(seed, tmp_path / "new" / "讲话.md")
    assert out.exists()
    assert out.stat().st_mode & 0o777 == 0o644


def test_export_warnings():
    assert export_warnings(PAREN_SPEECH, 0, []) == []
    ws = export_warnings(PAREN_SPEECH, 3, ["缺少结尾", "  "])
    assert ws[0].startswith("还有 3 处空白")
    assert ws[1] == "检查未通过：缺少结尾"
    assert len(ws) == 2
    no_parts = export_warnings("同志们：今天的会议很重要，大家要认真落实。", 0, [])
    assert any("一级标题" in w for w in no_parts)
    assert export_warnings("  \n", 0, []) == ["讲稿是空的，导出的文件将没有正文。"]
    untitled = "同志们，今天开会。\n一、把握形势\n形势总体向好。"
    assert any("标题" in w for w in export_warnings(untitled, 0, []))
    assert export_warnings(untitled, 0, [], title="在会上的讲话") == []


def test_grid_arithmetic_constants():
    assert export.LINE_PITCH_TW == 579 and export.LINE_SPACING_PT == 28.95
    assert export.CHAR_SPACE == -849
