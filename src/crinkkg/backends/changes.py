"""The change feed behind ``/changes``: a store's journal of writes, as RDF Patch."""

from __future__ import annotations

import time
from pathlib import Path

from crinkkg.backends.contract import Reply
from crinkkg.errors import StoreError
from crinkkg.problems import Problem
from crinkkg.store.journal import MEDIA_TYPE, Journal, JournalDamaged
from crinkkg.store.layout import StoreLayout


def journal_feed(link: Path, since: str | None) -> Reply:
    """Every journalled write of the store at ``link`` (oldest first), or those after
    ``since`` (a write's id, or a date or date-time in UTC), in RDF Patch."""
    started = time.perf_counter()
    try:
        record = StoreLayout(link).build_record()
    except StoreError:
        record = {}
    try:
        patches, _never = Journal(link).published(record, since)
    except KeyError:
        raise Problem(404, "no-such-change", f"no journalled write has the id <{since}>",
                      hint="give the id of a write this feed listed (its `H id` row), or a "
                           "date such as 2026-11-29 (UTC)") from None
    except JournalDamaged as exc:
        raise Problem(503, "journal-damaged", exc.message,
                      hint="the operator must repair or move aside the store's journal of "
                           "writes") from None
    body = "".join(patch.text() for patch in patches).encode("utf-8")
    return Reply(MEDIA_TYPE, body, len(patches), time.perf_counter() - started)
