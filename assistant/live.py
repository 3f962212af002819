"""The sessions this server holds, and the turns running in them.

A turn runs to its end on the server even when the page that started it goes away (a reload, a closed tab, a
lost network): it runs in its own thread, the page only follows it, and the thread saves what it writes.  A page
that comes back with the same session id (kept in the browser) finds the live session here — with the turn still
running, and what it has shown so far — or, once the server has let it go, in the session store.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from typing import Any, Iterable, Iterator

_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


class LiveSessions:
    """Session id → (owner, session), the most recently used last; at most ``keep`` idle sessions stay."""

    def __init__(self, keep: int = 300):
        self.keep = keep
        self._items: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._latest: dict[str, Any] = {}  # session id → the last thing its running turn showed
        self._lock = threading.Lock()

    def remember(self, session, owner: str = "") -> None:
        with self._lock:
            for sid, (_, s) in list(self._items.items()):
                if s is session and sid != session.id:  # kept under a new id (saved as a copy)
                    del self._items[sid]
            self._items[session.id] = (owner, session)
            self._items.move_to_end(session.id)
            idle = [sid for sid, (_, s) in self._items.items() if not s.busy]
            for sid in idle[: max(0, len(self._items) - self.keep)]:
                del self._items[sid]
                self._latest.pop(sid, None)

    def find(self, sid: str | None, owner: str = ""):
        """The live session with this id, when it is this owner's; else None."""
        with self._lock:
            hit = self._items.get(sid or "")
        return hit[1] if hit and hit[0] == owner else None

    def latest(self, session) -> Any:
        """What the session's running turn showed last (None when no turn ran since it was remembered)."""
        return self._latest.get(session.id)

    def run(self, session, items: Iterable) -> Iterator:
        """Run ``items`` to the end in a thread of its own; yield each item as it comes.  The caller may stop
        reading at any time (the page went away): the turn goes on, and ``latest`` keeps what it shows."""
        q: queue.Queue = queue.Queue()

        def work():
            try:
                for item in items:
                    self._latest[session.id] = item
                    q.put(item)
            except BaseException as exc:  # noqa: BLE001 — handed to the reader, who shows it
                q.put(_Failed(exc))
            finally:
                q.put(_DONE)

        threading.Thread(target=work, name=f"turn-{session.id[:8]}", daemon=True).start()
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
