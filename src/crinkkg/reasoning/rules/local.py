"""The compiled rules run in an in-memory Oxigraph: the local engine behind
:func:`crinkkg.reasoning.rules.reason`.

Every term goes into a :class:`pyoxigraph.Store` (blank nodes and literals as proxy IRIs,
:mod:`crinkkg.reasoning.rules.proxies`). Rules read and write the default graph; the asserted
triples are deleted from it at the end, and what remains is the inferred part. A rule records
that it fired by inserting a fresh marker triple into a graph of its own, which
:meth:`MemoryStore.apply` then looks up.
"""

# ruff: noqa: UP031  (the inconsistency messages are owlrl's, %-formatted as owlrl does)

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from functools import partial

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal
from rdflib.namespace import OWL, RDF

from crinkkg.datatypes import LEXICAL_CHECKS
from crinkkg.reasoning import owlrl_closure as reasoning
from crinkkg.reasoning.rules.checks import Messages, check
from crinkkg.reasoning.rules.compiler import Rule, compile_rules
from crinkkg.reasoning.rules.fixpoint import close
from crinkkg.reasoning.rules.proxies import Terms
from crinkkg.reasoning.rules.vocabulary import (
    DATATYPE_DISJOINTNESS,
    DISJOINT_WITH,
    RL_DATATYPES,
    SCHEMA_PREDICATE_TERMS,
    SCHEMA_PREDICATES,
    SCHEMA_TYPE_TERMS,
    SCHEMA_TYPES,
    SUBSUMPTIONS,
    TYPE,
    UnsupportedConstruct,
)
from crinkkg.vocab import OWL_NS

#: the graph, and the subject and predicate, of the triples that say a rule fired
MARKERS = ox.NamedNode("urn:x-crinkkg:rules:fired")
_PREFIXES = {"owl": OWL_NS}


def insert_update(template: list[str], where: str, guard: str | None,
                  project: str | None = None) -> str:
    """The local :class:`~crinkkg.reasoning.rules.compiler.UpdateForm`: an INSERT of
    ``template`` into the default graph, and of the marker triple when the rule fired.

    The guard (the rule's main conclusion) keeps a solution only when it derives
    something new, so the marker triple is inserted exactly when the rule fired.
    """
    body = " ".join(dict.fromkeys(template))
    if project:
        where = f"{{ SELECT DISTINCT {project} WHERE {{ {where} }} }}"
    nx = f" FILTER NOT EXISTS {{ {guard} }}" if guard else ""
    return (f"INSERT {{ {body} GRAPH {MARKERS} {{ {MARKERS} {MARKERS} {{marker}} }} }} "
            f"WHERE {{ {where}{nx} }}")


