"""``crinkkg serve``: the production WSGI server, one log line per request.

granian (``--front granian``, the default; :mod:`crinkkg.web.front`) runs the Flask app in
several HTTP processes; waitress (``--front waitress``) in threads of one process. Either
way the query engine's worker processes evaluate the queries, so the HTTP side only
parses, dispatches, answers lookups and writes.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable, Iterable
from urllib.parse import unquote

from crinkkg.errors import CrinkError
from crinkkg.problems import Problem
from crinkkg.settings import Settings

log = logging.getLogger("crinkkg.access")

#: the HTTP servers ``crinkkg serve`` can run on (``--front``)
FRONTS = ("granian", "waitress")


#: control characters as escapes in the access log: one request, one line
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(32), 127)}


class AccessLog:
    """WSGI middleware: one line per request (client, request line, status, bytes, time).

    It returns the app's iterable itself (or a thin wrapper), never a generator of its
    own: granian reads the status as soon as the app returns, so ``start_response`` must
    have been called by then, as PEP 3333 allows servers to expect.
    """

    def __init__(self, app: Callable, stream=None) -> None:
        self.app = app
        self.stream = stream or sys.stderr

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        seen: dict[str, object] = {}

        def recording_start(status: str, headers: list, exc_info=None):
            seen["status"] = status.split(" ", 1)[0]
            for key, value in headers:
                if key.lower() == "content-length":
                    seen["length"] = value
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, recording_start)
        except BaseException:
            self._write(environ, seen, started)
            raise
        if isinstance(body, list):  # complete already (the fast path's answers)
            self._write(environ, seen, started)
            return body
        return _Logged(body, lambda: self._write(environ, seen, started))

    def _write(self, environ: dict, seen: dict, started: float) -> None:
        path = environ.get("PATH_INFO", "")
        qs = environ.get("QUERY_STRING", "")
        target = unquote(path) + ("?" + qs[:200] + ("..." if len(qs) > 200 else "")
                                  if qs else "")
        target = target.translate(_CONTROLS)  # a %0A in a path must not start a line
        ms = (time.perf_counter() - started) * 1000
        line = (f'{environ.get("REMOTE_ADDR", "-")} "{environ.get("REQUEST_METHOD")} '
                f'{target}" {seen.get("status", "-")} {seen.get("length", "-")} '
                f"{ms:.1f}ms\n")
        try:
            self.stream.write(line)
            self.stream.flush()
        except (OSError, ValueError):
            pass


class _Logged:
    """An app's response body that writes the access-log line when the server closes it."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self.body = body
        self.done = done

    def __iter__(self):
        return iter(self.body)

    def close(self) -> None:
        try:
            if hasattr(self.body, "close"):
                self.body.close()  # type: ignore[union-attr]
        finally:
            self.done()


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
        from crinkkg.web.http.guard import check_public_url

        wrong = check_public_url(settings.public_url)
        if wrong:
            raise CrinkError(f"--public-url {settings.public_url!r} is not usable: {wrong}",
                             hint="e.g. --public-url https://kg.example.org/")


def serve(settings: Settings, *, build_error: str | None = None) -> None:
    """Serve the app until interrupted (Ctrl-C or SIGTERM); stops the workers on exit.

    ``build_error``: the last build failed; the earlier store is served, marked stale.
    """
    check_settings(settings)
    if settings.front == "granian":
        from crinkkg.web.front import serve_granian

        def announce(host: str, port: int) -> None:
            _announce(settings, host, port, f"granian, {settings.http_processes} HTTP "
                      f"processes x {settings.http_threads} threads", build_error)

        serve_granian(settings, build_error=build_error, announce=announce)
        return
    _serve_waitress(settings, build_error=build_error)


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


def _serve_waitress(settings: Settings, *, build_error: str | None = None) -> None:
    """One process of waitress threads (``--front waitress``), pinned to one CPU."""
    from crinkkg.backends.embedded.affinity import pin_server
    from crinkkg.backends.embedded.engine import QueryEngine

    cpu = pin_server() if settings.pin_cpu else None  # before any thread or worker starts
    engine = QueryEngine(settings, start=False)
    engine.launch()  # the workers boot while the web app is imported
    from waitress import create_server

    from crinkkg.web import create_app

    try:
        app = create_app(settings, engine, build_error=build_error)
        engine.start()
    except Problem as problem:  # a query worker could not open the store
        engine.close()
        raise CrinkError(f"cannot start the query workers: {problem.message}",
                         hint="rebuild the store with `crinkkg build`") from None
    try:
        server = create_server(
            AccessLog(app), host=settings.host, port=settings.port,
            threads=settings.http_threads,
            ident="crinkkg", channel_timeout=max(120, int(settings.timeout) + 30),
            connection_limit=max(100, settings.max_concurrent * 4),
            max_request_body_size=settings.max_body_bytes * 4 + 65536,
            clear_untrusted_proxy_headers=True)
    except OSError as exc:
        engine.close()
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
        engine.close()
