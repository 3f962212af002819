"""Model-free judges of a drafted turn: what a speechwriter would reject, checked by code.

Each judge looks at the text a turn produced (the section it drafted or refined, the outline, the whole
speech) together with what the user said so far, the model's raw replies and the passages retrieved,
and returns :class:`Verdict`\\ s.  Judges do not call the product's own repair or guard code for their
decisions (they would then approve whatever the product does); they share only the terms file, which
is the project's statement of current wording.

Judges: ``echo`` (prompt template or empty items in the reply), ``topic`` (the occasion and the
part's subject), ``wording`` (current 提法 for the speech date), ``invented`` (people, places, numbers,
dates, plan names, meeting ordinals and festivals nobody gave), ``corruption`` (a blank that replaced
characters inside an ordinary word of the raw reply), ``copy`` (longest verbatim run from a retrieved
passage), ``repetition``, ``structure``, ``length`` (±20 % of a length the user asked for),
``register`` (salutations that fit the speaker and the meeting), ``grounded`` (the facts of the meeting's
materials a turn must keep, ``keeps``) and ``fill``.  A scenario's ``materials`` (the work report it
attaches) count as given, like the user's messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Iterable

from .guard import FESTIVALS as guard_festivals

JUDGES = ("echo", "topic", "wording", "invented", "corruption", "copy", "repetition", "structure", "length",
          "register", "grounded", "fill")
COPY_LIMIT = 30  # characters: a longer run copied verbatim from a past speech fails
LENGTH_TOLERANCE = 0.2
REPEAT_MIN = 12  # characters: the same run twice in one section is a loop, not parallelism

CJK = "\u4e00-\u9fff"
SECTION_ORDER = ("opening", "transition", "part1", "part2", "part3", "part4", "part5", "closing")
NUMERALS = "一二三四五六七八九十"


@dataclass
class Verdict:
    judge: str
    ok: bool
    detail: str = ""
    example: str = ""
    figure: float | None = None  # e.g. the longest copied run, for the summary


@dataclass
class Context:
    """What the judges know about the scenario at this turn."""

    scenario: dict
    said: list[str]  # the user's messages so far (this one included)
    speech_date: date
    passages: list[str] = field(default_factory=list)  # every passage retrieved so far in the scenario
    passage_titles: list[str] = field(default_factory=list)
    prompt_texts: list[str] = field(default_factory=list)  # the prompt files of the code under test
    terms: list | None = None

    @property
    def allowed(self) -> str:
        return "\n".join(self.said + [m.get("text", "") for m in self.scenario.get("materials") or []])


# --------------------------------------------------------------------------- text helpers


def chars(text: str) -> int:
    return len(re.sub(r"\s", "", text))


def lines_of(text: str) -> list[str]:
    return [l.strip() for l in (text or "").split("\n") if l.strip()]


_HEADING = re.compile(rf"^([{NUMERALS}]{{1,3}})、(.*)$")
_ITEM = re.compile(rf"^([{NUMERALS}]{{1,3}})是")
_BLANK = re.compile(r"[XＸ]{2,}|(?<=[\u4e00-\u9fff])[XＸ]|[XＸ](?=[\u4e00-\u9fff])|[_＿]+|某某|【[^】\n]{0,20}】|[（(]待[补填定][^）)]{0,8}[）)]|○○|□□")


def headings(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2).strip()) for l in lines_of(text) if (m := _HEADING.match(l))]


def items(text: str) -> list[str]:
    return [m.group(1) for l in lines_of(text) if (m := _ITEM.match(l))]


def cn(n: int) -> str:
    return NUMERALS[n - 1] if 1 <= n <= 10 else str(n)


@lru_cache(maxsize=1)
def _jieba():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    return jieba


def tokens(text: str) -> list[tuple[str, str, int]]:
    """(word, POS flag, start) with jieba.posseg."""
    jb = _jieba()
    out, pos = [], 0
    for pair in jb.posseg.cut(text):
        out.append((pair.word, pair.flag, pos))
        pos += len(pair.word)
    return out


def word_freq(word: str) -> int:
    return _jieba().dt.FREQ.get(word) or 0


# --------------------------------------------------------------------------- echo

_INSTRUCTION_BRACKET = re.compile(r"[（(【\[][^）)】\]\n]{0,40}?(?:标题|部分|内容|此处|要求|写明|讲意义|讲任务|讲保障|讲重点|待定|示例|格式)[^）)】\]\n]{0,40}?[）)】\]]")
_EMPTY_ITEM = re.compile(rf"^(?:[{NUMERALS}]{{1,3}}是|[{NUMERALS}]{{1,3}}、|第[{NUMERALS}]{{1,3}}[，,、]|[（(][{NUMERALS}]{{1,3}}[）)])\s*[…．.。，,；;：:XＸ_＿\s]*$")


def template_fragments(prompt_texts: Iterable[str], min_len: int = 10) -> list[str]:
    """Fixed text of the prompt files: runs of ``min_len``+ characters between variables and line breaks."""
    out = set()
    for text in prompt_texts:
        text = re.sub(r"\{\{?[^{}\n]*\}?\}", "\n", text)  # {variables} / {{ jinja }}
        for piece in re.split(r"[\n“”\"「」：:（）()]", text):
            piece = piece.strip(" \t-#*0123456789.、，。；")
            if len(piece) >= min_len:
                out.add(piece)
    return sorted(out, key=len, reverse=True)


def judge_echo(text: str, ctx: Context) -> Verdict:
    for line in lines_of(text):
        if _EMPTY_ITEM.match(line):
            return Verdict("echo", False, "条目或标题没有内容", line)
        m = _INSTRUCTION_BRACKET.search(line)
        if m:
            return Verdict("echo", False, "回复里是提示词的括号说明", m.group(0))
    flat = re.sub(r"\s", "", text)
    for frag in template_fragments(ctx.prompt_texts):
        f = re.sub(r"\s", "", frag)
        if len(f) >= 10 and f in flat and f not in ctx.allowed:
            return Verdict("echo", False, "回复照抄了提示词", frag)
    return Verdict("echo", True)


# --------------------------------------------------------------------------- topic

# organisations and programmes of the sample speeches and of other scenarios: a draft for one occasion that names
# another's is off topic (unless the user named it)
FOREIGN_WORDS = ("工会", "妇联", "共青团", "团委", "劳模", "统战", "统一战线", "国资国企", "老干部", "文明城市", "防汛抗旱",
                 "科协", "残联", "侨联", "文联", "红十字会", "关工委", "老年大学", "乡村振兴", "营商环境", "民营经济")
_GENERIC_HEADING_WORDS = set("工作 推动 推进 加强 深化 切实 全面 坚持 持续 进一步 扎实 不断 新 高质量 发展 事业 重要 意义 "
                             "认识 深刻 任务 重点 领导 保障 提供 坚强 有力 奋力 开创 新局面 大局 中心 围绕 服务 着力 "
                             "聚焦 全力 努力 积极 各项 提高 提升 做好 抓好 确保 实现 形成 建设 强化 新时代 新征程".split())


def org_words(scenario: dict) -> list[str]:
    """The organisation's short names: 丰林区科协 → 丰林区科协, 科协."""
    org = scenario.get("organisation", "")
    out = [org] if org else []
    m = re.match(rf"^[{CJK}]{{1,4}}?(?:省|市|区|县|镇|乡|街道)(.+)$", org)
    if m and len(m.group(1)) >= 2:
        out.append(m.group(1))
    return out


