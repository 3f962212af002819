"""Export a speech to .docx in the 党政机关公文格式 (GB/T 9704-2012) and to Markdown.

This module owns the page and type conventions of the exported file: A4, the
156 mm × 225 mm 版心 of 22 lines × 28 characters, the four fonts (小标宋 title,
黑体 一、 headings, 楷体 （一） headings, 仿宋 body) and the 「— 1 —」 page
numbers.  What counts as a heading comes from :mod:`assistant.structure`, so
the export agrees with the checks and the UI.  Both exports are written to a
temporary file next to the target and moved into place with ``os.replace``: a
failed export raises :class:`ExportError` and leaves no half-written file (and
an earlier file of the same name untouched).
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Callable

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt, Twips

from .structure import parse

# --- fonts ---------------------------------------------------------------
FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"
FONT_PAGE_NUMBER = "宋体"

# 字号 → points: 二号 22 pt, 三号 16 pt, 四号 14 pt.
SIZE_TITLE = 22.0
SIZE_BODY = 16.0
SIZE_PAGE_NUMBER = 14.0

# --- page, in twips (1/20 pt), the unit Word stores ------------------------
# A4 210 × 297 mm = 11906 × 16838 twips.  Margins as Word stores them when
# 3.7 / 3.5 / 2.8 / 2.6 cm are typed in: 37 mm = 2098, 35 mm = 1984,
# 28 mm = 1588, 26 mm = 1474 twips (mm × 1440 / 25.4, rounded).
PAGE_WIDTH_TW = 11906
PAGE_HEIGHT_TW = 16838
MARGIN_TOP_TW = 2098
MARGIN_BOTTOM_TW = 1984
MARGIN_LEFT_TW = 1588
MARGIN_RIGHT_TW = 1474
BODY_WIDTH_TW = PAGE_WIDTH_TW - MARGIN_LEFT_TW - MARGIN_RIGHT_TW  # 8844 tw = 442.2 pt = 156 mm
BODY_HEIGHT_TW = PAGE_HEIGHT_TW - MARGIN_TOP_TW - MARGIN_BOTTOM_TW  # 12756 tw = 637.8 pt = 225 mm

LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
# Line pitch: 637.8 pt / 22 lines = 28.99 pt; Word keeps whole twips and rounds
# down so that 22 lines fit: floor(12756 / 22) = 579 tw = 28.95 pt.  The same
# value is the paragraphs' exact line spacing, so text sits on the grid.
LINE_PITCH_TW = math.floor(BODY_HEIGHT_TW / LINES_PER_PAGE)  # 579
LINE_SPACING_PT = LINE_PITCH_TW / 20  # 28.95
# Character grid: w:charSpace is the extra pitch per character beyond the Normal
# style's font size, in 1/4096 pt.  442.2 pt / 28 = 15.793 pt per character;
# (15.793 − 16) × 4096 = −848.5, rounded down (so 28 characters fit) to −849,
# which is what Word writes for 28 characters per line with 三号 Normal text.
CHAR_SPACE = math.floor((BODY_WIDTH_TW / 20 / CHARS_PER_LINE - SIZE_BODY) * 4096)  # -849

# Page number: GB/T 9704 puts the 一字线 7 mm below the 版心.  Bottom margin
# 35 mm − 7 mm − one 14 pt line (≈ 5 mm) ≈ 23 mm from the bottom edge.
FOOTER_DISTANCE_TW = round(23 * 1440 / 25.4)  # 1304
HEADER_DISTANCE_TW = round(15 * 1440 / 25.4)  # 850; no header is used
FIRST_LINE_INDENT_CHARS = 2


class ExportError(RuntimeError):
    """An export that could not be written; the message names the file and the cause."""


@dataclass
class _Block:
    kind: str  # title / h1 / h2 / body
    text: str


# --- what goes on the page -------------------------------------------------


def _blocks(text: str, title: str | None) -> list[_Block]:
    """Title, then every paragraph of the body, each tagged with its level."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    speech = parse(text)
    title = (title if title is not None else speech.title).strip()
    headings = {p.heading_line.start: p.title_line for p in speech.parts}
    # （一）-style items only: 一是…… items stay body text, as in the usual 讲稿.
    paren_items = {i.start for p in speech.parts for i in p.items if i.style == "paren"}
    blocks = [_Block("title", title)] if title else []
    pos = speech.body_start
    for line in text[speech.body_start :].splitlines(keepends=True):
        stripped = line.strip().strip("\u3000").strip()
        if stripped:
            start = pos + line.index(stripped[0])
            if start in headings:
                blocks.append(_Block("h1", headings[start]))
            elif start in paren_items:
                blocks.append(_Block("h2", stripped))
            else:
                blocks.append(_Block("body", stripped))
        pos += len(line)
    return blocks


