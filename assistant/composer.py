"""Sections of a speech, composed from small model calls and the code's own formulas.

Code owns the structure; the model writes prose, one short piece at a time:

* **opening** — salutation line (from the brief) + the occasion paragraph (model) + congratulations,
  greetings and thanks (formula, by kind of meeting);
* **transition** — a formula by kind of meeting (「刚才，XX同志代表……作了工作报告……下面，我讲三点意见。」), the
  count from the speech's plan (:mod:`assistant.plan`: 讲四点意见 when it has four parts);
* **part N** — its heading (model, one line, checked; else adapted from the template's or a past speech's
  outline) and paragraphs, by the part's role in the plan: for a tasks part the items are planned first (one
  short call, or taken from the user's request) and each item is written by its own small prompt, marked as
  the plan says (一是 / （一） / 首先); other parts get one paragraph per point;
* **closing** — the model's paragraph, with 「让我们……」 guaranteed.

Every paragraph is cleaned (headings, salutations, chatter, repeated sentences), cut to length, checked
for template echo and verbatim copies (a copied run over 30 characters is rewritten, else dropped), and
passed through the whole-word guard.  Short prompts (system + brief first, so llama.cpp reuses their
cache) keep the wait for the first token to a second or two on the local model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import yaml

from . import guard as guards
from .brief import Brief, formulas
from .drafting import Drafter, first_lines, first_paragraph
from .model_gate import Waiting
from .plan import DEFAULT_ROLES, SpeechPlan, item_marker
from .repair import clean_lines
from .retrieval import Passage
from .settings import ROOT
from .structure import cn_numeral, count_chars, match_heading, match_item

SECTIONS = ROOT / "prompts" / "sections.yaml"
COPY_LIMIT = 30  # the judge's limit for a verbatim run from a past speech
SHARED_LIMIT = 20  # the product's own, stricter: a sentence sharing this much with a past speech is not kept as is
ROLE_BY_PART = DEFAULT_ROLES
_SENT = re.compile(r"[^。！？!?；;]+[。！？!?；;]?[”’」』）)]?")
_SALUTE = re.compile(r"^(?:尊敬的|亲爱的|各位|同志们|朋友们|女士们|老师们|同学们|大家好)")
_JUNK_SENT = re.compile(r"(?:^|】)(?:会议|讲话人|听众|时间|称呼|日期|篇幅)[:：]|讲话要素|谢谢大家|谢谢各位|感谢大家|大家好|尊敬的|以下是|下面是|希望.{0,12}(?:帮助|有用)|如需|总字数|字数[:：]|"
                        r"[A-Za-z]{3,}")
_LEAD_JUNK = re.compile(r"^(?:首先|其次|再次|最后|此外|另外|同时)?[，,]?(?:我想|我要|我谨)[，,]?")
# the prompts' own labels read back by the model (「这一段的最后一句：请相信……」): the label goes, the text stays
_PROMPT_LABEL = re.compile(r"(?:本部分标题|这一条|这一段的(?:第一|最后一|下一)?句(?:话)?|这一部分讲|任务|要求|修改要求|原文|"
                           r"修改后|风格要求|必须遵守|规则)[：:]")
_OPENING_SENT = re.compile(r"尊敬的|大家好|齐聚一堂|隆重(?:召开|开幕)|胜利召开|成功召开|在此，我代表|表示热烈的?祝贺")
_BRACKET = re.compile(r"[（(【\[][^）)】\]]{0,40}[）)】\]]")


@lru_cache(maxsize=2)
def sections_table(path: Path = SECTIONS) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


@dataclass
class Job:
    """One section to write."""

    key: str  # opening / transition / partN / closing
    brief: Brief
    request: str = ""  # the user's message
    said: str = ""  # everything the user has given (the guard's allowed text)
    heading: str = ""
    items: list[str] = field(default_factory=list)  # planned item headlines (tasks part)
    chars: int | None = None  # target length the user asked for this section
    scale: float = 1.0  # the default lengths × this (a time budget for the whole speech)
    style: str = ""  # tone instruction, e.g. 语气更亲切
    previous: str = ""  # the speech so far: sentences already there are not repeated
    plan: SpeechPlan = field(default_factory=SpeechPlan.default)  # the speech's parts, roles and item styles
    # the meeting's materials: topic → (the task's ask, the 「可用的事实」 block) for one prompt (assistant.materials)
    facts: Callable[[str], tuple[str, str]] | None = None

    @property
    def part(self) -> int | None:
        return int(self.key[4:]) if self.key.startswith("part") else None


@dataclass
class Written:
    text: str
    notes: list[str] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    heading: str = ""
    items: list[str] = field(default_factory=list)


@dataclass
class Piece:
    """Streamed progress: the section as it stands, with the paragraph being written."""

    text: str


class Composer:
    def __init__(self, drafter: Drafter, *, terms=None, speech_date: date | None = None, timing: dict | None = None,
                 cancelled: Callable[[], bool] = lambda: False):
        self.drafter = drafter
        self.terms = terms
        self.speech_date = speech_date
        self.timing = timing if timing is not None else {}
        self.cancelled = cancelled
        self.table = sections_table()
        self._echo = None
        self.notes: list[str] = []  # what the user should know about pieces the code had to supply

    # ------------------------------------------------------------------ helpers
    def fmt(self, template: str, brief: Brief, count: str = "三") -> str:
        """A formula with the brief's values; ``count`` is how many points the speech makes (讲{count}点意见)."""
        v = brief.values()
        return template.format(subject=v["subject"], org=v["short_org"], full_org=v["org"], occasion=v["occasion"], level=brief.level,
                               place=v["place"], represent=v["represent"], members=v["members"], event=v["event"],
                               festival=v["festival"], field=v["field"], count=count)

    def echo_fragments(self) -> list[str]:
        if self._echo is None:
            from .judges import template_fragments

            folder = self.drafter.prompts.folder
            texts = [p.read_text(encoding="utf-8") for p in sorted(Path(folder).glob("*.md"))]
            self._echo = template_fragments(texts, 8)
        return self._echo

    def is_echo(self, text: str) -> bool:
        flat = re.sub(r"\s", "", text)
        if re.search(r"[（(【][^）)】]{0,30}(?:标题|部分|内容|此处|要求|字左右|写法参照)[^）)】]{0,30}[）)】]", flat):
            return True
        return any(re.sub(r"\s", "", f) in flat for f in self.echo_fragments())

    def _call(self, name: str, variables: dict, chars: int, prefix: str, *, cut=None,
              skip: Callable[[str], bool] | None = None, temperature: float | None = None) -> Iterator[Piece | Waiting]:
        """One model call; streams ``prefix`` + the reply so far; returns the raw reply."""
        skip = skip or _skippable
        cut = cut or first_paragraph(skip, max_chars=int(chars * 1.6) + 20)
        raw = ""
        for piece in self.drafter.generate(name, variables, chars=chars, timing=self.timing, cancelled=self.cancelled,
                                           cut=cut, temperature=temperature):
            if isinstance(piece, Waiting):
                yield piece
                continue
            raw += piece
            yield Piece((prefix + "\n" if prefix else "") + raw.strip())
        return raw

    def finish_paragraph(self, raw: str, job: Job, passages: list[Passage], target: int, notes: list[str],
                         *, prefix_item: str = "", previous: str = "") -> Iterator[Piece | Waiting]:
        """Clean, cut, de-copy and guard one paragraph; returns the text ("" when nothing usable came back)."""
        text = clean_paragraph(raw, target, previous=job.previous + "\n" + previous, local=previous)
        if prefix_item:
            text = re.sub(r"^(?:[一二三四五六七八九十]是|[（(][一二三四五六七八九十][）)]|(?:首先|其次|再次|最后)[，,])", "",
                          text).strip()
            if text.startswith(prefix_item.rstrip("。")):
                text = text[len(prefix_item.rstrip("。")):].lstrip("。，, ")
        if not text or self.is_echo(text):
            return ""
        text = drop_foreign(text, f"{job.said} {job.brief.occasion} {job.brief.subject} {job.heading}")
        text = fit_address(text, job.brief.salutation_line())
        text = yield from self.decopy(text, passages, notes, target)
        g = guards.guard(text, job.said, passages, speech_date=self.speech_date, terms=self.terms)
        notes += [n for n in g.notes if n not in notes]
        return g.text

    def decopy(self, text: str, passages: list[Passage], notes: list[str], target: int = 0) -> Iterator[Piece | Waiting]:
        """Sentences sharing 20+ characters with a past speech (the model imitating its example too closely) are
        dropped while enough is left, else rewritten by the model; a rewrite still over 30 is dropped too."""
        sources = [p.text for p in passages if p.text]
        if not sources:
            return text
        kept = []
        sents = _sentences(text)
        for i, s in enumerate(sents):
            if _longest_shared(s, sources) < SHARED_LIMIT:
                kept.append(s)
                continue
            rest = "".join(kept + sents[i + 1:])
            if count_chars(rest) >= 0.5 * max(target, 40):
                notes.append("删去了与往年讲话雷同的句子")
                continue
            new = yield from self.drafter.complete("rewrite", {"sentence": s}, chars=count_chars(s) + 20,
                                                   timing=self.timing, cancelled=self.cancelled, cut=first_lines(1))
            new = clean_paragraph(new, count_chars(s) + 30)
            if new and _longest_shared(new, sources) <= COPY_LIMIT and not self.is_echo(new):
                kept.append(new)
                notes.append("一句与往年讲话原文雷同的话已改写")
            else:
                notes.append("删去了与往年讲话雷同的句子")
        # a run over the limit across a sentence boundary (two halves of 17): the sentence it ends in goes
        from .judges import longest_common_run

        for _ in range(3):
            joined = "".join(kept)
            n, run = longest_common_run(joined, sources)
            if n <= COPY_LIMIT or not run or run not in joined or len(kept) < 2:
                break
            end = joined.index(run) + len(run)
            pos = 0
            for i, sent in enumerate(kept):
                pos += len(sent)
                if pos >= end:
                    kept.pop(i)
                    notes.append("删去了与往年讲话雷同的句子")
                    break
        return "".join(kept)

    # ------------------------------------------------------------------ headings and items
    def heading(self, brief: Brief, n: int, role: str, request: str = "",
                template: tuple[str, str] | None = None, taken: list[str] | None = None) -> Iterator[Piece | Waiting]:
        """A heading for part ``n``: the model's one line, checked, and asked again with the fault named; else
        adapted from a past speech's outline; else a plain heading for the part's role.  ``self.notes`` says which.
        ``template``: (occasion, heading) of this part in the speech the user chose as template, shown first and
        never copied (its content belongs to its own occasion); ``taken``: the other parts' headings."""
        taken = [t for t in taken or [] if t]

        def fault_of(h: str, ex: str, occ: str) -> str:
            from .judges import longest_common_run

            if template and h and longest_common_run(h, [template[1]])[0] >= max(8, int(0.6 * len(template[1]))):
                return "照抄了模板讲话的标题，要用本次会议自己的说法"
            if h and any(h == t or _near_duplicate(h, [_bigrams(t)]) for t in taken):
                return "和前面部分的标题重复了，要写这一部分自己的意思"
            return heading_fault(h, brief, ex, occ)

        numeral = cn_numeral(n)
        outlines = self.drafter.similar_outlines(f"{brief.occasion} {request}".strip())
        examples = [(occ, parts[n - 1]) for occ, parts in outlines if len(parts) >= n]
        if template:
            examples = [template] + [e for e in examples if e[1] != template[1]]
        about = self.fmt(self.table["roles"].get(role, self.table["roles"]["other"]), brief)
        feedback = ""
        for attempt, (occ, ex) in enumerate((examples[:2] or [("", "")]) * (1 if len(examples) >= 2 else 2)):
            example = f"写法参照（别的会议的标题）：{numeral}、{ex}" if ex else ""
            raw = yield from self.drafter.complete(
                "heading", {"brief": brief.prompt_block(), "numeral": numeral, "about": about,
                            "example": "\n".join(x for x in (example, feedback) if x)},
                chars=40, timing=self.timing, cancelled=self.cancelled, cut=first_lines(1),
                temperature=0.85 if attempt else None)
            h = clean_heading(raw)
            fault = fault_of(h, ex, occ)
            if not fault:
                return h
            feedback = f"注意：上一次写成了“{h[:30]}”，{fault}。这次重写。" if h else f"注意：上一次没有写出标题。这次写一行标题。"
        for occ, ex in examples:
            adapted = adapt_heading(ex, occ, brief)
            if adapted and not (template and adapted == template[1]) and adapted not in taken:
                self.notes.append(f"第{numeral}部分的标题模型没写好，已参照往年讲话的标题改写，请斟酌")
                return adapted
        self.notes.append(f"第{numeral}部分的标题模型没写好，已用通用标题代替，请修改")
        fallback = self.table["fallback_headings"]
        plain = self.fmt(fallback.get(role, fallback["other"]), brief)
        return plain if plain not in taken else self.fmt(fallback["other"], brief)

    def plan_items(self, brief: Brief, heading: str, request: str, passages: list[Passage],
                   n_part: int = 2, default_count: int = 3, avoid: list[str] | None = None) -> Iterator[Piece | Waiting]:
        """Item headlines for a tasks part: the user's own topics when given, else planned by the model
        (``default_count`` of them unless the request names a number).  ``avoid``: another part's items (a
        four-part plan with two tasks parts), not planned again."""
        taken = [_bigrams(a) for a in avoid or []]
        topics = item_topics(request)
        count = len(topics) or requested_count(request) or default_count
        markers = "、".join(f"“{cn_numeral(i)}是”" for i in range(1, count + 1))
        given = f"，分别讲：{'；'.join(topics)}" if topics else ""
        heads = [h for p in passages if p.role == "tasks" and (h := _item_headline(p.text))]
        example = ("写法参照（别的会议的任务，只学写法）：\n" + "\n".join(f"{cn_numeral(i)}是{h}" for i, h in enumerate(heads[:3], 1))
                   if heads else "")
        items: list[str] = []
        feedback = ""
        for attempt in range(2):  # a reply with too few usable lines: once more, with the fault named
            raw = yield from self.drafter.complete(
                "items", {"brief": brief.prompt_block(), "heading": heading, "count": cn_numeral(count), "markers": markers,
                          "given": given, "example": "\n".join(x for x in (example, feedback) if x)},
                chars=24 * count + 20, timing=self.timing, cancelled=self.cancelled, cut=first_lines(count),
                temperature=0.85 if attempt else None)
            parsed = parse_items(raw)
            # a line of the example read back is another meeting's task (or whatever text it held), not ours
            copied = [i for i in parsed if any(_near_duplicate(i, [_bigrams(h)]) or i in h or h in i for h in heads)]
            # an item that is the part's heading again (一是推动……常态化 under 「……，推动……常态化」) is no item
            own_head = re.sub(r"\W", "", heading)
            copied += [i for i in parsed if len(re.sub(r"\W", "", i)) >= 4 and (re.sub(r"\W", "", i) in own_head
                                                                              or _near_duplicate(i, [_bigrams(heading)]))]
            good = [i for i in parsed if item_ok(i, brief) and i not in items and i not in copied
                    and i not in (avoid or []) and not _near_duplicate(i, taken)]
            items += good
            if len(items) >= count or topics:
                break
            bad = [i for i in parsed if i not in good]
            feedback = (f"注意：上一次只写出了{len(items)}条能用的" + (f"，“{bad[0][:20]}”不行（要写具体任务，不要省略号或占位）"
                        if bad else "") + f"。这次写满{cn_numeral(count)}条。")
        if topics:
            # the user's topics decide: a planned line that lost its topic is replaced by the topic itself
            fixed = []
            for k, t in enumerate(topics):
                # the same words as the topic, beyond the speech's subject (食品安全 is in every item of a 食品安全
                # speech), and not the part's own heading or an item already taken
                cand = next((i for i in items if i not in fixed and re.sub(r"\W", "", i) != re.sub(r"\W", "", heading)
                             and _shares(i, t, brief.subject)), None)
                fixed.append(cand or _topic_item(t))
            items = fixed
        if len(items) < count:
            fallback = [self.fmt(t, brief) for t in self.table["fallback_items"]]
            items += [f for f in fallback if f not in items][: count - len(items)]
            self.notes.append("模型列出的任务不够，补了通用的任务条目，请按实际修改")
        return items[:count]

    def outline(self, brief: Brief, plan: SpeechPlan, request: str = "") -> Iterator[Piece | Waiting]:
        """A heading for every part of ``plan`` (its template's heading shown as the example) and the planned
        items of its tasks parts; streams the outline as it grows.  Returns (headings, items, passages)."""
        from .document import outline_text

        headings: dict[int, str] = {}
        items: dict[int, list[str]] = {}
        styles = {n: plan.item_style(n) for n in plan.numbers()}
        for n in plan.numbers():
            headings[n] = yield from self.heading(brief, n, part_role(plan, n), request, plan.example(n),
                                                  taken=list(headings.values()))
            yield Piece(outline_text(headings, items, styles))
        passages: list[Passage] = []
        for n in plan.tasks_parts():
            found = self.drafter.retrieve(f"{brief.occasion} {headings[n]}", {"tasks"})
            items[n] = yield from self.plan_items(brief, headings[n], request, found, n, plan.item_count(n),
                                                  avoid=[x for v in items.values() for x in v])
            passages += [p for p in found if p not in passages]
        return headings, items, passages

    # ------------------------------------------------------------------ sections
    def write(self, job: Job) -> Iterator[Piece | Waiting]:
        if job.key == "opening":
            return (yield from self.opening(job))
        if job.key == "transition":
            return self.transition(job)
        if job.key == "closing":
            return (yield from self.closing(job))
        return (yield from self.part(job))

    def _length(self, name: str, job: Job) -> int:
        return max(40, int(self.table["lengths"][name] * job.scale))

    def paragraph(self, name: str, variables: dict, target: int, prefix: str, job: Job, passages: list[Passage],
                  notes: list[str], *, asked: str = "", prefix_item: str = "", previous: str = "") -> Iterator[Piece | Waiting]:
        """One paragraph from prompt ``name``: cleaned, checked, and asked again (warmer) when it came back empty,
        far too short, or as the instruction read back (``asked``).  Returns "" when both tries fail."""
        best = ""
        topic = " ".join(str(variables.get(k, "")) for k in ("heading", "item", "point", "moves", "angle", "heading_line"))
        ask, facts = job.facts(topic) if job.facts else ("", "")
        variables = {**variables, "facts_ask": ask, "facts": facts}
        for temperature in (None, 0.85):
            raw = yield from self._call(name, variables, target, prefix, temperature=temperature)
            text = yield from self.finish_paragraph(raw, job, passages, target, notes, prefix_item=prefix_item,
                                                    previous=previous)
            if text and asked and restates(text, asked, job):
                text = ""
            if count_chars(text) > count_chars(best):
                best = text
            if count_chars(best) >= 0.6 * target:
                break
        return best

    def opening(self, job: Job) -> Iterator[Piece | Waiting]:
        b = job.brief
        notes: list[str] = []
        sal = b.salutation_line() + "："
        greet_tpl = formulas()["greetings"].get(b.kind, "")
        greet = self.fmt(greet_tpl, b) if greet_tpl else ""
        target = self._length("opening", job)
        if job.chars:
            target = max(50, job.chars - count_chars(greet) - count_chars(sal))
        passages = self.drafter.retrieve(f"{b.occasion} 开场白 召开 意义", {"opening"})
        moves = self.fmt(self.table["opening_moves"].get(b.kind, self.table["opening_moves"]["other"]), b)
        variables = {"brief": b.prompt_block(), "chars": target, "moves": moves, "style": _style(job.style)}
        body = yield from self.paragraph("opening", variables, target, sal, job, passages, notes, asked=moves)
        body = _strip_formula_sentences(body)
        if not body:
            body = self.fmt("{occasion}今天召开了。", b)
            notes.append("模型没有写出可用的开场段落，已用一句程式化的话代替，请修改")
        if job.chars and count_chars(sal + body + greet) < 0.85 * job.chars:  # the small model writes short
            body = yield from self.extend(body, job, passages, job.chars - count_chars(sal + greet), notes, "opening", sal)
        lines = [sal, body] + ([greet] if greet else [])
        return Written("\n".join(lines), notes, passages)

    def transition(self, job: Job) -> Written:
        b = job.brief
        tpl = formulas()["transitions"].get(b.kind) or formulas()["transitions"]["work"]
        text = self.fmt(tpl, b, count=job.plan.count_word)
        who = reporter(f"{job.request}\n{job.said}")
        if who and "XX同志" in text:
            text = text.replace("XX同志", f"{who}同志", 1)
        return Written(text, [], [])

    def closing(self, job: Job) -> Iterator[Piece | Waiting]:
        """A paragraph that sums up (model), then the call 「让我们……」 (model, one sentence; else the formula)."""
        b = job.brief
        notes: list[str] = []
        target = job.chars or self._length("closing", job)
        passages = self.drafter.retrieve(f"{b.occasion} 结尾 让我们 号召", {"closing"})
        points = self.table["closing_points"]
        point = self.fmt(points.get(b.kind, points["default"]), b)
        body = yield from self.argued(point, "讲话的结尾", "closing", max(40, target - 45), "", job, passages, notes)
        if point.startswith("让我们"):
            body = body  # a festival closing may open with the call
        body = re.sub(r"[^。！？]*(?:大会|会议)(?:已经)?(?:圆满)?(?:结束|闭幕)[^。！？]*[。！？]", "", body)
        # a sentence that opens a speech (大家好, 齐聚一堂, 隆重开幕) does not belong in its closing
        kept = [x for x in _sentences(body) if not _OPENING_SENT.search(x)]
        if len(kept) < len(_sentences(body)):
            body = "".join(kept)
            notes.append("结尾里像开场白的句子（问候、祝贺开会）已删去")
        if "让我们" not in body:
            aim = self.fmt(self.table["closing_aim"], b)
            raw = yield from self._call("call", {"brief": b.prompt_block(), "aim": aim}, 60, body, cut=first_lines(1))
            call = clean_paragraph(raw, 80)
            call = call[call.find("让我们"):] if "让我们" in call else ""
            if call and not restates(call, aim, job, min_share=0.7) or call and count_chars(call) > count_chars(aim) + 6:
                g = guards.guard(call, job.said, passages, speech_date=self.speech_date, terms=self.terms)
                notes += [n for n in g.notes if n not in notes]  # the user is told what the guard changed
                body = (body + fit_address(g.text, b.salutation_line())).strip()
            else:
                body = (body + self.fmt(formulas()["call"], b)).strip()
                notes.append("结尾补上了“让我们……”的号召")
        if job.chars and count_chars(body) < 0.85 * job.chars:
            body = yield from self.extend(body, job, passages, job.chars, notes, "closing")
        festival = b.festival(job.said)
        wish = formulas()["festival_wish"] if festival and b.kind == "festival" and "快乐" not in body else ""
        return Written((body + wish).strip(), notes, passages)

    def part(self, job: Job) -> Iterator[Piece | Waiting]:
        b = job.brief
        n = job.part or 1
        role = part_role(job.plan, n, job.heading)
        notes: list[str] = []
        heading = job.heading or (yield from self.heading(b, n, role, job.request, job.plan.example(n)))
        head_line = f"{cn_numeral(n)}、{heading}"
        yield Piece(head_line)
        passages = self.drafter.retrieve(f"{b.occasion} {heading}", {role})
        lines = [head_line]
        items: list[str] = []
        wrote = 0  # paragraphs with the model's own text
        if role == "tasks":
            items = list(job.items) or (yield from self.plan_items(b, heading, job.request, passages, n,
                                                                    job.plan.item_count(n)))
            # a second tasks part (a four-part speech) does not open with the first one's sentence again
            first_tasks = n == (job.plan.first("tasks") or n)
            intro = self.fmt(self.table["tasks_intro" if first_tasks else "tasks_intro_more"], b)
            style = job.plan.item_style(n)
            lines.append(intro)
            per = self._length("tasks_item", job)
            if job.chars:
                per = max(40, (job.chars - count_chars(head_line + intro)) // max(1, len(items)) - 16)
            for k, item in enumerate(items, 1):
                headline = item.rstrip("。；;，,") + "。"
                marker = item_marker(style, k, len(items))
                head = guards.guard(f"{marker}{headline}", job.said, passages, speech_date=self.speech_date,
                                    terms=self.terms).text
                variables = {"brief": b.prompt_block(), "heading": heading, "item": head, "sentence_chars": max(15, per // 3),
                             "style": _style(job.style)}
                body = yield from self.paragraph("item", variables, per, "\n".join(lines + [head]), job, passages, notes,
                                                 prefix_item=headline, previous="\n".join(lines + [head]))
                if body and job.chars and count_chars(body) < 0.75 * per:  # a length was asked: more on this item
                    body = yield from self.extend(body, job, passages, per, notes, "tasks_item", "\n".join(lines + [head]),
                                                  topic=head)
                if not body:
                    notes.append(f"{marker.rstrip('，')}这一条模型没写出可用的内容（空或与前文重复），只留了标题句，请补充")
                else:
                    wrote += 1
                lines.append((head + body).strip())
            if not wrote:
                return Written("", notes + ["模型没有写出这一部分任何一条的内容"], passages, heading, items)
        else:
            table = self.table["points"].get(role) or self.table["points"]["significance"]
            points = table.get(b.kind) or table["default"]
            per = self._length(role if role in self.table["lengths"] else "other", job)
            if job.chars:
                per = max(50, (job.chars - count_chars(head_line)) // len(points))
            for point in points:
                topic = self.fmt(point, b)
                text = yield from self.argued(topic, heading, role, per, "\n".join(lines), job, passages, notes)
                if text and count_chars(text) > count_chars(topic) + 10:
                    wrote += 1
                if text:
                    lines.append(text)
            if not wrote:  # only the code's topic sentences: the model wrote nothing usable
                return Written("", notes + ["模型没有写出这一部分的正文"], passages, heading, items)
        return Written("\n".join(lines), notes + [n for n in self.notes if n not in notes], passages, heading, items)

    def argued(self, point: str, heading: str, role: str, target: int, prefix: str, job: Job,
               passages: list[Passage], notes: list[str]) -> Iterator[Piece | Waiting]:
        """A paragraph that opens with the code's topic sentence ``point``; the model argues it in three or four
        sentences (asked once more when that comes back short)."""
        angles = self.table["angles"]
        point = guards.guard(point, job.said, passages, speech_date=self.speech_date, terms=self.terms).text
        text = point
        for _ in range(2):
            missing = target - count_chars(text)
            if missing < 0.3 * target:
                break
            variables = {"brief": job.brief.prompt_block(), "heading": heading, "point": text,
                         "angle": angles.get(role, angles["other"]), "style": _style(job.style)}
            more = yield from self.paragraph("paragraph", variables, missing, (prefix + "\n" if prefix else "") + text,
                                             job, passages, notes, previous=(prefix + "\n" if prefix else "") + text)
            if not more:
                break
            text += more
        return text

    def extend(self, body: str, job: Job, passages, want: int, notes: list[str], role: str = "",
               prefix: str = "", topic: str = "") -> Iterator[Piece | Waiting]:
        """Text shorter than asked gets more sentences, placed before a closing call.  Each go is on a new aspect
        (``more_angles`` in sections.yaml for the role, then a generic one): asked only to "go on", the small model
        writes the same sentences again, which are dropped as repeats, so nothing would be added."""
        head, call = (body.split("让我们", 1)[0], "让我们" + body.split("让我们", 1)[1]) if "让我们" in body else (body, "")
        angles = [self.fmt(a, job.brief) for a in self.table.get("more_angles", {}).get(role, [])]
        angles.append(self.table["angles"]["extend"])
        for angle in angles:
            missing = want - count_chars(head + call)
            if missing < max(30, 0.15 * want):
                break
            # no sentence of the text to "go on from": shown one, the small model writes it out again, word for
            # word, and the repeat is dropped (measured: every try of an opening and a closing came back so)
            variables = {"brief": job.brief.prompt_block(), "angle": angle, "style": _style(job.style),
                         "heading_line": (f"本部分标题：{job.heading}\n" if job.heading else "")
                         + (f"这一条：{topic}\n" if topic else "")}
            shown = (prefix + "\n" if prefix else "") + head
            more = yield from self.paragraph("more", variables, missing, shown, job, passages, notes,
                                             previous=shown + call)
            more = more.split("让我们")[0]
            if more:
                head += more
        return (head + call).strip()


# --------------------------------------------------------------------------- text processing (pure)


def _skippable(line: str) -> bool:
    """A line that is not the paragraph asked for: a heading, a salutation, a title."""
    return bool(match_heading(line) or _SALUTE.match(line) and len(line) <= 40 or line.startswith("【讲话要素】") or
                (len(line) <= 24 and not re.search(r"[。！？，；]", line)) or line.endswith(("：", ":")))


def _sentences(text: str) -> list[str]:
    return [m.group(0) for m in _SENT.finditer(text) if m.group(0).strip()]


def _trim(text: str, limit: int) -> str:
    """Whole sentences up to about ``limit`` characters (at least one)."""
    out = ""
    for s in _sentences(text):
        if out and count_chars(out + s) > limit:
            break
        out += s
    return out


def closest_trim(text: str, want: int) -> str:
    """The run of whole sentences from the start whose length is closest to ``want`` (over or under): cutting
    sentences of 60 characters to 200 gives 180 or 240, not 120."""
    best, out = "", ""
    for s in _sentences(text):
        out += s
        if not best or abs(count_chars(out) - want) < abs(count_chars(best) - want):
            best = out
        if count_chars(out) >= want:
            break
    return best or text


def _bigrams(s: str) -> set[str]:
    s = re.sub(r"\W", "", s)
    return {s[i : i + 2] for i in range(len(s) - 1)}


def _near_duplicate(s: str, seen: list[set[str]]) -> bool:
    """The same sentence again, or one that mostly restates another (two thirds of its word pairs)."""
    b = _bigrams(s)
    if len(b) < 6:
        return False
    return any(len(b & o) / max(1, len(b | o)) >= 0.6 or
               min(len(b), len(o)) >= 0.5 * max(len(b), len(o)) and len(b & o) / max(1, min(len(b), len(o))) >= 0.67
               for o in seen if o)


def clean_paragraph(raw: str, target: int, previous: str = "", local: str | None = None) -> str:
    """One paragraph from a reply: no headings, salutations, titles or chatter; no sentence twice; about
    ``target`` characters (whole sentences, at most ~1.2×).  ``previous``: the speech so far (no sentence of it is
    said again); ``local``: this section so far (no clause or 12-character phrase of it is said again — across
    sections a stock phrase may recur).  ``local`` defaults to ``previous``."""
    local = previous if local is None else local
    lines = [_PROMPT_LABEL.sub("", re.sub(r"^【[^】]{1,12}】", "", l)) for l in clean_lines(raw or "")]
    lines = [l for l in lines if l and not _skippable(l)]
    text = ""
    for l in lines:
        if text and count_chars(text) >= target * 0.9:
            break
        text += l
    seen = [_bigrams(s) for s in _sentences(previous)]
    out = []
    for s in _sentences(text):
        s = _LEAD_JUNK.sub("", s.strip())
        if not s or _JUNK_SENT.search(s) or re.fullmatch(r"[，。！？、；\s]+", s):
            continue
        if _near_duplicate(s, seen):
            continue
        s = _drop_repeated_clauses(s, local + "".join(out))
        if not s:
            continue
        seen.append(_bigrams(s))
        out.append(s)
    out = _drop_repeated_runs(out, local)
    text = "".join(out).strip()
    text = re.sub(r"^[，,。、；]+", "", text)
    # no 一是 in a paragraph, its start included: code puts the markers (and a topic sentence may go before it)
    text = re.sub(r"(?:^|(?<=[。；，,;：:]))\s*[一二三四五六七八九十]是(?=[\u4e00-\u9fff])", "", text)
    text = re.sub(r"(?:^|(?<=[。；;：:！？]))\s*[一二三四五六七八九十][、.．](?=[\u4e00-\u9fff])", "", text)  # nor 一、 二、
    text = re.sub(r"(?:^|(?<=[。；;：:！？]))\s*(?:\d{1,2}[.、．)）]|[（(]\d{1,2}[）)])\s*(?=[\u4e00-\u9fff])", "", text)  # nor 1. 2.
    if count_chars(text) > target * 1.25:
        text = _trim(text, int(target * 1.15))
    if text and not re.search(r"[。！？!?”」』）)]$", text):
        # an unfinished sentence at the end (the output limit): drop it when a whole one remains
        whole = "".join(_sentences(text)[:-1])
        text = whole if count_chars(whole) >= 20 else text.rstrip("，,、；;") + "。"
    return text


_FRAGMENT_END = re.compile(r"(?:以来|之际|期间|过程中|背景下|基础上|的同时|来看|而言|之下|当中|时候|时|中|上|的|和|与|及|并|在|对|把|为|要|是|了)$")
REPEAT_RUN = 10  # a clause sharing this many characters (punctuation aside) with the text before it repeats it


def _drop_repeated_clauses(sentence: str, before: str, run: int = REPEAT_RUN) -> str:
    """The sentence without clauses that say again what the text before already says
    (「……，提高残疾人的生活质量。」 twice in one part); "" when nothing new is left."""
    seen = re.sub(r"[\W_]", "", before)
    if len(seen) < run:
        return sentence
    clauses = re.split(r"(?<=[，、；,])", sentence)
    kept = []
    for c in clauses:
        flat = re.sub(r"[\W_]", "", c)
        if any(flat[i : i + run] in seen for i in range(len(flat) - run + 1)):
            continue
        kept.append(c)
        seen += flat
    if not kept:
        return ""
    if len(kept) == len(clauses):
        return sentence
    out = "".join(kept)
    end = re.search(r"[。！？!?；;]$", sentence)
    out = out.rstrip("，、；, ")
    if _FRAGMENT_END.search(out):  # 「回顾这段时间以来」: the leading clause of a sentence whose main clause went
        return ""
    return (out + (end.group(0) if end else "。")) if count_chars(out) >= 6 else ""


def _drop_repeated_runs(sentences: list[str], previous: str) -> list[str]:
    """A phrase said twice across a clause boundary (「…无障碍环境建设，保障残疾…」 twice) is what a reader hears
    as repetition: the later sentence holding it goes."""
    from .judges import REPEAT_MIN

    prev = re.sub(r"\s", "", previous)
    out = [s for s in sentences]
    changed = True
    while changed and out:
        changed = False
        body = "".join(re.sub(r"\s", "", s) for s in out)
        for i in range(len(body) - REPEAT_MIN + 1):
            g = body[i : i + REPEAT_MIN]
            if "_" in g or "XX" in g:
                continue
            if g in prev or g in body[: max(0, i - REPEAT_MIN + 1)] + "\0" and body.find(g) <= i - REPEAT_MIN:
                pos = 0
                for k, sent in enumerate(out):
                    pos += len(re.sub(r"\s", "", sent))
                    if i < pos:
                        out.pop(k)
                        changed = True
                        break
                break
    return out


_LOCKED_LINE = re.compile(r"以下(?:几|[一二三四五六七八九十])个方面(?:工作)?[。：:]?$")
_ITEM_HEAD = re.compile(r"^(?:[一二三四五六七八九十]是|[（(][一二三四五六七八九十][）)]|第[一二三四五六七八九十][，,、])[^。！？；]*[。！？；]")


def drop_section_repeats(text: str, allowed: str = "") -> tuple[str, int]:
    """The same 12-character phrase twice in one section is what a listener hears as a loop (the judge's
    ``repetition``): the later sentence holding it goes, whichever path wrote it — a drafted item, a refined
    paragraph, an extension.  Code-owned pieces stay: headings, salutation and lead-in lines, an item's headline;
    when the repeat is one of them, the model's sentence that said it first goes instead.  Returns (text, dropped)."""
    from .judges import REPEAT_MIN, _BLANK

    units: list[list] = []  # [line index, sentence, locked]
    lines = text.split("\n")
    for li, line in enumerate(lines):
        if not line.strip():
            continue
        if match_heading(line) or line.strip().endswith(("：", ":")) or _LOCKED_LINE.search(line):
            units.append([li, line, True])
            continue
        head = _ITEM_HEAD.match(line)
        rest = line
        if head:
            units.append([li, head.group(0), True])
            rest = line[head.end():]
        units += [[li, s, False] for s in (_sentences(rest) or ([rest] if rest.strip() else []))]
    dropped, skip = 0, set()
    for _ in range(40):
        flat = [re.sub(r"\s", "", u[1]) for u in units]
        body = "".join(flat)
        owner = [k for k, f in enumerate(flat) for _ in f]
        seen: dict[str, int] = {}
        hit = None
        for i in range(len(body) - REPEAT_MIN + 1):
            g = body[i : i + REPEAT_MIN]
            if g in skip or g in allowed or _BLANK.search(g):
                continue
            if g in seen and i - seen[g] >= REPEAT_MIN:
                hit = (g, seen[g], i)
                break
            seen.setdefault(g, i)
        if hit is None:
            break
        g, first, later = hit
        choice = next((owner[p] for p in (later, later + REPEAT_MIN - 1, first, first + REPEAT_MIN - 1)
                       if not units[owner[p]][2]), None)
        if choice is None:
            k = owner[later]
            head = _ITEM_HEAD.match(units[k][1])
            if head:  # an item's headline says the heading's phrase again: that clause of the headline goes
                marker = re.match(r"^(?:[一二三四五六七八九十]是|[（(][一二三四五六七八九十][）)]|第[一二三四五六七八九十][，,、])",
                                  units[k][1]).group(0)
                before = "".join(flat[:k])
                rest = _drop_repeated_clauses(units[k][1][len(marker):], before)
                if rest and rest != units[k][1][len(marker):]:
                    units[k][1] = marker + rest
                    dropped += 1
                    continue
            skip.add(g)  # both in code-owned text: nothing of the model's to drop
            continue
        units.pop(choice)
        dropped += 1
    if not dropped:
        return text, 0
    out = [""] * len(lines)
    for li, s, _ in units:
        out[li] += s
    return "\n".join(l for l in out if l.strip()), dropped


def restates(text: str, asked: str, job: Job, min_share: float = 0.0) -> bool:
    """The reply reads the instruction back (「总结升华，说明做好人才工作使命光荣……」) instead of writing it.
    ``min_share``: the run must also be this share of ``asked`` (a call may well end like its aim)."""
    from .judges import longest_common_run

    own = f"{job.brief.occasion} {job.brief.organisation} {job.heading}"
    n, run = longest_common_run(text, [asked])
    if n < max(10, min_share * count_chars(asked)) or run in own:
        return False
    return count_chars(text) < 1.5 * count_chars(asked) or "最后一句" in text or "写四五句" in text


def fit_address(text: str, salutation: str) -> str:
    """「同志们，……」 inside a paragraph addresses the audience the salutation names: at a 推介会 (各位企业家，
    各位来宾，女士们、先生们，朋友们) it is 朋友们, not 同志们."""
    if "同志们" in salutation or "同志们" not in text:
        return text
    last = re.split(r"[，,、]", salutation)[-1].strip() or "朋友们"
    return text.replace("同志们", last)


def drop_foreign(text: str, own: str) -> str:
    """Sentences naming another organisation or programme (工会, 劳模 … in a 科协 speech) came from an example."""
    from .judges import FOREIGN_WORDS

    foreign = [w for w in FOREIGN_WORDS if w not in own]
    return "".join(s for s in _sentences(text) if not any(w in s for w in foreign))


def _strip_formula_sentences(text: str) -> str:
    """The opening's first paragraph must not repeat the congratulations the formula adds after it."""
    keep = [s for s in _sentences(text) if not re.search(r"表示(?:热烈|衷心|诚挚)的?(?:祝贺|感谢|问候|欢迎)|致以(?:诚挚|亲切)的?问候", s)]
    return "".join(keep).strip()


def clean_heading(raw: str) -> str:
    from .drafting import _CHATTER_LINE

    for line in clean_lines(raw or ""):
        if _CHATTER_LINE.search(line.strip()):
            continue
        h = match_heading(line)
        text = h[1] if h else line
        text = re.sub(r"^第[一二三四五六七八九十]部分[：:、]?", "", text).strip("：:。 ")
        text = re.sub(r"^[一二三四五六七八九十]+、", "", text)
        if text:
            return text
    return ""


def heading_fault(h: str, brief: Brief, example: str = "", example_occasion: str = "") -> str:
    """What is wrong with a heading, in words the model can act on; "" when it is fine."""
    if not h:
        return "没有写出标题"
    if not 6 <= len(h) <= 30:
        return "长度不对，要12到24个字"
    if match_item(h) or re.match(r"^[一二三四五六七八九十]是", h):
        return "写成了“一是……”这样的条目，要写这一部分的标题"
    if _BRACKET.search(h) or "…" in h or "XX" in h or re.search(r"标题|部分|开幕词|闭幕词|工作报告$", h):
        return "写成了说明或占位，不是标题"
    if brief.occasion and brief.occasion in h:
        return "照抄了会议名称"
    if example and brief.subject and brief.subject not in h and brief.subject not in (example_occasion or ""):
        from .judges import longest_common_run

        if h == example or longest_common_run(h, [example])[0] >= 8:
            return f"照抄了别的会议的标题，要写{brief.subject}"  # the example copied, still about the other meeting
    from .judges import FOREIGN_WORDS

    own = f"{brief.occasion} {brief.subject} {brief.organisation}"
    foreign = [w for w in FOREIGN_WORDS if w in h and w not in own]
    return f"写了别的单位的“{foreign[0]}”，要写{brief.subject or '本次会议'}" if foreign else ""


def heading_ok(h: str, brief: Brief, example: str = "", example_occasion: str = "") -> bool:
    return not heading_fault(h, brief, example, example_occasion)


def adapt_heading(example: str, example_occasion: str, brief: Brief) -> str:
    """A past heading with that speech's subject swapped for this one's (工会 → 科协), or ""."""
    from .brief import split_occasion

    _, their = split_occasion(example_occasion or "")
    ours = brief.subject
    if not (their and ours and their in example):
        return ""
    out = example.replace(their, ours)
    # the level word goes with the place: 全区 in a district's heading is 全县 in a county's
    return re.sub(r"全(?:区|县|市|镇|乡|省)", brief.level, out) if brief.level else out


def parse_items(raw: str) -> list[str]:
    out = []
    for line in clean_lines(raw or ""):
        for seg in re.split(r"(?<=[；;。])\s*(?=[一二三四五六七八九十]是)", line):
            m = match_item(seg)
            text = seg[len(m[0]):] if m else re.sub(r"^(?:\d+[.、．)）]|[（(]\d+[）)])\s*", "", seg)
            text = text.strip(" ：:，,；;。")
            if text:
                out.append(text)
    return out


def item_ok(item: str, brief: Brief) -> bool:
    if not 4 <= len(item) <= 36 or _BRACKET.search(item) or "…" in item or re.search(r"X{2}|_", item):
        return False
    from .judges import FOREIGN_WORDS

    own = f"{brief.occasion} {brief.subject} {brief.organisation}"
    return not any(w in item and w not in own for w in FOREIGN_WORDS)


_TOPIC_VERB = re.compile(r"(?:重点讲|主要讲|重点是|分别是|分别讲|讲讲|包括|讲(?!话|稿|几点|三点))[：:]?\s*([^。；;！!？?]+)")
_COUNT_TAIL = re.compile(r"[这等]?[一二两三四五六七八九十几\d]+(?:项|点|个方面|个|条|件事)(?:任务|工作|重点工作|内容|重点|方面)?$")


def item_topics(request: str) -> list[str]:
    """Items the user listed: 「重点讲科普阵地建设、科技人才服务、学会改革三项」 → the three.

    A list right after 「第二部分：」 names the part's subject (its heading), not its items; items need a verb
    (讲 / 重点讲 / 包括 …) or a count (三项任务：A、B、C)."""
    text = re.sub(r"^.*?第[一二三四五六七八九十]部分", "", request)
    m = _TOPIC_VERB.search(text)
    if not m:
        return []
    body = m.group(1).strip()
    if re.match(r"^[这等]?[一二两三四五六七八九十几\d]+(?:项|点|个方面|条|件事)[^：:]{0,6}[：:]", body):
        body = re.split(r"[：:]", body, 1)[1]
    body = _COUNT_TAIL.sub("", body.strip(" ，,"))
    parts = [re.sub(r"^[一二三四五六七八九十]是", "", p.strip(" ，,")) for p in
             re.split(r"[、，,]|以及|和(?=[\u4e00-\u9fff]{2})", body) if p.strip(" ，,")]
    if len(parts) >= 2 and all(2 <= len(p) <= 20 and not re.search(r"我|提纲|讲话|致辞|会议|大会", p) for p in parts):
        return parts
    return []


_REPORTER = re.compile(r"(?:报告人|作报告的|作工作报告的|做报告的|通报情况的|通报的)(?:人)?(?:是|为)"
                       r"([\u4e00-\u9fff]{2,14}?)(?:同志)?(?=[，。,；;！!\s]|$)")


def reporter(said: str) -> str:
    """Who gave the report, when the user said so (写过渡语，报告人是王惠兰同志 → 王惠兰)."""
    m = _REPORTER.search(said or "")
    return m.group(1) if m else ""


def requested_count(request: str) -> int:
    m = re.search(r"([一二两三四五六七八九十\d])(?:项|点|个方面|条)", request)
    if not m:
        return 0
    v = m.group(1)
    n = int(v) if v.isdigit() else "一二三四五六七八九十".find(v) + 1 if v != "两" else 2
    return n if 2 <= n <= 6 else 0


def _shares(item: str, topic: str, common: str = "") -> bool:
    """``item`` carries ``topic``: half of the topic's character pairs, leaving out those of ``common``."""
    own = (_bigrams(topic) - _bigrams(common)) or _bigrams(topic)
    return bool(own) and len(_bigrams(item) & own) >= max(1, (len(own) + 1) // 2)


def _topic_item(topic: str) -> str:
    return topic if re.match(r"^(?:加强|推进|深化|强化|提升|做好|抓好|推动|聚焦|完善|健全|坚持|着力|全面|持续|扎实)", topic) \
        else f"扎实做好{topic}工作"


def _item_headline(text: str) -> str:
    m = match_item(text)
    if not m:
        return ""
    first = _sentences(text[len(m[0]):])
    h = first[0].rstrip("。；;") if first else ""
    return h if 4 <= len(h) <= 26 else ""


def role_of(n: int, heading: str = "") -> str:
    from .structure import classify_role

    if heading:
        return classify_role(heading, n, n == 2)
    return ROLE_BY_PART.get(n, "other")


def part_role(plan: SpeechPlan | None, n: int, heading: str = "") -> str:
    """The role part ``n`` is written in.  The default plan keeps today's rule (the heading's words may make
    part 一 a tasks part); a template's plan says what each of its parts does."""
    if plan is None or plan.is_default or not plan.has_part(n):
        return role_of(n, heading)
    return plan.role(n)


def _style(style: str) -> str:
    return f"风格要求：{style}。" if style else ""


def _neutral_places(text: str, passages) -> str:
    places = guards.foreign_places([f"{p.title} {p.occasion} {p.text}" for p in passages])
    for name in sorted(places, key=len, reverse=True):
        text = text.replace(name, "全" + name[-1])
    for stem in guards.place_stems(places):
        text = text.replace(stem, "本地")
    return text


def _longest_shared(text: str, sources: list[str]) -> int:
    from .judges import longest_common_run

    return longest_common_run(text, sources)[0]


FIXED_CHARS = 350  # salutation, greetings, transition, headings, the tasks intro: not scaled


def speech_scale(total_chars: float, plan: SpeechPlan | None = None) -> float:
    """How much longer or shorter than the default the model-written parts must be for a whole speech of
    ``total_chars`` characters, drafted in ``plan``'s parts (default: the seed's three)."""
    plan = plan or SpeechPlan.default()
    n = sections_table()["lengths"]
    model = n["opening"] + n["closing"]
    for k in plan.numbers():
        role = plan.role(k)
        if role == "tasks":
            model += plan.item_count(k) * (n["tasks_item"] + 18)
        else:  # two paragraphs, each opened by a topic sentence of sections.yaml's points
            model += 2 * n.get(role, n["other"])
    return max(0.3, min(3.0, (total_chars - FIXED_CHARS) / model))
