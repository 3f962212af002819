"""The brief: what the speech is for, as data — occasion, organisation, speaker, audience, date, length.

Every request the user types adds to it (:meth:`Brief.update`): 「为丰林区科协第五次代表大会写提纲，我是区长」
gives the occasion, the organisation (丰林区科协) and the speaker (区长); 「会议在2027年3月15日召开」 the date;
「讲10分钟」 the length.  What follows from it — the kind of meeting, whom the speaker speaks for
(区委、区政府), the salutation (各位代表，同志们), the members greeted — comes from the formula table
``prompts/formulas.yaml``.  The brief is shown to the user, given to every prompt (:meth:`prompt_block`)
and drives the ritual sentences the code writes itself.  A value nobody gave stays empty, and the
sentence that needs it carries a blank (XX).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from .settings import ROOT

FORMULAS = ROOT / "prompts" / "formulas.yaml"
MEETING_WORDS = (r"代表大会|会员大会|全委（扩大）会议|全委扩大会议|全委会|委员会全体会议|全体会议|工作会议|推进会|部署会|动员会|"
                 r"联席会议|座谈会|调度会|现场会|表彰大会|表彰会|大会|会议|年会|典礼|仪式|开幕式|闭幕式|开班式|结业式|启动会|"
                 r"团拜会|推介会|论坛|运动会|活动|庆祝会|纪念会|报告会|培训班")
_PLACE = r"[\u4e00-\u9fff]{1,6}?(?:省|市|区|县|镇|乡|街道|开发区|经开区|新区)"
_LEAD = re.compile(r"^(?:请|麻烦|帮我|帮忙|你|给我|为|给|在|写|写个|写一篇|写一个|拟|拟个|拟一个|起草|准备|出个|列个|做个|来个|"
                   r"这次|本次|我要在|我们要在|我将在|我在|我们|一篇|一个|个)+")
_TAIL = re.compile(r"(?:上的|上|的)?(?:讲话稿|讲话|致辞|发言|讲稿|提纲|开场白|开头|结尾)?(?:写|的)*$")
_SPEAKER = [
    re.compile(r"我是(?:本次会议的|这次会议的|今天的)?([\u4e00-\u9fff]{2,14}?)(?:，|,|。|；|$|\s|讲话|致辞|发言|要讲)"),
    re.compile(r"(?:以|用)([\u4e00-\u9fff]{2,12}?)(?:的)?身份"),
    re.compile(r"(?:讲话人|讲话的|致辞人)(?:是|为)([\u4e00-\u9fff]{2,12}?)(?:，|,|。|$)"),
    re.compile(r"(?:^|，|,|。|\s)([\u4e00-\u9fff]{1,10}?(?:书记|区长|县长|市长|镇长|乡长|局长|主任|校长|院长|董事长|部长|主席|理事长))"
               r"(?:讲话|致辞|发言|作报告)"),
]
_TITLE_END = re.compile(r"(?:书记|长|主任|主席|董事长|总经理|理事长|会长|校长|院长|部长|局长|委员)$")
_DATE = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*(?:日|号)")
_MINUTES = re.compile(r"(?:讲|控制在|时长|篇幅|全文|整篇|一共|总共|大约|约)\s*(\d+(?:\.\d+)?|[一二两三四五六七八九十]+)\s*分钟")
_CHARS = re.compile(r"(?:全文|整篇|一共|总共|控制在)\s*(\d{3,5})\s*字")
_FESTIVALS = ("春节", "新春", "元旦", "元宵", "端午", "中秋", "重阳", "国庆", "五一", "劳动节", "五四", "青年节", "三八",
              "妇女节", "教师节", "护士节", "记者节", "丰收节", "儿童节", "建军节")
_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


@lru_cache(maxsize=4)
def formulas(path: Path = FORMULAS) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def _first(rows: list[dict], text: str) -> str:
    for row in rows:
        if not row["match"] or re.search(row["match"], text):
            return row["text"]
    return ""


def _cn_number(s: str) -> float | None:
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    if s in _CN:
        return float(_CN[s])
    if len(s) == 2 and s[0] == "十" and s[1] in _CN:
        return 10.0 + _CN[s[1]]
    if len(s) == 2 and s[1] == "十" and s[0] in _CN:
        return 10.0 * _CN[s[0]]
    return None


def find_occasion(message: str) -> str:
    """The meeting named in a message (丰林区科协第五次代表大会), or ""."""
    for clause in re.split(r"[，。,；;！!？?\n]", message):
        clause = clause.strip()
        m = re.search(rf"^(.*(?:{MEETING_WORDS}))", clause)
        if not m:
            continue
        occ = _LEAD.sub("", m.group(1))
        occ = re.sub(r"^(?:.*?(?:为|给|在))(?=" + _PLACE + ")", "", occ) if re.search(r"(?:为|给|在)" + _PLACE, occ) else occ
        occ = _TAIL.sub("", occ).strip("“”\" ")
        if len(occ) >= 4 and not re.fullmatch(rf"(?:这次|本次|今天的)?(?:{MEETING_WORDS})", occ):
            return occ
    return ""


def find_speaker(message: str) -> str:
    for rx in _SPEAKER:
        m = rx.search(message)
        if m:
            who = m.group(1)
            who = re.sub(r"^(?:本次|这次|会上的|大会的)", "", who)
            if _TITLE_END.search(who) and len(who) <= 14:
                return who
    return ""


def meeting_kind(occasion: str) -> str:
    return _first(formulas()["kinds"], occasion) if occasion else ""


def split_occasion(occasion: str) -> tuple[str, str]:
    """(organisation or place, subject): 丰林区科协第五次代表大会 → (丰林区科协, 科协);
    石梁市人才工作会议 → (石梁市, 人才); 柘山区图书馆新馆开馆仪式 → (柘山区图书馆, 图书馆新馆开馆)."""
    occ = re.sub(r"（[^）]*）|\([^)]*\)", "", occasion)
    occ = re.sub(r"\d{4}届|建[院校厂馆]\d+周年|建[院校厂馆][一二三四五六七八九十]+周年|\d{4}年(?:度)?|[一二三四]季度|第[一二三四五六七八九十\d]+[届次]|[春夏秋冬]季", "", occ)
    # a quoted plan name (“十五五”) is a fact, not the subject; a quoted title (“最美退役军人”) is the subject
    occ = re.sub(r"“([^”]*)”", lambda m: "" if re.search(r"十[一二三四五六七八九]五|\d", m.group(1)) else m.group(1), occ)
    place = ""
    m = re.match(rf"^({_PLACE})", occ)
    if m:
        place = m.group(1)
    rest = occ[len(place):]
    core = re.sub(rf"(?:暨.*)?(?:会员代表大会|代表大会|会员大会|全委扩大会议|全委会|全体会议|工作会议|工作推进会|推进会|部署会|动员会|"
                  rf"联席会议|座谈会|表彰大会|庆祝大会|发展大会|大会|会议|集中开工仪式|开工仪式|揭牌仪式|开馆仪式|启动仪式|仪式|开学典礼|"
                  rf"毕业典礼|典礼|开幕式|开班式|年会|团拜会|推介会|活动|庆祝活动)$", "", rest)
    core = re.sub(r"(?:工作|建设)$", "", core) or core
    org = place + core if core else place
    if not core:
        return place, ""
    subject = core
    short = {"科学技术协会": "科协", "残疾人联合会": "残联", "归国华侨联合会": "侨联", "文学艺术界联合会": "文联",
             "关心下一代工作委员会": "关工委", "妇女联合会": "妇联", "总工会": "工会", "工商业联合会": "工商联"}
    for long, s in short.items():
        if subject.endswith(long):
            subject = s
    subject = re.sub(r"^(?:市|区|县)?直(?=机关)", "", subject)
    if re.search(r"表彰|颁奖|评选", rest):  # 最美退役军人表彰大会: the field is 退役军人, the award is its title
        subject = re.sub(r"^(?:最美|优秀|先进|杰出|模范|十佳|百佳|最佳)+", "", subject) or subject
    return org, subject


@dataclass
class Brief:
    occasion: str = ""
    organisation: str = ""
    subject: str = ""
    speaker: str = ""
    speech_date: date | None = None
    date_given: bool = False  # the user said the date (else it is the configured or today's date)
    minutes: float | None = None  # length of the whole speech the user asked for
    audience: str = ""
    salutation: str = ""  # set by the user; else from the formula table
    notes: list[str] = field(default_factory=list)

    # --- derived ---------------------------------------------------------------
    @property
    def kind(self) -> str:
        return meeting_kind(self.occasion) or "other"

    @property
    def place(self) -> str:
        m = re.match(rf"^({_PLACE})", self.occasion)
        if not m:
            return ""
        p = m.group(1)
        return re.sub(r"(?:经开区|开发区|新区)$", "", p) if len(p) > 3 else p

    @property
    def level(self) -> str:
        """全区 / 全县 / 全市 …"""
        p = self.place
        for ch in ("区", "县", "市", "镇", "乡"):
            if p.endswith(ch):
                return "全" + ch
        return "全区" if not p else "全" + p[-1]

    def represent(self) -> str:
        """Whom the speaker speaks for (区委、区政府), or "" when unknown."""
        who = self.speaker
        if not who:
            return ""
        for row in formulas()["represent"]:
            m = re.search(row["match"], who)
            if m:
                return m.expand(row["text"])
        unit = _TITLE_END.sub("", who)
        unit = re.sub(r"(?:党组|党委)?(?:副)?$", "", unit)
        return unit if len(unit) >= 2 else ""

    def salutation_line(self) -> str:
        if self.salutation:
            return self.salutation
        f = formulas()
        text = _first(f["salutations"], self.occasion) if self.occasion else ""
        return text or f["by_kind"].get(self.kind, f["by_kind"]["other"])

    def members(self) -> str:
        return _first(formulas()["members"], self.organisation or self.occasion)

    def festival(self, said: str = "") -> str:
        for w in _FESTIVALS:
            if w in self.occasion or w in said:
                return {"新春": "新春佳节", "春节": "新春佳节", "重阳": "重阳佳节", "中秋": "中秋佳节"}.get(w, w)
        return ""

    @property
    def short_org(self) -> str:
        """The organisation as its own speech names it: 南塘县残联 → 县残联 (the place is known to all)."""
        org, place = self.organisation, self.place
        if org and place and org.startswith(place) and len(org) > len(place):
            return place[-1] + org[len(place):]
        return org

    def values(self) -> dict[str, str]:
        """Values for the formula templates; an unknown one is a blank."""
        return {
            "represent": self.represent() or "XX",
            "occasion": self.occasion or "XX会议",
            "org": self.organisation or "XX",
            "short_org": self.short_org or "XX",
            "subject": self.subject or "各项",
            "field": f"{self.subject}队伍" if self.subject else "各条战线",  # 受表彰的……是全县退役军人队伍中的优秀代表
            "members": self.members() or "全体同志",
            "event": (self.occasion or "活动").replace("仪式", "") if self.kind in ("ceremony", "festival") else "大会的召开",
            "place": self.place or "XX",
            "festival": self.festival() or "节日",
        }

    # --- input ---------------------------------------------------------------------
    def update(self, message: str, occasion_hint: str = "") -> list[str]:
        """Take what a message says about the speech; returns the names of the fields it changed."""
        changed = []
        occ = find_occasion(message) or _TAIL.sub("", _LEAD.sub("", occasion_hint)).strip("“”\" ")
        if occ and occ != self.occasion and (not self.occasion or len(occ) >= 4):
            if not self.occasion or occ not in self.occasion:
                self.occasion = occ
                self.organisation, self.subject = split_occasion(occ)
                changed.append("occasion")
        who = find_speaker(message)
        if who and who != self.speaker:
            self.speaker = who
            changed.append("speaker")
        m = _DATE.search(message)
        if m and re.search(r"召开|举行|开|讲话|日期|时间|举办|会议", message):
            year = int(m.group(1)) if m.group(1) else (self.speech_date or date.today()).year
            try:
                self.speech_date = date(year, int(m.group(2)), int(m.group(3)))
                self.date_given = True
                changed.append("date")
            except ValueError:
                pass
        m = _MINUTES.search(message)
        if m and re.search(r"全文|整篇|讲话|讲|篇幅", message) and not re.search(r"开场|开头|结尾|第.部分|过渡", message):
            minutes = _cn_number(m.group(1))
            if minutes:
                self.minutes = minutes
                changed.append("minutes")
        return changed

    # --- output ----------------------------------------------------------------------
    def prompt_block(self) -> str:
        """The brief as the first lines of every prompt after the system prompt (stable within a session)."""
        bits = [f"会议：{self.occasion or '（未说明）'}"]
        if self.speaker:
            rep = self.represent()
            bits.append(f"讲话人：{self.speaker}" + (f"（代表{rep}讲话）" if rep and rep != self.speaker else ""))
        bits.append(f"听众：{self.salutation_line().replace('，', '、')}")
        if self.speech_date:  # the month only when the user gave the date: else it is a guess
            month = f"{self.speech_date.month}月" if self.date_given else ""
            bits.append(f"时间：{self.speech_date.year}年{month}")
        return "【讲话要素】" + "；".join(bits) + "。"

    def summary(self, chars_per_minute: int = 220) -> str:
        """For the user: what the assistant understood, and what it still needs."""
        rep = self.represent()
        speaker = self.speaker + (f"（代表{rep}）" if rep and rep != self.speaker else "") if self.speaker else "未说明"
        when = f"{self.speech_date:%Y年%m月%d日}".replace("年0", "年").replace("月0", "月") if self.speech_date else "未说明"
        parts = [f"会议：{self.occasion or '未说明'}", f"讲话人：{speaker}", f"称呼：{self.salutation_line()}",
                 f"日期：{when}{'' if self.date_given else '（按今天）'}"]
        if self.minutes:
            parts.append(f"篇幅：约 {self.minutes:g} 分钟（{int(self.minutes * chars_per_minute)} 字）")
        return "【讲话要素】" + "｜".join(parts)

    def missing(self) -> list[str]:
        out = []
        if not self.occasion:
            out.append("会议名称")
        if not self.speaker:
            out.append("讲话人身份")
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        d["speech_date"] = self.speech_date.isoformat() if self.speech_date else None
        d.update(kind=self.kind, represent=self.represent(), salutation_line=self.salutation_line())
        return d

    @classmethod
    def from_dict(cls, d: dict | None) -> "Brief":
        if not d:
            return cls()
        keep = {k: d.get(k) for k in ("occasion", "organisation", "subject", "speaker", "date_given", "minutes",
                                      "audience", "salutation") if d.get(k) is not None}
        b = cls(**keep)
        if d.get("speech_date"):
            b.speech_date = date.fromisoformat(d["speech_date"])
        b.notes = list(d.get("notes") or [])
        return b
