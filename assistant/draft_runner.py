"""Run draft-quality scenarios through a real :class:`Session` and record what happened, for the judges.

This module is the benchmark's *runner*: it drives the product exactly as a user does (one chat
message after another through ``Session.turn``) and writes, per turn, what a judge needs: the
document before and after, the outline, every model call's prompt and raw reply (the raw reply is
what the blank guard must not corrupt), the passages retrieved, and the times.

It is deliberately self-contained (standard library + ``assistant.runtime``/``assistant.settings``,
every newer attribute read with ``getattr``) so that ``bench/bench_drafts.py`` can copy it into a
checkout of an *earlier commit* and measure that commit with the same scenarios in the same run.

``python -m assistant.draft_runner --data-dir DIR`` reads one scenario per line (JSON) on stdin and
prints one transcript per line (JSON) on stdout; ``run_scenario`` does the same in-process.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent


def _recording_chat(inner, calls: list):
    """A chat model that forwards to ``inner`` and records every call: messages, raw reply, times."""
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessageChunk
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    class RecordingChat(BaseChatModel):
        model_config = {"arbitrary_types_allowed": True}
        wrapped: Any = None

        @property
        def _llm_type(self) -> str:
            return "recording"

        def _record(self, messages, reply: str, t0: float, ttft: float | None, finish) -> None:
            calls.append({
                "messages": [{"role": getattr(m, "type", ""), "content": str(m.content)} for m in messages],
                "reply": reply, "seconds": round(time.perf_counter() - t0, 3),
                "ttft": None if ttft is None else round(ttft, 3), "finish_reason": finish,
            })

        def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
            t0 = time.perf_counter()
            msg = self.wrapped.invoke(messages, stop=stop, **kwargs)
            self._record(messages, str(msg.content), t0, None, (msg.response_metadata or {}).get("finish_reason"))
            return ChatResult(generations=[ChatGeneration(message=msg)])

        def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
            t0 = time.perf_counter()
            reply, ttft, finish = "", None, None
            stream = self.wrapped.stream(messages, stop=stop, **kwargs)
            try:
                for chunk in stream:
                    piece = chunk.content if isinstance(chunk.content, str) else ""
                    finish = (chunk.response_metadata or {}).get("finish_reason") or finish
                    if piece and ttft is None:
                        ttft = time.perf_counter() - t0
                    reply += piece
                    yield ChatGenerationChunk(message=AIMessageChunk(
                        content=piece, response_metadata=chunk.response_metadata or {}))
            finally:
                close = getattr(stream, "close", None)
                if close:
                    close()
                self._record(messages, reply, t0, ttft, finish)

    return RecordingChat(wrapped=inner)


def build(data_dir: Path, knowledge_dir: Path | None = None, calls: list | None = None):
    """Services over ``knowledge_dir`` (indexed into ``data_dir`` when stale) with a recording chat model."""
    from assistant.providers import make_chat_model
    from assistant.runtime import build_services
    from assistant.settings import Settings

    settings = Settings(_env_file=None, data_dir=Path(data_dir),
                        knowledge_dir=Path(knowledge_dir or ROOT / "knowledge" / "speeches"),
                        sessions_url=f"sqlite:///{Path(data_dir).resolve() / 'bench-sessions.sqlite3'}")
    calls = calls if calls is not None else []
    holder: dict = {}

    def factory():
        if "llm" not in holder:
            holder["llm"] = _recording_chat(make_chat_model(settings), calls)
        return holder["llm"]

    services = build_services(settings, llm_factory=factory)
    if services.kb.stale(settings.knowledge_dir):
        services.kb.ingest(settings.knowledge_dir)
    return services, calls


def _passage(p) -> dict:
    return {"id": getattr(p, "id", ""), "title": getattr(p, "title", ""), "source": getattr(p, "source", ""),
            "role": getattr(p, "role", ""), "text": getattr(p, "text", "")}


def _outline(session) -> dict | None:
    plan = getattr(session, "plan", None)
    if plan is not None and hasattr(plan, "outline_dict"):
        return plan.outline_dict()
    outline = getattr(session, "outline", None)
    if not outline:
        return None
    headings, items = outline
    return {"headings": {str(k): v for k, v in headings.items()}, "items": {str(k): list(v) for k, v in items.items()}}


def _brief(session) -> dict | None:
    brief = getattr(session, "brief", None)
    if brief is None:
        return None
    to_dict = getattr(brief, "to_dict", None)
    return to_dict() if to_dict else None


def prompt_templates(root: Path = ROOT) -> dict[str, str]:
    """The prompt files of the code under test (the echo judge looks for their fixed text in replies)."""
    folder = Path(root) / "prompts"
    out = {}
    for p in sorted(folder.glob("*")):
        if p.suffix in (".md", ".txt"):  # instructions; the .yaml tables hold sentences the code writes on purpose
            out[p.name] = p.read_text(encoding="utf-8")
    return out


def run_scenario(services, calls: list, scenario: dict, default_date: str = "") -> dict:
    """Every turn of ``scenario`` through a fresh session; returns the transcript."""
    session = services.new_session()
    day = scenario.get("date") or default_date
    if day:
        session.speech_date = date.fromisoformat(str(day))
        if hasattr(session, "set_speech_date"):
            session.set_speech_date(session.speech_date)
    attach = getattr(session, "attach_material", None)  # 会议材料; an earlier commit without them runs without
    for m in scenario.get("materials") or []:
        if attach is not None:
            attach(m.get("name") or "会议材料", m["text"])
    turns = []
    for turn in scenario["turns"]:
        before = dict(session.doc.sections)
        seen_before = set(getattr(session, "seen_passages", {}) or {})
        n_calls = len(calls)
        events, deltas, first_delta = [], 0, None
        t0 = time.perf_counter()
        for ev in session.turn(turn["say"]):
            if ev.kind == "delta":
                deltas += 1
                if first_delta is None:
                    first_delta = time.perf_counter() - t0
                continue
            events.append({"kind": ev.kind, "text": ev.text, "section": getattr(ev, "section", None)})
        seconds = time.perf_counter() - t0
        seen = getattr(session, "seen_passages", {}) or {}
        passages = {p.id: p for p in (getattr(session.last, "sources", None) or [])}
        passages.update({k: v for k, v in seen.items() if k not in seen_before})
        finals = [e for e in events if e["kind"] in ("message", "error")]
        turns.append({
            **turn,
            "events": events,
            "final": finals[-1]["text"] if finals else "",
            "error": bool(finals) and finals[-1]["kind"] == "error",
            "doc_before": before,
            "doc_after": dict(session.doc.sections),
            "outline": _outline(session),
            "brief": _brief(session),
            "calls": calls[n_calls:],
            "passages": [_passage(p) for p in passages.values()],
            "seconds": round(seconds, 3),
            "first_delta_s": None if first_delta is None else round(first_delta, 3),
            "deltas": deltas,
        })
    return {"id": scenario["id"], "scenario": scenario, "turns": turns}


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="run draft scenarios (JSON lines on stdin) through this checkout")
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--knowledge-dir")
    ap.add_argument("--date", default="")
    args = ap.parse_args(argv)
    services, calls = build(Path(args.data_dir), Path(args.knowledge_dir) if args.knowledge_dir else None)
    print(json.dumps({"ready": True, "root": str(ROOT), "prompts": prompt_templates()}, ensure_ascii=False), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        scenario = json.loads(line)
        try:
            out = run_scenario(services, calls, scenario, args.date)
        except Exception as exc:  # a crash in the code under test is a result, not the end of the benchmark
            import traceback

            out = {"id": scenario.get("id"), "scenario": scenario, "turns": [], "crash": traceback.format_exc(limit=8),
                   "crash_type": type(exc).__name__}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
