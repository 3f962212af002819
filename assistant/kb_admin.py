"""Adding, removing and searching speeches in the knowledge folder, for the UI and ``speech-assistant kb``.

An upload is read and parsed before anything is copied, so the user sees what
was understood (title, occasion, date, parts) and a bad file changes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import icons
from .chunking import SEARCH_PARTS, SEARCH_ROLES
from .knowledge_base import KnowledgeBase, content_hash
from .loaders import SUPPORTED, LoadError, read_speech
from .structure import parse

_SAFE = re.compile(r"[^\w\u4e00-\u9fff.-]+")


@dataclass
class Preview:
    name: str
    title: str
    occasion: str
    date: str
    parts: list[str]
    chars: int
    error: str | None = None

    def row(self) -> list:
        return [self.name, self.title, self.occasion, self.date, "；".join(self.parts) or "（未识别出“一、二、三”部分）",
                self.chars, self.error or "可以加入"]


def safe_name(name: str) -> str:
    """A file name without directories or odd characters (``../x.txt`` → ``x.txt``)."""
    base = os.path.basename(name.replace("\\", "/"))
    stem, ext = os.path.splitext(base)
    stem = _SAFE.sub("_", stem).strip("._") or "speech"
    return stem[:80] + ext.lower()


def preview(path: Path, display_name: str | None = None) -> Preview:
    return _read_for_upload(path, display_name)[0]


def _read_for_upload(path: Path, display_name: str | None = None) -> tuple[Preview, str]:
    """What the parser understood of an upload, and its text ("" when it cannot be read)."""
    name = safe_name(display_name or path.name)
    try:
        if Path(name).suffix not in SUPPORTED:
            raise LoadError(f"{name}：只支持 .txt、.md、.docx 文件。")
        text = read_speech(path)
    except LoadError as exc:
        return Preview(name, "", "", "", [], 0, str(exc)), ""
    sp = parse(text)
    return Preview(
        name, sp.title or Path(name).stem, str(sp.meta.get("occasion", "")), str(sp.meta.get("date", "")),
        [f"{p.numeral}、{p.heading}" for p in sp.parts], sp.chars,
    ), text


def add_files(kb: KnowledgeBase, files: list[Path], names: list[str] | None = None, progress=False) -> str:
    """Copy readable, new speeches into the knowledge folder and ingest them; report per file."""
    folder = kb.settings.knowledge_dir
    folder.mkdir(parents=True, exist_ok=True)
    known = {e.get("hash") for e in kb.sources().values()}
    lines, added = [], []
    for i, f in enumerate(files):
        shown = names[i] if names else Path(f).name
        pv, text = _read_for_upload(Path(f), shown)
        if pv.error:
            lines.append(f"{icons.ERROR} {pv.name}：{pv.error}")
            continue
        if content_hash(text) in known:
            lines.append(f"{icons.ERROR} {pv.name}：知识库里已有内容相同的讲话，未重复加入。")
            continue
        target = folder / pv.name
        if target.exists():
            stem, ext = os.path.splitext(pv.name)
            k = 2
            while (folder / f"{stem}_{k}{ext}").exists():
                k += 1
            target = folder / f"{stem}_{k}{ext}"
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(f, tmp)
        os.replace(tmp, target)
        known.add(content_hash(text))
        added.append(target)
        lines.append(f"{icons.OK} {target.name}：{pv.title}（{len(pv.parts)} 个部分，{pv.chars} 字）")
    if added:
        try:
            report = kb.ingest(folder, progress=progress)
        except Exception:
            for t in added:  # a failed ingestion leaves the knowledge base as it was
                t.unlink(missing_ok=True)
            raise
        lines.append(report.summary())
    return "\n".join(lines) if lines else "没有选择文件。"


def remove_files(kb: KnowledgeBase, names: list[str]) -> str:
    folder = kb.settings.knowledge_dir
    sources = kb.sources()
    lines = []
    for name in names:
        name = safe_name(name)
        if name not in sources:
            lines.append(f"{icons.ERROR} {name}：知识库里没有这篇。")
            continue
        path = Path(sources[name].get("path", folder / name))
        trash = kb.settings.data_dir / "removed"
        trash.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.resolve().is_relative_to(folder.resolve()):
            os.replace(path, trash / name)  # kept aside, not destroyed
        kb.remove([name])
        lines.append(f"{icons.OK} 已移除 {name}（原文件已移到数据目录的 removed 文件夹，可以找回）")
    return "\n".join(lines)


def search_passages(searcher, query: str, *, k: int = 8, part: str = "") -> tuple[str, list]:
    """Passages of past speeches for a query — a programme's name, a slogan, or a sentence in one's own words —
    best first, at most two from one speech.  Returns (a message for the user, the passages)."""
    from .retrieval import MAX_QUERY_CHARS, clean_query, has_content

    query = (query or "").strip()
    if not has_content(query):
        return "请输入要查找的内容：一个计划或口号的名称，或用自己的话说一句想找的意思。", []
    if searcher.kb.count() == 0:
        return "知识库是空的：请先在「知识库」页上传讲话稿，或运行 speech-assistant ingest。", []
    roles = SEARCH_ROLES.get(part)
    if part and roles is None:
        return f"部分只能是：{'、'.join(SEARCH_PARTS)}。", []
    hits = searcher.search(query, k=k, roles=roles)
    note = f"（查询较长，只用了前 {MAX_QUERY_CHARS} 个字）" if len(clean_query(query)) < len(" ".join(query.split())) else ""
    if not hits:
        return f"没有找到相关片段。{note}", []
    return f"找到 {len(hits)} 个片段，按相关程度排序。{note}", hits
