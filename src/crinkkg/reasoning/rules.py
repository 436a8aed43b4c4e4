"""A fast OWL 2 RL path: owlrl's closure, computed by SPARQL updates in an in-memory Oxigraph.

owlrl (:mod:`crinkkg.reasoning.owlrl_closure`) is the reference semantics and stays the oracle;
this module
reproduces its *cleaned* closure exactly (the same inferred triples after
:func:`crinkkg.reasoning.removal_reason`, the same inconsistency messages) at a fraction of
the cost, so that the benchmark's 50k and 500k graphs build in seconds.

How it works

1. Every term goes into an in-memory :class:`pyoxigraph.Store`. Blank nodes and literals are
   replaced by proxy IRIs, so that owlrl's *generalized* triples (a literal as subject, a blank
   node ``[ owl:inverseOf p ]`` as predicate) can be stored and reasoned over exactly as owlrl
   does; they are mapped back, and dropped as owlrl and the clean-up drop them, at the end.
   Rules read and write the default graph; the asserted triples are deleted from it at the
   end, and what remains is the inferred part.
2. The schema rules (scm-cls, scm-sco, scm-eqc1/2, scm-op, scm-spo, scm-eqp1/2, scm-dom1/2,
   scm-rng1/2, scm-hv, scm-svf1/2, scm-avf1/2, scm-int, scm-uni) run in Python over the
   TBox: a port of owlrl's ``_schema_vocabulary``, quirks included.
3. The instance rules are compiled from the closed TBox into SPARQL
   ``INSERT { GRAPH <inferred> { ... } } WHERE { ... FILTER NOT EXISTS { ... } }`` updates and
   run to a fixpoint (a rule runs again only when a rule that fired writes a predicate or a
   class it reads): cax-sco, cax-eqc1/2, prp-dom, prp-rng, prp-spo1, prp-eqp1/2, prp-inv1/2,
   prp-symp (folded into one pre-computed closure per property, so one update derives all of
   a triple's single-premise consequences), prp-spo2 (chains of any length, with
   ``[ owl:inverseOf p ]`` elements), prp-trp, prp-fp, prp-ifp, cls-int1/2, cls-uni,
   cls-svf1/2, cls-avf, cls-hv1/2, cls-maxc2, cls-maxqc3/4, cls-oo, and, when the graph uses
   or can derive ``owl:sameAs``, eq-sym, eq-trans, eq-rep-s/p/o. The datatype one-time rules
   (dt-type2, literal subsumptions, disjointness of the datatypes in use, ill-typed literals)
   are owlrl's own tables.
4. A triple derived by the instance rules that feeds the schema rules (say a class typed
   ``owl:Class`` through a range) re-opens step 2 and 3 until nothing changes.
5. Inconsistency checks, with owlrl's messages: cax-dw, cax-adc (``owl:AllDisjointClasses``),
   cls-nothing2, cls-com, cls-maxc1, cls-maxqc1/2, prp-irp, prp-asyp, prp-pdw,
   prp-adp (``owl:AllDisjointProperties``), prp-npa1/2, eq-diff1/2/3, ill-typed literals.

What it does not do: ``owl:hasKey`` (owlrl's prp-key is buggy, see the design notes), axioms
about the RDF/RDFS/OWL vocabulary itself (a sub-property of ``rdf:type``, a domain on
``owl:sameAs``, a subclass of ``owl:Class``...), and resources typed explicitly with an XSD
datatype or ``owl:sameAs`` a literal (owlrl's "explicit" datatype handling). For those,
:func:`reason` falls back to owlrl (and says so with a warning); ``fallback=False`` raises
:class:`UnsupportedConstruct` instead. Anything the engine implements is checked against owlrl
by ``tests/test_rules.py``, rule by rule.

``Closure.removed`` counts what the clean-up removed from *this engine's* closure. owlrl also
materialises a reflexive ``owl:sameAs`` for every node and typings of the RDF/OWL vocabulary
that this engine never computes, so the counts are smaller than owlrl's; the inferred triples
and the inconsistencies are the same.
"""

# ruff: noqa: UP031  (the inconsistency messages are owlrl's, %-formatted as owlrl does)

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import NamedTuple

import pyoxigraph as ox
from owlrl.AxiomaticTriples import OWLRL_Datatypes_Disjointness
from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions, OWL_RL_Datatypes
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from crinkkg.datatypes import LEXICAL_CHECKS
from crinkkg.errors import Inconsistency
from crinkkg.reasoning import owlrl_closure as reasoning
from crinkkg.terms import to_oxigraph, to_rdflib

__all__ = ["UnsupportedConstruct", "reason", "reason_triples"]

MARKERS = ox.NamedNode("urn:x-crinkkg:rules:fired")
BNODE_PROXY = "urn:x-crinkkg:rules:bnode:"
LITERAL_PROXY = "urn:x-crinkkg:rules:literal:"


class UnsupportedConstruct(Exception):
    """The input uses an OWL construct this engine does not reproduce exactly."""


def _n(term: URIRef) -> ox.NamedNode:
    return ox.NamedNode(str(term))


