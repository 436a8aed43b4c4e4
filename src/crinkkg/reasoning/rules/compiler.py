"""The instance rules, compiled from the closed TBox into SPARQL updates.

What a triple implies through the single-premise rules (sub-properties, inverses, symmetry,
domains, ranges, the subclass closure) is computed once per class and property
(:class:`Consequences`), so that one update derives all of a triple's single-premise
consequences. :class:`RuleCompiler` then writes each rule as an update, through an
:class:`UpdateForm` that the caller chooses: where the derived triples are written, how the
rule's firing is recorded and what the store needs of the text are the store's business
(:mod:`crinkkg.reasoning.rules.local` writes into an in-memory Oxigraph,
:mod:`crinkkg.reasoning.in_store` into a named graph of a SPARQL store).

Rules: cax-sco, cax-eqc1/2, prp-dom, prp-rng, prp-spo1, prp-eqp1/2, prp-inv1/2, prp-symp
(the single-premise ones), prp-spo2 (chains of any length, with ``[ owl:inverseOf p ]``
elements), prp-trp, prp-fp, prp-ifp, cls-int1/2, cls-uni, cls-svf1/2, cls-avf, cls-hv1/2,
cls-maxc2, cls-maxqc3/4, cls-oo, and eq-sym, eq-trans, eq-rep-s/p/o.
"""

# ruff: noqa: UP031  (the VALUES lists are %-formatted: their text holds braces)

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple, Protocol

import pyoxigraph as ox

from crinkkg.reasoning.rules.proxies import LITERAL_PROXY, Terms
from crinkkg.reasoning.rules.tbox import Schema
from crinkkg.reasoning.rules.vocabulary import (
    ALL_DISJOINT_CLASSES,
    AVF,
    CHAIN,
    COMPLEMENT,
    DISJOINT_WITH,
    DOMAIN,
    FUNCTIONAL,
    HAS_VALUE,
    INTERSECTION,
    INV_FUNCTIONAL,
    INVERSE,
    MAX_CARD,
    MAX_QCARD,
    MEMBERS,
    NOTHING,
    ON_CLASS,
    ON_PROPERTY,
    ONE_OF,
    RANGE,
    SAME_AS,
    SUB,
    SUBP,
    SVF,
    SYMMETRIC,
    THING,
    TRANSITIVE,
    TYPE,
    UNION,
)


class Rule(NamedTuple):
    """A compiled rule: its update, and what it reads and writes (predicates and
    ``(rdf:type, class)`` pairs; ``None``: anything)."""

    sparql: str
    reads: set | None
    writes: set | None


class RuleSet(NamedTuple):
    """The rules of one closed TBox, as the fixpoint runs them."""

    #: the single-premise rules (each a whole closure: they run once before the others)
    singles: list[Rule]
    #: the multi-premise rules
    joins: list[Rule]
    #: eq-sym, eq-trans, eq-rep-s/p/o: needed only when owl:sameAs is or can be derived
    equality: list[Rule]
    #: whether some join rule derives owl:sameAs
    producers: bool


class UpdateForm(Protocol):
    """The form of a rule's update: the hook through which a store says how derived triples
    are written.

    ``template`` are the triple patterns to insert, ``where`` the rule's body, ``guard`` its
    main conclusion (``FILTER NOT EXISTS``: a solution counts only when it derives something
    new), ``project`` the variables to keep distinct before inserting. The text returned
    holds ``{marker}`` where the store's ``apply`` puts a fresh term, so that it can tell
    whether the rule fired.
    """

    def __call__(self, template: list[str], where: str, guard: str | None,
                 project: str | None = None) -> str: ...


class Consequences:
    """What the closed TBox says a triple implies through the single-premise rules, per class
    and per property."""

    def __init__(self, schema: Schema, terms: Terms) -> None:
        self.schema, self.terms = schema, terms
        t = terms
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
        domains, ranges = schema.grouped(DOMAIN), schema.grouped(RANGE)

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
        #: property -> (its super-properties, the properties it implies backwards, the
        #: classes of its subject, the classes of its object)
        self.prop_closure = closure

    def types_of(self, c) -> set:
        """``c`` and its super-classes (owl:Thing only when some rule reads it)."""
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
        """Template triples for ``x a c`` and its super-classes."""
        return [f"{x} a {d} ." for d in self.types_of(c)] or [f"{x} a {c} ."]

    def minimal(self, classes: set) -> set:
        """``classes`` without those that cax-sco derives from another member."""
        classes = {c for c in classes if c != THING or self.keep_thing}
        out = set()
        for c in classes:
            implied = any(c in self.types_of(d) and d not in self.types_of(c)
                          for d in classes if d != c)
            if not implied:
                out.add(c)
        return out

    def writes(self, p) -> set:
        """What a rule concluding ``p`` triples writes."""
        fwd, bwd, st, ot = self.prop_closure.get(p, ((), (), (), ()))
        return {p, *fwd, *bwd, *((TYPE, c) for c in st), *((TYPE, c) for c in ot)}

    def writes_type(self, c) -> set:
        """What a rule concluding ``c`` memberships writes."""
        return {(TYPE, d) for d in self.types_of(c)} | {(TYPE, c)}


