"""Queries asked again, answered in the HTTP process when a worker showed them cheap.

A query goes to a killable worker because pyoxigraph cannot stop a query it has started:
the worker's timeout and memory limit are what stop a runaway. The round trip to the
worker costs more than evaluating a small query (bench/README.md, "Queries asked again"),
so a query whose worker answered it within ``limit`` seconds on one store version is
answered in the HTTP process the next time the same request (text, view, dataset, base,
format, row limit) comes for that version: the same engine over the same data does the
same work, so it is no runaway there. The first such answer is checked against the digest
of the worker's bytes (again when the process's store changes, from the database to its
memory copy); when they differ (a memory copy and the database can list solutions in
another order), or when it took more than ``SLOWER`` times the limit, the request goes
back to the workers for that version. A new store version starts with nothing known.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

#: an in-process answer that takes more than this many times ``limit`` is not trusted again
SLOWER = 4.0


@dataclass
class Known:
    """What a worker's answer showed of one request on one store version."""

    version: str
    digest: bytes
    #: the store (its id) whose in-process answer matched the digest: a memory copy made
    #: since, or the database, is checked again before it is trusted
    checked_on: int | None = None
    #: whether the query has a transitive path, which picks the store a worker answers
    #: it from (found at its first answer here)
    transitive: bool | None = None
    refused: bool = False  # it did not (or was slow): the workers answer it


def digest(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).digest()


class Repeats:
    """The requests known to be cheap, per store version; thread-safe, capped at
    ``capacity`` entries (the least recently used dropped first)."""

    def __init__(self, limit: float, max_bytes: int, capacity: int = 4096) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self.capacity = capacity
        self._known: OrderedDict[tuple, Known] = OrderedDict()
        self._lock = threading.Lock()
        self.answered = 0  # answers given in the process (/metrics, the tests)

    def worker_answered(self, job: tuple, version: str, elapsed: float, body: bytes) -> None:
        """Record a worker's answer to ``job`` on ``version``, when it was cheap."""
        if elapsed > self.limit or len(body) > self.max_bytes:
            return
        with self._lock:
            found = self._known.get(job)
            if found is not None and found.version == version:
                return  # known already (checked or refused): keep what was learnt
            self._known[job] = Known(version, digest(body))
            self._known.move_to_end(job)
            while len(self._known) > self.capacity:
                self._known.popitem(last=False)

    def cheap(self, job: tuple, version: str) -> Known | None:
        """What is known of ``job`` on ``version``, if it may be answered in the process."""
        with self._lock:
            found = self._known.get(job)
            if found is None or found.version != version or found.refused:
                return None
            self._known.move_to_end(job)
            return found

    def answered_here(self, known: Known, store: object, body: bytes,
                      elapsed: float) -> bool:
        """Whether the in-process answer ``body``, from ``store``, may be sent: it may once
        an answer from that store matched the worker's bytes in time; otherwise the
        workers answer the request."""
        same = known.checked_on == id(store) or (digest(body) == known.digest
                                                 and elapsed <= SLOWER * self.limit)
        with self._lock:
            if same:
                known.checked_on = id(store)
                self.answered += 1
            else:
                known.refused = True
        return same
