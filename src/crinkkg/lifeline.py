"""Child processes that die with the server, whatever kills it (``kill -9`` included).

A process whose parent dies is adopted by init and goes on: an HTTP process would keep
answering on the port (and a restarted server would share it with it), a query worker
would keep running its query, an update worker would publish an update nobody will hear
of (issue 23). On Linux the kernel sends a child a chosen signal when its parent dies
(``prctl(PR_SET_PDEATHSIG)``), so every child of ``crinkkg serve`` asks for SIGKILL:
nothing in the child has to run for it to stop, not even a thread that a query in Rust
keeps from the GIL.

The kernel's "parent" is the *thread* that forked the child, not the process: a worker
started from a short-lived thread would be killed when that thread ends. So the server
starts its worker processes from one thread that lives as long as the process
(:func:`spawn`), and granian forks the HTTP processes from its main thread.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from queue import SimpleQueue
from typing import TypeVar

#: the variable through which a worker learns which process must outlive it
PARENT_ENV = "CRINKKG_PARENT_PID"

_PR_SET_PDEATHSIG = 1

T = TypeVar("T")


def _prctl_pdeathsig(sig: int) -> bool:
    """Ask the kernel for ``sig`` when the parent (thread) dies; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        # the process's own symbols hold libc's (find_library runs ldconfig: milliseconds
        # on each process's start)
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent: int, sig: int = signal.SIGKILL) -> None:
    """End this process with ``sig`` as soon as process ``parent`` (its parent) dies.

    Where the kernel cannot do it (not Linux), a thread watches the parent's pid instead,
    ten times a second. Either way a parent already gone by now ends this process at
    once.
    """
    if not _prctl_pdeathsig(sig):
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.1)
            os.kill(os.getpid(), sig)

        threading.Thread(target=watch, name="crinkkg-lifeline", daemon=True).start()
    if os.getppid() != parent:  # it died before we asked: nobody would signal us
        os.kill(os.getpid(), sig)


def die_with_parent_from_env() -> None:
    """In a worker process: :func:`die_with_parent` for the pid its server passed it in
    ``CRINKKG_PARENT_PID`` (nothing when run by hand, without it)."""
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        die_with_parent(int(parent))


class _Spawner:
    """One long-lived thread that runs every process start of this process."""

    def __init__(self) -> None:
        self._jobs: SimpleQueue[tuple[Callable[[], object], Future]] = SimpleQueue()
        self._pid = -1
        self._lock = threading.Lock()

    def _run(self) -> None:
        while True:
            job, future = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(job())
                except BaseException as exc:  # noqa: BLE001 (handed to the caller)
                    future.set_exception(exc)

    def submit(self, job: Callable[[], T]) -> T:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked copy: no thread here yet
                self._pid = os.getpid()
                self._jobs = SimpleQueue()
                threading.Thread(target=self._run, name="crinkkg-spawner", daemon=True).start()
        future: Future = Future()
        self._jobs.put((job, future))
        return future.result()


_spawner = _Spawner()


def spawn(start: Callable[[], T]) -> T:
    """Run ``start`` (which starts a child process, e.g. ``subprocess.Popen``) in this
    process's spawner thread and return what it returns: a child that asks to die with
    its parent then dies with this process, not with the calling thread."""
    return _spawner.submit(start)


def child_environment() -> dict[str, str]:
    """The environment for a child that calls :func:`die_with_parent_from_env`."""
    return {**os.environ, PARENT_ENV: str(os.getpid())}
