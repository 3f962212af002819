"""Keyword search over chunks: jieba segmentation with a domain dictionary, BM25 from ``bm25s``.

The index lives in memory and is persisted beside Chroma (``data/keyword``)
so the app starts without re-segmenting the corpus.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import replace_dir

_jieba_lock = threading.Lock()
_jieba_ready: set[str] = set()

# function words and speech boilerplate that carry no topic
STOPWORDS = set(
    "的 了 和 与 及 是 在 为 对 把 要 以 等 中 上 下 也 都 就 并 而 又 个 之 其 这 那 我们 我 你们 大家 同志 同志们 "
    "进一步 切实 不断 更加 全面 积极 努力 认真 深入 大力 坚持 加强 推进 推动 工作 一是 二是 三是 四是 五是 "
    "首先 其次 再次 最后 写 帮 我 一段 一下 部分 第一 第二 第三 开头 结尾 讲话 讲话稿".split()
)
_PUNCT = re.compile(r"^[\W_]+$", re.U)


def _ensure_jieba(dict_path: Path | None):
    import jieba

    key = str(dict_path or "")
    if key not in _jieba_ready:
        with _jieba_lock:
            if key not in _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                if dict_path and Path(dict_path).exists():
                    jieba.load_userdict(str(dict_path))
                _jieba_ready.add(key)
    return jieba


def tokenize(text: str, dict_path: Path | None = None) -> list[str]:
    jieba = _ensure_jieba(dict_path)
    return [t for t in jieba.lcut_for_search(text) if t.strip() and t not in STOPWORDS and not _PUNCT.match(t)]


@dataclass
class KeywordHit:
    id: str
    score: float  # BM25
    match: float = 0.0  # how much of the query the passage matches, 0–1: BM25 over the query's full-match score


class KeywordIndex:
    """BM25 over the chunks' tokens.  The tokens of every chunk are kept (in memory and on disk), so a
    change re-segments only the new chunks: jieba is ~92 % of a full build, BM25 scoring the rest."""

    def __init__(self, dict_path: Path | None = None):
        self.dict_path = dict_path
        self.ids: list[str] = []
        self.roles: list[str] = []
        self.tokens: list[list[str]] | None = []  # None: loaded from an index saved without its tokens
        self._bm25 = None
        self._masks: dict[frozenset[str], np.ndarray] = {}
        self.stamp = ""  # what the owner says this index reflects (the knowledge base: its sources' hashes)

    def __len__(self) -> int:
        return len(self.ids)

    def build(self, ids: list[str], texts: list[str], roles: list[str]) -> "KeywordIndex":
        return self._index(list(ids), list(roles), [self._tokenize(t) for t in texts])

    def with_changes(self, *, remove: set[str] = frozenset(), ids: list[str] = (), texts: list[str] = (),
                     roles: list[str] = ()) -> "KeywordIndex":
        """A new index without the ``remove`` ids and with the given chunks added; only these are segmented."""
        if self.tokens is None:
            raise ValueError("this keyword index was saved without tokens; build it anew")
        drop = set(remove) | set(ids)
        keep = [i for i, cid in enumerate(self.ids) if cid not in drop]
        new = KeywordIndex(self.dict_path)
        return new._index(
            [self.ids[i] for i in keep] + list(ids),
            [self.roles[i] for i in keep] + list(roles),
            [self.tokens[i] for i in keep] + [self._tokenize(t) for t in texts],
        )

    def _tokenize(self, text: str) -> list[str]:
        return tokenize(text, self.dict_path) or ["∅"]

    def _index(self, ids: list[str], roles: list[str], tokens: list[list[str]]) -> "KeywordIndex":
        import bm25s

        self.ids, self.roles, self.tokens = ids, roles, tokens
        self._masks = {}
        self._bm25 = None
        if ids:
            bm = bm25s.BM25()
            bm.index(tokens, show_progress=False)
            self._bm25 = bm
        return self

    def full_match_score(self, tokens: list[str]) -> float:
        """The BM25 score of a passage of average length that holds each query token once: Σ idf / (1 + k1)
        (bm25s' Lucene scoring).  A hit's score over this says how much of the query it matches, whatever
        the query's length: a two-word programme name matched whole scores ~1, a long paraphrase that shares
        a few common words with a passage ~0.3 — a raw BM25 score cannot tell these apart."""
        bm = self._bm25
        if bm is None:
            return 0.0
        indptr, n = bm.scores["indptr"], bm.scores["num_docs"]
        total = 0.0
        for t in tokens:
            j = bm.vocab_dict[t]
            df = int(indptr[j + 1] - indptr[j])  # the token's column in the CSC score matrix: one entry per passage
            total += math.log(1 + (n - df + 0.5) / (df + 0.5))
        return total / (1 + bm.k1)

    def search(self, query: str, k: int = 10, roles: set[str] | None = None) -> list[KeywordHit]:
        if not self._bm25 or not self.ids:
            return []
        q = [t for t in tokenize(query, self.dict_path) if t in self._bm25.vocab_dict]
        if not q:
            return []
        full = self.full_match_score(q)
        mask = None
        if roles:
            mask = self._mask(frozenset(roles))
            if not mask.any():
                return []
        k = min(k, len(self.ids))
        res, scores = self._bm25.retrieve([q], k=k, show_progress=False, weight_mask=mask)
        return [KeywordHit(self.ids[i], float(s), min(1.0, float(s) / full) if full > 0 else 0.0)
                for i, s in zip(res[0], scores[0]) if s > 0]

    def _mask(self, roles: frozenset[str]) -> np.ndarray:
        """A 0/1 weight per chunk for a set of roles, computed once per role set."""
        if roles not in self._masks:
            self._masks[roles] = np.array([1.0 if r in roles else 0.0 for r in self.roles], dtype=np.float32)
        return self._masks[roles]

    # --- persistence -------------------------------------------------------
    def save(self, folder: Path) -> None:
        def fill(tmp: Path) -> None:
            meta = {"ids": self.ids, "roles": self.roles, "stamp": self.stamp}
            (tmp / "ids.json").write_text(json.dumps(meta, ensure_ascii=False))
            if self.tokens is not None:  # as a vocabulary and token numbers: ~4 bytes a token
                vocab: dict[str, int] = {}
                flat = np.fromiter((vocab.setdefault(t, len(vocab)) for doc in self.tokens for t in doc), dtype=np.int32)
                offsets = np.cumsum([0] + [len(doc) for doc in self.tokens], dtype=np.int64)
                np.savez(tmp / "tokens.npz", flat=flat, offsets=offsets)
                (tmp / "vocab.json").write_text(json.dumps(list(vocab), ensure_ascii=False))
            if self._bm25 is not None:
                self._bm25.save(str(tmp / "bm25"), show_progress=False)

        replace_dir(folder, fill)

    @classmethod
    def load(cls, folder: Path, dict_path: Path | None = None) -> "KeywordIndex":
        import bm25s

        folder = Path(folder)
        meta = json.loads((folder / "ids.json").read_text())
        idx = cls(dict_path)
        idx.ids, idx.roles, idx.stamp = meta["ids"], meta["roles"], meta.get("stamp", "")
        idx.tokens = None
        if (folder / "tokens.npz").exists():
            vocab = json.loads((folder / "vocab.json").read_text())
            with np.load(folder / "tokens.npz") as z:
                flat, offsets = z["flat"], z["offsets"]
            if len(offsets) != len(idx.ids) + 1:
                raise ValueError(f"{folder}: tokens for {len(offsets) - 1} chunks, ids for {len(idx.ids)}")
            words = np.array(vocab, dtype=object)[flat] if len(flat) else np.array([], dtype=object)
            idx.tokens = [list(words[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
        if (folder / "bm25").exists():
            idx._bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
        _ensure_jieba(dict_path)
        return idx
