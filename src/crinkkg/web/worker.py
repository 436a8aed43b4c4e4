"""What runs inside a worker process: query evaluation and versioned updates.

The server never evaluates SPARQL itself. Each query worker opens the store read-only,
receives one job at a time over a pipe, evaluates it, serialises the result to the
negotiated format and sends back bytes. pyoxigraph cannot cancel a query, so the server
enforces timeouts by killing the worker (see :mod:`crinkkg.web.engine`).

Updates never write a database that anyone reads. The update worker copies the current
store (a RocksDB checkpoint: hard links), applies the update to the copy through
:meth:`OxigraphStore.update` (which re-reasons), closes it and swaps the store link
atomically, as a build does. Query workers notice the new link target before their next
job and reopen. A killed update leaves only a ``.partial`` directory behind.

Jobs and replies are plain tuples (cheap to pickle):

- ``("query", sparql, view, default_graphs, named_graphs, base_iri, accept, fmt, max_rows)``
- ``("graph", graph_iri_or_None, accept, fmt, max_rows)``: one graph, or the union
- ``("update", sparql)``
- reply ``("ok", content_type, body, count)`` or :meth:`Problem.to_wire`.
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from ..errors import CrinkError, InconsistencyError, StoreError
from ..namespaces import PREFIXES
from ..store import OxigraphStore, StoreLayout, write_record
from . import wire
from .formats import acceptable_list, by_name, formats_for, negotiate
from .problems import Problem, syntax_problem
from .sparqltext import has_keyword


class RowLimit(Exception):
    """Raised inside serialisation when a result grows past ``max_rows``."""


class _Sink:
    """A binary sink for pyoxigraph's serialisers that stops past a limit.

    ``lines=True`` limits newlines (one per TSV row, plus the header); else bytes.
    """

    __slots__ = ("limit", "used", "lines", "chunks")

    def __init__(self, limit: int, *, lines: bool) -> None:
        self.limit = limit
        self.used = 0
        self.lines = lines
        self.chunks: list[bytes] = []

    def write(self, data) -> int:
        data = bytes(data)
        self.used += data.count(b"\n") if self.lines else len(data)
        if self.used > self.limit:
            raise RowLimit()
        self.chunks.append(data)
        return len(data)

    def flush(self) -> None:
        pass

    def value(self) -> bytes:
        return b"".join(self.chunks)


def _too_many(max_rows: int, what: str) -> Problem:
    return Problem(413, "too-many-results",
                   f"the result has more than {max_rows} {what}, the server's limit",
                   hint="add LIMIT (and ORDER BY with OFFSET to page through the result), "
                        "or narrow the query", extra={"max_rows": max_rows})


def _not_acceptable(kind: str, accept: str | None, fmt: str | None) -> Problem:
    what = "SELECT and ASK results" if kind == "results" else "CONSTRUCT and DESCRIBE results"
    names = ", ".join(f.name for f in formats_for(kind))  # type: ignore[arg-type]
    asked = f"format={fmt}" if fmt else f"Accept: {accept}"
    return Problem(406, "not-acceptable",
                   f"cannot write {what} in any format acceptable to the client ({asked})",
                   hint=f"accept one of {acceptable_list(kind)}, or pass format= one of "  # type: ignore[arg-type]
                        f"{names}")


def serialize_solutions(evaluate, accept: str | None, fmt: str | None,
                        max_rows: int) -> tuple[str, bytes, int]:
    """SELECT results in the negotiated format, refusing more than ``max_rows`` rows.

    ``evaluate()`` runs the query. The common case costs one pass: the result is written
    straight in the negotiated format with a budget of ``max_rows`` bytes (every row of
    every format takes at least one byte, so a smaller output has fewer rows). A larger
    output is re-evaluated and written as TSV, whose lines are rows: counting stops a
    runaway result early, and the TSV is converted (losslessly) to the negotiated format.
    Returns the content type, the bytes and the row count (-1 when not counted).
    """
    chosen = negotiate("results", accept, fmt)
    if chosen is None:
        raise _not_acceptable("results", accept, fmt)
    if chosen.name != "tsv":
        sink = _Sink(max_rows, lines=False)
        try:
            evaluate().serialize(sink, format=chosen.oxigraph)
            return chosen.content_type, sink.value(), -1
        except RowLimit:
            pass
    sink = _Sink(max_rows + 1, lines=True)  # + the header line
    try:
        evaluate().serialize(sink, format=ox.QueryResultsFormat.TSV)
    except RowLimit:
        raise _too_many(max_rows, "rows") from None
    tsv = sink.value()
    rows = max(0, tsv.count(b"\n") - 1)
    if chosen.name == "tsv":
        return chosen.content_type, tsv, rows
    parsed = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    return chosen.content_type, parsed.serialize(format=chosen.oxigraph), rows


def _limited(triples: Iterable[ox.Triple], max_rows: int, counter: list[int]
             ) -> Iterator[ox.Triple]:
    for n, t in enumerate(triples, 1):
        if n > max_rows:
            raise RowLimit()
        counter[0] = n
        yield t


def serialize_triples(triples: Iterable[ox.Triple], accept: str | None, fmt: str | None,
                      max_rows: int) -> tuple[str, bytes, int]:
    """CONSTRUCT/DESCRIBE results (or a graph) in the negotiated RDF format."""
    chosen = negotiate("graph", accept, fmt)
    if chosen is None:
        raise _not_acceptable("graph", accept, fmt)
    counter = [0]
    try:
        body = ox.serialize(_limited(triples, max_rows, counter), format=chosen.oxigraph,
                            prefixes=PREFIXES)
    except RowLimit:
        raise _too_many(max_rows, "triples") from None
    return chosen.content_type, body or b"", counter[0]


def serialize_boolean(value: ox.QueryBoolean, accept: str | None, fmt: str | None
                      ) -> tuple[str, bytes, int]:
    chosen = negotiate("results", accept, fmt)
    if chosen is None:
        raise _not_acceptable("results", accept, fmt)
    return chosen.content_type, value.serialize(format=chosen.oxigraph), 1


def run_query(store: OxigraphStore, job: tuple) -> tuple:
    """Evaluate a ``query`` job and serialise its result."""
    _, sparql, view, default_graphs, named_graphs, base_iri, accept, fmt, max_rows = job
    if fmt is not None and by_name("results", fmt) is None and by_name("graph", fmt) is None:
        names = ", ".join(f.name for f in (*formats_for("results"), *formats_for("graph")))
        raise Problem(406, "not-acceptable", f"format={fmt} is not a format this server writes",
                      hint=f"use one of {names}")
    # with no protocol dataset and the default view, the query's own FROM clauses count
    query_dataset = view == "all" and has_keyword(sparql, "FROM")

    def evaluate():
        return store.query(sparql, view=view, default_graphs=default_graphs,
                           named_graphs=named_graphs, base_iri=base_iri,
                           query_dataset=query_dataset)

    try:
        result = evaluate()
    except SyntaxError as exc:
        raise syntax_problem(exc, sparql) from None
    if isinstance(result, ox.QueryBoolean):
        content_type, body, count = serialize_boolean(result, accept, fmt)
    elif isinstance(result, ox.QuerySolutions):
        first = [result]

        def once():  # the first evaluation is used once, then the query is run again
            return first.pop() if first else evaluate()

        content_type, body, count = serialize_solutions(once, accept, fmt, max_rows)
    else:
        content_type, body, count = serialize_triples(result, accept, fmt, max_rows)
    return ("ok", content_type, body, count)


def run_graph(store: OxigraphStore, job: tuple) -> tuple:
    """Read one graph (Graph Store Protocol GET): a named graph, or the default graph."""
    _, graph, accept, fmt, max_rows = job
    if graph is None:
        triples = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", view="all")
    else:
        node = ox.NamedNode(graph)
        if not store.has_graph(graph):
            raise Problem(404, "no-such-graph", f"there is no graph <{graph}> in the store",
                          hint="list the graphs with SELECT DISTINCT ?g { GRAPH ?g {} }")
        triples = (ox.Triple(q.subject, q.predicate, q.object)
                   for q in store.quads(None, None, None, node))
    content_type, body, count = serialize_triples(triples, accept, fmt, max_rows)
    return ("ok", content_type, body, count)


# -- processes ---------------------------------------------------------------------------


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group: the server stops its workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def open_current(link: Path) -> tuple[str, OxigraphStore]:
    """Open the build the store link points at now, read-only; return its directory."""
    layout = StoreLayout(link)
    target = layout.current()
    if target is None:
        raise StoreError(f"no built store at {link}", hint="run `crinkkg build` first")
    store = ox.Store.read_only(str(target / "db"))
    return _target(link), OxigraphStore(store, path=target / "db", read_only=True,
                                      info=layout.build_record())


def _target(link: Path) -> str:
    """Where the store link points (one ``readlink``; the path itself if not a link)."""
    try:
        return os.path.join(str(link.parent), os.readlink(link))
    except OSError:
        return str(link)


def query_worker_main(conn: socket.socket, link: str) -> None:
    """The loop of a query worker: open the store, then answer jobs until EOF."""
    _ignore_interrupts()
    path = Path(link)
    try:
        opened, store = open_current(path)
    except (CrinkError, OSError) as exc:
        wire.send(conn, ("failed", str(exc)))
        return
    wire.send(conn, ("ready", os.getpid(), opened))

    def handle(job: tuple) -> tuple:
        nonlocal opened, store
        if _target(path) != opened:  # a build or an update swapped the store
            store = None  # close the old database before opening the new one
            gc.collect()
            opened, store = open_current(path)
        if job[0] == "query":
            return run_query(store, job)
        if job[0] == "graph":
            return run_graph(store, job)
        if job[0] == "ping":
            return ("ok", "text/plain", opened.encode(), 0)
        return Problem(500, "internal", f"unknown job {job[0]!r}").to_wire()

    _serve_jobs(conn, handle)


def _serve_jobs(conn: socket.socket, handle: Callable[[tuple], tuple]) -> None:
    """Answer jobs until the server closes the pipe; every error becomes a reply."""
    while True:
        try:
            job = wire.recv(conn)
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            reply = handle(job)
        except Problem as problem:
            reply = problem.to_wire()
        except CrinkError as exc:
            reply = Problem(503, "store-unavailable", exc.message, exc.hint).to_wire()
        except Exception as exc:  # noqa: BLE001 (anything else is reported, not fatal)
            reply = Problem(500, "internal", f"{type(exc).__name__}: {exc}",
                            "this is a bug in the server: please report it").to_wire()
        try:
            wire.send(conn, reply)
        except (EOFError, OSError):
            return


# -- updates -----------------------------------------------------------------------------


def apply_versioned_update(link: Path, sparql: str) -> dict:
    """Apply a SPARQL update to a copy of the store and publish the copy.

    Raises what :meth:`OxigraphStore.update` raises (``SyntaxError``, ``UpdateRefused``,
    ``InconsistencyError``); then nothing is published and the store is unchanged.
    """
    layout = StoreLayout(link)
    with layout.writer_lock():
        current = layout.current()
        if current is None:
            raise StoreError(f"no built store at {link}", hint="run `crinkkg build` first")
        layout.remove_abandoned()
        started = time.perf_counter()
        work = layout.versions / f"update-{int(time.time() * 1000)}-{os.getpid()}.partial"
        work.mkdir()
        try:
            source = ox.Store.read_only(str(current / "db"))
            source.backup(str(work / "db"))
            del source
            target = OxigraphStore(ox.Store(str(work / "db")), path=work / "db",
                                   read_only=False)
            target.update(sparql)
            target.flush()
            count = target.count()
            target.close()
            del target
            gc.collect()
            record = layout.build_record()
            record["updates"] = int(record.get("updates", 0)) + 1
            record["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            write_record(work, record)
            final = work.with_name(work.name.removesuffix(".partial"))
            work.rename(final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        layout.publish(final)
        return {"quads": count, "seconds": round(time.perf_counter() - started, 3)}


def run_update(link: Path, job: tuple) -> tuple:
    """Run an ``update`` job; map the store's refusals onto HTTP problems."""
    from ..updates import UpdateRefused

    _, sparql, column_shift = job
    try:
        info = apply_versioned_update(link, sparql)
    except SyntaxError as exc:
        raise syntax_problem(exc, sparql, what="update", column_shift=column_shift) from None
    except UpdateRefused as exc:
        raise Problem(403, "update-refused", exc.message, exc.hint) from None
    except InconsistencyError as exc:
        raise Problem(409, "inconsistent", exc.message, exc.hint,
                      extra={"problems": [vars(p) for p in exc.problems]}) from None
    body = (f"update applied; the inferred graph is current ({info['quads']} quads, "
            f"{info['seconds']} s)\n").encode()
    return ("ok", "text/plain; charset=utf-8", body, info["quads"])


def update_worker_main(conn: socket.socket, link: str) -> None:
    """The loop of the update worker: one update at a time, each published atomically."""
    _ignore_interrupts()
    from .. import reasoning, updates  # noqa: F401 (import owlrl before the first update)

    wire.send(conn, ("ready", os.getpid(), link))
    _serve_jobs(conn, lambda job: run_update(Path(link), job))


def main(argv: list[str] | None = None) -> None:
    """``python -m crinkkg.web.worker query|update FD LINK``: the server starts these."""
    import sys

    role, fd, link = (argv or sys.argv[1:])[:3]
    conn = socket.socket(fileno=int(fd))
    (update_worker_main if role == "update" else query_worker_main)(conn, link)


if __name__ == "__main__":
    main()
