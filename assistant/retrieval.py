"""Hybrid retrieval of past-speech passages: vector (exact, over Chroma's embeddings held in memory)
+ keyword (BM25), fused, de-duplicated.

* the target part's role filters both searches (an opening is drafted from openings);
* the two are fused by their scores: ``VECTOR_WEIGHT`` × the vector score scaled to [0, 1] over the
  candidates + (1 − ``VECTOR_WEIGHT``) × the keyword *match*: a passage's BM25 score over the score of a
  passage that holds every query word once (``KeywordIndex.full_match_score``), capped at 1.  So keyword
  evidence is strong when a passage holds what the query asks for — a programme's name typed alone matches
  whole, though its raw BM25 is small — and weak when a long paraphrase shares a few common words with it.
  Chosen by ``speech-assistant eval`` on four query sets (tests/test_eval.py): with a fixed floor on the best
  BM25 score instead (the previous fusion) names typed alone reached MRR 0.856 against 0.809 for vector
  search; with the match they reach 0.939, every other set unchanged (±0.01).  Weights 0.4–0.6 were tried:
  0.4 helps names (0.97) and costs paraphrases 0.03–0.06; 0.6 the reverse.  Reciprocal-rank fusion, which
  ignores how strong a match is, let keyword noise push paraphrased requests down (MRR 0.548 vs 0.692 for
  vector search alone, with chunk vectors);
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
# score fusion (chosen by `speech-assistant eval`, see the module docstring and README)
VECTOR_WEIGHT = 0.5


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
    occasion: str = ""  # of its speech (front matter), e.g. 云岭县教育工作会议

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


def _similar(x: set[str], y: set[str], threshold: float = 0.6) -> bool:
    """Near-duplicates: Jaccard similarity of two passages' character bigrams."""
    if not x or not y:
        return False
    return len(x & y) / len(x | y) >= threshold


def clean_query(query: str) -> str:
    q = re.sub(r"\s+", " ", query).strip()
    return q[:MAX_QUERY_CHARS]


def has_content(query: str) -> bool:
    return bool(re.search(r"[\w\u4e00-\u9fff]", query))


def fuse(rankings: dict[str, list[tuple[str, float]]]) -> dict[str, float]:
    """One score per chunk from the vector and/or keyword rankings (lists of (id, score), best first)."""
    parts: list[tuple[float, dict[str, float]]] = []
    if rankings.get("vector"):
        sims = [s for _, s in rankings["vector"]]
        lo, hi = min(sims), max(sims)
        parts.append((VECTOR_WEIGHT, {c: (s - lo) / (hi - lo) if hi > lo else 1.0 for c, s in rankings["vector"]}))
    if rankings.get("keyword"):  # already on [0, 1]: how much of the query each passage matches
        parts.append((1.0 - VECTOR_WEIGHT, dict(rankings["keyword"])))
    if len(parts) == 1:
        parts = [(1.0, parts[0][1])]
    fused: dict[str, float] = {}
    for weight, scores in parts:
        for cid, x in scores.items():
            fused[cid] = fused.get(cid, 0.0) + weight * x
    return fused


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
        hits = self.kb.vectors.search(vec, n, roles)
        t2 = time.perf_counter()
        self.last_timing.update(embed_ms=(t1 - t0) * 1000, vector_ms=(t2 - t1) * 1000)
        return hits

    def _keyword(self, query: str, n: int, roles: set[str] | None) -> list[tuple[str, float]]:
        t0 = time.perf_counter()
        hits = self.kb.keyword.search(query, k=n, roles=roles)
        self.last_timing["keyword_ms"] = (time.perf_counter() - t0) * 1000
        return [(h.id, h.match) for h in hits]

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
        fused = fuse(rankings)
        ranks: dict[str, dict] = {}
        for name, ranking in rankings.items():
            for rank, (cid, _score) in enumerate(ranking, 1):
                ranks.setdefault(cid, {})[name] = rank
        order = sorted(fused, key=lambda c: -fused[c])
        out: list[Passage] = []
        kept: list[set[str]] = []  # the bigrams of each passage in ``out``, computed once
        per: dict[str, int] = {}
        batch = k * 3  # fetch texts a few at a time: most searches are done after the first batch
        for start in range(0, len(order), batch):
            ids = order[start : start + batch]
            data = self.kb.chunks(ids)
            for cid in ids:
                if cid not in data:
                    continue
                text, md = data[cid]
                src = md.get("source", "")
                if per.get(src, 0) >= self.per_source:
                    continue
                grams = _bigrams(text)
                if any(_similar(grams, g) for g in kept):
                    continue
                kept.append(grams)
                out.append(
                    Passage(
                        id=cid, text=text, source=src, title=md.get("title", ""), role=md.get("role", ""),
                        part=int(md.get("part", 0)), heading=md.get("heading", ""), score=round(fused[cid], 5),
                        start=int(md.get("start", 0)), end=int(md.get("end", 0)), ranks=ranks.get(cid, {}),
                        occasion=md.get("occasion", ""),
                    )
                )
                per[src] = per.get(src, 0) + 1
                if len(out) >= k:
                    break
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
