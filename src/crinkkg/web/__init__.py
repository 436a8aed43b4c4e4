"""The Flask application: SPARQL protocol, graph store, linked data and pages.

:func:`create_app` is the only way to make an app, and the one place it is assembled:
everything it needs comes from the :class:`~crinkkg.settings.Settings` and the
:class:`~crinkkg.backends.contract.Backend` it is given, the per-app services live in one
typed :class:`~crinkkg.web.context.WebContext` (never in module globals), and every request
takes the one :class:`~crinkkg.web.pipeline.Pipeline`. The web layer imports the backend
contract only: the same app serves the embedded store and a remote SPARQL store.
"""

from __future__ import annotations

from typing import TextIO

from flask import Response, request
from werkzeug.exceptions import NotFound

from crinkkg.backends.contract import Backend
from crinkkg.build_status import BuildStatus
from crinkkg.settings import Settings
from crinkkg.web.context import CrinkApp, WebContext
from crinkkg.web.http import responses
from crinkkg.web.http.access_log import AccessLog
from crinkkg.web.http.caching import Validators
from crinkkg.web.http.guard import RequestGuard
from crinkkg.web.http.metrics import Metrics
from crinkkg.web.pipeline import ENDPOINT, Pipeline
from crinkkg.web.render import pages
from crinkkg.web.render.rdfio import shorten
from crinkkg.web.routes import (
    changes,
    compare,
    graph_store,
    ops,
    resources,
    search,
    sparql,
    views,
)


def create_app(settings: Settings, backend: Backend, *, build_error: str | None = None,
               access_log: TextIO | None = None) -> CrinkApp:
    """Make the web application over ``backend``: everything it is made of is installed
    here, in one place (its routes are the blueprints' route tables).

    ``build_error``: the last build failed and the store is an earlier one (``/health``
    and every page say it is stale, and why; with ``--watch``, until a build succeeds).
    ``access_log``: where the access log's lines go (none without it).
    """
    app = CrinkApp(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    metrics = Metrics()
    metrics.gauge("crinkkg_queries_in_flight", "Queries admitted and not yet answered.",
                  lambda: backend.in_flight)
    for name, (text, read) in backend.gauges().items():
        metrics.gauge(name, text, read)
    for name, (text, read) in backend.counters().items():
        metrics.counter(name, text, read)
    status = BuildStatus(settings.store, build_error) if settings.watch \
        else BuildStatus.fixed(build_error)
    validators = Validators(settings, backend.version if backend.kind == "remote" else None,
                            also=status.stamp)
    app.context = WebContext(settings, backend, metrics, validators,
                             RequestGuard(settings), status)
    responses.install(app)
    app.register_error_handler(NotFound, resources.unrouted)
    app.add_template_filter(pages.href_filter, "href")
    app.add_template_filter(shorten, "short")
    app.context_processor(pages.template_globals)
    for blueprint in (sparql.bp, graph_store.bp, changes.bp, ops.bp, search.bp, resources.bp,
                      compare.bp, views.bp):
        app.register_blueprint(blueprint)
    app.after_request(_name_endpoint)
    app.wsgi_app = Pipeline(  # type: ignore[method-assign]
        app.context, app.wsgi_app, AccessLog(access_log) if access_log is not None else None)
    return app


def _name_endpoint(response: Response) -> Response:
    """Tell the pipeline which route answered (the metrics' endpoint label)."""
    rule = request.url_rule
    request.environ[ENDPOINT] = rule.rule if rule is not None else "unmatched"
    return response
