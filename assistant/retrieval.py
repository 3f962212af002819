"""Hybrid retrieval of past-speech passages: vector (Chroma) + keyword (BM25), fused, de-duplicated.

* the target part's role filters both searches (an opening is drafted from openings);
* reciprocal-rank fusion merges the two rankings (no score calibration needed);
* near-duplicates are dropped (character-bigram Jaccard) and at most
  ``per_source`` passages come from one speech, so the model sees variety.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from typing import Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from .knowledge_base import KnowledgeBase

Mode = Literal["vector", "keyword", "hybrid"]
MAX_QUERY_CHARS = 400  # the query that reaches the embedder; longer requests are cut (the model sees all of it)
RRF_K = 60
# weights of the two rankings in reciprocal-rank fusion (chosen by `speech-assistant eval`, see README)
VECTOR_WEIGHT = 1.0
KEYWORD_WEIGHT = 1.0


@dataclass
class Passage:
    id: str
    text: str
    source: str
    title: str
    role: str
    part: int
    heading: str
    score: float
    start: int = 0
    end: int = 0
    ranks: dict = field(default_factory=dict)

    @property
    def part_label(self) -> str:
        from .document import section_label

        if self.role == "opening":
            return "开场白"
        if self.role == "closing":
            return "结尾"
        return section_label(f"part{self.part}") + (f"：{self.heading}" if self.heading else "")

    def snippet(self, n: int = 80) -> str:
        t = self.text.replace("\n", " ")
        return t if len(t) <= n else t[:n] + "…"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["part_label"] = self.part_label
        d["snippet"] = self.snippet()
        return d


def _bigrams(text: str) -> set[str]:
    t = re.sub(r"\W", "", text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def _similar(a: str, b: str, threshold: float = 0.6) -> bool:
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return False
    return len(x & y) / len(x | y) >= threshold


def clean_query(query: str) -> str:
    q = re.sub(r"\s+", " ", query).strip()
    return q[:MAX_QUERY_CHARS]


def has_content(query: str) -> bool:
    return bool(re.search(r"[\w\u4e00-\u9fff]", query))


class HybridSearcher:
    def __init__(self, kb: KnowledgeBase, *, per_source: int = 2, candidates: int = 20):
        self.kb = kb
        self.per_source = per_source
        self.candidates = candidates
        self.last_timing: dict[str, float] = {}

    def _vector(self, query: str, n: int, roles: set[str] | None) -> list[tuple[str, float]]:
        t0 = time.perf_counter()
        vec = self.kb.embeddings.embed_query(query)
        t1 = time.perf_counter()
        where = None
        if roles:
            where = {"role": next(iter(roles))} if len(roles) == 1 else {"role": {"$in": sorted(roles)}}
        res = self.kb.store._collection.query(
            query_embeddings=[vec], n_results=n, where=where, include=["distances"]
        )
        t2 = time.perf_counter()
        self.last_timing.update(embed_ms=(t1 - t0) * 1000, vector_ms=(t2 - t1) * 1000)
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0])]

    def _keyword(self, query: str, n: int, roles: set[str] | None) -> list[tuple[str, float]]:
        t0 = time.perf_counter()
        hits = self.kb.keyword.search(query, k=n, roles=roles)
        self.last_timing["keyword_ms"] = (time.perf_counter() - t0) * 1000
        return [(h.id, h.score) for h in hits]

    def search(self, query: str, *, k: int = 4, roles: set[str] | None = None, mode: Mode = "hybrid") -> list[Passage]:
        query = clean_query(query)
        self.last_timing = {}
        if not has_content(query) or self.kb.count() == 0:
            return []
        n = max(self.candidates, k * 3)
        rankings: dict[str, list[tuple[str, float]]] = {}
        if mode in ("vector", "hybrid"):
            rankings["vector"] = self._vector(query, n, roles)
        if mode in ("keyword", "hybrid"):
            rankings["keyword"] = self._keyword(query, n, roles)
        t0 = time.perf_counter()
        fused: dict[str, float] = {}
        ranks: dict[str, dict] = {}
        for name, ranking in rankings.items():
            for rank, (cid, _score) in enumerate(ranking, 1):
                weight = VECTOR_WEIGHT if name == "vector" else KEYWORD_WEIGHT
                fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank)
                ranks.setdefault(cid, {})[name] = rank
        order = sorted(fused, key=lambda c: -fused[c])
        data = self.kb.chunks(order[: n * 2])
        out: list[Passage] = []
        per: dict[str, int] = {}
        for cid in order:
            if cid not in data:
                continue
            text, md = data[cid]
            src = md.get("source", "")
            if per.get(src, 0) >= self.per_source:
                continue
            if any(_similar(text, p.text) for p in out):
                continue
            out.append(
                Passage(
                    id=cid, text=text, source=src, title=md.get("title", ""), role=md.get("role", ""),
                    part=int(md.get("part", 0)), heading=md.get("heading", ""), score=round(fused[cid], 5),
                    start=int(md.get("start", 0)), end=int(md.get("end", 0)), ranks=ranks.get(cid, {}),
                )
            )
            per[src] = per.get(src, 0) + 1
            if len(out) >= k:
                break
        self.last_timing["fuse_ms"] = (time.perf_counter() - t0) * 1000
        return out


class SpeechRetriever(BaseRetriever):
    """LangChain retriever over the hybrid searcher; ``roles`` filters by part role."""

    searcher: HybridSearcher
    k: int = 4
    roles: frozenset[str] | None = None
    mode: str = "hybrid"

    model_config = {"arbitrary_types_allowed": True}

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.searcher.search(query, k=self.k, roles=set(self.roles) if self.roles else None, mode=self.mode)  # type: ignore[arg-type]
        return [Document(page_content=p.text, metadata=p.to_dict()) for p in hits]
