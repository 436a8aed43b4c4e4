"""The SPARQL 1.1 endpoint at ``/sparql``: query, update and the service description.

One handler answers every request to ``/sparql`` (:meth:`SparqlEndpoint.answer`, called
by :mod:`crinkkg.web.pipeline` as Oxigraph's server calls its ``handle_request``); the
query page a browser gets there is the one route this module gives Flask. The protocol
rules live in :mod:`..http.protocol`, the safety rules in :mod:`..http.safety`, format
negotiation in :mod:`crinkkg.formats` (applied by the backend), evaluation in the backend.

What a request's query string, ``Accept`` and ``Host`` decide before the query runs (the
operation, its checks, the page-or-results choice, the base IRI) is the handler's plan,
remembered for the requests clients repeat: a repeated lookup costs the lookup, its
headers and its log line.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from flask import Blueprint, Response, request

from crinkkg.formats import HTML, Override, check_format, format_names, negotiate, prefers_html
from crinkkg.problems import Problem, wants_json
from crinkkg.sparqltext import DatasetConflict, Unreadable, add_using
from crinkkg.views import View, parse_view
from crinkkg.web.context import WebContext
from crinkkg.web.http.cors import mark_write, preflight_headers
from crinkkg.web.http.protocol import Operation, parse_operation, query_string
from crinkkg.web.http.responses import Answer, problem_answer, unexpected
from crinkkg.web.http.safety import check_query, check_update, check_update_allowed, read_body
from crinkkg.web.http.urls import endpoint_url
from crinkkg.web.render.pages import render_query_page
from crinkkg.web.services.query import execute_query, format_override

bp = Blueprint("sparql", __name__)

#: the WSGI environ key under which the handler hands its parsed operation to the page
OPERATION = "crinkkg.operation"
#: plans remembered per process (each a few hundred bytes), forgotten all at once
PLANS = 1024


@dataclass(frozen=True)
class Plan:
    """What a request decides before anything runs, checked once."""

    op: Operation
    page: bool  # a browser's request: the query page answers it
    endpoint: str  # the base IRI of the query or update
    view: View = "all"
    fmt: Override = None


class SparqlEndpoint:
    """The handler of every request to ``/sparql``."""

    def __init__(self, context: WebContext) -> None:
        self.settings = context.settings
        self.backend = context.backend
        self.metrics = context.metrics
        self._plans: dict[tuple, Plan] = {}

    def answer(self, environ: dict) -> Answer | None:
        """The answer to this request, or ``None`` for a browser's request (the query
        page's route answers it, with the operation under :data:`OPERATION`)."""
        method = environ.get("REQUEST_METHOD", "GET").upper()
        accept = environ.get("HTTP_ACCEPT")
        try:
            if method == "OPTIONS":
                return Answer(204, "", preflight_headers(self.settings, environ.get("HTTP_ORIGIN")))
            plan = self._planned(environ, method, accept)
            op = plan.op
            if plan.page:
                environ[OPERATION] = op
                return None
            if op.kind == "query":
                return self._query(plan, accept)
            if op.kind == "update":
                return self._update(environ, plan, accept)
            return self._describe(plan, accept)
        except Problem as problem:
            self.metrics.count_error(problem.kind)
            return problem_answer(problem, accept)
        except Exception as exc:  # a bug: said as such, as Flask's routes say it
            problem = unexpected(exc, method, "/sparql")
            self.metrics.count_error(problem.kind)
            return problem_answer(problem, accept)

    def _planned(self, environ: dict, method: str, accept: str | None) -> Plan:
        """The plan of this request: remembered for a ``GET``/``HEAD`` (all it depends on
        is in the key), made afresh for a ``POST`` (it depends on the body)."""
        if method not in ("GET", "HEAD"):
            body = read_body(environ, self.settings.max_body_bytes) if method == "POST" else b""
            return self._plan(environ, method, accept, body)
        get = environ.get
        key = (method, get("QUERY_STRING", ""), accept, get("HTTP_HOST"),
               get("wsgi.url_scheme"), get("SCRIPT_NAME"), get("SERVER_NAME"),
               get("SERVER_PORT"))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plan(environ, method, accept, b"")
            if len(self._plans) >= PLANS:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def _plan(self, environ: dict, method: str, accept: str | None, body: bytes) -> Plan:
        """Parse and check a request as the protocol and the safety rules say."""
        op = parse_operation(method, query_string(environ), environ.get("CONTENT_TYPE") or None,
                             body)
        endpoint = endpoint_url(self.settings, environ)
        if op.kind == "update":
            return Plan(op, False, endpoint)
        if wants_page(op, method, accept):
            return Plan(op, True, endpoint)
        if op.kind == "description":
            return Plan(op, False, endpoint, fmt=format_override(op))
        check_query(op.text, self.settings)
        fmt = format_override(op)
        check_format(fmt)
        return Plan(op, False, endpoint, parse_view(op.param("view")), fmt)

    def _query(self, plan: Plan, accept: str | None) -> Answer:
        reply = execute_query(plan.op, view=plan.view, fmt=plan.fmt, accept=accept,
                              endpoint=plan.endpoint, backend=self.backend,
                              metrics=self.metrics)
        timing = f"query;dur={reply.seconds * 1000:.2f}"
        return Answer(200, reply.content_type, [("Vary", "Accept"), ("Server-Timing", timing)],
                      reply.body)

    def _update(self, environ: dict, plan: Plan, accept: str | None) -> Answer:
        """Apply an update (enabled and authorised only); answer once the inferred graph
        is current."""
        mark_write(environ)
        check_update_allowed(self.settings, environ.get("HTTP_AUTHORIZATION"))
        op = plan.op
        check_update(op.text, self.settings)
        try:
            text = add_using(op.text, op.using_graphs, op.using_named_graphs)
        except DatasetConflict as exc:
            raise Problem(400, "dataset-conflict", str(exc),
                          hint="name the graphs in one place: the update text or the request"
                          ) from None
        except Unreadable as exc:
            raise Problem(400, "syntax-error", f"the update does not parse: {exc}") from None
        prologue = f"BASE <{plan.endpoint}> "
        started = time.perf_counter()
        try:
            reply = self.backend.update(prologue + text, column_shift=len(prologue))
        except Problem:
            self.metrics.count_query("update-error")
            raise
        self.metrics.count_query("update")
        message = reply.body.decode().strip()
        if wants_json(accept):
            body = json.dumps({"status": "ok", "message": message, "quads": reply.count,
                               "seconds": round(time.perf_counter() - started, 3)})
            return Answer(200, "application/json", [], (body + "\n").encode())
        return Answer(200, "text/plain; charset=utf-8", [], (message + "\n").encode())

    def _describe(self, plan: Plan, accept: str | None) -> Answer:
        """``GET /sparql`` without a query: the service description."""
        from crinkkg.web.services.service_description import service_description

        check_format(plan.fmt)
        chosen = negotiate("graph", accept, plan.fmt)
        if chosen is None:
            raise Problem(406, "not-acceptable",
                          "the service description is RDF: none of the accepted types is an "
                          "RDF format", hint="accept text/turtle, application/rdf+xml or "
                                             "application/ld+json")
        body = service_description(plan.endpoint, self.settings, self.backend,
                                   chosen.oxigraph)
        return Answer(200, chosen.content_type, [("Vary", "Accept")], body)


def wants_page(op: Operation, method: str, accept: str | None) -> bool:
    """A browser asking for the endpoint gets the query page, not raw results
    (``format=html`` asks for it too)."""
    if method != "GET":
        return False
    names = format_names(format_override(op))
    if names:
        return all(HTML.named_by(n.split(";", 1)[0].strip().lower()) for n in names)
    return prefers_html(accept)


@bp.route("/sparql", methods=["GET"])
def query_page() -> Response:
    """The query page, for a browser's ``GET /sparql`` (the handler decided it)."""
    op: Operation = request.environ[OPERATION]
    response = render_query_page(query=op.text or None)
    response.headers.add("Vary", "Accept")
    return response
