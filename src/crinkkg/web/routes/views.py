"""``POST /views/timeline``: the query editor's timeline view of an answer, drawn by the same
code as the overview's timeline (a year or a month as the stretch of time it allows, a day
as a point), so that a user's own dated rows look as the graph's own do."""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, request

from crinkkg.problems import Problem
from crinkkg.web.render.diagram import Dated, timeline_svg

bp = Blueprint("views", __name__)

#: rows drawn at most (the editor sends no more)
MAX_ITEMS = 500
_DATE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")


@bp.route("/views/timeline", methods=["POST"])
def timeline() -> Response:
    """The SVG timeline of ``{"items": [{"label", "date", "href"?}, ...]}``; ``date`` is
    ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (its precision), ``href`` a path on this
    server."""
    try:
        items = json.loads(request.get_data(as_text=True) or "null")["items"]
        if not isinstance(items, list):
            raise TypeError("items is not a list")
        dated = [_dated(i, n) for n, i in enumerate(items[:MAX_ITEMS])]
    except (ValueError, KeyError, TypeError) as exc:
        raise Problem(400, "bad-timeline",
                      f"the body is not a timeline's items: {exc}",
                      hint='send JSON: {"items": [{"label": "…", "date": "2024-06", '
                           '"href": "/id/…"}]}, dates as YYYY, YYYY-MM or YYYY-MM-DD') from None
    svg = timeline_svg(dated, title="Timeline of the answer's dated rows (a year or a month "
                                    "drawn as the stretch of time it allows)")
    return Response(str(svg), 200, content_type="image/svg+xml; charset=utf-8"
                    if str(svg).startswith("<svg") else "text/html; charset=utf-8")


def _dated(item: object, n: int) -> Dated:
    if not isinstance(item, dict):
        raise TypeError(f"item {n} is not an object")
    label, date, href = item.get("label"), item.get("date"), item.get("href")
    if not isinstance(label, str) or not isinstance(date, str) or not _DATE.fullmatch(date):
        raise ValueError(f"item {n} needs a label and a date as YYYY, YYYY-MM or YYYY-MM-DD")
    root = request.script_root + "/"
    if href is not None and (not isinstance(href, str) or not href.startswith(root)
                             or href.startswith("//")):
        raise ValueError(f"item {n}: href must be a path on this server")
    return Dated(key=str(n), label=label[:200], href=href, date=date, lane="event")
