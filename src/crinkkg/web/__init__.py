"""The Flask application: SPARQL protocol, graph store, linked data and pages.

``create_app`` is the only way to make an app; everything it needs comes from the
:class:`~crinkkg.settings.Settings` and the :class:`~crinkkg.backends.contract.Backend` it
is given, and per-app services (the backend, metrics) live in ``app.extensions``, never in
module globals. The web layer imports the backend contract only: the same app serves the
embedded store and a remote SPARQL store.
"""

from __future__ import annotations

from flask import Flask

from crinkkg.backends.contract import Backend
from crinkkg.settings import Settings
from crinkkg.web.backend import EXTENSION
from crinkkg.web.http.caching import HttpCache
from crinkkg.web.http.guard import RequestGuard
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
    app.wsgi_app = HttpCache(app.wsgi_app, settings)  # type: ignore[method-assign]
    app.wsgi_app = RequestGuard(app.wsgi_app, settings)  # type: ignore[method-assign]
    return app
