"""The query lane: the busiest request, a lookup by ``GET /sparql?query=...``, answered in
one step in front of the whole WSGI stack.

A one-resource lookup costs pyoxigraph about 40 µs from a memory copy; the middleware it
passes through (access log, request guard, HTTP cache, the ``/sparql`` fast path) cost
as much again in-process and twice that under load (bench/README.md, "The query lane").
Most of that work depends only on the request's query string and a few headers, which
clients repeat: the lane checks a request once as the stack would (Host, safety rules,
protocol, negotiation, CORS, compression) and remembers the outcome as a plan. A request
with a plan costs one ``readlink`` (the store version, for the validators), the lookup,
its headers, the metrics and the access-log line.

It answers exactly what the stack answers, header for header (``tests/test_query_lane.py``
compares the two over every kind of request), and leaves to the stack every request it
has no plan for: any other method or path, conditional requests (304s), pages, queries
with other parameters, volatile queries, anything the stack refuses, and every query the
backend does not answer at once (:meth:`~crinkkg.backends.contract.Backend.query_now`:
joins, aggregates, large answers, any error).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask
from werkzeug.http import quote_etag

from crinkkg.problems import Problem
from crinkkg.web.backend import EXTENSION
from crinkkg.web.http.access_log import AccessLog
from crinkkg.web.http.caching import REVALIDATE, HttpCache, accepts_gzip, compress, volatile
from crinkkg.web.http.cors import read_headers
from crinkkg.web.http.fast_sparql import endpoint_url
from crinkkg.web.http.guard import PAGE_HEADERS, SECURITY_HEADERS, RequestGuard
from crinkkg.web.http.protocol import parse_operation
from crinkkg.web.http.safety import check_query

#: plans remembered per process (each a few hundred bytes), forgotten all at once
PLANS = 1024


@dataclass(frozen=True)
class Plan:
    """What the stack would decide for one request, before the query runs."""

    text: str  # the query
    accept: str | None
    endpoint: str  # the query's base IRI
    cors: tuple[tuple[str, str], ...]
    gzip_ok: bool


class QueryLane:
    """WSGI middleware in front of the whole stack (``stack``: the app behind its access
    log): answers planned lookups itself, hands everything else to ``stack``."""

    def __init__(self, stack: AccessLog, app: Flask) -> None:
        self.stack = stack
        self.settings = app.config["CRINKKG"]
        self.engine = app.extensions[EXTENSION]
        self.metrics = app.extensions["crinkkg.metrics"]
        self.guard: RequestGuard = app.extensions["crinkkg.guard"]
        self.cache: HttpCache = app.extensions["crinkkg.cache"]
        self._plans: dict[tuple, Plan | None] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        get = environ.get
        if get("PATH_INFO") != "/sparql" or get("REQUEST_METHOD") != "GET" \
                or "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ \
                or "HTTP_CONTENT_ENCODING" in environ or "HTTP_HOST" not in environ:
            return self.stack(environ, start_response)
        qs = get("QUERY_STRING", "")
        key = (qs, get("HTTP_ACCEPT"), environ["HTTP_HOST"], get("HTTP_ORIGIN"),
               get("HTTP_ACCEPT_ENCODING"), get("wsgi.url_scheme"), get("SCRIPT_NAME"))
        try:
            plan = self._plans[key]
        except KeyError:
            plan = self._plan(environ, qs)
            if len(self._plans) >= PLANS:
                self._plans.clear()
            self._plans[key] = plan
        if plan is None:
            return self.stack(environ, start_response)
        started = time.perf_counter()
        target, _, published_text = self.cache.version()
        reply = self.engine.query_now(plan.text, base_iri=plan.endpoint, accept=plan.accept)
        if reply is None:
            return self.stack(environ, start_response)
        content_type = reply.content_type
        headers = [("Content-Type", content_type), ("Vary", "Accept"),
                   ("Server-Timing", f"query;dur={reply.seconds * 1000:.2f}"), *plan.cors,
                   ("Content-Length", str(len(reply.body))),
                   ("ETag", quote_etag(self.cache.etag(target, environ, "/sparql", qs),
                                       weak=True)),
                   ("Last-Modified", published_text), ("Cache-Control", REVALIDATE)]
        body = compress(content_type, headers, reply.body, plan.gzip_ok)
        if content_type.startswith("text/html"):
            headers += PAGE_HEADERS
        headers += SECURITY_HEADERS
        start_response("200 OK", headers)
        self.metrics.count_query("ok")
        self.metrics.observe_request("/sparql", "GET", 200, time.perf_counter() - started)
        self.stack.write(environ, "200", str(len(body)), started)
        return [body]

    def _plan(self, environ: dict, qs: str) -> Plan | None:
        """The plan of a request the lane may answer, checked as the stack checks it;
        None for any other (the stack answers it, errors included)."""
        accept = environ.get("HTTP_ACCEPT")
        if (accept and "html" in accept) or "=html" in qs or volatile(qs):
            return None  # a page, or an answer without validators: the stack's
        try:
            self.guard.check_host(environ)
            op = parse_operation("GET", qs.encode("latin-1").decode("utf-8"), None, b"")
            if op.kind != "query" or set(op.params) != {"query"}:
                return None  # a view, a dataset, a format: the stack's
            check_query(op.text, self.settings)
        except (Problem, UnicodeError):
            return None
        return Plan(op.text, accept, endpoint_url(self.settings, environ),
                    read_headers(self.settings, environ.get("HTTP_ORIGIN")),
                    accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING")))
