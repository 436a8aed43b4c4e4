"""Whether the store served is the inputs' latest build, shared by a server's processes.

``crinkkg serve`` builds before it serves; with ``--watch`` it builds again each time an
input is saved. A build that fails leaves the last good store in place, and every part of
the server must say so (``/health``, the log, each page's banner) until a build succeeds.
The server's HTTP processes learn it from one small JSON file beside the store link
(``STORE.build-status.json``), written whole (a temporary file renamed over it) by the
process that builds, read again by the others when its modification time changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path


def status_path(store: str | os.PathLike) -> Path:
    """The file beside the store link that records the last build's outcome."""
    link = Path(store)
    return link.with_name(link.name + ".build-status.json")


def write_status(store: str | os.PathLike, error: str | None, *, seconds: float | None = None
                 ) -> None:
    """Record the last build's outcome: ``error`` (None when it succeeded)."""
    path = status_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"ok": error is None, "error": error, "finished": time.time(),
              "seconds": None if seconds is None else round(seconds, 3)}
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(temporary, path)


class BuildStatus:
    """The last build's error as the server's processes see it: fixed at start (a server
    that does not watch its inputs), or read from :func:`status_path` (one that does).

    >>> BuildStatus.fixed("input.ttl: line 3").error()
    'input.ttl: line 3'
    """

    def __init__(self, store: str | os.PathLike | None, error: str | None = None) -> None:
        self.path = status_path(store) if store is not None else None
        self._error = error
        self._seen: int | None = None

    @classmethod
    def fixed(cls, error: str | None) -> BuildStatus:
        return cls(None, error)

    @property
    def watching(self) -> bool:
        return self.path is not None

    def error(self) -> str | None:
        """The last build's error, None when it succeeded."""
        if self.path is None:
            return self._error
        try:
            stamp = self.path.stat().st_mtime_ns
        except OSError:
            return self._error
        if stamp != self._seen:
            try:
                self._error = json.loads(self.path.read_text(encoding="utf-8"))["error"]
            except (OSError, ValueError, KeyError, TypeError):
                return self._error  # being replaced: the previous reading stands
            self._seen = stamp
        return self._error

    def stamp(self) -> str:
        """A value that changes whenever the error does (for HTTP validators)."""
        error = self.error()
        return "" if error is None else hashlib.sha1(error.encode()).hexdigest()[:12]