def topic_words(scenario: dict) -> list[str]:
    return [w for w in list(scenario.get("topic", [])) + org_words(scenario) if w]


def _foreign_in(text: str, ctx: Context) -> list[str]:
    own = " ".join([ctx.allowed, ctx.scenario.get("occasion", ""), " ".join(topic_words(ctx.scenario))])
    return [w for w in FOREIGN_WORDS if w in text and w not in own]


def judge_topic(text: str, ctx: Context, kind: str, section: str = "") -> Verdict:
    foreign = _foreign_in(text, ctx)
    if foreign:
        return Verdict("topic", False, f"出现别的会议的内容：{'、'.join(foreign)}", _around(text, foreign[0]))
    words = topic_words(ctx.scenario)
    if kind == "outline":
        hs = [h for _, h in headings(text)]
        if hs and not any(any(w in h for w in words) for h in hs):
            return Verdict("topic", False, "三个标题都没有点到本次会议的主题", " / ".join(hs))
        return Verdict("topic", True)
    if section == "transition" or chars(text) < 60:
        return Verdict("topic", True)
    if not any(w in text for w in words):
        return Verdict("topic", False, f"没有提到{'、'.join(words[:4])}中的任何一个", text[:80])
    if section.startswith("part"):
        hs = headings(text)
        body = "\n".join(l for l in lines_of(text) if not _HEADING.match(l))
        if hs:
            content = [w for w, _, _ in tokens(hs[0][1]) if len(w) >= 2 and w not in _GENERIC_HEADING_WORDS
                       and re.match(f"^[{CJK}]+$", w)]
            if content and not any(w in body for w in content):
                return Verdict("topic", False, f"正文没有围绕标题“{hs[0][1]}”展开", body[:80])
    return Verdict("topic", True)