class RuleCompiler:
    """The rules of one closed TBox, each written as an update by ``form``."""

    def __init__(self, consequences: Consequences, form: UpdateForm) -> None:
        self.consequences = consequences
        self.schema, self.terms = consequences.schema, consequences.terms
        self.insert = form

    def rule_set(self) -> RuleSet:
        singles = self.single_premise_rules()
        joins, producers = self.join_rules()
        return RuleSet(singles, joins, self.equality_rules(), producers)

    def single_premise_rules(self) -> list[Rule]:
        """Close the store under the single-premise rules: sub-properties, inverses and
        symmetry first (with the per-property closure), then each property's own domains and
        ranges, then the subclass closure of every type."""
        sc, k = self.schema, self.consequences
        fwd_pairs, bwd_pairs, s_pairs, o_pairs = [], [], [], []
        for p, (fwd, bwd, _st, _ot) in k.prop_closure.items():
            fwd_pairs += [f"({p} {q})" for q in fwd]
            bwd_pairs += [f"({p} {q})" for q in bwd]
        domains, ranges = sc.grouped(DOMAIN), sc.grouped(RANGE)
        for p, cs in domains.items():
            if not self.terms.is_literal(p):
                s_pairs += [f"({p} {c})" for c in k.minimal(cs)]
        for p, cs in ranges.items():
            if not self.terms.is_literal(p):
                o_pairs += [f"({p} {c})" for c in k.minimal(cs)]
        type_pairs = [f"({c} {d})" for c, ds in k.type_closure.items() for d in ds if d != c]
        ups = []
        if fwd_pairs:
            ups.append(self.insert(["?x ?q ?y ."], "VALUES (?p ?q) { %s } ?x ?p ?y ."
                                   % " ".join(fwd_pairs), "?x ?q ?y ."))
        if bwd_pairs:
            ups.append(self.insert(["?y ?q ?x ."], "VALUES (?p ?q) { %s } ?x ?p ?y ."
                                   % " ".join(bwd_pairs), "?y ?q ?x ."))
        if s_pairs:
            ups.append(self.insert(["?x a ?c ."], "VALUES (?p ?c) { %s } ?x ?p ?y ."
                                   % " ".join(s_pairs), "?x a ?c .", "?x ?c"))
        if o_pairs:
            ups.append(self.insert(["?y a ?c ."], "VALUES (?p ?c) { %s } ?x ?p ?y ."
                                   % " ".join(o_pairs), "?y a ?c .", "?y ?c"))
        if type_pairs:
            ups.append(self.insert(["?x a ?d ."], "VALUES (?c ?d) { %s } ?x a ?c ."
                                   % " ".join(type_pairs), "?x a ?d ."))
        return [Rule(u, None, None) for u in ups]

    def join_rules(self) -> tuple[list[Rule], bool]:
        """The multi-premise rules; also says whether the equality rules are needed."""
        sc, t, k = self.schema, self.terms, self.consequences
        ups: list[Rule] = []
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
            rule(Rule(self.insert(k.cons("?x0", p, last), where, f"?x0 {p} {last} .",
                                  f"?x0 {last}"), set(chain), k.writes(p)))
        # prp-trp
        for p in sc.subjects(TYPE, TRANSITIVE):
            if ok_prop(p):
                rule(Rule(self.insert(k.cons("?x", p, "?z"), f"?x {p}+ ?z .",
                                      f"?x {p} ?z .", "?x ?z"), {p}, k.writes(p)))
        # cls-int1
        for c, head in sc.by_p.get(INTERSECTION, ()):
            classes = sc.items(head)
            if classes:
                where = " ".join(f"?y a {ci} ." for ci in classes)
                rule(Rule(self.insert(k.cons_type("?y", c), where, f"?y a {c} ."),
                          {(TYPE, ci) for ci in classes}, k.writes_type(c)))
        # cls-svf1/2, cls-avf, cls-hv1/2, cls-maxc2, cls-maxqc3/4
        for xx, y in sc.by_p.get(SVF, ()):
            for pp in sc.objects(xx, ON_PROPERTY):
                where = f"?u {pp} ?v ." + ("" if y == THING else f" ?v a {y} .")
                rule(Rule(self.insert(k.cons_type("?u", xx), where, f"?u a {xx} .", "?u"),
                          {pp, (TYPE, y)}, k.writes_type(xx)))
        for xx, y in sc.by_p.get(AVF, ()):
            for pp in sc.objects(xx, ON_PROPERTY):
                rule(Rule(self.insert(k.cons_type("?v", y), f"?u a {xx} . ?u {pp} ?v .",
                                      f"?v a {y} .", "?v"),
                          {pp, (TYPE, xx)}, k.writes_type(y)))
        for xx, y in sc.by_p.get(HAS_VALUE, ()):
            for pp in sc.objects(xx, ON_PROPERTY):
                if ok_prop(pp):
                    rule(Rule(self.insert(k.cons("?u", pp, str(y)), f"?u a {xx} .",
                                          f"?u {pp} {y} ."), {(TYPE, xx)}, k.writes(pp)))
                rule(Rule(self.insert(k.cons_type("?u", xx), f"?u {pp} {y} .",
                                      f"?u a {xx} ."), {pp}, k.writes_type(xx)))
        producers = False
        same = ["?y1 owl:sameAs ?y2 ."]
        guard, distinct, pair = "?y1 owl:sameAs ?y2 .", "FILTER(?y1 != ?y2)", "?y1 ?y2"
        for xx, n in sc.by_p.get(MAX_CARD, ()):
            if t.value(n) == 1:
                for pp in sc.objects(xx, ON_PROPERTY):
                    producers = True
                    rule(Rule(self.insert(
                        same, f"?u a {xx} . ?u {pp} ?y1 . ?u {pp} ?y2 . {distinct}", guard, pair),
                        {pp, (TYPE, xx)}, {SAME_AS}))
        for xx, n in sc.by_p.get(MAX_QCARD, ()):
            if t.value(n) == 1:
                for pp in sc.objects(xx, ON_PROPERTY):
                    for cc in sc.objects(xx, ON_CLASS):
                        producers = True
                        typed = "" if cc == THING else f"?y1 a {cc} . ?y2 a {cc} ."
                        rule(Rule(self.insert(
                            same, f"?u a {xx} . ?u {pp} ?y1 . ?u {pp} ?y2 . {typed} {distinct}",
                            guard, pair), {pp, (TYPE, xx), (TYPE, cc)}, {SAME_AS}))
        # prp-fp, prp-ifp
        for p in sc.subjects(TYPE, FUNCTIONAL):
            producers = True
            rule(Rule(self.insert(same, f"?x {p} ?y1 . ?x {p} ?y2 . {distinct}", guard, pair),
                      {p}, {SAME_AS}))
        for p in sc.subjects(TYPE, INV_FUNCTIONAL):
            producers = True
            rule(Rule(self.insert(same, f"?y1 {p} ?x . ?y2 {p} ?x . {distinct}", guard, pair),
                      {p}, {SAME_AS}))
        # cls-oo
        for c, head in sc.by_p.get(ONE_OF, ()):
            for y in sc.items(head):
                rule(Rule(self.insert(k.cons_type(str(y), c), "", f"{y} a {c} ."),
                          set(), k.writes_type(c)))
        return ups, producers

    def equality_rules(self) -> list[Rule]:
        """eq-sym, eq-trans, eq-rep-s/p/o (owlrl never makes a literal a predicate)."""
        lit = f'FILTER(!STRSTARTS(STR(?o), "{LITERAL_PROXY}"))'
        ups = [
            self.insert(["?y owl:sameAs ?x ."], "?x owl:sameAs ?y .", "?y owl:sameAs ?x ."),
            self.insert(["?x owl:sameAs ?z ."], "?x owl:sameAs ?y . ?y owl:sameAs ?z .",
                        "?x owl:sameAs ?z .", "?x ?z"),
            self.insert(["?o ?p ?v ."], "?s owl:sameAs ?o . ?s ?p ?v .", "?o ?p ?v .",
                        "?o ?p ?v"),
            self.insert(["?x ?o ?v ."], f"?s owl:sameAs ?o . ?x ?s ?v . {lit}", "?x ?o ?v .",
                        "?x ?o ?v"),
            self.insert(["?x ?p ?s ."], "?s owl:sameAs ?o . ?x ?p ?o .", "?x ?p ?s .",
                        "?x ?p ?s"),
        ]
        return [Rule(u, None, None) for u in ups]


def compile_rules(schema: Schema, terms: Terms, form: UpdateForm) -> RuleSet:
    """The rules of the closed ``schema``, each update written by ``form``."""
    return RuleCompiler(Consequences(schema, terms), form).rule_set()
