"""Many users, one local model: requests wait their turn in the app's queue, the waiting user is told, a stop
button ends only its own user's turn, and the local server is started so that no request aborts another."""

from __future__ import annotations

import threading

import pytest
import time

from assistant.drafting import Drafter
from assistant.local_server import LocalModelServer
from assistant.model_gate import ModelGate
from assistant.session import Session
from assistant.settings import Settings
from tests.fakes import scripted, speech_script


class Slow:
    """The well-behaved fake, each call taking ``delay`` seconds; counts calls running at once."""

    def __init__(self, delay: float):
        self.delay, self.now, self.most = delay, 0, 0
        self.lock = threading.Lock()

    def __call__(self, prompt: str) -> str:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.delay)
        with self.lock:
            self.now -= 1
        return speech_script(prompt)


def two_sessions(script):
    llm = scripted(script)
    drafter = Drafter(Settings(chat_provider="local"), None, lambda: llm, gate=ModelGate(1, poll_s=0.05))
    return Session(drafter), Session(drafter)


def in_thread(events: dict, name: str, session: Session, message: str) -> threading.Thread:
    """Start ``session.turn(message)`` in a thread; its events land in ``events[name]``."""
    t = threading.Thread(target=lambda: events.__setitem__(name, list(session.turn(message))))
    t.start()
    return t


def test_two_users_share_one_model_one_call_at_a_time_and_the_second_is_told_it_waits():
    slow = Slow(0.3)
    a, b = two_sessions(slow)
    events = {}
    ta = in_thread(events, "a", a, "为区妇联第四次代表大会写开场白")
    time.sleep(0.1)
    events["b"] = list(b.turn("为县科协第五次代表大会写开场白"))
    ta.join(30)
    assert slow.most == 1, "the local model got two requests at once"
    assert a.doc.get("opening") and b.doc.get("opening")
    assert "妇联" in a.doc.get("opening") and "科协" in b.doc.get("opening")  # each its own text
    waits = [e.text for e in events["b"] + events["a"] if e.kind == "status" and "排队中" in e.text]
    assert waits and "前面还有" in waits[0]


def test_stop_ends_only_the_users_own_turn_and_keeps_what_was_written():
    slow = Slow(0.2)
    a, b = two_sessions(slow)
    got = {}
    ta = in_thread(got, "a", a, "为区妇联第四次代表大会按提纲写全文")
    tb = in_thread(got, "b", b, "为县科协第五次代表大会写开场白")
    deadline = time.monotonic() + 20
    while not a.doc.get("opening") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert a.cancel() is True
    ta.join(30), tb.join(30)
    final_a = got["a"][-1].text
    assert "已停止" in final_a
    assert a.doc.get("opening") and not a.doc.get("closing")  # what was accepted stays; the rest was not written
    assert b.doc.get("opening") and got["b"][-1].kind == "message" and "已停止" not in got["b"][-1].text
    assert b.cancel() is False  # nothing running any more


def test_the_local_server_never_aborts_a_running_request_for_a_new_one(tmp_path):
    cmd = LocalModelServer(tmp_path / "m.gguf", port=1).command()
    assert cmd[cmd.index("--interrupt_requests") + 1] == "False"
    assert "--draft_model" not in cmd  # prompt lookup stays off unless asked for
    cmd = LocalModelServer(tmp_path / "m.gguf", port=1, lookup_tokens=10).command()
    assert cmd[cmd.index("--draft_model") + 1] == "prompt-lookup-decoding"


@pytest.mark.slow
def test_on_the_real_local_model_two_sessions_complete_and_an_emoji_elsewhere_breaks_neither():
    """The bug report's case on the real model: tab B sends 「🎉🎉👍🙏」 (a model classification) while tabs A and C
    draft; nothing is aborted, each speech gets its own opening."""
    from assistant.model_files import ensure_default_gguf
    from assistant.model_gate import ModelGate
    from assistant.providers import make_chat_model, stop_local_server

    settings = Settings(chat_provider="local")
    ensure_default_gguf(settings)
    drafter = Drafter(settings, None, lambda: make_chat_model(settings), gate=ModelGate(1))
    a, b, c = Session(drafter), Session(drafter), Session(drafter)
    got: dict = {}
    try:
        ta = in_thread(got, "a", a, "为区妇联第四次代表大会写开场白")
        tc = in_thread(got, "c", c, "为县科协第五次代表大会写开场白")
        deadline = time.monotonic() + 600
        while not drafter.gate.running and time.monotonic() < deadline:
            time.sleep(0.2)  # until the model is writing for A or C
        got["b"] = list(b.turn("🎉🎉👍🙏"))
        ta.join(900), tc.join(900)
    finally:
        stop_local_server()
    for key, session, org in (("a", a, "妇联"), ("c", c, "科协")):
        errors = [e.text for e in got[key] if e.kind == "error"]
        assert not errors, errors
        assert "已起草开场白" in got[key][-1].text
        assert org in session.doc.get("opening")
    assert "科协" not in a.doc.get("opening") and "妇联" not in c.doc.get("opening")
    assert got["b"][-1].kind == "message" and b.doc.is_empty  # the emoji got an answer and drafted nothing
