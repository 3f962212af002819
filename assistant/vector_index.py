"""Exact vector search over all chunk and sentence embeddings held in memory (numpy), grouped by role.

Chroma stays the store of record (documents, metadata, embeddings); this index is
derived from it, like the keyword index.  Why not Chroma's own query: with a
``where`` filter on the part's role Chroma scans candidates in SQLite and took
213 ms p95 at 10,000 speeches; an exact dot product over the role's rows takes a
few milliseconds and is exact (no HNSW recall loss).  Chunk rows are kept sorted
by role so a role's vectors are one contiguous slice (a view, never a copy).

Sentence level ("small-to-big"): every chunk is embedded sentence by sentence and
its own vector is the mean of its sentences.  A search ranks chunks by their vector,
then re-scores the best candidates with ``CHUNK_WEIGHT`` × chunk similarity +
(1 − ``CHUNK_WEIGHT``) × their best sentence's similarity, so a request that
paraphrases one sentence of a long item still finds it.  Measured with
``speech-assistant eval`` on both query sets (305 queries), vector search alone: MRR
0.882 with chunk vectors only → 0.930, paraphrases 0.683 → 0.792; and embedding the
sentences of the corpus took 26.8 s against 31.3 s for its whole chunks (shorter inputs).
Memory: chunks float32 (1.5 KB each), sentences float16 (0.8 KB each, ~4.5 a chunk).

Updates never change an index in place: ``with_changes`` returns a new one and
the knowledge base swaps the reference, so a search running meanwhile sees either
the old or the new index.  Persisted beside Chroma (``data/vectors``) with atomic
replacement, so the app starts without reading every embedding back from Chroma.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from .atomic import replace_dir

CHUNK_WEIGHT = 0.3  # chosen by `speech-assistant eval` (0.0–1.0 tried; README "Retrieval quality")
RESCORE_MIN = 100  # chunks re-scored by their sentences: at least this many, or 5 × those asked for


def normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    if v.ndim == 1:
        return v / max(float(np.linalg.norm(v)), 1e-12)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def mean_vector(sentences: np.ndarray) -> np.ndarray:
    """A chunk's vector from its sentence vectors."""
    return normalise(normalise(sentences).mean(axis=0))


