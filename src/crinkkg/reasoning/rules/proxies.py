"""rdflib terms as the engine's store terms: blank nodes and literals become proxy IRIs.

owlrl reasons over *generalized* triples (a literal as subject, a blank node
``[ owl:inverseOf p ]`` as predicate); with every blank node and literal standing as an IRI,
the store holds them too and the rules reason over them exactly as owlrl does. The proxies
are mapped back, and dropped as owlrl's clean-up drops them, at the end.
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef

from crinkkg.reasoning.rules.vocabulary import UnsupportedConstruct

#: every proxy IRI starts with this
PROXY_PREFIX = "urn:x-crinkkg:rules:"
BNODE_PROXY = PROXY_PREFIX + "bnode:"
LITERAL_PROXY = PROXY_PREFIX + "literal:"


class Terms:
    """rdflib terms <-> the store's terms (blank nodes and literals become proxy IRIs)."""

    def __init__(self) -> None:
        self.nt_of: dict = {}  # rdflib term -> its N-Triples text in the store
        self.to_store: dict = {}  # rdflib term -> NamedNode (made on demand)
        self.original: dict[ox.NamedNode, object] = {}  # proxy -> rdflib term
        self.literals: dict[ox.NamedNode, Literal] = {}
        self.bnode_proxies: set[ox.NamedNode] = set()

    def store(self, term) -> ox.NamedNode:
        """The store's term for an rdflib term (a proxy for a blank node or a literal)."""
        found = self.to_store.get(term)
        if found is not None:
            return found
        if isinstance(term, URIRef):
            try:
                node = ox.NamedNode(str(term))
            except ValueError as exc:
                raise UnsupportedConstruct(f"not an absolute IRI: {term!r}") from exc
        elif isinstance(term, BNode):
            node = ox.NamedNode(f"{BNODE_PROXY}{len(self.original)}")
            self.bnode_proxies.add(node)
            self.original[node] = term
        elif isinstance(term, Literal):
            node = ox.NamedNode(f"{LITERAL_PROXY}{len(self.original)}")
            self.literals[node] = term
            self.original[node] = term
        else:
            raise UnsupportedConstruct(f"not an RDF term: {term!r}")
        self.to_store[term] = node
        return node

    def nt(self, term) -> str:
        """The store term's N-Triples text."""
        found = self.nt_of.get(term)
        if found is None:
            found = f"<{term}>" if isinstance(term, URIRef) else str(self.store(term))
            self.nt_of[term] = found
        return found

    def back(self, node: ox.NamedNode):
        """The rdflib term a store term stands for."""
        found = self.original.get(node)
        if found is not None:
            return found
        return URIRef(node.value)

    def is_literal(self, node: ox.NamedNode) -> bool:
        return node in self.literals

    def value(self, node):
        """The Python value of a literal proxy (a cardinality), else None."""
        lit = self.literals.get(node)
        return lit.value if lit is not None else None
