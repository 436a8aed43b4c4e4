"""The store version a process answers from, reopened when a build or an update moves the
store link, and optionally copied into memory where scans, joins and aggregates run
faster (transitive paths too, but over large stores: both stay open; bench/README.md).

Used by the query workers (with a memory copy) and by the server process itself for the
queries it answers in-process (read-only database only; see
:mod:`crinkkg.backends.embedded.backend`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pyoxigraph as ox

from crinkkg.errors import StoreError
from crinkkg.store.layout import StoreLayout
from crinkkg.store.oxigraph import OxigraphStore

#: over a memory copy of more quads than this, transitive paths are answered from the
#: database, where they run faster (bench/README.md, "Transitive paths")
PATHS_FROM_MEMORY_QUADS = 500_000


def open_current(link: Path) -> tuple[str, OxigraphStore]:
    """Open the build the store link points at now, read-only; return its directory."""
    layout = StoreLayout(link)
    target = layout.current()
    if target is None:
        raise StoreError(f"no built store at {link}", hint="run `crinkkg build` first")
    store = ox.Store.read_only(str(target / "db"))
    return link_target(link), OxigraphStore(store, path=target / "db", read_only=True,
                                            info=layout.build_record())


def link_target(link: Path | str) -> str:
    """Where the store link points (one ``readlink``; the path itself if not a link)."""
    link = str(link)
    try:
        return os.path.join(os.path.dirname(link), os.readlink(link))
    except OSError:
        return link


def _raw_target(link: str) -> str:
    """The store link's text (empty when it is no link)."""
    try:
        return os.readlink(link)
    except OSError:
        return ""


class CurrentStore:
    """The read-only database the link points at, answering at once; with
    ``memory_quads > 0``, replaced by an in-memory copy once a background thread has made
    it (stores larger than ``memory_quads`` stay on disk). Safe to share between threads.
    """

    def __init__(self, link: Path, memory_quads: int = 0) -> None:
        self.link = link
        self._link = str(link)  # a string: checked before every query (no pathlib there)
        self.memory_quads = memory_quads
        self._lock = threading.Lock()
        self._raw = _raw_target(self._link)  # read first: a stale one only costs a check
        self.opened, self.disk = open_current(link)
        self._memory: OxigraphStore | None = None
        self._copy()

    def _copy(self) -> None:
        if self.memory_quads <= 0:
            return
        disk, opened = self.disk, self.opened

        def run() -> None:
            try:
                copy = disk.memory_copy(self.memory_quads)
            except Exception:  # noqa: BLE001 (the database keeps answering)
                return
            with self._lock:
                if copy is not None and self.opened == opened:
                    self._memory = copy

        threading.Thread(target=run, name="memory-copy", daemon=True).start()

    def current(self, transitive: bool = False) -> OxigraphStore:
        """The store to answer the next query from: the memory copy when there is one,
        except for a query with a ``transitive`` path over a copy of more than
        :data:`PATHS_FROM_MEMORY_QUADS` quads (the database answers it faster)."""
        raw = _raw_target(self._link)  # one readlink per query, compared as it is
        if raw != self._raw:
            with self._lock:
                if link_target(self._link) != self.opened:
                    # readers still holding the old version finish with it; it closes
                    # when the last of them lets go
                    opened, disk = open_current(self.link)
                    self._memory = None
                    self.opened, self.disk = opened, disk
                    self._copy()
                self._raw = raw  # read before the reopening: at worst one check more
        memory = self._memory
        if memory is None or (transitive
                              and (memory.copied_quads or 0) > PATHS_FROM_MEMORY_QUADS):
            return self.disk
        return memory

    def after_fork(self) -> None:
        """In a child forked from the process that opened this: keep the memory copy
        (shared with the parent until written), reopen the database (RocksDB's threads
        do not survive a fork), and make the copy again if it was not made in time."""
        self._lock = threading.Lock()
        before = self.opened
        self._raw = _raw_target(self._link)
        self.opened, self.disk = open_current(self.link)
        if self.opened != before:  # moved on while forking: the copy is of the old one
            self._memory = None
        if self._memory is None:
            self._copy()

    @property
    def in_memory(self) -> bool:
        return self._memory is not None