def _around(text: str, word: str, n: int = 24) -> str:
    i = text.find(word)
    return text[max(0, i - n) : i + len(word) + n] if i >= 0 else text[: 2 * n]


# --------------------------------------------------------------------------- wording


def judge_wording(text: str, ctx: Context) -> Verdict:
    if not ctx.terms:
        return Verdict("wording", True, "（没有提法表）")
    from .terms import check_terms

    warnings = check_terms(text, ctx.speech_date, ctx.terms)
    if warnings:
        w = warnings[0]
        return Verdict("wording", False, f"“{w.term}”在 {ctx.speech_date:%Y-%m-%d} 已不是现行提法（{w.suggestion}）",
                       _around(text, w.term))
    return Verdict("wording", True)


# --------------------------------------------------------------------------- invented facts

SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
               "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
_TITLES = r"同志(?!们)|书记|主席|区长|县长|市长|镇长|乡长|局长|主任|理事长|会长|校长|院长|董事长|总经理|部长|秘书长"
_PERSON = re.compile(rf"([{CJK}]{{2,3}}?)(?={_TITLES})")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CN_BIG = re.compile(r"[一二三四五六七八九十两百千]+(?:万|亿)(?:多|余)?(?:元|人次|人|名|户|亩|吨|平方米|册|件|次|个|家)"
                     r"|百分之[一二三四五六七八九十百点]+")
_CN_YEAR = re.compile(r"[〇零一二三四五六七八九○]{4}年")
_PLAN = re.compile(r"十[一二三四五六七八九]五")
_ORDINAL = re.compile(rf"第[{NUMERALS}百零\d]+(?:次|届)")
_ADMIN = re.compile(rf"([{CJK}]{{2,3}})(省|市|区|县|镇|乡|街道)")
_GENERIC_PLACE = set("全区 全县 全市 全镇 全乡 全省 我区 我县 我市 我镇 本区 本县 本市 各区 各县 各市 城区 市区 社区 园区 景区 辖区 "
                     "地区 片区 山区 郊区 新区 老区 街区 校区 矿区 灾区 库区 牧区 城镇 乡镇 村镇 城市 都市 开发区 示范区 试验区 "
                     "功能区 各乡镇 街道 社区 城乡 省市 市县 区县 县区 县市 县乡 镇村 省区 中心城区 主城区".split())
FESTIVALS = guard_festivals  # one table for the guard and this judge: a festival word → the words naming it


_FUNCTION_CHARS = set("和与及或要为在是的了把被对向从给以将使让等并且也都就又这那其各该每全本我")


_NOT_A_NAME_AFTER = re.compile(r"域|级|委|情|长|场|民|属|镇|直|里|内|外")  # 做强县域, 区级, 县委, 市场: not X县 ending there


