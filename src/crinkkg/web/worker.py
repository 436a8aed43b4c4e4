"""What runs inside a worker process: query evaluation and versioned updates.

Each query worker opens the store read-only (and answers from an in-memory copy once it
has made one), receives one job at a time over a pipe, evaluates it, serialises the
result to the negotiated format (:mod:`crinkkg.web.evaluation`) and sends back bytes.
pyoxigraph cannot cancel a query, so the server enforces timeouts by killing the worker
(see :mod:`crinkkg.web.engine`).

Updates never write a database that anyone reads. The update worker copies the current
store (a RocksDB checkpoint: hard links), applies the update to the copy through
:meth:`OxigraphStore.update` (which re-reasons), closes it and swaps the store link
atomically, as a build does. Query workers notice the new link target before their next
job and reopen. A killed update leaves only a ``.partial`` directory behind.

Jobs and replies are plain tuples (cheap to pickle):

- ``("query", sparql, view, default_graphs, named_graphs, base_iri, accept, fmt, max_rows)``
- ``("graph", graph_iri_or_None, accept, fmt, max_rows)``: one graph, or the union
- ``("dataset", accept, fmt, max_rows)``: every graph, as TriG or N-Quads
- ``("exists", graph_iri)``: whether the store lists that graph (empty or not)
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
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from ..errors import CrinkError, InconsistencyError, StoreError
from ..store import OxigraphStore, StoreLayout, write_record
from . import wire
from .affinity import release_worker
from .evaluation import run_dataset, run_graph, run_query, unsupported
from .problems import Problem, syntax_problem
from .sparqltext import transitive_path
from .versions import CurrentStore

# -- processes ---------------------------------------------------------------------------


def _ignore_interrupts() -> None:
    release_worker()  # workers run on every CPU, the server's HTTP threads on one
    # Ctrl-C reaches the whole process group: the server stops its workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def query_worker_main(conn: socket.socket, link: str, memory_quads: int = 0) -> None:
    """The loop of a query worker: open the store, then answer jobs until EOF."""
    _ignore_interrupts()
    try:
        versioned = CurrentStore(Path(link), memory_quads)
    except (CrinkError, OSError) as exc:
        wire.send(conn, ("failed", str(exc)))
        return
    wire.send(conn, ("ready", os.getpid(), versioned.opened))

    def handle(job: tuple) -> tuple:
        if job[0] == "query":
            return run_query(versioned.current(prefer_disk=transitive_path(job[1])), job)
        if job[0] == "graph":
            return run_graph(versioned.current(), job)
        if job[0] == "dataset":
            return run_dataset(versioned.current(), job)
        if job[0] == "exists":
            found = versioned.current().has_graph(job[1])
            return ("ok", "text/plain", b"yes" if found else b"no", int(found))
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
    from ..updates import GraphExists, GraphMissing, UpdateRefused

    _, sparql, column_shift = job
    try:
        info = apply_versioned_update(link, sparql)
    except SyntaxError as exc:
        raise syntax_problem(exc, sparql, what="update", column_shift=column_shift) from None
    except UpdateRefused as exc:
        raise Problem(403, "update-refused", exc.message, exc.hint) from None
    except GraphMissing as exc:  # nothing was applied
        raise Problem(404, "no-such-graph", exc.message, exc.hint) from None
    except GraphExists as exc:
        raise Problem(409, "graph-exists", exc.message, exc.hint) from None
    except RuntimeError as exc:
        raise unsupported(exc, "update") or exc from None
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
    """``python -m crinkkg.web.worker query|update FD LINK [MEMORY_QUADS]``: the server
    starts these."""
    import sys

    role, fd, link, *rest = argv or sys.argv[1:]
    conn = socket.socket(fileno=int(fd))
    if role == "update":
        update_worker_main(conn, link)
    else:
        query_worker_main(conn, link, int(rest[0]) if rest else 0)


if __name__ == "__main__":
    main()
