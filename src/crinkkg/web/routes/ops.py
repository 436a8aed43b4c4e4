"""Operations: ``/health`` (is the store open, how big is it) and ``/metrics``
(Prometheus text: requests, latencies, query outcomes, timeouts, errors by kind)."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response

from crinkkg.problems import Problem, without_paths
from crinkkg.web.context import context, get_backend

bp = Blueprint("operations", __name__)


@bp.route("/health")
def health() -> Response:
    """200 with the store's version and triple counts when a worker answers; else 503."""
    try:
        info = get_backend().health()
    except Problem as problem:
        body = {"status": "damaged" if problem.kind == "store-damaged" else "unavailable",
                "error": problem.kind, "message": problem.message,
                **({"hint": problem.hint} if problem.hint else {})}
        return Response(json.dumps(body, indent=2) + "\n", 503, mimetype="application/json")
    body = {"status": "ok", **info}
    processes = info.get("http_processes")
    if processes and processes["running"] < processes["configured"]:  # still answering
        body.update(status="degraded", hint=processes["hint"])
    status = context().build_status
    build_error = status.error()
    if build_error:  # still serving: the last good store answers
        body.update(status="stale", build_error=without_paths(build_error, _roots()),
                    hint="the last build failed: this is the store of an earlier build; fix "
                         "the inputs and save them: the server builds again" if status.watching
                    else "the last build failed: this is the store of an earlier build; fix "
                         "the inputs and rebuild (`crinkkg build`), then restart the server")
    return Response(json.dumps(body, indent=2) + "\n", 200, mimetype="application/json")


def _roots() -> list[Path]:
    """The folders whose paths an answer shows relative to them (inputs, store)."""
    settings = context().settings
    return [Path(p).absolute() for p in (settings.data_dir, settings.ontology_dir,
                                         settings.store)]


@bp.route("/metrics")
def metrics() -> Response:
    """Prometheus text exposition format."""
    metrics = context().metrics
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
