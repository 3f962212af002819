"""Command line: ``speech-assistant serve | ingest | check | draft | export | kb | eval | fetch-model``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path


def _settings(**overrides):
    from .settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _fail(message: str, code: int = 2) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return code


def cmd_fetch_model(args) -> int:
    from .model_files import ModelFileError, ensure_default_gguf

    try:
        path = ensure_default_gguf(_settings(), log=lambda m: print(m, file=sys.stderr))
    except ModelFileError as exc:
        return _fail(str(exc))
    print(path)
    return 0


def cmd_ingest(args) -> int:
    from .knowledge_base import IndexError_, KnowledgeBase
    from .offline import quiet_third_parties

    quiet_third_parties()
    settings = _settings(data_dir=Path(args.data_dir) if args.data_dir else None)
    kb = KnowledgeBase(settings)
    if args.rebuild:
        kb.rebuild()
    try:
        report = kb.ingest(Path(args.path), progress=True)
    except (IndexError_, FileNotFoundError) as exc:
        return _fail(str(exc))
    print(report.summary())
    return 0


def _read(path: str) -> str:
    from .loaders import LoadError, read_speech

    try:
        return read_speech(Path(path))
    except LoadError as exc:
        raise SystemExit(_fail(str(exc)))


def cmd_check(args) -> int:
    from .checks import check_json, run_checks
    from .settings import ROOT

    text = _read(args.file)
    settings = _settings()
    data = check_json(text, chars_per_minute=settings.chars_per_minute, budget_minutes=args.budget_minutes)
    from . import placeholders

    ledger = placeholders.Ledger.from_text(text)
    data["placeholders"] = [
        {"id": e.id, "text": e.text, "label": e.label, "kind": e.kind, "status": e.status, "context": e.context,
         "offset": e.start}
        for e in ledger.listed()
    ]
    try:
        from .terms import check_terms, date_of_speech, default_terms_paths, load_terms

        when = date.fromisoformat(args.date) if args.date else (date_of_speech(text) if args.use_file_date else date.today())
        terms = load_terms(default_terms_paths(ROOT))
        data["term_warnings"] = [w.to_dict() for w in check_terms(text, when or date.today(), terms)]
    except ImportError:  # pragma: no cover
        pass
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        report = run_checks(text, chars_per_minute=settings.chars_per_minute, budget_minutes=args.budget_minutes)
        print(report.markdown())
        if data["placeholders"]:
            print(f"\n空白 {len(data['placeholders'])} 处：" + "、".join(p["text"] for p in data["placeholders"]))
        for w in data.get("term_warnings", []):
            print(f"提法提示：{w['term']}（位置 {w['offset']}）→ {w['suggestion']}。{w['note']}")
    return 0


def cmd_draft(args) -> int:
    from .knowledge_base import IndexError_
    from .runtime import build_services
    from .store import StoreError

    overrides = {}
    if args.knowledge:
        import hashlib

        knowledge = Path(args.knowledge).resolve()
        tag = hashlib.sha1(str(knowledge).encode()).hexdigest()[:10]
        overrides = dict(knowledge_dir=knowledge, data_dir=Path.home() / ".cache" / "speech-assistant" / f"index-{tag}")
    settings = _settings(**overrides)
    from .materials import MaterialError, Materials, read_material

    materials, check = [], Materials()
    for path in args.materials or []:  # a bad material stops here, before anything is built or drafted
        try:
            materials.append(read_material(Path(path)))
            check.add(*materials[-1])
        except MaterialError as exc:
            return _fail(str(exc))
    try:
        services = build_services(settings)
    except StoreError as exc:
        return _fail(str(exc))
    try:
        if services.kb.stale(settings.knowledge_dir):
            services.kb.ingest(settings.knowledge_dir, progress=True)
    except (IndexError_, FileNotFoundError) as exc:
        return _fail(str(exc))
    session = services.new_session()
    if args.template:  # follow a knowledge-base speech's structure (its title, occasion or file name)
        from .plan import PlanError

        try:
            plan = session.plan_from_knowledge(args.template)
        except PlanError as exc:
            return _fail(str(exc))
        print(session.set_plan(plan), file=sys.stderr)
    for name, text in materials:
        print(session.attach_material(name, text), file=sys.stderr)
    final, streamed, error = "", "", None
    for ev in session.turn(args.request):
        if ev.kind == "delta" and not args.json:
            sys.stderr.write(ev.text[len(streamed):])
            sys.stderr.flush()
            streamed = ev.text
        elif ev.kind == "status" and not args.json:
            print(ev.text, file=sys.stderr)
        elif ev.kind == "message":
            final = ev.text
        elif ev.kind == "error":
            error = ev.text
    if not args.json:
        sys.stderr.write("\n")
    key = session.last_section
    text = session.doc.get(key) if key else ""
    if args.json:
        print(json.dumps({
            "target": key,
            "text": text,
            "message": error or final,
            "ok": error is None,
            "sources": [{"source": p.source, "title": p.title, "part": p.part_label, "snippet": p.snippet(),
                         "score": p.score} for p in session.sources],
            "plan": {"parts": session.plan.count, "roles": list(session.plan.roles()), "template": session.plan.source},
            "facts": [{"fact": c.fact, "kind": c.kind, "section": c.section, "source": c.source or None,
                       "material": c.material or None, "sentence": c.sentence or None}
                      for c in session.material_citations()],
            "timing": session.last.timing,
        }, ensure_ascii=False, indent=1))
    else:
        print(text or "")
        cites = session.material_citations()
        for c in cites:
            where = f"材料《{c.material}》：{c.sentence}" if c.source == "material" else \
                "您的要求" if c.source == "message" else "没有出处，请核实"
            print(f"出处 {c.fact} ← {where}", file=sys.stderr)
        print(("错误：" + error) if error else final, file=sys.stderr)
    return 1 if error else 0


def cmd_serve(args) -> int:
    from .app_main import serve

    return serve(host=args.host, port=args.port)


def cmd_export(args) -> int:
    from .export import ExportError, export_docx, export_markdown

    text = _read(args.file)
    out = Path(args.to)
    # the same warnings the UI shows before export: open blanks, failed checks, outdated wording for the date
    from . import placeholders
    from .checks import run_checks
    from .export import export_warnings
    from .terms import check_terms, default_terms_paths, load_terms
    from .settings import ROOT

    when = date.fromisoformat(args.date) if args.date else date.today()
    errors = [e.message for e in run_checks(text).errors]
    warnings = export_warnings(text, placeholders.Ledger.from_text(text).open_count, errors)
    warnings += [f"“{w.term}”在 {when:%Y-%m-%d} 已不宜使用，建议改为“{w.suggestion}”。{w.note}"
                 for w in check_terms(text, when, load_terms(default_terms_paths(ROOT)))]
    for w in warnings:
        print(f"提醒：{w}", file=sys.stderr)
    try:
        if out.suffix.lower() == ".docx":
            export_docx(text, out)
        elif out.suffix.lower() == ".md":
            export_markdown(text, out)
        else:
            return _fail("只能导出为 .docx 或 .md。")
    except ExportError as exc:
        return _fail(str(exc))
    print(out)
    return 0


def cmd_kb(args) -> int:
    from .knowledge_base import KnowledgeBase
    from .offline import quiet_third_parties

    quiet_third_parties()
    settings = _settings()
    kb = KnowledgeBase(settings)
    if args.kb_cmd == "list":
        for name, e in sorted(kb.sources().items()):
            print(f"{name}\t{e.get('title', '')}\t{e.get('occasion', '')}\t{e.get('date', '')}\t{e.get('chunks', 0)} 段")
        return 0
    if args.kb_cmd == "reindex":
        kb.rebuild()
        print(kb.ingest(settings.knowledge_dir, progress=True).summary())
        return 0
    if args.kb_cmd == "add":
        from .kb_admin import add_files

        result = add_files(kb, [Path(p) for p in args.files])
        print(result)
        return 0
    if args.kb_cmd == "remove":
        from .kb_admin import remove_files

        print(remove_files(kb, args.names))
        return 0
    if args.kb_cmd == "search":
        from .kb_admin import search_passages
        from .retrieval import HybridSearcher

        message, hits = search_passages(HybridSearcher(kb), args.query, k=args.k, part=args.part or "")
        if args.json:
            keep = ("source", "title", "part_label", "score", "text")
            print(json.dumps({"message": message, "passages": [
                {k: v for k, v in h.to_dict().items() if k in keep} for h in hits]}, ensure_ascii=False))
        else:
            print(message, file=sys.stderr if hits else sys.stdout)
            for i, h in enumerate(hits, 1):
                print(f"{i}. 《{h.title}》{h.part_label}（{h.source}，{h.score:.3f}）\n   {h.snippet(120)}")
        return 0 if hits else 1
    return 2


def build_parser() -> argparse.ArgumentParser:
    from .chunking import SEARCH_PARTS
    p = argparse.ArgumentParser(prog="speech-assistant", description="讲稿助手")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", help="启动网页界面")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("ingest", help="把讲话稿加入知识库（增量）")
    s.add_argument("path", nargs="?", default=None)
    s.add_argument("--rebuild", action="store_true", help="删除现有索引后重建（不删除讲话稿原文）")
    s.add_argument("--data-dir")
    s.set_defaults(func=lambda a: cmd_ingest(_with_default_path(a)))

    s = sub.add_parser("check", help="检查一篇讲话稿的结构、长度和空白")
    s.add_argument("file")
    s.add_argument("--json", action="store_true")
    s.add_argument("--budget-minutes", type=float)
    s.add_argument("--date", help="讲话日期 YYYY-MM-DD，用于提法检查（默认今天）")
    s.add_argument("--use-file-date", action="store_true", help="用文件头里的 date 作为讲话日期")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("draft", help="不打开界面，起草一段")
    s.add_argument("request")
    s.add_argument("--knowledge")
    s.add_argument("--template", help="按知识库里这篇讲话的结构写（标题、会议名称或文件名）；只借用结构，不照搬内容")
    s.add_argument("--materials", action="append", metavar="FILE",
                   help="本次会议的材料（工作报告等 .txt/.md/.docx，可重复）：起草时从中取用事实并注明出处")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_draft)

    s = sub.add_parser("export", help="导出为 .docx（公文格式）或 .md")
    s.add_argument("file")
    s.add_argument("--to", required=True)
    s.add_argument("--date")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("kb", help="管理知识库")
    kb = s.add_subparsers(dest="kb_cmd", required=True)
    kb.add_parser("list")
    kb.add_parser("reindex")
    a = kb.add_parser("add")
    a.add_argument("files", nargs="+")
    r = kb.add_parser("remove")
    r.add_argument("names", nargs="+")
    f = kb.add_parser("search", help="在知识库中查找片段：计划或口号的名称，或一句话")
    f.add_argument("query")
    f.add_argument("-k", type=int, default=8)
    f.add_argument("--part", choices=SEARCH_PARTS)
    f.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_kb)

    s = sub.add_parser("eval", help="检索评测：recall@5、recall@10、MRR")
    s.add_argument("--knowledge", action="append", metavar="DIR", help="讲话稿文件夹；可重复给出多个")
    s.add_argument("--queries")
    s.add_argument("--known-items", action="store_true",
                   help="再加上从讲话稿自动生成的查询：只在一篇中出现的引号名称（如“墩苗”计划）")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=lambda a: __import__("assistant.evaluation", fromlist=["main"]).main(a))

    s = sub.add_parser("eval-drafts", help="起草质量评测：用真实模型跑 bench/draft_scenarios.yaml 里的场景并逐轮评判")
    s.add_argument("--scenarios", help="场景文件（默认 bench/draft_scenarios.yaml）")
    s.add_argument("--only", nargs="+", metavar="ID", help="只跑这些场景（id 或其前缀）")
    s.add_argument("--limit", type=int, help="只跑前 N 个场景")
    s.add_argument("--data-dir", help="索引所在目录（默认 data/）")
    s.add_argument("--transcripts", help="把每个场景的完整记录追加写入这个 JSONL 文件")
    s.add_argument("--json", action="store_true", help="只输出最后一行 JSON")
    s.add_argument("--judge", nargs="+", metavar="LABEL=FILE",
                   help="不跑模型，只重新评判保存的记录（--transcripts 写的 JSONL），每个文件一列；"
                        "同一标签的多个文件合并（例如两次运行的同一基线）；同时给 --scenarios 时按现在的场景文件评判")
    s.set_defaults(func=lambda a: __import__("assistant.draft_eval", fromlist=["main"]).main(a))

    s = sub.add_parser("fetch-model", help="下载并校验内置本地模型")
    s.set_defaults(func=cmd_fetch_model)
    return p


def _with_default_path(args):
    if args.path is None:
        args.path = str(_settings().knowledge_dir)
    return args


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    t0 = time.perf_counter()
    code = args.func(args)
    if args.cmd in ("ingest",):
        print(f"（{time.perf_counter() - t0:.1f} 秒）", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
