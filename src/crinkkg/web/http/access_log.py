"""The access log: one line per request, on one stream, whichever front serves."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable
from urllib.parse import unquote

log = logging.getLogger("crinkkg.access")



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
