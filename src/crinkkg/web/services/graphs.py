"""Named graphs, read through the backend: whether one exists, its content, and what its
page shows (the resources it talks about and its size)."""

from __future__ import annotations

import pyoxigraph as ox

from crinkkg.web.context import get_backend


def graph_has_triples(iri: str) -> bool:
    """Whether the store holds triples in graph ``iri`` (a safe IRI)."""
    return get_backend().ask(f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")


def graph_quads(iri: str) -> list[ox.Quad]:
    """The triples of graph ``iri`` (a safe IRI) as written, as quads of that graph."""
    nt = get_backend().construct(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}",
        ox.RdfFormat.N_TRIPLES)
    g = ox.NamedNode(iri)
    return [ox.Quad(t.subject, t.predicate, t.object, g)
            for t in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)]


def graph_contents(iri: str) -> tuple[list[tuple[str, int]], int]:
    """The subjects of graph ``iri`` (at most 5,000) with their triple counts, and the
    graph's whole triple count."""
    backend = get_backend()
    rows = backend.select_json(
        f"SELECT ?s (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} FILTER(isIRI(?s)) }}"
        " GROUP BY ?s ORDER BY ?s LIMIT 5000")["results"]["bindings"]
    subjects = [(b["s"]["value"], int(b["n"]["value"])) for b in rows]
    total = backend.select_json(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
    return subjects, int(total["results"]["bindings"][0]["n"]["value"])
