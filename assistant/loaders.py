"""Reading speech files: .txt / .md in UTF-8 or GB18030/GBK, and .docx.

Every failure is a :class:`LoadError` whose message tells the user what is
wrong with which file, so one bad file never stops a whole ingestion.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

SUPPORTED = (".txt", ".md", ".docx")
MAX_FILE_BYTES = 5 * 1024 * 1024  # a speech is a few KB; anything near this is not a speech
MAX_DOCX_UNCOMPRESSED = 50 * 1024 * 1024  # guards against zip bombs


class LoadError(ValueError):
    pass


def decode_text(data: bytes, name: str = "文件") -> str:
    if b"\x00" in data[:4096]:
        raise LoadError(f"{name} 看起来是二进制文件，不是文本。请上传 .txt、.md 或 .docx 格式的讲话稿。")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost anything
        raise LoadError(f"{name} 的编码无法识别。请另存为 UTF-8 编码的文本。")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t"))
    if text and bad / len(text) > 0.01:
        raise LoadError(f"{name} 含有大量无法识别的字符，可能不是文本文件。")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_docx(path: Path) -> str:
    if not zipfile.is_zipfile(path):
        raise LoadError(f"{path.name} 不是有效的 .docx 文件（不是 zip 格式）。请用 Word 另存为 .docx 后重试。")
    with zipfile.ZipFile(path) as z:
        total = sum(i.file_size for i in z.infolist())
        if total > MAX_DOCX_UNCOMPRESSED:
            raise LoadError(f"{path.name} 解压后过大（{total // 1024 // 1024} MB），已拒绝。")
        if "word/document.xml" not in z.namelist():
            raise LoadError(f"{path.name} 不是 Word 文档（缺少 word/document.xml）。")
    import docx

    try:
        d = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many types for broken files
        raise LoadError(f"{path.name} 无法打开：{exc}") from exc
    lines = [p.text.strip() for p in d.paragraphs]
    text = "\n".join(line for line in lines if line)
    title = (d.core_properties.title or "").strip()
    if title and not text.startswith(title):
        text = f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\n---\n{text}"  # quoted: a title may contain ": " or "#"
    return text


def read_speech(path: Path) -> str:
    """The text of one speech file; raises LoadError with a clear message."""
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED:
        raise LoadError(f"{path.name}：不支持的格式 {path.suffix or '（无扩展名）'}，请使用 .txt、.md 或 .docx。")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"{path.name} 无法读取：{exc.strerror}") from exc
    if size == 0:
        raise LoadError(f"{path.name} 是空文件。")
    if size > MAX_FILE_BYTES:
        raise LoadError(f"{path.name} 太大（{size / 1024 / 1024:.1f} MB），讲话稿一般只有几十 KB；上限为 5 MB。")
    if path.suffix.lower() == ".docx":
        text = read_docx(path)
    else:
        text = decode_text(path.read_bytes(), path.name)
    if not text.strip():
        raise LoadError(f"{path.name} 没有正文内容。")
    return text


def speech_files(folder: Path) -> list[Path]:
    """Speech files below ``folder``, sorted; README files and hidden files are skipped."""
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED
        and not p.name.startswith((".", "~$"))
        and p.stem.upper() != "README"
    )
