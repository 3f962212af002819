"""The no-invention guard: facts nobody gave become blanks — whole words only, never part of one.

A model reply may carry a name, a date, a number, a plan name or a place it took from a past speech.
:func:`guard` turns each into a blank (张三同志 → XX同志, 2025年 → 20XX年, 青川区 → XX区), drops a festival
wish the occasion does not call for, and replaces outdated wording by its current form where the terms
file gives a drop-in replacement.  Every candidate is checked against the reply's own word boundaries
(jieba): a blank may replace a word, never the inside of one, so 「全面发展的新起点」 and 「我要代表区委」
survive whatever past speech mentioned 「发展的县」 or 「代表区」.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from . import placeholders

_ADMIN = re.compile(r"([\u4e00-\u9fff]{2})(区|县|市|镇|乡)")
_GENERIC_PLACE = set("全区 全县 全市 全镇 全乡 我区 我县 我市 本区 本县 本市 该区 各区 各县 各市 城区 市区 社区 园区 景区 "
                     "辖区 地区 片区 山区 郊区 新区 老区 街区 校区 矿区 灾区 库区 牧区 集镇 城镇 乡镇 村镇 城市 都市 "
                     "开发区 示范区 试验区 功能区 城乡 县乡 镇乡 省市 市县 区县 县市".split())
COMMON_WORD_FREQ = 200  # jieba counts: a place stem rarer than this is a name (青川 12, 云岭 60, 昌平 171), not a word (科教 302, 新城 824)

FESTIVALS = {  # a festival word → the words a user would use to name that occasion (the judge uses the same table)
    "春节": ("春节", "新春", "团拜", "拜年", "过年"), "新春": ("春节", "新春", "团拜", "拜年"),
    "拜年": ("春节", "新春", "团拜", "拜年"), "元旦": ("元旦", "新年"), "元宵": ("元宵",), "端午": ("端午",),
    "中秋": ("中秋",), "重阳": ("重阳", "敬老"), "国庆": ("国庆",), "五一": ("五一", "劳动节"),
    "劳动节": ("五一", "劳动节"), "五四": ("五四", "青年节"), "青年节": ("五四", "青年节"), "三八": ("三八", "妇女节"),
    "妇女节": ("三八", "妇女节"), "教师节": ("教师节",), "护士节": ("护士节",), "记者节": ("记者节",),
    "丰收节": ("丰收节",), "儿童节": ("六一", "儿童节"), "建军节": ("八一", "建军"), "节日快乐": ("节",),
}
_SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]?[”’」』）)]?")


def unnamed_festivals(text: str, allowed: str) -> list[str]:
    """Festival words in ``text`` for an occasion the user did not name: 春节 in a 丰收节 speech is as much an
    invented fact as a name; a plain 节日快乐 fits any festival the user named."""
    named = any(n in allowed for names in FESTIVALS.values() for n in names if n != "节")
    out = []
    for word, names in FESTIVALS.items():
        if word not in text or (named if word == "节日快乐" else any(n in allowed for n in names)):
            continue
        out.append(word)
    return out


_NUM = "一二三四五六七八九十两百千零〇"
_SPELLED = [
    (re.compile(rf"第[{_NUM}]+(次|届)"), lambda m: f"第X{m.group(1)}"),  # 第十二次党代会, 第一次来到: facts too
    (re.compile(rf"[{_NUM}]+(?:万|亿)(?:多|余)?(元|人次|人|名|户|亩|吨|平方米|册|件|个|家)"), lambda m: f"X万{m.group(1)}"),
    (re.compile(r"[〇零一二三四五六七八九○]{4}年"), lambda m: "20XX年"),
]


@dataclass
class Guarded:
    text: str
    notes: list[str] = field(default_factory=list)
    blanked: list[str] = field(default_factory=list)  # what was turned into a blank, as written by the model


@lru_cache(maxsize=1)
def _jieba():
    from .keyword import _ensure_jieba

    return _ensure_jieba(None)


@lru_cache(maxsize=512)
def boundaries(text: str) -> tuple[frozenset[int], frozenset[int]]:
    """(word starts, word ends) of ``text`` by jieba; the ends of the text count as both."""
    starts, ends, pos = {0, len(text)}, {0, len(text)}, 0
    for w in _jieba().cut(text):
        starts.add(pos)
        pos += len(w)
        ends.add(pos)
    return frozenset(starts), frozenset(ends)


def whole_words(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` begins and ends on word boundaries."""
    starts, ends = boundaries(text)
    return start in starts and end in ends


def word_freq(word: str) -> int:
    return _jieba().dt.FREQ.get(word) or 0


@lru_cache(maxsize=1024)
def _places_in(text: str) -> frozenset[str]:
    names = set()
    for m in _ADMIN.finditer(text):
        name, stem = m.group(0), m.group(1)
        if (name in _GENERIC_PLACE or stem[-1] in "全各本该我每" or stem[-1] + m.group(2) in _GENERIC_PLACE
                or word_freq(stem) >= COMMON_WORD_FREQ  # 确保区科协, 推动区域: a common word before 区 names no place
                or re.match(r"域|级|委|情|长|场|民|属|直", text[m.end() : m.end() + 1])
                or not whole_words(text, m.start(), m.end())):
            continue  # 发展型城区, 做强县域: the 区/县 of another word
        names.add(name)
    return frozenset(names)


def foreign_places(texts) -> set[str]:
    """Place names (青川区, 云岭县) of past speeches: whole words there, so 「代表区委」 names no 代表区."""
    out: set[str] = set()
    for t in texts:
        out |= _places_in(t)
    return out