TYPE, SUB, EQC = _n(RDF.type), _n(RDFS.subClassOf), _n(OWL.equivalentClass)
SUBP, EQP = _n(RDFS.subPropertyOf), _n(OWL.equivalentProperty)
DOMAIN, RANGE = _n(RDFS.domain), _n(RDFS.range)
FIRST, REST = _n(RDF.first), _n(RDF.rest)
THING, NOTHING, OWL_CLASS = _n(OWL.Thing), _n(OWL.Nothing), _n(OWL.Class)
PROPERTY_TYPES = {_n(OWL.ObjectProperty), _n(OWL.DatatypeProperty), _n(RDF.Property)}
ON_PROPERTY, HAS_VALUE = _n(OWL.onProperty), _n(OWL.hasValue)
SVF, AVF = _n(OWL.someValuesFrom), _n(OWL.allValuesFrom)
INTERSECTION, UNION, ONE_OF = _n(OWL.intersectionOf), _n(OWL.unionOf), _n(OWL.oneOf)
INVERSE, CHAIN = _n(OWL.inverseOf), _n(OWL.propertyChainAxiom)
SAME_AS, DIFFERENT = _n(OWL.sameAs), _n(OWL.differentFrom)
SYMMETRIC, TRANSITIVE = _n(OWL.SymmetricProperty), _n(OWL.TransitiveProperty)
FUNCTIONAL, INV_FUNCTIONAL = _n(OWL.FunctionalProperty), _n(OWL.InverseFunctionalProperty)
IRREFLEXIVE, ASYMMETRIC = _n(OWL.IrreflexiveProperty), _n(OWL.AsymmetricProperty)
DISJOINT_WITH, MEMBERS = _n(OWL.disjointWith), _n(OWL.members)
ALL_DISJOINT_CLASSES = _n(OWL.AllDisjointClasses)
ALL_DISJOINT_PROPERTIES = _n(OWL.AllDisjointProperties)
ALL_DIFFERENT, DISTINCT_MEMBERS = _n(OWL.AllDifferent), _n(OWL.distinctMembers)
PROPERTY_DISJOINT_WITH, COMPLEMENT = _n(OWL.propertyDisjointWith), _n(OWL.complementOf)
MAX_CARD, MAX_QCARD, ON_CLASS = (_n(OWL.maxCardinality), _n(OWL.maxQualifiedCardinality),
                                 _n(OWL.onClass))
HAS_KEY = _n(OWL.hasKey)
SOURCE_INDIVIDUAL, ASSERTION_PROPERTY = _n(OWL.sourceIndividual), _n(OWL.assertionProperty)
TARGET_INDIVIDUAL, TARGET_VALUE = _n(OWL.targetIndividual), _n(OWL.targetValue)

# triples with these predicates describe the schema: the Python side reads them
SCHEMA_PREDICATES = {
    SUB, EQC, SUBP, EQP, DOMAIN, RANGE, FIRST, REST, ON_PROPERTY, HAS_VALUE, SVF, AVF,
    INTERSECTION, UNION, ONE_OF, INVERSE, CHAIN, DISJOINT_WITH, MEMBERS, DISTINCT_MEMBERS,
    PROPERTY_DISJOINT_WITH, COMPLEMENT, MAX_CARD, MAX_QCARD, ON_CLASS, HAS_KEY,
    SOURCE_INDIVIDUAL, ASSERTION_PROPERTY, TARGET_INDIVIDUAL, TARGET_VALUE, DIFFERENT,
}
# ... and rdf:type triples with one of these objects
SCHEMA_TYPES = {
    OWL_CLASS, SYMMETRIC, TRANSITIVE, FUNCTIONAL, INV_FUNCTIONAL, IRREFLEXIVE, ASYMMETRIC,
    ALL_DISJOINT_CLASSES, ALL_DISJOINT_PROPERTIES, ALL_DIFFERENT, *PROPERTY_TYPES,
}
_SCHEMA_PREDICATES = {URIRef(p.value) for p in SCHEMA_PREDICATES}
_SCHEMA_TYPES = {URIRef(c.value) for c in SCHEMA_TYPES}
VOCABULARY = (str(RDF), str(RDFS), str(OWL))
# vocabulary terms that may stand where a class is expected
CLASS_VOCABULARY = {str(OWL.Thing), str(OWL.Nothing), str(RDFS.Literal), str(RDF.PlainLiteral),
                    str(RDF.XMLLiteral), str(RDF.HTML), str(RDF.langString)}
RL_DATATYPES = {str(d) for d in OWL_RL_Datatypes}
SUBSUMPTIONS = {str(k): [str(v) for v in vs] for k, vs in OWL_Datatype_Subsumptions.items()}
DATATYPE_DISJOINTNESS = [(str(a), str(b)) for a, _, b in OWLRL_Datatypes_Disjointness]


class _Rule(NamedTuple):
    """A compiled rule: its update, and what it reads and writes (predicates and
    ``(rdf:type, class)`` pairs; ``None``: anything)."""

    sparql: str
    reads: set | None
    writes: set | None


class _Everything(set):
    """Everything (a rule with generic writes fired)."""


def anything_new(reads: set, dirty: set, fired: set) -> bool:
    return (isinstance(dirty, _Everything) or isinstance(fired, _Everything)
            or bool(reads & dirty) or bool(reads & fired))


class _Terms:
    """rdflib terms <-> the store's terms (blank nodes and literals become proxy IRIs)."""

    def __init__(self) -> None:
        self.nt_of: dict = {}  # rdflib term -> its N-Triples text in the store
        self.to_store: dict = {}  # rdflib term -> NamedNode (made on demand)
        self.original: dict[ox.NamedNode, object] = {}  # proxy -> rdflib term
        self.literals: dict[ox.NamedNode, Literal] = {}
        self.bnode_proxies: set[ox.NamedNode] = set()

    def store(self, term) -> ox.NamedNode:
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
        found = self.nt_of.get(term)
        if found is None:
            found = f"<{term}>" if isinstance(term, URIRef) else str(self.store(term))
            self.nt_of[term] = found
        return found

    def back(self, node: ox.NamedNode):
        found = self.original.get(node)
        if found is not None:
            return found
        return URIRef(node.value)

    def is_literal(self, node: ox.NamedNode) -> bool:
        return node in self.literals


