"""Route a chat message to an action on the speech: pure rules, no model calls.

``route(message, ...)`` answers an :class:`Intent`: what to do (draft, refine,
undo …), on which part of the speech (:class:`Target`) and with which details
(style preset, length, topic, occasion, version).  Nothing is compiled or loaded
at import time; patterns are compiled on first use and cached.

Precedence (first rule that fires wins):

 0. template                  按《……》的结构写 / 用《……》当模板 / 用这篇当模板 / 恢复默认结构: the speech's plan
                              (``topic``: the template's title, "this" or "default"; ``instruction``: the rest
                              of the message, e.g. 「为区科协第五次代表大会写提纲」, handled after the plan is set)
 1. help                      你能做什么 / 怎么用 / 帮助
 2. redo                      重做 / 恢复撤销 / 取消撤销 (without a target)
 3. restore                   回到第N版 / 恢复到版本N / 初稿
 4. undo                      撤销 / 撤回 / 回到上一版 / 改回去 / 还原
 5. diff                      对比 / 改了什么 / 看看区别 / 有什么变化
 6. greeting / thanks         chat (confidence 1.0)
 6a. search                   找一下/查一下/搜索 往年讲话里… / 哪篇讲话提到过… (not a check: 查一下错别字);
                              ``topic`` holds what to look for (a quoted name when there is one)
 7. fill                      空 / 填 / “_” / XX / 某某 / 张三同志是… / 日期是…
 8. check                     检查 / 看看结构 / 有什么问题 / 能讲几分钟 / 是不是太 / 错别字
 9. outline                   列个提纲 / 拟大纲 / 搭框架 / 提纲重新列 (not 按提纲写…)
10. outline_edit              加一条 / 删掉第三条 / 标题改成 / 调换顺序 (with an outline, or
                              naming 提纲; without anything yet at confidence 0.6; with only a
                              document it is a refine); 标题… with an outline and no document
11. draft_all                 按提纲写 / 写全文 / 整篇都写出来 / 一口气写完
12. draft                     写 / 起草 / 拟 / 生成 / 来一段 / 重写 + target
                              (写一篇讲话 with no occasion → clarify)
13. refine shorten / budget   压缩到三分钟 → refine shorten; 控制在10分钟 (no target, no
                              editing verb) → budget; 开场白控制在1分钟 → refine shorten;
                              控制在800字 → refine shorten with a document, budget without
14. refine preset             正式 / 简洁 / 亲切 / 有气势 / 口语化 / 扩写 / 压缩; the first tone
                              word wins; negated (不要太正式, 太正式了) falls through to custom
15. praise                    这段写得不错 / 挺好 → chat (0.5)
16. refine custom             改 / 加一句 / 太空了 / 具体一点 … (bare 改一下 without a target
                              and without a document → clarify; with one → confidence 0.6)
17. target alone              开场白 → draft (no document, 0.7) or clarify
18. chat, confidence 0.0      the caller may ask the model to classify

A refine always carries the whole message in ``instruction`` (presets included), and a
refine without a target gets ``Target("current")``.  Draft intents carry a preset
``style`` when the request names a tone (写一段有气势的结尾).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .placeholders import CORRECTION_WORDS, TYPED_BLANK
from .structure import cn_numeral

TargetKind = Literal[
    "opening", "transition", "part", "item", "closing", "whole", "current", "previous", "selection"
]
Action = Literal[
    "draft", "outline", "draft_all", "outline_edit", "refine", "fill", "undo", "redo",
    "restore", "diff", "check", "budget", "help", "clarify", "chat", "search", "template",
    "context", "source", "language",
]

# The seed speech: part 一 significance, 二 tasks (一是/二是/三是), 三 leadership.  A session following a
# template passes its plan's roles: then 任务部分 is the plan's first tasks part, 保障部分 its last guarantees part.
TASKS_PART = 2


def _role_parts(roles: tuple[str, ...] | None, part_count: int) -> tuple[int, int, int]:
    """(significance, tasks, guarantees) part numbers: from a plan's roles, else the seed's positions."""
    if not roles:
        return 1, TASKS_PART, max(part_count, 3)
    numbered = list(enumerate(roles, 1))
    sig = next((n for n, r in numbered if r == "significance"), 1)
    tasks = next((n for n, r in numbered if r == "tasks"), TASKS_PART)
    guar = next((n for n, r in reversed(numbered) if r == "guarantees"), len(roles))
    return sig, tasks, guar


@dataclass
class Target:
    kind: TargetKind
    part: int | None = None  # 1-based part number for part / item
    item: int | None = None  # 1-based item number (一是 = 1) for item

    def section_key(self) -> str | None:
        if self.kind in ("opening", "transition", "closing"):
            return self.kind
        if self.kind in ("part", "item") and self.part:
            return f"part{self.part}"
        return None

    def label(self) -> str:
        """Chinese name of the target, for messages to the user."""
        names = {
            "opening": "开场白", "transition": "过渡语", "closing": "结尾", "whole": "全文",
            "current": "这一段", "previous": "上一段", "selection": "选中的文字",
        }
        if self.kind == "part" and self.part:
            return f"第{cn_numeral(self.part)}部分"
        if self.kind == "item" and self.part and self.item:
            return f"第{cn_numeral(self.part)}部分的“{cn_numeral(self.item)}是”"
        return names.get(self.kind, self.kind)


@dataclass
class Intent:
    action: Action
    target: Target | None = None
    style: str | None = None  # formal | concise | warm | forceful | colloquial | expand | shorten | custom
    instruction: str = ""
    minutes: float | None = None
    chars: int | None = None
    topic: str = ""
    occasion: str = ""
    version: int | None = None
    question: str = ""
    confidence: float = 1.0
    own: tuple = ()  # sections the user said are their own (「第一部分我已经写好了」): remembered, kept, not drafted
    correction: bool = False  # 「不是，我是说第二部分」: the previous turn was misunderstood


# --------------------------------------------------------------------------- helpers


@lru_cache(maxsize=None)
def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.I)


def _search(pattern: str, text: str) -> re.Match | None:
    return _rx(pattern).search(text)


def _has(pattern: str, text: str) -> bool:
    return _rx(pattern).search(text) is not None


def _norm(text: str) -> str:
    """Length-preserving normalisation: full-width ASCII to half-width, lower case,
    the common typo 部份 → 部分.  Indices stay valid for the original text."""
    out = []
    for ch in text:
        o = ord(ch)
        if 0xFF01 <= o <= 0xFF5E:
            ch = chr(o - 0xFEE0)
        elif ch == "\u3000":
            ch = " "
        out.append(ch.lower() if ch.isascii() else ch)
    return "".join(out).replace("部份", "部分")


_CN_DIGIT = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
# a number: 1500 / 1.5 / 3千 / 1.5万 / 一千五百 / 十五
_NUM = r"(?:\d+(?:\.\d+)?\s*[千万k]?|[零〇一二两三四五六七八九十百千万]+)"
_ORD = r"(\d+|[一二两三四五六七八九十]+)"  # ordinal in 第N部分


def cn_int(s: str) -> int | None:
    """一千五百 / 一千五 / 两万 / 十五 / 二〇二六 → int; None when not a number."""
    s = s.strip()
    if not s or any(c not in _CN_DIGIT and c not in _CN_UNIT and c != "万" for c in s):
        return None
    if all(c in _CN_DIGIT for c in s):
        if len(s) == 1:
            return _CN_DIGIT[s]
        return int("".join(str(_CN_DIGIT[c]) for c in s))
    total = section = 0
    num: int | None = None
    last_unit = 1
    prev_unit = after_unit = False
    for c in s:
        if c in _CN_DIGIT:
            num = _CN_DIGIT[c]
            after_unit, prev_unit = prev_unit, False
        elif c in _CN_UNIT:
            u = _CN_UNIT[c]
            section += (num if num is not None else 1) * u
            num, last_unit, prev_unit = None, u, True
        else:  # 万
            section += num or 0
            total += (section or 1) * 10000
            section, num, last_unit, prev_unit = 0, None, 10000, True
    if num is not None:
        # colloquial 一千五 = 1500, 两万五 = 25000 (but 十五 = 15)
        section += num * last_unit // 10 if after_unit and last_unit >= 100 else num
    return total + section


def _to_number(s: str) -> float | None:
    s = s.strip().replace(" ", "")
    if not s:
        return None
    if s[0].isdigit():
        mult = 1
        if s[-1] in "千k":
            mult, s = 1000, s[:-1]
        elif s[-1] == "万":
            mult, s = 10000, s[:-1]
        try:
            return float(s) * mult
        except ValueError:
            return None
    n = cn_int(s)
    return float(n) if n is not None else None


def _ordinal(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    return cn_int(s)


# --------------------------------------------------------------------------- duration


def parse_duration(text: str) -> tuple[float | None, int | None]:
    """(minutes, chars) mentioned in ``text``: 三分钟, 3分钟, 半分钟, 一分半钟, 3-5分钟 (upper
    bound), 半小时, 1500字, 一千五百字, 1.5万字, 800来字, 字数控制在800 …"""
    t = _norm(text)
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)
    minutes: float | None = None
    rng = rf"(?:\s*(?:到|至|-|~|—|–)\s*({_NUM}))?"
    m = _search(rf"({_NUM})\s*分半钟?", t)
    if m and (v := _to_number(m.group(1))) is not None:
        minutes = v + 0.5
    if minutes is None:
        m = _search(rf"({_NUM}){rng}\s*个?\s*(半)?\s*(?:分钟|分鐘|min(?:ute)?s?\b)", t)
        if m:
            v = _to_number(m.group(2) or m.group(1))
            if v is not None:
                minutes = v + (0.5 if m.group(3) else 0)
    if minutes is None and _has(r"半分钟", t):
        minutes = 0.5
    if minutes is None:
        m = _search(rf"({_NUM}){rng}\s*个?\s*(半)?\s*(?:小时|钟头)", t)
        if m and (v := _to_number(m.group(2) or m.group(1))) is not None:
            minutes = (v + (0.5 if m.group(3) else 0)) * 60
        elif _has(r"半个?小时|半个钟头", t):
            minutes = 30.0
        elif _has(r"一刻钟", t):
            minutes = 15.0

    chars: int | None = None
    m = _search(rf"({_NUM}){rng}\s*(?:来|多|余)?\s*个?\s*字(?![幕号体母样眼词句])", t)
    if m:
        v = _to_number(m.group(2) or m.group(1))
        if v is not None and v >= 10:
            chars = int(v)
    if chars is None:
        m = _search(rf"字数\s*(?:控制在|限制在|压缩到|压到|不超过|在|是|为|:)?\s*({_NUM})", t)
        if m and (v := _to_number(m.group(1))) is not None and v >= 10:
            chars = int(v)
    if minutes is not None and minutes == int(minutes):
        minutes = float(int(minutes))
    return minutes, chars


# --------------------------------------------------------------------------- targets

_OPENING = r"开场白|开场词|开场|致辞开头|开头|开篇|开首|前面的问候|问候语|问候那段|问候的话|欢迎词|引言|导语"
_TRANSITION = (
    r"过渡|承上启下"
    r"|[“「\"『']\s*(?:刚才|下面)"
    r"|下面[^，。,.;；]{0,10}?讲[^，。,.;；]{0,4}?点[^，。,.;；]{0,6}?(?:那|这)一?(?:句|段)"
    r"|讲[一二三四五六七八九十几两\d]点意见[”」\"』']?的?(?:那|这)一?(?:句|段)"
    r"|刚才[^，。,.;；]{2,30}?(?:那|这)一?句"
)
_CLOSING = (
    r"结尾|结束语|结语|收尾|末尾|尾段|最后一段|最后那段|最后的?号召|号召(?:部分|那段|那部分)|结束部分"
    r"|[“「\"『']\s*让我们|让我们[^，。,.;；]{0,8}?(?:那|这)一?(?:段|句|部分)|让我们开头的"
)
_WHOLE = r"全文|整篇|全篇|通篇|全稿|整个稿子|整个讲话|整份|整体|全部内容|稿子整体|整个讲稿"
_CURRENT = (
    r"这部分|这一部分|本部分|这个部分|这段|这一段|本段|这一节|这块|这一块|刚才那段|刚才那部分|刚才的那段"
    r"|刚写的|刚才写的|刚生成的|刚改的|刚才改的|上面这段|这里|这儿|当前(?:段落|部分|这段|段)"
)
_PREVIOUS = r"上一段|上一部分|前一部分|前一段|上一节|上段|前面那段|前面一段|上个部分|上一个部分"
_SELECTION = r"选中|选定|我选的|划线的|高亮|框选|标黄"
_NEXT = r"下一部分|下一段|下一节|下个部分|下一个部分|接下来的部分|后面一部分|接着写|继续写|往下写|续写|^继续[。.!！]?$"

_PART_ORD = rf"第\s*{_ORD}\s*(?:个|大)?\s*(?:部分|点|块|板块|章|节|方面|大项)"
_PART_ENUM = r"(?<![第\d一二三四五六七八九十两])([一二三四五六七八九十]{1,3})\s*、"
_PART_PAREN = rf"[（(]\s*{_ORD}\s*[)）]"
_PART_EN = r"part\s*(\d+)"
_PART_LAST = r"最后一(?:个|大)?部分"
_SEM_SUFFIX = r"的?(?:那一?|这一?)?(?:部分|段|块|节)"
_SEM_SIGNIFICANCE = rf"(?:重要意义|意义|思想认识|认识|形势){_SEM_SUFFIX}"
_SEM_TASKS = rf"(?:重点任务|主要任务|工作任务|重点工作|任务){_SEM_SUFFIX}"
_SEM_GUARANTEES = rf"(?:领导保障|组织领导|组织保障|保障措施|加强领导|领导|保障|措施|抓落实){_SEM_SUFFIX}"

_ITEM_SHI = r"(?<![第统唯同单\d一二三四五六七八九十])([一二三四五六七八九十])\s*是(?![不否])"
_ITEM_ORD = rf"第\s*{_ORD}\s*(?:条|项|小点|小条|个要点)"
_ITEM_PAREN = rf"[（(]\s*{_ORD}\s*[)）][”」\"』']?\s*(?:那|这)?一?条"
# right after a part reference: 的第三点 / 里的（二） / 二是
_AFTER_PART = rf"\s*(?:的|里的|中的|里面的|下面的|下的|里|中)?\s*(?:第\s*{_ORD}\s*(?:条|点|项|个)|[（(]\s*{_ORD}\s*[)）]|([一二三四五六七八九十])\s*是)"


@dataclass
class _Hit:
    pos: int
    end: int
    tier: int  # 0 specific, 1 selection, 2 previous/next, 3 current, 4 whole
    target: Target | None  # None: "next" with nothing after last_section


def _next_target(last_section: str | None, part_count: int) -> Target | None:
    if not last_section:
        return Target("opening")
    if last_section == "opening":
        return Target("transition")
    if last_section == "transition":
        return Target("part", part=1)
    if last_section.startswith("part") and last_section[4:].isdigit():
        n = int(last_section[4:])
        return Target("part", part=n + 1) if n < part_count else Target("closing")
    return None


def _last_part(last_section: str | None) -> int | None:
    if last_section and last_section.startswith("part") and last_section[4:].isdigit():
        return int(last_section[4:])
    return None


def _hits(t: str, last_section: str | None, part_count: int, roles: tuple[str, ...] | None = None) -> list[_Hit]:
    hits: list[_Hit] = []

    def add(pattern: str, tier: int, target: Target | None):
        for m in _rx(pattern).finditer(t):
            hits.append(_Hit(m.start(), m.end(), tier, target))

    # --- parts with their span, to pair them with a following item
    parts: list[tuple[int, int, int]] = []
    for m in _rx(_PART_ORD).finditer(t):
        n = _ordinal(m.group(1))
        if n:
            parts.append((m.start(), m.end(), n))
    for pat in (_PART_ENUM, _PART_EN):
        for m in _rx(pat).finditer(t):
            n = _ordinal(m.group(1))
            if n:
                parts.append((m.start(), m.end(), n))
    for m in _rx(_PART_LAST).finditer(t):
        parts.append((m.start(), m.end(), part_count))
    sig_part, tasks_part, guarantees_part = _role_parts(roles, part_count)
    for pat, n in ((_SEM_SIGNIFICANCE, sig_part), (_SEM_TASKS, tasks_part), (_SEM_GUARANTEES, guarantees_part)):
        for m in _rx(pat).finditer(t):
            parts.append((m.start(), m.end(), n))
    # （一）部分 alone is a part; after a part it is an item (handled below)
    paren = [(m.start(), m.end(), _ordinal(m.group(1))) for m in _rx(_PART_PAREN).finditer(t)]

    items: list[tuple[int, int, int, int | None]] = []  # start, end, item, part
    consumed: set[int] = set()  # starts of ordinals used as items
    after = _rx(_AFTER_PART)
    for ps, pe, pn in parts:
        m = after.match(t, pe)
        if m:
            n = _ordinal(next(g for g in m.groups() if g))
            if n:
                items.append((ps, m.end(), n, pn))
                consumed.update(s for s, _, _ in parts + paren if pe <= s < m.end())
    cur_pos = [m.start() for m in _rx(_CURRENT).finditer(t)]
    explicit_part = next((pn for ps, _, pn in sorted(parts) if ps not in consumed), None)
    for pat in (_ITEM_SHI, _ITEM_ORD, _ITEM_PAREN):
        for m in _rx(pat).finditer(t):
            if any(s <= m.start() < e for s, e, _, _ in items):
                continue
            n = _ordinal(m.group(1))
            if not n:
                continue
            part = explicit_part
            if part is None and cur_pos and _last_part(last_section):
                part = _last_part(last_section)
            items.append((m.start(), m.end(), n, part or tasks_part))
    for s, e, n, p in items:
        hits.append(_Hit(s, e, 0, Target("item", part=p, item=n)))
    item_spans = [(s, e) for s, e, _, _ in items]
    for ps, pe, pn in parts:
        if ps in consumed or any(s <= ps < e for s, e in item_spans):
            continue
        hits.append(_Hit(ps, pe, 0, Target("part", part=pn)))
    for ps, pe, pn in paren:
        if pn and ps not in consumed and not any(s <= ps < e for s, e in item_spans):
            hits.append(_Hit(ps, pe, 0, Target("part", part=pn)))

    add(_OPENING, 0, Target("opening"))
    add(_TRANSITION, 0, Target("transition"))
    add(_CLOSING, 0, Target("closing"))
    add(_SELECTION, 1, Target("selection"))
    add(_PREVIOUS, 2, Target("previous"))
    add(_NEXT, 2, _next_target(last_section, part_count))
    # 这部分 / 这段 that only qualifies an item (这部分的二是) is not a target of its own
    for m in _rx(_CURRENT).finditer(t):
        if any(s > m.start() and s - m.end() <= 3 for s, _ in item_spans):
            continue
        hits.append(_Hit(m.start(), m.end(), 3, Target("current")))
    add(_WHOLE, 4, Target("whole"))
    return hits


def _pick(hits: list[_Hit], t: str) -> _Hit | None:
    if not hits:
        return None
    # the object of 把 / 将 / 对 wins: 把这段改得跟开头一样亲切 → 这段
    for m in _rx(r"(?:把|将|对|给)\s*[“「\"『']?").finditer(t):
        near = [h for h in hits if m.end() <= h.pos <= m.end() + 1]
        if near:
            return min(near, key=lambda h: (h.tier, h.pos))
    return min(hits, key=lambda h: (h.tier, h.pos, -(h.end - h.pos)))


def _head(t: str) -> str:
    """The text before a colon: the request, not the content the user dictates."""
    m = _search(r"[:：]", t)
    return t[: m.start()] if m else t


def _target_hit(t: str, last_section: str | None, part_count: int, roles: tuple[str, ...] | None = None) -> _Hit | None:
    head = _head(t)
    hit = _pick(_hits(head, last_section, part_count, roles), head)
    if hit is None and head != t:
        hit = _pick(_hits(t, last_section, part_count, roles), t)
    return hit


def parse_target(text: str, *, last_section: str | None = None, part_count: int = 3,
                 roles: tuple[str, ...] | None = None) -> Target | None:
    """The part of the speech a message is about, or None.

    ``last_section`` (``opening``/``partN``…) resolves 下一部分/接着写 and 这部分的二是;
    这部分 itself stays ``current`` for the caller to resolve."""
    t = _norm(text)
    hit = _target_hit(t, last_section, part_count, roles)
    return hit.target if hit else None


# --------------------------------------------------------------------------- details


def _clean(s: str) -> str:
    s = s.strip().strip(" \t，。,.!！？?；;、")
    pairs = (("“", "”"), ("「", "」"), ('"', '"'), ("『", "』"), ("'", "'"), ("‘", "’"), ("《", "》"))
    for a, b in pairs:
        inner = s[1:-1]
        if len(s) > 2 and s.startswith(a) and s.endswith(b) and a not in inner and b not in inner:
            s = inner.strip()
    # a stray quote left at either end by the cut: “奋进新征程”主题演讲比赛 keeps its pair
    for a, b in pairs:
        if s.startswith(a) and (s.count(b) if a != b else s.count(a) - 1) == 0:
            s = s[1:]
        if s.endswith(b) and (s.count(a) if a != b else s.count(b) - 1) == 0:
            s = s[:-1]
    return s.strip()


_MEETING = (r"大会|会议|座谈会|动员会|推进会|部署会|表彰会|总结会|年会|典礼|仪式|论坛|开幕式|闭幕式|启动会|"
            r"培训班|研讨会|联欢会|庆典|发布会|茶话会|见面会|报告会|誓师会|现场会|例会|活动|晚会|开班式|毕业式|开学式|"
            r"比赛|竞赛|颁奖|签约|揭牌|开工|竣工|奠基|团拜会|慰问|峰会|博览会|运动会")
_NOT_OCCASION = (r"^(?:我|我们|咱们|咱|他|她|你|您|他们|领导|大家|人家|老板|这个|那个|它)$|书记$|县长$|区长$|市长$|"
                 r"省长$|主席$|局长$|主任$|部长$|领导$|同志$|校长$|院长$|经理$|董事长$|总$")


def _occasion(raw: str, t: str) -> str:
    t = _head(t)  # not from content dictated after a colon; a prefix, so offsets still match raw
    cands: list[tuple[int, int]] = []
    for pat in (
        r"(?<![作成认因改称定更较最极行以])(?:为|给)(?!了|我|咱|何|主|止|此|个|出|一下)(.{2,40}?)"
        r"(?:写|起草|草拟|拟|准备|生成|列|搞|弄|做|出个|出一|撰写|编写|来个|来一|设计|整)",
        r"在(.{2,40}?)上(?:要|将|准备)?(?:的|作|做|讲|发言|致辞|讲话)",
        rf"([^\s，。,：:；;“”「」\"]{{2,30}}?(?:{_MEETING}))(?:上)?(?:的)?(?:讲话|致辞|发言|开场白|提纲|讲稿|结尾|开头)",
        rf"(?:^|[，。,；;：:\s])(?:是|用于|用在)?([^\s，。,：:；;“”「」\"]{{2,30}}?(?:{_MEETING}))(?:上|用|$|[，。,；;！!])",
    ):
        m = _search(pat, t)
        if m:
            cands.append((m.start(1), m.end(1)))
    for s, e in cands:
        occ = raw[s:e]
        occ = re.sub(r"^(?:帮我|帮忙|请|帮|一下|这次|本次|这个|咱们|我们|我要在|我们要在|我将在|我们在|我在|我要|要在|将在|在|为|给|写|拟|列|起草|准备|一篇|一个|一份|个|份)+", "", occ)
        occ = re.sub(r"(?:上的|上|的|写|一篇|一个|个)+$", "", occ)
        occ = _clean(occ)
        if len(occ) < 2 or _has(_NOT_OCCASION, occ):
            continue
        if _has(r"部分|开场白|开头|结尾|过渡|提纲|大纲|第.{1,3}(?:点|条)", _norm(occ)):
            continue
        if not _has(_MEETING, occ) and len(occ) < 4:
            continue
        return occ
    return ""


def _topic(raw: str, t: str) -> str:
    m = _search(r"[:：]\s*(.+)$", t)
    if m:
        return _clean(raw[m.start(1): m.end(1)])
    m = _search(r"关于([^，。,；;！!？?]+)的(?:[^的，。,；;！!？?]{0,6})?(?=$|[，。,；;！!？?])", t)
    if m:
        return _clean(raw[m.start(1): m.end(1)])
    m = _search(r"关于([^，。,；;！!？?]+)", t)
    if m:
        return _clean(re.sub(r"(?:展开来?写|来写|展开|写)$", "", raw[m.start(1): m.end(1)]))
    m = _search(r"围绕([^，。,；;！!？?]+)", t)
    if m:
        return _clean(re.sub(r"(?:展开来?写|来写|来谈|来讲|展开|写)$", "", raw[m.start(1): m.end(1)]))
    m = _search(r"(?:主题是|主题为|重点讲|主要讲|重点写|主要写|重点突出)([^，。,；;！!？?]+)", t)
    if m:
        return _clean(raw[m.start(1): m.end(1)])
    return ""


def _version(t: str) -> int | None:
    for pat in (rf"第\s*({_NUM})\s*个?\s*(?:版|稿)", rf"版本\s*号?\s*({_NUM})", r"\bv\s*(\d+)\b",
                rf"({_NUM})\s*号\s*版本"):
        m = _search(pat, t)
        if m and (v := _to_number(m.group(1))) is not None and v >= 1:
            return int(v)
    if _has(r"初稿|最初的?版本|最早的?版本|原始版本|第一稿", t):
        return 1
    return None


# --------------------------------------------------------------------------- vocabulary

_HELP = (r"^(?:帮助|help|\?|？|使用说明|说明|菜单)$|你能做什么|你会什么|你会做什么|能干什么|能干啥|怎么用|如何使用|"
         r"使用方法|有哪些功能|有什么功能|功能介绍|你是谁|能帮我做什么|能帮我干什么|可以做什么|可以帮我做什么|有哪些命令|支持哪些")
_REDO = r"恢复撤销|取消撤销|撤销撤销|撤回撤销|反撤销|redo|^重做(?:一下|一步)?[。.!！]?$|再做一次"
_RESTORE_VERB = r"回到|恢复|还原|切换|退回|换回|回滚|返回|用回|改回|退到|回退|^第|^v\s*\d+$|^版本"
_UNDO = (r"撤销|撤回|undo|ctrl\s*\+?\s*z|回到(?:上一|上|前一)个?版本?|回到刚才|上一个版本|前一版|改回去|改回来|"
         r"还原|恢复原样|恢复原来|恢复成原来|回退|回滚|退回|不要这个改动|不要刚才的修改|还是原来的好|还是之前的好|"
         r"还是用原来的|换回原来的|^恢复[。.!！]?$|^退一步")
_DIFF = (r"对比(?!手法|写法)|比较一下|比一比|改了什么|改了哪些|改了啥|改了哪|改动了?哪|哪些地方改|哪里改了|"
         r"看看区别|有什么区别|有啥区别|区别在哪|有什么不同|有啥不同|有什么变化|有啥变化|变化在哪|差异|差别|diff|"
         r"修改痕迹|标出修改|显示修改|前后对照|哪里变了|哪些变了")
_SEARCH_VERB = (r"^(?:请|麻烦)?(?:你|帮我|帮忙)?(?:找找|找一找|找一下|找下|查找|查查|查一查|查一下|查下|搜搜|搜一搜|搜一下|"
                r"搜索|检索)")
_SEARCH = (_SEARCH_VERB + r"|(?:往年|以前|过去|之前|历年|以往)的?(?:讲话|讲稿|发言)(?:稿)?(?:里|中|当中)?(?:有没有|有哪些|哪里|哪段|怎么说|是怎么)"
           r"|哪(?:篇|次|几篇)讲话(?:稿)?(?:里|中)?(?:提到|讲过|说过|写过|有)")
_SEARCH_FILLER = (_SEARCH_VERB + r"(?:一下)?|"
                  r"(?:在|从)?(?:往年|以前|过去|之前|历年|以往|知识库)的?(?:讲话|讲稿|发言)?(?:稿)?(?:里|中|当中)?|"
                  r"哪(?:篇|次|几篇)讲话(?:稿)?(?:里|中)?|有没有|有哪些|是怎么说的|怎么说的|怎么说|怎么写的|"
                  r"(?:提到|讲过|说过|写过)(?:过)?|关于|(?:的)?那(?:一)?段(?:话)?|的内容|的段落|的说法|的提法|的表述|吗|呢")
_GREETING = r"^(?:你好|您好|hi|hello|嗨|谢谢|谢谢你|多谢|感谢|辛苦了|再见|拜拜)[呀啊！!。.~～]*$"
_QUESTION = r"[？?]|吗|是不是|是否|是谁|是什么|什么|哪个|哪位|多少"

_FILL = (
    r"空(?:格|白处?|位)?(?:里|处)?\s*(?:填|是|为|写|改成|换成|用)"
    r"|填(?:空|上|入|成|为|写|进)?\s*[“「\"『']?[^\s一下好完满]"
    r"|[_＿]+"
    rf"|(?:{TYPED_BLANK})(?:同志|单位|会议|书记|主席|区|县|市|镇|街道)?\s*(?:是|为|填|改成|换成|:)"
    r"|[^\s，。,]{1,8}同志(?:是|为|:)\s*\S"
    r"|^(?:其中|另外|还有|对了|补充一下|顺便说一下)?[，,]?\s*[\u4e00-\u9fff]{0,4}?"
    r"(?:日期|时间|地点|会议名称|会议全称|名称|会名|届次|主办单位|承办单位|单位名称|讲话人|致辞人|主持人|主讲人|职务|姓名|名字|年份|规划名称)"
    r"\s*(?:是|为|:|填)\s*\S"
    r"|(?:是|为|:)\s*\d{4}\s*年\s*\d{1,2}\s*月"
    # a person named by an act of the meeting: 作工作报告的是陈桂芳同志 / 报告是王海涛同志作的 / 通报情况的是王志刚
    r"|^(?:刚才)?(?:作|做)了?(?:工作)?报告的人?(?:是|为)|^(?:刚才)?(?:工作)?报告(?:是|由).{1,16}(?:作|做)的?[。！!]?$"
    r"|^(?:刚才)?(?:通报|主持|宣读)[^，。,]{0,6}?的人?(?:是|为)|同志(?:通报|宣读)的[。！!]?$"
    # 规划那里是十五五 / 空着的规划名称是…
    r"|^[\u4e00-\u9fff“”\"_]{1,8}(?:那里|那儿|那个地方|这里|那处)\s*(?:是|填|写|为)|^(?:那个|这个)?(?:空着的|留空的|没填的)"
)
_CORRECTION = rf"^(?:{CORRECTION_WORDS}|改一下)[，,。：:！!\s]*"
_CHECK = (r"检查|体检|诊断|审一下|审一审|审核|审阅|把关|看看结构|看一下结构|结构(?:对不对|完整|怎么样|合理|有没有问题)|"
          r"有什么问题|有没有问题|有哪些问题|有啥问题|哪里不好|哪里不妥|哪儿不好|挑挑?毛病|找找问题|"
          r"多长时间|多久|几分钟|能讲多长|多少字|字数多少|字数是|字数统计|统计一下|够不够|超没超|超时了?吗|"
          r"是不是太|是否太|会不会太|还缺什么|缺什么|完整吗|齐全吗|错别字|病句|语病|校对|通读|有没有错"
          r"|^(?:请|麻烦)?(?:帮我|你)?(?:看看|看一下|瞧瞧|过一遍)(?![^，。,]{0,8}(?:改|写|加|删|换))"
          r"|(?:写得|改得|这样|稿子|这段|这篇|讲稿|开头|开场白|结尾|部分|全文)[^，。,]{0,4}?(?:怎么样|如何|行不行|可以吗|好不好)")
_OUTLINE_WORD = r"提纲|大纲|框架|架子|纲要|结构安排"
_OUTLINE_CREATE = (rf"(?:列|拟|写|做|出|搭|来|生成|起草|给|整|弄|设计|定|理)[^，。,；;]{{0,6}}?(?:{_OUTLINE_WORD})"
                   rf"|(?:列|拟|写|做|出|起草|给)个?[^，。,；;]{{2,40}}?(?:的(?:讲话|致辞|发言)?|讲话|致辞|发言)(?:{_OUTLINE_WORD})"
                   rf"|(?:{_OUTLINE_WORD})[^，。,；;]{{0,4}}?(?:重新|再)(?:列|拟|做|出|搭|写|生成|起草|整理|来)"
                   rf"|^(?:{_OUTLINE_WORD})[。.!！]?$|(?:{_OUTLINE_WORD})(?:呢|怎么安排|怎么搭)")
_BY_OUTLINE = rf"(?:按|照|按照|根据|依照|依据|参照|照着|就按)(?:这个|这份|上面的?|刚才的?|现在的?|你的|这)?(?:{_OUTLINE_WORD})"
_STRUCT_EDIT = (
    r"(?:加|增加|添加|添|补|补充|新增|再写|再列|再加|多加)(?:上)?(?:一|两|三|几|\d)?个?(?:条|项|部分|方面|要点|小点|小标题)"
    r"|加(?:两|三|几)点"
    r"|(?:删|删掉|删除|去掉|拿掉|砍掉|不要)了?[^，。,]{0,12}?(?:第\s*\S{1,3}\s*(?:条|点|项|部分)|[一二三四五六七八九十]是|那条|这条|部分)"
    r"|(?:第\s*\S{1,3}\s*(?:条|点|项|部分)|[一二三四五六七八九十]是|那条|这条)[^，。,]{0,4}?(?:删掉|删除|去掉|拿掉|砍掉|不要了)"
    r"|(?:标题|小标题|题目)[^，。,]{0,6}?(?:改|换|调整|定为|叫)|(?:改|换)(?:一下)?(?:标题|小标题|题目)"
    r"|调换|交换|对调|互换|合并|拆分|拆成|顺序|挪到|移到|放到|调到|提到前面|放在前面|往前挪|往后挪"
    r"|(?:改成|改为|换成)"
)
_TEXT_EDIT = r"一句|句话|这段话|语气|措辞|用词|例子|数据|金句|案例"
_WHOLE_NOUN = r"讲话稿|讲话|讲稿|致辞|发言稿|发言|稿子|讲话材料|文稿|演讲稿|演讲"
_DRAFT_ALL = (
    r"(?:写|生成|起草|出|拟|成)[^，。,]{0,6}?(?:全文|全篇|整篇|通篇|全稿|完整稿|完整的|整个稿子|整个讲话|全部|剩下|其余|其他部分|成稿)"
    r"|(?:全文|全篇|整篇|通篇|全稿|全部|剩下的?|其余的?|其他部分)[^，。,]{0,4}?(?:都|一起|一并|全)?(?:写|生成|起草)(?![得成短长])"
    r"|一口气|一次性(?:写|生成)|一次写完|都写了|全写了|全都写|全部写"
)
_DRAFT_VERB = (
    r"起草|草拟|撰写|编写|重新写(?!得)|重写|再写(?!得)|重做|重来|生成|拟(?:一|个|写|定|出|稿|份|篇|段)"
    r"|来(?:一(?:段|个|篇|版|份|稿)|个|段|篇|版|份)|出(?:一版|个|一个|一段|一篇)"
    r"|换(?:一)?(?:个|段|版)(?=开场白|开头|开篇|结尾|结束语|过渡)"
    r"|(?<![改扩缩填多少描抄誊])写(?![得成法进入上清到明短长细具实活的])"
)
_REDRAFT = r"重写|重新写|再写一版|再来一版|换一版|重来|再来一个|再来一段|换一个|换个写法"
_COMPRESS = (r"压缩|缩短|缩减|缩到|缩成|缩写|精简到|精简成|删减|删到|减到|减少到|砍到|砍掉一半|压到|压成|控制到|"
             r"短一点|短一些|短点|太长|过长|长了|超了|超时|减少字数|减字|少写|删掉一些|删一些|减少篇幅|减少一些")
_BUDGET_CUE = r"控制在|以内|之内|左右|时长|时间|只有|限时|不超过|不要超过|别超过|最多|讲|准备|大概|大约|按"

# refine presets (prompts/tones.yaml, in its order) then shorten; whichever occurs first in the message wins


@lru_cache(maxsize=1)
def _styles() -> tuple[tuple[str, str], ...]:
    from . import tones

    return tuple((t.id, t.words) for t in tones.load() if t.words) + (("shorten", _COMPRESS),)


@lru_cache(maxsize=1)
def _fault_styles() -> frozenset[str]:
    """Presets whose words are themselves faults: 太啰嗦 asks for concise, 太长 for shorten."""
    from . import tones

    return frozenset({t.id for t in tones.load() if t.fault} | {"shorten"})


_NEGATION = r"(?:不要|别|不用|不必|不能|避免|不想|少点|少一点)(?:太|那么|这么|过于|过分)?\s*$"

_REFINE_CUE = (
    r"改(?!革)|修改|调整|润色|优化|打磨|完善|加一句|加句|补一句|补充|加上|加点|加入|增加|删|去掉|拿掉|换成|换个|替换|"
    r"太空|太虚|空洞|空泛|具体|生动|突出|强调|体现|留出|留个|留下|不够|再.{0,4}一点|[\u4e00-\u9fff]{1,3}(?:一点|一些|些)[吧呢。!！]*$|提炼|升华|加强|弱化|"
    r"顺一下|理顺|通顺|衔接|呼应|照应|引用|举例|例子|数据|案例|金句|排比|对仗|提一下|提到|写进|写上|写得|写成|"
    r"写清楚|写明|不对|不好|不行|不满意|别用|不要用|不要太|别太|不要那么|别那么|太.{1,4}了"
)


def _style(t: str) -> str | None:
    found: list[tuple[int, int, str]] = []
    for order, (style, pat) in enumerate(_styles()):
        for m in _rx(pat).finditer(t):
            before = t[max(0, m.start() - 6): m.start()]
            if _has(_NEGATION, before):
                continue
            if style not in _fault_styles() and (
                _has(r"(?:太|过于|过分|有点|有些)\s*$", before) and not _has(r"不够\s*$", before)
            ):
                continue  # 太正式了 asks for the opposite: leave it to the custom instruction
            found.append((m.start(), order, style))
    if not found:
        return None
    return min(found)[2]


# --------------------------------------------------------------------------- the speech's plan from a template

_TPL_VERB = r"(?:按|照|按照|参照|依照|照着|仿照|比照|沿用|套用|借鉴)"
_TPL_NOUN = r"(?:结构|框架|格式|路子|样子|套路|体例|模板|模版|范本|样板|架构|章法)"
_TPL_TAIL = r"(?:(?:来|去)?(?:写|起草|拟)(?=$|[，,。.！!；;：:\s]))?"  # 写 goes with the phrase only when it ends there
_TPL_TITLE = (rf"{_TPL_VERB}\s*《([^》]{{2,80}})》\s*(?:这篇|那篇)?(?:讲话|讲稿)?的?\s*{_TPL_NOUN}{_TPL_TAIL}"
              rf"|(?:用|拿|以|把)\s*《([^》]{{2,80}})》\s*(?:当|做|作|作为|为|当作)\s*{_TPL_NOUN}{_TPL_TAIL}")
_TPL_THIS = (rf"(?:用|拿|以|把)(?:这篇|这份|这个|下面这篇|下面的|以下)(?:讲话|讲稿|稿子|文稿)?(?:当|做|作|作为|为|当作){_TPL_NOUN}"
             rf"{_TPL_TAIL}|{_TPL_VERB}(?:这篇|这份|下面这篇|下面的|以下)(?:讲话|讲稿|稿子|文稿)?的?{_TPL_NOUN}{_TPL_TAIL}")
_TPL_DEFAULT = r"(?:恢复|用回|改回|换回|回到)(?:成)?默认的?(?:结构|三部分|格式)|不用模板了?|取消模板|不按模板"


def template_request(message: str) -> tuple[str, str] | None:
    """(what, rest) when the message asks to follow a template speech: ``what`` is the template's title (as
    written inside 《》), "this" (用这篇当模板: the text that follows, or the current document) or "default"
    (恢复默认结构); ``rest`` is the message without that phrase (a request to carry out afterwards, or the
    pasted speech).  Only the first line is read: a pasted speech's body never decides."""
    first, _, after = (message or "").partition("\n")
    t = _norm(first)
    for pattern, what in ((_TPL_DEFAULT, "default"), (_TPL_TITLE, None), (_TPL_THIS, "this")):
        m = _search(pattern, t)
        if m:
            # _norm keeps offsets, so the groups of the normalised line are the title as the user wrote it
            title = what or _clean(first[m.start(1): m.end(1)] if m.group(1) else first[m.start(2): m.end(2)])
            rest = (first[: m.start()] + first[m.end():]).strip(" \t，,。.：:；;！!")
            rest = "\n".join(x for x in (rest, after.strip()) if x)
            return title, rest
    return None


