"""``crinkkg serve`` on granian: several HTTP processes forked after loading, one pool of
query workers.

Lookups are bound by the Python HTTP stack (``bench/README.md``): granian parses HTTP in
Rust and runs the WSGI app in several processes, so the GIL of one no longer caps the
server. The order of events keeps memory and the caps shared:

1. this process starts the backend and asks it to share itself
   (:meth:`~crinkkg.backends.contract.Backend.share`): the embedded backend keeps one pool
   of query workers (killable timeouts, restarts, memory limits) and the server-wide
   admission cap behind a broker socket; it makes the Flask app over the shared backend
   and reserves the port;
2. granian forks the HTTP processes: they share the app's code, open the store for the
   lookups they answer themselves (the database at once, then a memory copy of their own
   made in the background, ``--front-memory-quads``), reach the backend through what it
   shared, write the access log to the one inherited stderr, and are replaced when one
   dies;
3. SIGTERM or Ctrl-C: granian stops the HTTP processes (requests in flight finish), then
   this process stops the backend.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import logging
import os
import resource
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from typing import IO

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels

from crinkkg import lifeline
from crinkkg.backends.contract import Backend
from crinkkg.errors import CrinkError
from crinkkg.problems import Problem
from crinkkg.settings import Settings
from crinkkg.web import create_app
from crinkkg.web.supervisor import Census, SupervisedGranian

log = logging.getLogger("crinkkg.front")

def _address(host: str) -> str:
    """The IP address to bind (granian wants an address, not a name)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CrinkError(f"cannot listen on {host}: {exc.strerror}",
                         hint="give --host an IP address or a name this machine "
                              "resolves") from None
    return infos[0][4][0]


def hold_port(address: str, port: int, wait: float = 3.0) -> IO[str]:
    """Lock ``address:port`` against another crinkkg server on this machine, for as long
    as the returned file is open (the kernel lets go when the holder dies).

    Two sockets bound and not yet listening do not conflict, so two servers started
    together could both reserve the port and share it once they listen: the lock closes
    that window (other programs are caught by the bind, once they listen).
    """
    name = f"crinkkg-port-{address.replace(':', '_')}-{port}.lock"
    handle = open(os.path.join(tempfile.gettempdir(), name), "w")  # noqa: SIM115
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                raise CrinkError(
                    f"cannot listen on {address}:{port}: another crinkkg server is starting "
                    "or serving on it", hint="choose another --port, or stop that server "
                    "(`ss -ltnp` shows it)") from None
            time.sleep(0.1)


def reserve_port(address: str, port: int, wait: float = 3.0) -> socket.socket:
    """Bind ``address:port`` (0: a free port) and keep it bound, not listening: the port is
    ours, and granian's processes bind it beside us (``SO_REUSEPORT``).

    The bind itself is exclusive: ``SO_REUSEPORT`` is set only once the port is ours. Set
    before, it would let this server share a port with any process of the same user
    listening there, such as an earlier server's HTTP process that outlived it: a share
    of the new server's requests would go to it (issue 23). A port that is busy is tried
    again for ``wait`` seconds (an earlier server's processes take up to a second to
    exit after it), then refused.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    deadline = time.monotonic() + wait
    while True:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        try:
            sock.bind((address, port))
            break
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE and port and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            busy = exc.errno == errno.EADDRINUSE
            raise CrinkError(
                f"cannot listen on {address}:{port}: "
                + ("another process is listening on it (an earlier crinkkg server still "
                   "stopping? another server?)" if busy else str(exc.strerror)),
                hint="choose another --port, or stop what is using it (`ss -ltnp` shows "
                     "it)") from None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def raise_file_limit(connections: int) -> None:
    """Room for ``connections`` sockets in each HTTP process: the soft limit of open files
    up to the hard one (the soft default, 1,024 on many systems, is below a busy HTTP
    process's connections); a warning when the hard limit is lower still."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = connections + 256  # the store's files, the broker's sockets, the log
    if soft != resource.RLIM_INFINITY and soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(hard, max(want, soft))
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            target = soft
        if target < want:
            log.warning("crinkkg: %s open files per process allow fewer than the %s "
                        "connections of --http-connections; raise the limit (ulimit -n) "
                        "or lower --http-connections", target, connections)


def serve_granian(settings: Settings, backend: Backend, *, build_error: str | None = None,
                  announce: Callable[[str, int], None]) -> None:
    """Serve until SIGTERM or Ctrl-C with ``settings.http_processes`` granian processes."""
    address = _address(settings.host)
    reserved = reserve_port(address, settings.port)
    port = reserved.getsockname()[1]
    try:
        lock = hold_port(address, port)
    except CrinkError:
        reserved.close()
        raise
    backend.launch()  # the workers boot while the rest is set up
    folder = tempfile.mkdtemp(prefix="crinkkg-serve-")
    share = backend.share(folder)
    try:
        app = create_app(settings, share.front, build_error=build_error,
                         access_log=sys.stderr)
        backend.start()
        share.start()
    except Problem as problem:  # a query worker could not open the store
        share.close()
        backend.close()
        reserved.close()
        lock.close()
        raise CrinkError(f"cannot start the query workers: {problem.message}",
                         hint="rebuild the store with `crinkkg build`") from None
    except BaseException:
        share.close()
        backend.close()
        reserved.close()
        lock.close()
        raise
    metrics = app.context.metrics
    census = Census(settings.http_processes)
    share.report_processes(census)
    serving = os.getpid()

    def load(_target: str) -> Callable:
        """Runs in each HTTP process, just after the fork."""
        lifeline.die_with_parent(serving)  # never answer once the serving process is gone
        reserved.close()  # the serving process's: the port is free once it is gone
        share.in_child(metrics.snapshot)
        return app

    raise_file_limit(settings.http_connections)
    server = SupervisedGranian(
        "crinkkg", address=address, port=port, interface=Interfaces.WSGI,
        workers=settings.http_processes, blocking_threads=settings.http_threads,
        # connections held at once, idle ones included (it was --max-concurrent x 4 = 64
        # per process, and 128 idle clients stopped the server: issue 23); requests beyond
        # the threads wait in line, and the server-wide cap on queries stays the broker's
        backpressure=settings.http_connections,
        # HTTP/1.1 only: granian's "auto" mode waits for a first byte to tell HTTP/1.1
        # from HTTP/2 with no timer, so a socket that never sends one was held for ever;
        # in HTTP/1.1 mode the header timeout runs from the accept (nothing here speaks
        # cleartext HTTP/2, which is all "auto" added)
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(
            header_read_timeout=int(settings.header_timeout * 1000)),
        # a dead HTTP process is replaced by SupervisedGranian's own loop, not granian's
        respawn_interval=0.5, workers_kill_timeout=30,
        log_level=LogLevels.error, log_access=False, census=census)
    announce(address, port)
    gc.collect()
    gc.freeze()  # what is loaded now stays out of the collector: its pages stay shared
    try:
        server.serve(target_loader=load)
    finally:
        share.close()
        backend.close()
        reserved.close()
        lock.close()
        try:
            os.rmdir(folder)
        except OSError:
            pass
        sys.stderr.flush()
