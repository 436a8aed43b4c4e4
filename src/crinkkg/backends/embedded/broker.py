"""One pool of query workers for several HTTP processes, and their metrics in one place.

``crinkkg serve`` runs several HTTP processes (forked by granian after the store and the
app are loaded). Each would otherwise start its own query workers: the memory of the pool
multiplied by the number of HTTP processes, and the caps (``max_concurrent``) counted per
process. Instead the serving process keeps the one
:class:`~crinkkg.backends.embedded.pool.WorkerPool`
(killable workers, timeouts, restarts, admission) and a :class:`Broker` that HTTP
processes reach over a Unix socket (:mod:`crinkkg.backends.embedded.channel` messages):

- ``("run", role, job, timeout)`` -> ``("done", reply, seconds)``: a job for the query or
  update pool, admitted against the server-wide cap; ``reply`` is the worker's tuple or a
  :meth:`Problem.to_wire` (timeout, saturation, a worker that died);
- ``("stats",)`` -> ``("stats", {...})``: workers alive, restarts, queries in flight;
- ``("listen", pid)``: this connection is a process's metrics channel: the broker sends it
  ``("snapshot",)`` and reads back that process's counters;
- ``("collect",)`` -> ``("snapshots", [...])``: every live process's counters, for a
  ``/metrics`` that adds up the whole server.

Lookups answered in-process never cross it; a job that goes to a worker pays one more
local hop than in a single-process server (a Unix socket, no network).
An HTTP process reaches the pools through a :class:`BrokeredPool` each, which stands in for
a :class:`~crinkkg.backends.embedded.pool.WorkerPool`.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Protocol

from crinkkg.backends.embedded import channel as wire
from crinkkg.backends.embedded.pool import WorkerPool
from crinkkg.problems import Problem
from crinkkg.settings import Settings


class Pools(Protocol):
    """What the broker serves: the serving process's pools and admission (an
    :class:`~crinkkg.backends.embedded.backend.EmbeddedBackend`)."""

    queries: WorkerPool
    updates: WorkerPool | None
    settings: Settings

    @property
    def in_flight(self) -> int: ...

    def _admit(self) -> None: ...

    def _leave(self) -> None: ...

log = logging.getLogger("crinkkg.broker")

#: how long a metrics scrape waits for one HTTP process's counters
_SNAPSHOT_WAIT = 2.0


class Broker:
    """Serves the backend's worker pools to HTTP processes over a Unix socket (in the
    serving process, one thread per connection), and gathers every HTTP process's metrics.
    With ``backend`` None (a remote backend: no local workers) it only gathers metrics."""

    def __init__(self, backend: Pools | None, path: str) -> None:
        self.backend = backend
        self.path = path
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        os.chmod(path, 0o600)
        self._listener.listen(256)
        self._channels: dict[socket.socket, threading.Lock] = {}
        self._lock = threading.Lock()
        self._closed = False
        #: the HTTP processes that run, of how many (set by the front that forks them)
        self.census: Callable[[], dict] | None = None

    def start(self) -> None:
        """Accept connections in a background thread."""
        threading.Thread(target=self._accept, name="crinkkg-broker", daemon=True).start()

    def close(self) -> None:
        """Stop accepting; the HTTP processes are gone by then."""
        self._closed = True
        try:
            self._listener.close()
        except OSError:
            pass
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="crinkkg-broker-conn",
                             daemon=True).start()

    def _pool(self, role: str) -> WorkerPool:
        if self.backend is None:
            raise Problem(500, "internal", "this server has no local query workers",
                          hint="a bug: report it")
        pool = self.backend.updates if role == "update" else self.backend.queries
        if pool is None:
            raise Problem(403, "updates-disabled", "this server does not accept updates",
                          hint="start it with --enable-update and CRINKKG_UPDATE_TOKEN set")
        return pool

    def _run(self, role: str, job: tuple, timeout: float) -> tuple:
        started = time.perf_counter()
        try:
            pool = self._pool(role)
            assert self.backend is not None
            self.backend._admit()
            try:
                reply, _ = pool.run(job, timeout=timeout, wait=self.backend.settings.queue_wait)
            finally:
                self.backend._leave()
        except Problem as problem:
            reply = problem.to_wire()
        return ("done", reply, time.perf_counter() - started)

    def _serve(self, conn: socket.socket) -> None:
        try:
            while True:
                try:
                    message = wire.recv(conn)
                except (EOFError, OSError):
                    return
                kind = message[0]  # type: ignore[index]
                if kind == "run":
                    _, role, job, timeout = message  # type: ignore[misc]
                    answer: object = self._run(role, job, timeout)
                elif kind == "stats":
                    answer = ("stats", self.stats())
                elif kind == "collect":
                    answer = ("snapshots", self.collect())
                elif kind == "listen":
                    with self._lock:
                        self._channels[conn] = threading.Lock()
                    return  # the connection now belongs to collect()
                else:
                    answer = Problem(500, "internal", f"unknown message {kind!r}").to_wire()
                try:
                    wire.send(conn, answer)
                except OSError:
                    return
        finally:
            with self._lock:
                listening = conn in self._channels
            if not listening:
                conn.close()

    def stats(self) -> dict:
        """The shared pool as ``/health`` and ``/metrics`` show it, and the HTTP
        processes (``http_processes``, when the front reports them)."""
        backend = self.backend
        found: dict = {"channels": len(self._channels)}
        if self.census is not None:
            found["http_processes"] = self.census()
        if backend is not None:
            found.update(alive=backend.queries.alive, restarts=backend.queries.restarts,
                         size=backend.queries.size, in_flight=backend.in_flight)
        return found

    def collect(self) -> list[dict]:
        """Every live HTTP process's counters (one that does not answer is dropped)."""
        with self._lock:
            channels = list(self._channels.items())
        snapshots = []
        for conn, lock in channels:
            with lock:
                try:
                    wire.send(conn, ("snapshot",))
                    snapshots.append(wire.recv(conn, _SNAPSHOT_WAIT))
                    continue
                except (wire.Timeout, EOFError, OSError):
                    pass
            with self._lock:  # an HTTP process that died (it has been replaced)
                self._channels.pop(conn, None)
            conn.close()
        return snapshots  # type: ignore[return-value]