class _Schema:
    """The schema triples, indexed, with owlrl's rdf:List reading."""

    def __init__(self, triples: Iterable[tuple]) -> None:
        self.triples: set[tuple] = set()
        self.sp: dict[tuple, set] = defaultdict(set)
        self.po: dict[tuple, set] = defaultdict(set)
        self.by_p: dict[ox.NamedNode, set] = defaultdict(set)
        for t in triples:
            self.add(t)

    def add(self, t: tuple) -> bool:
        if t in self.triples:
            return False
        s, p, o = t
        self.triples.add(t)
        self.sp[s, p].add(o)
        self.po[p, o].add(s)
        self.by_p[p].add((s, o))
        return True

    def objects(self, s, p) -> set:
        return self.sp.get((s, p), set())

    def subjects(self, p, o) -> set:
        return self.po.get((p, o), set())

    def value(self, s, p):
        objs = self.sp.get((s, p))
        return next(iter(objs)) if objs else None

    def items(self, head) -> list:
        """rdflib's ``Graph.items``: follows rdf:rest until it runs out."""
        out, seen = [], {head}
        node = head
        while node is not None:
            first = self.value(node, FIRST)
            if first is not None:
                out.append(first)
            node = self.value(node, REST)
            if node in seen:
                raise UnsupportedConstruct("an rdf:List loops on itself")
            seen.add(node)
        return out


def schema_closure(schema: _Schema) -> set[tuple]:
    """owlrl's scm-* rules to a fixpoint; returns the new triples (also added to ``schema``)."""
    new_all: set[tuple] = set()
    while True:
        new: set[tuple] = set()
        add = new.add
        has = schema.triples.__contains__
        for s, p, o in list(schema.triples):
            if p == TYPE:
                if o == OWL_CLASS:
                    add((s, SUB, s))
                    add((s, EQC, s))
                    add((s, SUB, THING))
                    add((NOTHING, SUB, s))
                elif o in PROPERTY_TYPES:
                    add((s, SUBP, s))
                    add((s, EQP, s))
            elif p == SUB:
                if s != o:
                    for c3 in schema.objects(o, SUB):
                        if s != c3:
                            add((s, SUB, c3))
                if has((o, SUB, s)):
                    add((s, EQC, o))
            elif p == EQC:
                if s != o:
                    add((s, SUB, o))
                    add((o, SUB, s))
            elif p == SUBP:
                if s != o:
                    for p3 in schema.objects(o, SUBP):
                        if s != p3:
                            add((s, SUBP, p3))
                    if has((o, SUBP, s)):
                        add((s, EQP, o))
            elif p == EQP:
                if s != o:
                    add((s, SUBP, o))
                    add((o, SUBP, s))
            elif p in (DOMAIN, RANGE):
                for c2 in schema.objects(o, SUB):
                    if o != c2:
                        add((s, p, c2))
                for p1 in schema.subjects(SUBP, s):
                    if p1 != s:
                        add((p1, p, o))
            elif p == HAS_VALUE:
                for p1 in schema.objects(s, ON_PROPERTY):
                    for c2 in schema.subjects(HAS_VALUE, o):
                        for p2 in schema.objects(c2, ON_PROPERTY):
                            if has((p1, SUBP, p2)):
                                add((s, SUB, c2))
            elif p in (SVF, AVF):
                for pp in schema.objects(s, ON_PROPERTY):
                    for c2 in schema.subjects(ON_PROPERTY, pp):
                        for y2 in schema.objects(c2, p):
                            if has((o, SUB, y2)):
                                add((s, SUB, c2))
                for p1 in schema.objects(s, ON_PROPERTY):
                    for c2 in schema.subjects(p, o):
                        for p2 in schema.objects(c2, ON_PROPERTY):
                            if has((p1, SUBP, p2)):
                                add((s, SUB, c2) if p == SVF else (c2, SUB, s))
            elif p == INTERSECTION:
                for ci in schema.items(o):
                    add((s, SUB, ci))
            elif p == UNION:
                for ci in schema.items(o):
                    add((ci, SUB, s))
        new = {t for t in new if t not in schema.triples}
        if not new:
            return new_all
        for t in new:
            schema.add(t)
        new_all |= new


def _is_schema(s, p, o) -> bool:
    return p in SCHEMA_PREDICATES or (p == TYPE and o in SCHEMA_TYPES)


