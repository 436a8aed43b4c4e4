"""granian's HTTP processes, supervised by crinkkg: one that dies is replaced, one that
keeps dying is replaced after a growing pause, and the server never stops for it.

granian (2.8) replaces a dead worker process, but when a replacement dies within 5.5 s of
starting it calls that a crash loop and stops the whole server with status 1 (its
``_serve_loop``; no option changes it). Short of a crash loop that would be right; as it
is, an HTTP process that the out-of-memory killer picks twice in a row takes the server
down, although the other processes answer. Here a crash loop degrades the server instead:
the processes it has go on answering, the one that keeps dying is started again after 1,
2, 4 ... 30 s, and the log and ``/health`` (:class:`Census`) say so until it stays up.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from granian import Granian

log = logging.getLogger("crinkkg.front")

#: a replacement that dies within this many seconds of starting is in a crash loop
#: (granian's own window)
CRASH_WINDOW = 5.5
#: the first and the longest pause before a process in a crash loop is started again
FIRST_PAUSE, LONGEST_PAUSE = 1.0, 30.0


class Census:
    """How many HTTP processes run, of how many: what ``/health`` shows (read from the
    broker's threads while the supervisor's loop writes it)."""

    def __init__(self, configured: int) -> None:
        self.configured = configured
        self._lock = threading.Lock()
        self._waiting: dict[int, tuple[float, int]] = {}  # idx -> (start again at, failures)
        self.restarts = 0

    def wait(self, idx: int, at: float, failures: int) -> None:
        with self._lock:
            self._waiting[idx] = (at, failures)

    def started(self, idx: int) -> None:
        with self._lock:
            self._waiting.pop(idx, None)
            self.restarts += 1

    def due(self, now: float) -> list[int]:
        with self._lock:
            return [idx for idx, (at, _) in self._waiting.items() if at <= now]

    def next_due(self) -> float | None:
        with self._lock:
            return min((at for at, _ in self._waiting.values()), default=None)

    def __call__(self) -> dict[str, Any]:
        """``configured``, ``running``, ``restarts``, and while one is missing ``hint``."""
        with self._lock:
            waiting = dict(self._waiting)
            restarts = self.restarts
        running = self.configured - len(waiting)
        shown: dict[str, Any] = {"configured": self.configured, "running": running,
                                 "restarts": restarts}
        if waiting:
            at, failures = min(waiting.values())
            shown["next_start_in_seconds"] = round(max(0.0, at - time.monotonic()), 1)
            shown["hint"] = (f"{running} of {self.configured} HTTP processes answer: "
                             + ("one keeps dying soon after it starts (a crash loop, "
                                f"{failures} times in a row) and is started again after a "
                                "pause; see the server log" if failures else
                                "one died and is being replaced"))
        return shown


class SupervisedGranian(Granian):  # type: ignore[misc, valid-type]
    """granian's multi-process server with crinkkg's loop in place of its ``_serve_loop``
    (the rest, from forking to stopping, is granian's)."""

    def __init__(self, *args: Any, census: Census, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.census = census
        self._respawned_at: dict[int, float] = {}
        self._failures: dict[int, int] = {}

    def _serve_loop(self, spawn_target, target_loader) -> None:  # noqa: ANN001 (granian's)
        while True:
            due = self.census.next_due()
            wait = None if due is None else max(0.0, due - time.monotonic())
            self.main_loop_interrupt.wait(wait)
            self.main_loop_interrupt.clear()  # before reading what set it: none is missed
            if self.interrupt_signal:
                return
            while self.interrupt_children:
                self._died(self.interrupt_children.pop(0))
            for idx in self.census.due(time.monotonic()):
                self._start_again(idx, spawn_target, target_loader)
            if self.reload_signal:  # SIGHUP: granian's graceful reload
                self._reload(spawn_target, target_loader)

    def _died(self, idx: int) -> None:
        now = time.monotonic()
        worker = self.wrks[idx]
        respawned = self._respawned_at.get(idx)
        lived = now - worker.birth
        if respawned is not None and now - respawned <= CRASH_WINDOW:
            failures = self._failures.get(idx, 0) + 1
        else:
            failures = 0
        self._failures[idx] = failures
        pause = 0.0 if not failures else min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** (failures - 1))
        self.census.wait(idx, now + pause, failures)
        running = self.census()["running"]
        if failures:
            log.error("crinkkg: HTTP process %s (pid %s) died %.1f s after it started, %d "
                      "times in a row (a crash loop): serving with %d of %d HTTP processes; "
                      "the next starts in %g s", idx + 1, worker._id(), lived, failures,
                      running, self.workers, pause)
        else:
            log.error("crinkkg: HTTP process %s (pid %s) died; serving with %d of %d while "
                      "another starts", idx + 1, worker._id(), running, self.workers)

    def _start_again(self, idx: int, spawn_target, target_loader) -> None:  # noqa: ANN001
        old = self.wrks[idx]
        try:
            new = self._spawn_worker(idx=idx, target=spawn_target,
                                     callback_loader=target_loader)
            new.start()
        except Exception as exc:  # noqa: BLE001 (no fork now: try again after a pause)
            failures = self._failures.get(idx, 0) + 1
            self._failures[idx] = failures
            pause = min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** (failures - 1))
            log.error("crinkkg: cannot start HTTP process %s (%s); trying again in %g s",
                      idx + 1, exc, pause)
            self.census.wait(idx, time.monotonic() + pause, failures)
            return
        self.wrks[idx] = new
        self._respawned_at[idx] = time.monotonic()
        self.census.started(idx)
        old.join(1)
