"""A real browser (Debian's chromium, driven by Playwright) against the launched app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make test installs it)"),
]


@pytest.fixture
def page(browser, running_app):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.goto(running_app.url)
    pg.wait_for_selector("#msg textarea")
    yield pg
    ctx.close()


def send(page, text: str):
    box = page.locator("#msg textarea")
    box.fill(text)
    box.press("Enter")


def last_bot(page):
    return page.locator("#chat .message-row.bot-row, #chat [data-testid='bot']").last


def doc_text(page) -> str:
    return page.locator("#doc textarea").input_value()


def doc_where(page, condition: str, arg=None, timeout: int = 30_000) -> str:
    """The document pane's text once ``condition`` (JavaScript on ``v``, the text, and ``a``, ``arg``) holds, or as
    it is after ``timeout``: the pane renders a moment after the chat's message on a loaded machine."""
    try:
        page.wait_for_function(
            f"(a) => {{ const v = document.querySelector('#doc textarea')?.value || ''; return {condition}; }}",
            arg=arg, timeout=timeout)
    except Exception:  # noqa: BLE001 — the caller's assertion shows what the pane holds
        pass
    return doc_text(page)


def test_typing_a_request_streams_a_draft_with_heading(page):
    ARTIFACTS.mkdir(exist_ok=True)
    send(page, "写第二部分：围绕中心、服务大局")
    # while streaming, the bubble shows partial text with a cursor
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chat')].some(e => e.innerText.includes('▍'))", timeout=30_000
    )
    page.wait_for_function(
        "() => document.querySelector('#chat').innerText.includes('已起草第二部分')", timeout=60_000
    )
    chat = page.locator("#chat").inner_text()
    assert "二、围绕中心、服务大局" in chat and "一是" in chat
    assert doc_where(page, "v.startsWith(a)", "二、围绕中心、服务大局").startswith("二、围绕中心、服务大局")
    page.get_by_role("tab", name="参考来源").click()
    page.wait_for_selector("#sources")
    assert "第二部分" in page.locator("#sources").inner_text()
    # provenance: clicking a source row shows the passage inside its speech
    page.locator("#sources [role=gridcell]").nth(2).click()
    page.wait_for_function(
        "() => (document.querySelector('#source-view')?.innerText || '').length > 500", timeout=20_000
    )
    assert "参考片段" in page.locator("#source-view").inner_text()
    page.screenshot(path=str(ARTIFACTS / "draft_part2.png"), full_page=True)


def test_outline_draft_refine_undo_and_diff(page):
    ARTIFACTS.mkdir(exist_ok=True)
    send(page, "帮我给区妇联第四次代表大会写个提纲")
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('提纲如下')", timeout=60_000)
    send(page, "写第二部分")
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('已起草第二部分')", timeout=60_000)
    drafted = doc_where(page, "v.startsWith('二、')")
    from tests.fakes import HEADINGS

    assert drafted.startswith("二、" + HEADINGS["二"]), drafted[:60]
    page.locator("#preset-concise").click()
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('已修改第二部分')", timeout=60_000)
    refined = doc_where(page, "v !== a", drafted)
    assert refined != drafted and "进一步深化" in refined
    page.get_by_role("tab", name="版本").click()
    diff = page.locator("#diff")
    diff.wait_for()
    assert "进一步" in diff.inner_text()
    page.screenshot(path=str(ARTIFACTS / "refine_diff.png"), full_page=True)
    page.locator("#undo").click()
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('已撤销')", timeout=30_000)
    page.get_by_role("tab", name="文档").click()
    assert doc_where(page, "v === a", drafted) == drafted


def test_fill_a_blank_by_chat_updates_the_ledger(page):
    send(page, "为区妇联第四次代表大会写开场白")
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('已起草开场白')", timeout=60_000)
    page.get_by_role("tab", name="空白").click()
    ledger = page.locator("#ledger")
    ledger.wait_for()
    assert "规划" in ledger.inner_text() and "待填" in ledger.inner_text()
    send(page, "“_”规划是十五五")
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('十五五')", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#ledger').innerText.includes('已确认')", timeout=30_000)
    page.get_by_role("tab", name="文档").click()
    assert "“十五五”规划" in doc_where(page, "v.includes(a)", "“十五五”规划")
    page.screenshot(path=str(ARTIFACTS / "fill_blank.png"), full_page=True)


def test_search_the_knowledge_base_and_open_a_passage(page, running_app):
    """知识库 tab: a programme's name typed alone finds its speech's passage; clicking it opens it in the speech."""
    from assistant.evaluation import known_item_queries

    q = next(q for q in known_item_queries([running_app.tmp / "kb"]) if len(q["query"]) >= 3)
    page.get_by_role("tab", name="知识库").click()
    box = page.locator("#kb-search-query textarea, #kb-search-query input").first
    box.fill(q["query"])
    page.locator("#kb-search").click()
    page.wait_for_function(
        "(f) => (document.querySelector('#kb-hits')?.innerText || '').includes(f)", arg=q["relevant"][0],
        timeout=30_000,
    )
    assert "找到" in page.locator("#kb-search-info").inner_text()
    page.locator("#kb-hits [role=gridcell]").nth(2).click()  # the first row's snippet
    page.wait_for_function(
        "(t) => (document.querySelector('#kb-hit-view')?.innerText || '').includes(t)", arg=q["query"],
        timeout=20_000,
    )
    view = page.locator("#kb-hit-view").inner_text()
    assert "参考片段" in view and len(view) > 500  # the passage, marked, inside its whole speech
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "kb_search.png"), full_page=True)


def test_attach_a_work_report_in_the_materials_tab_and_see_its_figures_cited(page, running_app, tmp_path):
    """材料 tab: a GBK work report uploaded, listed; part one drafted from it; 参考来源 shows the figure's sentence."""
    from tests.app_process import grounded_reply, stub_reply

    report = tmp_path / "工作报告.txt"
    report.write_bytes("过去一年，区总工会坚持服务职工。全年新增会员1.2万名。建成职工服务站46个。".encode("gbk"))
    page.get_by_role("tab", name="材料").click()
    page.locator("#materials-upload input[type=file]").set_input_files(str(report))
    page.wait_for_timeout(1500)  # the upload lands before the button reads it
    page.locator("#materials-add").click()
    page.wait_for_function("() => (document.querySelector('#materials-info')?.innerText || '').includes('已加入材料《工作报告》')",
                           timeout=30_000)
    assert "工作报告" in page.locator("#materials-list").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "materials_added.png"), full_page=True)

    running_app.stub.reply = grounded_reply("各项工作取得新成效。")
    try:
        send(page, "为区总工会第五次代表大会写第一部分")
        page.wait_for_function("() => document.querySelector('#chat').innerText.includes('已起草第一部分')", timeout=90_000)
    finally:
        running_app.stub.reply = stub_reply
    text = doc_where(page, "v.includes('1.2万名') && v.includes('46个')")
    assert "1.2万名" in text and "46个" in text
    page.get_by_role("tab", name="参考来源").click()
    page.wait_for_function("() => (document.querySelector('#sources')?.innerText || '').includes('全年新增会员1.2万名')",
                           timeout=20_000)
    assert "会议材料《工作报告》" in page.locator("#sources").inner_text()
    page.screenshot(path=str(ARTIFACTS / "materials_cited.png"), full_page=True)
