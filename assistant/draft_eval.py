"""The draft-quality benchmark: scenarios → transcripts (:mod:`assistant.draft_runner`) → judges → figures.

``speech-assistant eval-drafts`` runs the scenarios of ``bench/draft_scenarios.yaml`` through this
checkout with the configured chat model (the embedded local model by default) and prints, per judge
and per scenario, the share of turns that pass, the worst examples and one JSON line.
``bench/bench_drafts.py`` does the same and can run an earlier commit beside it (``--baseline REV``),
interleaved scenario by scenario so both see the same machine load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from statistics import mean

from . import judges
from .judges import JUDGES, Context, Verdict

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "bench" / "draft_scenarios.yaml"


def load_scenarios(path: Path = SCENARIOS, only: list[str] | None = None, limit: int | None = None) -> tuple[list[dict], str]:
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    scenarios = data["scenarios"]
    for sc in scenarios:  # YAML reads 2026-12-03 as a date; the transcripts are JSON
        if sc.get("date") is not None:
            sc["date"] = str(sc["date"])
    if only:
        scenarios = [s for s in scenarios if s["id"] in only or any(s["id"].startswith(o) for o in only)]
    if limit:
        scenarios = scenarios[:limit]
    return scenarios, str(data.get("date", ""))


# --------------------------------------------------------------------------- running


class SubprocessRunner:
    """``python -m assistant.draft_runner`` in a checkout ``root``: one scenario in, one transcript out."""

    def __init__(self, root: Path, data_dir: Path, default_date: str, env: dict | None = None):
        self.root = Path(root)
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("SPEECH_", "OPENAI_"))}
        environ.update(ANONYMIZED_TELEMETRY="False", GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1",
                       PYTHONPATH=str(self.root))
        environ.update(env or {})
        self.log = open(Path(data_dir).parent / f"runner-{self.root.name}.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.draft_runner", "--data-dir", str(data_dir), "--date", default_date,
             "--knowledge-dir", str(ROOT / "knowledge" / "speeches")],
            cwd=self.root, env=environ, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
            encoding="utf-8", bufsize=1)
        hello = self._read()
        self.prompts: dict[str, str] = hello.get("prompts", {})

    def _read(self) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                self.log.flush()
                raise RuntimeError(f"the runner in {self.root} stopped; see {self.log.name}")
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)

    def run(self, scenario: dict) -> dict:
        self.proc.stdin.write(json.dumps(scenario, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(60)
        except Exception:
            self.proc.kill()
        self.log.close()


class InProcessRunner:
    """This checkout, in this process (the CLI, and tests with a scripted model)."""

    def __init__(self, services, calls: list, default_date: str):
        from .draft_runner import prompt_templates

        self.services, self.calls, self.default_date = services, calls, default_date
        self.prompts = prompt_templates()

    def run(self, scenario: dict) -> dict:
        from .draft_runner import run_scenario

        return run_scenario(self.services, self.calls, scenario, self.default_date)

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- judging


@dataclass
class TurnResult:
    scenario: str
    index: int
    kind: str
    say: str
    verdicts: list[Verdict]
    seconds: float
    first_delta_s: float | None
    text: str = ""

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)


@dataclass
class Results:
    label: str
    turns: list[TurnResult] = field(default_factory=list)
    crashes: dict[str, str] = field(default_factory=dict)
    speech_seconds: list[float] = field(default_factory=list)  # outline + full text, per scenario that has both

    def judge_rates(self) -> dict[str, float]:
        out = {}
        for j in JUDGES:
            vs = [v for t in self.turns for v in t.verdicts if v.judge == j]
            if vs:
                out[j] = sum(v.ok for v in vs) / len(vs)
        return out

    def figure(self, judge: str, agg=max) -> float:
        vals = [v.figure for t in self.turns for v in t.verdicts if v.judge == judge and v.figure is not None]
        return agg(vals) if vals else 0.0

    def summary(self) -> dict:
        n = len(self.turns)
        by_kind: dict[str, list[float]] = {}
        for t in self.turns:
            by_kind.setdefault(t.kind, []).append(t.seconds)
        return {
            "turns": n,
            "pass_rate": round(sum(t.ok for t in self.turns) / n, 4) if n else 0.0,
            "judges": {k: round(v, 4) for k, v in self.judge_rates().items()},
            "corrupted_words": int(sum(v.figure or 0 for t in self.turns for v in t.verdicts if v.judge == "corruption")),
            "template_echoes": sum(1 for t in self.turns for v in t.verdicts if v.judge == "echo" and not v.ok),
            "invented_facts": int(sum(v.figure or 0 for t in self.turns for v in t.verdicts if v.judge == "invented")),
            "longest_copy": int(self.figure("copy")),
            "seconds_by_kind": {k: round(mean(v), 1) for k, v in sorted(by_kind.items())},
            "first_delta_s": round(mean([t.first_delta_s for t in self.turns if t.first_delta_s is not None] or [0]), 2),
            "speech_s": [round(s, 1) for s in self.speech_seconds],
            "speech_s_max": round(max(self.speech_seconds), 1) if self.speech_seconds else None,
            "crashes": len(self.crashes),
        }


def judge_transcript(transcript: dict, prompts: dict[str, str], default_date: str, terms) -> list[TurnResult]:
    scenario = transcript["scenario"]
    day = date.fromisoformat(str(scenario.get("date") or default_date or date.today().isoformat()))
    said: list[str] = []
    passages: dict[str, str] = {}
    titles: set[str] = set()
    out = []
    for i, turn in enumerate(transcript["turns"]):
        said.append(turn["say"])
        for p in turn.get("passages", []):
            passages[p.get("id") or p["text"][:40]] = p["text"]
            titles.add(p.get("title", ""))
        ctx = Context(scenario, list(said), day, list(passages.values()), sorted(titles), list(prompts.values()), terms)
        try:
            verdicts = judges.judge_turn(turn, ctx)
        except Exception as exc:  # a judge bug must not hide the other figures
            verdicts = [Verdict("structure", False, f"judge error {type(exc).__name__}: {exc}")]
        text = judges.outline_text(turn.get("outline")) if turn["kind"] == "outline" else \
            "\n".join(judges.judged_sections(turn).values()) if turn["kind"] != "fill" else turn.get("final", "")
        out.append(TurnResult(scenario["id"], i, turn["kind"], turn["say"], verdicts, turn.get("seconds", 0.0),
                              turn.get("first_delta_s"), text))
    return out


def speech_seconds(transcript: dict) -> float | None:
    """Outline + full text (the whole speech as a user gets it), when the scenario has both."""
    kinds = {t["kind"]: t.get("seconds", 0.0) for t in transcript["turns"]}
    if "full" not in kinds:
        return None
    return kinds["full"] + kinds.get("outline", 0.0)


def add(results: Results, transcript: dict, prompts: dict, default_date: str, terms) -> list[TurnResult]:
    if transcript.get("crash"):
        results.crashes[transcript["id"]] = transcript["crash"]
    turns = judge_transcript(transcript, prompts, default_date, terms)
    results.turns += turns
    s = speech_seconds(transcript)
    if s is not None:
        results.speech_seconds.append(s)
    return turns


def load_terms_for_judges():
    from .terms import default_terms_paths, load_terms

    return load_terms(default_terms_paths(ROOT))


# --------------------------------------------------------------------------- reporting


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def print_report(results: list[Results], worst: int = 12, out=print) -> None:
    from .structure import count_chars  # noqa: F401  (keeps the import cheap elsewhere)

    labels = [r.label for r in results]
    out("\n== 每个评判的通过率（按轮次）")
    out("judge".ljust(12) + "".join(l.rjust(14) for l in labels))
    for j in JUDGES:
        out(j.ljust(12) + "".join(_pct(r.judge_rates().get(j)).rjust(14) for r in results))
    sums = [r.summary() for r in results]
    out("all judges".ljust(12) + "".join(_pct(s["pass_rate"]).rjust(14) for s in sums))
    for key, name in (("corrupted_words", "corrupted"), ("template_echoes", "echoes"), ("invented_facts", "invented"),
                      ("longest_copy", "longest copy"), ("speech_s_max", "speech s max"), ("first_delta_s", "1st delta s"),
                      ("crashes", "crashes")):
        out(name.ljust(12) + "".join(str(s[key]).rjust(14) for s in sums))
    out("\n== 每类轮次的平均用时（秒）")
    kinds = sorted({k for s in sums for k in s["seconds_by_kind"]})
    for k in kinds:
        out(k.ljust(12) + "".join(str(s["seconds_by_kind"].get(k, "—")).rjust(14) for s in sums))
    out("\n== 每个场景通过的轮次")
    ids = list(dict.fromkeys(t.scenario for r in results for t in r.turns))
    for sid in ids:
        cells = []
        for r in results:
            ts = [t for t in r.turns if t.scenario == sid]
            cells.append(f"{sum(t.ok for t in ts)}/{len(ts)}" if ts else "—")
        out(sid[:28].ljust(30) + "".join(c.rjust(12) for c in cells))
    for r in results:
        bad = [t for t in r.turns if not t.ok]
        if not bad or "subset" in r.label:
            continue
        out(f"\n== 最差的例子（{r.label}，{len(bad)} 轮未通过，显示 {min(worst, len(bad))} 轮）")
        bad.sort(key=lambda t: -sum(not v.ok for v in t.verdicts))
        for t in bad[:worst]:
            fails = [v for v in t.verdicts if not v.ok]
            out(f"- [{t.scenario} #{t.index + 1} {t.kind}] 「{t.say}」")
            for v in fails:
                out(f"    {v.judge}: {v.detail}" + (f" ‹{v.example[:90]}›" if v.example else ""))
    for r in results:
        for sid, trace in r.crashes.items():
            out(f"\n!! {r.label} {sid} crashed:\n{trace[-1200:]}")


def emit(results: list[Results], name: str = "drafts") -> dict:
    data = {"bench": name}
    for r in results:
        data[r.label] = r.summary()
    print(json.dumps(data, ensure_ascii=False), flush=True)
    return data


# --------------------------------------------------------------------------- CLI


def rejudge(specs: list[str], only: list[str] | None = None, scenarios: Path | None = None) -> list[Results]:
    """Saved transcripts judged again by this checkout's judges: ``LABEL=FILE`` each, one column per label
    (files with the same label are merged; a scenario seen twice under one label counts once, the later run).
    With ``only``, just those scenario ids (e.g. the scenarios both columns ran)."""
    from .draft_runner import prompt_templates

    terms = load_terms_for_judges()
    by_label: dict[str, dict[str, dict]] = {}
    prompts: dict[str, dict[str, str]] = {}
    for spec in specs:
        label, _, path = spec.rpartition("=")
        path, _, rev = path.partition(":")  # FILE:REV — the transcripts came from commit REV (its prompt files)
        label = label or Path(path).stem
        prompts[label] = prompts_at(rev) if rev else prompt_templates()
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                t = json.loads(line)
                by_label.setdefault(label, {})[t["id"]] = t
    current = {}
    if scenarios is not None:  # judge against the scenario file as it is now (e.g. a corrected salutation list)
        current = {s["id"]: s for s in load_scenarios(Path(scenarios))[0]}
    out = []
    for label, transcripts in by_label.items():
        res = Results(label)
        for sid, t in transcripts.items():
            sc = current.get(sid)
            if sc and len(sc["turns"]) == len(t["scenario"]["turns"]):
                t = {**t, "scenario": sc}
            if only is None or sid in only:
                add(res, t, t.get("prompts") or prompts[label], t.get("default_date") or str(date.today()), terms)
        out.append(res)
    return out


def prompts_at(rev: str) -> dict[str, str]:
    """The prompt files (.md/.txt) of commit ``rev`` of this repository."""
    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", rev, "prompts/"], check=True,
                           capture_output=True, text=True).stdout.split()
    return {Path(n).name: subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{n}"], check=True,
                                         capture_output=True, text=True).stdout
            for n in names if n.endswith((".md", ".txt"))}


def main(args) -> int:
    """``speech-assistant eval-drafts``: the scenarios through this checkout, in this process."""
    from .draft_runner import build

    if getattr(args, "judge", None):
        results = rejudge(args.judge, args.only, Path(args.scenarios) if args.scenarios else None)
        if not args.json:
            print_report(results)
        emit(results)
        return 0

    scenarios, default_date = load_scenarios(Path(args.scenarios) if args.scenarios else SCENARIOS,
                                             args.only, args.limit)
    data_dir = Path(args.data_dir) if args.data_dir else ROOT / "data"
    services, calls = build(data_dir)
    runner = InProcessRunner(services, calls, default_date)
    terms = load_terms_for_judges()
    results = Results("this checkout")
    for i, sc in enumerate(scenarios, 1):
        transcript = runner.run(sc)
        turns = add(results, transcript, runner.prompts, default_date, terms)
        print(f"[{i}/{len(scenarios)}] {sc['id']}: {sum(t.ok for t in turns)}/{len(turns)} 轮通过 "
              f"({sum(t.seconds for t in turns):.0f} 秒)", file=sys.stderr, flush=True)
        if args.transcripts:
            with open(args.transcripts, "a", encoding="utf-8") as f:
                f.write(json.dumps(transcript, ensure_ascii=False) + "\n")
    if not args.json:
        print_report([results])
    emit([results])
    return 0