class VectorIndex:
    def __init__(self, ids: Sequence[str] | None = None, roles: Sequence[str] | None = None,
                 vectors: np.ndarray | None = None, sentences: Sequence[np.ndarray] | None = None):
        """``sentences[i]``: the sentence vectors of chunk i (k × dim; empty when a chunk has none)."""
        ids, roles = list(ids or []), list(roles or [])
        if len(ids) != len(roles):
            raise ValueError("ids and roles differ in length")
        dim = vectors.shape[1] if vectors is not None and np.ndim(vectors) == 2 else 0
        vecs = np.zeros((0, dim), dtype=np.float32) if vectors is None or not len(ids) else normalise(vectors)
        if len(vecs) != len(ids):
            raise ValueError("ids and vectors differ in length")
        if sentences is not None and len(sentences) != len(ids):
            raise ValueError("ids and sentences differ in length")
        order = sorted(range(len(ids)), key=lambda i: roles[i])  # stable: insertion order within a role
        self.ids = [ids[i] for i in order]
        self.roles = [roles[i] for i in order]
        self.vectors = np.ascontiguousarray(vecs[order]) if len(order) else vecs
        dim = self.vectors.shape[1] if self.vectors.ndim == 2 else 0
        blocks = [np.asarray(sentences[i], dtype=np.float32).reshape(-1, dim) for i in order] if sentences else []
        counts = np.array([len(b) for b in blocks] if blocks else [0] * len(order), dtype=np.int64)
        self.sent_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.sentences = (normalise(np.vstack(blocks)).astype(np.float16) if counts.sum()
                          else np.zeros((0, dim), dtype=np.float16))
        self.stamp = ""  # what the owner says this index reflects (the knowledge base: its sources' hashes)
        self._slices = self._role_slices(self.roles)

    @staticmethod
    def _role_slices(roles: list[str]) -> dict[str, slice]:
        """Each role's rows (roles are sorted, so one contiguous slice per role)."""
        out: dict[str, slice] = {}
        start = 0
        for i in range(1, len(roles) + 1):
            if i == len(roles) or roles[i] != roles[start]:
                out[roles[start]] = slice(start, i)
                start = i
        return out

    def __len__(self) -> int:
        return len(self.ids)

    def sentences_of(self, row: int) -> np.ndarray:
        return self.sentences[self.sent_offsets[row]:self.sent_offsets[row + 1]].astype(np.float32)

    def search(self, query: Sequence[float] | np.ndarray, n: int, roles: set[str] | None = None) -> list[tuple[str, float]]:
        """The ``n`` best chunks (similarity in [-1, 1]), optionally only of ``roles``; best first."""
        if not len(self.ids) or n <= 0:
            return []
        q = normalise(query)
        if roles:
            parts = [self._slices[r] for r in sorted(roles) if r in self._slices]
            if not parts:
                return []
            rows = np.concatenate([np.arange(s.start, s.stop) for s in parts])
            sims = np.concatenate([self.vectors[s] @ q for s in parts])
        else:
            rows, sims = np.arange(len(self.ids)), self.vectors @ q
        # stage 1: the best chunks by their own (mean) vector
        m = min(len(sims), max(RESCORE_MIN, 5 * n))
        cand = np.argpartition(-sims, m - 1)[:m] if m < len(sims) else np.arange(len(sims))
        rows, score = rows[cand], sims[cand]
        # stage 2: re-score them with their best sentence
        starts, counts = self.sent_offsets[rows], np.diff(self.sent_offsets)[rows]
        if counts.sum():
            has = counts > 0
            c = counts[has]
            first = np.concatenate([[0], np.cumsum(c)[:-1]])
            idx = np.repeat(starts[has] - first, c) + np.arange(c.sum())
            best = np.maximum.reduceat(self.sentences[idx].astype(np.float32) @ q, first)
            score = score.copy()
            score[has] = CHUNK_WEIGHT * score[has] + (1.0 - CHUNK_WEIGHT) * best
        k = min(n, len(score))
        top = np.argpartition(-score, k - 1)[:k] if k < len(score) else np.arange(len(score))
        top = top[np.argsort(-score[top], kind="stable")]
        return [(self.ids[rows[t]], float(score[t])) for t in top]

    def with_changes(self, *, remove: set[str] = frozenset(), ids: Sequence[str] = (), roles: Sequence[str] = (),
                     vectors: np.ndarray | list | None = None,
                     sentences: Sequence[np.ndarray] | None = None) -> "VectorIndex":
        """A new index without the ``remove`` ids and with the given rows added (an id added again replaces)."""
        drop = set(remove) | set(ids)
        keep = [i for i, cid in enumerate(self.ids) if cid not in drop]
        dim = self.vectors.shape[1] if self.vectors.ndim == 2 and self.vectors.shape[1] else None
        new_vecs = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1) if len(ids) else None
        dim = dim or (new_vecs.shape[1] if new_vecs is not None else 0)
        blocks = [self.vectors[keep]] if keep else []
        if new_vecs is not None:
            blocks.append(new_vecs)
        sents = [self.sentences_of(i) for i in keep] + (
            list(sentences) if sentences is not None else [np.zeros((0, dim), np.float32)] * len(ids))
        return VectorIndex([self.ids[i] for i in keep] + list(ids), [self.roles[i] for i in keep] + list(roles),
                           np.vstack(blocks) if blocks else None, sents if (keep or len(ids)) else None)

    # --- persistence -------------------------------------------------------
    def save(self, folder: Path) -> None:
        def fill(tmp: Path) -> None:
            np.save(tmp / "vectors.npy", self.vectors)
            np.save(tmp / "sentences.npy", self.sentences)
            np.save(tmp / "sentence_offsets.npy", self.sent_offsets)
            meta = {"ids": self.ids, "roles": self.roles, "stamp": self.stamp}
            (tmp / "ids.json").write_text(json.dumps(meta, ensure_ascii=False))

        replace_dir(folder, fill)

    @classmethod
    def load(cls, folder: Path) -> "VectorIndex":
        folder = Path(folder)
        meta = json.loads((folder / "ids.json").read_text())
        vecs = np.load(folder / "vectors.npy")
        sents, offsets = np.load(folder / "sentences.npy"), np.load(folder / "sentence_offsets.npy")
        if len(vecs) != len(meta["ids"]) or len(offsets) != len(vecs) + 1 or offsets[-1] != len(sents):
            raise ValueError(f"{folder}: vectors, sentences and ids do not match")
        idx = cls.__new__(cls)  # already sorted and normalised: no need to go through __init__
        idx.ids, idx.roles, idx.vectors = meta["ids"], meta["roles"], vecs
        idx.sentences, idx.sent_offsets, idx.stamp = sents, offsets, meta.get("stamp", "")
        idx._slices = cls._role_slices(idx.roles)
        return idx
