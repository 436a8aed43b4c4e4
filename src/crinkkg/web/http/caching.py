"""HTTP caching for every answer, whichever handler makes it: validators and policy.

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

Conditional logic is werkzeug's (``is_resource_modified``, ``quote_etag``, ``http_date``);
compression is :mod:`.compression`'s. :mod:`crinkkg.web.pipeline` applies what this module
decides, once per answer.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote_plus

from werkzeug.http import http_date, is_resource_modified, quote_etag

from crinkkg import __version__
from crinkkg.problems import Problem
from crinkkg.settings import Settings

REVALIDATE = "no-cache"
NO_STORE = "no-store"
UNCACHED = ("/health", "/metrics", "/changes")  # /changes: its own validators
#: validators remembered per process (a few hundred bytes each), forgotten all at once
_ETAGS = 1024
_VOLATILE_WORDS = ("NOW", "RAND", "UUID", "BNODE", "SERVICE")
_VOLATILE = re.compile(r"\b(?:NOW|RAND|UUID|STRUUID|BNODE)\s*\(|\bSERVICE\b", re.IGNORECASE)


@lru_cache(maxsize=1024)  # clients repeat their queries
def volatile(query_string: str) -> bool:
    """True when a query's answer may change without the store changing."""
    if not query_string:
        return False
    upper = query_string.upper()
    if not any(word in upper for word in _VOLATILE_WORDS):
        return False  # the common case: no such word even percent-encoded
    return bool(_VOLATILE.search(unquote_plus(query_string)))


class Cacheability(NamedTuple):
    """What caching says of one request before it is answered."""

    #: added to its ``200`` answer: the validators and ``Cache-Control``, or ``no-store``
    headers: tuple[tuple[str, str], ...] = ()
    #: the client's copy is current: the answer is a ``304`` (``headers`` are its validators)
    not_modified: bool = False
    etag: str | None = None  # the validator, unquoted
    published: datetime | None = None  # when the store version was published


UNCACHEABLE = Cacheability()
VOLATILE = Cacheability((("Cache-Control", NO_STORE),))


class Validators:
    """The validators and caching policy of every answer (see the module docstring)."""

    def __init__(self, settings: Settings,
                 remote_version: Callable[[], str] | None = None, *,
                 also: Callable[[], str] | None = None) -> None:
        """``also``: what else an answer depends on besides the store version (the last
        build's outcome, which every page shows)."""
        link = Path(settings.store).absolute()
        self.link, self.link_dir = str(link), str(link.parent)
        #: a remote store's version (its published manifest): the local store link says
        #: nothing of what it serves
        self.remote_version = remote_version
        self.also = also
        self._seen: dict[str, tuple[str, datetime, str]] = {}
        self.hasher = hashlib.blake2b(f"{__version__}\0{settings!r}\0".encode(),
                                      digest_size=12)
        self._version: tuple[str, datetime, str] | None = None
        self._raw = ""
        self._known: dict[tuple[str, ...], Cacheability] = {}

    def version(self) -> tuple[str, datetime, str] | None:
        """The store version served now, when it was published, and that time as an HTTP
        date (cached per version: one ``readlink`` per request); None when a remote store
        cannot say (its answer will say why)."""
        if self.remote_version is not None:
            try:
                name = self.remote_version()
            except Problem:
                return None
            seen = self._seen.get(name)
            if seen is None:  # first seen now: as late as it can have been published
                if len(self._seen) >= _ETAGS:
                    self._seen.clear()
                now = datetime.now(UTC).replace(microsecond=0)
                seen = self._seen[name] = (f"remote {name}", now, http_date(now))
            return seen
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

    def of(self, environ: dict) -> Cacheability:
        """What caching says of this request: its answer's validators, or a ``304``
        (remembered per store version for the requests clients repeat, most of them)."""
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or path in UNCACHED \
                or path.startswith("/static/"):
            return UNCACHEABLE
        qs = environ.get("QUERY_STRING", "")
        if volatile(qs):
            return VOLATILE
        version = self.version()
        if version is None:
            return UNCACHEABLE
        target, published, published_text = version
        key = (target, environ.get("HTTP_HOST", ""), path, qs, environ.get("HTTP_ACCEPT", ""),
               self.also() if self.also is not None else "")
        found = self._known.get(key)
        if found is None:
            digest = self.hasher.copy()
            digest.update("\0".join(key).encode("utf-8", "surrogateescape"))
            etag = digest.hexdigest()
            found = Cacheability((("ETag", quote_etag(etag, weak=True)),
                                  ("Last-Modified", published_text),
                                  ("Cache-Control", REVALIDATE)), False, etag, published)
            if len(self._known) >= _ETAGS:
                self._known.clear()
            self._known[key] = found
        if ("HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ) \
                and not is_resource_modified(environ, found.etag, last_modified=published):
            return found._replace(not_modified=True)
        return found