class MemoryStore:
    """The asserted triples in an in-memory Oxigraph, where the rules run: a
    :class:`~crinkkg.reasoning.rules.fixpoint.RuleStore` and a
    :class:`~crinkkg.reasoning.rules.checks.Queryable`."""

    def __init__(self, terms: Terms) -> None:
        self.terms = terms
        self.store = ox.Store()
        #: the asserted schema triples, as the engine's terms
        self.schema_input: set[tuple] = set()
        self.asserted_nt: list[str] = []
        #: rules applied so far
        self.fired = 0

    def load(self, triples: Iterable[tuple]) -> list[tuple]:
        """Load the asserted triples; returns those that may encode axioms with blank nodes
        (what :func:`crinkkg.reasoning.axiom_blank_nodes` looks at)."""
        terms = self.terms
        nt, get, node = terms.nt, terms.nt_of.get, terms.store
        lines: list[str] = []
        append = lines.append
        schema = self.schema_input
        axiomatic: list[tuple] = []
        explicit_dt = False
        for t in triples:
            s, p, o = t
            append(f"{get(s) or nt(s)} {get(p) or nt(p)} {get(o) or nt(o)} .\n")
            if p in SCHEMA_PREDICATE_TERMS or (p == RDF.type and o in SCHEMA_TYPE_TERMS):
                schema.add((node(s), node(p), node(o)))
            elif p == RDF.type and str(o) in RL_DATATYPES:
                explicit_dt = True
            elif p == OWL.sameAs and (isinstance(o, Literal) or isinstance(s, Literal)):
                explicit_dt = True
            if isinstance(s, BNode) or p == RDF.rest:
                axiomatic.append(t)
        if explicit_dt:
            raise UnsupportedConstruct("a resource typed with, or owl:sameAs, an XSD datatype "
                                       "value (owlrl's explicit datatype handling)")
        self.asserted_nt = lines
        try:
            self.store.bulk_load("".join(lines), format=ox.RdfFormat.N_TRIPLES)
        except (SyntaxError, ValueError) as exc:
            raise UnsupportedConstruct(f"a term Oxigraph does not accept: {exc}") from exc
        return axiomatic

    def datatype_axioms(self, messages: Messages) -> list[tuple]:
        """owlrl's one-time datatype rules: literal typing, subsumptions, disjointness; an
        ill-typed literal is reported in ``messages``."""
        triples = []
        used: set[str] = set()
        for node, lit in self.terms.literals.items():
            dt = lit.datatype
            if dt is None or str(dt) not in RL_DATATYPES:
                continue
            dts = str(dt)
            used.add(dts)
            try:
                LEXICAL_CHECKS.get(dt, lambda v: v)(str(lit))
            except ValueError:
                messages.add("Lexical value of the literal '%s' does not match its datatype "
                             "(%s)" % (lit, dt))
            triples.append((node, TYPE, ox.NamedNode(dts)))
            for sup in SUBSUMPTIONS.get(dts, ()):
                triples.append((node, TYPE, ox.NamedNode(sup)))
                used.add(sup)
        for a, b in DATATYPE_DISJOINTNESS:
            if a in used and b in used:
                triples.append((ox.NamedNode(a), DISJOINT_WITH, ox.NamedNode(b)))
        return triples

    # -- RuleStore ---------------------------------------------------------------------------

    def apply(self, rule: Rule) -> bool:
        self.fired += 1
        marker = ox.NamedNode(f"{MARKERS.value}:{self.fired}")
        self.store.update(rule.sparql.replace("{marker}", str(marker)), prefixes=_PREFIXES)
        return ox.Quad(MARKERS, MARKERS, marker, MARKERS) in self.store

    def add(self, triples: Iterable[tuple]) -> None:
        self.store.bulk_extend([ox.Quad(s, p, o) for s, p, o in triples])

    def triples_with(self, p: ox.NamedNode) -> Iterator[tuple]:
        for q in self.store.quads_for_pattern(None, p, None, ox.DefaultGraph()):
            yield q.subject, q.predicate, q.object

    def schema_triples(self) -> set[tuple]:
        preds = " ".join(str(p) for p in SCHEMA_PREDICATES)
        types = " ".join(str(c) for c in SCHEMA_TYPES)
        q = (f"SELECT ?s ?p ?o WHERE {{ {{ VALUES ?p {{ {preds} }} ?s ?p ?o }} "
             f"UNION {{ VALUES ?o {{ {types} }} BIND({TYPE} AS ?p) ?s ?p ?o }} }}")
        return {(r[0], r[1], r[2]) for r in self.store.query(q)}

    def has_same_as(self) -> bool:
        return bool(self.store.query("ASK { ?x owl:sameAs ?y }", prefixes=_PREFIXES))

    # -- Queryable -------------------------------------------------------------------------

    def select(self, where: str) -> list[Mapping[str, ox.NamedNode]]:
        return list(self.store.query(f"SELECT * WHERE {{ {where} }}", prefixes=_PREFIXES))

    def ask(self, pattern: str) -> bool:
        return bool(self.store.query(f"ASK {{ {pattern} }}", prefixes=_PREFIXES))

    # -- the result --------------------------------------------------------------------------

    def inferred(self) -> Iterator[tuple]:
        """Inferred triples (proxies mapped back), without owlrl's blank-node predicates."""
        back = self.terms.back
        bnodes = self.terms.bnode_proxies
        cache: dict = {}
        lines, chunk = self.asserted_nt, 50_000
        for i in range(0, len(lines), chunk):  # chunks: the update parser holds its input
            self.store.update("DELETE DATA { " + "".join(lines[i:i + chunk]) + " }")
        self.asserted_nt = []
        for q in self.store.quads_for_pattern(None, None, None, ox.DefaultGraph()):
            s, p, o = q.subject, q.predicate, q.object
            if p in bnodes:
                continue
            yield (_cached(cache, s, back), _cached(cache, p, back), _cached(cache, o, back))


def _cached(cache: dict, node, back):
    found = cache.get(node)
    if found is None:
        found = cache[node] = back(node)
    return found


def run(triples: Iterable[tuple]) -> tuple[list[tuple], Counter, list[str], set]:
    """The engine over rdflib-term triples: (kept inferred, removed counts, messages, axiom
    blank nodes). Raises :class:`UnsupportedConstruct` for what it does not reproduce."""
    terms = Terms()
    store = MemoryStore(terms)
    axiom_graph = Graph()
    for t in store.load(triples):
        axiom_graph.add(t)
    axiom_nodes = reasoning.axiom_blank_nodes(axiom_graph)
    messages = Messages()
    store.add(store.datatype_axioms(messages))
    schema = close(store, store.schema_input, terms,
                   partial(compile_rules, terms=terms, form=insert_update))
    check(schema, store, terms, messages)
    kept: list[tuple] = []
    removed: Counter[str] = Counter()
    for t in store.inferred():
        why = reasoning.removal_reason(t, axiom_nodes)
        if why:
            removed[why] += 1
        else:
            kept.append(t)
    return kept, removed, messages, axiom_nodes
