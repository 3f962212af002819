"""One model, many users: a first-come-first-served gate in front of the chat model.

The embedded llama.cpp server works on one request at a time; a second request would either wait
unseen or (with the server's default) abort the first.  Every model call goes through
:meth:`ModelGate.enter`, which yields the caller's place in the queue while it waits — so the user sees
「排队中，前面还有 N 个请求」 and an estimate — and lets at most ``capacity`` calls run at once (1 for the
local model, the concurrency setting behind an API).  A caller that gives up (stop button, closed tab)
leaves the queue without disturbing anyone else.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterator


class Cancelled(RuntimeError):
    """The user stopped this turn."""


@dataclass
class Waiting:
    """Yielded while a call waits: how many calls are ahead and about how long that takes."""

    ahead: int
    eta_s: float


class ModelGate:
    def __init__(self, capacity: int = 1, *, poll_s: float = 0.5):
        self.capacity = max(1, int(capacity))
        self.poll_s = poll_s
        self._cond = threading.Condition()
        self._queue: deque[int] = deque()
        self._running = 0
        self._tickets = itertools.count(1)
        self._recent: deque[float] = deque(maxlen=30)  # seconds per call, for the estimate

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._queue)

    @property
    def running(self) -> int:
        with self._cond:
            return self._running

    def estimate(self, ahead: int) -> float:
        per_call = sum(self._recent) / len(self._recent) if self._recent else 8.0
        return per_call * (ahead + 1) / self.capacity

    def enter(self, cancelled: Callable[[], bool] = lambda: False) -> Iterator[Waiting]:
        """Wait for a slot, yielding :class:`Waiting` while others are ahead; returns (StopIteration) the ticket.

        Use as ``ticket = yield from gate.enter(...)`` and always ``gate.leave(ticket, seconds)`` after.
        Raises :class:`Cancelled` (and leaves the queue) when ``cancelled()`` turns true while waiting."""
        ticket = next(self._tickets)
        with self._cond:
            self._queue.append(ticket)
        try:
            while True:
                with self._cond:
                    if cancelled():
                        raise Cancelled()
                    pos = self._queue.index(ticket)
                    if pos == 0 and self._running < self.capacity:
                        self._queue.popleft()
                        self._running += 1
                        self._cond.notify_all()
                        return ticket
                    ahead = pos + self._running
                yield Waiting(ahead, self.estimate(ahead))
                with self._cond:
                    self._cond.wait(self.poll_s)
        except BaseException:
            with self._cond:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                    self._cond.notify_all()
            raise

    def leave(self, ticket: int, seconds: float | None = None) -> None:
        with self._cond:
            self._running = max(0, self._running - 1)
            if seconds is not None and seconds > 0:
                self._recent.append(seconds)
            self._cond.notify_all()


class Slot:
    """``with gate_slot(...)``-free helper for generators: enter, run, always leave."""

    def __init__(self, gate: ModelGate):
        self.gate = gate
        self.ticket: int | None = None
        self.t0 = 0.0

    def acquire(self, cancelled: Callable[[], bool]) -> Iterator[Waiting]:
        self.ticket = yield from self.gate.enter(cancelled)
        self.t0 = time.perf_counter()

    def release(self) -> None:
        if self.ticket is not None:
            self.gate.leave(self.ticket, time.perf_counter() - self.t0)
            self.ticket = None
