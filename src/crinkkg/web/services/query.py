"""Check and run one SPARQL query: shared by the ``/sparql`` route and its WSGI fast path."""

from __future__ import annotations

from crinkkg.backends.contract import Backend, Reply
from crinkkg.formats import check_format
from crinkkg.problems import Problem
from crinkkg.settings import Settings
from crinkkg.views import View, parse_view
from crinkkg.web.http.metrics import Metrics
from crinkkg.web.http.protocol import Operation
from crinkkg.web.http.safety import check_query


def _view(op: Operation) -> View:
    return parse_view(op.param("view"))


def execute_query(op: Operation, *, accept: str | None, endpoint: str, settings: Settings,
                  engine: Backend, metrics: Metrics) -> Reply:
    """Check and evaluate a query (shared by the Flask route and the WSGI fast path)."""
    check_query(op.text, settings)
    fmt = format_override(op)
    check_format(fmt)
    try:
        reply = engine.query(op.text, view=_view(op), default_graphs=op.default_graphs,
                             named_graphs=op.named_graphs, base_iri=endpoint,
                             accept=accept, fmt=fmt)
    except Problem as problem:
        metrics.count_query("timeout" if problem.kind == "timeout" else
                            "rejected" if problem.status == 503 else "error")
        raise
    metrics.count_query("ok")
    return reply


def format_override(op: Operation) -> tuple[str, ...] | None:
    """Every ``format=`` value (else every ``output=`` value): clients such as SPARQLWrapper
    send several, a name and a list of media types."""
    values = op.params.get("format") or op.params.get("output")
    return tuple(values) if values else None
