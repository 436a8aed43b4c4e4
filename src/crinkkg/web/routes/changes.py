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

from crinkkg.problems import Problem
from crinkkg.store.journal import MEDIA_TYPE, JournalDamaged
from crinkkg.web.context import get_backend

bp = Blueprint("changes", __name__)


@bp.route("/changes")
def changes() -> Response:
    """Every journalled write (oldest first), or those after ``since`` (an id or a date)."""
    journal = get_backend().journal()
    since = request.args.get("since")
    try:
        patches = journal.patches() if since is None else journal.since(since)
    except KeyError:
        raise Problem(404, "no-such-change", f"no journalled write has the id <{since}>",
                      hint="give the id of a write this feed listed (its `H id` row), or a "
                           "date such as 2026-11-29 (UTC)") from None
    except JournalDamaged as exc:
        raise Problem(503, "journal-damaged", exc.message,
                      hint="the operator must repair or move aside the store's journal of "
                           "writes") from None
    body = "".join(patch.text() for patch in patches).encode("utf-8")
    etag = hashlib.sha256(body).hexdigest()[:32]
    headers = {"ETag": quote_etag(etag), "Cache-Control": "no-cache",
               "X-Changes-Count": str(len(patches))}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    # browsers show text/plain; RDF Patch clients ask for (or accept) its own type
    accept = request.accept_mimetypes
    media = "text/plain; charset=utf-8" \
        if accept.quality("text/plain") > accept.quality(MEDIA_TYPE) else MEDIA_TYPE
    return Response(body, 200, content_type=media, headers=headers)
