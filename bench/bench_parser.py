"""Speech parser: how often ``structure.parse`` finds the opening, the transition and the closing exactly.

    .venv/bin/python bench/bench_parser.py [--baseline REV]

Three sets of speeches, each file judged on its own:

* ``corpus``  — knowledge/speeches (the project's sample knowledge base),
* ``archive`` — tests/data/eval_archive (the retrieval evaluation's neighbour speeches),
* ``forms``   — tests/data/speech_forms (one speech per common form of opening and closing of a 讲话稿 /
  致辞, written for the parser's tests), against the labels written by hand in its expected.yaml.

The corpus and the archive have no hand labels, so a simple judge, written here without the parser's code
or rules, labels them from the layout these speeches share:

* **opening** = the paragraphs before the first ``一、`` heading, except the transition;
* **transition** = the paragraph right before ``一、`` when it starts with 刚才 or says 下面…… and something
  comes before it;
* **closing** = walking back from the last paragraph, every paragraph that calls to action or thanks
  (让我们 / 预祝 / 谢谢) or starts by addressing the audience (同志们 / 朋友们 / 姐妹们 / 各位 / 女士们),
  up to the first one that does neither.

The judge is also scored against the forms' hand labels (``judge`` row), which says how far it can be trusted.

Figures per set: ``opening`` / ``transition`` / ``closing`` = share of files whose section is exactly the
expected paragraphs (an empty section counts as right when none is expected); ``found`` = share of files
expected to have an opening (closing) where the parser found a non-empty one; ``all`` = files with all three
exact.  ``--baseline REV`` runs the parser of commit REV (``git show REV:assistant/structure.py``) on the same
files beside this checkout's.  No model is needed; this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as C
import yaml

from assistant import structure as current_structure
from assistant.loaders import read_speech, speech_files

SETS = {
    "corpus": C.ROOT / "knowledge" / "speeches",
    "archive": C.ROOT / "tests" / "data" / "eval_archive",
    "forms": C.ROOT / "tests" / "data" / "speech_forms",
}
SECTIONS = ("opening", "transition", "closing")

# --- the judge ------------------------------------------------------------------------------------------
_J_FRONT = re.compile(r"\A\ufeff?---\s*\n.*?\n---\s*\n", re.S)
_J_HEADING = re.compile(r"^(?:#+\s*)?(?:\*\*)?[一二三四五六七八九十]{1,3}、.{1,48}$")
_J_CLOSING = re.compile(r"让我们|预祝|谢谢|^(?:同志们|朋友们|姐妹们|同学们|青年朋友们|各位|女士们)")


def judge(text: str) -> dict:
    """Expected paragraphs (as text) of each section, from the layout alone."""
    text = _J_FRONT.sub("", text.replace("\r\n", "\n"), count=1)
    lines = [ln.strip().strip("\u3000") for ln in text.split("\n")]
    lines = [ln for ln in lines if ln]
    heads = [i for i, ln in enumerate(lines) if _J_HEADING.match(ln) and not ln.endswith("。")]
    # a title line: first line, short, no punctuation at all (a salutation ends with a colon)
    if lines and (not heads or heads[0] > 0) and len(lines[0]) <= 40 and not re.search(r"[。，；！？：,;!?:]", lines[0]):
        lines = lines[1:]
        heads = [i - 1 for i in heads]
    first = heads[0] if heads else len(lines)
    pre = lines[:first]
    transition = None
    if len(pre) > 1 and (pre[-1].startswith("刚才") or "下面" in pre[-1]):
        transition = pre.pop()
    closing: list[str] = []
    last_head = heads[-1] if heads else 0
    for i in range(len(lines) - 1, last_head + 1 if heads else 0, -1):
        if not _J_CLOSING.search(lines[i]):
            break
        closing.insert(0, lines[i])
    return {"opening": pre, "transition": [transition] if transition else [], "closing": closing}


# --- the parser's answer ----------------------------------------------------------------------------------
def answer(module, text: str) -> dict:
    s = module.parse(text)
    return {
        "opening": [p.text for p in s.opening],
        "transition": [s.transition.text] if s.transition else [],
        "closing": [p.text for p in s.closing],
    }


def labels(entry: dict) -> dict:
    """Hand labels of expected.yaml: the start of each paragraph's text."""
    t = entry.get("transition")
    return {"opening": entry["opening"], "transition": [t] if t else [], "closing": entry["closing"]}


