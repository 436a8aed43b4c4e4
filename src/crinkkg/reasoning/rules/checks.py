"""The inconsistency checks of owlrl, over the closed store, with owlrl's messages.

cax-dw, cax-adc (``owl:AllDisjointClasses``), cls-nothing2, cls-com, cls-maxc1,
cls-maxqc1/2, prp-irp, prp-asyp, prp-pdw, prp-adp (``owl:AllDisjointProperties``),
prp-npa1/2, eq-diff1/2/3. The schema says what to look for; the store (:class:`Queryable`)
answers the patterns, wherever it is.
"""

# ruff: noqa: UP031  (the inconsistency messages are owlrl's, %-formatted as owlrl does)

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import pyoxigraph as ox

from crinkkg.reasoning.rules.proxies import Terms
from crinkkg.reasoning.rules.tbox import Schema
from crinkkg.reasoning.rules.vocabulary import (
    ALL_DIFFERENT,
    ALL_DISJOINT_CLASSES,
    ALL_DISJOINT_PROPERTIES,
    ASSERTION_PROPERTY,
    ASYMMETRIC,
    COMPLEMENT,
    DIFFERENT,
    DISJOINT_WITH,
    DISTINCT_MEMBERS,
    IRREFLEXIVE,
    MAX_CARD,
    MAX_QCARD,
    MEMBERS,
    NOTHING,
    ON_CLASS,
    ON_PROPERTY,
    PROPERTY_DISJOINT_WITH,
    SOURCE_INDIVIDUAL,
    TARGET_INDIVIDUAL,
    TARGET_VALUE,
    THING,
    TYPE,
)


class Queryable(Protocol):
    """What the checks need of the store: patterns over the closed graph (the engine's
    terms; ``owl:`` is a known prefix)."""

    def select(self, where: str) -> list[Mapping[str, ox.NamedNode]]:
        """The solutions of ``SELECT * WHERE { where }``."""
        ...

    def ask(self, pattern: str) -> bool:
        """The answer of ``ASK { pattern }``."""
        ...


class Messages(list):
    """The inconsistency messages found, each once, in the order found."""

    def add(self, message: str) -> None:
        if message not in self:
            self.append(message)


