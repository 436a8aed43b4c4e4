"""What the pages read that depends only on the store's version: read once, kept with it.

The store changes only when a new version is published (a build, an update, a publish to a
remote store), and :meth:`~crinkkg.backends.contract.Backend.version` names the version
served. Labels, the support of derived links, property chains, stored texts, the
overview's network and its layout are the same for every request of one version, so a
:class:`VersionMemo` computes each once per version and keeps it; the first request that
sees a new version drops what the older one kept. Each value is filed under the version
read *before* it was computed, so a value is never served for a version it was not read
from.

One memo per app (in its :class:`~crinkkg.web.context.WebContext`), shared by the
server's threads: a value that several threads ask for at once is computed by one of them
while the others wait for it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

#: how many values a memo keeps by default (labels are kept one per resource)
DEFAULT_ENTRIES = 20_000


class _Slot:
    """One value: being computed (``done`` not set yet) or computed."""

    __slots__ = ("done", "value", "failed")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.failed = False


class VersionMemo:
    """Values kept per store version, at most ``max_entries`` of them (the least recently
    used dropped first). Safe to share between threads.

    >>> versions = iter(["v1", "v1", "v2"])
    >>> memo = VersionMemo(lambda: next(versions))
    >>> memo.get("answer", lambda: 41), memo.get("answer", lambda: 42)
    (41, 41)
    >>> memo.get("answer", lambda: 42)  # a new version: computed again
    42
    """

    def __init__(self, version: Callable[[], str], max_entries: int = DEFAULT_ENTRIES) -> None:
        self._version = version
        self.max_entries = max(1, max_entries)
        self._lock = threading.Lock()
        self._current: str | None = None
        self._slots: OrderedDict[Hashable, _Slot] = OrderedDict()
        #: how many values were computed (not found kept): for tests and the benchmark
        self.computed = 0

    def version(self) -> str:
        """The store version served now."""
        return self._version()

    def __len__(self) -> int:
        with self._lock:
            return len(self._slots)

    def _slot(self, version: str, key: Hashable) -> tuple[_Slot, bool]:
        """The slot of ``key`` under ``version`` and whether the caller must fill it (call
        with the lock held). A version other than the one kept drops every kept value."""
        if version != self._current:
            self._slots.clear()
            self._current = version
        slot = self._slots.get(key)
        if slot is not None and not slot.failed:
            self._slots.move_to_end(key)
            return slot, False
        slot = self._slots[key] = _Slot()
        return slot, True

    def _trim(self) -> None:
        """Drop the least recently used computed values past the cap (lock held)."""
        excess = len(self._slots) - self.max_entries
        if excess <= 0:
            return
        dropped = []
        for key, slot in self._slots.items():  # oldest first
            if slot.done.is_set():
                dropped.append(key)
                if len(dropped) == excess:
                    break
        for key in dropped:
            del self._slots[key]

    def _fill(self, slot: _Slot, compute: Callable[[], T]) -> T:
        try:
            value = compute()
        except BaseException:
            slot.failed = True  # the waiters compute it themselves; nothing is kept
            slot.done.set()
            raise
        slot.value = value
        slot.done.set()
        with self._lock:
            self.computed += 1
            self._trim()
        return value

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value of ``key`` for the version served now: ``compute()`` the first time
        (once, however many threads ask at the same time), the kept value after."""
        version = self._version()
        while True:
            with self._lock:
                slot, mine = self._slot(version, key)
            if mine:
                return self._fill(slot, compute)
            slot.done.wait()
            if not slot.failed:
                return slot.value

    def many(self, keys: Iterable[K], compute: Callable[[list[K]], dict[K, T]],
             missing: T) -> dict[K, T]:
        """The values of ``keys`` for the version served now: those not kept yet are
        computed together, by one call of ``compute`` with the list of them (a key it
        leaves out is worth ``missing``). For reads batched in one query (the labels of
        every resource a page names)."""
        version = self._version()
        out: dict[K, T] = {}
        waiting: list[tuple[K, _Slot]] = []
        mine: list[tuple[K, _Slot]] = []
        with self._lock:
            for key in keys:
                if key in out:
                    continue
                slot, fill = self._slot(version, key)
                # every key takes its place in the answer now, in the order asked
                out[key] = slot.value if not fill and slot.done.is_set() else missing
                if fill:
                    mine.append((key, slot))
                elif not slot.done.is_set():
                    waiting.append((key, slot))
        if mine:
            try:
                found = compute([k for k, _ in mine])
            except BaseException:
                for _, slot in mine:
                    slot.failed = True
                    slot.done.set()
                raise
            for key, slot in mine:
                slot.value = out[key] = found.get(key, missing)
                slot.done.set()
            with self._lock:
                self.computed += len(mine)
                self._trim()
        for key, slot in waiting:
            slot.done.wait()
            out[key] = slot.value if not slot.failed else \
                self.many([key], compute, missing)[key]
        return out
