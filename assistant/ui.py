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

from .chunking import SEARCH_PARTS
from .runtime import Services
from .session import PRESET_MESSAGES, Event, Session
from .store import persist as persist_session
from .store import try_store

PANEL_COUNT = 7  # doc, sources, checks, ledger, versions, diff, status
PASSAGE_COLUMNS = ["18%", "18%", "44%", "8%", "12%"]  # speech, part, snippet, score, file: all visible, snippet widest

CSS = """
#doc textarea {font-family: "FangSong", "STFangsong", "仿宋", serif; font-size: 16px; line-height: 1.8;}
#status {min-height: 1.5em; color: #555;}
"""


def passage_rows(passages) -> list[list]:
    return [[p.title, p.part_label, p.snippet(90), round(p.score, 4), p.source] for p in passages]


def source_rows(session: Session) -> list[list]:
    return passage_rows(session.sources)


def ledger_rows(session: Session) -> list[list]:
    return [[r["id"], r["blank"], r["kind"], r["status"], r["value"], r["context"]] for r in session.ledger.to_rows()]


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
    """A retrieved passage shown inside its speech (provenance), the passage marked."""
    if not 0 <= row < len(session.sources):
        return []
    return passage_view(services, session.sources[row])


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
        return f"⏳ {_md(ev.text)}"
    if ev.kind == "delta":
        return _md(ev.text) + " ▍"
    if ev.kind == "error":
        return f"⚠️ {_md(ev.text)}"
    if ev.section and ev.section in session.doc.sections:
        return _md(session.doc.get(ev.section)) + "\n\n---\n" + _md(ev.text)
    return _md(ev.text)


def run_turn(session: Session, message: str, history: list, selection: str | None = None):
    """Drive one turn; yields (history, panels-or-None) — panels only when the document may have changed."""
    history = list(history or []) + [{"role": "user", "content": message}, {"role": "assistant", "content": "⏳"}]
    yield history, None
    for ev in session.turn(message, selection=selection or None):
        history[-1] = {"role": "assistant", "content": reply_text(session, ev)}
        # a whole speech fills the document pane section by section, as each is accepted
        yield history, (panels(session) if ev.kind in ("message", "error", "section") else None)


def stop_turn(session: Session | None) -> str:
    """The stop button: ends only this user's running turn; what was already accepted stays."""
    if session is not None and session.cancel():
        return "正在停止……已写好的部分会保留。"
    return "当前没有正在进行的请求。"


def export_document(session: Session, kind: str, folder: Path, confirmed: bool) -> dict:
    """Export the current document; warns (and waits for confirmation) while blanks are open or checks fail."""
    from .export import ExportError, export_docx, export_markdown, export_warnings

    if session.doc.is_empty:
        return {"message": "文档还是空的，没有可导出的内容。", "path": None}
    errors = [e.message for e in session.check_report().errors]
    warnings = export_warnings(session.doc.text(), len(session.ledger.open_entries()), errors)
    if warnings and not confirmed:
        return {"message": "导出前请注意：\n" + "\n".join(f"- ⚠️ {w}" for w in warnings)
                + "\n\n确认无误后勾选“仍然导出”再点导出。", "path": None}
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", session.display_title())[:40] or "speech"
    out = folder / f"{name}-{session.id[:6]}.{kind}"
    try:
        if kind == "docx":
            export_docx(session.doc.text(), out, title=session.doc.title or None)
        else:
            export_markdown(session.doc.text(), out, title=session.doc.title or None)
    except ExportError as exc:
        return {"message": f"导出失败：{exc}", "path": None}
    return {"message": f"已导出 {out.name}。" + (f"（仍有 {len(warnings)} 条提醒）" if warnings else ""), "path": str(out)}


