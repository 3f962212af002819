"""The Gradio web app: thin handlers over :class:`~assistant.session.Session`.

Each browser tab gets its own session (``gr.State``), so two tabs never see
each other's drafts.  ``panels(session)`` turns a session into the values of
the side panels; it is plain Python and tested without a browser.
"""

from __future__ import annotations

import html

import gradio as gr

from .document import section_label
from .runtime import Services
from .session import PRESET_MESSAGES, Event, Session

PANEL_COUNT = 7  # doc, sources, checks, ledger, versions, diff, status

CSS = """
#doc textarea {font-family: "FangSong", "STFangsong", "仿宋", serif; font-size: 16px; line-height: 1.8;}
#status {min-height: 1.5em; color: #555;}
"""


def source_rows(session: Session) -> list[list]:
    return [[p.title, p.part_label, p.snippet(90), round(p.score, 4), p.source] for p in session.sources]


def ledger_rows(session: Session) -> list[list]:
    return [[r["id"], r["blank"], r["kind"], r["status"], r["value"], r["context"]] for r in session.ledger.to_rows()]


def version_rows(session: Session) -> list[list]:
    return [[r["id"], r["time"], r["label"], r["section"], r["chars"], "●" if r.get("current") else ""] for r in session.history.list()]


def diff_value(session: Session) -> list[tuple[str, str | None]]:
    from .diff import diff_for_gradio

    vs = session.history.versions
    cur = session.history.current
    if cur is None or len(vs) < 2:
        return []
    idx = vs.index(cur)
    prev = vs[idx - 1] if idx > 0 else vs[0]
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
    checks = session.check_report().markdown() if not session.doc.is_empty else "文档还是空的。"
    return (
        session.doc.text(),
        source_rows(session),
        checks,
        ledger_rows(session),
        version_rows(session),
        diff_value(session),
        status_line(session),
    )


def reply_text(session: Session, ev: Event) -> str:
    """What the assistant bubble shows for an event."""
    if ev.kind == "status":
        return f"⏳ {ev.text}"
    if ev.kind == "delta":
        return ev.text + " ▍"
    if ev.kind == "error":
        return f"⚠️ {ev.text}"
    if ev.section and ev.section in session.doc.sections:
        return session.doc.get(ev.section) + "\n\n---\n" + ev.text
    return ev.text


def run_turn(session: Session, message: str, history: list, selection: str | None = None):
    """Drive one turn; yields (history, panels-or-None) — panels only when the document may have changed."""
    history = list(history or []) + [{"role": "user", "content": message}, {"role": "assistant", "content": "⏳"}]
    yield history, None
    for ev in session.turn(message, selection=selection or None):
        history[-1] = {"role": "assistant", "content": reply_text(session, ev)}
        yield history, (panels(session) if ev.kind in ("message", "error") else None)


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
                                               wrap=True, elem_id="sources")
                    with gr.Tab("检查", id="checks-tab"):
                        checks = gr.Markdown(elem_id="checks")
                    with gr.Tab("空白", id="ledger-tab"):
                        ledger = gr.Dataframe(headers=["编号", "空白", "类型", "状态", "填写值", "上下文"],
                                              interactive=False, wrap=True, elem_id="ledger")
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

        panel_outputs = [doc, sources, checks, ledger, versions, diff, status]

        def ensure(session):
            return session if session is not None else services.new_session()

        def send(message, history, session, sel):
            session = ensure(session)
            for hist, pan in run_turn(session, message, history, sel):
                yield ("", hist, session, "") + (pan if pan is not None else tuple(gr.skip() for _ in range(PANEL_COUNT)))

        outputs = [msg, chatbot, state, selection] + panel_outputs
        msg.submit(send, [msg, chatbot, state, selection], outputs, api_name="chat")

        def command(text):
            def handler(history, session, sel):
                yield from send(text, history, session, sel)
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

        def save(text, session, history):
            session = ensure(session)
            note = session.edit_document(text)
            history = list(history or []) + [{"role": "assistant", "content": note}]
            return (history, session) + panels(session)

        save_btn.click(save, [doc, state, chatbot], [chatbot, state] + panel_outputs)

        def fill(entry_id, value, session, history):
            session = ensure(session)
            note = session.fill_from_panel((entry_id or "").strip(), value)
            history = list(history or []) + [{"role": "assistant", "content": note}]
            return (history, session) + panels(session)

        fill_btn.click(fill, [fill_id, fill_value, state, chatbot], [chatbot, state] + panel_outputs)

        def restore(version, history, session, sel):
            yield from send(f"回到第{int(version or 0)}版", history, session, sel)

        restore_btn.click(restore, [restore_id, chatbot, state, selection], outputs)

        def on_load(session):
            session = ensure(session)
            return (session,) + panels(session)

        demo.load(on_load, [state], [state] + panel_outputs)
    return demo


def section_name(key: str) -> str:
    return section_label(key)
