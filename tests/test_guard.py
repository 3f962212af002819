"""The no-invention guard on whole words: invented facts become blanks, ordinary words never lose characters.

The replies below are the raw model replies of a real bug report: an older guard turned
「全面发展的新起点」 into 「全面发XX新起点」, 「科技事业的繁荣」 into 「科技事XX繁荣」 and 「我要代表区委」 into
「我要XX区委」, because the past speeches it had retrieved held 「发展的县」「事业的市」「代表区」 and it took every
「两个字 + 区/县/市」 for a place name.
"""

from __future__ import annotations

import re

import pytest

from assistant import guard as guards
from assistant.guard import guard
from assistant.retrieval import Passage


def passage(title: str, occasion: str, text: str, n: int = 0) -> Passage:
    return Passage(id=f"p{n}", text=text, source=f"{n:03d}.txt", title=title, role="opening", part=0, heading="",
                   score=1.0, occasion=occasion)


# past speeches about other places; their texts hold the strings that fooled the older guard
PASSAGES = [
    passage("在青川区科协第四次代表大会上的讲话", "青川区科学技术协会第四次代表大会",
            "在此，我代表区委、区政府，向大会的召开表示热烈的祝贺！近年来，青川区科技事业的市场化、社会化水平不断提高。", 1),
    passage("在云岭县教育工作会议上的讲话", "云岭县教育工作会议",
            "要把云岭县建设成为教育全面发展的县域样板，让美丽云岭处处书声琅琅。", 2),
]
ALLOWED = "为丰林区科协第五次代表大会写讲话提纲，我是区长"

# the raw replies of the bug report
FAZHAN = "这次大会是全区科协事业全面发展的新起点。"
FANRONG = "科技事业的繁荣离不开广大科技工作者的辛勤付出。"
DAIBIAO = "我要代表区委、区政府，向大会的召开表示热烈的祝贺！"
BUG_REPORT = [FAZHAN, FANRONG, DAIBIAO]
CORRUPTED = ["全面发XX新起点", "科技事XX繁荣", "我要XX区委"]  # what the older guard made of them


def _texts(passages) -> list[str]:
    return [t for p in passages for t in (p.title, p.occasion, p.text)]


def test_the_past_speeches_hold_the_strings_that_fooled_the_older_guard():
    """The trap is really there: a bare 「两个字 + 区/县/市」 scan of these passages finds 展的县, 业的市 and 代表区."""
    naive = {m.group(0) for t in _texts(PASSAGES) for m in guards._ADMIN.finditer(t)}
    assert {"展的县", "业的市", "代表区"} <= naive
    # the guard keeps only the whole words: the two real places
    assert guards.foreign_places(_texts(PASSAGES)) == {"青川区", "云岭县"}
    assert guards.place_stems({"青川区", "云岭县"}) == {"青川", "云岭"}


@pytest.mark.parametrize("reply", BUG_REPORT)
def test_the_bug_report_replies_survive_the_guard_unchanged(reply):
    g = guard(reply, ALLOWED, PASSAGES)
    assert g.text == reply
    assert g.blanked == [] and g.notes == []
    assert not any(c in g.text for c in CORRUPTED)


def test_the_bug_report_reply_as_one_paragraph_survives():
    reply = "".join(BUG_REPORT)
    assert guard(reply, ALLOWED, PASSAGES).text == reply


def test_a_blank_is_never_put_inside_a_word():
    """「代表区」 inside 「我要代表区委」 is not a whole word; 「青川区」 in 「向青川区学习」 is."""
    assert not guards.whole_words(DAIBIAO, DAIBIAO.index("代表区"), DAIBIAO.index("代表区") + 3)
    start = FAZHAN.index("展的")
    assert not guards.whole_words(FAZHAN, start, start + 2)
    text = "全区科技工作者要向青川区学习。"
    assert guards.whole_words(text, text.index("青川区"), text.index("青川区") + 3)


def test_even_a_past_speech_where_daibiaoqu_is_a_whole_word_does_not_break_daibiao_quwei():
    """Should a past speech's own word boundaries make 「代表区」 a place, the reply's 「代表区委」 still survives."""
    odd = passage("往年讲话", "往年会议", "要为代表区委员会的同志们做好服务。", 3)
    assert "代表区" not in guards.foreign_places(_texts([odd]))  # 区委: the 区 of another word, not a name's end
    odd2 = passage("往年讲话", "往年会议", "代表区的同志们。", 3)
    for p in (odd, odd2):
        assert guard(DAIBIAO, ALLOWED, [p]).text == DAIBIAO


INVENTED = ("张建国同志作了工作报告，全区1200名科技工作者参加了活动。"
            "青川区的经验值得借鉴，美丽云岭也在加快发展。祝大家节日快乐、工作顺利！")


def test_invented_facts_in_the_same_reply_are_blanked_and_the_words_around_them_stay():
    reply = "".join(BUG_REPORT) + INVENTED
    g = guard(reply, ALLOWED, PASSAGES)
    out = g.text
    # the bug report's words are untouched
    for words in BUG_REPORT:
        assert words in out
    assert not any(c in out for c in CORRUPTED)
    # a person's name nobody gave → a blank before 同志, the sentence around it intact
    assert "张建国" not in out and "XX同志作了工作报告" in out
    # a number nobody gave → a blank, the unit and the words after it intact
    assert "1200" not in out and "名科技工作者参加了活动" in out
    # a past speech's place (and its bare name) → a blank, the rest of the sentence intact
    assert "青川" not in out and "XX区的经验值得借鉴" in out
    assert "云岭" not in out and "美丽XX也在加快发展" in out
    # a festival wish when no festival was given → dropped, the other wish stays
    assert "节日快乐" not in out and "祝大家工作顺利！" in out
    assert set(g.blanked) >= {"张建国", "1200名", "青川区", "云岭"}
    notes = "\n".join(g.notes)
    assert "张建国" in notes and "青川区" in notes and "节日快乐" in notes