class BrokerClient:
    """An HTTP process's side: a few connections to the broker, one per request in
    flight (made on first use, so that a forked process never shares its parent's)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._idle: queue.SimpleQueue[socket.socket] = queue.SimpleQueue()
        self._pid = os.getpid()

    def _connect(self) -> socket.socket:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(self.path)
        except OSError as exc:
            conn.close()
            raise Problem(503, "store-unavailable",
                          f"the query workers cannot be reached ({exc.strerror})",
                          hint="the server is stopping or broken: check its log, restart "
                               "it") from None
        return conn

    def _take(self) -> socket.socket:
        if self._pid != os.getpid():  # forked: the parent's connections are not ours
            self._idle = queue.SimpleQueue()
            self._pid = os.getpid()
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._connect()

    def ask(self, message: tuple, timeout: float | None) -> tuple:
        """Send one message and wait for its answer (``timeout`` None: no limit)."""
        conn = self._take()
        try:
            wire.send(conn, message)
            answer = wire.recv(conn, timeout)
        except (wire.Timeout, EOFError, OSError):
            conn.close()
            raise Problem(503, "store-unavailable", "the query workers did not answer",
                          hint="retry in a moment; if it persists, check the server log",
                          headers={"Retry-After": "1"}) from None
        self._idle.put(conn)
        return answer  # type: ignore[return-value]

    def listen(self, snapshot: Callable[[], dict]) -> None:
        """Register this process's metrics with the broker (a thread answers scrapes)."""
        conn = self._connect()
        wire.send(conn, ("listen", os.getpid()))

        def serve() -> None:
            while True:
                try:
                    message = wire.recv(conn)
                except (EOFError, OSError):
                    return
                if message == ("snapshot",):
                    try:
                        wire.send(conn, snapshot())
                    except OSError:
                        return

        threading.Thread(target=serve, name="crinkkg-metrics-channel", daemon=True).start()


class BrokeredPool:
    """The broker's pool as an HTTP process sees it: stands in for a
    :class:`~crinkkg.backends.embedded.pool.WorkerPool` there, with the same ``run``,
    ``alive`` and ``restarts``, answered by the pool in the serving process."""

    def __init__(self, client: BrokerClient, role: str, size: int) -> None:
        self.client = client
        self.name = role
        self.size = size

    def launch(self) -> None:
        """The broker's process started the workers."""

    def start(self) -> None:
        """The broker's process started the workers."""

    def close(self) -> None:
        """The broker's process stops the workers."""

    def run(self, job: tuple, *, timeout: float, wait: float) -> tuple[tuple, float]:
        """Run ``job`` on the shared pool; its reply and the seconds it took."""
        # the broker stops the job at ``timeout``; the margin covers waiting for a worker
        answer = self.client.ask(("run", self.name, job, timeout), timeout + wait + 30)
        if answer[0] != "done":
            raise Problem.from_wire(answer)
        _, reply, seconds = answer
        return reply, seconds  # an error reply is raised by the backend, as a worker's is

    def stats(self) -> dict:
        """The broker's :meth:`Broker.stats`."""
        return self.client.ask(("stats",), 10)[1]  # type: ignore[return-value]

    @property
    def alive(self) -> int:
        return self.stats()["alive"]

    @property
    def restarts(self) -> int:
        return self.stats()["restarts"]