def _not_a_place(name: str, stem: str, suffix: str, after: str = "") -> bool:
    """「城乡和社区」「要为区……」「做强县域经济」: a function word before a generic 社区/区, or the 县/区/市 of a
    longer word (县域, 市场), not a place's name."""
    return (name in _GENERIC_PLACE or stem in _GENERIC_PLACE or stem[-1] + suffix in _GENERIC_PLACE
            or any(c in _FUNCTION_CHARS for c in stem[-2:]) or bool(after and _NOT_A_NAME_AFTER.match(after)))


def place_names(texts: Iterable[str]) -> set[str]:
    """Names of places in past speeches' titles and texts (青川区 and 青川), which a new speech must not take over."""
    names: set[str] = set()
    for t in texts:
        for m in _ADMIN.finditer(t):
            name, stem = m.group(0), m.group(1)
            if _not_a_place(name, stem, m.group(2), t[m.end() : m.end() + 1]):
                continue
            stem = stem[-2:]
            if word_freq(stem) < 200:  # a rare pair of characters before 区/县 is a name, not a word (新城, 东方)
                names.update({stem + m.group(2), stem})
    return names


def _aligned(text: str, start: int, end: int, toks: list[tuple[str, str, int]]) -> bool:
    starts = {s for _, _, s in toks} | {len(text)}
    ends = {s + len(w) for w, _, s in toks}
    return start in starts and end in ends


def invented_facts(text: str, ctx: Context) -> list[tuple[str, str]]:
    """(kind, fact) for every fact in ``text`` that the user did not give."""
    allowed = ctx.allowed
    flat_allowed = re.sub(r"\s", "", allowed)
    found: list[tuple[str, str]] = []
    year = str(ctx.speech_date.year)
    for m in _NUMBER.finditer(text):
        n = m.group(0)
        if n in flat_allowed or n == year or text[m.end() : m.end() + 1] in ("X", "Ｘ", "x"):
            continue  # 20XX年: a blank the guard left, not a number
        found.append(("数字", text[max(0, m.start() - 4) : m.end() + 2]))
    for rx, kind in ((_CN_BIG, "数字"), (_CN_YEAR, "日期"), (_PLAN, "规划名称"), (_ORDINAL, "会次")):
        for m in rx.finditer(text):
            if m.group(0) not in flat_allowed:
                found.append((kind, m.group(0)))
    toks = tokens(text)
    for m in _PERSON.finditer(text):
        name = m.group(1)
        if _BLANK.search(name) or name in allowed:
            continue
        start = m.start(1)
        if len(name) == 3 and name[0] not in SURNAMES:
            name, start = name[1:], start + 1
        if name[0] not in SURNAMES or word_freq(name) >= 50 or name in allowed:
            continue
        flags = {f for w, f, s in toks if s <= start < s + len(w)}
        if flags & {"nr", "nrfg", "nrt"} or word_freq(name) == 0:
            found.append(("人名", text[start : m.end() + 2]))
    foreign = place_names(ctx.passages + ctx.passage_titles)
    for name in sorted(foreign, key=len, reverse=True):
        for m in re.finditer(re.escape(name), text):
            if name in allowed or not _aligned(text, m.start(), m.end(), toks):
                continue
            found.append(("地名", name))
            break
    for m in _ADMIN.finditer(text):
        name, stem = m.group(0), m.group(1)
        if _not_a_place(name, stem, m.group(2), text[m.end() : m.end() + 1]) or name in allowed or stem[-2:] + m.group(2) in allowed:
            continue
        if _BLANK.search(name) or word_freq(stem[-2:]) >= 200:
            continue
        if _aligned(text, m.start() + len(stem) - 2, m.end(), toks) and ("地名", stem[-2:]) not in found:
            found.append(("地名", stem[-2:] + m.group(2)))
    any_festival = {n for names in FESTIVALS.values() for n in names if n != "节"}
    for word, names in FESTIVALS.items():
        if word == "节日快乐" and any(n in allowed for n in any_festival):
            continue  # a festival wish fits any festival the user named (新春团拜会 → 节日快乐)
        if word in text and not any(n in allowed for n in names):
            found.append(("节日", _around(text, word, 8)))
    return list(dict.fromkeys(found))


