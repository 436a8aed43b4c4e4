"""Cross-origin resource sharing, configured by ``Settings.cors_origins``.

On by default (``*``) so that notebooks and web pages elsewhere can query the endpoint and
read graphs; switched off with ``--cors-origin none``; or limited to a list of origins.
"""

from __future__ import annotations

from flask import Flask, Response, request

from ..settings import Settings

ALLOWED_METHODS = "GET, POST, PUT, DELETE, HEAD, OPTIONS"
ALLOWED_HEADERS = "Accept, Authorization, Content-Type"
EXPOSED_HEADERS = "Content-Type, Retry-After, Server-Timing, Location"


def allowed_origin(settings: Settings, origin: str | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for ``origin``, or ``None``."""
    if not origin or not settings.cors_origins:
        return None
    if "*" in settings.cors_origins:
        return "*"
    return origin if origin in settings.cors_origins else None


def is_preflight() -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def preflight(settings: Settings) -> Response:
    """The answer to an ``OPTIONS`` preflight (or a plain ``OPTIONS``)."""
    response = Response(status=204)
    response.headers["Allow"] = ALLOWED_METHODS
    if allowed_origin(settings, request.headers.get("Origin")):
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def install(app: Flask) -> None:
    """Add CORS headers to every response whose request came from an allowed origin."""
    settings: Settings = app.config["CRINKKG"]

    @app.after_request
    def add_cors(response: Response) -> Response:
        origin = allowed_origin(settings, request.headers.get("Origin"))
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            if origin != "*":
                response.headers.add("Vary", "Origin")
        return response
