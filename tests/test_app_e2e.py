"""The launched app driven through its public API with gradio_client (real HTTP, real index, stub model)."""

from __future__ import annotations

import re

import pytest
from gradio_client import Client


def last_reply(outputs) -> str:
    chat = outputs[1]
    content = chat[-1]["content"]
    if isinstance(content, list):
        return "".join(c.get("text", "") for c in content if isinstance(c, dict))
    return str(content)


def document(outputs) -> str:
    return outputs[2]


@pytest.fixture
def client(running_app):
    return Client(running_app.url, verbose=False)


def test_a_chat_turn_streams_a_part_with_heading_and_sources(client, running_app):
    before = len(running_app.stub.requests_to("/chat/completions"))
    job = client.submit("写第二部分：围绕中心、服务大局", [], api_name="/chat")
    seen = [last_reply(o) for o in job]
    final = job.outputs()[-1]
    streaming = [s for s in seen if s.endswith("▍")]
    assert len(streaming) >= 3, "the draft should arrive in several streamed pieces"
    reply = last_reply(final)
    assert reply.startswith("二、围绕中心、服务大局")
    assert "一是" in reply and "二是" in reply and "三是" in reply
    assert "二、围绕中心、服务大局" in document(final)
    sources = final[3]
    rows = sources["data"] if isinstance(sources, dict) else sources
    assert rows, "the sources panel lists the passages the draft drew on"
    assert all(r[1].startswith("第二部分") for r in rows), rows  # passages of the tasks role
    # the part is written by several small requests; the retrieved passages reached the model as examples of how
    # past speeches word their tasks (the items prompt), and the key never leaked into a prompt
    prompts = [r.prompt_text for r in running_app.stub.requests_to("/chat/completions")[before:]]
    assert len(prompts) >= 4, "the item list and one request per item"
    examples = [p for p in prompts if "写法参照（别的会议的任务" in p]
    assert examples, "the tasks passages of past speeches are shown to the model"
    block = examples[0].split("写法参照（别的会议的任务", 1)[1].split("\n")[1:]
    heads = [re.sub(r"^[一二三四五六七八九十]是", "", line) for line in block if line.strip()]
    assert heads and all(any(h in r[2] for r in rows) for h in heads), (heads, rows)  # from the listed sources
    assert not any("sk-test" in p for p in prompts)


def test_two_clients_do_not_see_each_others_drafts(running_app):
    a, b = Client(running_app.url, verbose=False), Client(running_app.url, verbose=False)
    out_a = a.predict("为区妇联第四次代表大会写开场白", [], api_name="/chat")
    out_b = b.predict("写结尾", [], api_name="/chat")
    assert "祝贺" in document(out_a) and "让我们" not in document(out_a)
    assert "让我们" in document(out_b) and "祝贺" not in document(out_b)


def test_empty_message_gets_a_clear_answer_and_the_app_keeps_running(client):
    out = client.predict("", [], api_name="/chat")
    assert "请输入" in last_reply(out)
    out = client.predict("为区妇联第四次代表大会写开场白", [], api_name="/chat")
    assert "祝贺" in document(out)


def test_the_speech_plan_follows_a_template_by_chat_and_by_the_menu(client):
    """The plan panel (last output) shows the structure; the chat and the 结构 menu (/template) both set it."""
    out = client.predict("按《昌平区工会第三次代表大会》的结构写", [], api_name="/chat")
    assert "三个部分" in last_reply(out) and "过渡语讲“三点意见”" in last_reply(out)
    assert out[-1].startswith("**结构：三部分（来自《在昌平区工会第三次代表大会上的讲话")
    out = client.predict("没有这篇.txt", [], api_name="/template")
    assert "没有找到" in last_reply([None, out[0]])
    out = client.predict("", [], api_name="/template")
    assert out[-1].startswith("**结构：三部分（默认）**")


def test_a_work_report_pasted_in_the_materials_tab_grounds_part_one_and_is_cited(client, running_app):
    from tests.app_process import grounded_reply, stub_reply

    report = "过去一年，区总工会坚持服务职工。全年新增会员1.2万名。建成职工服务站46个。"
    out = client.predict(None, "工作报告", report, api_name="/materials_add")
    assert out[0].startswith("已加入材料《工作报告》"), out[0]
    table = out[1]["data"] if isinstance(out[1], dict) else out[1]
    assert table[0][0] == "工作报告"

    running_app.stub.reply = grounded_reply("培训职工骨干3000名。")
    try:
        final = client.predict("为区总工会第五次代表大会写第一部分", [], api_name="/chat")
    finally:
        running_app.stub.reply = stub_reply
    doc = document(final)
    assert "1.2万名" in doc and "46个" in doc and "3000名" not in doc
    rows = final[3]["data"] if isinstance(final[3], dict) else final[3]
    assert ["会议材料《工作报告》", "第一部分：1.2万名", "全年新增会员1.2万名。", "—", "材料"] in rows
