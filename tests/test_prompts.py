"""Every prompt under prompts/ renders with exactly the variables the code passes: a missing variable or one the
prompt never uses fails here, not in front of a user; every formula of sections.yaml, formulas.yaml and
tones.yaml renders with the brief's values."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from assistant.brief import Brief, formulas
from assistant.composer import Composer, sections_table
from assistant.drafting import Drafter
from assistant.prompts import PromptLibrary
from assistant.retrieval import Passage
from tests.fakes import OPENING
from tests.test_session import FixedSearcher, make_session, run

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ROOT / "prompts"
# system.md leads every prompt; facts.md is the 「可用的事实」 block materials.py renders into a paragraph prompt
FRAGMENTS = {"system", "facts"}
TASKS = sorted(p.stem for p in PROMPTS.glob("*.md") if p.stem not in FRAGMENTS)


def _variables(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.fixture(scope="module")
def calls():
    """(prompt name, variables passed) for every model call of a session that outlines, drafts the whole speech,
    lengthens the opening, refines a part and meets a copied sentence."""
    seen: list[tuple[str, set[str]]] = []
    original = Drafter.generate

    def spy(self, name, variables, **kw):
        seen.append((name, set(variables)))
        return original(self, name, variables, **kw)

    Drafter.generate = spy
    try:
        copied = Passage("p#1", OPENING + "这是往年讲话里的一句话。", "old.txt", "往年讲话", "opening", 0, "", 0.5)
        s = make_session(searcher=FixedSearcher(copied))
        for message in ("为区妇联第四次代表大会写个提纲，我是区长", "按提纲写全文", "开场白写600字", "第二部分更正式一些",
                        "嗯嗯嗯"):
            run(s, message)
        comp = Composer(s.drafter)
        list(comp.decopy(OPENING, [copied], [], target=400))  # a sentence shared with a past speech is rewritten
    finally:
        Drafter.generate = original
    return seen


def test_every_prompt_file_is_used_by_the_code():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "assistant").glob("*.py"))
    unused = [name for name in TASKS if not re.search(rf"[\"']{name}[\"']", source)]
    assert not unused, f"prompt files no code renders: {unused}"
    assert not _variables((PROMPTS / "system.md").read_text(encoding="utf-8"))  # stable, cached by llama.cpp


def test_every_call_passes_exactly_the_prompt_variables(calls):
    lib = PromptLibrary(PROMPTS)
    for name, given in calls:
        wanted = set(lib.chat(name).input_variables)
        assert given == wanted, f"{name}.md: missing {sorted(wanted - given)}, unused {sorted(given - wanted)}"
        lib.chat(name).invoke({k: "x" for k in given})  # and it renders


def test_the_session_run_reaches_every_model_prompt(calls):
    reached = {name for name, _ in calls} | {"classify"}  # classify: Drafter.classify, checked below
    assert reached >= set(TASKS), f"not reached: {sorted(set(TASKS) - reached)}"
    lib = PromptLibrary(PROMPTS)
    assert set(lib.plain("classify").input_variables) == {"message"}  # what Drafter.classify passes


def test_every_formula_renders_with_the_brief(tmp_path):
    comp = Composer(Drafter.__new__(Drafter))
    brief = Brief()
    brief.update("为区科协第五次代表大会写讲话，我是区长")

    def strings(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)

    table = {k: v for k, v in sections_table().items() if k != "lengths"}
    rendered = [comp.fmt(t, brief, count="四") for t in strings(table)]
    f = formulas()
    rendered += [comp.fmt(t, brief, count="四") for key in ("greetings", "transitions") for t in f[key].values()]
    rendered += [comp.fmt(f["call"], brief), comp.fmt(f["festival_wish"], brief)]
    assert all("{" not in r and "}" not in r for r in rendered)
    assert all("讲四点意见" in comp.fmt(t, brief, count="四") for t in f["transitions"].values())
    assert all("讲三点意见" in comp.fmt(t, brief) for t in f["transitions"].values())


def test_rewording_a_prompt_does_not_break_the_fakes(tmp_path):
    """The scripted model answers by the prompt name the drafter gives each call, not by the prompt's wording."""
    import shutil

    from assistant.session import Session
    from assistant.settings import Settings
    from tests.fakes import ITEMS, scripted, speech_script

    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS, folder)
    item = folder / "item.md"
    lines = item.read_text(encoding="utf-8").split("\n")
    task = next(i for i, line in enumerate(lines) if line.startswith("任务："))
    lines[task] = "请就这一条提出三点明确的工作要求，每点都用“要”字起头，每点{sentence_chars}字上下。{style}只输出这三点，写成一段。"
    item.write_text("\n".join(lines), encoding="utf-8")  # the task line reworded, its variables kept
    llm = scripted(speech_script)
    s = Session(Drafter(Settings(prompts_dir=folder), None, lambda: llm))
    run(s, "写第二部分")
    assert llm.names[:2] == ["heading", "items"] and set(llm.names[2:]) == {"item"}
    assert all(ITEMS[k] in s.doc.get("part2") for k in range(3))
    assert "要深化巾帼建功活动" in s.doc.get("part2")  # the item prompt was answered as an item prompt
