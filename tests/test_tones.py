"""Tone presets as one data file (prompts/tones.yaml, assistant/tones.py): the buttons, the router and the prompts
read the same entries, so a preset's own label routes back to it and a button sends the preset itself."""

from __future__ import annotations

import pytest

from assistant import intent as intents
from assistant import tones
from assistant.session import PRESET_MESSAGES, STYLE_INSTRUCTIONS
from tests.test_session import final, make_session, run


def test_every_button_label_routes_back_to_its_own_preset():
    assert tones.buttons(), "no tone buttons"
    for t in tones.buttons():
        for said in (f"{t.label}一些", f"第二部分{t.label}一点", t.label):
            it = intents.route(said, has_document=True)
            assert (it.action, it.style) == ("refine", t.id), (said, it)


def test_more_vivid_is_its_own_preset_with_its_instruction():
    it = intents.route("更生动一些", has_document=True)
    assert it.style == "vivid"
    assert STYLE_INSTRUCTIONS["vivid"] == tones.instruction("vivid") and "生动" in tones.instruction("vivid")
    assert intents.route("写一段生动的结尾").style == "vivid"  # a drafting tone too


def test_the_file_is_the_one_table_of_presets():
    ids = [t.id for t in tones.load()]
    assert len(ids) == len(set(ids)) and "shorten" in ids
    assert dict(PRESET_MESSAGES) == {t.label: t.id for t in tones.buttons()}
    assert set(STYLE_INSTRUCTIONS) == set(ids)
    assert all(t.instruction for t in tones.load())


def test_a_preset_the_file_does_not_have_is_an_error():
    with pytest.raises(KeyError):
        intents.preset("no-such-tone")


@pytest.mark.parametrize("tone_id", [t.id for t in tones.buttons()])
def test_a_button_sends_its_preset_not_a_sentence(tone_id):
    """The session gets the intent: the refine prompt carries the preset's instruction, the version says which."""
    s = make_session()
    run(s, "写第二部分：围绕中心、服务大局")
    t = tones.tone(tone_id)
    ev = final(list(s.turn(t.label, intent=intents.preset(tone_id))))
    assert ev.kind == "message" and "已修改第二部分" in ev.text, ev.text
    asked = s._llm.prompts_named("refine")
    assert asked and all(t.instruction in p for p in asked)
    assert s.history.current.label == f"润色：{t.label}"