def _split_h2(text: str) -> tuple[str, str]:
    """（一）heading sentence (up to and including the first 。) and the rest."""
    cut = text.find("。")
    if cut < 0:
        return text, ""
    return text[: cut + 1], text[cut + 1 :]


# --- atomic writing --------------------------------------------------------


def _atomic_write(out_path: Path, write: Callable[[IO[bytes]], None]) -> Path:
    out_path = Path(out_path)
    tmp: str | None = None
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file 0600; an exported document is an ordinary file
        mode = out_path.stat().st_mode & 0o777 if out_path.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, out_path)
        tmp = None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ExportError(f"无法导出到 {out_path}：{reason}。请换一个可写的位置后重试。") from exc
    except Exception as exc:  # a bug while rendering: still no half file
        raise ExportError(f"导出 {out_path.name} 失败：{exc}") from exc
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return out_path


# --- .docx -----------------------------------------------------------------


def _set_rfonts(rpr, font: str) -> None:
    """ascii, hAnsi, eastAsia and cs all set: Word picks eastAsia for Chinese text."""
    rfonts = rpr.get_or_add_rFonts()
    for attr in list(rfonts.attrib):
        if attr.lower().endswith("theme"):  # a theme font would win over the named one
            del rfonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font)


def _style_run(run, font: str, size: float) -> None:
    run.font.name = font
    run.font.size = Pt(size)
    rpr = run._element.get_or_add_rPr()
    _set_rfonts(rpr, font)
    # the complex-script size too, so no part of the run falls back to 10.5 pt
    szcs = rpr.find(qn("w:szCs"))
    if szcs is None:
        szcs = rpr.makeelement(qn("w:szCs"), {})
        rpr.find(qn("w:sz")).addnext(szcs)  # schema order: sz, szCs
    szcs.set(qn("w:val"), str(round(size * 2)))  # half-points


def _exact_spacing(paragraph, first_line_chars: int = 0) -> None:
    pf = paragraph.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Twips(LINE_PITCH_TW)
    pf.space_before = Pt(0)
    if first_line_chars:
        pf.first_line_indent = Pt(SIZE_BODY * first_line_chars)
        # firstLineChars (1/100 character) follows the character grid; Word prefers it
        ind = paragraph._p.get_or_add_pPr().find(qn("w:ind"))
        ind.set(qn("w:firstLineChars"), str(first_line_chars * 100))


def _setup_document(doc, title: str) -> None:
    styles = doc.styles.element
    # docDefaults: our body font instead of the template's theme fonts, Chinese
    # language, no 10 pt after / 1.15 lines from the template.
    rpr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_rfonts(rpr_default, FONT_BODY)
    lang = rpr_default.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
    ppr_default = styles.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr_default.find(qn("w:spacing"))
    if spacing is not None:
        ppr_default.remove(spacing)

    normal = doc.styles["Normal"]
    normal.font.name = FONT_BODY
    normal.font.size = Pt(SIZE_BODY)  # the character grid is computed from this size
    normal_rpr = normal.element.get_or_add_rPr()
    _set_rfonts(normal_rpr, FONT_BODY)
    szcs = normal_rpr.makeelement(qn("w:szCs"), {qn("w:val"): str(round(SIZE_BODY * 2))})
    normal_rpr.find(qn("w:sz")).addnext(szcs)
    npf = normal.paragraph_format
    npf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    npf.line_spacing = Twips(LINE_PITCH_TW)
    npf.space_before = Pt(0)
    npf.space_after = Pt(0)
    # widow control would move single lines and break the 22-lines-a-page count
    npf.widow_control = False

    section = doc.sections[0]
    section.page_width = Twips(PAGE_WIDTH_TW)
    section.page_height = Twips(PAGE_HEIGHT_TW)
    section.top_margin = Twips(MARGIN_TOP_TW)
    section.bottom_margin = Twips(MARGIN_BOTTOM_TW)
    section.left_margin = Twips(MARGIN_LEFT_TW)
    section.right_margin = Twips(MARGIN_RIGHT_TW)
    section.header_distance = Twips(HEADER_DISTANCE_TW)
    section.footer_distance = Twips(FOOTER_DISTANCE_TW)
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = sect_pr.makeelement(qn("w:docGrid"), {})
        sect_pr.append(grid)
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TW))
    grid.set(qn("w:charSpace"), str(CHAR_SPACE))

    # 单页码居右空一字，双页码居左空一字 (GB/T 9704 7.5): separate odd and even footers.
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer.paragraphs[0], odd=True)
    _page_number(section.even_page_footer.paragraphs[0], odd=False)

    props = doc.core_properties
    props.title = title
    props.author = ""
    props.last_modified_by = ""
    props.comments = ""
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)  # core.xml is UTC
    props.created = now
    props.modified = now
    props.revision = 1


