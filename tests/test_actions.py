"""The session's table of actions (assistant/actions/): every action an intent can name has one function there,
taking (session, intent, message, selection), and a button's intent is carried out through it."""

from __future__ import annotations

import inspect
from typing import get_args

from assistant import intent as intents
from assistant.actions import ACTIONS
from assistant.drafting import Drafter
from assistant.session import Event, Session
from assistant.settings import Settings
from tests.fakes import scripted, speech_script


def test_every_intent_action_has_a_function_in_the_table():
    assert set(ACTIONS) == set(get_args(intents.Action))
    for name, fn in ACTIONS.items():
        assert list(inspect.signature(fn).parameters)[:4] == ["session", "it", "message", "selection"], name


def test_a_button_intent_goes_through_the_table(monkeypatch):
    llm = scripted(speech_script)
    s = Session(Drafter(Settings(), None, lambda: llm))
    seen = []

    def fake(session, it, message, selection):
        seen.append((session, it.action, message, selection))
        yield Event("message", "done")

    monkeypatch.setitem(ACTIONS, "help", fake)
    events = list(s.turn("帮助", intent=intents.Intent("help")))
    assert [e.text for e in events] == ["done"]
    assert seen == [(s, "help", "帮助", None)]
