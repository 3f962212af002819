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
