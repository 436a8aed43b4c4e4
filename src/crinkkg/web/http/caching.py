"""HTTP caching and compression for every answer, the fast path's included.

**Validators tied to the store version.** Every answer to a cacheable ``GET``/``HEAD``
(query answers, linked data, the ontology, pages, the graph store) depends only on the
request (path, query string, ``Accept``, ``Host``), the server's settings and the store
version (the build directory the store link points at: a build or an update moves it).
So the ``ETag`` is a digest of those, computed *before* the request is answered: a client
revalidating with ``If-None-Match`` (or ``If-Modified-Since``, against the time the
version was published) gets a ``304`` without the query being run again. The tag is weak
(``W/``): the same answer may come back in another row order or content coding.

**Policy** (``Cache-Control``): answers that follow the store are ``no-cache`` (a cache
may keep them but must revalidate, so an update is seen at once: the endpoint promises
read-your-writes); queries whose answer changes by itself (``NOW()``, ``RAND()``,
``UUID()``, ``STRUUID()``, ``BNODE()``, ``SERVICE``) are ``no-store`` and get no
validators; ``/health``, ``/metrics`` and errors get none; ``/static/`` files keep Flask's
own file validators, ``/context.jsonld`` its ``max-age``.

**Compression.** A body of at least :data:`MIN_SIZE` bytes in a text-like type is sent
gzip-compressed when ``Accept-Encoding`` allows it (``Vary: Accept-Encoding``).

Conditional logic and header parsing are werkzeug's (``is_resource_modified``,
``quote_etag``, ``http_date``, ``parse_accept_header``); gzip is the standard library's.
flask-compress cannot be used: it is a Flask ``after_request`` hook, and the busiest
answers (queries by the fast path) never pass through Flask.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote_plus

from werkzeug.datastructures import Accept
from werkzeug.http import http_date, is_resource_modified, parse_accept_header, quote_etag

from crinkkg import __version__
from crinkkg.settings import Settings
from crinkkg.web.http.cors import EXPOSED_HEADERS, allowed_origin

#: Smaller bodies are sent as they are (gzip's header and the CPU cost outweigh the gain).
MIN_SIZE = 1024
REVALIDATE = "no-cache"
NO_STORE = "no-store"
UNCACHED = ("/health", "/metrics")
#: validators remembered per process (a few hundred bytes each), forgotten all at once
_ETAGS = 1024
_VOLATILE_WORDS = ("NOW", "RAND", "UUID", "BNODE", "SERVICE")
_VOLATILE = re.compile(r"\b(?:NOW|RAND|UUID|STRUUID|BNODE)\s*\(|\bSERVICE\b", re.IGNORECASE)
_COMPRESSIBLE = re.compile(r"text/|application/(?:[\w.+-]*(?:json|xml|turtle|trig|triples|"
                           r"quads|javascript|sparql[\w.+-]*))|image/svg\+xml")


def volatile(query_string: str) -> bool:
    """True when a query's answer may change without the store changing."""
    if not query_string:
        return False
    upper = query_string.upper()
    if not any(word in upper for word in _VOLATILE_WORDS):
        return False  # the common case: no such word even percent-encoded
    return bool(_VOLATILE.search(unquote_plus(query_string)))


def accepts_gzip(header: str | None) -> bool:
    """True when ``Accept-Encoding`` allows gzip (``gzip``, ``x-gzip`` or ``*``, q > 0)."""
    if not header or "gzip" not in header and "*" not in header:
        return False
    accepted = parse_accept_header(header, Accept)  # "*" matches gzip too
    return max(accepted["gzip"], accepted["x-gzip"]) > 0


def compress(content_type: str, headers: list[tuple[str, str]], data: bytes,
             gzip_ok: bool) -> bytes:
    """What :class:`HttpCache` does to a complete ``200`` answer with a ``Content-Length``
    (for the query lane, which answers without it): ``Vary: Accept-Encoding`` on a
    compressible body of :data:`MIN_SIZE` bytes or more, and gzip when the client takes it.
    """
    if len(data) < MIN_SIZE or not _COMPRESSIBLE.match(content_type):
        return data
    headers.append(("Vary", "Accept-Encoding"))
    return _gzipped(headers, data) if gzip_ok else data


def _gzipped(headers: list[tuple[str, str]], data: bytes) -> bytes:
    """``data`` gzip-compressed, its ``Content-Length`` and ``Content-Encoding`` set."""
    data = gzip.compress(data, compresslevel=5, mtime=0)
    headers[:] = [(k, v) for k, v in headers if k.lower() != "content-length"]
    headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(data)))]
    return data