def check(schema: Schema, store: Queryable, terms: Terms, messages: Messages) -> None:
    """owlrl's inconsistency checks over the closed store, with owlrl's messages (in
    owlrl's order), added to ``messages``."""
    sc = schema
    select, ask, error, value = store.select, store.ask, messages.add, terms.value

    def tx(node) -> str:
        return str(terms.back(node))

    for r in select(f"?c a {NOTHING} ."):
        error("%s is defined of type 'Nothing'" % tx(r["c"]))
    for p in sc.subjects(TYPE, IRREFLEXIVE):
        for r in select(f"?x {p} ?x ."):
            error("Irreflexive property used on %s with %s" % (tx(r["x"]), tx(p)))
    for p in sc.subjects(TYPE, ASYMMETRIC):
        for r in select(f"?x {p} ?y . ?y {p} ?x ."):
            error("Erroneous usage of asymmetric property %s on %s and %s"
                  % (tx(p), tx(r["x"]), tx(r["y"])))
    for x in sc.subjects(TYPE, ALL_DISJOINT_PROPERTIES):
        for head in sc.objects(x, MEMBERS):
            pis = sc.items(head)
            for i in range(0, len(pis) - 1):  # owlrl's bounds, kept
                for j in range(i + 1, len(pis) - 1):
                    pi, pj = pis[i], pis[j]
                    for r in select(f"?x {pi} ?y . ?x {pj} ?y ."):
                        a, b = tx(r["x"]), tx(r["y"])
                        error(
                            "Disjoint properties in an 'AllDisjointProperties' are not really "
                            "disjoint: (%s, %s,%s) and (%s,%s,%s)"
                            % (a, tx(pi), b, a, tx(pj), b))
    for p1, p2 in sc.by_p.get(PROPERTY_DISJOINT_WITH, ()):
        for r in select(f"?x {p1} ?y . ?x {p2} ?y ."):
            error("Erroneous usage of disjoint properties %s and %s on %s and %s"
                  % (tx(p1), tx(p2), tx(r["x"]), tx(r["y"])))
    for x, i1 in sc.by_p.get(SOURCE_INDIVIDUAL, ()):
        for p1 in sc.objects(x, ASSERTION_PROPERTY):
            for i2 in sc.objects(x, TARGET_INDIVIDUAL):
                if ask(f"{i1} {p1} {i2} ."):
                    error("Negative (object) property assertion violated for: "
                          "(%s, %s, %s)" % (tx(i1), tx(p1), tx(i2)))
            for i2 in sc.objects(x, TARGET_VALUE):
                if ask(f"{i1} {p1} {i2} ."):
                    error("Negative (datatype) property assertion violated for: "
                          "(%s, %s, %s)" % (tx(i1), tx(p1), tx(i2)))
    for r in select("?s owl:sameAs ?o . { ?s owl:differentFrom ?o } UNION "
                    "{ ?o owl:differentFrom ?s }"):
        error("'sameAs' and 'differentFrom' cannot be used on the same subject-object "
              "pair: (%s, %s)" % (tx(r["s"]), tx(r["o"])))
    # owlrl's reflexive owl:sameAs of every node meets a reflexive owl:differentFrom
    for s, o in sc.by_p.get(DIFFERENT, ()):
        if s == o:
            error("'sameAs' and 'differentFrom' cannot be used on the same "
                  "subject-object pair: (%s, %s)" % (tx(s), tx(s)))
    for x in sc.subjects(TYPE, ALL_DIFFERENT):
        for head in sc.objects(x, MEMBERS) | sc.objects(x, DISTINCT_MEMBERS):
            zis = sc.items(head)
            for i in range(0, len(zis) - 1):  # owlrl's bounds, kept
                for j in range(i + 1, len(zis) - 1):
                    zi, zj = zis[i], zis[j]
                    if zi != zj and (ask(f"{zi} owl:sameAs {zj} .")
                                     or ask(f"{zj} owl:sameAs {zi} .")):
                        error("'sameAs' and 'AllDifferent' cannot be used on the same "
                              "subject-object pair: (%s, %s)" % (tx(zi), tx(zj)))
    for c1, c2 in sc.by_p.get(COMPLEMENT, ()):
        if select(f"?x a {c1} . ?x a {c2} ."):
            # owlrl names the complement class where it means the element
            error("Violation of complementarity for classes %s and %s on element %s"
                  % (tx(c1), tx(c2), tx(c2)))
    for xx, n in sc.by_p.get(MAX_CARD, ()):
        if value(n) == 0:
            for pp in sc.objects(xx, ON_PROPERTY):
                for r in select(f"?u {pp} ?y . ?u a {xx} ."):
                    error("Erroneous usage of maximum cardinality with %s and %s"
                          % (tx(xx), tx(r["y"])))
    for xx, n in sc.by_p.get(MAX_QCARD, ()):
        if value(n) == 0:
            for pp in sc.objects(xx, ON_PROPERTY):
                for cc in sc.objects(xx, ON_CLASS):
                    typed = "" if cc == THING else f"?y a {cc} ."
                    for r in select(f"?u {pp} ?y . ?u a {xx} . {typed}"):
                        error("Erroneous usage of maximum qualified cardinality with "
                              "%s, %s and %s" % (tx(xx), tx(cc), tx(r["y"])))
    for c1, c2 in sc.by_p.get(DISJOINT_WITH, ()):
        for r in select(f"?x a {c1} . ?x a {c2} ."):
            error("Disjoint classes %s and %s have a common individual %s"
                  % (tx(c1), tx(c2), tx(r["x"])))
    for x in sc.subjects(TYPE, ALL_DISJOINT_CLASSES):
        for head in sc.objects(x, MEMBERS):
            classes = sc.items(head)
            for i in range(0, len(classes) - 1):
                for cl2 in classes[i + 1:]:
                    for r in select(f"?z a {classes[i]} . ?z a {cl2} ."):
                        error("Disjoint classes %s and %s have a common individual %s"
                              % (tx(classes[i]), tx(cl2), tx(r["z"])))
