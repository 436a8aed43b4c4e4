"""The SPARQL 1.1 endpoint at ``/sparql``: query, update and the service description.

The protocol rules live in :mod:`.protocol`, the safety rules in :mod:`.safety`, format
negotiation in :mod:`.formats` (applied inside the query workers), evaluation in
:mod:`.engine`. This module wires them to HTTP.
"""

from __future__ import annotations

import json
import time

from flask import Blueprint, Response, current_app, request

from crinkkg.backends.contract import Reply
from crinkkg.formats import HTML, check_format, format_names, negotiate, prefers_html
from crinkkg.problems import Problem
from crinkkg.settings import Settings
from crinkkg.sparqltext import DatasetConflict, Unreadable, add_using
from crinkkg.web.backend import get_backend
from crinkkg.web.http import cors, responses
from crinkkg.web.http.fast_sparql import FastQueries
from crinkkg.web.http.metrics import Metrics
from crinkkg.web.http.protocol import Operation, parse_operation
from crinkkg.web.http.safety import check_body_size, check_update, check_update_allowed
from crinkkg.web.services.query import execute_query, format_override

bp = Blueprint("sparql", __name__)


@bp.record_once
def _install(state) -> None:
    app = state.app
    app.extensions.setdefault("crinkkg.metrics", Metrics())
    responses.install(app)
    cors.install(app)
    app.wsgi_app = FastQueries(app.wsgi_app, app)  # type: ignore[method-assign]


def settings() -> Settings:
    return current_app.config["CRINKKG"]


def metrics() -> Metrics:
    return current_app.extensions["crinkkg.metrics"]


def endpoint_url() -> str:
    """The URL of this endpoint as clients see it (``--public-url`` if given)."""
    public = settings().public_url
    if public:
        return public.rstrip("/") + "/sparql"
    return request.base_url


def read_body() -> bytes:
    """The request body, refused with 413 beyond ``max_body_bytes``."""
    check_body_size(request.content_length, settings())
    body = request.get_data(cache=True)
    check_body_size(len(body), settings())
    return body


def _query_string() -> str:
    raw = request.query_string
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "not-utf8", "the query string is not UTF-8",
                      hint="percent-encode UTF-8 bytes") from None


def _html_page(op: Operation) -> Response:
    from crinkkg.web.routes.pages import render_query_page

    response = render_query_page(query=op.text or None)
    response.headers.add("Vary", "Accept")
    return response


def _answer(reply: Reply) -> Response:
    response = Response(reply.body, 200, content_type=reply.content_type)
    response.headers["Vary"] = "Accept"
    response.headers["Server-Timing"] = f"query;dur={reply.seconds * 1000:.2f}"
    return response


@bp.route("/sparql", methods=["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"])
def endpoint() -> Response:
    """Query (GET, form POST, direct POST), update (POST) or describe the service (GET)."""
    if request.method == "OPTIONS":
        return cors.preflight(settings())
    op = parse_operation(request.method, _query_string(), request.content_type,
                         read_body() if request.method == "POST" else b"")
    if op.kind == "description":
        return describe(op)
    if op.kind == "update":
        return run_update(op)
    return run_query(op)


def wants_page(op: Operation, method: str, accept: str | None) -> bool:
    """A browser asking for the endpoint gets the query page, not raw results
    (``format=html`` asks for it too)."""
    if method != "GET":
        return False
    names = format_names(format_override(op))
    if names:
        return all(HTML.named_by(n.split(";", 1)[0].strip().lower()) for n in names)
    return prefers_html(accept)


def run_query(op: Operation) -> Response:
    """Evaluate a query in a worker and send its result in the negotiated format."""
    accept = request.headers.get("Accept")
    if wants_page(op, request.method, accept):
        return _html_page(op)
    return _answer(execute_query(op, accept=accept, endpoint=endpoint_url(),
                                 settings=settings(), engine=get_backend(), metrics=metrics()))


def run_update(op: Operation) -> Response:
    """Apply an update (enabled and authorised only); answer once the inferred graph is
    current."""
    s = settings()
    cors.mark_write()
    check_update_allowed(s, request.headers.get("Authorization"))
    check_update(op.text, s)
    try:
        text = add_using(op.text, op.using_graphs, op.using_named_graphs)
    except DatasetConflict as exc:
        raise Problem(400, "dataset-conflict", str(exc),
                      hint="name the graphs in one place: the update text or the request"
                      ) from None
    except Unreadable as exc:
        raise Problem(400, "syntax-error", f"the update does not parse: {exc}") from None
    prologue = f"BASE <{endpoint_url()}> "
    started = time.perf_counter()
    try:
        reply = get_backend().update(prologue + text, column_shift=len(prologue))
    except Problem:
        metrics().count_query("update-error")
        raise
    metrics().count_query("update")
    message = reply.body.decode().strip()
    if responses.wants_json(request.headers.get("Accept")):
        body = json.dumps({"status": "ok", "message": message, "quads": reply.count,
                           "seconds": round(time.perf_counter() - started, 3)})
        return Response(body + "\n", 200, mimetype="application/json")
    return Response(message + "\n", 200, content_type="text/plain; charset=utf-8")


def describe(op: Operation) -> Response:
    """``GET /sparql`` without a query: the service description, or a page for browsers."""
    from crinkkg.web.services.service_description import service_description

    accept = request.headers.get("Accept")
    fmt = format_override(op)
    if wants_page(op, request.method, accept):
        return _html_page(op)
    check_format(fmt)
    chosen = negotiate("graph", accept, fmt)
    if chosen is None:
        raise Problem(406, "not-acceptable",
                      "the service description is RDF: none of the accepted types is an RDF "
                      "format", hint="accept text/turtle, application/rdf+xml or "
                                     "application/ld+json")
    body = service_description(endpoint_url(), settings(), get_backend(), chosen.oxigraph)
    response = Response(body, 200, content_type=chosen.content_type)
    response.headers["Vary"] = "Accept"
    return response
