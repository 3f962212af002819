"""The launched app driven through its public API with gradio_client (real HTTP, real index, stub model)."""

from __future__ import annotations

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
    # the request reached the model with the retrieved passages and without leaking the key into the prompt
    body = running_app.stub.requests[-1].json
    prompt = "\n".join(m["content"] for m in body["messages"])
    assert "参考材料" in prompt and "sk-test" not in prompt


def test_two_clients_do_not_see_each_others_drafts(running_app):
    a, b = Client(running_app.url, verbose=False), Client(running_app.url, verbose=False)
    out_a = a.predict("为区妇联第四次代表大会写开场白", [], api_name="/chat")
    out_b = b.predict("写结尾", [], api_name="/chat")
    assert "祝贺" in document(out_a) and "让我们" not in document(out_a)
    assert "让我们" in document(out_b) and "祝贺" not in document(out_b)


def test_empty_message_gets_a_clear_answer_and_the_app_keeps_running(client):
    out = client.predict("", [], api_name="/chat")
    assert "请输入" in last_reply(out)
    out = client.predict("写开场白", [], api_name="/chat")
    assert "祝贺" in document(out)
