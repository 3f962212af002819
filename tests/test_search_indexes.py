"""The in-memory search indexes derived from Chroma: exact vector search by role and the BM25 keyword index,
both updated incrementally when speeches change and rebuilt when they do not match the manifest."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import assistant.keyword as keyword_mod
from assistant.keyword import KeywordIndex
from assistant.knowledge_base import sources_stamp
from assistant.retrieval import HybridSearcher
from assistant.vector_index import VectorIndex

from test_knowledge_base import e5, make_kb, mini, source_ids  # noqa: F401  (fixture and helpers)


def random_index(n: int = 300, dim: int = 16, seed: int = 3):
    rng = np.random.default_rng(seed)
    roles = [["opening", "significance", "tasks", "guarantees", "closing"][i % 5] for i in range(n)]
    ids = [f"c{i}" for i in range(n)]
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    return ids, roles, vecs


def brute_force(ids, roles, vecs, q, n, allowed=None):
    v = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    sims = v @ (q / np.linalg.norm(q))
    order = [i for i in np.argsort(-sims) if allowed is None or roles[i] in allowed]
    return [(ids[i], float(sims[i])) for i in order[:n]]


@pytest.mark.parametrize("allowed", [None, {"tasks"}, {"opening", "closing"}, {"tasks", "guarantees", "significance"}])
def test_vector_search_is_exact_and_filters_roles(allowed):
    ids, roles, vecs = random_index()
    idx = VectorIndex(ids, roles, vecs)
    rng = np.random.default_rng(9)
    for _ in range(20):
        q = rng.normal(size=vecs.shape[1]).astype(np.float32)
        got = idx.search(q, 12, allowed)
        want = brute_force(ids, roles, vecs, q, 12, allowed)
        assert [g[0] for g in got] == [w[0] for w in want]
        assert np.allclose([g[1] for g in got], [w[1] for w in want], atol=1e-5)


def test_vector_search_edge_cases():
    ids, roles, vecs = random_index(10)
    idx = VectorIndex(ids, roles, vecs)
    q = vecs[3]
    assert idx.search(q, 1)[0][0] == "c3"
    assert len(idx.search(q, 100)) == 10  # more asked than held
    assert idx.search(q, 5, {"no-such-role"}) == []
    assert VectorIndex().search(q, 5) == []
    with pytest.raises(ValueError):
        VectorIndex(ids, roles[:-1], vecs)


def test_vector_index_changes_and_persistence(tmp_path):
    ids, roles, vecs = random_index(50)
    idx = VectorIndex(ids[:40], roles[:40], vecs[:40])
    changed = idx.with_changes(remove={"c1", "c2"}, ids=ids[40:] + ["c5"], roles=roles[40:] + ["closing"],
                               vectors=np.vstack([vecs[40:], -vecs[5:6]]))
    assert len(idx) == 40, "the old index is left as it was (searches in flight keep using it)"
    assert len(changed) == 40 - 2 + 10
    assert "c1" not in changed.ids and "c45" in changed.ids
    assert changed.search(-vecs[5], 1)[0][0] == "c5", "an id added again replaces its old row"
    assert changed.roles[changed.ids.index("c5")] == "closing"
    changed.stamp = "abc"
    changed.save(tmp_path / "vectors")
    back = VectorIndex.load(tmp_path / "vectors")
    assert back.ids == changed.ids and back.roles == changed.roles and back.stamp == "abc"
    assert np.allclose(back.vectors, changed.vectors)


def test_keyword_changes_equal_a_full_build():
    texts = {f"d{i}": t for i, t in enumerate([
        "推进安全生产专项整治三年行动", "做好职工之家建设和劳模精神宣传", "加快乡村振兴和猕猴桃产业发展",
        "抓好防汛抗旱物资储备", "深化营商环境改革一网通办"])}
    roles = ["tasks"] * 5
    ids = list(texts)
    base = KeywordIndex().build(ids[:3], [texts[i] for i in ids[:3]], roles[:3])
    inc = base.with_changes(remove={"d0"}, ids=ids[3:], texts=[texts[i] for i in ids[3:]], roles=roles[3:])
    full = KeywordIndex().build(ids[1:], [texts[i] for i in ids[1:]], roles[1:])
    for q in ["安全生产", "劳模精神", "防汛物资", "一网通办营商环境", "猕猴桃"]:
        assert [(h.id, round(h.score, 5)) for h in inc.search(q, k=5)] == \
               [(h.id, round(h.score, 5)) for h in full.search(q, k=5)]
    assert inc.search("安全生产") == [], "a removed chunk is no longer found"


def test_keyword_match_says_how_much_of_the_query_a_passage_holds(tmp_path):
    """A short name matched whole scores ~1 whatever its raw BM25; a long request sharing one word scores low.
    The same after save and load (the figures come from the BM25 matrix, not from kept tokens)."""
    texts = ["推进安全生产专项整治三年行动", "做好职工之家建设和劳模精神宣传", "加快乡村振兴和猕猴桃产业发展",
             "抓好防汛抗旱物资储备", "深化营商环境改革一网通办", "实施“墩苗”计划锻炼年轻干部"] * 3
    ids = [f"d{i}" for i in range(len(texts))]
    idx = KeywordIndex().build(ids, texts, ["tasks"] * len(ids))
    name = idx.search("墩苗")
    long = idx.search("希望大家把年轻人放到艰苦的地方多摔打，也要关心他们的成长和生活，做好猕猴桃的事")
    assert name[0].match >= 0.9 and long[0].match < 0.6
    assert name[0].score < long[0].score  # raw BM25 ranks the loose match of the long request higher
    assert all(0.0 < h.match <= 1.0 for h in name + long)
    idx.save(tmp_path / "kw")
    back = KeywordIndex.load(tmp_path / "kw")
    assert [(h.id, round(h.match, 6)) for h in back.search("墩苗")] == [(h.id, round(h.match, 6)) for h in name]


def test_keyword_tokens_survive_save_and_load(tmp_path):
    idx = KeywordIndex().build(["a", "b"], ["职工之家建设", "安全生产专项整治"], ["tasks", "tasks"])
    idx.save(tmp_path / "kw")
    back = KeywordIndex.load(tmp_path / "kw")
    assert back.tokens == idx.tokens
    more = back.with_changes(ids=["c"], texts=["劳模精神"], roles=["tasks"])
    assert [h.id for h in more.search("劳模精神")] == ["c"]


def test_adding_a_speech_segments_only_its_chunks(tmp_path, e5, monkeypatch):  # noqa: F811
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产"), "b.txt": mini("乡村振兴")})
    kb.ingest()
    seen: list[str] = []
    real = keyword_mod.tokenize
    monkeypatch.setattr(keyword_mod, "tokenize", lambda text, d=None: seen.append(text) or real(text, d))
    (s.knowledge_dir / "c.txt").write_text(mini("防汛抗旱", extra="要储备好冲锋舟和沙袋。"), encoding="utf-8")
    kb.ingest()
    assert len(seen) == 9, "the keyword index segments only the new speech's 9 chunks"
    assert set(kb.vectors.ids) == set(kb.keyword.ids) == set(kb.passages.ids) == set(kb.store.get(include=[])["ids"])
    stored = kb.store.get(include=["documents", "metadatas"])
    assert kb.chunks(stored["ids"]) == {i: (d, m) for i, d, m in zip(stored["ids"], stored["documents"],
                                                                    stored["metadatas"])}, \
        "passages come from memory exactly as Chroma holds them"
    # both indexes on disk carry the manifest's stamp and come back without rebuilding
    monkeypatch.setattr(keyword_mod, "tokenize", real)
    stamp = sources_stamp(kb.load_manifest())
    fresh = type(kb)(s, spy)
    assert fresh.keyword.stamp == stamp and fresh.vectors.stamp == stamp and fresh.passages.stamp == stamp
    hit = HybridSearcher(fresh).search("冲锋舟 沙袋", k=1)[0]
    assert hit.source == "c.txt"
    # exact in-memory vector search returns what Chroma stores for that chunk
    stored = kb.store._collection.get(ids=[hit.id], include=["embeddings"])["embeddings"][0]
    row = fresh.vectors.ids.index(hit.id)
    assert np.allclose(fresh.vectors.vectors[row], np.asarray(stored) / np.linalg.norm(stored), atol=1e-5)


def test_outdated_or_damaged_derived_indexes_are_rebuilt_from_chroma(tmp_path, e5):  # noqa: F811
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产"), "b.txt": mini("乡村振兴")})
    kb.ingest()
    ids = set(kb.store.get(include=[])["ids"])
    # as after a crash between Chroma and the derived indexes: the stamp no longer matches the manifest
    meta = json.loads((s.data_dir / "vectors" / "ids.json").read_text())
    meta["stamp"] = "outdated"
    (s.data_dir / "vectors" / "ids.json").write_text(json.dumps(meta))
    (s.data_dir / "keyword" / "ids.json").write_text("{not json")
    shutil.rmtree(s.data_dir / "passages")
    spy.documents.clear()
    fresh = type(kb)(s, spy)
    assert set(fresh.vectors.ids) == ids and set(fresh.keyword.ids) == ids and set(fresh.passages.ids) == ids
    assert spy.documents == [], "rebuilt from the embeddings Chroma holds, nothing re-embedded"
    assert HybridSearcher(fresh).search("乡村振兴规划", k=1)[0].source == "b.txt"
    assert fresh.vectors.stamp == sources_stamp(fresh.load_manifest())


def test_removing_a_speech_updates_both_indexes(tmp_path, e5):  # noqa: F811
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产"), "b.txt": mini("乡村振兴")})
    kb.ingest()
    b_ids = set(source_ids(kb, "b.txt"))
    assert kb.remove(["b.txt"]) == ["b.txt"]
    assert not b_ids & set(kb.vectors.ids) and not b_ids & set(kb.keyword.ids) and not b_ids & set(kb.passages.ids)
    assert len(kb.vectors) == len(kb.keyword) == len(kb.passages) == kb.count() == 9
    assert all(p.source == "a.txt" for p in HybridSearcher(kb).search("乡村振兴", k=3, mode="vector"))


def unit(i: int, dim: int = 8) -> np.ndarray:
    v = np.zeros(dim, np.float32)
    v[i] = 1.0
    return v


def test_a_chunk_is_found_by_its_best_sentence():
    """Chunk A covers four ideas (its mean vector is only half like the query), chunk B is one sentence partly
    like it: by chunk vectors alone B wins; with sentence re-scoring A — which says exactly that — wins."""
    a_sents = np.vstack([unit(0), unit(1), unit(2), unit(3)])
    b_sent = (0.6 * unit(0) + 0.8 * unit(4))[None, :]
    from assistant.vector_index import mean_vector

    vecs = np.vstack([mean_vector(a_sents), mean_vector(b_sent)])
    plain = VectorIndex(["A", "B"], ["tasks", "tasks"], vecs)
    assert [c for c, _ in plain.search(unit(0), 2)] == ["B", "A"]
    small_to_big = VectorIndex(["A", "B"], ["tasks", "tasks"], vecs, [a_sents, b_sent])
    got = small_to_big.search(unit(0), 2)
    assert [c for c, _ in got] == ["A", "B"]
    assert got[0][1] == pytest.approx(0.3 * 0.5 + 0.7 * 1.0, abs=1e-3)


def test_sentences_follow_changes_and_persistence(tmp_path):
    ids, roles, vecs = random_index(30)
    rng = np.random.default_rng(5)
    sents = [rng.normal(size=(1 + i % 4, vecs.shape[1])).astype(np.float32) for i in range(30)]
    idx = VectorIndex(ids[:20], roles[:20], vecs[:20], sents[:20])
    changed = idx.with_changes(remove={"c3"}, ids=ids[20:], roles=roles[20:], vectors=vecs[20:], sentences=sents[20:])
    changed.save(tmp_path / "v")
    back = VectorIndex.load(tmp_path / "v")
    for cid in ("c0", "c7", "c25"):
        row, want = back.ids.index(cid), sents[int(cid[1:])]
        got = back.sentences_of(row)
        assert got.shape == want.shape
        assert np.allclose(got, want / np.linalg.norm(want, axis=1, keepdims=True), atol=2e-3)
    assert "c3" not in back.ids and len(back.sentences) == sum(len(s) for i, s in enumerate(sents) if i != 3)
    q = rng.normal(size=vecs.shape[1])
    assert back.search(q, 5) == changed.search(q, 5)


def test_sentence_vectors_live_in_chroma_and_follow_the_files(tmp_path, e5):  # noqa: F811
    from assistant.chunking import sentence_units

    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产"), "b.txt": mini("乡村振兴")})
    kb.ingest()
    docs = kb.store.get(include=["documents"])["documents"]
    assert kb.sentence_collection.count() == sum(len(sentence_units(d)) for d in docs)
    kb.remove(["b.txt"])
    left = kb.sentence_collection.get(include=["metadatas"])["metadatas"]
    assert left and {m["source"] for m in left} == {"a.txt"}
    # the index rebuilt from Chroma equals the one kept up to date incrementally
    incremental = kb.vectors
    shutil.rmtree(s.data_dir / "vectors")
    rebuilt = type(kb)(s, spy).vectors
    assert sorted(rebuilt.ids) == sorted(incremental.ids)
    for cid in incremental.ids:
        a, b = incremental.sentences_of(incremental.ids.index(cid)), rebuilt.sentences_of(rebuilt.ids.index(cid))
        assert a.shape == b.shape and np.allclose(a, b, atol=2e-3)


def test_passage_table_changes_and_persistence(tmp_path):
    from assistant.passages import PassageTable

    md = lambda src, part: {"source": src, "title": "在全县大会上的讲话", "role": "tasks", "part": part, "start": 3}  # noqa: E731
    t = PassageTable(["a#0", "a#1"], ["一是要抓规划。", "二是要抓项目。"], [md("a.txt", 2), md("a.txt", 2)])
    t2 = t.with_changes(remove={"a#0"}, ids=["b#0"], texts=["让我们共同努力！"], metas=[{"source": "b.txt", "role": "closing"}])
    assert t.ids == ["a#0", "a#1"], "the old table is left as it was"
    assert t2.get(["a#0", "a#1", "b#0", "zz"]) == {
        "a#1": ("二是要抓项目。", md("a.txt", 2)), "b#0": ("让我们共同努力！", {"source": "b.txt", "role": "closing"})}
    t2.stamp = "s1"
    t2.save(tmp_path / "p")
    back = PassageTable.load(tmp_path / "p")
    assert back.stamp == "s1" and back.get(back.ids) == t2.get(t2.ids)


def test_a_keyword_index_saved_without_tokens_is_rebuilt_on_the_next_change(tmp_path, e5):  # noqa: F811
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产")})
    kb.ingest()
    for name in ("tokens.npz", "vocab.json"):
        (s.data_dir / "keyword" / name).unlink()
    fresh = type(kb)(s, spy)
    assert fresh.keyword.tokens is None  # loaded as saved, still searchable
    (s.knowledge_dir / "b.txt").write_text(mini("乡村振兴", extra="猕猴桃产业园。"), encoding="utf-8")
    fresh.ingest()
    assert fresh.keyword.tokens is not None and set(fresh.keyword.ids) == set(fresh.store.get(include=[])["ids"])
    assert [h.id for h in fresh.keyword.search("猕猴桃")][0].startswith("b.txt")
