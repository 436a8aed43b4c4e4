"""Run one checked SPARQL query against the backend, counting its outcome."""

from __future__ import annotations

from crinkkg.backends.contract import Backend, Reply
from crinkkg.formats import Override
from crinkkg.problems import Problem
from crinkkg.views import View
from crinkkg.web.http.metrics import Metrics
from crinkkg.web.http.protocol import Operation


def execute_query(op: Operation, *, view: View, fmt: Override, accept: str | None,
                  endpoint: str, backend: Backend, metrics: Metrics) -> Reply:
    """Evaluate a query that passed the safety and format checks (the ``/sparql``
    handler's plan) and count its outcome."""
    try:
        reply = backend.query(op.text, view=view, default_graphs=op.default_graphs,
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
