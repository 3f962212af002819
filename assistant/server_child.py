"""Run llama-cpp-python's server as a child that dies with the app.

``python -m assistant.server_child --parent PID llama_cpp.server --model …`` runs the module given after
``--parent PID`` with the remaining arguments, and watches the parent: when the app is gone — killed
outright (SIGKILL), crashed, or stopped without cleaning up — the server stops within a second instead of
living on as an orphan that holds 2 GB and its port.  (PR_SET_PDEATHSIG would fire when the *thread* that
started the child ends, which in a web server is any worker thread; watching the parent's pid does not.)
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time

POLL_S = 0.5


def watch(parent: int) -> None:
    while True:
        time.sleep(POLL_S)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)  # uvicorn shuts down on SIGTERM
            time.sleep(5)
            os._exit(1)


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[0] != "--parent":
        raise SystemExit("usage: python -m assistant.server_child --parent PID MODULE [ARGS…]")
    parent, module, rest = int(argv[1]), argv[2], argv[3:]
    if os.getppid() != parent:  # the app died before we got here
        raise SystemExit(1)
    threading.Thread(target=watch, args=(parent,), daemon=True, name="parent-watch").start()
    sys.argv = [module, *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
