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

import gc
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Callable

from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

from crinkkg.backends.contract import Backend
from crinkkg.errors import CrinkError
from crinkkg.problems import Problem
from crinkkg.settings import Settings
from crinkkg.web import create_app

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


def reserve_port(address: str, port: int) -> socket.socket:
    """Bind ``address:port`` (0: a free port) with ``SO_REUSEPORT`` and keep it bound, not
    listening: the port is ours, and granian's processes bind it beside us."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        raise CrinkError(f"cannot listen on {address}:{port}: {exc.strerror}",
                         hint="choose another --port, or stop what is using it") from None
    return sock


def serve_granian(settings: Settings, backend: Backend, *, build_error: str | None = None,
                  announce: Callable[[str, int], None]) -> None:
    """Serve until SIGTERM or Ctrl-C with ``settings.http_processes`` granian processes."""
    address = _address(settings.host)
    reserved = reserve_port(address, settings.port)
    port = reserved.getsockname()[1]
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
        raise CrinkError(f"cannot start the query workers: {problem.message}",
                         hint="rebuild the store with `crinkkg build`") from None
    except BaseException:
        share.close()
        backend.close()
        reserved.close()
        raise
    metrics = app.context.metrics

    def load(_target: str) -> Callable:
        """Runs in each HTTP process, just after the fork."""
        share.in_child(metrics.snapshot)
        return app

    server = Granian(
        "crinkkg", address=address, port=port, interface=Interfaces.WSGI,
        workers=settings.http_processes, blocking_threads=settings.http_threads,
        backpressure=max(settings.http_threads, settings.max_concurrent * 4),
        respawn_failed_workers=True, respawn_interval=0.5, workers_kill_timeout=30,
        log_level=LogLevels.error, log_access=False)
    announce(address, port)
    gc.collect()
    gc.freeze()  # what is loaded now stays out of the collector: its pages stay shared
    try:
        server.serve(target_loader=load)
    finally:
        share.close()
        backend.close()
        reserved.close()
        try:
            os.rmdir(folder)
        except OSError:
            pass
        sys.stderr.flush()
