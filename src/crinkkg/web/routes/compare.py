"""``/compare/{a}/{b}`` and ``/compare/{matter}``: what the sources say, side by side, for a
pair of resources (two states) or for one matter of several sources' accounts."""

from __future__ import annotations

from flask import Blueprint, Response

from crinkkg.web.http.urls import iri_for
from crinkkg.web.render.pages import compare_page, not_found_page
from crinkkg.web.services.compare import compare_matter, compare_pair

bp = Blueprint("compare", __name__)


@bp.route("/compare/<name>")
def matter(name: str) -> Response:
    """A matter's accounts by source (``/compare/matter-su-35-for-iran``)."""
    iri = iri_for("id/" + name)
    found = compare_matter(iri)
    if found is None:
        return not_found_page(iri, f"<{iri}> is no matter with accounts of its sources "
                                   "(crink:Matter, crink:hasAccount)", [])
    return compare_page(found, pair=False)


@bp.route("/compare/<a>/<b>")
def pair(a: str, b: str) -> Response:
    """The claims that name both ``a`` and ``b`` by source (``/compare/iran/russia``)."""
    first, second = iri_for("id/" + a), iri_for("id/" + b)
    found = compare_pair(first, second)
    if found is None or not found.by_source:
        return not_found_page(f"{first} {second}", f"no claim of the graph names both <{first}> "
                                                   f"and <{second}>", [])
    return compare_page(found, pair=True)
