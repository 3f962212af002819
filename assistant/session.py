"""One user's drafting session: the document, its versions, the blank ledger and the chat.

``Session.turn(message)`` routes a chat message (rules first, the model only
when the rules do not decide) and yields :class:`Event`s: status lines while
the model reads, streamed text, and a final message.  The document changes
only after a reply has been repaired and validated; every change is a version.
Errors become one clear message and leave the document as it was.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Iterator, Literal

from . import guard as guards
from . import icons
from . import intent as intents
from . import materials as mats
from . import placeholders, repair, tones
from .brief import Brief
from .checks import run_checks
from .composer import Composer, Job, Piece, Written, clean_paragraph, drop_section_repeats, item_topics, part_role
from .diff import diff_summary
from .document import Document, outline_text, part_key, section_label
from .drafting import Drafter, first_paragraph
from .model_gate import Cancelled, Waiting
from .plan import PlanError, SpeechPlan, plan_from_knowledge, plan_from_speech
from .retrieval import Passage
from .structure import cn_numeral, count_chars, match_heading, match_item
from .versions import History

# status: progress while the model reads or waits; delta: the section as it is being written; section: one section
# of a longer job has been accepted and is in the document; message / error: the turn's last word
log = logging.getLogger(__name__)


class _RedactSecrets(logging.Filter):
    """API keys never reach a log: an endpoint's error (401) echoes the key, and the traceback carries it."""

    def filter(self, record: logging.LogRecord) -> bool:
        import os

        secrets = [v for k, v in os.environ.items() if k.endswith("API_KEY") and v and len(v) >= 8]
        try:
            from .settings import Settings

            key = Settings().openai_api_key
            if key:
                secrets.append(key.get_secret_value() if hasattr(key, "get_secret_value") else str(key))
        except Exception:  # settings that do not load must not stop the log
            pass
        if not secrets:
            return True
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        for secret in secrets:
            text = text.replace(secret, "***")
        record.msg, record.args, record.exc_text = text, None, None
        return True


log.addFilter(_RedactSecrets())

EventKind = Literal["status", "delta", "section", "message", "error"]
FULL_ORDER = ("opening", "transition", "part1", "part2", "part3", "closing")  # the default plan; a session drafts self.plan.section_keys()

# the tone presets of prompts/tones.yaml (assistant/tones.py): id → instruction, button label → id
STYLE_INSTRUCTIONS = tones.INSTRUCTIONS
PRESET_MESSAGES = tones.BUTTON_LABELS
MAX_SELECTION = 5_000
# the code's own lead-in to a tasks part (「……要重点抓好以下几个方面。」): kept as it is when the part is refined
_INTRO_LINE = re.compile(r"以下(?:几|[一二三四五六七八九十])(?:个方面|点)(?:工作)?[。：:]?$")

HELP = (
    "我可以帮您起草讲话稿。试试这样说：\n"
    "- 「为区妇联第四次代表大会写开场白」\n"
    "- 「帮我给区妇联第四次代表大会写个提纲」，再说「按提纲写全文」\n"
    "- 「写第二部分：围绕中心、服务大局」\n"
    "- 「按《区总工会第三次代表大会讲话》的结构写」（照往年讲话的结构，例如四个部分；只借结构，不抄内容）\n"
    "- 「第二部分更简洁一些」「开头语气再亲切点」「压缩到三分钟」\n"
    "- 「“_”规划是十五五」（填写空白），「撤销」「对比一下改了什么」「检查一下」\n"
    "- 「找一下“墩苗”计划那段」「哪篇讲话提到过一码通办」（查往年讲话）"
)


@dataclass
class Event:
    kind: EventKind
    text: str = ""
    section: str | None = None


@dataclass
class Turn:
    """What one turn produced, for the UI and for tests."""

    reply: str = ""
    sources: list[Passage] = field(default_factory=list)
    timing: dict = field(default_factory=dict)


class PartialReply(RuntimeError):
    """A reply broke off after some text had arrived."""

    def __init__(self, text: str, cause: Exception):
        super().__init__(str(cause))
        self.text = text
        self.cause = cause


