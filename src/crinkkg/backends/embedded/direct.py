"""The embedded store answered in this process: the backend of the command line.

A command (``crinkkg query``, ``stats``, ``export``) runs one query and exits, so it needs
no worker processes and no timeout that kills: it evaluates where it runs, through the same
evaluation and serialisation code the workers use, so its answers are the server's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from crinkkg.backends import search
from crinkkg.backends.changes import journal_feed
from crinkkg.backends.contract import ProcessShare, QueryHelpers, Reply
from crinkkg.backends.contract import bounded_limit as _bounded
from crinkkg.backends.evaluation import run_dataset, run_graph, run_query
from crinkkg.formats import Override
from crinkkg.problems import Problem
from crinkkg.settings import Settings
from crinkkg.store.integrity import StoreDamaged, explains
from crinkkg.store.oxigraph import OxigraphStore
from crinkkg.views import View


class DirectBackend(QueryHelpers):
    """The built store at ``settings.store``, read in this process (read-only).

    >>> import tempfile, pathlib
    >>> from crinkkg.settings import Settings
    >>> DirectBackend(Settings(store=pathlib.Path(tempfile.mkdtemp()) / "none")).start()
    Traceback (most recent call last):
    crinkkg.errors.StoreError: no built store at ...
    """

    kind = "embedded"
    updates_enabled = False
    in_flight = 0

    def __init__(self, settings: Settings, *, max_rows: int | None = None) -> None:
        """``max_rows``: the cap on any answer (default ``settings.max_rows``)."""
        self.settings = settings
        self.max_rows = max_rows or settings.max_rows
        self.link = Path(settings.store).absolute()
        self._store: OxigraphStore | None = None
        self._indexes = search.Indexes()

    def launch(self) -> None:
        pass

    def start(self) -> None:
        if self._store is None:
            self._store = OxigraphStore.open(self.link)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def after_fork(self) -> None:
        self.close()

    @property
    def store(self) -> OxigraphStore:
        self.start()
        assert self._store is not None
        return self._store

    def _reply(self, run: Callable[[OxigraphStore], tuple]) -> Reply:
        """Run an evaluation; an error that damaged files explain is :class:`StoreDamaged`
        (the files are checked again), never RocksDB's words with the store's paths."""
        started = time.perf_counter()
        store = self.store
        try:
            answer = run(store)
        except Problem:
            raise
        except BaseException as exc:  # a panic in the engine is a BaseException
            found = explains(exc, os.path.realpath(self.link))
            if found is None:
                raise
            raise StoreDamaged(found) from None
        return Reply(answer[1], answer[2], answer[3], time.perf_counter() - started)

    def query(self, sparql: str, *, view: View = "all", default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None, base_iri: str | None = None,
              accept: str | None = None, fmt: Override = None,
              max_rows: int | None = None) -> Reply:
        job = ("query", sparql, view, default_graphs, named_graphs, base_iri, accept, fmt,
               max_rows or self.max_rows)
        return self._reply(lambda store: run_query(
            store, job, search=(lambda: self._indexes.of(self._folder(store)),
                                self.settings.search_limit)))

    def _folder(self, store: OxigraphStore) -> str:
        """The folder of the version ``store`` was opened from (its index is there)."""
        return str(store.path.parent) if store.path is not None \
            else os.path.realpath(self.link)

    def search(self, text: str, *, scope: str = "all", limit: int | None = None,
               offset: int = 0) -> dict:
        """Passages and resources matching ``text`` (:func:`crinkkg.backends.search.search`)."""
        return search.search(self._indexes.of(self._folder(self.store)), text, scope=scope,
                             limit=_bounded(limit, self.settings.search_limit), offset=offset)

    def complete(self, prefix: str, *, limit: int | None = None) -> dict:
        """Resources for an editor's completion of ``prefix``."""
        return search.complete(self._indexes.of(self._folder(self.store)), prefix,
                               limit=_bounded(limit, self.settings.search_limit))

    def read_graph(self, graph: str | None, *, accept: str | None = None,
                   fmt: Override = None) -> Reply:
        return self._reply(lambda store: run_graph(store, ("graph", graph, accept, fmt,
                                                           self.max_rows)))

    def read_dataset(self, *, accept: str | None = None, fmt: str | None = None) -> Reply:
        return self._reply(lambda store: run_dataset(store, ("dataset", accept, fmt,
                                                             self.max_rows)))

    def graph_exists(self, graph: str) -> bool:
        reply = self._reply(lambda store: ("ok", "", b"", int(store.has_graph(graph))))
        return reply.count == 1

    def update(self, sparql: str, *, column_shift: int = 0) -> Reply:
        raise Problem(403, "updates-disabled", "the command line reads the store only",
                      hint="run updates through `crinkkg serve --enable-update`, or edit the "
                           "input files and rebuild")

    def changes(self, since: str | None = None) -> Reply:
        return journal_feed(self.link, since)

    def version(self) -> str:
        return os.path.realpath(self.link)

    def gauges(self) -> dict[str, tuple[str, Callable[[], float]]]:
        return {}

    def counters(self) -> dict[str, tuple[str, Callable[[], float]]]:
        return {}

    def peer_metrics(self) -> list[dict] | None:
        return None

    def health(self) -> dict:
        triples = self.triple_counts()
        return {"backend": self.kind, "store": str(self.link),
                "version": Path(self.version()).name, "graphs": len(self.graph_counts()),
                "triples": triples["all"], "inferred_triples": triples["inferred"],
                "support_triples": triples["support"],
                "asserted_triples": triples["asserted"], "updates_enabled": False}

    def share(self, folder: str) -> ProcessShare:
        raise Problem(500, "not-shareable", "the in-process backend serves one process",
                      hint="serve with the embedded backend (`crinkkg serve`)")
