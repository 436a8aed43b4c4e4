"""The one path every request takes, from the WSGI server to a handler and back.

:class:`Pipeline` is the app's WSGI callable (``app.wsgi_app``). For each request it
runs, in order and once each:

1. the request guard (:mod:`.http.guard`): ``Host``, body coding; a refusal is answered
   here (a refused write as a write: CORS for write origins only);
2. the validators (:mod:`.http.caching`): a client whose copy is current gets its
   ``304`` here;
3. one handler: :class:`~.routes.sparql.SparqlEndpoint` for ``/sparql``, Flask's routes
   for everything else (and for the query page the ``/sparql`` handler leaves to them),
   whose complete answers are kept per ``ETag`` (:mod:`.http.answers`): a repeated page
   is not made again while the store version stays;
4. :meth:`Pipeline.finish`, the one function that gives an answer its shared headers
   (validators, CORS, security) and its compression;
5. the metrics and the access-log line.

This is Oxigraph's server's shape (one ``handle_request``); the walk, file by file, is in
``docs/architecture.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from http import HTTPStatus

from crinkkg.problems import Problem
from crinkkg.web.context import WebContext
from crinkkg.web.http.access_log import AccessLog
from crinkkg.web.http.answers import Answers, Kept
from crinkkg.web.http.caching import VOLATILE, Cacheability
from crinkkg.web.http.compression import MIN_SIZE, accepts_gzip, compressible, gzipped
from crinkkg.web.http.cors import answer_headers, mark_write
from crinkkg.web.http.guard import PAGE_HEADERS, SECURITY_HEADERS
from crinkkg.web.http.responses import Answer, problem_answer
from crinkkg.web.routes.sparql import SparqlEndpoint

#: the WSGI environ key where Flask's routes leave the name the metrics count them under
ENDPOINT = "crinkkg.endpoint"
_REASONS = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}
_NOT_MODIFIED_VARY = ("Vary", "Accept, Accept-Encoding")
#: the headers an answer of :meth:`Pipeline._complete` may have that finish() would add
#: (none: its handlers leave validators, CORS and coding to it)
_NAMES_OF_HANDLERS: frozenset[str] = frozenset()
_READS = ("GET", "HEAD", "OPTIONS")
#: the metrics' endpoint label of the requests the guard refuses
REFUSED = "refused"


class Pipeline:
    """The WSGI callable of a crinkkg app (see the module docstring)."""

    def __init__(self, context: WebContext, routes: Callable,
                 access_log: AccessLog | None = None) -> None:
        self.settings = context.settings
        self.metrics = context.metrics
        self.guard = context.guard
        self.validators = context.validators
        self.sparql = SparqlEndpoint(context)
        self.routes = routes  # Flask's own WSGI app: its routes, hooks and error handlers
        self.log = access_log
        self.answers = Answers(context.settings.answer_cache_mb * 2**20)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        path = environ.get("PATH_INFO", "")
        if path.startswith("//"):  # Flask's routes match leading slashes as one: every step
            environ["PATH_INFO"] = path = "/" + path.lstrip("/")  # sees that one path
        try:
            self.guard.check(environ)
        except Problem as problem:  # refused before any handler: counted as "refused"
            if environ.get("REQUEST_METHOD") not in _READS:
                mark_write(environ)  # a refused write opens only to write origins
            self.metrics.count_error(problem.kind)
            return self._complete(environ, start_response,
                                  problem_answer(problem, environ.get("HTTP_ACCEPT")), None,
                                  started, REFUSED)
        cache = self.validators.of(environ)
        if cache.not_modified:
            return self._complete(environ, start_response,
                                  Answer(304, "", [*cache.headers, _NOT_MODIFIED_VARY]), cache,
                                  started, None)
        if path == "/sparql":
            answer = self.sparql.answer(environ)
            if answer is not None:
                return self._complete(environ, start_response, answer, cache, started,
                                      "/sparql")
        return self._route(environ, start_response, cache, started)

    def _complete(self, environ: dict, start_response: Callable, answer: Answer,
                  cache: Cacheability | None, started: float, endpoint: str | None
                  ) -> Iterable[bytes]:
        """Send an answer made here or by the ``/sparql`` handler (its headers known)."""
        status, content_type, own, data = answer
        headers = [("Content-Type", content_type), *own] if content_type else list(own)
        length: int | None = None
        if status != 204 and status != 304:
            length = len(data)
            headers.append(("Content-Length", str(length)))
        body, length = self.finish(environ, status, headers, [data], cache, content_type,
                                   length, _NAMES_OF_HANDLERS)
        return self._respond(environ, start_response, status, headers, body, started,
                             endpoint, length)

    def _route(self, environ: dict, start_response: Callable, cache: Cacheability,
               started: float) -> Iterable[bytes]:
        """Let Flask's routes answer (or the answer they made for the same tag), then
        finish their answer as any other."""
        key = cache.etag if environ.get("REQUEST_METHOD") in ("GET", "HEAD") else None
        kept = self.answers.get(key) if key is not None else None
        if kept is not None:
            headers = list(kept.headers)
            names, content_type, length = described(headers)
            body, length = self.finish(environ, kept.status, headers, [kept.body], cache,
                                       content_type, length, names)
            return self._respond(environ, start_response, kept.status, headers, body,
                                 started, kept.endpoint, length)
        seen: list = []

        def starting(status: str, headers: list, exc_info=None) -> Callable:
            seen[:] = [status, headers, exc_info]
            return _no_write

        try:
            body = self.routes(environ, starting)
        except BaseException:
            if self.log is not None:
                self.log.write(environ, "-", "-", started)
            raise
        status_line, headers, exc_info = seen
        status = int(status_line.split(" ", 1)[0])
        names, content_type, length = described(headers)
        if key is not None and status == 200 and environ["REQUEST_METHOD"] == "GET" \
                and length is not None and self.answers.fits(length) and exc_info is None:
            data = b"".join(body)
            if hasattr(body, "close"):
                body.close()  # type: ignore[union-attr]
            body = [data]
            self.answers.put(key, Kept(status, tuple(headers), data,
                                       environ.get(ENDPOINT, "unmatched")))
        body, length = self.finish(environ, status, headers, body, cache, content_type, length,
                                   names)
        return self._respond(environ, start_response, status, headers, body, started,
                             environ.get(ENDPOINT, "unmatched"), length, exc_info)

    def _respond(self, environ: dict, start_response: Callable, status: int,
                 headers: list[tuple[str, str]], body: Iterable[bytes], started: float,
                 endpoint: str | None, length: int | None, exc_info=None) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method == "HEAD" and isinstance(body, list):
            body = []
        start_response(_REASONS.get(status, str(status)), headers, exc_info)
        if endpoint is not None:
            self.metrics.observe_request(endpoint, method, status,  # type: ignore[arg-type]
                                         time.perf_counter() - started)
        log = self.log
        if log is None:
            return body
        logged = str(length) if length is not None else "-"
        if isinstance(body, list):  # complete: logged now
            log.write(environ, str(status), logged, started)
            return body
        return _Closing(body, lambda: log.write(environ, str(status), logged, started))

    def finish(self, environ: dict, status: int, headers: list[tuple[str, str]],
               body: Iterable[bytes], cache: Cacheability | None, content_type: str,
               length: int | None, names: set[str] | frozenset[str]
               ) -> tuple[Iterable[bytes], int | None]:
        """Give an answer the headers every answer gets, whichever handler made it:
        validators or ``no-store``, CORS, the security headers, and gzip when it pays.
        ``names``: the (lower-case) names of the headers the answer has already; returns
        the body and its length as sent (``None``: not known)."""
        if cache is not None:
            if status == 200 and cache.headers and "etag" not in names:
                headers += [h for h in cache.headers if h[0].lower() not in names] \
                    if names else cache.headers
            elif cache is VOLATILE and "cache-control" not in names:
                headers += cache.headers
        if "HTTP_ORIGIN" in environ and "access-control-allow-origin" not in names:
            headers += answer_headers(self.settings, environ)
        if "content-encoding" not in names and status != 204 and status != 304 \
                and compressible(content_type, length):
            headers.append(("Vary", "Accept-Encoding"))
            if environ.get("REQUEST_METHOD") != "HEAD" \
                    and accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING")):
                data = b"".join(body)
                if hasattr(body, "close"):
                    body.close()  # type: ignore[union-attr]
                if len(data) >= MIN_SIZE:
                    data = gzipped(headers, data)
                body, length = [data], len(data)
        if content_type.startswith("text/html"):
            headers += PAGE_HEADERS
        headers += SECURITY_HEADERS
        return body, length


def described(headers: list[tuple[str, str]]) -> tuple[set[str], str, int | None]:
    """The header names an answer has (lower case), its type and its length as a client
    reads them (the first of each).

    >>> names, content_type, length = described([("Content-Type", "text/html"),
    ...                                          ("Content-Length", "12")])
    >>> sorted(names), content_type, length
    (['content-length', 'content-type'], 'text/html', 12)
    """
    names: set[str] = set()
    content_type, length = "", None
    for key, value in headers:
        lower = key.lower()
        if lower == "content-type" and "content-type" not in names:
            content_type = value
        elif lower == "content-length" and "content-length" not in names:
            length = int(value)
        names.add(lower)
    return names, content_type, length


class _Closing:
    """A streamed body that calls ``done`` when the server closes it (PEP 3333)."""

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


def _no_write(data: bytes) -> None:  # pragma: no cover - no route writes
    raise RuntimeError("write() is not supported: return the body instead")
