"""A command that reads the store runs under the query workers' memory bound.

Damaged database files can make the engine allocate without end (a garbage length read
as a size), and a query can need more memory than the machine has; a query worker is
bounded by ``--worker-memory-mb`` (:func:`~crinkkg.backends.embedded.worker.limit_memory`),
and so is a command: :func:`bound_memory` forks, the child goes on with the command under
the limit, and the parent waits. Past the limit Rust aborts the child (it cannot raise):
the parent then says why, in words (the store damaged, or the memory the command needed),
with the exit status of a store error (5) or of any other error (1), instead of Rust's
"memory allocation of N bytes failed" and a core dump.

The build a command starts first (the store is stale) is not a query and is not bounded
so, as ``crinkkg build`` and ``crinkkg serve``'s build are not: it needs several times what
a query worker does (docs/updates-and-safety.md). :func:`build_apart` runs it in a child of
its own before the bounded child is forked.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import click

from crinkkg.backends.embedded.worker import limit_memory
from crinkkg.errors import CrinkError
from crinkkg.store.integrity import StoreDamaged, damage, explains

#: the lines Rust's runtime prints as it aborts or panics: the parent says it in words
_RUNTIME_NOISE = re.compile(
    r"^(memory allocation of \d+ bytes failed|skipping backtrace printing|stack backtrace:"
    r"|note: (run with `RUST_BACKTRACE|Some details are omitted)|thread '.*' panicked at"
    r"|\s+\d+: |\s+at )")


#: set in the bounded child, so that a second call there does not fork again
_CHILD = "CRINKKG_BOUNDED_CHILD"


def bound_memory(memory_mb: int, store: Path) -> None:
    """Go on in a child process bounded to ``memory_mb`` MB of data memory (0: no bound,
    nothing forks); this process waits for it, exits with its status and explains an
    abort. ``store``: the store link, checked for damage when the child dies.

    Call it before anything opens a database in this process (a build does): RocksDB's
    threads do not survive a fork, and the child would crash as it exits."""
    if os.environ.get(_CHILD) == str(os.getpid()) or memory_mb <= 0 \
            or not hasattr(os, "fork"):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the command goes on, its stderr through the parent
        os.environ[_CHILD] = str(os.getpid())
        os.close(read)
        os.dup2(write, 2)
        os.close(write)
        os.environ["RUST_BACKTRACE"] = "0"
        limit_memory(memory_mb)
        return
    os.close(write)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the child; it reports
    failed_allocation = _relay(read)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        sys.exit(code)
    found = damage(Path(os.path.realpath(store)))
    if found is not None:
        error: CrinkError = StoreDamaged(found)
    elif failed_allocation or -code in (signal.SIGABRT, signal.SIGKILL):
        error = CrinkError(
            f"the command needed more than {memory_mb} MB of memory, the bound of a query "
            "worker, and was stopped", hint="narrow the query (LIMIT, more specific "
            "patterns, no cross products), or give more: --worker-memory-mb / "
            "CRINKKG_WORKER_MEMORY_MB (0: no bound)")
    else:
        error = CrinkError(f"the command crashed ({signal.Signals(-code).name})",
                           hint="simplify the query; if it happens again, please report it")
    click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


def build_apart(memory_mb: int, build: Callable[[], object]) -> None:
    """Run ``build`` outside the memory bound (``memory_mb``, 0: none) of what follows.

    With a bound, in a child process of its own that this process waits for: the build
    opens the store for writing, and RocksDB's threads do not survive a fork, so this
    process opens no database before :func:`bound_memory` forks the bounded child. An
    error in the build ends the child as it would have ended this process (the command's
    own message and exit status), and this process exits with the same status."""
    if os.environ.get(_CHILD) == str(os.getpid()) or memory_mb <= 0 \
            or not hasattr(os, "fork"):
        build()
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # an error goes up the command's own handling, which exits this child
        build()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # the rest of the command is the parent's
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the child
    _, status = os.waitpid(pid, 0)
    signal.signal(signal.SIGINT, previous)
    code = os.waitstatus_to_exitcode(status)
    if code > 0:
        sys.exit(code)
    if code < 0:
        error = CrinkError(f"the build was stopped ({signal.Signals(-code).name})",
                           hint="run `crinkkg build` to see why")
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)


def _relay(fd: int) -> bool:
    """Copy the child's stderr to ours, without the runtime's abort noise; whether an
    allocation failed."""
    failed = False
    with os.fdopen(fd, "rb") as stream:
        for raw in stream:
            line = raw.decode("utf-8", "replace")
            if _RUNTIME_NOISE.match(line):
                failed = failed or line.startswith("memory allocation of")
                continue
            sys.stderr.buffer.write(raw)
            sys.stderr.flush()
    return failed


def explained(exc: BaseException, store: Path) -> CrinkError | None:
    """A :class:`StoreDamaged` for an engine error that damaged files explain (or that
    RocksDB reports as corruption); None for any other error."""
    found = explains(exc, os.path.realpath(store))
    return None if found is None else StoreDamaged(found)
