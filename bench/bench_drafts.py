"""Draft quality on the real local model: the scenarios of bench/draft_scenarios.yaml, judged without a model.

    .venv/bin/python bench/bench_drafts.py [--baseline REV] [--only ID …] [--limit N] [--transcripts DIR]

Each scenario runs through a real Session (one chat message after another, as a user types them) of this
checkout, and — with ``--baseline REV`` — through a checkout of REV in the same run, scenario by scenario,
so both meet the same machine load.  Both are judged by this checkout's judges (assistant/judges.py).
Prints pass rates per judge and per scenario, timings, the worst examples and one JSON line.
This is a benchmark, not a test: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import ROOT, copy_index, load_note, tmpdir  # noqa: E402

from assistant.draft_eval import (SCENARIOS, Results, SubprocessRunner, add, emit, load_scenarios,  # noqa: E402
                                  load_terms_for_judges, print_report)


def checkout(rev: str, where: Path) -> Path:
    """A clean copy of commit ``rev`` (git archive), with this checkout's runner copied in."""
    where.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    shutil.copy2(ROOT / "assistant" / "draft_runner.py", where / "assistant" / "draft_runner.py")
    return where


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", help="an earlier commit to run beside this checkout (e.g. 3b14832)")
    ap.add_argument("--scenarios", default=str(SCENARIOS))
    ap.add_argument("--only", nargs="+")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--transcripts", help="folder for the raw transcripts (JSONL per checkout)")
    ap.add_argument("--worst", type=int, default=12)
    ap.add_argument("--baseline-every", type=int, default=1, metavar="K",
                    help="run the baseline on every K-th scenario only (it is slower); this checkout's figures on the "
                         "same scenarios are reported beside it")
    args = ap.parse_args()

    scenarios, default_date = load_scenarios(Path(args.scenarios), args.only, args.limit)
    print(f"{len(scenarios)} scenarios, {sum(len(s['turns']) for s in scenarios)} turns; {load_note()}", flush=True)
    terms = load_terms_for_judges()
    with tmpdir("drafts") as tmp:
        tmp = Path(tmp)
        roots = [("this checkout", ROOT)]
        if args.baseline:
            rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.baseline], check=True,
                                 capture_output=True, text=True).stdout.strip()
            roots.append((f"baseline {rev}", checkout(rev, tmp / f"base-{rev}")))
        runners, results = [], []
        for label, root in roots:
            data = tmp / f"data-{len(runners)}"
            copy_index(data)
            t0 = time.perf_counter()
            runners.append(SubprocessRunner(root, data, default_date))
            print(f"{label}: runner ready in {time.perf_counter() - t0:.0f} s", flush=True)
            results.append(Results(label))
        out = Path(args.transcripts) if args.transcripts else None
        if out:
            out.mkdir(parents=True, exist_ok=True)
        same = Results("this (subset)") \
            if args.baseline and args.baseline_every > 1 else None
        try:
            for i, sc in enumerate(scenarios, 1):
                paired = (i - 1) % args.baseline_every == 0
                for k, ((label, _), runner, res) in enumerate(zip(roots, runners, results)):
                    if k > 0 and not paired:
                        continue
                    t0 = time.perf_counter()
                    transcript = runner.run(sc)
                    turns = add(res, transcript, runner.prompts, default_date, terms)
                    if k == 0 and paired and same is not None:
                        add(same, transcript, runner.prompts, default_date, terms)
                    print(f"[{i}/{len(scenarios)}] {sc['id']} · {label}: {sum(t.ok for t in turns)}/{len(turns)} turns pass, "
                          f"{time.perf_counter() - t0:.0f} s", flush=True)
                    if out:  # with what the judges need to judge it again later (eval-drafts --judge)
                        transcript.setdefault("prompts", runner.prompts)
                        transcript.setdefault("default_date", default_date)
                        name = "current" if label == "this checkout" else label.replace(" ", "-")
                        with open(out / f"{name}.jsonl", "a", encoding="utf-8") as f:
                            f.write(json.dumps(transcript, ensure_ascii=False) + "\n")
        finally:
            for r in runners:
                r.close()
    if same is not None:
        results.insert(1, same)
    print(f"\n{load_note()}")
    print_report(results, worst=args.worst)
    emit(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
