"""The TBox side of the engine: the schema triples indexed, owlrl's scm-* rules over them
in Python, and the refusal of what the compiled rules do not reproduce.

The schema is small (the TBox) and its rules are owlrl's quirks included, so they run here,
a port of owlrl's ``_schema_vocabulary``; the instance rules compiled from the closed schema
run in the store (:mod:`crinkkg.reasoning.rules.compiler`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from crinkkg.reasoning.rules.proxies import Terms
from crinkkg.reasoning.rules.vocabulary import (
    ASYMMETRIC,
    AVF,
    CHAIN,
    CLASS_VOCABULARY,
    COMPLEMENT,
    DISJOINT_WITH,
    DOMAIN,
    EQC,
    EQP,
    FIRST,
    FUNCTIONAL,
    HAS_KEY,
    HAS_VALUE,
    INTERSECTION,
    INV_FUNCTIONAL,
    INVERSE,
    IRREFLEXIVE,
    NOTHING,
    ON_CLASS,
    ON_PROPERTY,
    OWL_CLASS,
    PROPERTY_DISJOINT_WITH,
    PROPERTY_TYPES,
    RANGE,
    REST,
    SUB,
    SUBP,
    SVF,
    SYMMETRIC,
    THING,
    TRANSITIVE,
    TYPE,
    UNION,
    VOCABULARY,
    UnsupportedConstruct,
)


class Schema:
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

    def grouped(self, p) -> dict:
        """The objects of ``p`` by subject (e.g. each property's domains)."""
        out: dict = defaultdict(set)
        for s, o in self.by_p.get(p, ()):
            out[s].add(o)
        return out

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


def schema_closure(schema: Schema) -> set[tuple]:
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


def check_supported(schema: Schema, terms: Terms) -> None:
    """Refuse what the rules do not reproduce exactly: owl:hasKey, and axioms about the
    RDF/RDFS/OWL vocabulary itself (a sub-property of rdf:type, a domain on owl:sameAs...)."""
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
    bad = [b for b in bad if not terms.is_literal(b)]
    if bad:
        raise UnsupportedConstruct("axioms about the RDF/RDFS/OWL vocabulary itself: "
                                   + ", ".join(sorted({b.value for b in bad})))
