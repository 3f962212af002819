"""Keyword search over chunks: jieba segmentation with a domain dictionary, BM25 from ``bm25s``.

The index lives in memory and is persisted beside Chroma (``data/keyword``)
so the app starts without re-segmenting the corpus.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    score: float


class KeywordIndex:
    def __init__(self, dict_path: Path | None = None):
        self.dict_path = dict_path
        self.ids: list[str] = []
        self.roles: list[str] = []
        self._bm25 = None

    def __len__(self) -> int:
        return len(self.ids)

    def build(self, ids: list[str], texts: list[str], roles: list[str]) -> "KeywordIndex":
        import bm25s

        self.ids, self.roles = list(ids), list(roles)
        self._masks = {}
        if not ids:
            self._bm25 = None
            return self
        corpus = [tokenize(t, self.dict_path) or ["∅"] for t in texts]
        bm = bm25s.BM25()
        bm.index(corpus, show_progress=False)
        self._bm25 = bm
        return self

    def search(self, query: str, k: int = 10, roles: set[str] | None = None) -> list[KeywordHit]:
        if not self._bm25 or not self.ids:
            return []
        q = [t for t in tokenize(query, self.dict_path) if t in self._bm25.vocab_dict]
        if not q:
            return []
        mask = None
        if roles:
            mask = self._mask(frozenset(roles))
            if not mask.any():
                return []
        k = min(k, len(self.ids))
        res, scores = self._bm25.retrieve([q], k=k, show_progress=False, weight_mask=mask)
        return [KeywordHit(self.ids[i], float(s)) for i, s in zip(res[0], scores[0]) if s > 0]

    def _mask(self, roles: frozenset[str]) -> np.ndarray:
        """A 0/1 weight per chunk for a set of roles, computed once per role set."""
        cache = self.__dict__.setdefault("_masks", {})
        if roles not in cache:
            cache[roles] = np.array([1.0 if r in roles else 0.0 for r in self.roles], dtype=np.float32)
        return cache[roles]

    # --- persistence -------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder = Path(folder)
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        (tmp / "ids.json").write_text(json.dumps({"ids": self.ids, "roles": self.roles}, ensure_ascii=False))
        if self._bm25 is not None:
            self._bm25.save(str(tmp / "bm25"), show_progress=False)
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, dict_path: Path | None = None) -> "KeywordIndex":
        import bm25s

        folder = Path(folder)
        meta = json.loads((folder / "ids.json").read_text())
        idx = cls(dict_path)
        idx.ids, idx.roles = meta["ids"], meta["roles"]
        idx._masks = {}
        if (folder / "bm25").exists():
            idx._bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
        _ensure_jieba(dict_path)
        return idx
