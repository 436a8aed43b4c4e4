"""GeoSPARQL functions: each one crinkkg lets through is answered by the engine for every
kind of geometry; each one it refuses is one the engine leaves unbound for some arguments
(or does not know); over HTTP a refused call is a 501 ``unsupported-function``, never a 200
with an empty answer (issue 20, item 8)."""

from __future__ import annotations

import itertools

import pyoxigraph as ox
import pytest
import requests
from servers import project_server

from crinkkg.functions import GEOF, GEOF_PARTIAL, GEOF_SUPPORTED, check_functions
from crinkkg.problems import Problem

PROLOGUE = (f"PREFIX geof: <{GEOF}> PREFIX geo: <http://www.opengis.net/ont/geosparql#> "
            "PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/> ")
#: one geometry of each kind, overlapping so that binary operations have a non-empty result
GEOMETRIES = {
    "point": '"POINT(1 1)"^^geo:wktLiteral',
    "line": '"LINESTRING(0 0, 2 2)"^^geo:wktLiteral',
    "polygon": '"POLYGON((0 0, 0 2, 2 2, 2 0, 0 0))"^^geo:wktLiteral',
}
#: the third argument of geof:relate: a DE-9IM intersection pattern
EXTRA = {"relate": ['"T********"']}


def engine(call: str) -> ox.Term | None:
    """The embedded engine's value of one function call (None when unbound)."""
    rows = list(ox.Store().query(PROLOGUE + f"SELECT ({call} AS ?v) WHERE {{}}"))
    return rows[0]["v"]


@pytest.mark.parametrize("name", sorted(GEOF_SUPPORTED))
def test_each_supported_function_answers_for_every_kind_of_geometry(name: str) -> None:
    arity = GEOF_SUPPORTED[name]
    geometric = arity - len(EXTRA.get(name, []))
    for kinds in itertools.product(GEOMETRIES, repeat=geometric):
        args = [GEOMETRIES[k] for k in kinds] + EXTRA.get(name, [])
        call = f"geof:{name}({', '.join(args)})"
        assert engine(call) is not None, f"{call} is unbound: move {name} to GEOF_PARTIAL"
        check_functions(PROLOGUE + f"SELECT ({call} AS ?v) {{}}", {})


@pytest.mark.parametrize("name", sorted(GEOF_PARTIAL))
def test_each_refused_function_is_unbound_for_some_arguments(name: str) -> None:
    """The reason a function is refused holds for this engine; when an upgrade makes it
    answer for every argument, this fails: move it to GEOF_SUPPORTED."""
    units = ["uom:metre", "uom:degree", "uom:radian"]
    calls = {
        "distance": [f"geof:distance({a}, {b}, {u})" for a in GEOMETRIES.values()
                     for b in GEOMETRIES.values() for u in units],
        "length": [f"geof:length({GEOMETRIES['line']}, {u})" for u in units],
        "area": [f"geof:area({GEOMETRIES['polygon']}, {u})" for u in units],
    }.get(name) or [f"geof:{name}({a}, {b})" for a in GEOMETRIES.values()
                    for b in GEOMETRIES.values()]
    assert any(engine(call) is None for call in calls)
    with pytest.raises(Problem) as refused:
        check_functions(PROLOGUE + f"SELECT ({calls[0]} AS ?v) {{}}", {})
    assert refused.value.status == 501 and refused.value.kind == "unsupported-function"


@pytest.mark.parametrize("query,status", [
    ("SELECT (geof:sfIntersects(?a, ?b) AS ?v) { BIND(\"POINT(1 1)\"^^geo:wktLiteral AS ?a) "
     "BIND(\"POLYGON((0 0, 0 2, 2 2, 2 0, 0 0))\"^^geo:wktLiteral AS ?b) }", 200),
    ("SELECT (geof:distance(\"POINT(1 1)\"^^geo:wktLiteral, \"POINT(1 2)\"^^geo:wktLiteral, "
     "uom:metre) AS ?v) {}", 501),
    ("SELECT ?v { BIND(geof:sfContains(?a) AS ?v) }", 501),  # one argument of two
    ("SELECT ?v { BIND(geof:buffer(?a, 1, uom:metre) AS ?v) }", 501),  # unknown to the engine
    ("SELECT ?v { BIND(<http://www.opengis.net/def/function/geosparql/area>(?a) AS ?v) }", 501),
    # a geof: IRI that is not called (a predicate here) is no function call
    ("ASK { ?s geof:distance ?o }", 200),
])
def test_over_http_a_refused_function_is_a_501(tmp_path_factory, query: str,
                                               status: int) -> None:
    server = project_server(tmp_path_factory.getbasetemp())
    r = requests.get(server.sparql, params={"query": PROLOGUE + query},
                     headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert r.status_code == status, r.text[:500]
    if status == 501:
        problem = r.json()
        assert problem["error"] == "unsupported-function"
        assert "geof:" in problem["message"] and "sfIntersects" in problem["hint"]
    elif "sfIntersects" in query:
        assert r.json()["results"]["bindings"][0]["v"]["value"] == "true"
