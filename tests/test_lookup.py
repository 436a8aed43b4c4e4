"""The engine-free lookups of :mod:`crinkkg.backends.lookup` give the SPARQL engine's answer
(they are off by default, being slower than the engine with pyoxigraph 0.5; kept correct).

Property test: hypothesis draws one-pattern queries (variables, IRIs and prefixed names
from the store's own terms, unknown IRIs, ``a``, literals, dot segments, redeclared
prefixes, SELECT lists with unbound or repeated columns, LIMIT), a view, a result
format and the caps, and :func:`run_bounded_query` must give the same outcome with and
without the fast path: the same bytes, content type and count, the same Problem, or the
same fall-back to a worker. Over the curated store (disk) and over a synthetic one with
blank nodes, language and typed literals, awkward strings, a triple held in two graphs
and the default graph, with and without the merge graph of ``crinkkg.store.oxigraph``.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crinkkg.backends.evaluation import OverBudget, run_bounded_query
from crinkkg.backends.lookup import plan
from crinkkg.problems import Problem
from crinkkg.sparqltext import single_pattern
from crinkkg.store.oxigraph import INFERRED, OxigraphStore, write_merge
from crinkkg.vocab import PREFIXES

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
ACCEPTS = [None, "application/sparql-results+json", "application/sparql-results+xml",
           "text/csv", "text/tab-separated-values", "text/turtle", "application/n-triples",
           "application/rdf+xml", "application/ld+json", "application/trig", "image/png",
           "*/*", "application/sparql-results+json, text/turtle;q=0.5"]


def _synthetic(merge: bool) -> OxigraphStore:
    store = ox.Store()
    n = ox.NamedNode
    g1, g2 = n(EX + "g1"), n(EX + "g2")
    subjects = [n(EX + f"s{i}") for i in range(4)] + [ox.BlankNode("b0"), ox.BlankNode("b1"),
                                                      n(PREFIXES["crink"] + "Iran")]
    preds = [n(EX + "p0"), n(EX + "p1"), n("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
             n(PREFIXES["crink"] + "label")]
    objects = [n(EX + "o0"), n(EX + "s1"), ox.BlankNode("b1"), ox.Literal("plain"),
               ox.Literal("chat", language="fr-CA"), ox.Literal("Hi", language="en"),
               ox.Literal("42", datatype=n(XSD + "integer")),
               ox.Literal("x", datatype=n(XSD + "string")),
               ox.Literal('q"uo\\te\n\t\r\b\f\x01\x1f\x7f é 😀 \u2028/</x>'),
               ox.Literal("2024-01-01", datatype=n(XSD + "date"))]
    graphs = [ox.DefaultGraph(), g1, g2, INFERRED]
    quads = []
    k = 0
    for s in subjects:
        for p in preds:
            for o in objects[k % 3: k % 3 + 4]:
                quads.append(ox.Quad(s, p, o, graphs[k % 4]))
                k += 1
    quads.append(ox.Quad(subjects[0], preds[0], objects[0], g1))  # shared by g1 and g2
    quads.append(ox.Quad(subjects[0], preds[0], objects[0], g2))
    store.extend(quads)
    if merge:
        write_merge(store, [q for q in quads if q.graph_name != INFERRED])
    return OxigraphStore(store, read_only=True)


@pytest.fixture(scope="module", params=["union", "merge"])
def synthetic(request) -> OxigraphStore:
    return _synthetic(request.param == "merge")


def _vocabulary(store: OxigraphStore) -> list[str]:
    terms: set[str] = set()
    for q in store.quads():
        for t in (q.subject, q.predicate, q.object):
            if isinstance(t, ox.NamedNode):
                terms.add(t.value)
        if len(terms) > 60:
            break
    return sorted(terms)


def _written(iri: str, draw) -> str:
    """An IRI as the query writes it: <iri>, or a prefixed name when a prefix fits."""
    for name, base in PREFIXES.items():
        if iri.startswith(base) and draw(st.booleans()):
            return f"{name}:{iri[len(base):]}"
    if iri.startswith(EX) and draw(st.booleans()):
        return f"ex:{iri[len(EX):]}"
    return f"<{iri}>"


@st.composite
def queries(draw, vocabulary: list[str]) -> str:
    names = ["s", "p", "o", "x"]
    terms: list[str] = []
    for position in "spo":
        kind = draw(st.sampled_from(["var"] * 4 + ["iri"] * 4 + ["unknown", "odd"]))
        if kind == "var":
            name = draw(st.sampled_from([position] * 6 + names))  # rarely repeated
            terms.append(("?" if draw(st.booleans()) else "$") + name)
        elif kind == "iri":
            terms.append(_written(draw(st.sampled_from(vocabulary)), draw))
        elif kind == "unknown":
            terms.append(draw(st.sampled_from([f"<{EX}nothing>", "ex:nothing", "nope:x"])))
        elif position == "p":
            terms.append(draw(st.sampled_from(["a", "<http://example.org/./p0>", "?p"])))
        elif position == "o":
            terms.append(draw(st.sampled_from(['"plain"', '"Hi"@en', "42", '"42"^^xsd:integer',
                                               "true", "_:b1", f"<{EX}a/../s1>"])))
        else:
            terms.append(draw(st.sampled_from(["_:b0", "<relative>", f"<{EX}s0#x>"])))
    free = [t[1:] for t in terms if t[0] in "?$"]
    form = draw(st.sampled_from(["SELECT"] * 3 + ["SELECT*", "CONSTRUCT", "CONSTRUCT", "ASK"]))
    if form == "SELECT":
        pool = free * 4 + ["unbound"] if free else ["unbound"]
        columns = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4))
        head = "SELECT " + " ".join("?" + c for c in columns)
    elif form == "SELECT*":
        head = "SELECT *"
    elif form == "CONSTRUCT":
        head = "CONSTRUCT"
    else:
        head = "ASK"
    where = "WHERE " if form == "CONSTRUCT" or draw(st.booleans()) else ""
    dot = " ." if draw(st.booleans()) else ""
    text = f"{head} {where}{{ {' '.join(terms)}{dot} }}"
    if form != "ASK" and draw(st.booleans()):
        text += f" LIMIT {draw(st.integers(0, 12))}"
    prologue = draw(st.sampled_from(["", f"PREFIX ex: <{EX}>\n",
                                     f"PREFIX crink: <{EX}>\nPREFIX ex: <{EX}>\n",
                                     f"PREFIX ex: <{EX}>\nPREFIX ex: <{EX}>\n",
                                     "BASE <http://example.org/>\n"]))
    return prologue + text


def _outcome(store: OxigraphStore, job: tuple, form: str, budget: int, lookups: bool):
    try:
        return run_bounded_query(store, job, form, budget, lookups=lookups)
    except OverBudget:
        return "over budget"
    except Problem as problem:
        return ("problem", problem.as_dict())


def _compare(store: OxigraphStore, data) -> None:
    vocabulary = _vocabulary(store)
    text = data.draw(queries(vocabulary), label="query")
    form = single_pattern(text)
    if form is None:
        return  # never reaches run_bounded_query
    view = data.draw(st.sampled_from(["all", "all", "asserted", "inferred"]), label="view")
    accept = data.draw(st.sampled_from(ACCEPTS + [ACCEPTS[1]] * 6), label="accept")
    budget = data.draw(st.sampled_from([10, 200, 700] + [65536] * 3), label="budget")
    max_rows = data.draw(st.sampled_from([1, 3, 50] + [10000] * 3), label="max_rows")
    job = ("query", text, view, None, None, "http://localhost:5000/sparql", accept, None,
           max_rows)
    # asked three times: written (first asking), remembered (second), read back (third)
    fast = [_outcome(store, job, form, budget, True) for _ in range(3)]
    engine = _outcome(store, job, form, budget, False)
    answered = isinstance(fast[0], tuple) and fast[0][0] == "ok"
    event(f"planned: {plan(text) is not None}, answered: {answered}")
    assert fast == [engine] * 3, (text, plan(text))


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_lookups_answer_as_the_engine_synthetic(synthetic: OxigraphStore, data) -> None:
    _compare(synthetic, data)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_lookups_answer_as_the_engine_curated(built_store: OxigraphStore, data) -> None:
    _compare(built_store, data)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_lookups_answer_as_the_engine_curated_memory_copy(curated_copy: OxigraphStore,
                                                          data) -> None:
    """The HTTP processes answer lookups without the engine from their memory copies."""
    _compare(curated_copy, data)


@pytest.fixture(scope="module")
def curated_copy(built_store: OxigraphStore) -> OxigraphStore:
    copy = built_store.memory_copy(10_000_000)
    assert copy is not None and not copy.on_disk
    return copy


def test_the_usual_lookup_skips_the_engine(built_store: OxigraphStore) -> None:
    """The benchmark's lookup, and a DESCRIBE-like CONSTRUCT, are planned; a query with a
    literal, a BASE or an unbound column is not (the engine answers those)."""
    iri = next(q.subject for q in built_store.quads(None, None, None, INFERRED)
               if isinstance(q.subject, ox.NamedNode)).value
    assert plan(f"PREFIX crink: <{PREFIXES['crink']}> SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}")
    assert plan(f"CONSTRUCT WHERE {{ <{iri}> ?p ?o }} LIMIT 5")  # planned, engine-answered
    assert plan('SELECT * { ?s ?p "x" }') is None
    assert plan(f"BASE <{EX}> SELECT * {{ <s> ?p ?o }}") is None
    assert plan("SELECT ?p ?o ?z { <http://example.org/s0> ?p ?o }") is None
    job = ("query", f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}", "all", None, None, None,
           "application/sparql-results+json", None, 10000)
    fast = run_bounded_query(built_store, job, "SELECT", 65536, lookups=True)
    assert fast == run_bounded_query(built_store, job, "SELECT", 65536)
    assert b'"bindings":[{' in fast[2]