class HttpCache:
    """WSGI middleware: validators, 304s, ``Cache-Control`` and gzip (module docstring)."""

    def __init__(self, app: Callable, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        link = Path(settings.store).absolute()
        self.link, self.link_dir = str(link), str(link.parent)
        self.hasher = hashlib.blake2b(f"{__version__}\0{settings!r}\0".encode(),
                                      digest_size=12)
        self._version: tuple[str, datetime, str] | None = None
        self._raw = ""
        self._etags: dict[tuple[str, ...], str] = {}

    def version(self) -> tuple[str, datetime, str]:
        """The store version served now, when it was published, and that time as an HTTP
        date (cached per version: one ``readlink`` per request)."""
        try:
            raw = os.readlink(self.link)
        except OSError:
            raw = ""
        cached = self._version
        if cached is not None and self._raw == raw:
            return cached
        target = os.path.join(self.link_dir, raw) if raw else self.link
        try:
            published = datetime.fromtimestamp(int(os.stat(target).st_mtime), UTC)
        except OSError:
            published = datetime.now(UTC).replace(microsecond=0)
        self._version, self._raw = (target, published, http_date(published)), raw
        return self._version

    def etag(self, target: str, environ: dict, path: str, qs: str) -> str:
        """The validator of this request's answer under store version ``target``
        (remembered for the requests clients repeat, which are most of them)."""
        key = (target, environ.get("HTTP_HOST", ""), path, qs, environ.get("HTTP_ACCEPT", ""))
        tag = self._etags.get(key)
        if tag is None:
            digest = self.hasher.copy()
            digest.update("\0".join(key).encode("utf-8", "surrogateescape"))
            tag = digest.hexdigest()
            if len(self._etags) >= _ETAGS:
                self._etags.clear()
            self._etags[key] = tag
        return tag

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        extra: list[tuple[str, str]] = []
        if method in ("GET", "HEAD") and path not in UNCACHED \
                and not path.startswith("/static/"):
            qs = environ.get("QUERY_STRING", "")
            if volatile(qs):
                extra = [("Cache-Control", NO_STORE)]
            else:
                target, published, published_text = self.version()
                etag = self.etag(target, environ, path, qs)
                extra = [("ETag", quote_etag(etag, weak=True)),
                         ("Last-Modified", published_text),
                         ("Cache-Control", REVALIDATE)]
                if ("HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ) \
                        and not is_resource_modified(environ, etag, last_modified=published):
                    headers = [*extra, ("Vary", "Accept, Accept-Encoding")]
                    origin = allowed_origin(self.settings, environ.get("HTTP_ORIGIN"))
                    if origin is not None:  # as the 200 said (a read)
                        headers += [("Access-Control-Allow-Origin", origin),
                                    ("Access-Control-Expose-Headers", EXPOSED_HEADERS)]
                    start_response("304 Not Modified", headers)
                    return []
        gzip_ok = method != "HEAD" and accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING"))
        seen: dict[str, object] = {}

        def starting(status: str, headers: list, exc_info=None):
            seen["status"], seen["headers"], seen["exc_info"] = status, headers, exc_info
            return _never_write

        body = self.app(environ, starting)
        status: str = seen["status"]  # type: ignore[assignment]
        headers: list[tuple[str, str]] = seen["headers"]  # type: ignore[assignment]
        names = set()
        ctype, length = "", None
        for key, value in headers:
            lower = key.lower()
            names.add(lower)
            if lower == "content-type" and not ctype:  # the first, as a client reads it
                ctype = value
            elif lower == "content-length" and length is None:
                length = value
        if status.startswith("200") and extra and "etag" not in names:
            headers += [h for h in extra if h[0].lower() not in names]
        elif extra and extra[0][1] == NO_STORE and "cache-control" not in names:
            headers += extra
        if _COMPRESSIBLE.match(ctype) and "content-encoding" not in names \
                and (length is None or int(length) >= MIN_SIZE) \
                and not status.startswith(("204", "304")):
            headers.append(("Vary", "Accept-Encoding"))
            if gzip_ok:
                data = b"".join(body)
                if hasattr(body, "close"):
                    body.close()
                if len(data) >= MIN_SIZE:
                    data = _gzipped(headers, data)
                start_response(status, headers, seen["exc_info"])
                return [data]
        start_response(status, headers, seen["exc_info"])
        return body


def _never_write(data: bytes) -> None:  # pragma: no cover - no part of the app writes
    raise RuntimeError("write() is not supported behind HttpCache: return the body instead")