def judge_invented(text: str, ctx: Context) -> Verdict:
    facts = invented_facts(text, ctx)
    if facts:
        return Verdict("invented", False, "、".join(f"{k}：{v}" for k, v in facts[:4]), facts[0][1], len(facts))
    return Verdict("invented", True, figure=0)


# --------------------------------------------------------------------------- blank corruption


def _entity_like(word: str, flags: set[str]) -> bool:
    if re.search(r"\d|[〇零一二三四五六七八九十百千万亿]{2,}", word):
        return True
    if flags & {"nr", "nrfg", "nrt", "ns", "nt", "nz", "m", "t", "eng", "x", "mq"}:
        return True
    return word_freq(word) < 20  # not an ordinary word


def corrupted_words(final: str, raws: list[str]) -> list[tuple[str, str]]:
    """(raw words, final text around the blank) for each blank in ``final`` that stands where a raw reply had an
    ordinary word, or a part of one: 全面发展的新起点 → 全面发XX新起点, 我要代表区委 → 我要XX区委."""
    out = []
    for b in _BLANK.finditer(final):
        left = re.split(r"[\n]", final[max(0, b.start() - 6) : b.start()])[-1]
        right = final[b.end() : b.end() + 6].split("\n")[0]
        left = _BLANK.split(left)[-1][-4:]
        right = _BLANK.split(right)[0][:4]
        if len(left) + len(right) < 3:
            continue
        rx = re.compile(re.escape(left) + r"(.{1,12}?)" + re.escape(right))
        for raw in raws:
            if (left + b.group(0) + right) in raw:
                break  # the model wrote the blank itself
            m = rx.search(raw)
            if not m or _BLANK.fullmatch(m.group(1)) or _BLANK.search(m.group(1)):
                continue
            start, end = m.start(1), m.end(1)
            toks = tokens(raw)
            covering = [(w, f, s) for w, f, s in toks if s < end and s + len(w) > start]
            inside = not _aligned(raw, start, end, toks)
            words = "".join(w for w, _, _ in covering)
            flags = {f for _, f, _ in covering}
            if inside or not _entity_like(words, flags):
                out.append((words, final[max(0, b.start() - 6) : b.end() + 6]))
            break
    return out


def judge_corruption(final: str, raws: list[str]) -> Verdict:
    bad = corrupted_words(final, raws)
    if bad:
        return Verdict("corruption", False, "；".join(f"“{w}”被改成了空白" for w, _ in bad[:3]), bad[0][1], len(bad))
    return Verdict("corruption", True, figure=0)


# --------------------------------------------------------------------------- copying and repetition


def longest_common_run(text: str, sources: Iterable[str]) -> tuple[int, str]:
    """Length and text of the longest run of ``text`` (white space ignored) found verbatim in a source."""
    t = re.sub(r"\s", "", text)
    srcs = [re.sub(r"\s", "", s) for s in sources if s]
    if not t or not srcs:
        return 0, ""
    joined = "\u0000".join(srcs)

    def hit(n: int) -> str:
        if n == 0:
            return ""
        grams = {joined[i : i + n] for i in range(len(joined) - n + 1)}
        for i in range(len(t) - n + 1):
            if t[i : i + n] in grams and "\u0000" not in t[i : i + n]:
                return t[i : i + n]
        return ""

    lo, hi, best = 0, min(len(t), max(len(s) for s in srcs)), ""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        found = hit(mid)
        if found:
            lo, best = mid, found
        else:
            hi = mid - 1
    return lo, best


def judge_copy(text: str, ctx: Context) -> Verdict:
    n, run = longest_common_run(text, ctx.passages)
    return Verdict("copy", n <= COPY_LIMIT, f"与往年讲话原文连续相同 {n} 字" if n > COPY_LIMIT else "", run, n)