class _Engine:
    def __init__(self, terms: _Terms) -> None:
        self.terms = terms
        self.store = ox.Store()
        self.schema_input: set[tuple] = set()
        self.messages: list[str] = []

    # -- loading -------------------------------------------------------------------------

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
            if p in _SCHEMA_PREDICATES or (p == RDF.type and o in _SCHEMA_TYPES):
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

    def _datatypes(self) -> list[ox.Quad]:
        """owlrl's one-time datatype rules: literal typing, subsumptions, disjointness."""
        quads = []
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
                self._error("Lexical value of the literal '%s' does not match its datatype (%s)"
                            % (lit, dt))
            quads.append(ox.Quad(node, TYPE, ox.NamedNode(dts)))
            for sup in SUBSUMPTIONS.get(dts, ()):
                quads.append(ox.Quad(node, TYPE, ox.NamedNode(sup)))
                used.add(sup)
        for a, b in DATATYPE_DISJOINTNESS:
            if a in used and b in used:
                quads.append(ox.Quad(ox.NamedNode(a), DISJOINT_WITH, ox.NamedNode(b)))
        return quads

    # -- checks ----------------------------------------------------------------------------

    def _check_supported(self, schema: _Schema) -> None:
        if schema.by_p.get(HAS_KEY):
            raise UnsupportedConstruct("owl:hasKey (owlrl's prp-key is not reproduced)")

        def vocab_property(p) -> bool:
            return p.value.startswith(VOCABULARY)

        def vocab_class(c) -> bool:
            return c.value.startswith(VOCABULARY) and c.value not in CLASS_VOCABULARY

        bad = []
        for p in (SUBP, EQP, INVERSE, PROPERTY_DISJOINT_WITH):
            for s, o in schema.by_p.get(p, ()):
                bad += [x for x in (s, o) if vocab_property(x)]
        for p in (DOMAIN, RANGE, CHAIN):
            bad += [s for s, _ in schema.by_p.get(p, ()) if vocab_property(s)]
        for _, o in schema.by_p.get(ON_PROPERTY, ()):
            if vocab_property(o):
                bad.append(o)
        for _, head in schema.by_p.get(CHAIN, ()):
            bad += [x for x in schema.items(head) if vocab_property(x)]
        for t in (SYMMETRIC, TRANSITIVE, FUNCTIONAL, INV_FUNCTIONAL, IRREFLEXIVE, ASYMMETRIC):
            bad += [s for s in schema.subjects(TYPE, t) if vocab_property(s)]
        for p in (SUB, EQC, DISJOINT_WITH, COMPLEMENT):
            for s, o in schema.by_p.get(p, ()):
                bad += [x for x in (s, o) if vocab_class(x)]
        for p in (DOMAIN, RANGE, SVF, AVF, ON_CLASS):
            bad += [o for _, o in schema.by_p.get(p, ()) if vocab_class(o)]
        for p in (INTERSECTION, UNION):
            for _, head in schema.by_p.get(p, ()):
                bad += [x for x in schema.items(head) if vocab_class(x)]
        bad = [b for b in bad if not self.terms.is_literal(b)]
        if bad:
            raise UnsupportedConstruct("axioms about the RDF/RDFS/OWL vocabulary itself: "
                                       + ", ".join(sorted({b.value for b in bad})))

    # -- compilation ---------------------------------------------------------------------

    def compile(self, schema: _Schema) -> None:
        """Pre-compute the single-premise consequences of every class and property."""
        t = self.terms
        supers: dict = defaultdict(set)
        for c, d in schema.by_p.get(SUB, ()):
            if c != d:
                supers[c].add(d)
        sub_props: dict = defaultdict(set)
        for p, q in schema.by_p.get(SUBP, ()):
            if p != q:
                sub_props[p].add(q)
        inverse: dict = defaultdict(set)
        for p, q in schema.by_p.get(INVERSE, ()):
            inverse[p].add(q)
            inverse[q].add(p)
        symmetric = schema.subjects(TYPE, SYMMETRIC)
        domains: dict = defaultdict(set)
        for p, c in schema.by_p.get(DOMAIN, ()):
            domains[p].add(c)
        ranges: dict = defaultdict(set)
        for p, c in schema.by_p.get(RANGE, ()):
            ranges[p].add(c)

        # classes whose membership some rule or check reads (owl:Thing is dropped otherwise:
        # owlrl's "x a owl:Thing" are removed by the clean-up and feed nothing else)
        premises = {c for c, ds in supers.items() if ds}
        for p in (INTERSECTION, UNION):
            for _, head in schema.by_p.get(p, ()):
                premises.update(schema.items(head))
        for _, y in schema.by_p.get(SVF, ()):
            premises.add(y)
        for _, cc in schema.by_p.get(ON_CLASS, ()):
            premises.add(cc)
        for s, o in schema.by_p.get(DISJOINT_WITH, set()) | schema.by_p.get(COMPLEMENT, set()):
            premises.update((s, o))
        for x in schema.subjects(TYPE, ALL_DISJOINT_CLASSES):
            for head in schema.objects(x, MEMBERS):
                premises.update(schema.items(head))
        premises.add(NOTHING)
        self.keep_thing = THING in premises
        self.premises = premises

        def type_closure(c) -> set:
            out = {c} | supers.get(c, set())
            if not self.keep_thing:
                out.discard(THING)
            return out

        self.type_closure = {c: type_closure(c) for c in set(supers) | premises}

        props = set(sub_props) | set(inverse) | set(symmetric) | set(domains) | set(ranges)
        props |= {q for qs in sub_props.values() for q in qs}
        closure = {}
        for p in props:
            if t.is_literal(p):
                continue
            seen = {(p, True)}
            todo = [(p, True)]
            while todo:
                q, fwd = todo.pop()
                nxt = [(r, fwd) for r in sub_props.get(q, ())]
                nxt += [(r, not fwd) for r in inverse.get(q, ())]
                if q in symmetric:
                    nxt.append((q, not fwd))
                for item in nxt:
                    if item not in seen and not t.is_literal(item[0]):
                        seen.add(item)
                        todo.append(item)
            fwd_props = {q for q, f in seen if f and q != p}
            bwd_props = {q for q, f in seen if not f}
            s_types, o_types = set(), set()
            for q, f in seen:
                (s_types if f else o_types).update(domains.get(q, ()))
                (o_types if f else s_types).update(ranges.get(q, ()))
            s_types = set().union(*(self.types_of(c) for c in s_types)) if s_types else set()
            o_types = set().union(*(self.types_of(c) for c in o_types)) if o_types else set()
            if fwd_props or bwd_props or s_types or o_types:
                closure[p] = (fwd_props, bwd_props, s_types, o_types)
        self.prop_closure = closure
        self.schema = schema

    def types_of(self, c) -> set:
        found = self.type_closure.get(c)
        if found is None:
            found = {c} if (c != THING or self.keep_thing) else set()
        return found

    def cons(self, s: str, p: ox.NamedNode, o: str) -> list[str]:
        """Template triples for ``s p o`` and all its single-premise consequences."""
        out = [f"{s} {p} {o} ."]
        fwd, bwd, st, ot = self.prop_closure.get(p, ((), (), (), ()))
        out += [f"{s} {q} {o} ." for q in fwd]
        out += [f"{o} {q} {s} ." for q in bwd]
        out += [f"{s} a {c} ." for c in st]
        out += [f"{o} a {c} ." for c in ot]
        return out

    def cons_type(self, x: str, c: ox.NamedNode) -> list[str]:
        return [f"{x} a {d} ." for d in self.types_of(c)] or [f"{x} a {c} ."]

    # -- rules ---------------------------------------------------------------------------

    @staticmethod
    def _insert(template: list[str], where: str, guard: str | None,
                project: str | None = None) -> str:
        """An INSERT of ``template``; ``{marker}`` is left for :meth:`_apply` to fill in.

        The guard (the rule's main conclusion) keeps a solution only when it derives
        something new, so the marker triple is inserted exactly when the rule fired.
        """
        body = " ".join(dict.fromkeys(template))
        if project:
            where = f"{{ SELECT DISTINCT {project} WHERE {{ {where} }} }}"
        nx = f" FILTER NOT EXISTS {{ {guard} }}" if guard else ""
        return (f"INSERT {{ {body} GRAPH {MARKERS} {{ {MARKERS} {MARKERS} {{marker}} }} }} "
                f"WHERE {{ {where}{nx} }}")

    def _minimal(self, classes: set) -> set:
        """``classes`` without those that cax-sco derives from another member."""
        classes = {c for c in classes if c != THING or self.keep_thing}
        out = set()
        for c in classes:
            implied = any(c in self.types_of(d) and d not in self.types_of(c)
                          for d in classes if d != c)
            if not implied:
                out.add(c)
        return out

    def single_premise_updates(self) -> list[_Rule]:
        """Close the store under the single-premise rules: sub-properties, inverses and
        symmetry first (with the per-property closure), then each property's own domains and
        ranges, then the subclass closure of every type."""
        sc = self.schema
        fwd_pairs, bwd_pairs, s_pairs, o_pairs = [], [], [], []
        for p, (fwd, bwd, _st, _ot) in self.prop_closure.items():
            fwd_pairs += [f"({p} {q})" for q in fwd]
            bwd_pairs += [f"({p} {q})" for q in bwd]
        domains: dict = defaultdict(set)
        for p, c in sc.by_p.get(DOMAIN, ()):
            domains[p].add(c)
        ranges: dict = defaultdict(set)
        for p, c in sc.by_p.get(RANGE, ()):
            ranges[p].add(c)
        for p, cs in domains.items():
            if not self.terms.is_literal(p):
                s_pairs += [f"({p} {c})" for c in self._minimal(cs)]
        for p, cs in ranges.items():
            if not self.terms.is_literal(p):
                o_pairs += [f"({p} {c})" for c in self._minimal(cs)]
        type_pairs = [f"({c} {d})" for c, ds in self.type_closure.items() for d in ds if d != c]
        ups = []
        if fwd_pairs:
            ups.append(self._insert(["?x ?q ?y ."], "VALUES (?p ?q) { %s } ?x ?p ?y ."
                                    % " ".join(fwd_pairs), "?x ?q ?y ."))
        if bwd_pairs:
            ups.append(self._insert(["?y ?q ?x ."], "VALUES (?p ?q) { %s } ?x ?p ?y ."
                                    % " ".join(bwd_pairs), "?y ?q ?x ."))
        if s_pairs:
            ups.append(self._insert(["?x a ?c ."], "VALUES (?p ?c) { %s } ?x ?p ?y ."
                                    % " ".join(s_pairs), "?x a ?c .", "?x ?c"))
        if o_pairs:
            ups.append(self._insert(["?y a ?c ."], "VALUES (?p ?c) { %s } ?x ?p ?y ."
                                    % " ".join(o_pairs), "?y a ?c .", "?y ?c"))
        if type_pairs:
            ups.append(self._insert(["?x a ?d ."], "VALUES (?c ?d) { %s } ?x a ?c ."
                                    % " ".join(type_pairs), "?x a ?d ."))
        return [_Rule(u, None, None) for u in ups]

    def _writes(self, p) -> set:
        fwd, bwd, st, ot = self.prop_closure.get(p, ((), (), (), ()))
        return {p, *fwd, *bwd, *((TYPE, c) for c in st), *((TYPE, c) for c in ot)}

    def _writes_type(self, c) -> set:
        return {(TYPE, d) for d in self.types_of(c)} | {(TYPE, c)}

    def join_updates(self) -> tuple[list[_Rule], bool]:
        """The multi-premise rules; also says whether the equality rules are needed."""
        sc, t = self.schema, self.terms
        ups: list[_Rule] = []
        is_lit = t.is_literal
        rule = ups.append

        def ok_prop(p) -> bool:
            return not is_lit(p)

        # prp-spo2
        for p, head in sc.by_p.get(CHAIN, ()):
            chain = sc.items(head)
            if not chain or not ok_prop(p) or not all(ok_prop(c) for c in chain):
                continue
            where = " ".join(f"?x{i} {c} ?x{i + 1} ." for i, c in enumerate(chain))
            last = f"?x{len(chain)}"
            rule(_Rule(self._insert(self.cons("?x0", p, last), where, f"?x0 {p} {last} .",
                                    f"?x0 {last}"), set(chain), self._writes(p)))
        # prp-trp
        for p in sc.subjects(TYPE, TRANSITIVE):
            if ok_prop(p):
                rule(_Rule(self._insert(self.cons("?x", p, "?z"), f"?x {p}+ ?z .",
                                        f"?x {p} ?z .", "?x ?z"), {p}, self._writes(p)))
        # cls-int1
        for c, head in sc.by_p.get(INTERSECTION, ()):
            classes = sc.items(head)
            if classes:
                where = " ".join(f"?y a {ci} ." for ci in classes)
                rule(_Rule(self._insert(self.cons_type("?y", c), where, f"?y a {c} ."),
                           {(TYPE, ci) for ci in classes}, self._writes_type(c)))
        # cls-svf1/2, cls-avf, cls-hv1/2, cls-maxc2, cls-maxqc3/4
        for xx, y in sc.by_p.get(SVF, ()):
            for pp in sc.objects(xx, ON_PROPERTY):
                where = f"?u {pp} ?v ." + ("" if y == THING else f" ?v a {y} .")
                rule(_Rule(self._insert(self.cons_type("?u", xx), where, f"?u a {xx} .", "?u"),
                           {pp, (TYPE, y)}, self._writes_type(xx)))
        for xx, y in sc.by_p.get(AVF, ()):
            for pp in sc.objects(xx, ON_PROPERTY):
                rule(_Rule(self._insert(self.cons_type("?v", y), f"?u a {xx} . ?u {pp} ?v .",
                                        f"?v a {y} .", "?v"),
                           {pp, (TYPE, xx)}, self._writes_type(y)))
        for xx, y in sc.by_p.get(HAS_VALUE, ()):
            for pp in sc.objects(xx, ON_PROPERTY):
                if ok_prop(pp):
                    rule(_Rule(self._insert(self.cons("?u", pp, str(y)), f"?u a {xx} .",
                                            f"?u {pp} {y} ."), {(TYPE, xx)}, self._writes(pp)))
                rule(_Rule(self._insert(self.cons_type("?u", xx), f"?u {pp} {y} .",
                                        f"?u a {xx} ."), {pp}, self._writes_type(xx)))
        producers = False
        same = ["?y1 owl:sameAs ?y2 ."]
        guard, distinct, pair = "?y1 owl:sameAs ?y2 .", "FILTER(?y1 != ?y2)", "?y1 ?y2"
        for xx, n in sc.by_p.get(MAX_CARD, ()):
            if self._value(n) == 1:
                for pp in sc.objects(xx, ON_PROPERTY):
                    producers = True
                    rule(_Rule(self._insert(
                        same, f"?u a {xx} . ?u {pp} ?y1 . ?u {pp} ?y2 . {distinct}", guard, pair),
                        {pp, (TYPE, xx)}, {SAME_AS}))
        for xx, n in sc.by_p.get(MAX_QCARD, ()):
            if self._value(n) == 1:
                for pp in sc.objects(xx, ON_PROPERTY):
                    for cc in sc.objects(xx, ON_CLASS):
                        producers = True
                        typed = "" if cc == THING else f"?y1 a {cc} . ?y2 a {cc} ."
                        rule(_Rule(self._insert(
                            same, f"?u a {xx} . ?u {pp} ?y1 . ?u {pp} ?y2 . {typed} {distinct}",
                            guard, pair), {pp, (TYPE, xx), (TYPE, cc)}, {SAME_AS}))
        # prp-fp, prp-ifp
        for p in sc.subjects(TYPE, FUNCTIONAL):
            producers = True
            rule(_Rule(self._insert(same, f"?x {p} ?y1 . ?x {p} ?y2 . {distinct}", guard, pair),
                       {p}, {SAME_AS}))
        for p in sc.subjects(TYPE, INV_FUNCTIONAL):
            producers = True
            rule(_Rule(self._insert(same, f"?y1 {p} ?x . ?y2 {p} ?x . {distinct}", guard, pair),
                       {p}, {SAME_AS}))
        # cls-oo
        for c, head in sc.by_p.get(ONE_OF, ()):
            for y in sc.items(head):
                rule(_Rule(self._insert(self.cons_type(str(y), c), "", f"{y} a {c} ."),
                           set(), self._writes_type(c)))
        return ups, producers

    def equality_updates(self) -> list[_Rule]:
        """eq-sym, eq-trans, eq-rep-s/p/o (owlrl never makes a literal a predicate)."""
        lit = f'FILTER(!STRSTARTS(STR(?o), "{LITERAL_PROXY}"))'
        ups = [
            self._insert(["?y owl:sameAs ?x ."], "?x owl:sameAs ?y .", "?y owl:sameAs ?x ."),
            self._insert(["?x owl:sameAs ?z ."], "?x owl:sameAs ?y . ?y owl:sameAs ?z .",
                         "?x owl:sameAs ?z .", "?x ?z"),
            self._insert(["?o ?p ?v ."], "?s owl:sameAs ?o . ?s ?p ?v .", "?o ?p ?v .",
                         "?o ?p ?v"),
            self._insert(["?x ?o ?v ."], f"?s owl:sameAs ?o . ?x ?s ?v . {lit}", "?x ?o ?v .",
                         "?x ?o ?v"),
            self._insert(["?x ?p ?s ."], "?s owl:sameAs ?o . ?x ?p ?o .", "?x ?p ?s .",
                         "?x ?p ?s"),
        ]
        return [_Rule(u, None, None) for u in ups]

    def _value(self, node):
        lit = self.terms.literals.get(node)
        return lit.value if lit is not None else None

    # -- the fixpoint ----------------------------------------------------------------------

    def _apply(self, rule: _Rule) -> bool:
        """Run one rule; True when it derived something new."""
        self._fired += 1
        marker = ox.NamedNode(f"{MARKERS.value}:{self._fired}")
        self._update(rule.sparql.replace("{marker}", str(marker)))
        return ox.Quad(MARKERS, MARKERS, marker, MARKERS) in self.store

    def _update(self, sparql: str) -> None:
        self.store.update(sparql, prefixes={"owl": str(OWL)})

    def _schema_in_store(self) -> set[tuple]:
        preds = " ".join(str(p) for p in SCHEMA_PREDICATES)
        types = " ".join(str(c) for c in SCHEMA_TYPES)
        q = (f"SELECT ?s ?p ?o WHERE {{ {{ VALUES ?p {{ {preds} }} ?s ?p ?o }} "
             f"UNION {{ VALUES ?o {{ {types} }} BIND({TYPE} AS ?p) ?s ?p ?o }} }}")
        return {(r[0], r[1], r[2]) for r in self.store.query(q)}

    def _fixpoint(self, rules: list[_Rule]) -> None:
        """Semi-naive at the level of rules: a rule runs again only when a rule that fired
        since its last run writes what it reads (``None``: anything)."""
        dirty: set | None = None  # None: everything is new
        while True:
            fired_writes: set = set()
            anything = False
            for r in rules:
                if dirty is not None and r.reads is not None and not anything_new(
                        r.reads, dirty, fired_writes):
                    continue
                if self._apply(r):
                    anything = True
                    if r.writes is None:
                        fired_writes = _Everything()
                    elif not isinstance(fired_writes, _Everything):
                        fired_writes |= r.writes
            if not anything:
                return
            dirty = fired_writes

    def run(self) -> None:
        self._fired = 0
        self.store.bulk_extend(self._datatypes())
        for thing in (THING, NOTHING):  # cls-thing, cls-nothing1 (feed scm-cls)
            self.schema_input.add((thing, TYPE, OWL_CLASS))
        schema_input = set(self.schema_input)
        schema_input |= {(q.subject, q.predicate, q.object)
                         for q in self.store.quads_for_pattern(None, DISJOINT_WITH, None,
                                                               ox.DefaultGraph())}
        while True:
            schema = _Schema(schema_input)
            self._check_supported(schema)
            derived = schema_closure(schema)
            self.store.bulk_extend([ox.Quad(s, p, o) for s, p, o in derived])
            self.compile(schema)
            singles = self.single_premise_updates()
            joins, producers = self.join_updates()
            for r in singles:
                self._apply(r)
            if producers or self._has_same_as():
                self._fixpoint(singles + joins + self.equality_updates())
            else:
                self._fixpoint(joins)
                if self._has_same_as():  # a rule derived owl:sameAs after all
                    self._fixpoint(singles + joins + self.equality_updates())
            found = self._schema_in_store()
            if found <= schema.triples:
                break
            schema_input = schema.triples | found
        self.final_schema = schema

    def _has_same_as(self) -> bool:
        return self.store.query("ASK { ?x owl:sameAs ?y }", prefixes={"owl": str(OWL)})

    # -- inconsistencies -----------------------------------------------------------------

    def _error(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)

    def _select(self, where: str) -> list:
        q = f"SELECT * WHERE {{ {where} }}"
        return list(self.store.query(q, prefixes={"owl": str(OWL)}))

    def _text(self, node) -> str:
        return str(self.terms.back(node))

    def check(self) -> None:
        sc, tx = self.final_schema, self._text
        for r in self._select(f"?c a {NOTHING} ."):
            self._error("%s is defined of type 'Nothing'" % tx(r["c"]))
        for p in sc.subjects(TYPE, IRREFLEXIVE):
            for r in self._select(f"?x {p} ?x ."):
                self._error("Irreflexive property used on %s with %s" % (tx(r["x"]), tx(p)))
        for p in sc.subjects(TYPE, ASYMMETRIC):
            for r in self._select(f"?x {p} ?y . ?y {p} ?x ."):
                self._error("Erroneous usage of asymmetric property %s on %s and %s"
                            % (tx(p), tx(r["x"]), tx(r["y"])))
        for x in sc.subjects(TYPE, ALL_DISJOINT_PROPERTIES):
            for head in sc.objects(x, MEMBERS):
                pis = sc.items(head)
                for i in range(0, len(pis) - 1):  # owlrl's bounds, kept
                    for j in range(i + 1, len(pis) - 1):
                        pi, pj = pis[i], pis[j]
                        for r in self._select(f"?x {pi} ?y . ?x {pj} ?y ."):
                            a, b = tx(r["x"]), tx(r["y"])
                            self._error(
                                "Disjoint properties in an 'AllDisjointProperties' are not really "
                                "disjoint: (%s, %s,%s) and (%s,%s,%s)"
                                % (a, tx(pi), b, a, tx(pj), b))
        for p1, p2 in sc.by_p.get(PROPERTY_DISJOINT_WITH, ()):
            for r in self._select(f"?x {p1} ?y . ?x {p2} ?y ."):
                self._error("Erroneous usage of disjoint properties %s and %s on %s and %s"
                            % (tx(p1), tx(p2), tx(r["x"]), tx(r["y"])))
        for x, i1 in sc.by_p.get(SOURCE_INDIVIDUAL, ()):
            for p1 in sc.objects(x, ASSERTION_PROPERTY):
                for i2 in sc.objects(x, TARGET_INDIVIDUAL):
                    if self._ask(f"{i1} {p1} {i2} ."):
                        self._error("Negative (object) property assertion violated for: "
                                    "(%s, %s, %s)" % (tx(i1), tx(p1), tx(i2)))
                for i2 in sc.objects(x, TARGET_VALUE):
                    if self._ask(f"{i1} {p1} {i2} ."):
                        self._error("Negative (datatype) property assertion violated for: "
                                    "(%s, %s, %s)" % (tx(i1), tx(p1), tx(i2)))
        for r in self._select("?s owl:sameAs ?o . { ?s owl:differentFrom ?o } UNION "
                              "{ ?o owl:differentFrom ?s }"):
            self._error("'sameAs' and 'differentFrom' cannot be used on the same subject-object "
                        "pair: (%s, %s)" % (tx(r["s"]), tx(r["o"])))
        # owlrl's reflexive owl:sameAs of every node meets a reflexive owl:differentFrom
        for s, o in sc.by_p.get(DIFFERENT, ()):
            if s == o:
                self._error("'sameAs' and 'differentFrom' cannot be used on the same "
                            "subject-object pair: (%s, %s)" % (tx(s), tx(s)))
        for x in sc.subjects(TYPE, ALL_DIFFERENT):
            for head in sc.objects(x, MEMBERS) | sc.objects(x, DISTINCT_MEMBERS):
                zis = sc.items(head)
                for i in range(0, len(zis) - 1):  # owlrl's bounds, kept
                    for j in range(i + 1, len(zis) - 1):
                        zi, zj = zis[i], zis[j]
                        if zi != zj and (self._ask(f"{zi} owl:sameAs {zj} .")
                                         or self._ask(f"{zj} owl:sameAs {zi} .")):
                            self._error("'sameAs' and 'AllDifferent' cannot be used on the same "
                                        "subject-object pair: (%s, %s)" % (tx(zi), tx(zj)))
        for c1, c2 in sc.by_p.get(COMPLEMENT, ()):
            if self._select(f"?x a {c1} . ?x a {c2} ."):
                # owlrl names the complement class where it means the element
                self._error("Violation of complementarity for classes %s and %s on element %s"
                            % (tx(c1), tx(c2), tx(c2)))
        for xx, n in sc.by_p.get(MAX_CARD, ()):
            if self._value(n) == 0:
                for pp in sc.objects(xx, ON_PROPERTY):
                    for r in self._select(f"?u {pp} ?y . ?u a {xx} ."):
                        self._error("Erroneous usage of maximum cardinality with %s and %s"
                                    % (tx(xx), tx(r["y"])))
        for xx, n in sc.by_p.get(MAX_QCARD, ()):
            if self._value(n) == 0:
                for pp in sc.objects(xx, ON_PROPERTY):
                    for cc in sc.objects(xx, ON_CLASS):
                        typed = "" if cc == THING else f"?y a {cc} ."
                        for r in self._select(f"?u {pp} ?y . ?u a {xx} . {typed}"):
                            self._error("Erroneous usage of maximum qualified cardinality with "
                                        "%s, %s and %s" % (tx(xx), tx(cc), tx(r["y"])))
        for c1, c2 in sc.by_p.get(DISJOINT_WITH, ()):
            for r in self._select(f"?x a {c1} . ?x a {c2} ."):
                self._error("Disjoint classes %s and %s have a common individual %s"
                            % (tx(c1), tx(c2), tx(r["x"])))
        for x in sc.subjects(TYPE, ALL_DISJOINT_CLASSES):
            for head in sc.objects(x, MEMBERS):
                classes = sc.items(head)
                for i in range(0, len(classes) - 1):
                    for cl2 in classes[i + 1:]:
                        for r in self._select(f"?z a {classes[i]} . ?z a {cl2} ."):
                            self._error("Disjoint classes %s and %s have a common individual %s"
                                        % (tx(classes[i]), tx(cl2), tx(r["z"])))

    def _ask(self, pattern: str) -> bool:
        return self.store.query(f"ASK {{ {pattern} }}",
                                prefixes={"owl": str(OWL)})

    # -- results -----------------------------------------------------------------------------

    def inferred(self) -> Iterable[tuple]:
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


