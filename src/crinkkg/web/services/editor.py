"""The query page's reads: its query run through the backend (errors kept as part of the
outcome), and the ontology's terms for the editor's autocompletion."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyoxigraph as ox

from crinkkg.problems import Problem
from crinkkg.sparqltext import query_form
from crinkkg.vocab import PREFIXES
from crinkkg.web.context import get_backend
from crinkkg.web.render.rdfio import shorten, term
from crinkkg.web.render.values import Value
from crinkkg.web.services.describe import labels_of

MAX_RESULT_ROWS = 2000
_TERMS = """SELECT DISTINCT ?t ?kind WHERE {
  VALUES (?c ?kind) { (owl:Class "class") (rdfs:Class "class") (owl:ObjectProperty "property")
    (owl:DatatypeProperty "property") (owl:AnnotationProperty "property")
    (rdf:Property "property") }
  ?t a ?c FILTER(isIRI(?t))
} ORDER BY ?t"""


@dataclass
class Outcome:
    """What running the page's query gave: a table, a boolean, or a problem."""

    form: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[Value | None]] = field(default_factory=list)
    total: int = 0
    boolean: bool | None = None
    problem: Problem | None = None
    seconds: float = 0.0


def run(sparql: str, view: str) -> Outcome:
    """Evaluate the page's query through the backend; errors become part of the outcome."""
    form = query_form(sparql) or "SELECT"
    outcome = Outcome(form)
    backend = get_backend()
    started = time.perf_counter()
    try:
        if form in ("CONSTRUCT", "DESCRIBE"):
            data = backend.construct(sparql, ox.RdfFormat.N_TRIPLES, view=view)  # type: ignore[arg-type]
            triples = list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
            outcome.columns = ["subject", "predicate", "object"]
            outcome.total = len(triples)
            bindings = [dict(zip(outcome.columns, (t.subject, t.predicate, t.object),
                                 strict=True)) for t in triples[:MAX_RESULT_ROWS]]
        else:
            result = backend.select_json(sparql, view=view)  # type: ignore[arg-type]
            if "boolean" in result:
                outcome.boolean = bool(result["boolean"])
                outcome.seconds = time.perf_counter() - started
                return outcome
            outcome.columns = list(result["head"].get("vars", []))
            raw = result["results"]["bindings"]
            outcome.total = len(raw)
            bindings = [{k: term(v) for k, v in b.items() if v.get("type") != "triple"}
                        for b in raw[:MAX_RESULT_ROWS]]
    except Problem as problem:
        outcome.problem = problem
        outcome.seconds = time.perf_counter() - started
        return outcome
    outcome.seconds = time.perf_counter() - started
    iris = {t.value for b in bindings for t in b.values() if isinstance(t, ox.NamedNode)}
    labels = labels_of(sorted(iris)) if len(iris) <= 2000 else {}
    outcome.rows = [[Value.of(b[c], labels) if c in b else None for c in outcome.columns]
                    for b in bindings]
    return outcome


def ontology_terms() -> dict[str, list[str]]:
    """The classes and properties the store declares (ours and the reused ones), as
    prefixed names where a predeclared prefix fits: the query editor's autocompletion,
    served with the page rather than fetched from an online service."""
    out: dict[str, set[str]] = {"class": set(), "property": set()}
    for b in get_backend().select_json(_TERMS)["results"]["bindings"]:
        iri = b["t"]["value"]
        name = shorten(iri, PREFIXES)
        out[b["kind"]["value"]].add(name if name != iri else f"<{iri}>")
    return {k: sorted(v) for k, v in out.items()}