# --------------------------------------------------------------------------- route

_Q_OCCASION = "请告诉我会议名称或场合，例如“区妇联第四次代表大会”，我先拟提纲还是直接写开场白？"
_Q_NO_DOC = "现在还没有稿子。要我先写哪一部分（比如开场白），还是先列个提纲？"


def _search_terms(raw: str) -> str:
    """What a search request looks for: the quoted text when there is one, else the request without its verbs."""
    m = re.search(r"[“\"「『]([^”\"」』]{1,40})[”\"」』]", raw)
    if m and m.group(1).strip():
        return m.group(1).strip()
    rest = _rx(_SEARCH_FILLER).sub(" ", raw)
    rest = re.sub(r"[\s，。,.!！？?：:、]+", " ", rest).strip()
    return re.sub(r"^的\s*|\s*的$", "", rest).strip()


_OWN = (r"(?:我|我们)?(?:已经|已|自己|都)?(?:写好|写完|定稿|定了|准备好)了?|(?:我|我们)?自己(?:来)?写|我(?:们)?来写"
        r"|(?:不用|不需要|不必|无需)(?:你)?(?:再)?(?:写|起草|改|动)")
_OTHER_LANGUAGE = r"英文|英语|英译|English|翻译|译成|译为|日文|日语|法文|俄文|德文|韩文|双语"
_SOURCE = r"出自|出处|来源|参考了?(?:哪些|哪几篇|哪篇|什么)|从哪(?:里|儿)?来|哪(?:篇|里|个)(?:讲话|文件|材料)?(?:里|中)?(?:的|来的|说的|讲的)|原文(?:在|是)"
_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{6,})[”\"」』]")


