"""The access log: one line per request, on one stream, whichever front serves."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable
from urllib.parse import unquote

log = logging.getLogger("crinkkg.access")



#: request targets remembered per process, forgotten all at once
_TARGETS = 512
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
        self._targets: dict[tuple[str, str], str] = {}

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
        self.write(environ, seen.get("status", "-"), seen.get("length", "-"),  # type: ignore[arg-type]
                   started)

    def write(self, environ: dict, status: str, length: str, started: float) -> None:
        """Write the line of one request (``started``: its ``time.perf_counter()``)."""
        ms = (time.perf_counter() - started) * 1000
        line = (f'{environ.get("REMOTE_ADDR", "-")} "{environ.get("REQUEST_METHOD")} '
                f'{self._target(environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))}"'
                f" {status} {length} {ms:.1f}ms\n")
        try:
            self.stream.write(line)
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def _target(self, path: str, qs: str) -> str:
        """The request target as logged (remembered: clients repeat their requests)."""
        key = (path, qs)
        target = self._targets.get(key)
        if target is None:
            target = unquote(path) + ("?" + qs[:200] + ("..." if len(qs) > 200 else "")
                                      if qs else "")
            target = target.translate(_CONTROLS)  # a %0A in a path must not start a line
            if len(self._targets) >= _TARGETS:
                self._targets.clear()
            self._targets[key] = target
        return target


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
