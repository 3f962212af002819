"""Reading speech files: .txt/.md in UTF-8 (with or without BOM) or GB18030/GBK, .docx; clear LoadErrors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest

from assistant.loaders import MAX_DOCX_UNCOMPRESSED, MAX_FILE_BYTES, LoadError, decode_text, read_speech, speech_files
from assistant.structure import parse, split_front_matter

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "knowledge" / "speeches"
SEED_FILE = CORPUS / "000_seed_gonghui_daibiao_dahui.txt"
SEED = SEED_FILE.read_text(encoding="utf-8")  # front matter + the reference speech
BODY = SEED[split_front_matter(SEED)[1]:]
BODY_LINES = [line for line in BODY.splitlines() if line.strip()]
DOCX_TITLE = "在昌平区工会第三次代表大会上的讲话"


def summary(text: str):
    s = parse(text)
    return (
        [p.text for p in s.opening],
        s.transition.text if s.transition else None,
        [(p.number, p.heading, p.role, [i.text for i in p.items]) for p in s.parts],
        [p.text for p in s.closing],
    )


SEED_SUMMARY = summary(SEED)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def make_docx(path: Path, lines: list[str], title: str | None = DOCX_TITLE, blank_between: bool = False) -> Path:
    d = docx.Document()
    if title is not None:
        d.core_properties.title = title
    for line in lines:
        d.add_paragraph(line)
        if blank_between:
            d.add_paragraph("")
    d.save(str(path))
    return path


# --------------------------------------------------------------------------- text files


def test_utf8(tmp_path):
    p = write(tmp_path, "a.txt", SEED.encode("utf-8"))
    assert read_speech(p) == SEED


def test_utf8_with_bom(tmp_path):
    p = write(tmp_path, "a.txt", b"\xef\xbb\xbf" + SEED.encode("utf-8"))
    text = read_speech(p)
    assert text == SEED
    assert not text.startswith("\ufeff")
    assert parse(text).meta["occasion"] == "昌平区工会第三次代表大会"  # front matter still recognised


def test_gbk(tmp_path):
    data = SEED.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    p = write(tmp_path, "gbk.txt", data)
    text = read_speech(p)
    assert text == SEED
    assert summary(text) == SEED_SUMMARY


def test_gb18030_beyond_gbk(tmp_path):
    text = "在大会上的讲话\n今天，我们表彰“䶮”字号老店和𠀀姓代表。\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    p = write(tmp_path, "gb18030.txt", text.encode("gb18030"))
    assert read_speech(p) == text


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_are_normalised(tmp_path, newline):
    p = write(tmp_path, "crlf.txt", SEED.replace("\n", newline).encode("utf-8"))
    text = read_speech(p)
    assert "\r" not in text
    assert text == SEED


def test_gbk_crlf_with_bom_free_windows_notepad_file(tmp_path):
    p = write(tmp_path, "win.txt", BODY.replace("\n", "\r\n").encode("gbk"))
    text = read_speech(p)
    assert text == BODY
    assert summary(text) == summary(BODY)


def test_markdown(tmp_path):
    md = (CORPUS / "123_fulian_sanbajie.md").read_text(encoding="utf-8")
    p = write(tmp_path, "speech.md", md.encode("utf-8"))
    text = read_speech(p)
    assert text == md
    s = parse(text)
    assert [p.heading_line.text[:5] for p in s.parts] == ["## 一、", "## 二、", "## 三、"]


def test_uppercase_extension(tmp_path):
    p = write(tmp_path, "SPEECH.TXT", SEED.encode("utf-8"))
    assert read_speech(p) == SEED


# --------------------------------------------------------------------------- .docx


def test_docx_with_core_title(tmp_path):
    p = make_docx(tmp_path / "speech.docx", BODY_LINES[1:], blank_between=True)
    text = read_speech(p)
    s = parse(text)
    assert s.title == DOCX_TITLE
    assert s.meta == {"title": DOCX_TITLE}
    # empty Word paragraphs are dropped; the speech itself is intact
    assert text[split_front_matter(text)[1]:] == "\n".join(BODY_LINES[1:])
    assert summary(text) == summary(BODY)


def test_docx_title_line_kept_when_no_core_title(tmp_path):
    p = make_docx(tmp_path / "speech.docx", BODY_LINES, title=None)
    text = read_speech(p)
    assert text == "\n".join(BODY_LINES)
    assert parse(text).title == "工会讲话致辞"


def test_docx_whose_first_line_is_the_title_gets_no_front_matter(tmp_path):
    p = make_docx(tmp_path / "speech.docx", ["工会讲话致辞", *BODY_LINES[1:]], title="工会讲话致辞")
    text = read_speech(p)
    assert not text.startswith("---")
    assert parse(text).title == "工会讲话致辞"


@pytest.mark.parametrize("title", ["讲话稿: 2024年工作会议", "#3 在大会上的讲话", "[草稿]在大会上的讲话", "yes", '他说"好"'])
def test_docx_title_with_yaml_special_characters(tmp_path, title):
    p = make_docx(tmp_path / "speech.docx", BODY_LINES[1:], title=title)
    s = parse(read_speech(p))
    assert s.title == title
    assert [p.number for p in s.parts] == [1, 2, 3]


def test_docx_that_is_not_a_zip(tmp_path):
    p = write(tmp_path, "fake.docx", "这其实是一个文本文件，只是扩展名写成了 docx。".encode("utf-8"))
    with pytest.raises(LoadError) as e:
        read_speech(p)
    msg = str(e.value)
    assert "fake.docx" in msg and "不是有效的 .docx" in msg and "zip" in msg


def test_old_binary_doc_renamed_to_docx(tmp_path):
    # a Word 97 file starts with the OLE2 signature, not a zip header
    p = write(tmp_path, "old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)
    with pytest.raises(LoadError, match="不是有效的 .docx"):
        read_speech(p)


def test_zip_that_is_not_a_word_document(tmp_path):
    p = tmp_path / "archive.docx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(LoadError, match="word/document.xml"):
        read_speech(p)


def test_docx_with_broken_document_xml(tmp_path):
    good = make_docx(tmp_path / "good.docx", BODY_LINES[1:4])
    bad = tmp_path / "broken.docx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "word/document.xml":
                data = data[: len(data) // 2]  # truncated XML
            zout.writestr(info, data)
    with pytest.raises(LoadError) as e:
        read_speech(bad)
    assert "broken.docx" in str(e.value) and "无法打开" in str(e.value)


def test_docx_without_text(tmp_path):
    p = make_docx(tmp_path / "blank.docx", ["", "   "], title=None)
    with pytest.raises(LoadError, match="没有正文内容"):
        read_speech(p)


def test_zip_bomb_docx(tmp_path):
    p = tmp_path / "bomb.docx"
    block = b"\x00" * (1024 * 1024)
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            for _ in range(60):  # 60 MB of zeros
                f.write(block)
    assert p.stat().st_size < 1024 * 1024  # small on disk: passes the 5 MB check
    assert sum(i.file_size for i in zipfile.ZipFile(p).infolist()) > MAX_DOCX_UNCOMPRESSED
    with pytest.raises(LoadError) as e:
        read_speech(p)
    assert "bomb.docx" in str(e.value) and "解压后过大" in str(e.value)


# --------------------------------------------------------------------------- rejected files


def test_binary_file(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    p = write(tmp_path, "picture.txt", png)
    with pytest.raises(LoadError) as e:
        read_speech(p)
    assert "picture.txt" in str(e.value) and "二进制" in str(e.value)


def test_binary_file_without_nul_bytes(tmp_path):
    p = write(tmp_path, "noise.md", bytes(range(128, 256)) * 40)
    with pytest.raises(LoadError, match="noise.md"):
        read_speech(p)


def test_mostly_control_characters(tmp_path):
    data = ("正文" + "\x01\x02\x03\x04" * 50).encode("utf-8")
    with pytest.raises(LoadError, match="无法识别的字符"):
        decode_text(data, "ctrl.txt")


def test_empty_file(tmp_path):
    p = write(tmp_path, "empty.txt", b"")
    with pytest.raises(LoadError) as e:
        read_speech(p)
    assert "empty.txt" in str(e.value) and "空文件" in str(e.value)


@pytest.mark.parametrize("data", [b"   \n\n\t\n", "\u3000\u3000\n".encode("utf-8"), b"\xef\xbb\xbf\n"])
def test_blank_file(tmp_path, data):
    p = write(tmp_path, "blank.txt", data)
    with pytest.raises(LoadError, match="没有正文内容"):
        read_speech(p)


def test_file_over_5_mb(tmp_path):
    p = tmp_path / "huge.txt"
    with p.open("wb") as f:  # sparse: the size is what counts
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(LoadError) as e:
        read_speech(p)
    assert "huge.txt" in str(e.value) and "5 MB" in str(e.value)


def test_file_just_under_the_limit_is_read(tmp_path):
    line = "同志们，今天我们召开大会，部署全年工作。\n".encode("utf-8")
    data = line * ((MAX_FILE_BYTES - 1024) // len(line))
    p = write(tmp_path, "big.txt", data)
    assert len(read_speech(p)) > 1_000_000


@pytest.mark.parametrize("name", ["speech.pdf", "speech.doc", "speech.rtf", "speech", "speech.txt.bak"])
def test_unsupported_extension(tmp_path, name):
    p = write(tmp_path, name, SEED.encode("utf-8"))
    with pytest.raises(LoadError) as e:
        read_speech(p)
    assert "不支持的格式" in str(e.value) and ".docx" in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(LoadError, match="无法读取"):
        read_speech(tmp_path / "nowhere.txt")


def test_load_error_is_a_value_error():
    assert issubclass(LoadError, ValueError)


# --------------------------------------------------------------------------- folders


def test_speech_files(tmp_path):
    for name in ["b.txt", "a.md", "c.docx", "README.md", "readme.txt", ".hidden.txt", "~$c.docx", "x.pdf", "sub/d.TXT"]:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x", encoding="utf-8")
    (tmp_path / "e.txt").mkdir()  # a folder with a speech-like name
    got = [p.relative_to(tmp_path).as_posix() for p in speech_files(tmp_path)]
    assert got == ["a.md", "b.txt", "c.docx", "sub/d.TXT"]
    assert speech_files(tmp_path / "b.txt") == [tmp_path / "b.txt"]


def test_every_corpus_file_loads():
    files = speech_files(CORPUS)
    assert len(files) == 25
    for f in files:
        text = read_speech(f)
        assert text.startswith("---\n") and "\r" not in text
