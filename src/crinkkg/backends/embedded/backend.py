"""The embedded backend: the built Oxigraph store on this machine, behind the contract of
:mod:`crinkkg.backends.contract` (every method raises
:class:`~crinkkg.problems.Problem`: syntax error, timeout, saturation).

How it works: a pool of worker processes (:mod:`crinkkg.backends.embedded.worker`), each
with the store open read-only, evaluates queries and sends back serialised bytes. A request
thread takes an idle worker (waiting at most ``queue_wait`` seconds, else 503 with ``Retry-After``),
sends the job and waits at most ``timeout`` seconds for the answer. pyoxigraph cannot
cancel a query, so on timeout the worker is killed (SIGKILL stops the work at once) and a
fresh one is started in the background while the other workers keep answering.
Updates run in a separate single update worker that writes a copy of the store and swaps
it in atomically; query workers reopen the new version before their next job.

One exception: a query that is a single triple pattern (a lookup) costs time in
proportion to its answer, so this process answers it itself, reading at most
``inline_bytes`` of answer (a larger one goes to a worker). That needs no timeout and
saves the round trip to a worker, which was most of a lookup's cost. A query a worker
answered quickly is answered here too when the same request comes again for the same store
version (:mod:`crinkkg.backends.embedded.repeats`).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crinkkg.backends.changes import journal_feed
from crinkkg.backends.contract import Admission, QueryHelpers, Reply, bounded_limit
from crinkkg.backends.embedded.broker import Broker, BrokerClient, BrokeredPool
from crinkkg.backends.embedded.pool import WorkerPool
from crinkkg.backends.embedded.repeats import Known, Repeats
from crinkkg.backends.evaluation import OverBudget, run_bounded_query, run_query
from crinkkg.backends.search import uses_search
from crinkkg.errors import CrinkError, StoreError
from crinkkg.formats import Override
from crinkkg.problems import Problem
from crinkkg.settings import Settings
from crinkkg.sparqltext import single_pattern, transitive_path
from crinkkg.store.current import CurrentStore, link_target
from crinkkg.store.integrity import damaged_problem, known_damage
from crinkkg.store.journal import Journal, JournalDamaged, unpublished
from crinkkg.store.layout import StoreLayout
from crinkkg.views import View

log = logging.getLogger("crinkkg.backend")

class EmbeddedBackend(QueryHelpers):
    """The built store on this machine: queries and updates in killable worker processes
    (the default :class:`~crinkkg.backends.contract.Backend`)."""

    kind = "embedded"

    def __init__(self, settings: Settings, *, start: bool = True,
                 broker: str | None = None, local_quads: int | None = None) -> None:
        """``broker``: the Unix socket of a :class:`~crinkkg.backends.embedded.broker.Broker` whose
        worker pools this backend uses (an HTTP process of a multi-process server) instead
        of starting its own. ``local_quads``: the largest store this process copies into
        memory for the lookups it answers itself (default ``settings.memory_quads``)."""
        self.settings = settings
        self.local_quads = settings.memory_quads if local_quads is None else local_quads
        self.link = Path(settings.store).absolute()
        self._admission = Admission(settings.max_concurrent)
        self._admit_lock = threading.Lock()
        self.brokered: BrokeredPool | None = None
        self.queries: WorkerPool | BrokeredPool
        self.updates: WorkerPool | BrokeredPool | None = None
        if broker is not None:
            client = BrokerClient(broker)
            self.client: BrokerClient | None = client
            self.queries = self.brokered = BrokeredPool(client, "query",
                                                        max(1, settings.query_workers))
            if settings.enable_update:
                self.updates = BrokeredPool(client, "update", 1)
        else:
            self.client = None
            self.queries = WorkerPool("query", self.link, max(1, settings.query_workers),
                                      (str(settings.memory_quads),
                                       str(settings.worker_memory_mb),
                                       str(settings.search_limit)),
                                      memory_mb=settings.worker_memory_mb)
            if settings.enable_update:
                self.updates = WorkerPool("update", self.link, 1)
        self._local: CurrentStore | None = None  # the store as this process sees it
        self._damaged: tuple[str, str] | None = None  # (version, what is wrong with it)
        # the requests a worker showed cheap, answered here when asked again (None: off)
        self.repeats = Repeats(settings.inline_repeat_ms / 1000, settings.inline_bytes) \
            if settings.inline_repeat_ms > 0 and settings.inline_bytes > 0 else None
        self._next_damage_check = 0.0
        self.inline_answered = 0  # one-pattern queries answered in this process
        self._counted = threading.Lock()
        # False in the serving process of a multi-process front (see EmbeddedShare)
        self.answers_lookups = True
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
        if self.answers_lookups and self.settings.inline_bytes > 0:  # the copy is made now
            try:
                self._local_store()
            except (CrinkError, OSError) as exc:  # the workers answer everything then
                log.warning("cannot open the store in the server process: %s", exc)
        self._started = True
        ref = weakref.ref(self)
        atexit.register(lambda: ref() and ref().close())  # type: ignore[union-attr]

    @property
    def updates_enabled(self) -> bool:
        return self.updates is not None

    def gauges(self) -> dict[str, tuple[str, Callable[[], float]]]:
        return {
            "crinkkg_query_workers": ("Query worker processes alive.",
                                      lambda: self.queries.alive),
            "crinkkg_query_worker_restarts_total": (
                "Query workers replaced (after a timeout or a crash).",
                lambda: self.queries.restarts),
        }

    def counters(self) -> dict[str, tuple[str, Callable[[], float]]]:
        repeats = self.repeats
        return {
            "crinkkg_inline_answers_total": (
                "One-pattern queries answered in an HTTP process, without a query worker.",
                lambda: self.inline_answered),
            "crinkkg_repeat_answers_total": (
                "Queries asked again answered in an HTTP process (a query worker answered "
                "them first, within --inline-repeat-ms, on the same store version).",
                lambda: repeats.answered if repeats is not None else 0),
        }

    def peer_metrics(self) -> list[dict] | None:
        if self.client is None:
            return None
        return self.client.ask(("collect",), 10)[1]

    def share(self, folder: str) -> EmbeddedShare:
        """One worker pool for every HTTP process, reached through a broker socket."""
        return EmbeddedShare(self, folder)

    def close(self) -> None:
        """Stop every worker process."""
        self.queries.close()
        if self.updates is not None:
            self.updates.close()

    # -- admission -------------------------------------------------------------------------

    def _admit(self) -> None:
        self._admission.enter()

    def _leave(self) -> None:
        self._admission.leave()

    @property
    def in_flight(self) -> int:
        """Queries admitted and not yet answered (server-wide with a shared pool)."""
        if self.brokered is not None:
            return self.brokered.stats()["in_flight"] + self._admission.count
        return self._admission.count

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
        self._refuse_if_damaged()
        self._admit()
        try:
            reply, elapsed = pool.run(job, timeout=timeout, wait=self.settings.queue_wait)
        except Problem as problem:
            raise self._explained(problem) from None
        finally:
            self._leave()
        if reply[0] != "ok":
            raise self._explained(Problem.from_wire(reply))
        return Reply(reply[1], reply[2], reply[3], elapsed)

    # -- a damaged store ---------------------------------------------------------------------

    #: the answers that damaged database files can cause (an allocation of garbage size,
    #: a crash, a worker that cannot open the store, an engine error)
    _DAMAGE_SIGNS = frozenset({"memory-limit", "worker-crashed", "store-unavailable",
                               "internal", "store-damaged"})

    def _explained(self, problem: Problem) -> Problem:
        """``problem``, or 503 ``store-damaged`` when the served version's files no longer
        match their record (checked again now: damage hides behind these answers)."""
        if problem.kind not in self._DAMAGE_SIGNS:
            return problem
        version = os.path.realpath(self.link)
        found = known_damage(version, again=True)
        if found is None:
            return problem
        self._damaged = (version, found)
        log.error("the store version %s is damaged: %s", Path(version).name, found)
        return damaged_problem(found)

    #: how often a process looks at the served version's files (their sizes and times;
    #: their contents again only when these changed): damage found by another HTTP
    #: process, or by /health, is refused here within this many seconds
    _DAMAGE_CHECK_SECONDS = 1.0

    def _refuse_if_damaged(self) -> None:
        """Answer nothing from a version known to be damaged (its answers may be wrong
        without any error); a new version (a rebuild) is served at once."""
        now = time.monotonic()
        if now >= self._next_damage_check:
            self._next_damage_check = now + self._DAMAGE_CHECK_SECONDS
            version = os.path.realpath(self.link)
            found = known_damage(version)
            self._damaged = (version, found) if found is not None else None
        damaged = self._damaged
        if damaged is not None:
            if os.path.realpath(self.link) == damaged[0]:
                raise damaged_problem(damaged[1])
            self._damaged = None

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
        repeats = self.repeats if self.answers_lookups and not uses_search(sparql) else None
        if repeats is None:
            return self._run(self.queries, job, self.settings.timeout)
        key = (*job[:3], _frozen(job[3]), _frozen(job[4]), *job[5:])
        before = link_target(self.link)
        known = repeats.cheap(key, before)
        if known is not None:
            reply = self._repeat(job, known, before)
            if reply is not None:
                return reply
        reply = self._run(self.queries, job, self.settings.timeout)
        if link_target(self.link) == before:  # the worker answered from this version
            repeats.worker_answered(key, before, reply.seconds, reply.body)
        return reply

    def _repeat(self, job: tuple, known: Known, version: str) -> Reply | None:
        """Answer here a request a worker answered cheaply on ``version`` (None: leave it
        to a worker: the store here is of another version, or the answer differs)."""
        assert self.repeats is not None
        started = time.perf_counter()

        def answer(local: CurrentStore) -> tuple | None:
            if known.transitive is None:
                known.transitive = transitive_path(job[1])
            store = local.current(transitive=known.transitive)  # as a worker chooses it
            return None if local.opened != version else (store, run_query(store, job))

        found = self._here(answer)
        if found is None:
            return None
        store, reply = found
        elapsed = time.perf_counter() - started
        if not self.repeats.answered_here(known, store, reply[2], elapsed):
            return None
        return Reply(reply[1], reply[2], reply[3], elapsed)

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

        def answer(local: CurrentStore) -> tuple:
            store = local.current()
            # from a memory copy, a lookup is answered faster by an index scan than by the
            # SPARQL engine's parse and plan; from the database, slower (bench/README.md
            # measures both)
            return run_bounded_query(store, job, form, self.settings.inline_bytes,
                                     lookups=not store.on_disk)

        reply = self._here(answer)
        if reply is None:
            return None
        with self._counted:
            self.inline_answered += 1
        return Reply(reply[1], reply[2], reply[3], time.perf_counter() - started)

    def _here(self, answer: Callable[[CurrentStore], Any]) -> Any:
        """``answer`` run on this process's store, admitted as any query is; None when a
        worker must answer instead (over the in-process budget, or failing here)."""
        self._refuse_if_damaged()
        self._admit()
        try:
            return answer(self._local_store())
        except OverBudget:
            return None
        except Problem:
            raise  # the client's mistake (syntax, format, too many rows): a worker says it too
        except Exception as exc:  # noqa: BLE001 (a worker answers, and reports what it finds)
            log.warning("answering in-process failed, a worker will: %s", exc)
            return None
        finally:
            self._leave()

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

    def changes(self, since: str | None = None) -> Reply:
        return journal_feed(self.link, since)

    # -- full-text search --------------------------------------------------------------------

    def search(self, text: str, *, scope: str = "all", limit: int | None = None,
               offset: int = 0) -> dict:
        """Search the index of the version a query worker serves, in that worker: the
        same admission, timeout and version as a query."""
        job = ("search", text, scope, bounded_limit(limit, self.settings.search_limit),
               max(0, offset))
        return json.loads(self._run(self.queries, job, self.settings.timeout).body)

    def complete(self, prefix: str, *, limit: int | None = None) -> dict:
        """The editor's completion of ``prefix``, from the index of the version served."""
        job = ("complete", prefix, bounded_limit(limit, self.settings.search_limit))
        return json.loads(self._run(self.queries, job, self.settings.timeout).body)

    # -- operations ------------------------------------------------------------------------

    def version(self) -> str:
        """The build directory the store link points at now (changes on build/update)."""
        return os.path.realpath(self.link)

    def health(self) -> dict:
        """Whether the store answers, which version is served and its triple counts; 503
        ``store-damaged`` when its files no longer match their record."""
        version = os.path.realpath(self.link)
        found = known_damage(version)
        if found is not None:
            self._damaged = (version, found)
            raise damaged_problem(found)
        counts = self.graph_counts()
        triples = self.triple_counts()
        shared = self.brokered.stats() if self.brokered is not None else \
            {"alive": self.queries.alive, "restarts": self.queries.restarts}
        info = {"store": str(self.link), "version": Path(os.path.realpath(self.link)).name,
                "graphs": len(counts), "triples": triples["all"],
                "inferred_triples": triples["inferred"], "support_triples": triples["support"],
                "asserted_triples": triples["asserted"],
                "query_workers": shared["alive"], "worker_restarts": shared["restarts"],
                "http_process": os.getpid(),
                "in_process_answers_from": ("memory" if self._local and self._local.in_memory
                                            else "disk" if self._local else "off"),
                "updates_enabled": self.updates is not None, "journal": self._journal_state()}
        if "http_processes" in shared:  # several HTTP processes: how many run
            info["http_processes"] = shared["http_processes"]
        return info

    def _journal_state(self) -> dict:
        """How many acknowledged writes the journal holds, and whether the store version
        served holds the newest of them (a rebuild replays them all)."""
        try:
            record = StoreLayout(self.link).build_record()
        except StoreError:
            record = {}
        try:
            ids = Journal(self.link).ids()
        except JournalDamaged as exc:
            return {"status": "damaged", "message": exc.message}
        ids = ids[:len(ids) - len(unpublished(ids, record))]  # never published: not writes
        head = ids[-1] if ids else None
        return {"status": "ok", "writes": len(ids), "newest": head,
                "in_store": head == record.get("journal")}


