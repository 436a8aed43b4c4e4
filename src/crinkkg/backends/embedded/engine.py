"""Query evaluation for the web layer: the one place that runs SPARQL against the store.

Contract used by every blueprint (keep it stable):

- ``get_engine()`` inside a request gives the app's :class:`QueryEngine`.
- ``engine.select_json(sparql, view="all") -> dict``: SPARQL 1.1 JSON results, parsed.
- ``engine.ask(sparql, view="all") -> bool``.
- ``engine.construct(sparql, fmt: pyoxigraph.RdfFormat, view="all") -> bytes``.
- ``engine.store`` is not part of the contract: blueprints never touch pyoxigraph.

All three raise :class:`~crinkkg.problems.Problem` (syntax error, timeout, saturation).

How it works: a pool of worker processes (:mod:`crinkkg.backends.embedded.worker`), each with the
store
open read-only, evaluates queries and sends back serialised bytes. A request thread takes
an idle worker (waiting at most ``queue_wait`` seconds, else 503 with ``Retry-After``),
sends the job and waits at most ``timeout`` seconds for the answer. pyoxigraph cannot
cancel a query, so on timeout the worker is killed (SIGKILL stops the work at once) and a
fresh one is started in the background while the other workers keep answering.
Updates run in a separate single update worker that writes a copy of the store and swaps
it in atomically; query workers reopen the new version before their next job.

One exception: a query that is a single triple pattern (a lookup) costs time in
proportion to its answer, so this process answers it itself, reading at most
``inline_bytes`` of answer (a larger one goes to a worker). That needs no timeout and
saves the round trip to a worker, which was most of a lookup's cost.
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import os
import queue
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from crinkkg.backends.embedded import channel as wire
from crinkkg.backends.evaluation import OverBudget, run_bounded_query
from crinkkg.errors import CrinkError
from crinkkg.formats import Override
from crinkkg.problems import Problem
from crinkkg.settings import Settings
from crinkkg.sparqltext import single_pattern
from crinkkg.store.current import CurrentStore
from crinkkg.store.oxigraph import View
from crinkkg.vocab import INFERRED_GRAPH

if TYPE_CHECKING:
    from crinkkg.backends.embedded.broker import BrokerClient, RemotePool

log = logging.getLogger("crinkkg.engine")

_FORMAT_NAMES = {ox.RdfFormat.TURTLE: "turtle", ox.RdfFormat.N_TRIPLES: "ntriples",
                 ox.RdfFormat.N_QUADS: "nquads", ox.RdfFormat.TRIG: "trig",
                 ox.RdfFormat.JSON_LD: "jsonld", ox.RdfFormat.RDF_XML: "rdfxml"}


@dataclass
class Reply:
    """A successful answer: serialised bytes in ``content_type``."""

    content_type: str
    body: bytes
    count: int
    seconds: float


class _Worker:
    def __init__(self, process: subprocess.Popen, conn: socket.socket, pid: int) -> None:
        self.process = process
        self.conn = conn
        self.pid = pid
        self.jobs = 0

    def idle_and_alive(self) -> bool:
        """False for a worker that died while idle (killed, out of memory): an idle worker
        never writes, so a readable socket means it was closed."""
        if self.process.poll() is not None:
            return False
        poller = select.poll()
        poller.register(self.conn, select.POLLIN | select.POLLERR | select.POLLHUP)
        return not poller.poll(0)

    def kill(self) -> None:
        try:
            self.process.kill()
        except OSError:
            pass
        try:
            self.conn.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class WorkerPool:
    """A fixed number of worker processes (``python -m crinkkg.backends.embedded.worker ROLE FD
    LINK ...``).

    Workers are plain subprocesses talking over a socket pair: no fork of a threaded
    server, no re-import of the caller's main module, and SIGKILL stops one cleanly.
    """

    def __init__(self, role: str, link: Path, size: int, args: tuple[str, ...] = (),
                 memory_mb: int = 0) -> None:
        self.name = role
        self.link = link
        self.args = args
        self.size = size
        self.memory_mb = memory_mb
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.restarts = 0
        self.busy = 0
        self._booting: list[tuple[subprocess.Popen, socket.socket]] = []

    # -- lifecycle -------------------------------------------------------------------------

    def _launch(self) -> tuple[subprocess.Popen, socket.socket]:
        parent, child = socket.socketpair()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "crinkkg.backends.embedded.worker", self.name,
                 str(child.fileno()), str(self.link), *self.args],
                pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, close_fds=True,
                stderr=subprocess.PIPE, start_new_session=False)
        finally:
            child.close()
        _relay_stderr(process)
        return process, parent

    def _handshake(self, process: subprocess.Popen, conn: socket.socket) -> _Worker:
        try:
            hello = wire.recv(conn, timeout=60)
        except wire.Timeout:
            process.kill()
            raise Problem(503, "store-unavailable", f"a {self.name} worker did not start",
                          hint="check the server log") from None
        except (EOFError, OSError):
            raise Problem(503, "store-unavailable",
                          f"a {self.name} worker exited while starting "
                          f"({_exit_status(process)})", hint="check the server log") from None
        if hello[0] != "ready":
            process.wait(timeout=5)
            raise Problem(503, "store-unavailable", f"a {self.name} worker could not open the "
                          f"store: {hello[1]}", hint="run `crinkkg build`, check --store")
        w = _Worker(process, conn, hello[1])
        with self._lock:
            self._all.add(w)
        return w

    def _spawn(self) -> _Worker:
        return self._handshake(*self._launch())

    def launch(self) -> None:
        """Start every worker process without waiting for it (they boot in parallel with
        whatever the caller does next, such as importing the web app)."""
        while len(self._booting) < self.size:
            self._booting.append(self._launch())

    def start(self) -> None:
        """Start every worker and wait until each has opened the store; raise if one
        cannot."""
        self.launch()
        booting, self._booting = self._booting, []
        for process, conn in booting:
            self._idle.put(self._handshake(process, conn))

    def _replace(self, dead: _Worker) -> None:
        with self._lock:
            self._all.discard(dead)
            self.restarts += 1

        def work() -> None:
            dead.kill()
            delay = 0.2
            while not self._closed:
                try:
                    self._idle.put(self._spawn())
                    return
                except Exception as exc:  # noqa: BLE001 (keep trying: the store may return)
                    log.error("cannot restart a %s worker: %s", self.name, exc)
                    time.sleep(delay)
                    delay = min(delay * 2, 5.0)

        threading.Thread(target=work, name=f"crinkkg-{self.name}-respawn", daemon=True).start()

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for w in workers:
            try:
                wire.send(w.conn, None)
            except OSError:
                pass
        for w in workers:
            try:
                w.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                w.kill()

    @property
    def alive(self) -> int:
        with self._lock:
            return len(self._all)

    # -- jobs --------------------------------------------------------------------------------

    def _take(self, wait: float) -> _Worker:
        """An idle worker that is alive; one that died while idle is replaced, never
        handed the job (its death is not this request's failure)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                w = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise Problem(503, "busy", f"all {self.size} {self.name} workers stayed busy "
                              f"for {wait:g} s", hint="retry in a moment",
                              headers={"Retry-After": "1"}) from None
            if w.idle_and_alive():
                return w
            log.warning("a %s worker (pid %s) died while idle (%s); starting another",
                        self.name, w.pid, _exit_status(w.process))
            self._replace(w)

    def _died(self, w: _Worker) -> Problem:
        """The problem to report for a worker that died running a request."""
        status = _exit_status(w.process)
        self._replace(w)
        tail = getattr(w.process, "crinkkg_stderr", ())
        failed_allocation = [line.strip() for line in tail if "memory allocation of" in line]
        if failed_allocation:
            status += f" after '{failed_allocation[-1]}'"
        if w.process.returncode == -signal.SIGABRT and self.memory_mb > 0:
            return Problem(503, "memory-limit",
                           f"the {self.name} needs more than {self.memory_mb} MB of memory, "
                           "the limit of a query worker: it was stopped",
                           hint="narrow it (LIMIT, more specific patterns, no cross "
                                "products), or ask the operator for a larger "
                                "--worker-memory-mb", extra={"memory_limit_mb": self.memory_mb})
        log.error("a %s worker (pid %s) died running a request (%s)", self.name, w.pid, status)
        return Problem(503, "worker-crashed",
                       f"the {self.name} worker running this request died ({status}); the "
                       "server goes on and has started another",
                       hint="retry in a moment; if it happens again, the request itself "
                            "brings workers down: simplify it (and please report it)",
                       headers={"Retry-After": "1"}, extra={"worker_exit": status})

    def run(self, job: tuple, *, timeout: float, wait: float) -> tuple[tuple, float]:
        """Send ``job`` to an idle worker; return its reply and the seconds it took."""
        w = self._take(wait)
        started = time.perf_counter()
        with self._lock:
            self.busy += 1
        try:
            try:
                wire.send(w.conn, job)
                reply = wire.recv(w.conn, timeout)
            except wire.Timeout:
                reply = None
            except (EOFError, OSError):
                raise self._died(w) from None
            elapsed = time.perf_counter() - started
            if reply is None:
                self._replace(w)  # SIGKILL: pyoxigraph cannot be cancelled any other way
                raise Problem(503, "timeout",
                              f"the {self.name} was stopped after {elapsed:.2f} s: "
                              f"the limit is {timeout:g} s",
                              hint="narrow it (LIMIT, more specific patterns) or ask the "
                                   "operator for a longer --timeout",
                              extra={"elapsed_seconds": round(elapsed, 3),
                                     "timeout_seconds": timeout})
            w.jobs += 1
            self._idle.put(w)
            return reply, elapsed
        finally:
            with self._lock:
                self.busy -= 1


