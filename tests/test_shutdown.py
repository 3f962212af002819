"""Stopping the app stops its model server: SIGTERM / SIGINT clean up, and the child dies with its parent
even when the parent is killed outright (SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.app_process import LocalApp

ROOT = Path(__file__).resolve().parents[1]


def children_of(parent: int) -> list[int]:
    """Processes started by ``assistant.server_child --parent <parent>`` that are still alive."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().split(b"\0")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        if b"assistant.server_child" in argv and str(parent).encode() in argv:
            out.append(int(d.name))
    return out


def wait_gone(parent: int, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = children_of(parent)
        if not left:
            return []
        time.sleep(0.2)
    return children_of(parent)


# a parent that starts a long-running child through the wrapper, prints its pid, then waits forever
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-m", "assistant.server_child", "--parent", str(__import__("os").getpid()),
                          "http.server", "0", "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(child.pid, flush=True)
time.sleep(600)
"""


def test_the_server_child_dies_when_its_parent_is_killed_outright():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        deadline = time.monotonic() + 20
        while not children_of(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert children_of(parent.pid) == [child]
        time.sleep(1)  # the child is running its module, not just starting
        assert children_of(parent.pid) == [child]
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        assert wait_gone(parent.pid, 5) == [], "the child outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in children_of(parent.pid):
            os.kill(pid, signal.SIGKILL)


def test_the_wrapper_refuses_to_start_for_a_parent_that_is_gone():
    r = subprocess.run([sys.executable, "-m", "assistant.server_child", "--parent", "1", "http.server", "0"],
                       cwd=ROOT, capture_output=True, timeout=30)
    assert r.returncode == 1


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_stopping_the_app_stops_its_model_server(tmp_path, how):
    app = LocalApp(tmp_path).start(timeout=300)
    try:
        assert httpx.get(app.url, timeout=5).status_code == 200
        servers = children_of(app.proc.pid)
        assert len(servers) == 1, "the app should have started one local model server"
        app.proc.send_signal(how)
        app.proc.wait(30)
        left = wait_gone(app.proc.pid, 10 if how != signal.SIGKILL else 5)
        assert left == [], f"model server still running after {how.name}: {left}"
        if how != signal.SIGKILL:
            assert "正在关闭本地模型" in app.log.read_text()
    finally:
        app.stop()
        for pid in children_of(app.proc.pid):
            os.kill(pid, signal.SIGKILL)
