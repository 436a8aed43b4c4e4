"""OWL 2 RL reasoning with owlrl, and the clean-up its closure needs before anyone reads it.

owlrl emits generalized RDF (literal subjects), a reflexive ``owl:sameAs`` for every node,
restatements of the RDF/RDFS/OWL vocabulary and typings of the blank nodes that encode
axioms. None of that is a fact about the world; :func:`clean` removes it, rule by rule, and
counts what each rule removed so that the build can report it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import owlrl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from crinkkg.datatypes import fix_owlrl
from crinkkg.errors import Inconsistency

ERRNS = URIRef("http://www.daml.org/2002/03/agents/agent-ont#")
ERROR_MESSAGE = URIRef(str(ERRNS) + "ErrorMessage")
ERROR_TEXT = URIRef(str(ERRNS) + "error")

VOCABULARY_NAMESPACES = (str(RDF), str(RDFS), str(OWL), str(XSD), str(ERRNS))
REFLEXIVE_NOISE = {OWL.sameAs, OWL.equivalentClass, OWL.equivalentProperty,
                   RDFS.subClassOf, RDFS.subPropertyOf}
TOP_CLASSES = {OWL.Thing, RDFS.Resource}


@dataclass
class Closure:
    """The result of reasoning: inferred-only triples and what the clean-up removed."""

    inferred: Graph
    removed: Counter[str] = field(default_factory=Counter)
    inconsistencies: list[Inconsistency] = field(default_factory=list)


def raw_closure(asserted: Graph) -> Graph:
    """owlrl's OWL 2 RL closure of a copy of ``asserted``, exactly as owlrl leaves it.

    >>> from rdflib import Graph
    >>> g = Graph().parse(data='''@prefix : <http://ex/> .
    ... :p a <http://www.w3.org/2002/07/owl#SymmetricProperty> . :a :p :b .''', format="turtle")
    >>> from rdflib import URIRef
    >>> (URIRef("http://ex/b"), URIRef("http://ex/p"), URIRef("http://ex/a")) in raw_closure(g)
    True
    """
    fix_owlrl()  # owlrl calls every zero-valued double or float ill-typed
    closure = Graph()
    for prefix, ns in asserted.namespaces():
        closure.bind(prefix, ns, override=True)
    for triple in asserted:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, rdfs_closure=False, axiomatic_triples=False,
                           datatype_axioms=False).expand(closure)
    return closure


def inconsistencies(closure: Graph) -> list[Inconsistency]:
    """The error nodes owlrl adds instead of raising, with the resources they name."""
    return inconsistencies_from(str(text)
                                for node in closure.subjects(RDF.type, ERROR_MESSAGE)
                                for text in closure.objects(node, ERROR_TEXT))


def inconsistencies_from(messages: Iterable[str]) -> list[Inconsistency]:
    """owlrl's inconsistency messages as :class:`Inconsistency`, with the resources named."""
    problems = []
    for message in messages:
        resources = [w.strip("<>,.'\"") for w in message.split() if "://" in w]
        problems.append(Inconsistency(message, resources))
    return sorted(problems, key=lambda p: p.message)


def axiom_blank_nodes(graph: Graph) -> set[BNode]:
    """Blank nodes that encode axioms (lists, restrictions) in the asserted TBox."""
    nodes: set[BNode] = set()
    for s, p, o in graph:
        if isinstance(s, BNode) and (p in (RDF.first, RDF.rest) or str(p).startswith(str(OWL))
                                     or p == RDF.type and o in (OWL.Restriction, OWL.Class,
                                                                 OWL.AllDisjointClasses)):
            nodes.add(s)
    # a list cell reached from an axiom is an axiom node too
    for _s, _p, o in graph.triples((None, RDF.rest, None)):
        if isinstance(o, BNode):
            nodes.add(o)
    return nodes


def removal_reason(triple: tuple, axiom_nodes: set[BNode]) -> str | None:
    """Why a triple of the closure must not be stored, or None to keep it."""
    s, p, o = triple
    if isinstance(s, Literal) or not isinstance(p, URIRef):
        return "generalized"
    if s == o and p in REFLEXIVE_NOISE:
        return "reflexive"
    if s in axiom_nodes or o in axiom_nodes:
        return "axiom-blank-node"
    if isinstance(s, URIRef) and str(s).startswith(VOCABULARY_NAMESPACES):
        return "vocabulary"
    if o in TOP_CLASSES and p in (RDF.type, RDFS.subClassOf, RDFS.domain, RDFS.range):
        return "vocabulary"
    if p == RDF.type and o in (ERROR_MESSAGE,) or p == ERROR_TEXT:
        return "error-marker"
    return None


def clean(closure: Graph, asserted: Graph) -> Closure:
    """Inferred-only triples of ``closure`` that are well-formed facts worth storing."""
    axiom_nodes = axiom_blank_nodes(asserted)
    inferred = Graph()
    removed: Counter[str] = Counter()
    for triple in closure:
        if triple in asserted:
            continue
        reason = removal_reason(triple, axiom_nodes)
        if reason:
            removed[reason] += 1
        else:
            inferred.add(triple)
    return Closure(inferred, removed, inconsistencies(closure))


def reason(asserted: Graph) -> Closure:
    """Run owlrl over ``asserted`` and return the cleaned inferred triples with a report."""
    return clean(raw_closure(asserted), asserted)


def infer(asserted: Graph) -> Graph:
    """Only the cleaned inferred triples (the contract tests and the store rely on)."""
    return reason(asserted).inferred