def own_sections(message: str, part_count: int = 3) -> tuple[list[Target], str]:
    """Context statements: 「第一部分我已经写好了」「开场白不用你写」 name sections the user has (or will) write; returns
    (those targets, the rest of the message — 「你写第二部分」 — with the statements taken out)."""
    t = _norm(message)
    found, rest = [], t
    for clause in re.split(r"[，,。；;！!]", t):
        if not clause.strip() or not _has(_OWN, clause):
            continue
        hit = _target_hit(clause, None, part_count)
        tgt = hit.target if hit else None
        if tgt is None or tgt.kind not in ("opening", "transition", "part", "closing"):
            continue
        if _has(r"(?<!不用)(?<!不需要)(?<!不必)(?<!无需)(?:你|帮我|请|给我|麻烦)(?:再|先)?(?:写|起草|拟)", clause):
            continue  # 「你写好第一部分」 is a request, not a statement
        found.append(tgt)
        rest = rest.replace(clause, "", 1)
    return found, re.sub(r"^[，,。；;！!\s]+|[，,；;\s]+$", "", rest)


def pasted_text(message: str) -> str:
    """The passage pasted after an instruction (「帮我润色一下：同志们，今天……」), "" when there is none."""
    m = re.search(r"[:：]\s*\n?(.+)$", message or "", re.S)
    text = m.group(1).strip() if m else ""
    if not text:
        q = _QUOTED.search(message or "")
        text = q.group(1).strip() if q else ""
    return text if len(re.findall(r"[\u4e00-\u9fff]", text)) >= 20 else ""