def test_facts_the_user_gave_are_kept():
    allowed = ALLOWED + "\n作工作报告的是张建国同志，全区有1200名科技工作者，要学习青川区的经验"
    reply = "".join(BUG_REPORT) + INVENTED
    out = guard(reply, allowed, PASSAGES).text
    assert "张建国同志作了工作报告" in out
    assert "全区1200名科技工作者" in out
    assert "青川区的经验值得借鉴" in out
    assert "美丽XX" in out  # 云岭 was still nobody's
    for words in BUG_REPORT:
        assert words in out


def test_the_users_own_place_is_not_a_foreign_place():
    """The user's 丰林区 stays even when a past speech happened to be about 丰林区 too."""
    past = passage("在丰林区科技工作会议上的讲话", "丰林区科技工作会议", "丰林区科技工作取得新成效。", 4)
    reply = "近年来，丰林区科技工作取得了长足进步。"
    assert guard(reply, ALLOWED, [past]).text == reply


def test_a_festival_wish_stays_when_the_user_named_the_festival():
    reply = "祝大家新春快乐、工作顺利！"
    assert guard(reply, "在区委春节团拜会上的讲话", PASSAGES).text == reply


def test_a_lone_festival_wish_is_left_for_the_user():
    reply = "祝大家中秋快乐！"
    assert guard(reply, ALLOWED, PASSAGES).text == reply


def test_a_wish_in_the_middle_of_a_list_goes_and_the_list_stays():
    out = guard("各位代表，同志们，祝大家节日快乐、工作顺利、阖家幸福！", ALLOWED, PASSAGES).text
    assert out == "各位代表，同志们，祝大家工作顺利、阖家幸福！"


def test_a_common_word_that_looks_like_a_place_stem_is_not_blanked():
    """新城区 is a past place, but 新城 alone is an ordinary word (frequent in jieba's dictionary)."""
    past = passage("在新城区工作会议上的讲话", "新城区工作会议", "新城区各项工作扎实推进。", 5)
    assert "新城" not in guards.place_stems(guards.foreign_places(_texts([past])))
    reply = "要加快推进新城建设，完善配套设施。"
    assert guard(reply, ALLOWED, [past]).text == reply


def test_no_blank_lands_inside_an_ordinary_word_across_a_longer_reply():
    """Every blank the guard writes stands where the reply had a whole word (or a number)."""
    reply = "".join(BUG_REPORT) + INVENTED + "要代表全区科技工作者发出倡议，推动科技事业的发展迈上新台阶。"
    out = guard(reply, ALLOWED, PASSAGES).text
    # between the blanks, the text is the reply's own text: nothing around a blank lost a character
    for piece in re.split(r"X+", out):
        if piece:
            assert piece in reply or piece in reply.replace("节日快乐、", ""), piece
    assert "要代表全区科技工作者发出倡议" in out and "推动科技事业的发展迈上新台阶" in out


def test_a_festival_other_than_the_one_named_goes_from_a_festival_speech():
    """丰收节 named by the user does not let 春节 in: a wish for it goes from the list, a sentence on it goes."""
    allowed = "为农民丰收节庆祝活动写致辞，我是县长"
    reply = "金秋时节，我们迎来了丰收节。值此春节来临之际，向大家拜个早年。祝大家春节快乐、身体健康！"
    g = guard(reply, allowed, PASSAGES)
    assert "丰收节" in g.text and "春节" not in g.text and "拜个早年" not in g.text
    assert "祝大家身体健康！" in g.text
    assert any("节日祝福" in n and "春节" in n for n in g.notes)


def test_an_ordinal_nobody_gave_is_a_blank_wherever_it_stands():
    g = guard("这是我第一次参加科协的会议。", ALLOWED, PASSAGES)
    assert g.text == "这是我第X次参加科协的会议。" and "第一次" in g.blanked
    # the meeting's own ordinal, given by the user, stays
    assert guard("第五次代表大会胜利召开。", "区科协第五次代表大会", PASSAGES).text == "第五次代表大会胜利召开。"


def test_a_common_word_before_a_district_is_no_place_name():
    """「确保区科协……」: 确保 + 区 in a past speech is no district called 确保区 — 确保 must survive in the draft."""
    past = passage("在区科协会议上的讲话", "区科协会议", "要健全工作机制，确保区科协各项工作落到实处。", 3)
    reply = "要健全工作机制，确保区科协能够有效发挥作用。"
    assert guard(reply, ALLOWED, [past]).text == reply


def test_a_number_inside_a_given_number_is_not_given():
    """The speech's year 2027 gives no 「20」: 「集团成立20周年」 is still a fact nobody gave."""
    g = guard("今年是集团成立20周年。", "瑞丰集团年会，我是董事长\n2027年", PASSAGES)
    assert "20周年" not in g.text and "X周年" in g.text
    assert guard("2027年，我们再出发。", "瑞丰集团年会\n2027年", PASSAGES).text == "2027年，我们再出发。"