def _relay_stderr(process: subprocess.Popen) -> None:
    """Copy a worker's stderr to the server's, keeping its last lines on the process
    (``crinkkg_stderr``): Rust prints why it aborted ("memory allocation of N bytes
    failed") just before it does."""
    tail: collections.deque[str] = collections.deque(maxlen=8)
    process.crinkkg_stderr = tail  # type: ignore[attr-defined]
    stream = process.stderr

    def relay() -> None:
        assert stream is not None
        for raw in stream:
            tail.append(raw.decode("utf-8", "replace"))
            try:
                sys.stderr.buffer.write(raw)
                sys.stderr.flush()
            except (OSError, ValueError, AttributeError):
                pass
        stream.close()

    thread = threading.Thread(target=relay, name="crinkkg-worker-stderr", daemon=True)
    thread.start()
    process.crinkkg_relay = thread  # type: ignore[attr-defined]


def _exit_status(process: subprocess.Popen) -> str:
    """How a worker ended, in words (waits a moment for it to finish dying)."""
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return "it stopped answering and is being killed"
    relay = getattr(process, "crinkkg_relay", None)
    if relay is not None:
        relay.join(timeout=1)  # its last words, if any
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = {"SIGKILL": ": killed, by an operator or the system's out-of-memory killer",
               "SIGSEGV": ": a crash, such as a stack overflow",
               "SIGABRT": ": an abort, such as a failed memory allocation"}.get(name, "")
        return f"killed by {name}{why}"
    return f"exit code {code}"


