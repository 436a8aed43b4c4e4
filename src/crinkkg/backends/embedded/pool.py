"""The query and update worker processes of the embedded backend: a fixed pool, each
worker killable (SIGKILL stops a query at once), restarted in the background.
"""

from __future__ import annotations

import collections
import logging
import queue
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from crinkkg import lifeline
from crinkkg.backends.embedded import channel as wire
from crinkkg.problems import Problem

log = logging.getLogger("crinkkg.backend")

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
            # started from the spawner thread: the worker dies with this process (SIGKILL
            # included), never with the thread that asked for it (lifeline.py)
            process = lifeline.spawn(lambda: subprocess.Popen(
                [sys.executable, "-m", "crinkkg.backends.embedded.worker", self.name,
                 str(child.fileno()), str(self.link), *self.args],
                pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, close_fds=True,
                stderr=subprocess.PIPE, start_new_session=False,
                env=lifeline.child_environment()))
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
        """Stop every worker, those still booting included."""
        self._closed = True
        booting, self._booting = self._booting, []
        for process, conn in booting:  # launched, never waited for: nothing to finish
            process.kill()
            conn.close()
            process.wait()
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