class Session:
    def __init__(self, drafter: Drafter, *, chars_per_minute: int = 220, max_message_chars: int = 20_000,
                 speech_date: date | None = None):
        self.id = uuid.uuid4().hex[:12]
        self.rev = 0  # the stored revision this session was loaded or last saved at (see store.persist)
        self.drafter = drafter
        self.cpm = chars_per_minute
        self.max_message_chars = max_message_chars
        self.speech_date = speech_date or date.today()
        self.doc = Document()
        self.history = History()
        self.ledger = placeholders.Ledger()
        self.outline: tuple[dict[int, str], dict[int, list[str]]] | None = None
        self.plan = SpeechPlan.default()  # the speech's parts, roles and item styles (assistant/plan.py)
        self.occasion = ""
        self.budget_minutes: float | None = None
        self.last_section: str | None = None
        self.sources: list[Passage] = []
        self.facts: list[str] = []  # what the user has told us (messages), for the no-invention guard
        self.messages: list[dict] = []
        self.last: Turn = Turn()
        self.incomplete: dict | None = None  # the last reply that broke off, kept for the user
        self.terms: list = []  # date-aware wording rules (assistant.terms)
        self.proposals: list = []
        self.seen_passages: dict[str, Passage] = {}  # every passage shown to the model, for the copy check
        self.own: set[str] = set()  # sections the user writes (「第一部分我已经写好了」): never drafted over or refined
        self.section_sources: dict[str, list[dict]] = {}  # section → the past-speech passages it was drafted from
        self.title = "新讲话稿"
        self.brief = Brief(speech_date=self.speech_date)
        self.materials = mats.Materials()  # 会议材料: this speech's own work report, figures, plan names
        self._busy = threading.Lock()
        self._cancel = threading.Event()
        self._commits_this_turn = self._commits_last_turn = 0  # versions a turn made (a correction undoes one)
        self._last_intent: intents.Intent | None = None  # what the previous message was taken for (「不是，我是说……」)

    # --- public ---------------------------------------------------------------
    def turn(self, message: str, *, selection: str | None = None, intent: intents.Intent | None = None) -> Iterator[Event]:
        """Handle one chat message; yields events; the document is consistent after every event.  ``intent``: what
        a button asks for (a tone preset), carried out as it is; ``message`` is then what the chat shows."""
        if not self._busy.acquire(blocking=False):
            yield Event("error", "上一条请求还在处理中，请等它完成后再发送。文档没有改动。")
            return
        try:
            self._cancel.clear()
            self._commits_last_turn, self._commits_this_turn = self._commits_this_turn, 0
            self.last = Turn()
            self._t0 = time.perf_counter()
            message = (message or "").strip()
            problem = self._validate(message)
            if problem:
                yield Event("error", problem)
                return
            self.messages.append({"role": "user", "content": message})
            events = self._dispatch(message, selection, intent)
            final = ""
            for ev in events:
                if ev.kind in ("message", "error"):
                    final = ev.text
                yield ev
            self.messages.append({"role": "assistant", "content": final})
            self.last.reply = final
        except Cancelled:
            note = "已停止。" + (f"已完成的部分已保存（{self._exists_message()[3:]}）" if not self.doc.is_empty else "文档没有改动。")
            self.messages.append({"role": "assistant", "content": note})
            yield Event("message", note)
        except Exception as exc:  # one clear message; the document stays as it was; the trace goes to the log
            log.error("turn failed: %s", message[:80], exc_info=exc)
            yield Event("error", friendly_error(exc))
        finally:
            self.last.timing["total_s"] = round(time.perf_counter() - getattr(self, "_t0", time.perf_counter()), 3)
            self._busy.release()

    def cancel(self) -> bool:
        """The stop button: end this session's running turn at the next streamed piece; sections already
        accepted stay.  True when a turn was running.  Other sessions are not touched."""
        if self._busy.locked():
            self._cancel.set()
            return True
        return False

    @property
    def busy(self) -> bool:
        return self._busy.locked()

    def set_speech_date(self, day: date) -> None:
        self.speech_date = day
        self.brief.speech_date = day

    def edit_document(self, text: str) -> str:
        """The user edited the document text directly."""
        text = (text or "").strip()
        if text == self.doc.text().strip():
            return "文档没有变化。"
        if len(text) > 60_000:
            return f"文档太长（{len(text)} 字），未保存。讲话稿一般在一万字以内。"
        new = Document.from_text(text)
        if not self.doc.is_empty and new.is_empty:
            return "编辑后的文档为空，未保存。如需清空，请删除各部分后再保存。"
        if not new.title and self.doc.title:
            new.title = self.doc.title
        before = self.doc.text()
        self._commit(new, "手动编辑", None)
        return f"已保存您的编辑（{diff_summary(before, self.doc.text())}）。"

    # --- routing --------------------------------------------------------------
    def _validate(self, message: str) -> str | None:
        if not message:
            return "请输入您的要求，例如「为区妇联第四次代表大会写开场白」。"
        if len(message) > self.max_message_chars and mats.pasted(message[:200] + "。" * 20) is not None:
            return (f"这条消息有 {len(message)} 字，超过了 {self.max_message_chars} 字的上限，没有处理。"
                    "较长的会议材料请在右侧“材料”页上传文件或粘贴（每份最多 "
                    f"{mats.MAX_MATERIAL_CHARS} 字）。")
        if len(message) > self.max_message_chars:
            return (
                f"这条消息有 {len(message)} 字，超过了 {self.max_message_chars} 字的上限，没有处理。"
                "如果是一篇现成的讲稿，请粘贴到右侧“文档”框里保存，或在“知识库”里上传。"
            )
        return None

    def _dispatch(self, message: str, selection: str | None, intent: intents.Intent | None = None) -> Iterator[Event]:
        if intent is not None:  # a button: nothing to parse
            yield from getattr(self, f"_do_{intent.action}")(intent, message, selection)
            return
        if message.strip("。！! ") in ("确认建议", "采纳建议", "确认这些建议", "都确认"):
            yield from self._confirm_proposals()
            return
        template = intents.template_request(message)
        if template is not None:
            yield from self._do_template(template, selection)
            return
        material = mats.pasted(message)
        if material is not None or mats.LIST_REQUEST.match(message):
            yield Event("message", self.attach_material(*material) if material else self.materials_summary())
            return
        if m := mats.REMOVE_REQUEST.match(message):
            yield Event("message", self.remove_material(m.group("name") or m.group("name2")))
            return
        if self._looks_like_speech(message):
            yield from self._load_pasted(message)
            return
        it = intents.route(
            message,
            has_document=not self.doc.is_empty,
            has_outline=self.outline is not None,
            part_count=max(self.plan.count, len(self.doc.part_numbers())),
            last_section=self.last_section,
            roles=None if self.plan.is_default else self.plan.roles(),
        )
        changed = self.brief.update(message, it.occasion)
        if "date" in changed and self.brief.speech_date:
            self.speech_date = self.brief.speech_date
        if it.occasion or self.brief.occasion:
            self.occasion = self.brief.occasion or it.occasion
        if it.action == "chat" and it.confidence == 0.0:
            it = self._classify(message, it)
        correction = it.correction
        it = self._draft_if_missing(it, message)
        it.correction = correction
        self.facts.append(message)
        prev = self._last_intent
        if it.correction and it.action == "clarify" and it.target is not None and prev is not None and prev.target:
            # 「不是，我是说第二部分」 after 「写第一部分」: the same request, for the part the user meant
            from dataclasses import replace

            it = replace(prev, target=it.target, correction=True, own=())
        self._last_intent = it
        own_note = self._remember_own(it.own) if it.own and it.action != "context" else ""
        if it.correction and self._commits_last_turn == 1 and it.action not in ("undo", "redo", "restore"):
            undone = self.history.current.label
            doc = self.history.undo()  # the misunderstood turn's change goes; the corrected request runs instead
            if doc is None and len(self.doc.keys()) == 1:
                doc = Document()  # it was the speech's first change: back to the empty speech (its version stays)
            if doc is not None:
                self._set_doc(doc)
                own_note = (own_note + "\n" if own_note else "") + f"已撤销刚才的「{undone}」。"
        handler = getattr(self, f"_do_{it.action}", None)
        if handler is None:
            yield Event("message", HELP)
            return
        for ev in handler(it, message, selection):
            if own_note and ev.kind == "message":  # 「第一部分我已经写好了，你写第二部分」: both are answered
                ev, own_note = Event("message", own_note + "\n" + ev.text, ev.section), ""
            yield ev

    def _draft_if_missing(self, it: intents.Intent, message: str) -> intents.Intent:
        """「开场白300字左右」「第二部分讲三项任务」 about a section that has no text yet asks for it to be written."""
        if it.action not in ("refine", "clarify", "budget") or it.target is None:
            return it
        key = it.target.section_key()
        if key is None or self.doc.get(key):
            return it
        if it.action == "budget" and not key:
            return it
        return intents.Intent("draft", it.target, style=it.style if it.style not in (None, "custom", "shorten") else None,
                              topic=it.topic, occasion=it.occasion, minutes=it.minutes, chars=it.chars, confidence=0.8)

    def _classify(self, message: str, it: intents.Intent) -> intents.Intent:
        """Ask the model only when the rules did not decide."""
        try:
            label = self.drafter.classify(message)
        except Exception:
            return it
        if label == "outline":
            return intents.Intent("outline", occasion=it.occasion, confidence=0.5)
        if label == "refine" and not self.doc.is_empty:
            return intents.Intent("refine", intents.Target("current"), style="custom", instruction=message, confidence=0.5)
        if label == "undo":
            return intents.Intent("undo", confidence=0.5)
        if label == "check":
            return intents.Intent("check", confidence=0.5)
        return it

    @staticmethod
    def _looks_like_speech(message: str) -> bool:
        if len(message) < 300:
            return False
        heads = [l for l in message.splitlines() if match_heading(l)]
        return len(heads) >= 2

    # --- actions ------------------------------------------------------------------
    def _do_help(self, it, message, selection):
        yield Event("message", HELP)

    def _remember_own(self, targets) -> str:
        keys = [k for k in (self._resolve(t) for t in targets) if k]
        self.own |= set(keys)
        names = "、".join(section_label(k) for k in keys)
        return f"记下了：{names}由您自己写，我不会起草或改动{'它' if len(keys) == 1 else '它们'}。"

    def _do_context(self, it, message, selection):
        """「第一部分我已经写好了」: remembered and kept, not acted on."""
        said = self._remember_own(it.own or (it.target,))
        yield Event("message", said + "按提纲写全文、整篇润色时会跳过；需要我参考或检查它，可以把它粘贴过来。"
                    "改主意了就说「写第一部分」之类。")

    def _do_language(self, it, message, selection):
        yield Event("message", "讲稿助手只起草和修改中文讲话稿，不做翻译，也不写外文稿：外文版本请交专业翻译。"
                    "请用中文告诉我会议名称、您的身份和要写的部分，例如「为区妇联第四次代表大会写开场白，我是区委书记」。")

    def _do_source(self, it, message, selection):
        """「这段参考了哪些讲话」: the past speeches a section was drafted from; a quoted sentence is looked up instead."""
        key = self._resolve(it.target) or self.last_section
        label = section_label(key) if key else "这一部分"
        rows = self.section_sources.get(key or "", [])
        if not rows:
            yield Event("message", f"{label}没有记录参考来源（可能是您粘贴或手动编辑的内容，或还没有起草）。"
                        "要查一句话的出处，请把它放在引号里问我，例如：“坚持以人民为中心”出自哪篇讲话？")
            return
        lines = [f"{label}起草时参考了这些往年讲话（只借鉴写法，事实没有照搬）："]
        for i, r in enumerate(rows[:6], 1):
            lines.append(f"{i}. 《{r.get('title', '')}》（{r.get('source', '')}）\n   {r.get('snippet', '')}")
        lines.append("在右侧「参考来源」页点选一行，可以看到这段在原讲话中的位置。")
        yield Event("message", "\n".join(lines))

    def _do_chat(self, it, message, selection):
        yield Event("message", "我是讲稿助手，专门帮您起草和修改讲话稿。\n" + HELP)

    def _do_clarify(self, it, message, selection):
        yield Event("message", it.question or "请说得具体一些：要写哪一部分？是什么会议或场合？")

    def _resolve(self, target: intents.Target | None) -> str | None:
        if target is None:
            return None
        if target.kind == "current":
            return self.last_section
        if target.kind == "previous":
            keys = self.doc.keys()
            if self.last_section in keys:
                i = keys.index(self.last_section)
                return keys[i - 1] if i > 0 else None
            return None
        return target.section_key()

    def _exists_message(self) -> str:
        keys = self.doc.keys()
        if not keys:
            return "目前文档还是空的。可以先说「写开场白」或「列个提纲」。"
        return "目前有：" + "、".join(section_label(k) for k in keys) + "。"

    def _do_draft(self, it, message, selection):
        if it.target is None:
            yield Event("message", f"要写哪一部分？开场白、过渡语、{self.plan.parts_phrase()}，还是结尾？")
            return
        if it.target.kind in ("whole",):
            yield from self._do_draft_all(it, message, selection)
            return
        key = self._resolve(it.target)
        if key is None:
            yield Event("message", "没弄清要写哪一部分。" + self._exists_message())
            return
        if key.startswith("part") and not self.plan.has_part(int(key[4:])) and int(key[4:]) not in self.doc.part_numbers():
            yield Event("message", self._no_such_part(int(key[4:])))
            return
        minutes, chars = intents.parse_duration(message)
        chars = chars or (int(minutes * self.cpm) if minutes else None)
        self.own.discard(key)  # asked for by name: the user wants it written after all
        yield from self._draft_section(key, message, topic=it.topic, style=it.style, chars=chars)

    def _job(self, key: str, message: str, topic: str = "", style: str | None = None, chars: int | None = None) -> Job:
        heading, items = "", []
        listed = item_topics(message)
        if key.startswith("part"):
            n = int(key[4:])
            if topic and len(topic) <= 30 and not listed:
                heading = topic
            elif self.outline and n in self.outline[0]:
                heading = self.outline[0][n]
                items = [] if listed else list(self.outline[1].get(n, []))
            elif self.doc.get(key):
                h = match_heading(self.doc.get(key).split("\n", 1)[0])
                heading = h[1] if h else ""
        scale = 1.0
        if self.brief.minutes and not chars:
            from .composer import speech_scale

            scale = speech_scale(self.brief.minutes * self.cpm, self.plan)
        return Job(key=key, brief=self.brief, request=message, said=self.allowed_text(), heading=heading, items=items,
                   chars=chars, scale=scale, style=STYLE_INSTRUCTIONS.get(style or "", ""),
                   previous="\n".join(self.doc.get(k) for k in self.doc.keys() if k != key), plan=self.plan,
                   facts=self._facts_for if self.materials else None)

    def ledger_facts(self) -> str:
        vals = [f"{e.label}={e.value}" for e in self.ledger.entries.values() if e.status == "confirmed" and e.value]
        return "；".join(dict.fromkeys(vals))

    def allowed_text(self) -> str:
        """Everything the user has given: messages, confirmed values, the document as it stands."""
        year = f"{self.speech_date.year}年" if self.speech_date else ""  # the speech's year is known, its day is not
        return "\n".join(self.facts + [self.ledger.allowed_text(), self.doc.text(), self.occasion, year,
                                        self.materials.text()])

    def _composer(self) -> Composer:
        return Composer(self.drafter, terms=self.terms, speech_date=self.speech_date, timing=self.last.timing,
                        cancelled=self._cancel.is_set)

    def _relay(self, gen, key: str | None, progress: str = ""):
        """Run a composer generator: its pieces become delta events, its waits status events; returns its value.
        Text streamed before a failure is kept aside (``self.incomplete``), never written into the document."""
        last = ""
        lead = f"{progress}：" if progress else ""
        try:
            while True:
                try:
                    item = next(gen)
                except StopIteration as stop:
                    return stop.value
                if isinstance(item, Waiting):
                    yield Event("status", f"{lead}排队中，前面还有 {item.ahead} 个请求，预计约 {item.eta_s:.0f} 秒……", key)
                elif isinstance(item, Piece):
                    if "ttft_s" not in self.last.timing:
                        self.last.timing["ttft_s"] = round(time.perf_counter() - self._t0, 3)
                    last = item.text
                    yield Event("delta", item.text, key)
        except Cancelled:
            raise
        except Exception as exc:
            if last:
                self.incomplete = {"section": key, "text": last, "error": type(exc).__name__}
                raise PartialReply(last, exc) from exc
            raise

    def _draft_section(self, key: str, message: str, topic: str = "", style: str | None = None, *,
                       chars: int | None = None, progress: str = "") -> Iterator[Event]:
        label = section_label(key)
        job = self._job(key, message, topic, style, chars)
        lead = f"{progress}：" if progress else ""
        yield Event("status", f"{lead}正在写{label}……" + ("" if progress else "（本地模型约需十几秒到一分钟）"), key)
        t0 = time.perf_counter()
        written: Written = yield from self._relay(self._composer().write(job), key, progress)
        self.last.timing.setdefault("sections", {})[key] = round(time.perf_counter() - t0, 1)
        self.sources = list(written.passages)
        self.last.sources = list(written.passages)
        self.section_sources[key] = [{"title": p.title, "source": getattr(p, "source", ""),
                                      "snippet": re.sub(r"\s+", "", p.text)[:60] + "……"} for p in written.passages[:6]]
        self.seen_passages.update({p.id: p for p in written.passages})
        fixed = self._check_written(key, written.text, written.heading)
        if not fixed.ok:
            yield Event("error", f"{label}没有写入：{fixed.error}")
            return
        text, repeats = drop_section_repeats(fixed.text, self.user_text())  # not the document: its old text is no licence
        text, filled = self._apply_known(text)
        text, blanked = self.materials.ground(text, self.user_text() + "\n" + self.doc.text())
        notes = written.notes + fixed.notes + self._copy_notes(text, written.passages)
        notes += [f"删去了{repeats}句与本段前文重复的话"] if repeats else []
        notes += [f"模型写入了材料里没有的数字（{'、'.join(dict.fromkeys(blanked))}），已改成待填空白"] if blanked else []
        new = self.doc.copy()
        new.set(key, text)
        self._commit(new, f"起草{label}", key)
        self.last_section = key
        if key.startswith("part") and self.outline is not None and written.heading:
            n = int(key[4:])
            self.outline[0][n] = written.heading
            if written.items:
                self.outline[1][n] = list(written.items)
        notes += [f"已按您确认的信息填入：{filled}"] if filled else []
        yield Event("message", self._done_message(f"已起草{label}", key, notes), key)

    def _check_written(self, key: str, text: str, heading: str = "") -> repair.Repaired:
        """The structure of a composed section, checked once more by the repair rules (they own the format)."""
        if key.startswith("part"):
            n = int(key[4:])
            return repair.repair_part(text, n, heading=heading or None, role=part_role(self.plan, n, heading),
                                      item_style=self.plan.item_style(n))
        if key == "opening":
            return repair.repair_opening(text)
        if key == "transition":
            return repair.repair_transition(text, self.plan.count_word)
        return repair.repair_closing(text)

    @staticmethod
    def _copy_notes(text: str, passages: list[Passage]) -> list[str]:
        """Runs of 30+ characters copied verbatim from a past speech: the user should rewrite them."""
        from .checks import find_copies

        if not passages:
            return []
        runs = find_copies(text, [p.text for p in passages])
        if not runs:
            return []
        worst = max(runs, key=lambda r: r.chars)
        title = passages[worst.source].title
        return [f"有 {len(runs)} 处与往年讲话原文相同（最长 {worst.chars} 字，出自《{title}》），建议改写，见“检查”页"]

    def _apply_known(self, text: str) -> tuple[str, str]:
        """Fill blanks in new text with values the user already confirmed."""
        new, changes = self.ledger.apply(text)
        shown = "、".join(dict.fromkeys(f"{c.value}" for c in changes)) if changes else ""
        return new, shown

    def _done_message(self, head: str, key: str | None, notes: list[str]) -> str:
        lines = [head + "。"]
        if key and self.doc.get(key):
            lines.append(f"（{count_chars(self.doc.get(key))} 字，约 {count_chars(self.doc.get(key)) / self.cpm:.1f} 分钟）")
        lines += [f"· {n}" for n in dict.fromkeys(notes)]
        open_n = len(self.ledger.open_entries())
        if open_n:
            lines.append(f"文中还有 {open_n} 处空白待填，可以直接告诉我，例如「“_”规划是十五五」。")
        proposed = [e for e in self.ledger.listed() if e.status == "proposed"]
        if proposed:
            shown = "；".join(dict.fromkeys(f"{e.label} → {e.value}" for e in proposed))
            lines.append(f"建议（按讲话日期或会议材料推断，尚未填入）：{shown}。说「确认建议」即可采用。")
        if "ttft_s" in self.last.timing:
            took = time.perf_counter() - getattr(self, "_t0", time.perf_counter())
            lines.append(f"（首字 {self.last.timing['ttft_s']:.1f} 秒，共 {took:.1f} 秒）")
        return "\n".join(lines)

    def _do_outline(self, it, message, selection):
        if not self.brief.occasion:
            yield Event("message", "请先告诉我是什么会议或场合，例如「为区科协第五次代表大会拟个提纲，我是区长」。")
            return
        tasks = "、".join(section_label(f"part{n}") for n in self.plan.tasks_parts())
        yield Event("status", f"正在拟提纲：{self.plan.count_word}个部分的标题" + (f"和{tasks}的任务" if tasks else "") + "……",
                    "outline")
        composer = self._composer()
        headings, items, passages = yield from self._relay(composer.outline(self.brief, self.plan, message), "outline")
        allowed = self.allowed_text()
        guard = lambda t: guards.guard(t, allowed, passages, speech_date=self.speech_date, terms=self.terms).text
        headings = {n: guard(h) for n, h in headings.items()}
        items = {n: [guard(x) for x in v] for n, v in items.items()}
        self.outline = (headings, items)
        self.sources = self.last.sources = passages
        ask = "".join(f"\n· {n}" for n in dict.fromkeys(composer.notes))
        if not self.brief.speaker:
            ask = "\n您以什么身份讲话（例如「我是区长」）？知道后，开场白里“我代表……”会相应写好。"
        shape = "" if self.plan.is_default else self.plan.label() + "\n"
        yield Event("message", self.brief.summary(self.cpm) + "\n" + shape
                    + "提纲如下，可以说「第二部分加一条……」调整，或说「按提纲写全文」「写第二部分」：\n"
                    + self.outline_text() + ask)

    def _do_outline_edit(self, it, message, selection):
        if self.outline is None:
            yield Event("message", "还没有提纲。请先说「帮我给……写个提纲」。")
            return
        headings, items = self.outline
        headings, items = dict(headings), {k: list(v) for k, v in items.items()}
        target = it.target
        n = target.part if target and target.part else (self.plan.first("tasks") or 2)
        m_add = re.search(r"(?:加|增加|添加|补充)(?:一条|一项|一点)?(?:关于)?(.+?)(?:的)?(?:内容)?$", message)
        m_title = re.search(r"标题(?:改成|改为|换成)[“\"「]?(.+?)[”\"」]?$", message)
        m_del = re.search(r"(?:删掉|删除|去掉)(?:第[一二三四五六七八九十\d]+部分的?)?第([一二三四五六七八九十\d]+)条", message)
        if m_title:
            headings[n] = m_title.group(1).strip("。")
            done = f"第{cn_numeral(n)}部分标题改为“{headings[n]}”"
        elif m_del:
            k = intents.cn_int(m_del.group(1)) or 0
            if not 1 <= k <= len(items.get(n, [])):
                yield Event("message", f"第{cn_numeral(n)}部分没有第{k}条。")
                return
            removed = items[n].pop(k - 1)
            done = f"删去了第{cn_numeral(n)}部分的“{removed}”"
        elif m_add:
            what = m_add.group(1).strip("。，, ")
            what = re.sub(r"^(一条|一项|一点)?(关于)?", "", what)
            items.setdefault(n, []).append(what if what.startswith(("要", "加强", "推进")) else f"加强{what}")
            done = f"第{cn_numeral(n)}部分加了一条：{items[n][-1]}"
        else:
            yield Event("message", "没看懂要怎么改提纲。可以说「第二部分加一条关于家风建设的」「把第三部分标题改成……」「删掉第二部分第三条」。")
            return
        self.outline = (headings, items)
        yield Event("message", f"好的，{done}。当前提纲：\n" + self.outline_text())

    def _do_draft_all(self, it, message, selection):
        if self.outline is None and not self.brief.occasion:
            yield Event("message", "请先告诉我是什么会议或场合，例如「为区妇联第四次代表大会写个提纲」。")
            return
        minutes, chars = intents.parse_duration(message)
        if minutes or chars:
            self.brief.minutes = minutes or round(chars / self.cpm, 1)
        t0 = time.perf_counter()
        done: list[str] = []
        notes: list[str] = []
        keys = self.plan.section_keys()
        for i, key in enumerate(keys, 1):
            progress = f"第 {i}/{len(keys)} 段"
            if key in self.own:
                yield Event("section", f"{progress}：{section_label(key)}由您自己写，已跳过。", key)
                notes.append(f"{section_label(key)}由您自己写，没有起草")
                continue
            for ev in self._draft_section(key, message, progress=progress):
                if ev.kind == "message":
                    done.append(section_label(key))
                    notes += [l[2:] for l in ev.text.split("\n") if l.startswith("· ")]
                    yield Event("section", f"{progress}：{section_label(key)}已写好（{count_chars(self.doc.get(key))} 字）。", key)
                    continue
                if ev.kind == "error":
                    yield ev
                    yield Event("message", f"已完成：{'、'.join(done) or '无'}。{ev.text} 可以再说「写{section_label(key)}」重试。")
                    return
                yield ev
        total = count_chars(self.doc.text())
        took = time.perf_counter() - t0
        head = (f"全文已起草完成（{'、'.join(done)}），共 {total} 字，约 {total / self.cpm:.1f} 分钟；"
                f"整篇用时 {took:.0f} 秒")
        kept = list(dict.fromkeys(notes))[:6]
        yield Event("message", self._done_message(head, None, kept))

    def _do_refine(self, it, message, selection):
        pasted = "" if selection else intents.pasted_text(message)
        if pasted and re.sub(r"\s", "", pasted) not in re.sub(r"\s", "", self.doc.text()):
            yield from self._refine_pasted(pasted, it, message)
            return
        if self.doc.is_empty:
            yield Event("message", "还没有可以修改的内容。请先起草，例如「写开场白」。")
            return
        target = it.target or intents.Target("current")
        if not selection and target.kind == "item":
            item = self._item_text(target)
            if item is None:
                yield Event("message", f"没有找到{target.label()}这一条。" + self._exists_message())
                return
            selection = item  # an item is refined like a selection: the rest of the part stays as it is
        if selection:
            if len(selection) > MAX_SELECTION:
                yield Event("error", f"选中的文字有 {len(selection)} 字，一次最多修改 {MAX_SELECTION} 字。请分段选择。")
                return
            key = self.doc.section_at(self.doc.text().find(selection)) if selection in self.doc.text() else None
            if key is None:
                yield Event("error", "选中的文字在当前文档里找不到（可能已被修改）。请重新选择。")
                return
            keys = [key]
        elif target.kind == "whole":
            keys = [k for k in self.doc.keys() if k not in self.own] or self.doc.keys()
        else:
            key = self._resolve(target)
            if key is None:
                key = self.last_section
            if key is None or not self.doc.get(key):
                what = section_label(key) if key else "这一部分"
                yield Event("message", f"{what}还没有内容，无法修改。" + self._exists_message())
                return
            keys = [key]
        originals = {k: (selection if selection else self.doc.get(k)) for k in keys}
        targets = self._refine_targets(it, originals)
        style = it.style
        if style == "shorten" and sum(t or 0 for t in targets.values()) > 1.1 * sum(count_chars(o) for o in originals.values()):
            # 「控制在400字」 for a 100-character closing asks for more, not less: keep the tone the user named
            tone = intents._style(intents._rx(r"控制在|压缩|缩短|精简").sub("", message))
            style = tone if tone in STYLE_INSTRUCTIONS and tone not in ("shorten", "concise") else "expand"
        instruction = STYLE_INSTRUCTIONS.get(style or "", "")
        if style == "custom" or not instruction:
            instruction = it.instruction or message
        new = self.doc.copy()
        notes: list[str] = []
        before_chars = sum(count_chars(o) for o in originals.values())
        for i, key in enumerate(keys, 1):
            original = originals[key]
            progress = f"第 {i}/{len(keys)} 段" if len(keys) > 1 else ""
            yield Event("status", (f"{progress}：" if progress else "") + f"正在修改{section_label(key)}……", key)
            result = yield from self._refine_section(key, original, instruction, targets.get(key), progress)
            if not result.ok:
                yield Event("error", f"{section_label(key)}没有改动：{result.error}")
                return
            if selection:
                new.set(key, self.doc.get(key).replace(selection, result.text, 1))
            else:
                new.set(key, result.text)
            notes += [n for n in result.notes if n not in notes]
        label = "润色：" + (next((k for k, v in PRESET_MESSAGES.items() if v == it.style), "") or message[:20])
        before = self.doc.text()
        self._commit(new, label, keys[0] if len(keys) == 1 else None)
        self.last_section = keys[0] if len(keys) == 1 else self.last_section
        summary = diff_summary(before, self.doc.text())
        after_chars = sum(count_chars(new.get(k)) for k in keys) if not selection else count_chars(
            self.doc.text()) - count_chars(before) + before_chars
        size = f"，{before_chars} 字 → {after_chars} 字" if targets.get(keys[0]) or len(keys) > 1 else ""
        yield Event("message", self._done_message(f"已修改{'全文' if len(keys) > 1 else section_label(keys[0])}（{summary}{size}）",
                                                  keys[0] if len(keys) == 1 else None, notes))

    def _refine_pasted(self, pasted: str, it, message: str):
        """「帮我润色一下：<a paragraph>」: the pasted text is refined and given back in the chat; the speech in the
        document is not touched."""
        if len(pasted) > MAX_SELECTION:
            yield Event("error", f"粘贴的文字有 {len(pasted)} 字，一次最多修改 {MAX_SELECTION} 字。请分段粘贴。")
            return
        style = it.style
        instruction = STYLE_INSTRUCTIONS.get(style or "", "") if style not in (None, "custom") else ""
        if not instruction:
            instruction = message.split(pasted[:10])[0].rstrip("：: \n") or "润色，使语句更通顺、更符合讲话稿的语气"
        minutes, chars = intents.parse_duration(message.replace(pasted, ""))
        target = chars or (int(minutes * self.cpm) if minutes else None)
        yield Event("status", "正在修改您粘贴的这段文字……")
        result = yield from self._refine_section("pasted", pasted, instruction, target)
        if not result.ok or not result.text.strip():
            yield Event("error", f"这段没有改好：{result.error or '模型没有给出可用的修改'}。原文没有变化，可以换个说法再试。")
            return
        before, after = count_chars(pasted), count_chars(result.text)
        notes = "".join(f"\n· {n}" for n in result.notes[:4])
        yield Event("message", f"修改好了（{before} 字 → {after} 字）：\n\n{result.text}\n\n"
                    f"文档里的讲稿没有改动。要放进讲稿，可以复制到「文档」页，或告诉我放在哪一部分。{notes}")

    def _refine_targets(self, it, originals: dict[str, str]) -> dict[str, int | None]:
        """Characters each section should have after a refine: a length or time the user asked for is shared
        out by the sections' sizes; 更简洁 is about 70 %, 扩写 140 %; a tone change keeps the length."""
        total = it.chars or (int(it.minutes * self.cpm) if it.minutes else None)
        now = {k: count_chars(v) for k, v in originals.items()}
        if total is None:
            factor = {"concise": 0.7, "shorten": 0.7, "expand": 1.4}.get(it.style or "")
            return {k: (int(n * factor) if factor else None) for k, n in now.items()}
        fixed = {k: sum(count_chars(l) for l in v.split("\n") if match_heading(l) or l.strip().endswith("："))
                 for k, v in originals.items()}
        movable = sum(now.values()) - sum(fixed.values())
        room = max(0, total - sum(fixed.values()))
        return {k: fixed[k] + (int(room * (now[k] - fixed[k]) / movable) if movable else 0) for k in now}

    def _refine_section(self, key: str, original: str, instruction: str, target: int | None, progress: str = ""):
        """Refine a section paragraph by paragraph: headings, salutation lines and item markers stay as code keeps
        them, each paragraph gets its share of the length, and a paragraph the model spoils keeps its old text."""
        from .composer import _sentences, _trim, closest_trim

        lines = [l for l in original.split("\n")]
        fixed = [bool(match_heading(l) or l.strip().endswith("：") or not l.strip() or _INTRO_LINE.search(l))
                 for l in lines]
        body_now = sum(count_chars(l) for l, f in zip(lines, fixed) if not f)
        body_target = (target - sum(count_chars(l) for l, f in zip(lines, fixed) if f)) if target else None
        notes: list[str] = []
        allowed = self.allowed_text()
        passages = list(self.seen_passages.values())
        composer = self._composer()
        out = list(lines)
        shares: dict[int, tuple[str, str, int | None]] = {}  # paragraph → (marker, original body, its share)
        for i, (line, keep) in enumerate(zip(lines, fixed)):
            if keep:
                continue
            m = match_item(line)
            marker = m[0] if m and m[1] in ("shi", "paren", "order") else ""
            body = line[len(marker):]
            share = int(body_target * count_chars(line) / body_now) if body_target and body_now else None
            want = max(20, share - count_chars(marker)) if share else None
            rule = (f"修改后约{want}字（原文{count_chars(body)}字）。" if want else "篇幅与原文大致相当。")
            prefix = "\n".join(out[:i])
            goal = want or count_chars(body)
            variables = {"brief": self.brief.prompt_block(), "instruction": instruction, "length_rule": rule, "text": body}
            for temperature in (None, 0.85):  # a reply that is empty, spoiled or the original again: once more, warmer
                raw = yield from self._relay(composer._call("refine", variables, goal, prefix, temperature=temperature),
                                             key, progress)
                new = clean_paragraph(raw, int(goal * 1.1) + 10)
                if marker:
                    new = re.sub(r"^[一二三四五六七八九十]是|^[（(][一二三四五六七八九十][）)]|^(?:首先|其次|再次|最后)[，,：:]", "", new)
                problem = ""
                if not new or composer.is_echo(new):
                    problem = "empty"
                elif len(placeholders.find_blanks(new)) < len(placeholders.find_blanks(body)):
                    problem = "blanks"
                elif re.sub(r"\W", "", new) == re.sub(r"\W", "", body) and not want:
                    problem = "unchanged"
                if not problem:
                    break
            if problem == "unchanged":
                problem = ""
            if problem:
                if want and count_chars(body) > want * 1.2:
                    new = _trim(body, want)  # cut whole sentences of the original instead
                    notes.append("有的段落按篇幅删减了句子")
                else:
                    new = body
                    notes.append("有一段模型没改好，保留了原文")
            else:
                g = guards.guard(new, allowed + "\n" + body, passages, speech_date=self.speech_date, terms=self.terms)
                new = g.text
                notes += [n for n in g.notes if n not in notes]
            if want and count_chars(new) > want * 1.2:
                new = _trim(new, int(want * 1.1))
            if want and count_chars(new) < want * 0.85 and count_chars(body) >= want:
                # cut too far (精简到200字 gave 150): whole sentences of the original, when that comes closer
                cut = closest_trim(body, want)
                new = cut if abs(count_chars(cut) - want) < abs(count_chars(new) - want) else new
            out[i] = marker + new
            shares[i] = (marker, body, want)
        text = "\n".join(l for l in out if l.strip())
        if target and count_chars(text) < 0.85 * target and count_chars(original) >= target:
            # the paragraphs together cut too far (开场白精简到200字 gave 157): the ones cut most get whole sentences
            # of their original back, up to their share, until the section is near the length asked
            for i in sorted(shares, key=lambda i: count_chars(out[i]) - (shares[i][2] or 0)):
                marker, body, want = shares[i]
                back = closest_trim(body, want) if want else ""
                if count_chars(marker + back) > count_chars(out[i]):
                    out[i] = marker + back
                if count_chars("\n".join(l for l in out if l.strip())) >= 0.85 * target:
                    break
            text = "\n".join(l for l in out if l.strip())
        if target and count_chars(text) < 0.8 * target and count_chars(original) < 0.8 * target:
            # asked for more than there is (结尾控制在400字 on a 100-character closing): the shortest paragraphs go
            # on, each on a new aspect, until the section has about the length asked
            job = self._job(key, instruction, chars=target)
            job.style = instruction
            role = key if key in ("opening", "closing") else ""
            for _ in range(2):  # a second round when the first left it short (a share too small to add to)
                open_lines = sorted((i for i, l in enumerate(out) if l.strip() and not fixed[i]),
                                    key=lambda i: count_chars(out[i]))
                for n_left, i in zip(range(len(open_lines), 0, -1), open_lines):
                    now = count_chars("\n".join(l for l in out if l.strip()))
                    if now >= 0.85 * target:
                        break
                    item = match_item(out[i])
                    line_role = role or ("tasks_item" if item else "other")
                    topic = _sentences(out[i])[0] if item and _sentences(out[i]) else ""
                    want = count_chars(out[i]) + max(40, (target - now) // n_left)
                    longer = yield from self._relay(composer.extend(out[i], job, passages, want, notes, line_role,
                                                                    "\n".join(out[:i]), topic=topic), key, progress)
                    if count_chars(longer) > count_chars(out[i]):
                        out[i] = longer
                if count_chars("\n".join(l for l in out if l.strip())) >= 0.85 * target:
                    break
            text = "\n".join(l for l in out if l.strip())
        text, repeats = drop_section_repeats(text, self.user_text())
        if repeats:
            notes.append(f"删去了{repeats}句与本段前文重复的话")
        why = repair.check_refined(original, text)
        if why:
            return repair.Repaired("", error=why + "，为保持结构，原文保留。可以换个说法再试。")
        return repair.Repaired(text, notes)

    def _item_text(self, target) -> str | None:
        from .structure import parse

        key = target.section_key()
        if not key or not self.doc.get(key):
            return None
        part = parse(self.doc.get(key)).parts
        items = part[0].items if part else []
        return next((i.text for i in items if i.number == target.item), None)

    def _do_fill(self, it, message, selection):
        if self.doc.is_empty:
            yield Event("message", "文档里还没有空白可填。请先起草或粘贴讲稿。")
            return
        self.ledger.refresh(self.doc.text())
        req = placeholders.parse_fill(message, self.ledger)
        if req is None:
            yield Event("message", "没看出要填哪个空。可以这样说：「“_”规划是十五五」「第一个空填十四五」。")
            return
        if isinstance(req, placeholders.FillProblem):
            if req.reason == "not_found":
                refill = self._refill(message)
                if refill is not None:
                    yield from refill
                    return
            yield Event("message", req.message)
            return
        if req.how == "refill":
            yield from self._change_filled(self.ledger.entries[req.ids[0]], req.value)
            return
        if req.how == "mention":  # 「惠兰同志是区总工会主席王惠兰」: a person the speech names, not a blank
            yield from self._note_mention(req)
            return
        yield from self._fill(req.ids, req.value)

    def _note_mention(self, req) -> Iterator[Event]:
        """A person the speech names becomes a known fact: drafts may name them so without it being taken for an
        invented name; the text is not touched (a mention is not a blank)."""
        try:
            self.ledger.accept(req)
        except placeholders.BadValue as exc:
            yield Event("message", str(exc))
            return
        yield Event("message", f"记下了：{req.target}是“{req.value}”。以后起草时可以这样称呼，不会当作编造的人名；"
                               f"文中的“{req.target}”不是空白，原样保留，需要改写可以直接在文档里编辑。")

    def _refill(self, message: str) -> Iterator[Event] | None:
        """A blank that was already filled gets a new value: change it everywhere it was filled."""
        filled = [e for e in self.ledger.entries.values() if not e.in_text and e.value and e.status == "confirmed"]
        hit = next((e for e in filled if e.label in message), None)
        m = re.search(r"(?:是|为|填|改成|改为|换成)\s*[“\"「]?([^“”\"「」]+?)[”\"」]?[。！!]?$", message)
        if hit is None or m is None:
            return None
        return self._change_filled(hit, m.group(1).strip())

    def _change_filled(self, hit, new_value: str) -> Iterator[Event]:
        old_value = hit.value
        problem = placeholders.value_problem(new_value)

        def events():
            if problem:
                yield Event("message", problem)
                return
            if new_value == old_value:
                yield Event("message", f"{hit.label}已经是“{old_value}”了。")
                return
            doc = self.doc.copy()
            count = 0
            for e in self.ledger.group(hit.key):
                old = e.before[-2:] + old_value + e.after[:2]
                new = e.before[-2:] + new_value + e.after[:2]
                for k in doc.keys():  # section by section: no text moves between sections
                    count += doc.sections[k].count(old)
                    doc.sections[k] = doc.sections[k].replace(old, new)
            if not count:
                yield Event("message", f"文中找不到已填的“{old_value}”（可能已手动修改）。请直接在文档里修改。")
                return
            self.ledger.fill([hit.id], new_value)
            self._commit(doc, f"改填：{hit.label} {old_value}→{new_value}", None)
            yield Event("message", f"{hit.label}原来填的是“{old_value}”，已改为“{new_value}”（{count} 处）。说「撤销」可恢复。")

        return events()

    def _fill(self, ids: list[str], value: str) -> Iterator[Event]:
        entries = [self.ledger.entries[i] for i in ids if i in self.ledger.entries]
        if not entries:
            yield Event("message", "没有找到这个空白。")
            return
        self.ledger.fill(ids, value)
        text, changes = self.ledger.apply(self.doc.text())
        if not changes:
            yield Event("message", "没有需要改动的地方。")
            return
        new = self.doc.with_replacements([(c.start, c.end, c.value) for c in changes])
        if new.text() != text:  # a change the sections cannot hold apart: fall back to the whole text
            new = Document.from_text(text)
            new.title = self.doc.title
        self._commit(new, f"填空：{entries[0].label}={value}", None)
        where = "、".join(dict.fromkeys(section_label(k) for c in changes if (k := new.section_at(c.new_start))))
        yield Event("message", f"已把 {len(changes)} 处“{entries[0].label}”填为“{value}”（{where}）。以后起草的内容也会沿用这个值。"
                    + (f"\n还有 {len(self.ledger.open_entries())} 处空白待填。" if self.ledger.open_entries() else ""))

    def _confirm_proposals(self) -> Iterator[Event]:
        proposed = [e for e in self.ledger.listed() if e.status == "proposed"]
        if not proposed:
            yield Event("message", "目前没有待确认的建议。")
            return
        done = []
        for key in dict.fromkeys(e.key for e in proposed):
            group = [e for e in proposed if e.key == key]
            for ev in self._fill([e.id for e in group], group[0].value):
                done.append(ev.text)
        yield Event("message", "\n".join(done))

    def fill_from_panel(self, entry_id: str, value: str) -> str:
        """The ledger panel: set a value for one blank (and every matching one)."""
        value = (value or "").strip()
        problem = placeholders.value_problem(value)
        if problem:
            return problem
        self.ledger.refresh(self.doc.text())
        if entry_id not in self.ledger.entries:
            return f"没有编号为 {entry_id} 的空白。"
        key = self.ledger.entries[entry_id].key
        ids = [e.id for e in self.ledger.group(key)]
        return "\n".join(ev.text for ev in self._fill(ids, value))

    def _do_undo(self, it, message, selection):
        yield self._history_step(self.history.undo(), "已撤销", "没有可以撤销的修改了。")

    def _do_redo(self, it, message, selection):
        yield self._history_step(self.history.redo(), "已重做", "没有可以重做的修改。")

    def _history_step(self, doc: Document | None, done: str, nothing: str) -> Event:
        if doc is None:
            return Event("message", nothing)
        self._set_doc(doc)
        return Event("message", f"{done}，回到版本 {self.history.current.id}（{self.history.current.label}）。")

    def _do_restore(self, it, message, selection):
        try:
            doc = self.history.restore(it.version or 0)
        except (KeyError, ValueError, IndexError):
            ids = [v.id for v in self.history.versions]
            yield Event("message", f"没有版本 {it.version}。现有版本：{ids[0]}–{ids[-1]}。" if ids else "还没有任何版本。")
            return
        self._set_doc(doc)
        yield Event("message", f"已恢复到版本 {it.version}，并保存为新版本 {self.history.current.id}。")

    def last_change(self):
        """(previous version, current version) for the diff views, or None with fewer than two versions."""
        vs = self.history.versions
        cur = self.history.current
        if cur is None or len(vs) < 2:
            return None
        idx = vs.index(cur)
        return (vs[idx - 1] if idx > 0 else vs[0]), cur

    def _do_diff(self, it, message, selection):
        pair = self.last_change()
        if pair is None:
            yield Event("message", "还只有一个版本，没有可对比的。")
            return
        prev, cur = pair
        yield Event("message", f"版本 {prev.id} → {cur.id}（{cur.label}）：{diff_summary(prev.document().text(), cur.document().text())}。"
                    "详细对比见右侧“版本”页。")

    def _do_search(self, it, message, selection):
        """Look something up in past speeches: the best passages for what the user remembers, and where they are."""
        from .chunking import part_name
        from .kb_admin import search_passages

        if self.drafter.searcher is None:
            yield Event("message", "没有可查的知识库：请先在「知识库」页上传往年讲话。")
            return
        role = ""
        if it.target is not None:
            role = {"opening": "opening", "transition": "opening", "closing": "closing"}.get(it.target.kind, "")
            if it.target.kind in ("part", "item") and it.target.part and self.plan.has_part(it.target.part):
                role = self.plan.role(it.target.part)
        part = part_name(role)
        note, hits = search_passages(self.drafter.searcher, it.topic or "", k=5, part=part)
        if not hits:
            yield Event("message", note)
            return
        scope = f"，限{part}" if part else ""
        lines = [f"往年讲话中与「{it.topic}」最相关的 {len(hits)} 段（按相关程度排序{scope}）："]
        for i, p in enumerate(hits, 1):
            lines.append(f"{i}. 《{p.title}》{p.part_label}（{p.source}）\n   {p.snippet(100)}")
        lines.append("要看某段在原讲话中的位置：在右侧「知识库」页查找同样的内容，点选结果。")
        yield Event("message", "\n".join(lines))

    def _do_check(self, it, message, selection):
        if self.doc.is_empty:
            yield Event("message", "文档还是空的，没有可检查的内容。")
            return
        yield Event("message", self.check_report().summary())

    def _do_budget(self, it, message, selection):
        if it.minutes:
            self.budget_minutes = it.minutes
        elif it.chars:
            self.budget_minutes = round(it.chars / self.cpm, 1)
        msg = f"好的，讲话时间控制在 {self.budget_minutes:g} 分钟（约 {int((self.budget_minutes or 0) * self.cpm)} 字）。"
        if not self.doc.is_empty:
            msg += "\n" + self.check_report().summary()
        yield Event("message", msg)

    def _load_pasted(self, message: str) -> Iterator[Event]:
        new = Document.from_text(message)
        self._commit(new, "粘贴讲稿", None)
        hint = ""
        if len(new.part_numbers()) != self.plan.count and len(new.part_numbers()) >= 2:
            hint = (f"\n这篇有{cn_numeral(len(new.part_numbers()))}个部分，现在的{self.plan.label()}。"
                    "要照这篇的结构写新稿，说「用这篇当模板」。")
        yield Event("message", f"已把粘贴的讲稿载入文档（{len(new.part_numbers())} 个部分，{count_chars(message)} 字）。"
                    f"发现 {len(self.ledger.listed())} 处空白。" + hint)

    # --- 会议材料 ---------------------------------------------------------------------
    def attach_material(self, name: str, text: str) -> str:
        """Attach (or update) a material from pasted text; bad input: one message, nothing changed."""
        try:
            return self.materials.add(name, text) + self._stale_note()
        except mats.MaterialError as exc:
            return str(exc)

    def attach_material_file(self, path, name: str | None = None) -> str:
        try:
            return self.materials.add(*mats.read_material(path, name)) + self._stale_note()
        except mats.MaterialError as exc:
            return str(exc)

    def _stale_note(self) -> str:
        """After a material came in: where the speech still uses a value it changed, and blanks it can fill."""
        if self.doc.is_empty:
            return ""
        stale = self.materials.stale(self.doc)
        note = "".join(f"\n· {section_label(s.section)}仍用“{s.old}”，材料里{'已改为“' + s.new + '”' if s.new else '已没有这个数'}"
                       for s in stale[:6])
        self.ledger.refresh(self.doc.text())
        proposed = self.materials.propose(self.ledger)
        if proposed:
            note += ("\n材料里有文中空白的内容（尚未填入）：" + "；".join(f"{label} → {value}" for label, value, _ in proposed)
                     + "。说「确认建议」即可采用。")
        return note

    def remove_material(self, name: str) -> str:
        try:
            return self.materials.remove((name or "").strip())
        except mats.MaterialError as exc:
            return str(exc)

    def materials_summary(self) -> str:
        if not self.materials:
            return ("这篇讲稿还没有会议材料。可以在右侧「材料」页上传工作报告（.txt/.md/.docx），或直接发「这是工作报告：……」。"
                    "起草时会从材料里取用数字、名称并注明出处。")
        lines = [f"这篇讲稿有 {len(self.materials)} 份材料："]
        lines += [f"- 《{name}》{chars} 字，{facts} 句含事实" for name, chars, facts, *_ in self.materials.rows()]
        return "\n".join(lines)

    def user_text(self) -> str:
        """What the user said or confirmed (not the materials, not the document): a fact's other source."""
        year = f"{self.speech_date.year}年" if self.speech_date else ""
        return "\n".join(self.facts + [self.ledger.allowed_text(), self.occasion, year])

    def _facts_for(self, topic: str) -> tuple[str, str]:
        """(ask, 「可用的事实」 block) for one paragraph about ``topic``: the materials' best fact sentences, quoted."""
        kb = getattr(self.drafter.searcher, "kb", None)
        found = self.materials.search(f"{self.brief.occasion} {topic}", embeddings=getattr(kb, "embeddings", None),
                                      used=self.doc.text())
        return mats.facts_block(found, self.drafter.prompts.text("facts"))

    def material_citations(self) -> list:
        if self.doc.is_empty or not self.materials:
            return []
        return self.materials.citations(self.doc, self.user_text())

    def materials_check_lines(self) -> list[str]:
        """The checks page: facts of the speech with no source, and old values a changed material no longer has."""
        if not self.materials:
            return []
        cites = self.material_citations()
        sourced = [c for c in cites if c.source == "material"]
        orphans = [c for c in cites if not c.source]
        told = len(cites) - len(sourced) - len(orphans)
        out = [f"\n**事实出处**：{len(sourced)} 处取自会议材料" + (f"，{told} 处来自您的消息" if told else "")
               + (f"，{len(orphans)} 处没有出处：" if orphans else f"；{icons.OK} 每处都有出处（见「参考来源」页）")]
        out += [f"- {icons.WARN} {section_label(c.section)}的“{c.fact}”在材料和您的消息里都找不到，请核实或改成空白"
                for c in orphans[:12]]
        for s in self.materials.stale(self.doc)[:12]:
            now = f"已改为“{s.new}”" if s.new else "已不再有这个数"
            out.append(f"- {icons.WARN} {section_label(s.section)}仍用“{s.old}”，材料《{s.material}》{now}"
                       f"（现在的原句：{s.new_sentence or '无'}）")
        return out

    # --- persistence -----------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "doc": self.doc.snapshot(),
            "history": self.history.to_dict(),
            "ledger": self.ledger.to_dict(),
            "outline": None if self.outline is None else
            {"headings": {str(k): v for k, v in self.outline[0].items()},
             "items": {str(k): v for k, v in self.outline[1].items()}},
            "occasion": self.occasion,
            "budget_minutes": self.budget_minutes,
            "last_section": self.last_section,
            "facts": self.facts[-200:],
            "messages": self.messages[-400:],
            "brief": self.brief.to_dict(),
            "own": sorted(self.own),
            "section_sources": self.section_sources,
            "plan": None if self.plan.is_default else self.plan.to_dict(),
            "materials": self.materials.to_list(),
        }

    def restore_state(self, data: dict) -> None:
        self.id = data.get("id", self.id)
        self.title = data.get("title", self.title)
        self.doc = Document.from_snapshot(data.get("doc", {}))
        self.history = History.from_dict(data["history"]) if data.get("history") else History()
        self.ledger = placeholders.Ledger.from_dict(data["ledger"]) if data.get("ledger") else placeholders.Ledger()
        o = data.get("outline")
        self.outline = None if not o else (
            {int(k): v for k, v in o["headings"].items()}, {int(k): v for k, v in o["items"].items()})
        self.occasion = data.get("occasion", "")
        self.budget_minutes = data.get("budget_minutes")
        self.last_section = data.get("last_section")
        self.facts = list(data.get("facts", []))
        self.own = set(data.get("own", []))
        self.section_sources = dict(data.get("section_sources", {}))
        self.messages = list(data.get("messages", []))
        self.brief = Brief.from_dict(data.get("brief"))
        self.plan = SpeechPlan.from_dict(data.get("plan"))
        self.materials = mats.Materials.from_list(data.get("materials"))
        if self.brief.speech_date is None:
            self.brief.speech_date = self.speech_date
        elif self.brief.date_given:
            self.speech_date = self.brief.speech_date
        if not self.brief.occasion and self.occasion:
            self.brief.update("", self.occasion)

    def display_title(self) -> str:
        if self.title and self.title != "新讲话稿":
            return self.title
        return (self.occasion + "讲话") if self.occasion else (self.doc.title or "新讲话稿")

    # --- state -----------------------------------------------------------------------
    def _commit(self, doc: Document, label: str, section: str | None, meta: dict | None = None) -> None:
        self.doc = doc
        self.history.commit(doc, label, section, meta)
        self._commits_this_turn += 1
        self.ledger.refresh(self.doc.text())
        # proposals from the speech date (e.g. the current five-year plan), never applied until confirmed
        self.proposals = placeholders.propose_from_context(self.ledger, self.speech_date)
        self.materials.propose(self.ledger)  # a blank the meeting's materials hold the value of: proposed too

    def _set_doc(self, doc: Document) -> None:
        self.doc = doc
        self.ledger.refresh(self.doc.text())

    def term_warnings(self) -> list:
        from .terms import check_terms

        if not self.terms or self.doc.is_empty:
            return []
        return check_terms(self.doc.text(), self.speech_date, self.terms)

    def checks_markdown(self) -> str:
        """The checks panel: structure and length, blanks, outdated wording."""
        if self.doc.is_empty:
            return "文档还是空的。"
        out = [self.check_report(sources=[p.text for p in self.seen_passages.values()] or None).markdown()]
        open_n = len(self.ledger.open_entries())
        out.append(f"\n**空白**：{open_n} 处待填" if open_n else f"\n**空白**：{icons.OK} 没有待填空白")
        for issue in placeholders.consistency_issues(self.doc.text(), self.ledger):
            out.append(f"- {icons.WARN} {issue}")
        out += self.materials_check_lines()
        warnings = self.term_warnings()
        if warnings:
            out.append(f"\n**提法提示**（按讲话日期 {self.speech_date:%Y-%m-%d}）：")
            out += [f"- {icons.WARN} “{w.term}” → {w.suggestion}。{w.note}" for w in warnings[:12]]
        return "\n".join(out)

    def check_report(self, sources: list[str] | None = None):
        return run_checks(self.doc.text(), chars_per_minute=self.cpm, budget_minutes=self.budget_minutes, sources=sources,
                          expected_parts=self.plan.count)

    # --- the speech's plan: follow a template speech (assistant/plan.py) --------------------
    def outline_text(self) -> str:
        """The outline as the user reads it, items marked as the plan marks them."""
        if self.outline is None:
            return ""
        return outline_text(*self.outline, {n: self.plan.item_style(n) for n in self.plan.numbers()})

    def _no_such_part(self, n: int) -> str:
        return (f"现在的{self.plan.label()}，没有{section_label(part_key(n))}。要写{cn_numeral(n)}个部分，"
                "可以选一篇这样分部分的往年讲话作模板：说「按《讲话标题》的结构写」，或在“文档”页的“结构”里选。"
                + self._exists_message())

    def knowledge_base(self):
        """The knowledge base behind the searcher (None without one, e.g. in tests with a fixed searcher)."""
        return getattr(self.drafter.searcher, "kb", None)

    def plan_from_knowledge(self, query: str) -> SpeechPlan:
        """The plan of the knowledge-base speech ``query`` names (a title, an occasion or a file name)."""
        return plan_from_knowledge(self.knowledge_base(), query)

    def set_plan(self, plan: SpeechPlan) -> str:
        """Draft in ``plan`` from now on; says what changed.  An outline made for other parts is dropped; the
        document is never touched."""
        old, self.plan = self.plan, plan
        drop = self.outline is not None and (old.count != plan.count or old.roles() != plan.roles())
        if drop:
            self.outline = None
        return plan.change_note(outline_dropped=drop, has_document=not self.doc.is_empty)

    def use_template(self, name_or_title: str) -> str:
        """The 结构 menu: follow a knowledge-base speech (by file name or title); "" goes back to the default."""
        if self.busy:
            return "正在处理上一条请求，结构没有改动。请等它完成后再选。"
        try:
            plan = self.plan_from_knowledge(name_or_title) if name_or_title else SpeechPlan.default()
        except PlanError as exc:
            return str(exc)
        return self.set_plan(plan)

    def _do_template(self, template: tuple[str, str], selection: str | None) -> Iterator[Event]:
        """「按《……》的结构写」「用这篇当模板」「恢复默认结构」, then the rest of the message, if it asks for more."""
        what, rest = template
        try:
            if what == "default":
                plan = SpeechPlan.default()
            elif what == "this":
                if rest and sum(1 for line in rest.splitlines() if match_heading(line)) >= 2:
                    plan, rest = plan_from_speech(rest), ""
                elif not self.doc.is_empty:
                    plan = plan_from_speech(self.doc.text(), self.doc.title or "当前文档")
                else:
                    raise PlanError("请把要当模板的讲话粘贴在「用这篇当模板」这句话的下一行一起发送，"
                                    "或说「按《讲话标题》的结构写」用知识库里的讲话。")
            else:
                plan = self.plan_from_knowledge(what)
        except PlanError as exc:
            yield Event("message", str(exc))
            return
        note = self.set_plan(plan)
        follow = intents.route(rest, has_document=not self.doc.is_empty, has_outline=self.outline is not None,
                               part_count=max(self.plan.count, len(self.doc.part_numbers())),
                               last_section=self.last_section) if rest else None
        if follow is None or follow.action not in ("outline", "draft", "draft_all", "outline_edit"):
            yield Event("message", note + "\n接下来可以说「为……写个提纲」或「按提纲写全文」。")
            return
        yield Event("status", note.split("\n", 1)[0])
        yield from self._dispatch(rest, selection)


