"""Turning :class:`Problem` errors into HTTP answers, for every handler.

:func:`problem_answer` is the one form of an error's answer (a JSON or plain-text body
that says what went wrong and what to do); :func:`install` makes every Flask route's
:class:`Problem`, oversized body and unexpected exception answer with it.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from crinkkg.problems import Problem, render, wants_json
from crinkkg.web.context import context
from crinkkg.web.http.safety import too_large

__all__ = ["Answer", "install", "problem_answer", "problem_response", "unexpected",
           "wants_json"]

log = logging.getLogger("crinkkg.web")


class Answer(NamedTuple):
    """A complete answer of a handler: the pipeline adds the headers every answer gets
    (``Content-Type`` and ``Content-Length`` from these fields)."""

    status: int
    content_type: str  # "" for an answer without a body
    headers: list[tuple[str, str]]  # its own headers besides those two
    body: bytes = b""


def problem_answer(problem: Problem, accept: str | None) -> Answer:
    """The answer a problem earns, in JSON or text by ``Accept``."""
    content_type, body = render(problem, accept)
    return Answer(problem.status, content_type, [("Vary", "Accept"), *problem.headers.items()],
                  body)


def unexpected(exc: Exception, method: str | None, path: str | None) -> Problem:
    """The problem an unexpected exception (a bug) is answered with, logged."""
    log.exception("unhandled error on %s %s", method, path, exc_info=exc)
    return Problem(500, "internal", f"{type(exc).__name__}: {exc}",
                   hint="this is a bug in the server: please report it")


def problem_response(problem: Problem) -> Response:
    """The Flask response for a problem (:func:`problem_answer`), counted in the metrics."""
    answer = problem_answer(problem, request.headers.get("Accept"))
    context().metrics.count_error(problem.kind)
    return Response(answer.body, answer.status, headers=answer.headers,
                    content_type=answer.content_type)


def _too_large(exc: RequestEntityTooLarge) -> Response:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return problem_response(too_large(limit))


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return exc  # type: ignore[return-value]
    return problem_response(unexpected(exc, request.method, request.path))


def install(app: Flask) -> None:
    """Register the app-wide error handlers."""
    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(Exception, _unexpected)
