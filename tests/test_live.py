"""A turn runs to its end on the server when the page that started it goes away, and a page that comes back
finds the same live session (its own user's only)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from assistant.live import LiveSessions


def fake_session(sid: str, busy: bool = False):
    return SimpleNamespace(id=sid, busy=busy)


def test_a_turn_goes_on_when_its_page_stops_following():
    live = LiveSessions()
    s = fake_session("s1")
    done = threading.Event()
    written = []

    def turn():
        for k in range(5):
            time.sleep(0.02)
            written.append(k)
            yield f"第{k + 1}段"
        done.set()

    follow = live.run(s, turn())
    assert next(follow) == "第1段"
    follow.close()  # the page reloads: Gradio stops reading the handler
    assert done.wait(5), "the turn stopped with its page"
    assert written == [0, 1, 2, 3, 4]
    assert live.latest(s) == "第5段"  # what a page that comes back shows


def test_an_error_in_the_turn_reaches_the_page_following_it():
    live = LiveSessions()

    def turn():
        yield "开始"
        raise RuntimeError("模型出错")

    follow = live.run(fake_session("s2"), turn())
    assert next(follow) == "开始"
    try:
        next(follow)
    except RuntimeError as exc:
        assert "模型出错" in str(exc)
    else:
        raise AssertionError("the error was swallowed")


def test_a_session_is_found_by_its_own_user_only():
    live = LiveSessions()
    s = fake_session("abc")
    live.remember(s, "alice")
    assert live.find("abc", "alice") is s
    assert live.find("abc", "bob") is None and live.find("abc", "") is None and live.find(None, "alice") is None


def test_idle_sessions_are_let_go_but_never_one_with_a_running_turn():
    live = LiveSessions(keep=2)
    running = fake_session("running", busy=True)
    live.remember(running)
    for k in range(5):
        live.remember(fake_session(f"idle{k}"))
    assert live.find("running") is running
    assert live.find("idle4") is not None and live.find("idle0") is None


def test_a_session_kept_under_a_new_id_is_found_by_it():
    live = LiveSessions()
    s = fake_session("old")
    live.remember(s)
    s.id = "copy"  # saved as a copy: the store gave it a new id
    live.remember(s)
    assert live.find("copy") is s and live.find("old") is None