def _page_number(paragraph, *, odd: bool) -> None:
    """「— N —」 with a PAGE field, 宋体 四号, one character in from the outer edge."""
    pf = paragraph.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    if odd:
        pf.right_indent = Pt(SIZE_PAGE_NUMBER)
    else:
        pf.left_indent = Pt(SIZE_PAGE_NUMBER)
    pf.first_line_indent = Pt(0)

    def run(text: str = ""):
        r = paragraph.add_run(text)
        _style_run(r, FONT_PAGE_NUMBER, SIZE_PAGE_NUMBER)
        return r

    def fld(kind: str) -> None:
        r = run()
        el = r._element.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind})
        r._element.append(el)

    run("— ")
    fld("begin")
    instr = run()
    it = instr._element.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
    it.text = " PAGE "
    instr._element.append(it)
    fld("separate")
    run("1")  # shown until Word updates the field
    fld("end")
    run(" —")


def _build_docx(text: str, title: str | None) -> docx.document.Document:
    blocks = _blocks(text, title)
    doc = docx.Document()
    doc_title = next((b.text for b in blocks if b.kind == "title"), "")
    _setup_document(doc, doc_title)
    # the template's body starts with no paragraphs; add ours
    for b in blocks:
        p = doc.add_paragraph()
        if b.kind == "title":
            _exact_spacing(p)
            p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            # 标题下空一行: one grid line after the title
            p.paragraph_format.space_after = Twips(LINE_PITCH_TW)
            p.paragraph_format.keep_with_next = True
            # 22 pt characters are wider than the 15.79 pt grid cell: off the grid, or
            # Word would give each title character two cells.
            ppr = p._p.get_or_add_pPr()
            ppr.insert_element_before(
                ppr.makeelement(qn("w:snapToGrid"), {qn("w:val"): "0"}), "w:spacing", "w:ind", "w:jc"
            )
            _style_run(p.add_run(b.text), FONT_TITLE, SIZE_TITLE)
        elif b.kind == "h1":
            _exact_spacing(p, FIRST_LINE_INDENT_CHARS)
            p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            p.paragraph_format.keep_with_next = True
            p._p.get_or_add_pPr().get_or_add_outlineLvl().set(qn("w:val"), "0")  # Word's navigation pane
            _style_run(p.add_run(b.text), FONT_H1, SIZE_BODY)
        elif b.kind == "h2":
            _exact_spacing(p, FIRST_LINE_INDENT_CHARS)
            p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            head, rest = _split_h2(b.text)
            _style_run(p.add_run(head), FONT_H2, SIZE_BODY)
            if rest:
                _style_run(p.add_run(rest), FONT_BODY, SIZE_BODY)
        else:
            _exact_spacing(p, FIRST_LINE_INDENT_CHARS)
            p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            _style_run(p.add_run(b.text), FONT_BODY, SIZE_BODY)
    return doc


def export_docx(text: str, out_path: Path, *, title: str | None = None) -> Path:
    """Write ``text`` as a GB/T 9704-style .docx; the title is ``title`` or the parsed one."""
    doc = _build_docx(text, title)
    return _atomic_write(Path(out_path), doc.save)


# --- Markdown --------------------------------------------------------------


def markdown_text(text: str, title: str | None = None) -> str:
    """The Markdown that :func:`export_markdown` writes."""
    out = []
    for b in _blocks(text, title):
        if b.kind == "title":
            out.append(f"# {b.text}")
        elif b.kind == "h1":
            out.append(f"## {b.text}")
        else:
            out.append(b.text)
    return "\n\n".join(out) + "\n"


def export_markdown(text: str, out_path: Path, title: str | None = None) -> Path:
    """Write ``text`` as Markdown: ``# title``, ``## 一、……``, blank-line paragraphs."""
    data = markdown_text(text, title).encode("utf-8")
    return _atomic_write(Path(out_path), lambda fh: fh.write(data))


# --- before export -----------------------------------------------------------


def export_warnings(
    text: str, open_blanks: int, check_errors: list[str], *, title: str | None = None
) -> list[str]:
    """What the UI shows (and asks the user to confirm) before exporting.

    ``title`` is the title the export will be given, when it is not in ``text``.
    """
    warnings = []
    if not text.strip():
        return ["讲稿是空的，导出的文件将没有正文。"]
    if open_blanks > 0:
        warnings.append(f"还有 {open_blanks} 处空白（如“_”）没有填写，导出后请在文档中补全。")
    for err in check_errors:
        if err and err.strip():
            warnings.append(f"检查未通过：{err.strip()}")
    speech = parse(text.replace("\r\n", "\n"))
    if not (title or "").strip() and not speech.title:
        warnings.append("没有识别到标题，导出的文档将没有标题。")
    if not speech.parts:
        warnings.append("没有识别到“一、”“二、”这样的一级标题，全文将按正文排版。")
    return warnings
