"""Query evaluation for the web layer: the one place that runs SPARQL against the store.

Contract used by every blueprint (keep it stable):

- ``get_engine()`` inside a request gives the app's :class:`QueryEngine`.
- ``engine.select_json(sparql, view="all") -> dict``: SPARQL 1.1 JSON results, parsed.
- ``engine.ask(sparql, view="all") -> bool``.
- ``engine.construct(sparql, fmt: pyoxigraph.RdfFormat, view="all") -> bytes``.
- ``engine.store`` is not part of the contract: blueprints never touch pyoxigraph.

This first version evaluates in-process; the protocol layer replaces the internals with
killable worker processes without changing the methods above.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
from flask import current_app

from ..namespaces import PREFIXES
from ..settings import Settings
from ..store import OxigraphStore, View


class QueryEngine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store = OxigraphStore.open(settings.store)

    def select_json(self, sparql: str, view: View = "all") -> dict:
        result = self._store.query(sparql, view=view)
        return json.loads(result.serialize(format=ox.QueryResultsFormat.JSON))

    def ask(self, sparql: str, view: View = "all") -> bool:
        return bool(self._store.query(sparql, view=view))

    def construct(self, sparql: str, fmt: ox.RdfFormat, view: View = "all") -> bytes:
        return ox.serialize(self._store.query(sparql, view=view), format=fmt, prefixes=PREFIXES)


def get_engine() -> QueryEngine:
    return current_app.extensions["crinkkg.engine"]
