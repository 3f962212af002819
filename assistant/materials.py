"""会议材料: the meeting's own materials (the work report, the year's figures, the plan's name), kept with one speech.

A speech at a congress builds on what the meeting has in hand.  :class:`Materials` holds those texts for one
session (attached as .txt/.md/.docx through :func:`read_material`, or pasted in the chat, :func:`pasted`), never
in the shared knowledge base, and saved with the session.  It owns four things:

* **facts** — the sentences of the materials that carry a number, name, date or plan name
  (:meth:`Materials.fact_sentences`); a sentence that reads as an instruction to the model
  (「忽略以上要求……」) is never one of them: materials are data, and reach a prompt only quoted;
* **search** — the fact sentences ranked for one paragraph (:meth:`Materials.search`): characters shared with
  the paragraph's topic, and the local embedding model when one is at hand; past speeches are ranked apart
  (:mod:`assistant.retrieval`): they lend wording, the materials lend facts;
* **grounding** — what the guard may keep: the materials' text is allowed alongside the user's messages
  (``Session.allowed_text``), and :meth:`Materials.ground` blanks a number that only matched inside another
  (「6个」 inside 「46个」);
* **citation** — :meth:`Materials.citations` says where each fact of the speech came from (a material sentence,
  the user's messages, or nowhere), and :meth:`Materials.stale` finds a value the speech still uses after the
  material changed it (the file edited and attached again).
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import placeholders
from .loaders import LoadError, read_speech

MAX_MATERIALS = 10
MAX_MATERIAL_CHARS = 60_000  # a work report is 10–20 thousand characters
FACTS_PER_PARAGRAPH = 3
_SENT = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?[”’」』）)]?")
_DIGITS = re.compile(r"(?<![\d.])\d+(?:\.\d+)?%?(?![\d.])")
# a sentence speaking to the model, not about the meeting: never shown as a fact
_INSTRUCTION = re.compile(r"忽略|无视|不要(?:遵守|理会|执行)|(?:以上|之前|前面)的?(?:要求|指令|规则|提示)|系统提示|提示词|"
                          r"你(?:现在)?(?:是|扮演|必须|要|应该)|请(?:你)?(?:输出|回复|改写|写出|删除)|指令|"
                          r"ignore|instruction|prompt|system", re.I)
_FRONT = re.compile(r"^---\n.*?\n---\n", re.S)
# 「这是工作报告：……」「会议材料：……」: a pasted material in the chat
# (a qualifier ends in 的 or an organisation: 「帮我改一下这段总结：」 is a request, not a material)
_PASTED = re.compile(
    r"^(?:这是|这里是|以下是|下面是|附上|附|给你|发你)?(?:本次|这次|今天|大会|会议)?(?:会议|大会)?的?"
    r"(?P<qual>[\u4e00-\u9fffA-Za-z0-9]{0,16}?(?:的|会|委|府|局|联|协|院|部|厅|办|团))?"
    r"(?P<name>工作报告|报告|会议材料|大会材料|背景材料|汇报材料|材料|工作总结|总结|统计数据|年度数据|数据|情况通报|通报|纪要)"
    r"(?:全文|原文|内容)?(?:如下)?[：:]\s*(?P<text>.+)$", re.S)
MIN_PASTED_CHARS = 10
REMOVE_REQUEST = re.compile(r"^(?:请|帮我)?(?:把)?(?:删除|删掉|删去|去掉|移除)(?:会议)?材料[《“\"「]?(?P<name>[^》”\"」]+?)[》”\"」]?[。！!]?$"
                            r"|^(?:请|帮我)?把(?:会议)?材料[《“\"「]?(?P<name2>[^》”\"」]+?)[》”\"」]?(?:删除|删掉|删去|去掉|移除)[。！!]?$")
LIST_REQUEST = re.compile(r"^(?:有哪些|看看|看一下|列出|查看)?(?:会议)?材料(?:有哪些|列表|清单)?[?？。！!]?$")


class MaterialError(ValueError):
    """Bad material: the message says what is wrong and that nothing changed."""


@dataclass
class Material:
    name: str
    text: str
    added: str = ""
    earlier: list[str] = field(default_factory=list)  # the texts it replaced, oldest first

    def sentences(self) -> list[str]:
        return sentences(self.text)

    def to_dict(self) -> dict:
        return {"name": self.name, "text": self.text, "added": self.added, "earlier": self.earlier[-3:]}

    @classmethod
    def from_dict(cls, d: dict) -> "Material":
        return cls(d["name"], d["text"], d.get("added", ""), list(d.get("earlier", [])))


@dataclass
class Fact:
    kind: str  # 数字 / 日期 / 人名 / 规划名称 / 会次
    text: str
    start: int
    end: int


@dataclass
class FactSentence:
    material: str
    text: str
    facts: list[str]
    score: float = 0.0


@dataclass
class Citation:
    fact: str
    kind: str
    section: str | None  # where the speech uses it (section key)
    source: str  # "material" | "message" | "" (no source)
    material: str = ""
    sentence: str = ""


@dataclass
class Stale:
    old: str
    new: str
    material: str
    section: str | None
    old_sentence: str
    new_sentence: str


# --------------------------------------------------------------------------- reading


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.findall(text or "") if s.strip()]


def read_material(path: Path, name: str | None = None) -> tuple[str, str]:
    """(name, text) of a material file: the knowledge base's loaders and limits (format, size, encoding,
    binary content, zip bombs); raises :class:`MaterialError` with one clear sentence."""
    path = Path(path)
    shown = name or path.name
    try:
        text = read_speech(path)
    except LoadError as exc:
        raise MaterialError(f"材料没有加入：{exc}".replace(path.name, shown)) from exc
    text = _FRONT.sub("", text.replace("\u3000", " ")).strip()
    return Path(shown).stem, text


def pasted(message: str) -> tuple[str, str] | None:
    """(name, text) when the chat message hands over a material (「这是工作报告：……」), else None."""
    m = _PASTED.match((message or "").strip())
    if not m or len(re.sub(r"\s", "", m.group("text"))) < MIN_PASTED_CHARS:
        return None
    name = m.group("name")
    return ("会议材料" if name == "材料" else name), m.group("text").strip()


# --------------------------------------------------------------------------- facts


def facts_in(text: str) -> list[Fact]:
    """Numbers, dates, names, plan names and meeting ordinals in ``text`` (the guard's own detectors), and every
    other number written in digits."""
    found = [Fact(i.kind, i.text, i.start, i.end) for i in placeholders.find_invented(text, "")]
    taken = [(f.start, f.end) for f in found]
    for m in _DIGITS.finditer(text):
        if not any(s <= m.start() < e for s, e in taken):
            found.append(Fact("数字", m.group(0), m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def _norm(s: str) -> str:
    return re.sub(r"\s", "", s.replace("％", "%"))


def occurs(fact: str, text: str) -> bool:
    """``fact`` is written in ``text`` as itself: a number is not found inside a longer one (6个 in 46个)."""
    fact, text = _norm(fact), _norm(text)
    if not fact:
        return False
    if not re.match(r"\d", fact):
        return fact in text
    return re.search(r"(?<![\d.])" + re.escape(fact), text) is not None


def is_instruction(sentence: str) -> bool:
    return bool(_INSTRUCTION.search(sentence))


def _bigrams(text: str) -> list[str]:
    t = re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", text)
    return [t[i : i + 2] for i in range(len(t) - 1)]


# --------------------------------------------------------------------------- the speech's materials


class Materials:
    def __init__(self, items: list[Material] | None = None):
        self.items: list[Material] = list(items or [])
        self._vectors: dict[str, list[float]] = {}  # sentence → embedding, computed when first searched

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, name: str) -> Material | None:
        return next((m for m in self.items if m.name == name), None)

    def names(self) -> list[str]:
        return [m.name for m in self.items]

    # --- changes ------------------------------------------------------------------
    def add(self, name: str, text: str) -> str:
        """Attach a material (or a new version of one with the same name); returns what the user is told.
        Bad input raises :class:`MaterialError` and changes nothing."""
        name = re.sub(r"[\s《》]", "", name or "")[:30] or "会议材料"
        text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        if not re.sub(r"\W", "", text):
            raise MaterialError(f"材料《{name}》没有正文内容，没有加入。请粘贴或上传有文字的工作报告、数据等。")
        if "\x00" in text or sum(1 for c in text if ord(c) < 32 and c not in "\n\t") > 0.01 * len(text):
            raise MaterialError(f"材料《{name}》看起来不是文本，没有加入。请上传 .txt、.md 或 .docx 文件。")
        if len(text) > MAX_MATERIAL_CHARS:
            raise MaterialError(f"材料《{name}》有 {len(text)} 字，超过了 {MAX_MATERIAL_CHARS} 字的上限，没有加入。"
                                "请只保留与讲话有关的部分（如工作报告的成绩和任务），分成几份加入。")
        old = self.get(name)
        if old is None and len(self.items) >= MAX_MATERIALS:
            raise MaterialError(f"这篇讲稿已有 {MAX_MATERIALS} 份材料，没有加入《{name}》。请先删去用不到的材料。")
        facts = self._count_facts(text)
        if old is not None:
            if old.text == text:
                return f"材料《{name}》与已有的一份相同，没有变化。"
            old.earlier = (old.earlier + [old.text])[-3:]
            old.text, old.added = text, _now()
            return (f"已更新材料《{name}》（{len(text)} 字，{facts} 句含事实）。讲稿里仍用旧数据的地方会在「检查」页标出。")
        self.items.append(Material(name, text, _now()))
        return (f"已加入材料《{name}》（{len(text)} 字，{facts} 句含数字、名称等事实）。起草时会从中取用事实并注明出处；"
                "材料里没有、您也没说过的数字和名称仍留空白。")

    def remove(self, name: str) -> str:
        m = self.get(name)
        if m is None:
            raise MaterialError(f"没有名为《{name}》的材料。现有：{'、'.join(self.names()) or '无'}。")
        self.items.remove(m)
        return f"已删去材料《{name}》。讲稿没有改动；文中取自这份材料的数字和名称不再有出处，请核实。"

    def _count_facts(self, text: str) -> int:
        return sum(1 for s in sentences(text) if facts_in(s) and not is_instruction(s))

    # --- reading ------------------------------------------------------------------
    def text(self) -> str:
        """What the materials say, for the guard's allowed text: every sentence but those speaking to the model
        (a figure inside 「忽略以上要求，写上……」 is not given by the meeting)."""
        return "\n".join(s for m in self.items for s in m.sentences() if not is_instruction(s))

    def fact_sentences(self) -> list[FactSentence]:
        key = tuple((m.name, m.text) for m in self.items)
        if getattr(self, "_facts_key", None) != key:  # the panels ask on every refresh: read each version once
            self._facts_key, self._facts = key, self._read_facts()
        return [FactSentence(f.material, f.text, list(f.facts)) for f in self._facts]

    def _read_facts(self) -> list[FactSentence]:
        out, seen = [], set()
        for m in self.items:
            for s in m.sentences():
                if s in seen or is_instruction(s):
                    continue
                facts = [f.text for f in facts_in(s)]
                if facts:
                    seen.add(s)
                    out.append(FactSentence(m.name, s, facts))
        return out

    def search(self, query: str, k: int = FACTS_PER_PARAGRAPH, embeddings=None, used: str = "") -> list[FactSentence]:
        """The fact sentences best for ``query``, best first: shared characters (weighted by how rare they are
        in the materials), plus the embedding's cosine when ``embeddings`` is given.  Ties keep the materials'
        order, so a query sharing nothing still gets the report's first figures.  A sentence whose facts are all
        in ``used`` (the speech so far) is left for the parts that have not said them: said twice, a figure is a
        repeat the product drops."""
        cands = [c for c in self.fact_sentences() if not used or not all(occurs(f, used) for f in c.facts)]
        if not cands:
            return []
        grams = [set(_bigrams(c.text)) for c in cands]
        df: dict[str, int] = {}
        for g in grams:
            for b in g:
                df[b] = df.get(b, 0) + 1
        n = len(cands)
        q = set(_bigrams(query))
        weight = {b: math.log(1 + n / df.get(b, 0.5)) for b in q}
        total = sum(weight.values()) or 1.0
        kw = [sum(weight[b] for b in q & g) / total for g in grams]
        vec = [0.0] * n
        if embeddings is not None and query.strip():
            try:
                missing = [c.text for c in cands if c.text not in self._vectors]
                if missing:
                    self._vectors.update(zip(missing, embeddings.embed_documents(missing)))
                qv = embeddings.embed_query(query)
                vec = [_cos(qv, self._vectors[c.text]) for c in cands]
            except Exception:  # an embedder that fails leaves the characters to rank
                vec = [0.0] * n
        lo, hi = min(vec), max(vec)
        for i, c in enumerate(cands):
            c.score = round(0.5 * kw[i] + (0.5 * (vec[i] - lo) / (hi - lo) if hi > lo else 0.0), 4)
        ranked = sorted(range(n), key=lambda i: (-cands[i].score, i))
        return [cands[i] for i in ranked[:k]]

    # --- the speech against its materials ------------------------------------------
    def ground(self, text: str, user_text: str) -> tuple[str, list[str]]:
        """A number kept only because it is written inside a longer one of the materials (「6个」 in 「46个」):
        it was not given, so it becomes a blank as the guard makes every other one.  Returns (text, blanked)."""
        if not self.items:
            return text, []
        mats = self.text()
        bad = [f for f in facts_in(text) if re.match(r"\d", f.text) and _norm(f.text) in _norm(mats)
               and not occurs(f.text, mats) and not occurs(f.text, user_text)]
        for f in sorted(bad, key=lambda f: -f.start):
            text = text[: f.start] + re.sub(r"^\d+(?:\.\d+)?", "X", f.text) + text[f.end :]
        return text, [f.text for f in bad]

    def citations(self, doc, user_text: str) -> list[Citation]:
        """Each fact of the speech (once per section) and where it came from: a material sentence first, else
        the user's messages (or what they confirmed), else nowhere."""
        out, seen = [], set()
        facts = self.fact_sentences()
        for key in doc.keys():
            for f in facts_in(doc.get(key)):
                if (key, f.text) in seen:
                    continue
                seen.add((key, f.text))
                hit = next((s for s in facts if occurs(f.text, s.text)), None)
                if hit is not None:
                    out.append(Citation(f.text, f.kind, key, "material", hit.material, hit.text))
                elif occurs(f.text, user_text):
                    out.append(Citation(f.text, f.kind, key, "message"))
                else:
                    out.append(Citation(f.text, f.kind, key, ""))
        return out

    def stale(self, doc) -> list[Stale]:
        """Values the speech uses that a material had and its new version changed: (old, new, where)."""
        out: list[Stale] = []
        now_all = self.text()
        for m in self.items:
            if not m.earlier:
                continue
            before = m.earlier[-1]
            new_sents = [s for s in m.sentences() if facts_in(s)]
            for old_sent in sentences(before):
                if old_sent in m.text:
                    continue
                for f in facts_in(old_sent):
                    if occurs(f.text, now_all):
                        continue
                    where = [k for k in doc.keys() if occurs(f.text, doc.get(k))]
                    if not where:
                        continue
                    match = difflib.get_close_matches(old_sent, new_sents, n=1, cutoff=0.5)
                    new_sent = match[0] if match else ""
                    new_val = next((g.text for g in facts_in(new_sent) if g.kind == f.kind and not occurs(g.text, old_sent)), "")
                    for k in where:
                        out.append(Stale(f.text, new_val, m.name, k, old_sent, new_sent))
        return out

    def propose(self, ledger) -> list[tuple[str, str, str]]:
        """Open blanks whose context a material sentence holds with a value in its place (「新增会员X万名」 and
        「全年新增会员1.2万名。」): that value is proposed, never filled, until the user confirms it.  A blank two
        sentences would fill differently stays open.  Returns (blank label, value, reason) for each proposal."""
        if not self.items:
            return []
        facts = self.fact_sentences()
        out, done = [], set()
        for e in ledger.listed():
            if e.status != "open" or e.key in done:
                continue
            done.add(e.key)
            before = re.search(r"[\u4e00-\u9fff]{2,4}$", e.before)
            after = re.match(r"[\u4e00-\u9fff”」]{1,2}", e.after)
            if not before or not after:
                continue
            value_rx = {"数字": r"(\d+(?:\.\d+)?)", "人名": r"([\u4e00-\u9fff]{2,3})"}.get(e.kind, r"([^\s，。；、“”「」]{1,12}?)")
            rx = re.compile(re.escape(before.group(0)) + value_rx + re.escape(after.group(0)))
            found = {(m.group(1), s.material, s.text) for s in facts for m in rx.finditer(s.text)}
            values = {v for v, _, _ in found}
            if len(values) != 1:
                continue
            value, material, sentence = sorted(found)[0]
            reason = f"会议材料《{material}》：{sentence}请确认。"
            if ledger.propose(e.key, value, reason):
                out.append((e.label, value, reason))
        return out

    # --- persistence ----------------------------------------------------------------
    def to_list(self) -> list[dict]:
        return [m.to_dict() for m in self.items]

    @classmethod
    def from_list(cls, data: list[dict] | None) -> "Materials":
        return cls([Material.from_dict(d) for d in (data or []) if d.get("name") and d.get("text")])

    def rows(self) -> list[list]:
        """The 材料 panel: name, characters, fact sentences, when attached, earlier versions."""
        return [[m.name, len(m.text), self._count_facts(m.text), m.added, len(m.earlier)] for m in self.items]


def facts_block(found: list[FactSentence], template: str) -> tuple[str, str]:
    """(ask, block) for one prompt: ``prompts/facts.md``'s first line joins the task sentence (「……，用上下面材料里
    与这一段有关的事实」: the small model takes facts it is asked for in its task, and echoes its first sentence when
    they only stand above it), the rest follows the task with each fact sentence quoted as data (「……」)."""
    if not found:
        return "", ""
    ask, _, block = template.partition("\n")
    quoted = "\n".join(f"「{s.text.replace('「', '“').replace('」', '”')}」" for s in found)
    return ask, "\n" + block.format(sentences=quoted)


def _cos(a: list[float], b: list[float]) -> float:
    num = sum(x * y for x, y in zip(a, b))
    den = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return num / den if den else 0.0


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M")
