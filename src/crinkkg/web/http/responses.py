"""Turning answers and :class:`Problem` errors into HTTP responses, app-wide.

``install(app)`` (called once when the SPARQL blueprint is registered) makes every
:class:`Problem`, every oversized body and every unexpected exception answer with a JSON
or plain-text body that says what went wrong and what to do.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from crinkkg.problems import Problem, render, wants_json

__all__ = ["install", "problem_response", "wants_json"]

log = logging.getLogger("crinkkg.web")


def problem_response(problem: Problem) -> Response:
    """The response for a problem, in JSON or text by the request's ``Accept``."""
    content_type, body = render(problem, request.headers.get("Accept"))
    response = Response(body, problem.status, content_type=content_type)
    for key, value in problem.headers.items():
        response.headers[key] = value
    response.headers.add("Vary", "Accept")
    metrics = current_app.extensions.get("crinkkg.metrics")
    if metrics is not None:
        metrics.count_error(problem.kind)
    return response


def _too_large(exc: RequestEntityTooLarge) -> Response:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return problem_response(Problem(
        413, "too-large", f"the request body is larger than the server's limit of {limit} bytes",
        hint="send less at once, or ask the operator for a larger --max-body-bytes",
        extra={"max_body_bytes": limit}))


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return exc  # type: ignore[return-value]
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response(Problem(500, "internal", f"{type(exc).__name__}: {exc}",
                                    hint="this is a bug in the server: please report it"))


def install(app: Flask) -> None:
    """Register the app-wide error handlers."""
    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(Exception, _unexpected)
