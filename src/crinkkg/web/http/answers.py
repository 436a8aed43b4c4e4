"""Pages and linked-data answers kept per store version: made once, sent many times.

An answer of Flask's routes to a cacheable ``GET`` depends only on what its validator
names (:mod:`.caching`: the store version, the request's path, query string, ``Accept``
and ``Host``, the settings), and the store changes only when a version is published. So
the complete ``200`` answers of those routes are kept under their ``ETag``, before the
headers every answer gets per request (validators, CORS, security, gzip) are added, and a
repeated request is answered from them without running the route again. A new version
gives every request a new tag: the answers of the old one age out of the bounded store.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple


class Kept(NamedTuple):
    """One answer as its route made it."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    endpoint: str


class Answers:
    """Answers kept per ``ETag``, the least recently used dropped past ``max_bytes``
    (0: none kept). Safe to share between threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._kept: OrderedDict[str, Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, etag: str) -> Kept | None:
        with self._lock:
            kept = self._kept.get(etag)
            if kept is not None:
                self._kept.move_to_end(etag)
            return kept

    def fits(self, length: int) -> bool:
        """Whether an answer of ``length`` bytes is worth keeping (at most an eighth of
        the store, so that one answer never pushes out all the others)."""
        return 0 < length <= self.max_bytes // 8

    def put(self, etag: str, kept: Kept) -> None:
        size = len(kept.body) + 256
        with self._lock:
            if etag in self._kept:
                return
            self._kept[etag] = kept
            self._bytes += size
            while self._bytes > self.max_bytes and self._kept:
                _, dropped = self._kept.popitem(last=False)
                self._bytes -= len(dropped.body) + 256
