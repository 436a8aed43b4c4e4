"""What runs inside a worker process: query evaluation and versioned updates.

Each query worker opens the store read-only (and answers from an in-memory copy once it
has made one), receives one job at a time over a pipe, evaluates it, serialises the
result to the negotiated format (:mod:`crinkkg.backends.evaluation`) and sends back bytes.
pyoxigraph cannot cancel a query, so the server enforces timeouts by killing the worker
(see :mod:`crinkkg.backends.embedded.backend`).

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

import errno
import gc
import json
import os
import resource
import shutil
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from crinkkg import lifeline
from crinkkg.affinity import release_worker
from crinkkg.backends import search as text_search
from crinkkg.backends.embedded import channel as wire
from crinkkg.backends.evaluation import run_dataset, run_graph, run_query, unsupported
from crinkkg.errors import AnchorError, CrinkError, InconsistencyError, StoreError, ValidationError
from crinkkg.problems import Problem, syntax_problem, write_refused
from crinkkg.sparqltext import transitive_path
from crinkkg.store.current import CurrentStore
from crinkkg.store.integrity import (
    StoreDamaged,
    damaged_problem,
    explains,
    is_corruption,
    known_damage,
    reported_corruption,
)
from crinkkg.store.journal import Journal, JournalDamaged
from crinkkg.store.layout import StoreLayout
from crinkkg.store.oxigraph import OxigraphStore
from crinkkg.store.textindex import INDEX_DIR, TextIndex, changes_index, write_index

# -- processes ---------------------------------------------------------------------------


def _ignore_interrupts() -> None:
    release_worker()  # workers run on every CPU, the server's HTTP threads on one
    # Ctrl-C reaches the whole process group: the server stops its workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


#: the memory a quad of the in-memory copy takes (measured, with room to spare), and what a
#: worker needs besides: its own running, and the one large allocation that makes the copy
_BYTES_PER_COPIED_QUAD = 600
_WORKER_BASE_MB = 300


def copy_budget(memory_quads: int, memory_mb: int) -> int:
    """The largest store a worker with ``memory_mb`` copies into memory: the copy takes
    at most two thirds of what the worker has beyond its base needs.

    >>> copy_budget(2_000_000, 4096), copy_budget(2_000_000, 256), copy_budget(10, 0)
    (2000000, 0, 10)
    """
    if memory_mb <= 0:
        return memory_quads
    usable = max(0, memory_mb - _WORKER_BASE_MB) * 2**20 * 2 // 3
    return min(memory_quads, usable // _BYTES_PER_COPIED_QUAD)


def limit_memory(memory_mb: int) -> None:
    """Bound this process's data memory (heap and private maps, ``RLIMIT_DATA``).

    Past it, an allocation fails: Python raises ``MemoryError`` and Rust (pyoxigraph)
    aborts the process (SIGABRT) after printing "memory allocation of N bytes failed";
    the server reports either as a query that needs more than ``memory_mb`` MB. Unlike
    ``RLIMIT_AS``, file maps (the database) and reserved address space do not count.
    """
    if memory_mb <= 0:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = memory_mb * 2**20
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def query_worker_main(conn: socket.socket, link: str, memory_quads: int = 0,
                      memory_mb: int = 0, search_limit: int = 100) -> None:
    """The loop of a query worker: open the store, then answer jobs until EOF."""
    _ignore_interrupts()
    limit_memory(memory_mb)
    memory_quads = copy_budget(memory_quads, memory_mb)
    try:
        versioned = CurrentStore(Path(link), memory_quads)
    except (CrinkError, OSError) as exc:
        wire.send(conn, ("failed", str(exc)))
        return
    except Exception as exc:  # noqa: BLE001 (RocksDB's "Corruption: ... in <path>")
        if not is_corruption(exc):
            raise
        wire.send(conn, ("failed", StoreDamaged(reported_corruption(exc)).message))
        return
    wire.send(conn, ("ready", os.getpid(), versioned.opened))
    indexes = text_search.Indexes()  # the served version's, kept open between jobs

    def handle(job: tuple) -> tuple:
        try:
            return answer(job)
        except Problem:
            raise
        except BaseException as exc:  # a panic in the engine is a BaseException
            found = explains(exc, versioned.opened)
            if found is None:
                raise
            raise damaged_problem(found) from None

    def answer(job: tuple) -> tuple:
        if job[0] == "query":
            store = versioned.current(transitive=transitive_path(job[1]))
            # the index of the version this store was opened from, never another's
            return run_query(store, job, search=(lambda: indexes.of(versioned.opened),
                                                 search_limit))
        if job[0] == "graph":
            return run_graph(versioned.current(), job)
        if job[0] == "dataset":
            return run_dataset(versioned.current(), job)
        if job[0] in ("search", "complete"):
            versioned.current()  # moved on to the version the link names now, if it moved
            found = answer_search(indexes.of(versioned.opened), job)
            return ("ok", "application/json", json.dumps(found).encode(), -1)
        if job[0] == "exists":
            found = versioned.current().has_graph(job[1])
            return ("ok", "text/plain", b"yes" if found else b"no", int(found))
        return Problem(500, "internal", f"unknown job {job[0]!r}").to_wire()

    _serve_jobs(conn, handle, memory_mb)


def _serve_jobs(conn: socket.socket, handle: Callable[[tuple], tuple],
                memory_mb: int = 0) -> None:
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
        except MemoryError:
            gc.collect()
            reply = Problem(503, "memory-limit", f"the request needs more than {memory_mb} MB "
                            "of memory, the limit of a worker: it was stopped",
                            hint="narrow it (LIMIT, more specific patterns, no cross "
                                 "products), or ask the operator for a larger "
                                 "--worker-memory-mb",
                            extra={"memory_limit_mb": memory_mb}).to_wire()
        except Exception as exc:  # noqa: BLE001 (anything else is reported, not fatal)
            reply = Problem(500, "internal", f"{type(exc).__name__}: {exc}",
                            "this is a bug in the server: please report it").to_wire()
        try:
            wire.send(conn, reply)
        except (EOFError, OSError):
            return


# -- updates -----------------------------------------------------------------------------

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


def disk_problem(exc: OSError) -> Problem:
    """What a client is told when the store cannot be written (or read): no paths of the
    server's, and what happens next. The update was not applied; queries go on."""
    text = str(exc).lower()
    if exc.errno in _NO_SPACE or "no space left" in text or "quota" in text:
        what = "the disk that holds the store is full"
        hint = "the operator must free disk space; then send the update again"
    elif exc.errno in _READ_ONLY or "read-only" in text or "permission denied" in text:
        what = "the store is on a read-only disk (or its files may not be written)"
        hint = "the operator must make the store writable; then send the update again"
    else:
        what = f"the store could not be written ({exc.strerror or type(exc).__name__})"
        hint = "the operator should check the disk that holds the store; then send the " \
               "update again"
    return Problem(507, "insufficient-storage",
                   f"the update was not applied: {what}; queries are still answered",
                   hint=hint, headers={"Retry-After": "60"})