def same(got: list[str], want: list[str], prefixes: bool) -> bool:
    if len(got) != len(want):
        return False
    return all(g.startswith(w) if prefixes else g == w for g, w in zip(got, want))


def score(cases: list[tuple[str, dict, dict]], prefixes: bool) -> tuple[dict, list[str]]:
    """cases: (file, expected, got) → figures and the files with a wrong section."""
    n = len(cases)
    right = {k: 0 for k in SECTIONS}
    found = {"opening": [0, 0], "closing": [0, 0]}
    all_right = 0
    wrong = []
    for name, want, got in cases:
        ok = {k: same(got[k], want[k], prefixes) for k in SECTIONS}
        for k in SECTIONS:
            right[k] += ok[k]
        for k in found:
            if want[k]:
                found[k][0] += 1
                found[k][1] += bool(got[k])
        all_right += all(ok.values())
        if not all(ok.values()):
            wrong.append(f"{name}: " + ", ".join(k for k in SECTIONS if not ok[k]))
    fig = {"files": n, **{k: right[k] / n for k in SECTIONS}}
    fig.update({f"{k}_found": (f[1] / f[0]) if f[0] else float("nan") for k, f in found.items()})
    fig["all"] = all_right / n
    return fig, wrong


def load_structure(rev: str, where: Path):
    src = subprocess.run(["git", "-C", str(C.ROOT), "show", f"{rev}:assistant/structure.py"], check=True,
                         capture_output=True, text=True).stdout
    path = where / f"structure_{rev}.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"structure_{rev}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def run(module) -> tuple[dict, dict]:
    """Figures and wrong files per set for one parser."""
    figures, wrong = {}, {}
    expected = yaml.safe_load((SETS["forms"] / "expected.yaml").read_text(encoding="utf-8"))
    for name, folder in SETS.items():
        cases = []
        for f in speech_files(folder):
            text = read_speech(f)
            want = labels(expected[f.name]) if name == "forms" else judge(text)
            cases.append((f.name, want, answer(module, text)))
        figures[name], wrong[name] = score(cases, prefixes=name == "forms")
    return figures, wrong


def judge_on_forms() -> dict:
    expected = yaml.safe_load((SETS["forms"] / "expected.yaml").read_text(encoding="utf-8"))
    cases = [(f.name, labels(expected[f.name]), judge(read_speech(f))) for f in speech_files(SETS["forms"])]
    return score(cases, prefixes=True)[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", help="an earlier commit whose parser runs beside this checkout's (e.g. HEAD)")
    args = ap.parse_args()

    runs = [("this checkout", current_structure)]
    with tempfile.TemporaryDirectory(prefix="speechbench-parser-") as tmp:
        base_rev = None
        if args.baseline:
            base_rev = subprocess.run(["git", "-C", str(C.ROOT), "rev-parse", "--short", args.baseline], check=True,
                                      capture_output=True, text=True).stdout.strip()
            runs.insert(0, (f"baseline {base_rev}", load_structure(base_rev, Path(tmp))))
        results = {label: run(module) for label, module in runs}

    rows = []
    for label, (figures, _) in results.items():
        for name, fig in figures.items():
            rows.append([label, name, fig["files"], fig["opening"], fig["opening_found"], fig["transition"],
                         fig["closing"], fig["closing_found"], fig["all"]])
    jf = judge_on_forms()
    rows.append(["judge vs hand labels", "forms", jf["files"], jf["opening"], jf["opening_found"], jf["transition"],
                 jf["closing"], jf["closing_found"], jf["all"]])
    C.table(["parser", "set", "files", "opening", "found", "transition", "closing", "found", "all"], rows)
    for label, (_, wrong) in results.items():
        misses = [f"{name}/{w}" for name, ws in wrong.items() for w in ws]
        print(f"\n{label}: {len(misses)} file(s) with a wrong section" + (":" if misses else ""))
        for m in misses:
            print("  " + m)

    out = {"sets": {k: str(v.relative_to(C.ROOT)) for k, v in SETS.items()},
           "current": results["this checkout"][0], "judge_vs_labels": jf}
    if base_rev:
        out["baseline_rev"] = base_rev
        out["baseline"] = results[f"baseline {base_rev}"][0]
    C.emit("parser", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
