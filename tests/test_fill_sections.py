"""Filling a blank changes only the blank: every section keeps its own text, whatever the parser would make of
the whole (seen in the benchmark: a closing without 「让我们」 was merged into part three by a fill)."""

from __future__ import annotations

from assistant.document import Document
from assistant.drafting import Drafter
from assistant.session import Session
from assistant.settings import Settings
from tests.fakes import scripted, speech_script

SECTIONS = {
    "opening": "各位代表，同志们：\n县文联第三次代表大会今天开幕了。",
    "transition": "刚才，XX同志代表县文联作了工作报告。下面，我讲三点意见。",
    "part1": "一、深刻认识文联工作的重要意义\n文艺事业是党和人民的重要事业。",
    "part3": "三、切实加强党对文联工作的领导\n各有关部门要为县文联开展工作创造良好条件。",
    "closing": "同志们，做好文联工作使命光荣、责任重大。希望大家坚持正确的政治方向，为文化繁荣贡献力量。",
}


def session_with(sections: dict) -> Session:
    s = Session(Drafter(Settings(), None, lambda: scripted(speech_script)))
    doc = Document()
    for k, v in sections.items():
        doc.set(k, v)
    s._commit(doc, "载入", None)
    return s


def test_a_fill_keeps_every_section_in_place():
    s = session_with(SECTIONS)
    list(s.turn("作工作报告的是刘晓燕同志"))
    assert s.doc.get("transition").startswith("刚才，刘晓燕同志代表县文联作了工作报告")
    for key in ("opening", "part1", "part3", "closing"):
        assert s.doc.get(key) == SECTIONS[key], key
    assert s.doc.keys() == ["opening", "transition", "part1", "part3", "closing"]


def test_changing_a_filled_value_keeps_every_section_in_place():
    s = session_with(SECTIONS)
    list(s.turn("作工作报告的是刘晓燕同志"))
    final = list(s.turn("不对，作工作报告的是王海涛同志"))[-1].text
    assert "刘晓燕" in final and "王海涛" in final, final
    assert s.doc.get("transition").startswith("刚才，王海涛同志代表县文联"), s.doc.get("transition")
    assert s.doc.get("closing") == SECTIONS["closing"]
    assert s.doc.keys() == ["opening", "transition", "part1", "part3", "closing"]