def _run(triples: Iterable[tuple]) -> tuple[list[tuple], Counter, list[str], set]:
    """The engine over rdflib-term triples: (kept inferred, removed counts, messages, axiom
    blank nodes)."""
    terms = _Terms()
    engine = _Engine(terms)
    axiom_graph = Graph()
    for t in engine.load(triples):
        axiom_graph.add(t)
    axiom_nodes = reasoning.axiom_blank_nodes(axiom_graph)
    engine.run()
    engine.check()
    kept: list[tuple] = []
    removed: Counter[str] = Counter()
    for t in engine.inferred():
        why = reasoning.removal_reason(t, axiom_nodes)
        if why:
            removed[why] += 1
        else:
            kept.append(t)
    return kept, removed, engine.messages, axiom_nodes


def reason(asserted: Graph, *, fallback: bool = True) -> reasoning.Closure:
    """OWL 2 RL closure of ``asserted``, cleaned: a drop-in for :func:`crinkkg.reasoning.reason`.

    Falls back to owlrl (with a warning) for constructs this engine does not reproduce, or
    raises :class:`UnsupportedConstruct` when ``fallback`` is false.
    """
    try:
        kept, removed, messages, _ = _run(asserted)
    except UnsupportedConstruct as exc:
        if not fallback:
            raise
        warnings.warn(f"crinkkg.reasoning.rules: falling back to owlrl: {exc}", stacklevel=2)
        return reasoning.reason(asserted)
    inferred = Graph()
    for prefix, ns in asserted.namespaces():
        inferred.bind(prefix, ns, override=True)
    add = inferred.add
    for t in kept:
        add(t)
    return reasoning.Closure(inferred, removed, reasoning.inconsistencies_from(messages))


