"""``/changes``: the journal of acknowledged writes as a change feed, in RDF Patch.

An analyst asks "what changed since last week?" with ``/changes?since=2026-11-29``, or
since the last change they saw with ``/changes?since=<its id>``. The feed has its own
strong validator (a digest of its body), since folding or discarding the journal changes
it without publishing a new store version.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request
from werkzeug.http import quote_etag

from crinkkg.web.context import get_backend

bp = Blueprint("changes", __name__)


@bp.route("/changes")
def changes() -> Response:
    """Every journalled write (oldest first), or those after ``since`` (an id or a date)."""
    reply = get_backend().changes(request.args.get("since"))
    etag = hashlib.sha256(reply.body).hexdigest()[:32]
    headers = {"ETag": quote_etag(etag), "Cache-Control": "no-cache",
               "X-Changes-Count": str(reply.count)}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    # browsers show text/plain; RDF Patch clients ask for (or accept) its own type
    accept = request.accept_mimetypes
    media = "text/plain; charset=utf-8" \
        if accept.quality("text/plain") > accept.quality(reply.content_type) \
        else reply.content_type
    return Response(reply.body, 200, content_type=media, headers=headers)
