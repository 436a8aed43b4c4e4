"""The access log: one line per request, on one stream, whichever front serves."""

from __future__ import annotations

import re
import time
from typing import TextIO
from urllib.parse import unquote

#: request targets remembered per process, forgotten all at once
_TARGETS = 512
#: control characters as escapes in the access log: one request, one line
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(32), 127)}
_HAS_CONTROL = re.compile("[\x00-\x1f\x7f]").search


class AccessLog:
    """One line per request (client, request line, status, bytes, time) on ``stream``;
    the pipeline writes it once the answer is sent."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._targets: dict[tuple[str, str], str] = {}

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
            if _HAS_CONTROL(target):  # a %0A in a path must not start a line
                target = target.translate(_CONTROLS)
            if len(self._targets) >= _TARGETS:
                self._targets.clear()
            self._targets[key] = target
        return target
