"""``crinkkg serve``: the production WSGI server, one log line per request.

granian (``--front granian``, the default; :mod:`crinkkg.web.front`) runs the Flask app in
several HTTP processes; waitress (``--front waitress``) in threads of one process. Either
way the query backend's worker processes evaluate the queries, so the HTTP side only
parses, dispatches, answers lookups and writes.
"""

from __future__ import annotations

import signal
import sys

from waitress import create_server

from crinkkg.affinity import pin_server
from crinkkg.backends.contract import Backend
from crinkkg.errors import CrinkError
from crinkkg.problems import Problem
from crinkkg.settings import Settings
from crinkkg.web import create_app
from crinkkg.web.front import serve_granian
from crinkkg.web.http.guard import check_public_url

#: the HTTP servers ``crinkkg serve`` can run on (``--front``)
FRONTS = ("granian", "waitress")


def check_settings(settings: Settings) -> None:
    """Refuse settings that would make an unsafe or broken server."""
    if settings.enable_update and not settings.update_token:
        raise CrinkError("updates are enabled but no token is set",
                         hint="export CRINKKG_UPDATE_TOKEN=<a long random string> (every "
                              "update must send it as Authorization: Bearer <token>)")
    if settings.enable_update and len(settings.update_token or "") < 8:
        raise CrinkError("the update token is too short (fewer than 8 characters)",
                         hint="use a long random string, e.g. "
                              "python -c 'import secrets; print(secrets.token_urlsafe())'")
    if 0 < settings.worker_memory_mb < 256:
        raise CrinkError(f"--worker-memory-mb {settings.worker_memory_mb} is too small: a "
                         "query worker needs about 200 MB to open the store",
                         hint="give at least 256 (MB), or 0 for no limit")
    if settings.max_nesting < 1:
        raise CrinkError("--max-nesting must be at least 1", hint="e.g. --max-nesting 64")
    if settings.front not in FRONTS:
        raise CrinkError(f"--front {settings.front!r} is unknown",
                         hint="use " + " or ".join(FRONTS))
    if settings.http_processes < 1:
        raise CrinkError("--http-processes must be at least 1", hint="e.g. --http-processes 2")
    if settings.timeout <= 0:
        raise CrinkError("--timeout must be positive", hint="e.g. --timeout 30")
    if settings.public_url:
        wrong = check_public_url(settings.public_url)
        if wrong:
            raise CrinkError(f"--public-url {settings.public_url!r} is not usable: {wrong}",
                             hint="e.g. --public-url https://kg.example.org/")


def serve(settings: Settings, backend: Backend, *, build_error: str | None = None) -> None:
    """Serve the app over ``backend`` (made, not started) until interrupted (Ctrl-C or
    SIGTERM); stops the backend on exit.

    ``build_error``: the last build failed; the earlier store is served, marked stale.
    """
    check_settings(settings)
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
