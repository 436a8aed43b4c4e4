"""Extension functions: those the engine answers for every argument, and a 501 for the rest.

Oxigraph refuses an extension function it does not know ("custom function ... is not
supported": crinkkg's 501 ``unsupported-function``), but it knows part of GeoSPARQL 1.1's
``geof:`` functions, and some of those only for some arguments: ``geof:distance`` of two
points in metres has an answer, of two polygons or in degrees it is unbound, with a 200, as
if the data had no answer. A user cannot tell that silence from "no such data". So a query
is checked before it runs: a ``geof:`` function the engine answers for every geometry, with
its arity, passes (:data:`GEOF_SUPPORTED`, each checked against the engine by a test); any
other ``geof:`` call is refused with a 501 that names what the engine lacks.
"""

from __future__ import annotations

from crinkkg.problems import Problem
from crinkkg.sparqltext import Unreadable, declared_prefixes, resolve, tokenize

GEOF = "http://www.opengis.net/def/function/geosparql/"

#: the geof: functions the engine answers for every geometry, by their number of arguments
GEOF_SUPPORTED: dict[str, int] = {
    **dict.fromkeys(("sfEquals", "sfDisjoint", "sfIntersects", "sfTouches", "sfCrosses",
                     "sfWithin", "sfContains", "sfOverlaps"), 2),
    **dict.fromkeys(("ehEquals", "ehDisjoint", "ehMeet", "ehOverlap", "ehCovers",
                     "ehCoveredBy", "ehInside", "ehContains"), 2),
    **dict.fromkeys(("rcc8eq", "rcc8dc", "rcc8ec", "rcc8po", "rcc8tppi", "rcc8tpp",
                     "rcc8ntpp", "rcc8ntppi"), 2),
    "relate": 3,
    **dict.fromkeys(("convexHull", "envelope", "centroid", "getSRID", "dimension",
                     "coordinateDimension", "spatialDimension", "isEmpty", "isSimple",
                     "asGeoJSON"), 1),
}

#: geof: functions the engine knows but answers for some arguments only (unbound otherwise)
GEOF_PARTIAL: dict[str, str] = {
    "distance": "it measures between two points only, and in uom:metre only (any other "
                "geometry or unit gives no value)",
    "length": "it measures in uom:metre only (any other unit gives no value)",
    "area": "it gives no value for any geometry or unit",
    **dict.fromkeys(("intersection", "union", "difference", "symDifference"),
                    "it combines two polygons only (a point or a line gives no value)"),
}


def check_functions(text: str, prefixes: dict[str, str]) -> None:
    """501 ``unsupported-function`` for a ``geof:`` call the engine would not answer for
    every argument (its name, or its number of arguments); ``prefixes`` are those the
    server declares for every query.

    >>> P = {"geof": GEOF}
    >>> check_functions("ASK { FILTER(geof:sfContains(?a, ?b)) }", P)
    >>> check_functions("SELECT (geof:distance(?a, ?b, ?u) AS ?d) {}", P)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crinkkg.problems.Problem: the query calls geof:distance, ... in uom:metre only ...
    """
    if "geosparql" not in text and "geof" not in text:
        return
    try:
        tokens = tokenize(text)
    except Unreadable:
        return  # the parser reports it
    known = {**prefixes, **declared_prefixes(tokens)}
    for i, t in enumerate(tokens[:-1]):
        if t.kind not in ("iri", "pname") or tokens[i + 1].value != "(":
            continue
        iri = resolve(t, known)
        if not iri or not iri.startswith(GEOF):
            continue
        name = iri[len(GEOF):]
        arity = _arguments(tokens, i + 1)
        if GEOF_SUPPORTED.get(name) == arity:
            continue
        if name in GEOF_PARTIAL:
            what = f"geof:{name}, which this server does not implement for every argument: " \
                   + GEOF_PARTIAL[name]
        elif name in GEOF_SUPPORTED:
            takes = GEOF_SUPPORTED[name]
            what = f"geof:{name} with {arity} argument{'s' if arity != 1 else ''}; it takes " \
                   f"{takes}"
        else:
            what = f"geof:{name}, which this server does not implement"
        raise Problem(501, "unsupported-function", f"the query calls {what}",
                      hint="the geof: functions answered for every geometry are "
                           + ", ".join(sorted(GEOF_SUPPORTED)) + " (docs/querying.md)",
                      extra={"function": iri})


def _arguments(tokens: list, open_at: int) -> int:
    """The number of arguments of the call whose ``(`` is at ``open_at``."""
    depth, count, empty = 0, 1, True
    for t in tokens[open_at:]:
        if t.value in ("(", "[", "{"):
            depth += 1
            if depth == 1:
                continue
        elif t.value in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                break
        elif t.value == "," and depth == 1:
            count += 1
        empty = False
    return 0 if empty else count
