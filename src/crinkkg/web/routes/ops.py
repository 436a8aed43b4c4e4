"""Operations: ``/health`` (is the store open, how big is it) and ``/metrics``
(Prometheus text: requests, latencies, query outcomes, timeouts, errors by kind)."""

from __future__ import annotations

import json
import time

from flask import Blueprint, Response, current_app, g, request

from crinkkg.problems import Problem
from crinkkg.web.backend import EXTENSION, get_backend
from crinkkg.web.http.metrics import Metrics

bp = Blueprint("operations", __name__)


@bp.record_once
def _install(state) -> None:
    app = state.app
    metrics = app.extensions.setdefault("crinkkg.metrics", Metrics())
    backend = app.extensions[EXTENSION]
    metrics.gauge("crinkkg_queries_in_flight", "Queries admitted and not yet answered.",
                  lambda: backend.in_flight)
    for name, (text, read) in backend.gauges().items():
        metrics.gauge(name, text, read)

    @app.before_request
    def _start_timer() -> None:
        g.crinkkg_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("crinkkg_started")
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
            metrics.observe_request(rule, request.method, response.status_code,
                                    time.perf_counter() - started)
        return response


@bp.route("/health")
def health() -> Response:
    """200 with the store's version and triple counts when a worker answers; else 503."""
    try:
        info = get_backend().health()
    except Problem as problem:
        body = {"status": "unavailable", "error": problem.kind, "message": problem.message}
        return Response(json.dumps(body, indent=2) + "\n", 503, mimetype="application/json")
    body = {"status": "ok", **info}
    build_error = current_app.config.get("CRINKKG_BUILD_ERROR")
    if build_error:  # still serving: the last good store answers
        body.update(status="stale", build_error=build_error,
                    hint="the last build failed: this is the store of an earlier build; fix "
                         "the inputs and rebuild (`crinkkg build`), then restart the server")
    return Response(json.dumps(body, indent=2) + "\n", 200, mimetype="application/json")


@bp.route("/metrics")
def metrics() -> Response:
    """Prometheus text exposition format."""
    metrics = current_app.extensions["crinkkg.metrics"]
    try:
        others = get_backend().peer_metrics()
    except Problem as problem:
        return Response(f"# {problem.message}\n", 503,
                        content_type="text/plain; version=0.0.4; charset=utf-8")
    if others is not None:  # several HTTP processes: add up every one's counters
        try:
            metrics = metrics.merged(others)
        except Problem as problem:
            return Response(f"# {problem.message}\n", 503,
                            content_type="text/plain; version=0.0.4; charset=utf-8")
    text = metrics.render()
    return Response(text, 200, content_type="text/plain; version=0.0.4; charset=utf-8")
