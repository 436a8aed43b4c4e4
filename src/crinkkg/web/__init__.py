"""The Flask application: SPARQL protocol, graph store, linked data and pages.

``create_app`` is the only way to make an app; everything it needs comes from the
:class:`~crinkkg.settings.Settings` and the :class:`~crinkkg.backends.contract.Backend` it
is given, and per-app services (the backend, metrics) live in ``app.extensions``, never in
module globals. The web layer imports the backend contract only: the same app serves the
embedded store and a remote SPARQL store.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from crinkkg.backends.contract import Backend
from crinkkg.settings import Settings
from crinkkg.web.backend import EXTENSION
from crinkkg.web.http.access_log import AccessLog
from crinkkg.web.http.caching import HttpCache
from crinkkg.web.http.guard import RequestGuard
from crinkkg.web.http.query_lane import QueryLane
from crinkkg.web.routes import graph_store, ops, pages, resources, sparql


def create_app(settings: Settings, backend: Backend, *,
               build_error: str | None = None) -> Flask:
    """Make the web application over ``backend``.

    ``build_error``: the last build failed and the store is an earlier one (``/health``
    says it is stale, and why).
    """
    app = Flask(__name__)
    app.config["CRINKKG"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["CRINKKG_BUILD_ERROR"] = build_error
    app.extensions[EXTENSION] = backend
    app.register_blueprint(sparql.bp)
    app.register_blueprint(graph_store.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(resources.bp)
    app.register_blueprint(pages.bp)
    # around the fast path too: validators, 304s and gzip for every answer; outermost, the
    # Host and body checks that every request meets first
    cache = app.extensions["crinkkg.cache"] = HttpCache(app.wsgi_app, settings)
    guard = app.extensions["crinkkg.guard"] = RequestGuard(cache, settings)
    app.wsgi_app = guard  # type: ignore[method-assign]
    return app


def serving_app(app: Flask, log_stream=None) -> Callable:
    """The WSGI callable a server runs: ``app`` behind its access log (``log_stream``,
    default stderr), with the query lane in front for the busiest requests."""
    return QueryLane(AccessLog(app, log_stream), app)
