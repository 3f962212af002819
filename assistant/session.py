"""One user's drafting session: the document, its versions, the blank ledger and the chat.

``Session.turn(message)`` routes a chat message (rules first, the model only
when the rules do not decide) and yields :class:`Event`s: status lines while
the model reads, streamed text, and a final message.  The document changes
only after a reply has been repaired and validated; every change is a version.
Errors become one clear message and leave the document as it was.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import date
from typing import Iterator

from . import icons
from . import intent as intents
from . import materials as mats
from . import placeholders
from .actions import ACTIONS
from .actions import fill as fill_actions
from .brief import Brief
from .checks import run_checks
from .composer import Composer, Piece
from .diff import diff_summary
from .document import Document, outline_text, part_key, section_label
from .drafting import Drafter, first_paragraph  # noqa: F401  (imported here before the split; kept)
from .events import (  # noqa: F401  (re-exported: ``from assistant.session import Event, HELP, …``)
    HELP,
    MAX_SELECTION,
    PRESET_MESSAGES,
    STYLE_INSTRUCTIONS,
    Event,
    EventKind,
    PartialReply,
    Turn,
)
from .model_gate import Cancelled, Waiting
from .plan import PlanError, SpeechPlan, plan_from_knowledge
from .retrieval import Passage
from .structure import cn_numeral, count_chars, match_heading
from .versions import History

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

FULL_ORDER = ("opening", "transition", "part1", "part2", "part3", "closing")  # the default plan; a session drafts self.plan.section_keys()


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
            handler = ACTIONS.get(intent.action)
            if handler is None:
                raise AttributeError(f"no action {intent.action!r}")
            yield from handler(self, intent, message, selection)
            return
        if message.strip("。！! ") in ("确认建议", "采纳建议", "确认这些建议", "都确认"):
            yield from fill_actions.confirm_proposals(self)
            return
        template = intents.template_request(message)
        if template is not None:
            yield from ACTIONS["template"](self, intents.Intent("template", topic=template[0], instruction=template[1]),
                                           message, selection)
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
        handler = ACTIONS.get(it.action)
        if handler is None:
            yield Event("message", HELP)
            return
        for ev in handler(self, it, message, selection):
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

    # --- shared by the actions (assistant/actions/: one module per action) -------------------
    def _remember_own(self, targets) -> str:
        keys = [k for k in (self._resolve(t) for t in targets) if k]
        self.own |= set(keys)
        names = "、".join(section_label(k) for k in keys)
        return f"记下了：{names}由您自己写，我不会起草或改动{'它' if len(keys) == 1 else '它们'}。"

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

    def fill_from_panel(self, entry_id: str, value: str) -> str:
        """The ledger panel: set a value for one blank (and every matching one)."""
        return fill_actions.from_panel(self, entry_id, value)

    def last_change(self):
        """(previous version, current version) for the diff views, or None with fewer than two versions."""
        vs = self.history.versions
        cur = self.history.current
        if cur is None or len(vs) < 2:
            return None
        idx = vs.index(cur)
        return (vs[idx - 1] if idx > 0 else vs[0]), cur

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

    def fact_sentences(self, topic: str) -> list:
        """The materials' best fact sentences for a paragraph about ``topic`` (those the speech has not said yet)."""
        kb = getattr(self.drafter.searcher, "kb", None)
        return self.materials.search(f"{self.brief.occasion} {topic}", embeddings=getattr(kb, "embeddings", None),
                                     used=self.doc.text())

    def _facts_for(self, topic: str) -> tuple[str, str]:
        """(ask, 「可用的事实」 block) for one paragraph about ``topic``: the materials' best fact sentences, quoted."""
        return mats.facts_block(self.fact_sentences(topic), self.drafter.prompts.text("facts"))

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
