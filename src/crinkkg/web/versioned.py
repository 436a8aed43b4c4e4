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
#: how many bytes of values a memo keeps by default, as their callers estimate them
DEFAULT_BYTES = 32 * 2**20
#: the size of a value whose caller gives none (about a label and its key)
SMALL = 200


class _Slot:
    """One value: being computed (``done`` not set yet) or computed."""

    __slots__ = ("key", "done", "value", "failed", "size")

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self.done = threading.Event()
        self.value: Any = None
        self.failed = False
        self.size = 0


class VersionMemo:
    """Values kept per store version, at most ``max_entries`` of them and about
    ``max_bytes`` (the least recently used dropped first). Safe to share between threads.

    >>> versions = iter(["v1", "v1", "v2"])
    >>> memo = VersionMemo(lambda: next(versions))
    >>> memo.get("answer", lambda: 41), memo.get("answer", lambda: 42)
    (41, 41)
    >>> memo.get("answer", lambda: 42)  # a new version: computed again
    42
    """

    def __init__(self, version: Callable[[], str], max_entries: int = DEFAULT_ENTRIES,
                 max_bytes: int = DEFAULT_BYTES) -> None:
        self._version = version
        self.max_entries = max(1, max_entries)
        self.max_bytes = max(1, max_bytes)
        self._lock = threading.Lock()
        self._current: str | None = None
        self._slots: OrderedDict[Hashable, _Slot] = OrderedDict()
        self._bytes = 0  # the sizes of the computed values kept
        #: how many values were computed (not found kept): for tests and the benchmark
        self.computed = 0

    def version(self) -> str:
        """The store version served now."""
        return self._version()

    def __len__(self) -> int:
        with self._lock:
            return len(self._slots)

    @property
    def kept_bytes(self) -> int:
        """The sizes of the values kept, as their callers estimated them."""
        with self._lock:
            return self._bytes

    def _slot(self, version: str, key: Hashable) -> tuple[_Slot, bool]:
        """The slot of ``key`` under ``version`` and whether the caller must fill it (call
        with the lock held). A version other than the one kept drops every kept value."""
        if version != self._current:
            self._slots.clear()
            self._bytes = 0
            self._current = version
        slot = self._slots.get(key)
        if slot is not None and not slot.failed:
            self._slots.move_to_end(key)
            return slot, False
        slot = self._slots[key] = _Slot(key)
        return slot, True

    def _keep(self, slot: _Slot, value: Any, size: int) -> None:
        """File a computed value, then drop the least recently used computed values past
        the caps (lock held; ``done`` is set after, so the newest is never dropped)."""
        self.computed += 1
        slot.value = value
        if self._slots.get(slot.key) is not slot:
            return  # a newer version came meanwhile: its values are the ones kept
        slot.size = size
        self._bytes += size
        dropped = []
        entries, kept = len(self._slots), self._bytes
        for key, old in self._slots.items():  # oldest first
            if entries <= self.max_entries and kept <= self.max_bytes:
                break
            if old.done.is_set():
                dropped.append(key)
                entries -= 1
                kept -= old.size
        for key in dropped:
            self._bytes -= self._slots.pop(key).size

    @staticmethod
    def _failed(slots: Iterable[_Slot]) -> None:
        for slot in slots:
            slot.failed = True  # the waiters compute it themselves; nothing is kept
            slot.done.set()

    def get(self, key: Hashable, compute: Callable[[], T],
            size: Callable[[T], int] | None = None) -> T:
        """The value of ``key`` for the version served now: ``compute()`` the first time
        (once, however many threads ask at the same time), the kept value after.
        ``size``: the value's size in bytes, about (a label's by default)."""
        version = self._version()
        while True:
            with self._lock:
                slot, mine = self._slot(version, key)
            if mine:
                try:
                    value = compute()
                except BaseException:
                    self._failed([slot])
                    raise
                with self._lock:
                    self._keep(slot, value, size(value) if size else SMALL)
                slot.done.set()
                return value
            slot.done.wait()
            if not slot.failed:
                return slot.value

    def many(self, keys: Iterable[K], compute: Callable[[list[K]], dict[K, T]],
             missing: T) -> dict[K, T]:
        """The values of ``keys`` for the version served now: those not kept yet are
        computed together, by one call of ``compute`` with the list of them (a key it
        leaves out is worth ``missing``). For reads batched in one query (the labels of
        every resource a page names); each value counts as a small one."""
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
                self._failed(slot for _, slot in mine)
                raise
            with self._lock:
                for key, slot in mine:
                    out[key] = found.get(key, missing)
                    self._keep(slot, out[key], SMALL)
            for _, slot in mine:
                slot.done.set()
        for key, slot in waiting:  # computed by another thread (after our own: no cycle)
            slot.done.wait()
            out[key] = slot.value if not slot.failed else \
                self.many([key], compute, missing)[key]
        return out
