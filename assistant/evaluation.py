"""Retrieval evaluation: recall@5, recall@10 and MRR for vector, keyword and hybrid search.

``speech-assistant eval --knowledge DIR --queries FILE [--json]`` builds a
throw-away index of any folder of speeches and scores a query file whose lines
are ``{"query": ..., "relevant": [file names]}`` (an optional ``"kind"`` adds figures per kind).  A retrieved passage is a hit
when its source file's name is in ``relevant``; ranks are over passages.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

from .settings import ROOT, Settings

MODES = ("vector", "keyword", "hybrid")
DEFAULT_QUERIES = ROOT / "tests" / "data" / "eval_queries.jsonl"
HARD_QUERIES = ROOT / "tests" / "data" / "eval_queries_hard.jsonl"  # neighbouring topics; kinds detail/generic/paraphrase
# an archive of recurring occasions: the sample corpus + 20 speeches for the same occasions in other years and places
ARCHIVE_DIR = ROOT / "tests" / "data" / "eval_archive"
ARCHIVE_QUERIES = ROOT / "tests" / "data" / "eval_queries_archive.jsonl"


def load_queries(path: Path) -> list[dict]:
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path} 第 {n} 行不是合法的 JSON：{exc}") from exc
        if not isinstance(row, dict) or not isinstance(row.get("query"), str) or not isinstance(row.get("relevant"), list):
            raise ValueError(f"{path} 第 {n} 行缺少 query 或 relevant 字段。")
        out.append(row)
    if not out:
        raise ValueError(f"{path} 里没有查询。")
    return out


QUOTED = re.compile(r"“([^“”\n]{2,12})”")


def known_item_queries(folders: list[Path]) -> list[dict]:
    """One query per quoted name (“墩苗”计划 → 墩苗) found in exactly one speech file of ``folders``; that file is
    the relevant one.  Names found in several files are skipped: they do not single out a speech."""
    from .loaders import LoadError, read_speech, speech_files

    texts: dict[str, str] = {}
    for folder in folders:
        for f in speech_files(folder) if Path(folder).exists() else []:
            try:
                texts[f.name] = read_speech(f)
            except LoadError:
                continue
    names = sorted({m for text in texts.values() for m in QUOTED.findall(text)})
    out = []
    for name in names:
        holders = [file for file, text in texts.items() if name in text]
        if len(holders) == 1 and re.search(r"[\w\u4e00-\u9fff]", name):
            out.append({"query": name, "relevant": holders, "kind": "name"})
    return out


def score(searcher, queries: list[dict], mode: str, depth: int = 10) -> dict:
    r5 = r10 = rr = 0.0
    for q in queries:
        relevant = set(q["relevant"])
        hits = searcher.search(q["query"], k=depth, mode=mode)
        ranks = [i for i, p in enumerate(hits, 1) if p.source in relevant]
        first = ranks[0] if ranks else None
        r5 += 1.0 if first and first <= 5 else 0.0
        r10 += 1.0 if first and first <= 10 else 0.0
        rr += 1.0 / first if first else 0.0
    n = len(queries)
    return {"recall@5": round(r5 / n, 4), "recall@10": round(r10 / n, 4), "mrr": round(rr / n, 4)}


def evaluate(knowledge: Path | list[Path], queries: list[dict], *, progress: bool = True,
             data_dir: Path | None = None) -> dict:
    """Index ``knowledge`` (a folder, or several whose file names do not clash) and score ``queries``."""
    from .knowledge_base import KnowledgeBase
    from .loaders import speech_files
    from .retrieval import HybridSearcher
    from .offline import quiet_third_parties

    quiet_third_parties()
    folders = [Path(k) for k in (knowledge if isinstance(knowledge, (list, tuple)) else [knowledge])]
    seen: dict[str, Path] = {}
    for folder in folders:
        for f in speech_files(folder) if folder.exists() else []:
            if f.name in seen and seen[f.name] != f:
                raise ValueError(f"{seen[f.name]} 和 {f} 同名：评测按文件名判断命中，请改名后再试。")
            seen[f.name] = f
    unknown = sorted({name for q in queries for name in q["relevant"]} - set(seen))
    if unknown:  # usually the wrong --knowledge folder: those queries can only miss
        print(f"注意：查询文件里有 {len(unknown)} 个相关文件不在所给的文件夹中（如 {unknown[0]}），"
              "这些查询只能算作未命中。", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="speech-eval-") as tmp:
        settings = Settings(knowledge_dir=folders[0], data_dir=Path(data_dir or tmp), collection="evaluation")
        kb = KnowledgeBase(settings)
        old_stdout = sys.stdout
        sys.stdout = sys.stderr  # the progress bar and notes go to stderr; stdout stays machine-readable
        errors: dict[str, str] = {}
        try:
            for folder in folders:  # each folder adds to the index; only files in none of them are dropped
                errors.update(kb.ingest(folder, progress=progress, remove_missing=False).errors)
            kb.remove([name for name in kb.sources() if name not in seen])
        finally:
            sys.stdout = old_stdout
        if kb.count() == 0:
            raise ValueError(f"{'、'.join(map(str, folders))} 里没有可读取的讲话稿。")
        # per_source=10: count every passage, so ranks are over passages, not one per speech
        searcher = HybridSearcher(kb, per_source=10, candidates=30)
        result = {mode: score(searcher, queries, mode) for mode in MODES}
        kinds = sorted({q["kind"] for q in queries if isinstance(q.get("kind"), str)})
        if kinds:  # optional "kind" per query (detail / generic / paraphrase …): the same figures per kind
            result["by_kind"] = {
                kind: {"queries": len(sub), **{mode: score(searcher, sub, mode) for mode in MODES}}
                for kind in kinds for sub in [[q for q in queries if q.get("kind") == kind]]
            }
        result["queries"] = len(queries)
        result["passages"] = kb.count()
        result["errors"] = errors
        return result


def table(result: dict) -> str:
    lines = [f"{'方法':<8}{'recall@5':>10}{'recall@10':>11}{'MRR':>8}"]
    for mode in MODES:
        r = result[mode]
        lines.append(f"{mode:<10}{r['recall@5']:>10.3f}{r['recall@10']:>11.3f}{r['mrr']:>8.3f}")
    lines.append(f"（{result['queries']} 条查询，{result['passages']} 个片段）")
    for kind, sub in result.get("by_kind", {}).items():
        lines.append(f"\n按类型：{kind}（{sub['queries']} 条）")
        for mode in MODES:
            r = sub[mode]
            lines.append(f"{mode:<10}{r['recall@5']:>10.3f}{r['recall@10']:>11.3f}{r['mrr']:>8.3f}")
    return "\n".join(lines)


def main(args) -> int:
    knowledge = [Path(k) for k in args.knowledge] if args.knowledge else [Settings().knowledge_dir]
    try:
        queries = load_queries(Path(args.queries)) if args.queries else []
        if getattr(args, "known_items", False):
            queries += known_item_queries(knowledge)
        elif not args.queries:
            queries = load_queries(DEFAULT_QUERIES)
        if not queries:
            raise ValueError("没有可评测的查询：给出 --queries 文件，或确认讲话稿里有只出现在一篇中的引号名称。")
        result = evaluate(knowledge, queries)
    except (OSError, ValueError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    if args.json:
        print(table(result), file=sys.stderr)
        print(json.dumps({k: result[k] for k in (*MODES, "queries")}, ensure_ascii=False))
    else:
        print(table(result))
    return 0