def other_language(message: str) -> bool:
    """A request for a version in another language, or a request written in one (mostly Latin letters)."""
    t = message or ""
    latin = len(re.findall(r"[A-Za-z]", t))
    cjk = len(re.findall(r"[\u4e00-\u9fff]", t))
    return _has(_OTHER_LANGUAGE, t) or (latin >= 12 and cjk < latin / 6)


def route(
    message: str,
    *,
    has_document: bool = False,
    has_outline: bool = False,
    part_count: int = 3,
    last_section: str | None = None,
    roles: tuple[str, ...] | None = None,
) -> Intent:
    """Route a chat message to an :class:`Intent` (see the module doc for precedence).  ``part_count``: parts the
    speech has (its plan's, or the document's when more); ``roles``: the plan's roles when it follows a template."""
    raw = message or ""
    t = _norm(raw).strip()
    raw = raw.strip()
    if not t:
        return Intent("chat", confidence=0.0)
    # 0. the speech's plan from a template
    tpl = template_request(raw)
    if tpl is not None:
        return Intent("template", topic=tpl[0], instruction=tpl[1])
    minutes, chars = parse_duration(t)
    hit = _target_hit(t, last_section, part_count, roles)
    target = hit.target if hit else None
    next_unresolved = hit is not None and hit.target is None
    question = _has(_QUESTION, t)

    def intent(action: Action, **kw) -> Intent:
        kw.setdefault("minutes", minutes)
        kw.setdefault("chars", chars)
        return Intent(action, **kw)

    # 0-. 「不是，我是说……」: a correction of the turn before — the rest is routed as the request it is
    fix = re.match(rf"^(?:{CORRECTION_WORDS})[，,。：:！!\s]*(?:我是说|我说的是|我要的是|我的意思是|我是要|是要|要的是)[，,：:\s]*(.+)$", raw)
    if fix:
        it = route(fix.group(1), has_document=has_document, has_outline=has_outline, part_count=part_count,
                   last_section=last_section)
        if it.action == "clarify" and it.target is not None:  # 「不是，我是说第二部分」: the same request, that part
            it = Intent("draft" if not has_document else "clarify", target=it.target, question=it.question)
        it.correction = True
        return it
    # 0. a version in another language, or a request in one
    if other_language(raw) and not _has(r"英文字母|翻译腔", t):
        return Intent("language")
    # 0a. context statements: 「第一部分我已经写好了」 is remembered, not acted on; 「……，你写第二部分」 goes on
    own, rest = own_sections(raw, part_count)
    if own:
        if not _norm(rest).strip(" 了吧啊。.!！") or _has(r"^(?:请|就)?(?:别|不要|不用|无需|请勿|先别)(?:再)?(?:动|改|管)|^保留", rest):
            return Intent("context", target=own[0], own=tuple(own))
        it = route(rest, has_document=has_document, has_outline=has_outline, part_count=part_count,
                   last_section=last_section)
        it.own = tuple(own)
        return it
    # 0b. where a sentence comes from: a quoted sentence is looked up in past speeches; 「这句话出自哪里」 without
    # one asks for the sources of the section the user is on
    if _has(_SOURCE, t) and not _has(_DRAFT_VERB, t):
        quoted = _QUOTED.search(raw)
        if quoted:
            return Intent("search", topic=quoted.group(1).strip())
        if _has(r"这(?:句|段|里|部分|一段|一句|些)|上面|刚才|参考", t):
            return Intent("source", target=target or Target("current"))
    # 1. help
    if _has(_HELP, t):
        return Intent("help")
    # 2. redo
    if _has(_REDO, t) and not (target and _has(r"重做", t) and not _has(r"撤销", t)):
        return Intent("redo")
    # 3. restore
    version = _version(t)
    if version is not None and _has(_RESTORE_VERB, t):
        return Intent("restore", version=version, confidence=1.0 if _has(r"\d|第|版本", t) else 0.8)
    # 4. undo
    if _has(_UNDO, t):
        return Intent("undo", target=target)
    # 5. diff
    if _has(_DIFF, t):
        return Intent("diff", target=target)
    # 6. greetings
    if _has(_GREETING, t):
        return Intent("chat", confidence=1.0)
    # 6a. search the knowledge base
    past = _has(r"往年|以前|过去|之前|历年|以往|知识库|讲话(?:稿)?(?:里|中)", t)
    if _has(_SEARCH, t) and not _has(_CHECK + r"|字数|时长", t) and (past or not (target and has_document)):
        what = _search_terms(raw)
        if what:
            return Intent("search", target=target, topic=what)
        return Intent("clarify", question="要在往年讲话里找什么？例如「找一下“墩苗”计划」或「哪篇讲话提到过一码通办」。")
    # 7. fill
    if _has(_FILL, _rx(_CORRECTION).sub("", t)) and not question and not _has(r"太空|空洞|空泛", t):
        weak = not _has(TYPED_BLANK + r"|同志|是|为|:|空.{0,3}(?:填|写|改成|换成|用)\s*\S", t)
        # a duration is a budget, not a blank: 讲话时间是10分钟
        if not (minutes is not None and not _has(r"[_＿]|空", t)):
            return Intent("fill", instruction=raw, confidence=0.6 if weak else 1.0)
    # 8. check
    if _has(_CHECK, t) and not (_has(_COMPRESS, t) and (minutes is not None or chars is not None)):
        return intent("check", target=target)

    topic = _topic(raw, t)
    occasion = _occasion(raw, t)
    style = _style(t)
    by_outline = _has(_BY_OUTLINE, t)
    no_outline_phrase = _rx(_BY_OUTLINE).sub("", t)
    # 展开写写 / 详细写 / 多写点 ask for more text, not a new draft
    draft_verb = _has(_DRAFT_VERB, _rx(r"(?:展开|详细|具体|多|再多)(?:一点|些|点)?来?写+").sub("", t))
    specific = target is not None and target.kind != "whole"

    # 9. outline (create)
    if _has(_OUTLINE_CREATE, no_outline_phrase) and not (specific and not _has(_OUTLINE_WORD, no_outline_phrase)):
        if not (has_outline and _has(_STRUCT_EDIT, t) and not _has(r"重新|再|换一个|重拟|重列", t)):
            return intent("outline", instruction=raw, topic=topic, occasion=occasion)
    # 10. outline_edit
    mentions_outline = _has(_OUTLINE_WORD, no_outline_phrase)
    if _has(_STRUCT_EDIT, t) and not by_outline:
        text_edit = _has(_TEXT_EDIT, t) or (target is not None and target.kind in ("current", "selection"))
        if mentions_outline or (has_outline and not text_edit):
            return Intent("outline_edit", target=target, instruction=raw, topic=topic)
        if not has_document and not text_edit and not _has(r"改成|改为|换成", t):
            return Intent("outline_edit", target=target, instruction=raw, topic=topic, confidence=0.6)
    if has_outline and not has_document and _has(r"标题|小标题|题目", t) and not draft_verb:
        return Intent("outline_edit", target=target, instruction=raw, topic=topic)
    # 11. draft_all
    whole_request = draft_verb and not specific and (target is not None or _has(_WHOLE_NOUN, t))
    if by_outline and not specific:
        return intent("draft_all", target=Target("whole"), topic=topic, occasion=occasion, style=_preset(style),
                      instruction=raw)
    if (_has(_DRAFT_ALL, t) and not specific) or whole_request:
        if occasion or has_outline or has_document:
            return intent("draft_all", target=Target("whole"), topic=topic, occasion=occasion, style=_preset(style),
                          instruction=raw)
        return intent("clarify", question=_Q_OCCASION, topic=topic, style=_preset(style))
    # 12. draft
    carry_on = _has(r"接着写|继续写|往下写|续写|^(?:请|那就)?继续(?:吧)?[。.!！]?$|^下一(?:部分|段)[。.!！]?$", t)
    if draft_verb or by_outline or next_unresolved or carry_on:
        if next_unresolved:
            return Intent("clarify", question="已经写到结尾了。要我检查全文，还是修改哪一部分？")
        if specific:
            conf = 0.8 if _has(r"怎么写|如何写|写什么|应该怎么", t) else 1.0
            return intent("draft", target=target, topic=topic, occasion=occasion, style=_preset(style),
                          instruction=raw, confidence=conf)
        if _has(r"(?:写|来|拟)(?:一|几|两)(?:段|句|条)", t) and not occasion:
            return intent("clarify", question="这段内容放在哪一部分？开场白、第几部分，还是结尾？", topic=topic,
                          instruction=raw)
        if has_document and _has(_REDRAFT, t):
            return intent("draft", target=Target("current"), topic=topic, style=_preset(style),
                          instruction=raw, confidence=0.8)
        if occasion:
            return intent("draft_all", target=Target("whole"), topic=topic, occasion=occasion,
                          style=_preset(style), instruction=raw, confidence=0.8)
        if has_outline and not has_document:
            return intent("draft_all", target=Target("whole"), topic=topic, style=_preset(style),
                          instruction=raw, confidence=0.7)
        if not has_document:
            return intent("clarify", question=_Q_OCCASION, topic=topic, style=_preset(style))
        return intent("clarify", question="要写哪一部分？开场白、第几部分，还是结尾？", topic=topic)

    # 13. shorten / budget
    compress = _has(_COMPRESS, t)
    refine_target = target or Target("current")
    if (minutes is not None or chars is not None) and not compress and style != "expand":
        editing = _has(r"改(?!革)|调整|删|砍|精简", t)
        if minutes is not None and not specific and not editing:
            return Intent("budget", minutes=minutes, chars=chars)
        if chars is not None and not specific and not has_document:
            return Intent("budget", minutes=minutes, chars=chars)
        if _has(_BUDGET_CUE, t) or specific or editing:
            return intent("refine", target=refine_target, style="shorten", instruction=raw)
    if compress and (minutes is not None or chars is not None):
        return intent("refine", target=refine_target, style="shorten", instruction=raw)
    # 14. presets
    if style:
        return intent("refine", target=refine_target, style=style, instruction=raw,
                      topic=topic if _has(r"关于|[:：]", t) else "")
    # 15. praise is not a request: 这段写得不错 / 挺好
    if _has(r"不错|很好|挺好|真好|很棒|满意|可以了|没问题|就这样", t) and not _has(
        r"不过|但是|但|再|改|加|删|换|调|能不能|可不可以|如果", t
    ):
        return Intent("chat", target=target, confidence=0.5)
    # 16. custom
    if _has(_REFINE_CUE, t) or (target and topic):
        vague = _has(r"^(?:请|帮我|麻烦)?(?:再)?(?:改一下|改改|修改一下|改一改|调整一下|优化一下|润色一下|完善一下|改下)[吧呗。.!！]*$", t)
        if vague and target is None and not has_document:
            return Intent("clarify", question=_Q_NO_DOC, instruction=raw)
        return intent("refine", target=refine_target, style="custom", instruction=raw,
                      topic=topic if _has(r"关于|[:：]", t) else "",
                      confidence=0.6 if vague else (1.0 if target else 0.8))
    # 17. a bare target
    if target is not None and target.kind not in ("whole",):
        if not has_document and target.kind in ("opening", "transition", "part", "item", "closing"):
            return intent("draft", target=target, topic=topic, occasion=occasion, instruction=raw, confidence=0.7)
        return Intent("clarify", target=target,
                      question=f"要对{target.label()}做什么：重写、润色，还是压缩？", confidence=0.5)
    # 18. nothing matched
    return Intent("chat", confidence=0.0, occasion=occasion)


def _preset(style: str | None) -> str | None:
    """A tone that also applies to drafting (写一段有气势的结尾), else None."""
    from . import tones

    t = tones.tone(style)
    return style if t is not None and t.drafts else None


def preset(tone_id: str) -> Intent:
    """What a tone button asks for: that preset on the current section (or the selection), nothing to parse."""
    from . import tones

    t = tones.tone(tone_id)
    if t is None:
        raise KeyError(tone_id)
    return Intent("refine", Target("current"), style=t.id, instruction=t.label or t.instruction)
