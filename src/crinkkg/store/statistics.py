"""Figures about the dataset: triples per graph, instances per class, properties used."""

from __future__ import annotations

from crinkkg.output import short
from crinkkg.vocab import INFERRED_GRAPH


def _rows(store, sparql: str, view: str = "all") -> list[tuple[str, int]]:
    return [(sol[0].value, int(sol[1].value)) for sol in store.query(sparql, view=view)]


def dataset_statistics(store) -> dict:
    """Counts a user asks for first; computed by SPARQL so any store can answer."""
    graphs = _rows(store, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                          "GROUP BY ?g ORDER BY ?g")
    inferred = sum(n for g, n in graphs if g == str(INFERRED_GRAPH))
    # the asserted graphs' merge: a triple held by two files counts once
    asserted = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                     view="asserted")))[0]
    classes = _rows(store, "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } "
                           "GROUP BY ?c ORDER BY DESC(?n) ?c")
    properties = _rows(store, "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } "
                              "GROUP BY ?p ORDER BY DESC(?n) ?p")
    return {
        "graphs": dict(graphs),
        "asserted_triples": int(asserted.value),
        "inferred_triples": inferred,
        "instances_per_class": dict(classes),
        "properties_used": dict(properties),
    }


def format_statistics(figures: dict) -> str:
    lines = ["Triples per graph:"]
    lines += [f"  {n:>7}  {g}" for g, n in figures["graphs"].items()]
    lines.append(f"  asserted {figures['asserted_triples']}, "
                 f"inferred {figures['inferred_triples']}")
    lines.append("Instances per class:")
    lines += [f"  {n:>7}  {short_iri(c)}" for c, n in figures["instances_per_class"].items()]
    lines.append("Properties used:")
    lines += [f"  {n:>7}  {short_iri(p)}" for p, n in figures["properties_used"].items()]
    return "\n".join(lines)


def short_iri(iri: str) -> str:
    import pyoxigraph as ox

    return short(ox.NamedNode(iri))