def _frozen(graphs: list[str] | None) -> tuple[str, ...] | None:
    return None if graphs is None else tuple(graphs)


class EmbeddedShare:
    """One worker pool for every HTTP process: the serving process keeps the pool
    (killable workers, timeouts, restarts, admission) behind a :class:`Broker` socket;
    each HTTP process's backend reaches it there, and answers lookups itself from its own
    view of the store, opened after the fork: the database at once, then a memory copy
    made in the background when the store has at most ``front_memory_quads`` quads."""

    def __init__(self, backend: EmbeddedBackend, folder: str) -> None:
        settings = backend.settings
        self.backend = backend
        # the serving process answers no query itself, so it opens no store of its own: a
        # memory copy there would be inherited by every HTTP process forked from it and
        # counted in each one's RSS
        backend.answers_lookups = False
        self.broker = Broker(backend, os.path.join(folder, "broker.sock"))
        self.front = EmbeddedBackend(settings, start=False, broker=self.broker.path,
                                     local_quads=settings.front_memory_quads)

    def start(self) -> None:
        # the HTTP processes open the store after the fork (a RocksDB handle does not
        # survive one), each with its own memory copy: one made here before the fork
        # would be shared, but the fork, and so the server's start-up, would wait for it
        self.broker.start()

    def report_processes(self, census: Callable[[], dict]) -> None:
        self.broker.census = census

    def in_child(self, snapshot) -> None:
        self.front.after_fork()
        assert self.front.client is not None
        self.front.client.listen(snapshot)

    def close(self) -> None:
        self.broker.close()
