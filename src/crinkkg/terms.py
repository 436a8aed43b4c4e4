"""Convert RDF terms between pyoxigraph (storage, parsing) and rdflib (owlrl, pySHACL)."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from crinkkg.vocab import XSD_STRING


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal, bnode_scope: str = "") -> Node:
    """One Oxigraph term as rdflib; blank nodes are renamed into ``bnode_scope``."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(bnode_scope + term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value, datatype=None if datatype == XSD_STRING else URIRef(datatype))


def to_oxigraph(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """One rdflib term as Oxigraph."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def triples_to_graph(triples: Iterable[ox.Triple], graph: Graph | None = None,
                     bnode_scope: str = "") -> Graph:
    """Add Oxigraph triples to an rdflib graph (a new one unless given)."""
    graph = Graph() if graph is None else graph
    add = graph.add
    for t in triples:
        add((to_rdflib(t.subject, bnode_scope), to_rdflib(t.predicate),
             to_rdflib(t.object, bnode_scope)))
    return graph


def graph_to_triples(graph: Iterable[tuple[Node, Node, Node]]) -> list[ox.Triple]:
    return [ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in graph]
