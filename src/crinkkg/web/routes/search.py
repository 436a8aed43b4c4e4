"""``/search``: full-text search of the sources' sentences and of the graph's resources,
as a page or as JSON; ``/sparql/complete``: the query editor's completion of the graph's
own resources. Both read the index the build wrote beside the store version served.

Format choice, first match wins: ``?format=json`` or ``html``, then ``Accept``
(``Vary: Accept``); with no ``Accept`` at all, JSON (what ``curl`` gets).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from crinkkg.problems import Problem
from crinkkg.web.render.search import search_page
from crinkkg.web.services.search import completions, find, find_for_page

bp = Blueprint("search", __name__)

JSON_TYPE = "application/json"
HTML_TYPE = "text/html"


def _wants_html() -> bool:
    asked = request.args.get("format")
    if asked is not None:
        if asked not in ("json", "html"):
            raise Problem(400, "unknown-format", f"format={asked} is not a format of /search",
                          hint="use format=json or format=html")
        return asked == "html"
    accept = request.accept_mimetypes
    if not request.headers.get("Accept", "").strip():
        return False
    best = accept.best_match((JSON_TYPE, HTML_TYPE))
    if best is None:
        raise Problem(406, "not-acceptable", "/search answers in JSON or HTML only",
                      hint="accept application/json or text/html, or pass format=json",
                      headers={"Vary": "Accept"})
    return best == HTML_TYPE


def _number(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise Problem(400, "bad-parameter", f"{name}={raw} is not a whole number",
                      hint=f"give {name} as a whole number, e.g. {name}=10")
    return int(raw)


def _json(body: dict) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), 200,
                        content_type=JSON_TYPE)
    response.headers.add("Vary", "Accept")
    return response


@bp.route("/search")
def search() -> Response:
    """The hits for ``q`` (passages: the sentences, with their source and claims;
    resources: by label, description or local name); ``scope``, ``limit``, ``offset``."""
    text = request.args.get("q", "")
    scope = request.args.get("scope", "all")
    offset = _number("offset", 0)
    if _wants_html():
        return search_page(find_for_page(text, scope=scope, offset=offset))
    if not text.strip():
        raise Problem(400, "bad-search", "no search text: give q=",
                      hint='e.g. /search?q="mutual defence" or /search?q=sanction*')
    return _json(find(text, scope=scope, limit=_number("limit", 0) or None, offset=offset))


@bp.route("/sparql/complete")
def complete() -> Response:
    """Resources whose local name, or words of whose label, start with ``prefix`` (JSON):
    bounded by ``limit`` and the server's ``--search-limit``."""
    prefix = request.args.get("prefix", "")
    return _json(completions(prefix, _number("limit", 0) or None))