def place_stems(names: set[str]) -> set[str]:
    """The bare names (青川区 → 青川) used alone (美丽青川), unless the stem is a common word (新城, 东方)."""
    return {n[:-1] for n in names if len(n) == 3 and word_freq(n[:-1]) < COMMON_WORD_FREQ}


def _replace_words(text: str, word: str, blank: str) -> tuple[str, int]:
    """Replace every whole-word occurrence of ``word``; a match inside a longer word is left alone."""
    out, pos, n = [], 0, 0
    for m in re.finditer(re.escape(word), text):
        if whole_words(text, m.start(), m.end()):
            out += [text[pos : m.start()], blank]
            pos = m.end()
            n += 1
    out.append(text[pos:])
    return "".join(out), n


def drop_festival_wishes(text: str, allowed: str) -> tuple[str, list[str]]:
    """A festival the user did not name: its wish in a list of wishes (祝大家春节快乐、工作顺利) goes and the list
    stays; another sentence on it (值此中秋佳节之际……) goes too while the text has other sentences.  A reply that is
    only that sentence (祝大家中秋快乐！) is left for the user to judge.  Returns (text, what was dropped)."""
    words = unnamed_festivals(text, allowed)
    if not words:
        return text, []
    fest = "(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + ")"
    wish = fest + r"(?:快乐|安康|愉快|吉祥)?" if "节日快乐" in words else fest + r"(?:节)?(?:快乐|安康|愉快|吉祥)"
    found = re.findall(wish + r"(?=、)|(?<=、)" + wish, text)
    text = re.sub("、" + wish + r"(?=[、！。，])", "", re.sub(wish + "、", "", text))
    sentences = [m.group(0) for m in _SENTENCE.finditer(text)]
    bad = [s for s in sentences if re.search(fest, s)]
    if bad and len(bad) < len([s for s in sentences if s.strip()]):
        found += [re.search(fest, s).group(0) for s in bad]
        text = "".join(s for s in sentences if s not in bad)
    return text, found


def current_wording(text: str, speech_date: date | None, terms) -> tuple[str, list[str]]:
    """Outdated wording replaced where the terms file gives a drop-in ``replace`` (又好又快 → 高质量)."""
    if not terms or speech_date is None:
        return text, []
    from .terms import check_terms

    done = []
    for w in sorted(check_terms(text, speech_date, terms), key=lambda w: -w.offset):
        new = getattr(w, "replace", "") or ""
        if not new or text[w.offset : w.end] != w.term:
            continue
        text = text[: w.offset] + new + text[w.end :]
        done.append(f"{w.term}→{new}")
    return text, done[::-1]


def guard(text: str, allowed: str, passages=(), *, speech_date: date | None = None, terms=None) -> Guarded:
    """Blank out what nobody gave; see the module docstring."""
    out = Guarded(text)
    inventions = [i for i in placeholders.find_invented(text, allowed) if whole_words(text, i.start, i.end)
                  or re.match(r"\d", i.text)]
    if inventions:
        out.text = placeholders.blank_out(out.text, inventions)
        out.blanked += [i.text for i in inventions]
        shown = "、".join(dict.fromkeys(i.text for i in inventions[:5]))
        out.notes.append(f"模型写入了您没有提供的信息（{shown}），已改成待填空白")
    # any other number nobody gave (“135”行动计划, 3个): numbers are facts
    flat = re.sub(r"\s", "", allowed)
    given = set(re.findall(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])", flat))  # whole numbers: 2027年 gives no 20
    numbers = [m for m in re.finditer(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])", out.text) if m.group(0) not in given]
    if numbers:
        for m in reversed(numbers):
            out.text = out.text[: m.start()] + "X" + out.text[m.end() :]
        out.blanked += [m.group(0) for m in numbers]
        if not inventions:
            out.notes.append(f"模型写入了您没有提供的数字（{'、'.join(dict.fromkeys(m.group(0) for m in numbers[:5]))}），已改成待填空白")
    # numbers written in characters: 省第十二次党代会, 三万名, 二〇二五年 — as much a fact as 12 or 2025
    spelled = []
    for rx, blank in _SPELLED:
        for m in reversed(list(rx.finditer(out.text))):
            if m.group(0) in flat:
                continue
            out.text = out.text[: m.start()] + blank(m) + out.text[m.end() :]
            spelled.append(m.group(0))
    if spelled:
        out.blanked += spelled
        out.notes.append(f"模型写入了您没有提供的序数或数字（{'、'.join(dict.fromkeys(spelled[::-1][:5]))}），已改成待填空白")
    texts = []
    for p in passages:
        texts += [getattr(p, "title", ""), getattr(p, "occasion", ""), getattr(p, "text", "")]
    places = foreign_places(texts)
    copied = []
    for name in sorted(places, key=len, reverse=True):
        if name in allowed:
            continue
        out.text, n = _replace_words(out.text, name, "XX" + name[-1])
        if n:
            copied.append(name)
    for stem in sorted(place_stems(places)):
        if stem in allowed:
            continue
        out.text, n = _replace_words(out.text, stem, "XX")
        if n:
            copied.append(stem)
    if copied:
        out.blanked += copied
        out.notes.append(f"模型沿用了往年讲话里的地名（{'、'.join(copied)}），已改成待填空白")
    out.text, wishes = drop_festival_wishes(out.text, allowed)
    if wishes:
        out.notes.append(f"已删去与本次场合无关的节日祝福（{'、'.join(dict.fromkeys(wishes))}）")
    out.text, fixed = current_wording(out.text, speech_date, terms)
    if fixed:
        out.notes.append(f"已按讲话日期改用现行提法（{'；'.join(fixed)}）")
    return out