def build_app(services: Services) -> gr.Blocks:
    from .providers import describe

    with gr.Blocks(title="讲稿助手", analytics_enabled=False) as demo:
        state = gr.State(None)
        selection = gr.State("")
        gr.Markdown(
            "## 讲稿助手\n按“开场白—过渡语—一、二、三部分—结尾”的结构起草讲话稿；"
            f"参考往年讲话，不编造事实。<small>{html.escape(describe(services.settings))}</small>"
        )
        with gr.Row():
            with gr.Column(scale=5):
                chatbot = gr.Chatbot(label="对话", height=520, elem_id="chat")
                msg = gr.Textbox(
                    placeholder="例如：为区妇联第四次代表大会写开场白", show_label=False, elem_id="msg",
                    submit_btn="发送", lines=1, max_lines=6,
                )
                with gr.Row():
                    preset_btns = [gr.Button(name, size="sm", elem_id=f"preset-{style}") for name, style in PRESET_MESSAGES.items()]
                with gr.Row():
                    undo_btn = gr.Button("撤销", size="sm", elem_id="undo")
                    redo_btn = gr.Button("重做", size="sm", elem_id="redo")
                    check_btn = gr.Button("检查", size="sm", elem_id="check")
                    stop_btn = gr.Button("停止", size="sm", variant="stop", elem_id="stop")
                status = gr.Markdown(elem_id="status")
            with gr.Column(scale=6):
                with gr.Tabs():
                    with gr.Tab("文档", id="doc-tab"):
                        doc = gr.Textbox(label="讲话稿（可直接编辑；选中一段文字后点润色按钮，只改选中部分）", lines=22,
                                         max_lines=40, elem_id="doc", interactive=True)
                        with gr.Row():
                            save_btn = gr.Button("保存编辑", size="sm", elem_id="save-doc")
                            sel_info = gr.Markdown(elem_id="selection")
                    with gr.Tab("参考来源", id="sources-tab"):
                        sources = gr.Dataframe(headers=["讲话", "部分", "片段", "得分", "文件"], interactive=False,
                                               wrap=True, column_widths=PASSAGE_COLUMNS, elem_id="sources")
                        source_view = gr.HighlightedText(label="点选一行，查看片段在原讲话中的位置", combine_adjacent=True,
                                                         color_map={"参考片段": "yellow"}, elem_id="source-view")
                    with gr.Tab("检查", id="checks-tab"):
                        checks = gr.Markdown(elem_id="checks")
                    with gr.Tab("空白", id="ledger-tab"):
                        ledger = gr.Dataframe(headers=["编号", "空白", "类型", "状态", "填写值", "上下文"],
                                              interactive=False, wrap=True, elem_id="ledger")
                        blank_view = gr.HighlightedText(label="点选一行，查看空白在文档中的位置", combine_adjacent=True,
                                                        color_map={"空白": "orange"}, elem_id="blank-view")
                        with gr.Row():
                            fill_id = gr.Textbox(label="编号", scale=1, elem_id="fill-id")
                            fill_value = gr.Textbox(label="填写值", scale=3, elem_id="fill-value")
                            fill_btn = gr.Button("填入", scale=1, elem_id="fill-btn")
                    with gr.Tab("版本", id="versions-tab"):
                        versions = gr.Dataframe(headers=["版本", "时间", "说明", "部分", "字数", "当前"],
                                                interactive=False, elem_id="versions")
                        diff = gr.HighlightedText(label="与上一版的差异", combine_adjacent=True,
                                                  color_map={"+": "green", "-": "red"}, elem_id="diff")
                        with gr.Row():
                            restore_id = gr.Number(label="恢复到版本", precision=0, elem_id="restore-id")
                            restore_btn = gr.Button("恢复", elem_id="restore-btn")
                    with gr.Tab("导出", id="export-tab"):
                        export_info = gr.Markdown("导出为 Word（党政机关公文格式 GB/T 9704）或 Markdown。", elem_id="export-info")
                        confirm_export = gr.Checkbox(label="有空白或检查未通过时仍然导出", value=False, elem_id="export-confirm")
                        with gr.Row():
                            docx_btn = gr.Button("导出 Word", elem_id="export-docx")
                            md_btn = gr.Button("导出 Markdown", elem_id="export-md")
                        export_file = gr.File(label="下载", interactive=False, elem_id="export-file")
                    with gr.Tab("我的讲稿", id="sessions-tab") as sessions_tab:
                        # ids are checked against the user's own rows in the store, so any id may be passed in
                        session_list = gr.Dropdown(label="以前的讲稿", choices=[], allow_custom_value=True,
                                                   elem_id="session-list")
                        with gr.Row():
                            open_btn = gr.Button("打开", size="sm", elem_id="session-open")
                            new_btn = gr.Button("新建", size="sm", elem_id="session-new")
                            delete_btn = gr.Button("删除", size="sm", elem_id="session-delete")
                        with gr.Row():
                            rename_text = gr.Textbox(label="新名称", scale=3, elem_id="session-name")
                            rename_btn = gr.Button("重命名", scale=1, elem_id="session-rename")
                        session_info = gr.Markdown(elem_id="session-info")
                    with gr.Tab("知识库", id="kb-tab"):
                        with gr.Row():
                            kb_query = gr.Textbox(label="在知识库中查找", scale=4, elem_id="kb-search-query",
                                                  placeholder="计划或口号的名称（如 墩苗、一码通办），或用自己的话说一句想找的意思")
                            kb_part = gr.Dropdown(["全部", *SEARCH_PARTS], value="全部", label="部分",
                                                  scale=1, elem_id="kb-search-part")
                            kb_search_btn = gr.Button("查找", scale=1, elem_id="kb-search")
                        kb_search_info = gr.Markdown(elem_id="kb-search-info")
                        kb_hits = gr.Dataframe(headers=["讲话", "部分", "片段", "得分", "文件"], interactive=False, wrap=True,
                                               column_widths=PASSAGE_COLUMNS, elem_id="kb-hits")
                        kb_hit_view = gr.HighlightedText(label="点选一行，查看片段在原讲话中的位置", combine_adjacent=True,
                                                         color_map={"参考片段": "yellow"}, elem_id="kb-hit-view")
                        kb_found = gr.State([])
                        uploads = gr.File(label="上传讲话稿（.txt / .md / .docx，可多选）", file_count="multiple",
                                          file_types=[".txt", ".md", ".docx"], elem_id="kb-upload")
                        upload_preview = gr.Dataframe(headers=["文件", "标题", "场合", "日期", "识别出的部分", "字数", "状态"],
                                                      interactive=False, wrap=True, elem_id="kb-preview")
                        add_btn = gr.Button("加入知识库", elem_id="kb-add")
                        kb_info = gr.Markdown(elem_id="kb-info")
                        kb_table = gr.Dataframe(headers=["文件", "标题", "场合", "日期", "部分", "片段数"], interactive=False,
                                                wrap=True, elem_id="kb-list")
                        with gr.Row():
                            kb_name = gr.Textbox(label="要删除的文件名", scale=3, elem_id="kb-remove-name")
                            kb_remove_btn = gr.Button("删除", scale=1, elem_id="kb-remove")
                            kb_reindex_btn = gr.Button("重建索引", scale=1, elem_id="kb-reindex")

        panel_outputs = [doc, sources, checks, ledger, versions, diff, status]

        def ensure(session):
            return session if session is not None else services.new_session()

        def owner(request: gr.Request | None) -> str:
            return (getattr(request, "username", None) or "") if request is not None else ""

        def persist(session, request) -> str | None:
            """Save the session; a note when it had to be kept as a copy (saved meanwhile elsewhere)."""
            if services.store is not None and not session.doc.is_empty:
                return persist_session(services.store, session, owner(request))
            return None

        def send(message, history, session, sel, request: gr.Request):
            session = ensure(session)
            hist, notes = history, []
            for hist, pan in run_turn(session, message, history, sel):
                if pan is not None:  # each accepted section is saved at once: a reload mid-speech finds it
                    notes.append(persist(session, request))
                yield ("", hist, session, "") + (pan if pan is not None else tuple(gr.skip() for _ in range(PANEL_COUNT)))
            notes.append(persist(session, request))
            note = "\n\n".join(dict.fromkeys(n for n in notes if n))
            if note:  # the panels again (and the session's new id), so that API clients get the document too
                yield ("", list(hist or []) + [{"role": "assistant", "content": note}], session, "") + panels(session)

        outputs = [msg, chatbot, state, selection] + panel_outputs
        msg.submit(send, [msg, chatbot, state, selection], outputs, api_name="chat")
        # not queued behind the turn it stops
        stop_btn.click(stop_turn, [state], [status], api_name="stop", queue=False)

        def command(text):
            def handler(history, session, sel, request: gr.Request):
                yield from send(text, history, session, sel, request)
            return handler

        for btn, (name, style) in zip(preset_btns, PRESET_MESSAGES.items()):
            btn.click(command(f"{name}一些"), [chatbot, state, selection], outputs, api_name=f"preset_{style}")
        undo_btn.click(command("撤销"), [chatbot, state, selection], outputs, api_name="undo")
        redo_btn.click(command("重做"), [chatbot, state, selection], outputs, api_name="redo")
        check_btn.click(command("检查一下"), [chatbot, state, selection], outputs, api_name="check")

        def on_select(evt: gr.SelectData):
            text = evt.value if isinstance(evt.value, str) else ""
            info = f"已选中 {len(text)} 字：润色按钮只修改选中部分。" if text.strip() else ""
            return text, info

        doc.select(on_select, None, [selection, sel_info])

        def save(text, session, history, request: gr.Request):
            session = ensure(session)
            note = session.edit_document(text)
            kept = persist(session, request)
            history = list(history or []) + [{"role": "assistant", "content": n} for n in (note, kept) if n]
            return (history, session) + panels(session)

        save_btn.click(save, [doc, state, chatbot], [chatbot, state] + panel_outputs)

        def fill(entry_id, value, session, history, request: gr.Request):
            session = ensure(session)
            note = session.fill_from_panel((entry_id or "").strip(), value)
            persist(session, request)
            history = list(history or []) + [{"role": "assistant", "content": note}]
            return (history, session) + panels(session)

        fill_btn.click(fill, [fill_id, fill_value, state, chatbot], [chatbot, state] + panel_outputs)

        def restore(version, history, session, sel, request: gr.Request):
            yield from send(f"回到第{int(version or 0)}版", history, session, sel, request)

        restore_btn.click(restore, [restore_id, chatbot, state, selection], outputs)

        def on_source_select(session, evt: gr.SelectData):
            session = ensure(session)
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            return passage_in_speech(services, session, int(row))

        sources.select(on_source_select, [state], [source_view])

        def on_blank_select(session, evt: gr.SelectData):
            session = ensure(session)
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            rows = ledger_rows(session)
            if not 0 <= int(row) < len(rows):
                return gr.skip(), []
            entry_id = rows[int(row)][0]
            return entry_id, highlight_blank(session, entry_id)

        ledger.select(on_blank_select, [state], [fill_id, blank_view])

        # --- export ---------------------------------------------------------------
        def export(kind):
            def handler(session, confirmed):
                session = ensure(session)
                result = export_document(session, kind, services.settings.data_dir / "exports", confirmed)
                return result["message"], result["path"]
            return handler

        docx_btn.click(export("docx"), [state, confirm_export], [export_info, export_file], api_name="export_docx")
        md_btn.click(export("md"), [state, confirm_export], [export_info, export_file], api_name="export_md")

        # --- sessions ---------------------------------------------------------------
        def session_choices(request):
            if services.store is None:
                return []
            rows, note = try_store(lambda: services.store.list(owner=owner(request)), [])
            if note:
                gr.Warning(note)
            return [(f"{r['title']} · {time.strftime('%m-%d %H:%M', time.localtime(r['updated']))}", r["id"])
                    for r in rows]

        def refresh_sessions(request: gr.Request):
            return gr.update(choices=session_choices(request), value=None)

        def open_session(sid, session, request: gr.Request):
            session = ensure(session)
            entry, note = (try_store(lambda: services.store.load_entry(sid, owner=owner(request)))
                           if (sid and services.store) else (None, None))
            if entry is None:  # the chat and document in this window stay as they are
                return (session, gr.update(), note or "没有找到这篇讲稿。") + panels(session)
            fresh = services.new_session()
            fresh.restore_state(entry[0])
            fresh.rev = entry[1]
            chat = [{**m, "content": _md(m["content"])} for m in fresh.messages if m.get("role") in ("user", "assistant")]
            return (fresh, chat, f"已打开：{fresh.display_title()}") + panels(fresh)

        def new_session(request: gr.Request):
            fresh = services.new_session()
            return (fresh, [], "已新建讲稿。") + panels(fresh)

        def delete_session(sid, request: gr.Request):
            if not sid or services.store is None:
                return gr.update(choices=session_choices(request), value=None), "请先选择要删除的讲稿。"
            ok, note = try_store(lambda: services.store.delete(sid, owner=owner(request)), False)
            if note:
                return gr.update(), note
            return gr.update(choices=session_choices(request), value=None), ("已删除。" if ok else "没有找到这篇讲稿。")

        def rename_session(sid, name, session, request: gr.Request):
            session = ensure(session)
            sid = sid or session.id
            if not (name or "").strip():
                return gr.update(), "请输入新名称。", session
            kept = None
            if sid == session.id:
                session.title = name.strip()[:80]
                kept = persist(session, request)
                sid = session.id  # a copy's id when it had to be kept as a copy
            ok, note = (try_store(lambda: services.store.rename(sid, name, owner=owner(request)), False)
                        if services.store is not None else (False, None))
            if note:
                return gr.update(), note, session
            info = ("已重命名。" if ok else "这篇讲稿还没有内容，起草后再命名。") + (f"\n\n{kept}" if kept else "")
            return gr.update(choices=session_choices(request), value=sid), info, session

        sessions_tab.select(refresh_sessions, None, [session_list])
        session_outputs = [state, chatbot, session_info] + panel_outputs
        open_btn.click(open_session, [session_list, state], session_outputs, api_name="session_open")
        new_btn.click(new_session, None, session_outputs, api_name="session_new")
        delete_btn.click(delete_session, [session_list], [session_list, session_info], api_name="session_delete")
        rename_btn.click(rename_session, [session_list, rename_text, state], [session_list, session_info, state],
                         api_name="session_rename")
        def list_sessions(request: gr.Request):
            rows, note = try_store(lambda: services.store.list(owner=owner(request)), []) if services.store else ([], None)
            if note:
                raise gr.Error(note)
            return rows

        list_btn = gr.Button("刷新列表", size="sm", visible=False)
        list_btn.click(list_sessions, None, gr.JSON(visible=False), api_name="session_list")

        # --- knowledge base ------------------------------------------------------------
        from .kb_admin import add_files, preview, remove_files, search_passages

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

        def kb_rows():
            return [[n, e.get("title", ""), e.get("occasion", ""), e.get("date", ""), "；".join(e.get("parts", [])),
                     e.get("chunks", 0)] for n, e in sorted(services.kb.sources().items())]

        def on_upload(files):
            files = files or []
            return [preview(Path(f), Path(f).name).row() for f in files]

        def on_add(files, progress=gr.Progress()):
            if not files:
                return "请先选择文件。", kb_rows()
            paths = [Path(f) for f in files]
            too_big = [p.name for p in paths if p.stat().st_size > services.settings.max_upload_mb * 1024 * 1024]
            if too_big:
                return f"文件过大（上限 {services.settings.max_upload_mb} MB）：{'、'.join(too_big)}。知识库没有改动。", kb_rows()
            msg = add_files(services.kb, paths, [p.name for p in paths],
                            progress=lambda done, total, name: progress(done / max(total, 1), desc=f"索引 {name}"))
            return msg, kb_rows()

        def on_remove(name):
            if not (name or "").strip():
                return "请输入要删除的文件名（见上表第一列）。", kb_rows()
            return remove_files(services.kb, [name.strip()]), kb_rows()

        def on_reindex(progress=gr.Progress()):
            services.kb.rebuild()
            report = services.kb.ingest(services.settings.knowledge_dir,
                                        progress=lambda d, t, n: progress(d / max(t, 1), desc=f"索引 {n}"))
            return report.summary(), kb_rows()

        uploads.change(on_upload, [uploads], [upload_preview])
        add_btn.click(on_add, [uploads], [kb_info, kb_table], api_name="kb_add")
        kb_remove_btn.click(on_remove, [kb_name], [kb_info, kb_table], api_name="kb_remove")
        kb_reindex_btn.click(on_reindex, None, [kb_info, kb_table], api_name="kb_reindex")

        def on_load(session, request: gr.Request):
            session = ensure(session)
            return (session, gr.update(choices=session_choices(request)), kb_rows()) + panels(session)

        demo.load(on_load, [state], [state, session_list, kb_table] + panel_outputs)
    return demo
