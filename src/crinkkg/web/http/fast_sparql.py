"""A WSGI fast path for SPARQL queries: the endpoint's hot path without Flask's machinery.

Cheap lookups are bound by the Python HTTP stack, not by the engine, so the most common
request (a query by GET or POST that does not want an HTML page) is parsed, checked and
dispatched to a query worker straight from the WSGI environ, with the same protocol,
safety and negotiation code as the Flask route. Every other request (service description,
updates, pages, preflights) goes on to Flask.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from http import HTTPStatus

from flask import Flask

from crinkkg.problems import Problem, render
from crinkkg.settings import Settings
from crinkkg.web.backend import EXTENSION
from crinkkg.web.http.cors import read_headers
from crinkkg.web.http.protocol import FORM_TYPE, QUERY_TYPE, parse_operation
from crinkkg.web.http.safety import check_body_size
from crinkkg.web.services.query import execute_query

_REASONS = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}


def endpoint_url(settings: Settings, environ: dict) -> str:
    """The endpoint's URL as this request names it (the base IRI of its query)."""
    if settings.public_url:
        return settings.public_url.rstrip("/") + "/sparql"
    host = environ.get("HTTP_HOST") or \
        f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}" \
           f"{environ.get('SCRIPT_NAME', '')}/sparql"


class FastQueries:
    """WSGI middleware answering ``/sparql`` queries directly; the rest goes to ``app``."""

    def __init__(self, wsgi_app: Callable, flask_app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.settings = flask_app.config["CRINKKG"]
        self.engine = flask_app.extensions[EXTENSION]
        self.metrics = flask_app.extensions["crinkkg.metrics"]

    def _endpoint(self, environ: dict) -> str:
        return endpoint_url(self.settings, environ)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/sparql":
            return self.wsgi_app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        content_type = environ.get("CONTENT_TYPE") or None
        qs = environ.get("QUERY_STRING", "")
        if method == "GET":
            if "query=" not in qs or "update=" in qs:
                return self.wsgi_app(environ, start_response)
        elif method == "POST":
            media = (content_type or "").split(";", 1)[0].strip().lower()
            if media != QUERY_TYPE and not (media == FORM_TYPE and "update=" not in qs):
                return self.wsgi_app(environ, start_response)
        else:
            return self.wsgi_app(environ, start_response)
        accept = environ.get("HTTP_ACCEPT")
        if (accept and "html" in accept) or "=html" in qs:
            return self.wsgi_app(environ, start_response)  # maybe a browser: Flask decides
        return self._answer(environ, start_response, method, qs, content_type, accept)

    def _answer(self, environ: dict, start_response: Callable, method: str, qs: str,
                content_type: str | None, accept: str | None) -> Iterable[bytes]:
        started = time.perf_counter()
        headers: list[tuple[str, str]] = []
        try:
            body = b""
            if method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                check_body_size(length, self.settings)
                body = environ["wsgi.input"].read(length) if length else b""
            try:
                qs = qs.encode("latin-1").decode("utf-8")
            except UnicodeError:
                raise Problem(400, "not-utf8", "the query string is not UTF-8",
                              hint="percent-encode UTF-8 bytes") from None
            op = parse_operation(method, qs, content_type, body)
            if op.kind != "query":  # an update in a form: Flask handles it (body re-read)
                return self._to_flask(environ, start_response, body)
            reply = execute_query(op, accept=accept, endpoint=self._endpoint(environ),
                                  settings=self.settings, engine=self.engine,
                                  metrics=self.metrics)
            status = 200
            payload = reply.body
            headers += [("Content-Type", reply.content_type), ("Vary", "Accept"),
                        ("Server-Timing", f"query;dur={reply.seconds * 1000:.2f}")]
        except Problem as problem:
            status = problem.status
            ctype, payload = render(problem, accept)
            headers += [("Content-Type", ctype), ("Vary", "Accept"), *problem.headers.items()]
            self.metrics.count_error(problem.kind)
        headers += read_headers(self.settings, environ.get("HTTP_ORIGIN"))
        headers.append(("Content-Length", str(len(payload))))
        start_response(_REASONS.get(status, str(status)), headers)
        self.metrics.observe_request("/sparql", method, status, time.perf_counter() - started)
        return [payload] if method != "HEAD" else []

    def _to_flask(self, environ: dict, start_response: Callable, body: bytes
                  ) -> Iterable[bytes]:
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.wsgi_app(environ, start_response)