def answer_search(index: TextIndex, job: tuple) -> dict:
    """A ``search`` or ``complete`` job, from the index of the version served."""
    if job[0] == "search":
        _, text, scope, limit, offset = job
        return text_search.search(index, text, scope=scope, limit=limit, offset=offset)
    _, prefix, limit = job
    return text_search.complete(index, prefix, limit=limit)


def index_version(target: OxigraphStore, current: Path, work: Path, change) -> None:
    """Give the version written in ``work`` its full-text index: made again from
    ``target`` when the write changed what the index holds (texts, labels, descriptions,
    anchors, or the schema that may derive labels), else the previous version's, copied."""
    previous = current / INDEX_DIR
    if previous.is_dir() and not changes_index(change.removed | change.added):
        shutil.copytree(previous, work / INDEX_DIR)
    else:
        write_index(target.database, work)


def apply_versioned_update(link: Path, sparql: str) -> dict:
    """Apply a SPARQL update to a copy of the store, journal it, and publish the copy.

    The write is in the journal (on disk) before the copy is published, and taken out of it
    again if publishing fails: a write that is answered as applied survives every rebuild,
    and one that is not is never replayed. Raises what
    :func:`~crinkkg.build.updates.apply_update` raises (``SyntaxError``, ``UpdateRefused``,
    ``InconsistencyError``); then nothing is journalled or published and the store is
    unchanged.
    """
    from crinkkg.build.conformance import SHAPES_FILE, read_shapes
    from crinkkg.build.updates import apply_update  # update workers only: owlrl is heavy

    layout = StoreLayout(link)
    journal = Journal(link)
    with layout.writer_lock():  # from the copy to the publish: no build or update between
        current = layout.current()
        if current is None:
            raise StoreError(f"no built store at {link}", hint="run `crinkkg build` first")
        found = known_damage(current)
        if found is not None:  # a change read from damaged files would be journalled wrong
            raise StoreDamaged(found)
        try:  # a write journalled but never published (its worker was stopped) goes
            journal.drop_unpublished(layout.build_record())
        except StoreError:  # an unreadable record: the next build replays everything
            pass
        started = time.perf_counter()
        work = layout.work_dir("update")
        try:
            source = ox.Store.read_only(str(current / "db"))
            source.backup(str(work / "db"))
            del source
            shapes = read_shapes(current)  # the build's: this version meets them
            shutil.copyfile(current / SHAPES_FILE, work / SHAPES_FILE)
            target = OxigraphStore(ox.Store(str(work / "db")), path=work / "db",
                                   read_only=False)
            change = apply_update(target, sparql, shapes=shapes)
            target.flush()
            index_version(target, current, work, change)
            count = target.count()
            target.close()
            del target
            gc.collect()
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        patch, size = None, 0
        if any(change):
            try:
                patch, size = journal.append(*change)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise

        def record(previous: dict) -> dict:
            updated = {**previous, "updates": int(previous.get("updates", 0)) + 1,
                       "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            if patch is not None:
                updated["journal"] = patch.id
            return updated

        try:
            layout.publish_version(work, record, locked=True)
        except BaseException:
            if patch is not None:  # not published, not answered as applied: not replayed
                journal.truncate(size)
            raise
        return {"quads": count, "seconds": round(time.perf_counter() - started, 3),
                "patch": patch.id if patch is not None else None}


def run_update(link: Path, job: tuple) -> tuple:
    """Run an ``update`` job; map the store's refusals onto HTTP problems."""
    from crinkkg.build.conformance import ShapesMissing
    from crinkkg.build.updates import GraphExists, GraphMissing, UpdateRefused

    _, sparql, column_shift = job
    try:
        info = apply_versioned_update(link, sparql)
    except StoreDamaged as exc:
        raise damaged_problem(exc.detail) from None
    except OSError as exc:  # a full or read-only disk: nothing was published
        raise disk_problem(exc) from None
    except SyntaxError as exc:
        raise syntax_problem(exc, sparql, what="update", column_shift=column_shift) from None
    except UpdateRefused as exc:
        raise Problem(403, "update-refused", exc.message, exc.hint) from None
    except GraphMissing as exc:  # nothing was applied
        raise Problem(404, "no-such-graph", exc.message, exc.hint) from None
    except GraphExists as exc:
        raise Problem(409, "graph-exists", exc.message, exc.hint) from None
    except RuntimeError as exc:
        if is_corruption(exc):  # met while copying or reading the version
            raise damaged_problem(reported_corruption(exc)) from None
        raise unsupported(exc, "update") or exc from None
    except InconsistencyError as exc:
        raise Problem(409, "inconsistent", exc.message, exc.hint,
                      extra={"problems": [vars(p) for p in exc.problems]}) from None
    except (ValidationError, AnchorError) as exc:  # the build's checks: nothing was applied
        raise write_refused(exc, "update") from None
    except ShapesMissing as exc:
        raise Problem(409, "shapes-missing", exc.message, exc.hint) from None
    except JournalDamaged as exc:  # a write that cannot be journalled is not applied
        raise Problem(503, "journal-damaged", f"the update was not applied: {exc.message}",
                      "the operator must repair or move aside the store's journal of "
                      "writes; queries are still answered",
                      headers={"Retry-After": "60"}) from None
    body = (f"update applied; the inferred graph is current ({info['quads']} quads, "
            f"{info['seconds']} s)\n").encode()
    return ("ok", "text/plain; charset=utf-8", body, info["quads"])


def update_worker_main(conn: socket.socket, link: str) -> None:
    """The loop of the update worker: one update at a time, each published atomically."""
    _ignore_interrupts()
    from crinkkg.build import updates  # noqa: F401 (import owlrl before the first update)

    wire.send(conn, ("ready", os.getpid(), link))
    _serve_jobs(conn, lambda job: run_update(Path(link), job))


def main(argv: list[str] | None = None) -> None:
    """``python -m crinkkg.backends.embedded.worker query|update FD LINK [MEMORY_QUADS
    MEMORY_MB SEARCH_LIMIT]``: the server starts these."""
    import sys

    lifeline.die_with_parent_from_env()  # no worker outlives its server
    role, fd, link, *rest = argv or sys.argv[1:]
    conn = socket.socket(fileno=int(fd))
    if role == "update":
        update_worker_main(conn, link)
    else:
        query_worker_main(conn, link, *(int(r) for r in rest[:3]))


if __name__ == "__main__":
    main()