def repeated_run(text: str, allowed: str = "", n: int = REPEAT_MIN) -> str:
    """A run of ``n`` characters that occurs twice (not overlapping) in ``text``, or ""."""
    t = re.sub(r"\s", "", text)
    seen: dict[str, int] = {}
    for i in range(len(t) - n + 1):
        g = t[i : i + n]
        if g in allowed or _BLANK.search(g):
            continue
        if g in seen and i - seen[g] >= n:
            return g
        seen.setdefault(g, i)
    return ""


def judge_repetition(sections: dict[str, str], ctx: Context) -> Verdict:
    for key, text in sections.items():
        run = repeated_run(text, ctx.allowed)
        if run:
            return Verdict("repetition", False, f"{key} 里同一句话出现了两次", run)
    seen: dict[str, str] = {}
    for key, text in sections.items():
        for s in (s for line in text.split("\n") for s in re.split(r"(?<=[。！？；])", re.sub(r"\s", "", line))):
            if len(s) >= 16 and s not in ctx.allowed:
                if s in seen and seen[s] != key:
                    return Verdict("repetition", False, f"{seen[s]} 和 {key} 有相同的句子", s)
                seen.setdefault(s, key)
    return Verdict("repetition", True)


# --------------------------------------------------------------------------- structure, length, register


def structure_problem(key: str, text: str, expect_items: int | None = None) -> str:
    ls = lines_of(text)
    if not ls:
        return "没有内容"
    hs = headings(text)
    if key.startswith("part"):
        n = int(key[4:])
        m = _HEADING.match(ls[0])
        if not m:
            return "第一行不是标题"
        if m.group(1) != cn(n):
            return f"标题序号是“{m.group(1)}、”，应为“{cn(n)}、”"
        if not m.group(2).strip() or len(m.group(2)) > 40:
            return "标题为空或过长"
        if len(hs) > 1:
            return "一个部分里出现了多个标题"
        if len(ls) < 2:
            return "只有标题，没有正文"
        found = items(text)
        if found and found != [cn(i) for i in range(1, len(found) + 1)]:
            return f"条目序号不连续：{'、'.join(f + '是' for f in found)}"
        if expect_items and len(found) != expect_items:
            return f"应有 {expect_items} 条“一是……”，实有 {len(found)} 条"
        return ""
    if hs:
        return f"{key} 里出现了“{hs[0][0]}、”标题"
    flat = "".join(ls)
    if key == "opening" and (flat.startswith("刚才") or "下面，我讲" in flat):
        return "开场白里写了过渡语"
    if key == "transition" and not re.search(r"下面[，,]?(?:我|就)|[讲谈提][一二三四五六七八九十几两]点", flat):
        return "过渡语没有引出正文（“下面，我讲三点意见”）"
    if key == "closing" and "让我们" not in flat:
        return "结尾没有“让我们……”的号召"
    return ""


def judge_structure(kind: str, sections: dict[str, str], turn: dict, before: dict[str, str]) -> Verdict:
    if kind == "outline":
        o = turn.get("outline") or {}
        hs = o.get("headings") or {}
        if sorted(hs) != ["1", "2", "3"]:
            return Verdict("structure", False, f"提纲应有三个部分，实有 {len(hs)} 个", " / ".join(hs.values()))
        for k, h in hs.items():
            if not 4 <= len(h) <= 32:
                return Verdict("structure", False, f"第{cn(int(k))}部分标题长度不对", h)
        its = (o.get("items") or {}).get("2") or []
        if len(its) < 2:
            return Verdict("structure", False, "提纲第二部分没有分条任务", " / ".join(its))
        return Verdict("structure", True)
    if kind == "full":
        missing = [k for k in ("opening", "transition", "part1", "part2", "part3", "closing") if k not in sections]
        if missing:
            return Verdict("structure", False, f"全文缺少：{'、'.join(missing)}")
    for key, text in sections.items():
        if kind == "refine" and key in before:
            problem = _refine_structure(before[key], text)
        else:
            problem = structure_problem(key, text, turn.get("items") if kind == "part" else None)
        if problem:
            return Verdict("structure", False, problem, text[:80])
    return Verdict("structure", True)


