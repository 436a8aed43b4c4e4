"""The ``/search`` page: the search form, the sentences that match with their words
marked, their source and the claims anchored in them, and the resources that match."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, render_template, request

from crinkkg.web.render.pages import html
from crinkkg.web.services.search import Found


def search_page(found: Found) -> Response:
    """The page for ``found`` (a problem is shown on it, with its status)."""
    more = None
    if found.more:
        more = f"{request.script_root}/search?" + urlencode(
            {"q": found.text, "scope": found.scope, "offset": found.offset + found.limit})
    status = found.problem.status if found.problem is not None else 200
    response = html(render_template("search.html", found=found, more=more), status)
    response.headers.add("Vary", "Accept")
    return response
