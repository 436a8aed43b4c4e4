"""The Flask application: SPARQL protocol, graph store, linked data and pages.

``create_app`` is the only way to make an app; everything it needs comes from the
:class:`~crinkkg.settings.Settings` it is given, and per-app services (the query engine)
live in ``app.extensions``, never in module globals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the query workers import this package too, and need no Flask
    from flask import Flask

    from crinkkg.backends.embedded.engine import QueryEngine
    from crinkkg.settings import Settings


def create_app(settings: Settings, engine: QueryEngine | None = None, *,
               build_error: str | None = None) -> Flask:
    """Make the web application over the store that ``settings`` points at.

    ``build_error``: the last build failed and the store is an earlier one (``/health``
    says it is stale, and why).
    """
    from flask import Flask

    from crinkkg.backends.embedded.engine import QueryEngine
    from crinkkg.web.http.caching import HttpCache
    from crinkkg.web.http.guard import RequestGuard
    from crinkkg.web.routes import graph_store, pages, sparql
    from crinkkg.web.routes import ops as operations
    from crinkkg.web.routes import resources as linked_data

    app = Flask(__name__)
    app.config["CRINKKG"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["CRINKKG_BUILD_ERROR"] = build_error
    app.extensions["crinkkg.engine"] = engine or QueryEngine(settings)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(graph_store.bp)
    app.register_blueprint(operations.bp)
    app.register_blueprint(linked_data.bp)
    app.register_blueprint(pages.bp)
    # around the fast path too: validators, 304s and gzip for every answer; outermost, the
    # Host and body checks that every request meets first
    app.wsgi_app = HttpCache(app.wsgi_app, settings)  # type: ignore[method-assign]
    app.wsgi_app = RequestGuard(app.wsgi_app, settings)  # type: ignore[method-assign]
    return app
