"""``crinkkg serve``: the production WSGI server, one log line per request.

granian (``--front granian``, the default; :mod:`crinkkg.web.front`) runs the Flask app in
several HTTP processes; waitress (``--front waitress``) in threads of one process. Either
way the backend evaluates the queries (the embedded one in its query worker processes, a
remote one in its store), so the HTTP side only parses, dispatches, answers lookups and
writes.
"""

from __future__ import annotations

import signal
import sys

from waitress import create_server

from crinkkg.affinity import pin_server
from crinkkg.backends.contract import Backend
from crinkkg.errors import CrinkError
from crinkkg.problems import Problem
from crinkkg.settings import Settings, check_serving
from crinkkg.web import create_app
from crinkkg.web.front import serve_granian
from crinkkg.web.http.guard import check_public_url


def serve(settings: Settings, backend: Backend, *, build_error: str | None = None) -> None:
    """Serve the app over ``backend`` (made, not started) until interrupted (Ctrl-C or
    SIGTERM); stops the backend on exit.

    ``build_error``: the last build failed; the earlier store is served, marked stale.
    """
    check_serving(settings, url_problem=check_public_url)
    if settings.front == "granian":
        def announce(host: str, port: int) -> None:
            _announce(settings, host, port, f"granian, {settings.http_processes} HTTP "
                      f"processes x {settings.http_threads} threads", build_error)

        serve_granian(settings, backend, build_error=build_error, announce=announce)
        return
    _serve_waitress(settings, backend, build_error=build_error)


def _announce(settings: Settings, host: str, port: int, how: str,
              build_error: str | None) -> None:
    mode = "read-write (updates need the bearer token)" if settings.enable_update \
        else "read-only"
    shown = f"[{host}]" if ":" in host else host
    print(f"crinkkg serving http://{shown}:{port}/sparql ({mode}; {how}, "
          f"{settings.query_workers} query workers, timeout {settings.timeout:g} s)",
          file=sys.stderr, flush=True)
    if build_error:
        print("crinkkg serving a STALE store: the last build failed (see above); /health "
              "says so until the inputs are fixed, rebuilt and the server restarted",
              file=sys.stderr, flush=True)


def _serve_waitress(settings: Settings, backend: Backend, *,
                    build_error: str | None = None) -> None:
    """One process of waitress threads (``--front waitress``), pinned to one CPU."""
    cpu = pin_server() if settings.pin_cpu else None  # before any thread or worker starts
    backend.launch()  # the workers boot while the web app is imported
    try:
        app = create_app(settings, backend, build_error=build_error, access_log=sys.stderr)
        backend.start()
    except Problem as problem:  # a query worker could not open the store
        backend.close()
        raise CrinkError(f"cannot start the query workers: {problem.message}",
                         hint="rebuild the store with `crinkkg build`") from None
    try:
        server = create_server(
            app, host=settings.host, port=settings.port,
            threads=settings.http_threads,
            ident="crinkkg", channel_timeout=max(120, int(settings.timeout) + 30),
            connection_limit=max(100, settings.max_concurrent * 4),
            max_request_body_size=settings.max_body_bytes * 4 + 65536,
            clear_untrusted_proxy_headers=True)
    except OSError as exc:
        backend.close()
        raise CrinkError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}",
                         hint="choose another --port, or stop what is using it") from None

    def stop(_signum, _frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    host, port = server.effective_host, server.effective_port  # type: ignore[union-attr]
    where = f" on CPU {cpu}" if cpu is not None else ""
    _announce(settings, str(host), int(port), f"waitress, {settings.http_threads} threads{where}",
              build_error)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        backend.close()