class QueryEngine:
    """Evaluates queries and updates in killable worker processes."""

    def __init__(self, settings: Settings, *, start: bool = True,
                 broker: str | None = None, local_quads: int | None = None) -> None:
        """``broker``: the Unix socket of a :class:`~crinkkg.backends.embedded.broker.Broker` whose
        worker pools this engine uses (an HTTP process of a multi-process server) instead
        of starting its own. ``local_quads``: the largest store this process copies into
        memory for the lookups it answers itself (default ``settings.memory_quads``)."""
        self.settings = settings
        self.local_quads = settings.memory_quads if local_quads is None else local_quads
        self.link = Path(settings.store).absolute()
        self._admitted = 0
        self._admit_lock = threading.Lock()
        self.remote: RemotePool | None = None
        self.queries: WorkerPool | RemotePool
        self.updates: WorkerPool | RemotePool | None = None
        if broker is not None:
            from crinkkg.backends.embedded.broker import BrokerClient, RemotePool

            client = BrokerClient(broker)
            self.client: BrokerClient | None = client
            self.queries = self.remote = RemotePool(client, "query",
                                                    max(1, settings.query_workers))
            if settings.enable_update:
                self.updates = RemotePool(client, "update", 1)
        else:
            self.client = None
            self.queries = WorkerPool("query", self.link, max(1, settings.query_workers),
                                      (str(settings.memory_quads),
                                       str(settings.worker_memory_mb)),
                                      memory_mb=settings.worker_memory_mb)
            if settings.enable_update:
                self.updates = WorkerPool("update", self.link, 1)
        self._health_cache: tuple[str, tuple[dict[str, int], int]] | None = None
        self._local: CurrentStore | None = None  # the store as this process sees it
        self._started = False
        if start:
            self.start()

    def launch(self) -> None:
        """Start the worker processes without waiting for them (:meth:`start` waits)."""
        self.queries.launch()
        if self.updates is not None:
            self.updates.launch()

    def start(self) -> None:
        """Start the workers (opens the store; raises a Problem when it cannot)."""
        if self._started:
            return
        self.queries.start()
        if self.updates is not None:
            self.updates.start()
        if self.settings.inline_bytes > 0:  # open now, so its memory copy is made before use
            try:
                self._local_store()
            except (CrinkError, OSError) as exc:  # the workers answer everything then
                log.warning("cannot open the store in the server process: %s", exc)
        self._started = True
        ref = weakref.ref(self)
        atexit.register(lambda: ref() and ref().close())  # type: ignore[union-attr]

    def close(self) -> None:
        """Stop every worker process."""
        self.queries.close()
        if self.updates is not None:
            self.updates.close()

    # -- admission -------------------------------------------------------------------------

    def _admit(self) -> None:
        with self._admit_lock:
            if self._admitted >= self.settings.max_concurrent:
                raise Problem(503, "saturated",
                              f"the server is already running {self._admitted} queries, "
                              f"its limit", hint="retry in a moment",
                              headers={"Retry-After": "1"})
            self._admitted += 1

    def _leave(self) -> None:
        with self._admit_lock:
            self._admitted -= 1

    @property
    def in_flight(self) -> int:
        """Queries admitted and not yet answered (server-wide with a shared pool)."""
        if self.remote is not None:
            return self.remote.stats()["in_flight"] + self._admitted
        return self._admitted

    def after_fork(self) -> None:
        """In a forked HTTP process: the store handles and broker connections made before
        the fork are the parent's (its memory copy stays shared, copy-on-write)."""
        if self._local is not None:
            self._local.after_fork()
        elif self.settings.inline_bytes > 0:  # opened here, after the fork, never shared
            try:
                self._local_store()
            except (CrinkError, OSError) as exc:  # the workers answer everything then
                log.warning("cannot open the store in an HTTP process: %s", exc)

    def _run(self, pool: WorkerPool, job: tuple, timeout: float) -> Reply:
        self._admit()
        try:
            reply, elapsed = pool.run(job, timeout=timeout, wait=self.settings.queue_wait)
        finally:
            self._leave()
        if reply[0] != "ok":
            raise Problem.from_wire(reply)
        return Reply(reply[1], reply[2], reply[3], elapsed)

    # -- the protocol layer's entry points ---------------------------------------------------

    def query(self, sparql: str, *, view: View = "all", default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None, base_iri: str | None = None,
              accept: str | None = None, fmt: Override = None,
              max_rows: int | None = None) -> Reply:
        """Evaluate a query and serialise its result for this client (bytes)."""
        job = ("query", sparql, view, default_graphs, named_graphs, base_iri, accept, fmt,
               max_rows or self.settings.max_rows)
        form = single_pattern(sparql) if self.settings.inline_bytes > 0 else None
        if form is not None:
            reply = self._inline(job, form)
            if reply is not None:
                return reply
        return self._run(self.queries, job, self.settings.timeout)

    def _local_store(self) -> CurrentStore:
        local = self._local
        if local is None:
            with self._admit_lock:
                local = self._local = self._local or CurrentStore(self.link, self.local_quads)
        return local

    def _inline(self, job: tuple, form: str) -> Reply | None:
        """Answer a one-pattern query in this process (None: leave it to a worker).

        Its cost is proportional to its answer (:func:`single_pattern`), and the answer may
        take at most ``inline_bytes`` (nor more bytes than ``max_rows``, so that no row
        limit is skipped): bounded without a timeout, and without a round trip to a worker.
        """
        started = time.perf_counter()
        self._admit()
        try:
            store = self._local_store().current()
            reply = run_bounded_query(store, job, form, self.settings.inline_bytes)
        except OverBudget:
            return None
        except Problem:
            raise  # the client's mistake (syntax, format): the same answer a worker gives
        except Exception as exc:  # noqa: BLE001 (a worker answers, and reports what it finds)
            log.warning("answering in-process failed, a worker will: %s", exc)
            return None
        finally:
            self._leave()
        return Reply(reply[1], reply[2], reply[3], time.perf_counter() - started)

    def read_graph(self, graph: str | None, *, accept: str | None = None,
                   fmt: Override = None) -> Reply:
        """One named graph (or, for ``None``, the default graph: the union of all)."""
        job = ("graph", graph, accept, fmt, self.settings.max_rows)
        return self._run(self.queries, job, self.settings.timeout)

    def read_dataset(self, *, accept: str | None = None, fmt: str | None = None) -> Reply:
        """Every graph of the store (TriG or N-Quads)."""
        job = ("dataset", accept, fmt, self.settings.max_rows)
        return self._run(self.queries, job, self.settings.timeout)

    def graph_exists(self, graph: str) -> bool:
        """Whether the store lists the named graph ``graph``, empty or not."""
        return self._run(self.queries, ("exists", graph), self.settings.timeout).count == 1

    def update(self, sparql: str, *, column_shift: int = 0) -> Reply:
        """Apply an update; returns once the inferred graph is current and published."""
        if self.updates is None:
            raise Problem(403, "updates-disabled", "this server does not accept updates",
                          hint="start it with --enable-update and CRINKKG_UPDATE_TOKEN set")
        timeout = max(self.settings.update_timeout, self.settings.timeout)
        return self._run(self.updates, ("update", sparql, column_shift), timeout)

    # -- the contract other blueprints use ----------------------------------------------------

    def select_json(self, sparql: str, view: View = "all") -> dict:
        """SELECT results as parsed SPARQL 1.1 JSON."""
        return json.loads(self.query(sparql, view=view, fmt="json").body)

    def ask(self, sparql: str, view: View = "all") -> bool:
        """The boolean of an ASK query."""
        return bool(json.loads(self.query(sparql, view=view, fmt="json").body)["boolean"])

    def construct(self, sparql: str, fmt: ox.RdfFormat, view: View = "all") -> bytes:
        """CONSTRUCT/DESCRIBE results serialised in ``fmt``."""
        return self.query(sparql, view=view, fmt=_FORMAT_NAMES[fmt]).body

    # -- operations ------------------------------------------------------------------------

    def version(self) -> str:
        """The build directory the store link points at now (changes on build/update)."""
        return os.path.realpath(self.link)

    def _counts(self) -> tuple[dict[str, int], int]:
        """Triples per graph and in the asserted graphs' merge, cached per store version:
        a build or an update invalidates them."""
        version = os.path.realpath(self.link)
        cached = self._health_cache
        if cached is not None and cached[0] == version:
            return cached[1]
        # one row per graph: the client's row limit is not for these
        reply = self.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                           "GROUP BY ?g", fmt="json", max_rows=2**31)
        counts: dict[str, int] = {}
        for row in json.loads(reply.body)["results"]["bindings"]:
            counts[row["g"]["value"]] = int(row["n"]["value"])
        own = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", default_graphs=["default"],
                         fmt="json", max_rows=2**31)  # the store's own default graph
        n = int(json.loads(own.body)["results"]["bindings"][0]["n"]["value"])
        if n:
            counts[""] = n
        merged = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", view="asserted",
                            fmt="json", max_rows=2**31)
        asserted = int(json.loads(merged.body)["results"]["bindings"][0]["n"]["value"])
        self._health_cache = (version, (counts, asserted))
        return counts, asserted

    def graph_counts(self) -> dict[str, int]:
        """Triples per graph (``""`` is the store's own default graph); a triple held by
        two graphs is counted in each."""
        return dict(self._counts()[0])

    def triple_counts(self) -> dict[str, int]:
        """Distinct triples: ``asserted`` (the merge of the asserted graphs), ``inferred``
        and ``all`` (the default graph); every count the server shows comes from here."""
        counts, asserted = self._counts()
        inferred = counts.get(str(INFERRED_GRAPH), 0)
        return {"asserted": asserted, "inferred": inferred, "all": asserted + inferred}

    def health(self) -> dict:
        """Whether the store answers, which version is served and its triple counts."""
        counts = self.graph_counts()
        triples = self.triple_counts()
        return {"store": str(self.link), "version": Path(os.path.realpath(self.link)).name,
                "graphs": len(counts), "triples": triples["all"],
                "inferred_triples": triples["inferred"],
                "asserted_triples": triples["asserted"],
                "query_workers": self.queries.alive, "worker_restarts": self.queries.restarts,
                "http_process": os.getpid(),
                "in_process_answers_from": ("memory" if self._local and self._local.in_memory
                                            else "disk" if self._local else "off"),
                "updates_enabled": self.updates is not None}


def get_engine() -> QueryEngine:
    """The query engine of the current app."""
    from flask import current_app  # not at the top: workers import this module's package

    return current_app.extensions["crinkkg.engine"]