def friendly_error(exc: Exception) -> str:
    """One clear, actionable message for a failure outside our control; never a secret."""
    import openai

    from .drafting import IncompleteReply
    from .model_files import ModelFileError

    if isinstance(exc, PartialReply):
        head = friendly_error(exc.cause)
        return (f"{head}\n已收到的 {count_chars(exc.text)} 字是不完整的草稿，没有写入文档（上一版保持不变）：\n"
                f"【未完成】{exc.text}")
    if isinstance(exc, IncompleteReply):
        return "模型的回复中途中断，内容不完整，没有采用。请重试。文档没有改动。"
    if isinstance(exc, ModelFileError):
        return str(exc)
    if isinstance(exc, openai.AuthenticationError):
        return "模型服务拒绝了 API 密钥（401）。请检查 OPENAI_API_KEY 设置。文档没有改动。"
    if isinstance(exc, openai.RateLimitError):
        return "模型服务繁忙或额度已用完（429）。请稍后重试。文档没有改动。"
    if isinstance(exc, openai.APITimeoutError):
        return "模型服务响应超时。请稍后重试，或在设置中调大 SPEECH_REQUEST_TIMEOUT。文档没有改动。"
    if isinstance(exc, openai.APIConnectionError) and _dropped_mid_reply(exc):
        return "模型服务在回复途中断开了连接，回复不完整，没有采用。请重试。文档没有改动。"
    if isinstance(exc, openai.APIConnectionError):
        return "连接不上模型服务。请检查 OPENAI_BASE_URL 是否正确、服务是否已启动；不设置时使用内置本地模型。文档没有改动。"
    if isinstance(exc, openai.APIStatusError):
        return f"模型服务出错（HTTP {exc.status_code}）。请稍后重试。文档没有改动。"
    return f"处理时出错（{type(exc).__name__}）。文档没有改动，可以重试或换个说法。"


def _dropped_mid_reply(exc: BaseException) -> bool:
    """True when the connection was made but broke during the reply (not: the service is unreachable)."""
    seen = 0
    while exc is not None and seen < 10:
        if type(exc).__name__ in ("RemoteProtocolError", "ReadError"):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False
