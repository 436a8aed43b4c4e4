"""SPARQL updates that keep the inferred graph current.

An update is tried first on an in-memory copy of the asserted graphs and re-reasoned
there; only a consistent result is written to the store, so a rejected update changes
nothing.
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Graph

from .errors import CrinkError, InconsistencyError
from .namespaces import INFERRED_GRAPH, MERGE_GRAPH_PREFIX, PREFIXES
from .rules import reason
from .store import is_merge_graph, write_merge
from .terms import graph_to_triples, to_rdflib

INFERRED = ox.NamedNode(str(INFERRED_GRAPH))


class UpdateRefused(CrinkError):
    """An update the server will not run."""

    exit_code = 6


def asserted_quads(store: ox.Store) -> list[ox.Quad]:
    """Every quad but those of the inferred graph and of the merge graph (store.py)."""
    return [q for q in store.quads_for_pattern(None, None, None, None)
            if q.graph_name != INFERRED and not is_merge_graph(q.graph_name)]


def rdflib_graph(quads: list[ox.Quad]) -> Graph:
    graph = Graph()
    for q in quads:
        graph.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return graph


def apply_update(target, sparql: str) -> None:
    """Run ``sparql`` against the asserted graphs of ``target`` (an OxigraphStore).

    Raises :class:`UpdateRefused` when it names the inferred graph and
    :class:`InconsistencyError` when the result would be inconsistent under OWL 2 RL.
    """
    if str(INFERRED_GRAPH) in sparql:
        raise UpdateRefused(
            f"updates may not touch the inferred graph <{INFERRED_GRAPH}>",
            hint="change the asserted graphs: the inferred graph is recomputed after each update",
        )
    if MERGE_GRAPH_PREFIX in sparql:
        raise UpdateRefused(f"graphs named {MERGE_GRAPH_PREFIX}… belong to the store itself",
                            hint="write to another graph")
    store: ox.Store = target._store
    before = asserted_quads(store)
    scratch = ox.Store()
    scratch.extend(before)
    scratch.update(sparql, prefixes=PREFIXES)  # raises SyntaxError before anything changes
    if next(iter(scratch.quads_for_pattern(None, None, None, INFERRED)), None) is not None:
        raise UpdateRefused(
            f"updates may not write the inferred graph <{INFERRED_GRAPH}>",
            hint="change the asserted graphs: the inferred graph is recomputed after each update",
        )
    if any(is_merge_graph(g) for g in scratch.named_graphs()):
        raise UpdateRefused(f"graphs named {MERGE_GRAPH_PREFIX}… belong to the store itself",
                            hint="write to another graph")
    after = asserted_quads(scratch)
    closure = reason(rdflib_graph(after))
    if closure.inconsistencies:
        raise InconsistencyError(closure.inconsistencies)
    # store exactly what was reasoned over: running the update text again could differ
    # (UUID(), NOW(), RAND(), BNODE() give new values each time)
    old, new = set(before), set(after)
    for quad in old - new:
        store.remove(quad)
    store.extend(new - old)
    # graphs themselves (CREATE / DROP GRAPH), not only their triples
    for graph in list(store.named_graphs()):
        if graph != INFERRED and not is_merge_graph(graph) \
                and not scratch.contains_named_graph(graph):
            store.remove_graph(graph)
    for graph in scratch.named_graphs():
        if not store.contains_named_graph(graph):
            store.add_graph(graph)
    write_merge(store, after)
    store.clear_graph(INFERRED)
    asserted = {q.triple for q in after}  # the inferred graph holds no asserted triple
    store.extend(ox.Quad(t.subject, t.predicate, t.object, INFERRED)
                 for t in graph_to_triples(closure.inferred) if t not in asserted)
    store.flush()