def reason_triples(triples: list[ox.Triple], *, fallback: bool = True
                   ) -> tuple[list[ox.Triple], Counter, list[Inconsistency]]:
    """The same over Oxigraph triples, without building rdflib graphs (for large inputs).

    Terms are converted as the build converts them (:mod:`crinkkg.terms`).
    """
    cache: dict = {}

    def rd(term):
        found = cache.get(term)
        if found is None:
            found = cache[term] = to_rdflib(term)
        return found

    converted = [(rd(t.subject), rd(t.predicate), rd(t.object)) for t in triples]
    try:
        kept, removed, messages, _ = _run(converted)
    except UnsupportedConstruct as exc:
        if not fallback:
            raise
        warnings.warn(f"crinkkg.reasoning.rules: falling back to owlrl: {exc}", stacklevel=2)
        graph = Graph()
        for t in converted:
            graph.add(t)
        closure = reasoning.reason(graph)
        kept, removed = list(closure.inferred), closure.removed
        return ([ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in kept],
                removed, closure.inconsistencies)
    back: dict = {}

    def ox_term(term):
        found = back.get(term)
        if found is None:
            found = back[term] = to_oxigraph(term)
        return found

    out = [ox.Triple(ox_term(s), ox_term(p), ox_term(o)) for s, p, o in kept]
    return out, removed, reasoning.inconsistencies_from(messages)

