"""A named graph as its page shows it: the resources it talks about and its size."""

from __future__ import annotations

from crinkkg.web.context import get_backend


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
