"""The Gradio web app: thin handlers over :class:`~assistant.session.Session`.

Each browser tab gets its own session (``gr.State``), so two tabs never see
each other's drafts.  ``panels(session)`` turns a session into the values of
the side panels; it is plain Python and tested without a browser.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import gradio as gr

from . import icons, tones
from .chunking import SEARCH_PARTS
from .runtime import Services
from .session import Event, Session
from .store import persist as persist_session
from .store import try_store

PANEL_COUNT = 8  # doc, sources, checks, ledger, versions, diff, status, plan
PASSAGE_COLUMNS = ["18%", "18%", "44%", "8%", "12%"]  # speech, part, snippet, score, file: all visible, snippet widest

CSS = """
#doc textarea {font-family: "FangSong", "STFangsong", "仿宋", serif; font-size: 16px; line-height: 1.8;}
#status {min-height: 1.5em; color: #555;}
#title {margin-bottom: 0;}
#title h2 {margin: 0 0 2px 0;}
#actions button {min-width: 0;}
#kb-confirm {border: 1px solid #d9534f; border-radius: 6px; padding: 6px;}
#panels .tab-container > button {padding: 0 var(--size-2);}
"""

# Gradio's own widgets (upload box, buttons, toasts) speak the browser's language; the page is for Chinese users
# whatever their browser says, so every locale gets Gradio's Chinese strings (``locale/gradio_zh_cn.json``: its
# zh-CN translations plus the keys it leaves untranslated).  The upload size check in Gradio's client throws an
# English message outside that system: it is put into Chinese as it appears.
LOCALE_FILE = Path(__file__).parent / "locale" / "gradio_zh_cn.json"


def gradio_i18n() -> gr.I18n:
    import json

    table = json.loads(LOCALE_FILE.read_text(encoding="utf-8"))
    return gr.I18n(**{"en": table, "zh-CN": table, "zh": table})


HEAD = """
<script>
(function () {
  var rules = [
    [/File\\(s\\) exceed the maximum allowed size of ([^:]+):?\\s*(.*)/, function (m) {
      return "文件过大（上限 " + m[1].replace(/\\s*Mb$/i, " MB") + "）：" + m[2].replace(/"/g, "") + "。没有上传，知识库没有改动。";
    }]
  ];
  function fix(node) {
    var walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    var t;
    while ((t = walker.nextNode())) {
      for (var i = 0; i < rules.length; i++) {
        var m = t.nodeValue.match(rules[i][0]);
        if (m) { t.nodeValue = rules[i][1](m); }
      }
    }
  }
  new MutationObserver(function (records) {
    records.forEach(function (r) { r.addedNodes.forEach(function (n) { if (n.nodeType === 1 || n.nodeType === 3) fix(n.nodeType === 3 ? n.parentNode : n); }); });
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
</script>
"""

# What a new user can click on arrival (the chat's examples): one of each kind of request
EXAMPLES = [
    "为区科协第五次代表大会写讲话提纲，我是区长",
    "为县残联第三次代表大会写开场白，300字左右",
    "写一篇在全区安全生产工作会议上的讲话，5分钟",
    "帮我写教师节表彰大会的结尾",
]


def passage_rows(passages) -> list[list]:
    return [[p.title, p.part_label, p.snippet(90), round(p.score, 4), p.source] for p in passages]


def source_rows(session: Session) -> list[list]:
    """Each fact of the speech taken from the meeting's materials, with the sentence it came from (first: what
    the user checks), then the passages of past speeches the last draft drew on."""
    return material_rows(session) + passage_rows(session.sources)


def material_rows(session: Session) -> list[list]:
    from .document import section_label

    return [[f"会议材料《{c.material}》", f"{section_label(c.section)}：{c.fact}", c.sentence, "—", "材料"]
            for c in session.material_citations() if c.source == "material"]


def materials_table(session: Session) -> list[list]:
    return session.materials.rows()


def add_materials(session: Session, files, name: str, text: str) -> tuple[str, bool]:
    """The 材料 panel's 加入: uploaded files, else the pasted text; (what the user is told, all went in)."""
    notes, ok = [], True
    for f in files or []:
        path = Path(f if isinstance(f, (str, Path)) else getattr(f, "name", ""))
        note = session.attach_material_file(path, path.name)
        ok = ok and note.startswith("已")
        notes.append(note)
    if (text or "").strip():
        note = session.attach_material((name or "").strip() or "会议材料", text)
        ok = ok and note.startswith("已")
        notes.append(note)
    if not notes:
        return "请先选择材料文件，或在下面粘贴材料正文。", False
    return "\n\n".join(notes), ok


def ledger_rows(session: Session) -> list[list]:
    return [[r["id"], r["blank"], r["kind"], r["status_label"], r["value"], r["context"]] for r in session.ledger.to_rows()]


def version_rows(session: Session) -> list[list]:
    return [[r["id"], r["time"], r["label"], r["section"], r["chars"], "●" if r.get("current") else ""] for r in session.history.list()]


def diff_value(session: Session) -> list[tuple[str, str | None]]:
    from .diff import diff_for_gradio

    pair = session.last_change()
    if pair is None:
        return []
    prev, cur = pair
    return diff_for_gradio(prev.document().text(), cur.document().text())


def status_line(session: Session) -> str:
    t = session.last.timing
    bits = []
    if "ttft_s" in t:
        bits.append(f"首字 {t['ttft_s']:.1f} 秒")
    if "total_s" in t:
        bits.append(f"生成 {t['total_s']:.1f} 秒")
    if "retrieve_s" in t:
        bits.append(f"检索 {t['retrieve_s'] * 1000:.0f} 毫秒")
    budget = f"｜时长预算 {session.budget_minutes:g} 分钟" if session.budget_minutes else ""
    return ("上一轮：" + "，".join(bits) if bits else "") + budget


def plan_line(session: Session) -> str:
    """The speech's plan above the document: 结构：四部分（来自《……》） and what each part does."""
    from .plan import ROLE_LABELS
    from .structure import cn_numeral

    roles = " ".join(f"{cn_numeral(n)}、{ROLE_LABELS.get(session.plan.role(n), '其他')}" for n in session.plan.numbers())
    return f"**{session.plan.label()}**：{roles}"


def template_choices(services: Services) -> list[tuple[str, str]]:
    """The 结构 menu: the default plan, then every knowledge-base speech with parts to follow (title, part count)."""
    from .structure import cn_numeral

    out = [("默认：三部分（意义、任务、保障）", "")]
    for name, e in sorted(services.kb.sources().items(), key=lambda x: str(x[1].get("title") or x[0])):
        n = len(e.get("parts") or [])
        if 2 <= n <= 8:
            out.append((f"《{e.get('title') or name}》（{cn_numeral(n)}部分）", name))
    return out


def panels(session: Session) -> tuple:
    checks = session.checks_markdown()
    return (
        session.doc.text(),
        source_rows(session),
        checks,
        ledger_rows(session),
        version_rows(session),
        diff_value(session),
        status_line(session),
        plan_line(session),
    )


def highlight_blank(session: Session, entry_id: str) -> list[tuple[str, str | None]]:
    """The document with one blank (and every blank of the same key) marked, for the ledger panel."""
    text = session.doc.text()
    session.ledger.refresh(text)
    entry = session.ledger.entries.get(entry_id)
    if entry is None or not entry.in_text:
        return [(text, None)] if text else []
    spans = sorted((e.start, e.end) for e in session.ledger.group(entry.key) if e.in_text)
    out, pos = [], 0
    for start, end in spans:
        out += [(text[pos:start], None), (text[start:end], "空白")]
        pos = end
    out.append((text[pos:], None))
    return [x for x in out if x[0]]


def passage_in_speech(services: Services, session: Session, row: int) -> list[tuple[str, str | None]]:
    """A row of the sources panel in its place: a fact's sentence in its material, or a retrieved passage inside
    its speech (provenance), marked."""
    cites = [c for c in session.material_citations() if c.source == "material"]
    if 0 <= row < len(cites):
        return material_view(session, cites[row])
    row -= len(cites)
    if not 0 <= row < len(session.sources):
        return []
    return passage_view(services, session.sources[row])


def material_view(session: Session, cite) -> list[tuple[str, str | None]]:
    """A fact's sentence inside its material, marked."""
    m = session.materials.get(cite.material)
    if m is None or cite.sentence not in m.text:
        return [(cite.sentence, "参考片段")]
    start = m.text.index(cite.sentence)
    end = start + len(cite.sentence)
    return [x for x in [(f"会议材料《{m.name}》\n" + m.text[:start], None), (m.text[start:end], "参考片段"),
                        (m.text[end:], None)] if x[0]]


def passage_view(services: Services, p) -> list[tuple[str, str | None]]:
    """A passage inside its speech, marked; the passage alone when the speech has gone from the knowledge base."""
    try:
        text = services.kb.source_text(p.source)
    except (KeyError, OSError, ValueError):
        return [(f"原文 {p.source} 已不在知识库中。以下是片段：\n{p.text}", None)]
    start, end = p.start, p.end
    if text[start:end] != p.text:  # the file changed since indexing: find the passage by its text
        start = text.find(p.text)
        end = start + len(p.text)
        if start < 0:
            return [(p.text, "参考片段")]
    from .structure import split_front_matter

    meta, body = split_front_matter(text)
    head = f"《{meta.get('title') or p.title}》\n" if body else ""
    body = min(body, start)
    return [x for x in [(head + text[body:start], None), (text[start:end], "参考片段"), (text[end:], None)] if x[0]]


def _md(text: str) -> str:
    """The chat renders Markdown: keep the blank marker “_” literal (not italics)."""
    return text.replace("_", "\\_")


def reply_text(session: Session, ev: Event) -> str:
    """What the assistant bubble shows for an event."""
    if ev.kind == "status":
        return f"{icons.BUSY} {_md(ev.text)}"
    if ev.kind == "delta":
        return _md(ev.text) + " " + icons.CURSOR
    if ev.kind == "error":
        return f"{icons.WARN} {_md(ev.text)}"
    if ev.section and ev.section in session.doc.sections:
        return _md(session.doc.get(ev.section)) + "\n\n---\n" + _md(ev.text)
    return _md(ev.text)


def run_turn(session: Session, message: str, history: list, selection: str | None = None, intent=None):
    """Drive one turn; yields (history, panels-or-None) — panels only when the document may have changed.
    ``intent``: a button's request (the chat shows ``message``, nothing is parsed)."""
    history = list(history or []) + [{"role": "user", "content": message},
                                     {"role": "assistant", "content": f"{icons.BUSY} 已收到，正在处理……"}]
    yield history, None
    for ev in session.turn(message, selection=selection or None, intent=intent):
        history[-1] = {"role": "assistant", "content": reply_text(session, ev)}
        # a whole speech fills the document pane section by section, as each is accepted
        yield history, (panels(session) if ev.kind in ("message", "error", "section") else None)


def chat_of(session: Session) -> list[dict]:
    """The chat as the session recorded it (a page reopened or reloaded shows it)."""
    return [{**m, "content": _md(m["content"])} for m in session.messages if m.get("role") in ("user", "assistant")]


def browser_secret(settings) -> str:
    """The key the browser's copy of the session id is sealed with; kept in the data folder, so that a page
    reloaded after the server restarted still finds its speech."""
    import secrets

    path = Path(settings.data_dir) / "browser.key"
    try:
        key = path.read_text(encoding="utf-8").strip()
        if len(key) >= 16:
            return key
    except OSError:
        pass
    key = secrets.token_urlsafe(24)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key, encoding="utf-8")
        path.chmod(0o600)
    except OSError:  # a read-only data folder: the id is kept for this server run only
        pass
    return key


def stop_turn(session: Session | None) -> str:
    """The stop button: ends only this user's running turn; what was already accepted stays."""
    if session is not None and session.cancel():
        return "正在停止……已写好的部分会保留。"
    return "当前没有正在进行的请求。"


def export_title(session: Session) -> str:
    """The title an export starts with: the one in the document, else the speech's name (在……上的讲话)."""
    if session.doc.title:
        return session.doc.title
    name = session.display_title()
    if name == "新讲话稿":
        return ""
    if name.endswith("讲话") and not name.startswith("在"):
        return f"在{name[:-2]}上的讲话"
    return name


def export_document(session: Session, kind: str, folder: Path, confirmed: bool, title: str | None = None) -> dict:
    """Export the current document under ``title`` (default :func:`export_title`); warns (and waits for
    confirmation) while blanks are open or checks fail."""
    from .export import ExportError, export_docx, export_markdown, export_warnings

    if session.doc.is_empty:
        return {"message": "文档还是空的，没有可导出的内容。", "path": None}
    errors = [e.message for e in session.check_report().errors]
    title = (title if title is not None else export_title(session)).strip()[:80]
    warnings = export_warnings(session.doc.text(), len(session.ledger.open_entries()), errors, title=title)
    if warnings and not confirmed:
        return {"message": "导出前请注意：\n" + "\n".join(f"- {icons.WARN} {w}" for w in warnings)
                + "\n\n确认无误后勾选“仍然导出”再点导出。", "path": None}
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", title or session.display_title())[:40] or "speech"
    out = folder / f"{name}-{session.id[:6]}.{kind}"
    try:
        if kind == "docx":
            export_docx(session.doc.text(), out, title=title or None)
        else:
            export_markdown(session.doc.text(), out, title=title or None)
    except ExportError as exc:
        return {"message": f"导出失败：{exc}", "path": None}
    return {"message": f"已导出 {out.name}。" + (f"（仍有 {len(warnings)} 条提醒）" if warnings else ""), "path": str(out)}


def welcome_text(settings) -> str:
    """The chat's first words to a new user: what it does, how to ask, how long the model takes."""
    if settings.resolved_chat_provider == "local":
        speed = ("本机模型在这台电脑上运行，较慢：一个提纲约 20 秒，一个部分约 30 秒，整篇讲话约 2 分钟。"
                 "写的过程中文字会逐段出现，可以随时点「停止」。")
    else:
        speed = "已接入在线模型，一般几秒到十几秒写好一段。"
    return (
        "**您好，我是讲稿助手。** 我按“开场白—三个部分—结尾”的结构帮您起草讲话稿（也可以照您选的往年讲话的结构写，"
        "例如四个部分），参考知识库里的往年讲话。"
        "您没有告诉我的人名、数字、规划名称，我不会编，会留成空白“\\_”，您说一句（如「“\\_”规划是十五五」）就能填上。\n\n"
        f"{speed}\n\n点下面的例子试一试，或直接写您的要求："
    )


def about_text(services: Services) -> str:
    """The 关于 tab: the technical facts a user cannot act on, kept out of the main page."""
    from .providers import describe_parts

    s = services.settings
    lines = ["### 关于讲稿助手", "", *[f"- {html.escape(part)}" for part in describe_parts(s)],
             f"- 知识库：{len(services.kb.sources())} 篇讲话，{services.kb.count()} 个片段",
             f"- 上传限制：每个文件 {s.max_upload_mb} MB；支持 .txt（UTF-8 或 GBK）、.md、.docx",
             f"- 同时处理的请求：{s.concurrency} 个；本地模型一次只写一段，其余请求排队，排队时会告诉您前面还有几个",
             "", "设置方法见 README（环境变量或 .env 文件，例如 OPENAI_BASE_URL 接入在线模型）。"]
    return "\n".join(lines)


def kb_rows(services: Services) -> list[list]:
    return [[n, e.get("title", ""), e.get("occasion", ""), e.get("date", ""), "；".join(e.get("parts", [])),
             e.get("chunks", 0)] for n, e in sorted(services.kb.sources().items())]


def kb_delete_prompt(services: Services, name: str) -> str:
    """The question asked before a speech leaves the knowledge base."""
    entry = services.kb.sources().get(name)
    if entry is None:
        return ""
    title = entry.get("title") or name
    return (f"确定要从知识库删除《{html.escape(title)}》（{html.escape(name)}，{entry.get('chunks', 0)} 个片段）吗？"
            "删除后起草时不再参考它；原文件会移到数据目录的 removed 文件夹，可以找回。")


# --------------------------------------------------------------------------- the page
# build_app lays out the page; each tab has one builder that makes its components and wires its events.
# Handlers stay thin: the work is in the plain functions above and in Session / kb_admin.


class _Page:
    """What the tab builders share: the services, the per-tab state, the chat and the panel outputs."""

    def __init__(self, services: Services):
        self.services = services
        self.state = gr.State(None)
        self.selection = gr.State("")
        # the session's id, kept by the browser: a reload (or a tab reopened) comes back to the same speech
        self.sid = gr.BrowserState(None, storage_key="speech-assistant-session", secret=browser_secret(services.settings))
        self.follow = gr.Timer(2.0, active=False)  # after a reload during a turn: follow the turn still running
        self.chatbot = None
        self.msg = None
        self.panel_outputs: list = []

    # --- session helpers ---------------------------------------------------------------
    def ensure(self, session):
        return session if session is not None else self.services.new_session()

    @staticmethod
    def owner(request: gr.Request | None) -> str:
        return (getattr(request, "username", None) or "") if request is not None else ""

    def persist(self, session, request) -> str | None:
        """Save the session; a note when it had to be kept as a copy (saved meanwhile elsewhere)."""
        note = None
        if self.services.store is not None and (not session.doc.is_empty or session.materials):
            note = persist_session(self.services.store, session, self.owner(request))
        self.services.live.remember(session, self.owner(request))
        return note

    def live_or_saved(self, sid, entry, request):
        """The live session with this id while it is running a turn or is as new as the saved one; else the saved
        one (another replica or tab may have saved a newer version meanwhile); None when neither exists."""
        live = self.services.live.find(sid, self.owner(request))
        if live is not None and (live.busy or entry is None or entry[1] <= live.rev):
            return live
        if entry is None:
            return None
        fresh = self.services.new_session()
        fresh.restore_state(entry[0])
        fresh.rev = entry[1]
        return fresh

    def attach(self, session, sid, request):
        """The session a page arriving with ``sid`` should show: the live one (a turn may still be running in
        it), else the saved one, else ``session`` or a new one."""
        if session is None and sid:
            entry = None
            if self.services.store is not None:
                entry, _ = try_store(lambda: self.services.store.load_entry(sid, owner=self.owner(request)))
            session = self.live_or_saved(sid, entry, request)
        session = self.ensure(session)
        self.services.live.remember(session, self.owner(request))
        return session

    @staticmethod
    def keep_id(session):
        """The browser keeps the session's id (it changes when the session is opened, made new or kept as a copy)."""
        return session.id if session is not None else gr.skip()

    @property
    def outputs(self) -> list:
        # not the message box itself: an output of a running turn is shown as busy and takes no new message, and
        # the box must take one (refused aloud, kept) — a hidden box keeps the API's outputs as they were
        return [self.sink, self.chatbot, self.state, self.selection] + self.panel_outputs

    def _turn(self, session, message, history, sel, request, intent=None):
        """The turn and its saving, as one run: it goes on to the end when the page stops following it."""
        hist, notes = history, []
        for hist, pan in run_turn(session, message, history, sel, intent):
            if pan is not None:  # each accepted section is saved at once: a reload mid-speech finds it
                notes.append(self.persist(session, request))
            yield hist, pan
        notes.append(self.persist(session, request))
        note = "\n\n".join(dict.fromkeys(n for n in notes if n))
        if note:  # the panels again (and the session's new id), so that API clients get the document too
            yield list(hist or []) + [{"role": "assistant", "content": note}], panels(session)

    def send(self, message, history, session, sel, request: gr.Request, intent=None):
        session = self.ensure(session)
        self.services.live.remember(session, self.owner(request))
        for hist, pan in self.services.live.run(session, self._turn(session, message, history, sel, request, intent)):
            # the message box is left alone (accept() emptied it): what the user types meanwhile stays there
            yield (gr.skip(), hist, session, "") + (pan if pan is not None else tuple(gr.skip() for _ in range(PANEL_COUNT)))

    def following(self, session):
        """A timer tick on a page that came back during a turn: the turn's latest view; the timer stops with it."""
        if session is None:
            return (gr.skip(), gr.Timer(active=False)) + tuple(gr.skip() for _ in range(PANEL_COUNT))
        latest = self.services.live.latest(session)
        hist = latest[0] if latest else chat_of(session)
        if session.busy:
            return (hist, gr.Timer(active=True)) + panels(session)
        return (chat_of(session), gr.Timer(active=False)) + panels(session)

    def command(self, text: str):
        """A button that says ``text`` in the chat."""
        def handler(history, session, sel, request: gr.Request):
            yield from self.send(text, history, session, sel, request)
        return handler

    def preset(self, tone: tones.Tone):
        """A tone button: the chat shows its label, the session gets the preset itself (an intent, not a sentence)."""
        from .intent import preset

        def handler(history, session, sel, request: gr.Request):
            yield from self.send(tone.label, history, session, sel, request, intent=preset(tone.id))
        return handler


def busy_notice(session: Session | None, message: str) -> str:
    """Why a message is not sent now ("" when it can be): one turn at a time per speech."""
    if not (message or "").strip():
        return ""
    if session is not None and session.busy:
        return "上一条请求还在处理中，这条消息还没有发送，仍留在输入框里。请等上一条完成后再按发送，或先点「停止」。"
    return ""


def _chat_column(page: _Page) -> None:
    services = page.services
    page.chatbot = gr.Chatbot(label="对话", height=400, elem_id="chat", placeholder=welcome_text(services.settings),
                              examples=[{"text": e} for e in EXAMPLES])
    page.msg = gr.Textbox(placeholder="例如：为区妇联第四次代表大会写开场白", label="您的要求", show_label=False, elem_id="msg",
                          submit_btn="发送", lines=1, max_lines=6,
                          interactive=False)  # until the page has loaded (restore, then on_load): a message sent
    # sooner could start a second session that the restored one replaced, or have its draft overwritten by the load
    page.notice = gr.Markdown(elem_id="notice")  # a message that could not be sent now, and why
    with gr.Row(elem_id="presets"):
        page.preset_btns = [(gr.Button(t.label, size="sm", elem_id=f"preset-{t.id}", min_width=56), t)
                            for t in tones.buttons()]
    with gr.Row(elem_id="actions"):
        page.undo_btn = gr.Button("撤销", size="sm", elem_id="undo", min_width=60)
        page.redo_btn = gr.Button("重做", size="sm", elem_id="redo", min_width=60)
        page.check_btn = gr.Button("检查", size="sm", elem_id="check", min_width=60)
        page.stop_btn = gr.Button("停止", size="sm", elem_id="stop", min_width=60)
    page.status = gr.Markdown(elem_id="status")
    page.sink = gr.Textbox(visible="hidden", label="输入框")  # in the page (so in the API), not shown


def _wire_chat(page: _Page) -> None:
    inputs = [page.chatbot, page.state, page.selection]
    pending = gr.Textbox(visible="hidden", label="待发送")  # the accepted message; a component (not State), so /chat takes it

    def accept(message, session):
        """Runs at once (not queued): a message while this speech's turn runs is refused aloud and kept."""
        notice = busy_notice(session, message)
        if notice:
            return gr.skip(), "", f"{icons.WARN} {notice}"
        return "", message, ""

    page.msg.submit(accept, [page.msg, page.state], [page.msg, pending, page.notice], queue=False,
                    api_visibility="private", trigger_mode="multiple").then(
        page.send, [pending] + inputs, page.outputs, api_name="chat").then(
        page.keep_id, [page.state], [page.sid], api_visibility="private")

    def example(history, session, sel, evt: gr.SelectData, request: gr.Request):
        text = evt.value.get("text", "") if isinstance(evt.value, dict) else str(evt.value or "")
        yield from page.send(text, history, session, sel, request)

    page.chatbot.example_select(example, inputs, page.outputs, api_visibility="private")
    # not queued behind the turn it stops
    page.stop_btn.click(stop_turn, [page.state], [page.status], api_name="stop", queue=False)
    for btn, tone in page.preset_btns:
        btn.click(page.preset(tone), inputs, page.outputs, api_name=f"preset_{tone.id}")
    page.undo_btn.click(page.command("撤销"), inputs, page.outputs, api_name="undo")
    page.redo_btn.click(page.command("重做"), inputs, page.outputs, api_name="redo")
    page.check_btn.click(page.command("检查一下"), inputs, page.outputs, api_name="check")


def _doc_tab(page: _Page):
    with gr.Tab("文档", id="doc-tab"):
        with gr.Row():
            with gr.Column(scale=3, min_width=200):
                plan = gr.Markdown(elem_id="plan")
            # the choices come with the page (demo.load); an API client may pass any file name or title: the
            # session answers an unknown one with the closest titles
            template = gr.Dropdown(label="结构：照哪篇往年讲话写", info="只借用它的结构（几个部分、各讲什么、条目怎么排），不照搬内容",
                                   choices=[("默认：三部分", "")], value=None, allow_custom_value=True, elem_id="template",
                                   scale=2)
        doc = gr.Textbox(label="讲话稿（可直接编辑；选中一段文字后点润色按钮，只改选中部分）", lines=16,
                         max_lines=40, elem_id="doc", interactive=True)
        with gr.Row():
            save_btn = gr.Button("保存编辑", size="sm", elem_id="save-doc")
            sel_info = gr.Markdown(elem_id="selection")

    def on_select(evt: gr.SelectData):
        text = evt.value if isinstance(evt.value, str) else ""
        info = f"已选中 {len(text)} 字：润色按钮只修改选中部分。" if text.strip() else ""
        return text, info

    def wire():
        doc.select(on_select, None, [page.selection, sel_info])

        def save(text, session, history, request: gr.Request):
            session = page.ensure(session)
            note = session.edit_document(text)
            kept = page.persist(session, request)
            history = list(history or []) + [{"role": "assistant", "content": n} for n in (note, kept) if n]
            return (history, session) + panels(session)

        save_btn.click(save, [doc, page.state, page.chatbot], [page.chatbot, page.state] + page.panel_outputs)

        def choose(name, session, history, request: gr.Request):
            session = page.ensure(session)
            if name is None:
                return (gr.skip(), session) + tuple(gr.skip() for _ in range(PANEL_COUNT))
            note = session.use_template(name)
            page.persist(session, request)
            history = list(history or []) + [{"role": "assistant", "content": _md(note)}]
            return (history, session) + panels(session)

        template.input(choose, [template, page.state, page.chatbot], [page.chatbot, page.state] + page.panel_outputs,
                       api_name="template")

    page.template = template
    return (doc, plan), wire


def _sources_tab(page: _Page):
    with gr.Tab("参考来源", id="sources-tab"):
        sources = gr.Dataframe(headers=["讲话", "部分", "片段", "得分", "文件"], interactive=False,
                               wrap=True, column_widths=PASSAGE_COLUMNS, elem_id="sources")
        source_view = gr.HighlightedText(label="点选一行，查看片段在原讲话中的位置", combine_adjacent=True,
                                         color_map={"参考片段": "yellow"}, elem_id="source-view")

    def wire():
        def on_source_select(session, evt: gr.SelectData):
            session = page.ensure(session)
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            return passage_in_speech(page.services, session, int(row))

        sources.select(on_source_select, [page.state], [source_view])

    return sources, wire


def _checks_tab(page: _Page):
    with gr.Tab("检查", id="checks-tab"):
        checks = gr.Markdown(elem_id="checks")
    return checks, lambda: None


def _ledger_tab(page: _Page):
    with gr.Tab("空白", id="ledger-tab"):
        ledger = gr.Dataframe(headers=["编号", "空白", "类型", "状态", "填写值", "上下文"],
                              interactive=False, wrap=True, elem_id="ledger")
        blank_view = gr.HighlightedText(label="点选一行，查看空白在文档中的位置", combine_adjacent=True,
                                        color_map={"空白": "orange"}, elem_id="blank-view")
        with gr.Row():
            fill_id = gr.Textbox(label="编号", scale=1, elem_id="fill-id")
            fill_value = gr.Textbox(label="填写值", scale=3, elem_id="fill-value")
            fill_btn = gr.Button("填入", scale=1, elem_id="fill-btn")

    def wire():
        def fill(entry_id, value, session, history, request: gr.Request):
            session = page.ensure(session)
            note = session.fill_from_panel((entry_id or "").strip(), value)
            page.persist(session, request)
            history = list(history or []) + [{"role": "assistant", "content": note}]
            return (history, session) + panels(session)

        fill_btn.click(fill, [fill_id, fill_value, page.state, page.chatbot], [page.chatbot, page.state] + page.panel_outputs)

        def on_blank_select(session, evt: gr.SelectData):
            session = page.ensure(session)
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            rows = ledger_rows(session)
            if not 0 <= int(row) < len(rows):
                return gr.skip(), []
            entry_id = rows[int(row)][0]
            return entry_id, highlight_blank(session, entry_id)

        ledger.select(on_blank_select, [page.state], [fill_id, blank_view])

    return ledger, wire


def _versions_tab(page: _Page):
    with gr.Tab("版本", id="versions-tab"):
        versions = gr.Dataframe(headers=["版本", "时间", "说明", "部分", "字数", "当前"],
                                interactive=False, elem_id="versions")
        diff = gr.HighlightedText(label="与上一版的差异", combine_adjacent=True,
                                  color_map={"+": "green", "-": "red"}, elem_id="diff")
        with gr.Row():
            restore_id = gr.Number(label="恢复到版本", precision=0, elem_id="restore-id")
            restore_btn = gr.Button("恢复", elem_id="restore-btn")

    def wire():
        def restore(version, history, session, sel, request: gr.Request):
            yield from page.send(f"回到第{int(version or 0)}版", history, session, sel, request)

        restore_btn.click(restore, [restore_id, page.chatbot, page.state, page.selection], page.outputs)

    return (versions, diff), wire


def _export_tab(page: _Page):
    with gr.Tab("导出", id="export-tab") as tab:
        export_info = gr.Markdown("导出为 Word（党政机关公文格式 GB/T 9704）或 Markdown。", elem_id="export-info")
        title = gr.Textbox(label="标题（导出时放在正文前，可修改）", elem_id="export-title")
        confirm_export = gr.Checkbox(label="有空白或检查未通过时仍然导出", value=False, elem_id="export-confirm")
        with gr.Row():
            docx_btn = gr.Button("导出 Word", elem_id="export-docx")
            md_btn = gr.Button("导出 Markdown", elem_id="export-md")
        export_file = gr.File(label="下载", interactive=False, elem_id="export-file")

    def wire():
        def export(kind):
            def handler(session, confirmed, wanted=None):
                session = page.ensure(session)
                result = export_document(session, kind, page.services.settings.data_dir / "exports", confirmed,
                                         title=wanted)
                return result["message"], result["path"]
            return handler

        docx_btn.click(export("docx"), [page.state, confirm_export, title], [export_info, export_file],
                       api_name="export_docx")
        md_btn.click(export("md"), [page.state, confirm_export, title], [export_info, export_file], api_name="export_md")
        tab.select(lambda session: export_title(page.ensure(session)), [page.state], [title], api_visibility="private")

    return wire


def _sessions_tab(page: _Page):
    services = page.services
    with gr.Tab("我的讲稿", id="sessions-tab") as sessions_tab:
        # ids are checked against the user's own rows in the store, so any id may be passed in
        session_list = gr.Dropdown(label="以前的讲稿", choices=[], allow_custom_value=True, elem_id="session-list")
        with gr.Row():
            open_btn = gr.Button("打开", size="sm", elem_id="session-open")
            new_btn = gr.Button("新建", size="sm", elem_id="session-new")
            delete_btn = gr.Button("删除", size="sm", elem_id="session-delete")
        with gr.Row():
            rename_text = gr.Textbox(label="新名称", scale=3, elem_id="session-name")
            rename_btn = gr.Button("重命名", scale=1, elem_id="session-rename")
        session_info = gr.Markdown(elem_id="session-info")

    def session_choices(request):
        if services.store is None:
            return []
        rows, note = try_store(lambda: services.store.list(owner=page.owner(request)), [])
        if note:
            gr.Warning(note)
        return [(f"{r['title']} · {time.strftime('%m-%d %H:%M', time.localtime(r['updated']))}", r["id"])
                for r in rows]

    page.session_choices = session_choices

    def wire():
        def refresh_sessions(request: gr.Request):
            return gr.update(choices=session_choices(request), value=None)

        def open_session(sid, session, request: gr.Request):
            session = page.ensure(session)
            entry, note = (try_store(lambda: services.store.load_entry(sid, owner=page.owner(request)))
                           if (sid and services.store) else (None, None))
            if entry is None:  # the chat and document in this window stay as they are
                return (session, gr.update(), note or "没有找到这篇讲稿。") + panels(session)
            fresh = page.live_or_saved(sid, entry, request)  # a turn running in another tab: that live speech
            services.live.remember(fresh, page.owner(request))
            return (fresh, chat_of(fresh), f"已打开：{fresh.display_title()}") + panels(fresh)

        def new_session(request: gr.Request):
            fresh = services.new_session()
            services.live.remember(fresh, page.owner(request))
            return (fresh, [], "已新建讲稿。") + panels(fresh)

        def delete_session(sid, request: gr.Request):
            if not sid or services.store is None:
                return gr.update(choices=session_choices(request), value=None), "请先选择要删除的讲稿。"
            ok, note = try_store(lambda: services.store.delete(sid, owner=page.owner(request)), False)
            if note:
                return gr.update(), note
            return gr.update(choices=session_choices(request), value=None), ("已删除。" if ok else "没有找到这篇讲稿。")

        def rename_session(sid, name, session, request: gr.Request):
            session = page.ensure(session)
            sid = sid or session.id
            if not (name or "").strip():
                return gr.update(), "请输入新名称。", session
            kept = None
            if sid == session.id:
                session.title = name.strip()[:80]
                kept = page.persist(session, request)
                sid = session.id  # a copy's id when it had to be kept as a copy
            ok, note = (try_store(lambda: services.store.rename(sid, name, owner=page.owner(request)), False)
                        if services.store is not None else (False, None))
            if note:
                return gr.update(), note, session
            info = ("已重命名。" if ok else "这篇讲稿还没有内容，起草后再命名。") + (f"\n\n{kept}" if kept else "")
            return gr.update(choices=session_choices(request), value=sid), info, session

        sessions_tab.select(refresh_sessions, None, [session_list])
        session_outputs = [page.state, page.chatbot, session_info] + page.panel_outputs
        open_btn.click(open_session, [session_list, page.state], session_outputs, api_name="session_open").then(
            page.keep_id, [page.state], [page.sid], api_visibility="private")
        new_btn.click(new_session, None, session_outputs, api_name="session_new").then(
            page.keep_id, [page.state], [page.sid], api_visibility="private")
        delete_btn.click(delete_session, [session_list], [session_list, session_info], api_name="session_delete")
        rename_btn.click(rename_session, [session_list, rename_text, page.state], [session_list, session_info, page.state],
                         api_name="session_rename")

        def list_sessions(request: gr.Request):
            rows, note = (try_store(lambda: services.store.list(owner=page.owner(request)), [])
                          if services.store else ([], None))
            if note:
                raise gr.Error(note)
            return rows

        list_btn = gr.Button("刷新列表", size="sm", visible=False)
        list_btn.click(list_sessions, None, gr.JSON(visible=False), api_name="session_list")

    return session_list, wire


def _kb_tab(page: _Page):
    from .kb_admin import add_files, preview, remove_files, search_passages

    services = page.services
    with gr.Tab("知识库", id="kb-tab"):
        with gr.Row():
            kb_query = gr.Textbox(label="在知识库中查找", scale=4, elem_id="kb-search-query",
                                  placeholder="计划或口号的名称（如 墩苗、一码通办），或用自己的话说一句想找的意思")
            kb_part = gr.Dropdown(["全部", *SEARCH_PARTS], value="全部", label="部分", scale=1, elem_id="kb-search-part")
            kb_search_btn = gr.Button("查找", scale=1, elem_id="kb-search")
        kb_search_info = gr.Markdown(elem_id="kb-search-info")
        kb_hits = gr.Dataframe(headers=["讲话", "部分", "片段", "得分", "文件"], interactive=False, wrap=True,
                               column_widths=PASSAGE_COLUMNS, elem_id="kb-hits")
        kb_hit_view = gr.HighlightedText(label="点选一行，查看片段在原讲话中的位置", combine_adjacent=True,
                                         color_map={"参考片段": "yellow"}, elem_id="kb-hit-view")
        kb_found = gr.State([])
        uploads = gr.File(label=f"上传讲话稿（.txt / .md / .docx，可多选，每个不超过 {services.settings.max_upload_mb} MB）",
                          file_count="multiple", file_types=[".txt", ".md", ".docx"], elem_id="kb-upload")
        upload_preview = gr.Dataframe(headers=["文件", "标题", "场合", "日期", "识别出的部分", "字数", "状态"],
                                      interactive=False, wrap=True, elem_id="kb-preview")
        add_btn = gr.Button("加入知识库", elem_id="kb-add")
        kb_info = gr.Markdown(elem_id="kb-info")
        kb_table = gr.Dataframe(headers=["文件", "标题", "场合", "日期", "部分", "片段数"], interactive=False,
                                wrap=True, label="知识库里的讲话（点选一行可删除）", elem_id="kb-list")
        kb_name = gr.Textbox(label="选中的讲话", interactive=False, elem_id="kb-remove-name")
        kb_remove_btn = gr.Button("删除选中的讲话", size="sm", variant="stop", elem_id="kb-remove-ask")
        with gr.Column(visible=False, elem_id="kb-confirm") as confirm_box:
            confirm_text = gr.Markdown(elem_id="kb-confirm-text")
            with gr.Row():
                kb_confirm_btn = gr.Button("确认删除", size="sm", variant="stop", elem_id="kb-remove")
                kb_cancel_btn = gr.Button("取消", size="sm", elem_id="kb-remove-cancel")
        with gr.Accordion("维护（管理员）", open=False, elem_id="kb-maintenance"):
            gr.Markdown("按知识库文件夹重新建立全部索引。讲话较多时需要几分钟，期间查找和起草会变慢。")
            kb_reindex_btn = gr.Button("重建索引", size="sm", elem_id="kb-reindex")

    def wire():
        def on_search(query, part):
            message, hits = search_passages(services.searcher, query, part="" if part in (None, "全部") else part)
            return message, passage_rows(hits), hits, []

        def on_hit_select(found, evt: gr.SelectData):
            row = int(evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index)
            return passage_view(services, found[row]) if 0 <= row < len(found) else []

        search_outputs = [kb_search_info, kb_hits, kb_found, kb_hit_view]
        kb_search_btn.click(on_search, [kb_query, kb_part], search_outputs, api_name="kb_search")
        kb_query.submit(on_search, [kb_query, kb_part], search_outputs)
        kb_hits.select(on_hit_select, [kb_found], [kb_hit_view])

        def on_upload(files):
            return [preview(Path(f), Path(f).name).row() for f in (files or [])]

        def on_add(files, progress=gr.Progress()):
            if not files:
                return "请先选择文件。", kb_rows(services)
            paths = [Path(f) for f in files]
            too_big = [p.name for p in paths if p.stat().st_size > services.settings.max_upload_mb * 1024 * 1024]
            if too_big:
                return (f"文件过大（上限 {services.settings.max_upload_mb} MB）：{'、'.join(too_big)}。知识库没有改动。",
                        kb_rows(services))
            msg = add_files(services.kb, paths, [p.name for p in paths],
                            progress=lambda done, total, name: progress(done / max(total, 1), desc=f"索引 {name}"))
            return msg, kb_rows(services)

        def on_pick(evt: gr.SelectData):
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            rows = kb_rows(services)
            return rows[int(row)][0] if 0 <= int(row) < len(rows) else ""

        def ask(name):
            question = kb_delete_prompt(services, (name or "").strip())
            if not question:
                return gr.update(visible=False), "", "请先在上表中点选要删除的讲话。"
            return gr.update(visible=True), question, ""

        def remove(name):
            if not (name or "").strip():
                return "请先在上表中点选要删除的讲话。", kb_rows(services), gr.update(visible=False), ""
            return remove_files(services.kb, [name.strip()]), kb_rows(services), gr.update(visible=False), ""

        def on_reindex(progress=gr.Progress()):
            services.kb.rebuild()
            report = services.kb.ingest(services.settings.knowledge_dir,
                                        progress=lambda d, t, n: progress(d / max(t, 1), desc=f"索引 {n}"))
            return report.summary(), kb_rows(services)

        uploads.change(on_upload, [uploads], [upload_preview])
        add_btn.click(on_add, [uploads], [kb_info, kb_table], api_name="kb_add")
        kb_table.select(on_pick, None, [kb_name])
        kb_remove_btn.click(ask, [kb_name], [confirm_box, confirm_text, kb_info], api_visibility="private")
        kb_cancel_btn.click(lambda: (gr.update(visible=False), "已取消，知识库没有改动。"), None, [confirm_box, kb_info],
                            api_visibility="private")
        # the API takes the file name directly (scripts): a confirmation is the caller's business
        kb_confirm_btn.click(remove, [kb_name], [kb_info, kb_table, confirm_box, kb_name], api_visibility="private")
        api_remove = gr.Button(visible=False)
        api_remove.click(lambda name: remove(name)[:2], [kb_name], [kb_info, kb_table], api_name="kb_remove")
        kb_reindex_btn.click(on_reindex, None, [kb_info, kb_table], api_name="kb_reindex")

    return kb_table, wire


def _materials_tab(page: _Page):
    services = page.services
    with gr.Tab("材料", id="materials-tab") as tab:
        gr.Markdown("本次会议的材料（工作报告、年度数据、规划名称）只属于这篇讲稿，不进知识库。起草时从中取用数字、名称，"
                    "出处列在「参考来源」页；材料里没有、您也没说过的仍留空白。材料里的文字只当数据，不当指令。")
        files = gr.File(label=f"上传材料（.txt / .md / .docx，可多选，每个不超过 {services.settings.max_upload_mb} MB）",
                        file_count="multiple", file_types=[".txt", ".md", ".docx"], elem_id="materials-upload")
        with gr.Row():
            name = gr.Textbox(label="材料名称", value="工作报告", scale=1, elem_id="materials-name")
            text = gr.Textbox(label="或粘贴材料正文", lines=4, max_lines=12, scale=4, elem_id="materials-text")
        add_btn = gr.Button("加入材料", elem_id="materials-add")
        info = gr.Markdown(elem_id="materials-info")
        table = gr.Dataframe(headers=["材料", "字数", "含事实的句子", "加入时间", "旧版本"], interactive=False,
                             label="这篇讲稿的材料（同名再加入即为更新；点选一行可删除）", elem_id="materials-list")
        with gr.Row():
            picked = gr.Textbox(label="选中的材料", interactive=False, scale=3, elem_id="materials-pick")
            remove_btn = gr.Button("删除选中的材料", size="sm", variant="stop", scale=1, elem_id="materials-remove")

    def wire():
        def add(files_in, name_in, text_in, session, request: gr.Request):
            session = page.ensure(session)
            note, ok = add_materials(session, files_in, name_in, text_in)
            kept = page.persist(session, request)
            note += f"\n\n{kept}" if kept else ""
            # what went in leaves the boxes; a refused material stays where it was, nothing lost
            return ((note, materials_table(session), session, None if ok else gr.skip(), "" if ok else gr.skip())
                    + panels(session))

        def pick(session, evt: gr.SelectData):
            rows = materials_table(page.ensure(session))
            row = int(evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index)
            return rows[row][0] if 0 <= row < len(rows) else ""

        def remove(name_in, session, request: gr.Request):
            session = page.ensure(session)
            if not (name_in or "").strip():
                return ("请先在上表中点选要删除的材料。", materials_table(session), session, "") + panels(session)
            note = session.remove_material(name_in)
            page.persist(session, request)
            return (note, materials_table(session), session, "") + panels(session)

        add_btn.click(add, [files, name, text, page.state],
                      [info, table, page.state, files, text] + page.panel_outputs, api_name="materials_add")
        table.select(pick, [page.state], [picked])
        remove_btn.click(remove, [picked, page.state], [info, table, page.state, picked] + page.panel_outputs,
                         api_name="materials_remove")
        tab.select(lambda session: materials_table(page.ensure(session)), [page.state], [table])

    return wire


def _about_tab(page: _Page):
    with gr.Tab("关于", id="about-tab"):
        about = gr.Markdown(elem_id="about")
    return about


def build_app(services: Services) -> gr.Blocks:
    with gr.Blocks(title="讲稿助手", analytics_enabled=False) as demo:
        page = _Page(services)
        gr.Markdown("## 讲稿助手\n按“开场白—三个部分—结尾”起草讲话稿，参考往年讲话，不编造事实。", elem_id="title")
        with gr.Row():
            with gr.Column(scale=5):
                _chat_column(page)
            with gr.Column(scale=6):
                # ten tabs: narrower than Gradio's, and wrapped rather than hidden in a menu when the window is narrow
                with gr.Tabs(elem_id="panels", overflow_behavior="wrap"):
                    (doc, plan), wire_doc = _doc_tab(page)
                    sources, wire_sources = _sources_tab(page)
                    checks, wire_checks = _checks_tab(page)
                    ledger, wire_ledger = _ledger_tab(page)
                    wire_materials = _materials_tab(page)
                    (versions, diff), wire_versions = _versions_tab(page)
                    wire_export = _export_tab(page)
                    session_list, wire_sessions = _sessions_tab(page)
                    kb_table, wire_kb = _kb_tab(page)
                    about = _about_tab(page)
        page.panel_outputs = [doc, sources, checks, ledger, versions, diff, page.status, plan]
        _wire_chat(page)
        for wire in (wire_doc, wire_sources, wire_checks, wire_ledger, wire_materials, wire_versions, wire_export,
                     wire_sessions, wire_kb):
            wire()

        def restore(session, sid, request: gr.Request):
            """The browser's session id → the same speech, chat and versions; a turn still running is followed."""
            session = page.attach(session, sid, request)
            latest = services.live.latest(session) if session.busy else None
            chat = latest[0] if latest else chat_of(session)
            return (session, session.id, chat, gr.Timer(active=session.busy)) + panels(session)

        def on_load(session, request: gr.Request):
            session = page.ensure(session)
            return ((session, gr.update(choices=page.session_choices(request)), kb_rows(services), about_text(services),
                     gr.update(choices=template_choices(services)))
                    + panels(session))

        demo.load(restore, [page.state, page.sid],
                  [page.state, page.sid, page.chatbot, page.follow] + page.panel_outputs,
                  api_visibility="private").then(
            on_load, [page.state], [page.state, session_list, kb_table, about, page.template] + page.panel_outputs).then(
            # only now: a turn sent sooner could be overwritten by the load's panels, which arrive after it
            lambda: gr.update(interactive=True), None, [page.msg], api_visibility="private")
        page.follow.tick(page.following, [page.state], [page.chatbot, page.follow] + page.panel_outputs,
                         api_visibility="private", queue=False)
    return demo