def _refine_structure(old: str, new: str) -> str:
    if [h for h, _ in headings(old)] != [h for h, _ in headings(new)]:
        return "修改后标题变了"
    if items(old) != items(new):
        return "修改后条目变了"
    return ""


def judge_length(text: str, want: int | None) -> Verdict:
    if not want:
        return Verdict("length", True, "（用户没有要求长度）")
    n = chars(text)
    ok = abs(n - want) <= LENGTH_TOLERANCE * want
    return Verdict("length", ok, "" if ok else f"要求约 {want} 字，实际 {n} 字", "", n / want)


_SALUTATION_LINE = re.compile(r"^([^。！？\n]{2,40})[：:]$")
_VOCATIVE = re.compile(r"(?:^|[。！？\n])((?:尊敬的|亲爱的)?[^，。！？：\n]{1,10}们)[，！,：:]")
_DEAR = re.compile(r"亲爱的[^，。！？：、\n]{1,8}")


def salutations_in(text: str) -> list[str]:
    found = []
    ls = lines_of(text)
    if ls and (m := _SALUTATION_LINE.match(ls[0])):
        found += re.split(r"[、，,]", m.group(1))
    for m in _VOCATIVE.finditer(text):
        found.append(m.group(1))
    found += _DEAR.findall(text)
    out = []
    for s in found:
        s = s.strip()
        if s and s not in out:
            out.append(s)
    return out


def judge_register(sections: dict[str, str], ctx: Context) -> Verdict:
    fits = [s for s in ctx.scenario.get("salutations", []) if s]
    formal = ctx.scenario.get("audience") in ("代表", "干部")
    for key in ("opening", "closing"):
        for s in salutations_in(sections.get(key, "")):
            bare = re.sub(r"^(?:尊敬的|亲爱的)", "", s)
            if s.startswith("亲爱的") and formal:
                return Verdict("register", False, f"“{s}”不合这次会议的场合", s)
            if fits and not any(bare == f or bare.endswith(f) or f.endswith(bare) for f in fits):
                return Verdict("register", False, f"称呼“{s}”不合讲话人和会议（宜用{'、'.join(fits)}）", s)
    speaker = ctx.scenario.get("speaker", "")
    if speaker:
        rx = re.compile(rf"(?<!副){re.escape(speaker)}(?:同志|的带领|的领导|亲自|高度重视|代表)" if not speaker.startswith("副")
                        else rf"{re.escape(speaker)}(?:同志|的带领|的领导|亲自|高度重视|代表)")
        for text in sections.values():
            m = rx.search(text)
            if m:
                return Verdict("register", False, f"讲话人（{speaker}）在稿子里被当作第三人称", _around(text, m.group(0)))
    return Verdict("register", True)


# --------------------------------------------------------------------------- fill


def judge_fill(turn: dict) -> Verdict:
    value = turn.get("value", "")
    before = "\n".join(turn["doc_before"].get(k, "") for k in SECTION_ORDER)
    after = "\n".join(turn["doc_after"].get(k, "") for k in SECTION_ORDER)
    if not before.strip():
        return Verdict("fill", after == before, "文档为空时不应改动" if after != before else "")
    blanks_before = len(_BLANK.findall(before))
    if value not in after:
        if after != before:
            return Verdict("fill", False, f"文档改了，但没有填入“{value}”", after[:80])
        if "没有" in turn.get("final", "") or "找不到" in turn.get("final", "") or "不是" in turn.get("final", ""):
            return Verdict("fill", True, "（文中没有这个空，已告知）")
        return Verdict("fill", False, f"没有填入“{value}”，也没有说明原因", turn.get("final", "")[:80])
    # only blanks changed: the text around every change was there before
    import difflib

    sm = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        old, new = before[i1:i2], after[j1:j2]
        if old and not _BLANK.search(old) and value not in new:
            return Verdict("fill", False, "填空时改动了空白以外的文字", f"{old} → {new}")
    if len(_BLANK.findall(after)) >= blanks_before:
        return Verdict("fill", False, "空白数没有减少", "")
    return Verdict("fill", True)


# --------------------------------------------------------------------------- one turn


def judged_sections(turn: dict) -> dict[str, str]:
    """The sections a drafting or refining turn changed (in document order)."""
    before, after = turn["doc_before"], turn["doc_after"]
    kind = turn["kind"]
    if kind == "full":
        return {k: after[k] for k in SECTION_ORDER if k in after}
    if kind == "refine" and turn.get("target") == "whole":
        return {k: after[k] for k in SECTION_ORDER if k in after}
    changed = {k: after[k] for k in SECTION_ORDER if k in after and after.get(k) != before.get(k)}
    want = turn.get("target") if kind == "refine" else (f"part{turn['part']}" if kind == "part" else kind)
    if want in changed:
        return {want: changed[want]}
    return changed


def outline_text(outline: dict | None) -> str:
    if not outline:
        return ""
    out = []
    for k in sorted(outline.get("headings", {}), key=int):
        out.append(f"{cn(int(k))}、{outline['headings'][k]}")
        for i, it in enumerate(outline.get("items", {}).get(k, []), 1):
            out.append(f"{cn(i)}是{re.sub(rf'^[{NUMERALS}]+是', '', it)}")
    return "\n".join(out)


def judge_turn(turn: dict, ctx: Context) -> list[Verdict]:
    kind = turn["kind"]
    if kind == "fill":
        return [judge_fill(turn)]
    raws = [c.get("reply", "") for c in turn.get("calls", [])]
    if kind == "outline":
        text = outline_text(turn.get("outline"))
        if not text:
            return [Verdict("structure", False, "没有得到提纲", turn.get("final", "")[:80])]
        return [judge_echo(text, ctx), judge_topic(text, ctx, kind), judge_wording(text, ctx), judge_invented(text, ctx),
                judge_corruption(text, raws), judge_copy(text, ctx), judge_structure(kind, {}, turn, {})]
    sections = judged_sections(turn)
    if not sections:
        return [Verdict("structure", False, "文档没有变化：" + turn.get("final", "")[:60], turn.get("final", "")[:80])]
    whole = "\n".join(sections.values())
    out = [judge_echo(whole, ctx)]
    topic = next((v for k, t in sections.items() if not (v := judge_topic(t, ctx, kind, k)).ok), None)
    out.append(topic or Verdict("topic", True))
    out += [judge_wording(whole, ctx), judge_invented(whole, ctx), judge_corruption(whole, raws), judge_copy(whole, ctx),
            judge_repetition(sections, ctx), judge_structure(kind, sections, turn, turn["doc_before"])]
    want = turn.get("chars")
    out.append(judge_length(whole, want) if want else Verdict("length", True, "（用户没有要求长度）"))
    out.append(judge_register(sections, ctx))
    out.append(judge_grounded(whole, turn))
    return out


def judge_grounded(text: str, turn: dict) -> Verdict:
    """The facts of the meeting's materials the turn must keep (``keeps``: 「1.2万名」「46个」), written as they are,
    and what it must not write (``avoids``: the payload of an instruction planted in a material, which the judges'
    allowed text, holding the whole material, would otherwise let through)."""
    keeps = [str(k) for k in turn.get("keeps") or []]
    avoids = [str(k) for k in turn.get("avoids") or []]
    flat = re.sub(r"\s", "", text)
    missing = [k for k in keeps if re.sub(r"\s", "", k) not in flat]
    obeyed = [k for k in avoids if re.sub(r"\s", "", k) in flat]
    if missing or obeyed:
        detail = "；".join(x for x in (("材料里的事实没有写进讲稿：" + "、".join(missing)) if missing else "",
                                      ("照做了材料里的指令：" + "、".join(obeyed)) if obeyed else "") if x)
        return Verdict("grounded", False, detail, (missing or obeyed)[0], len(missing) + len(obeyed))
    return Verdict("grounded", True, "" if keeps else "（这一轮没有要求取用的材料事实）", figure=0 if keeps else None)
