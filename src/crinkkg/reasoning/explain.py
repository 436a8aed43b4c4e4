"""Why does a triple hold? Its source if asserted; the OWL 2 RL rule and premises if inferred.

owlrl keeps no trace of its derivations, so this module re-derives one after the fact: for
an inferred triple it tries the OWL 2 RL rules that could conclude it, looks up their
premises in the built store, and explains each premise in turn, down to asserted facts.
A premise already being explained higher up is not used again, so every derivation printed
is well-founded.

:class:`RuleInstances` enumerates the rule instances that conclude a triple; it is the one
enumeration of the rules after the fact: :class:`Explainer` follows the first instance that
bottoms out, :mod:`crinkkg.reasoning.support` takes the union over all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from crinkkg.errors import CrinkError
from crinkkg.output import short
from crinkkg.vocab import (
    INFERRED_GRAPH,
    NAMESPACE_IRIS,
    OWL_NS,
    PREFIXES,
    RDF_NS,
    RDF_TYPE,
    RDFS_NS,
    RDFS_SUBCLASS_OF,
    SUPPORT_GRAPH_IRI,
)

PROV_DERIVED = ox.NamedNode(NAMESPACE_IRIS["PROV"] + "wasDerivedFrom")


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


TYPE, FIRST, REST, NIL = (_n(RDF_TYPE), _n(RDF_NS + "first"), _n(RDF_NS + "rest"),
                          _n(RDF_NS + "nil"))
SUBCLASS, SUBPROP = _n(RDFS_SUBCLASS_OF), _n(RDFS_NS + "subPropertyOf")
DOMAIN, RANGE = _n(RDFS_NS + "domain"), _n(RDFS_NS + "range")
INVERSE, SYMMETRIC = _n(OWL_NS + "inverseOf"), _n(OWL_NS + "SymmetricProperty")
TRANSITIVE, CHAIN = _n(OWL_NS + "TransitiveProperty"), _n(OWL_NS + "propertyChainAxiom")
EQ_CLASS, EQ_PROP, SAME = (_n(OWL_NS + "equivalentClass"), _n(OWL_NS + "equivalentProperty"),
                           _n(OWL_NS + "sameAs"))
HAS_VALUE, ON_PROPERTY = _n(OWL_NS + "hasValue"), _n(OWL_NS + "onProperty")
SOME_VALUES, INTERSECTION, UNION = (_n(OWL_NS + "someValuesFrom"),
                                    _n(OWL_NS + "intersectionOf"), _n(OWL_NS + "unionOf"))
INFERRED = _n(str(INFERRED_GRAPH))
SUPPORT = _n(SUPPORT_GRAPH_IRI)
OA = PREFIXES["oa"]
STATED_IN = _n(NAMESPACE_IRIS["CRINK"] + "statedIn")
HAS_SOURCE, HAS_SELECTOR = _n(OA + "hasSource"), _n(OA + "hasSelector")
EXACT, START, END = _n(OA + "exact"), _n(OA + "start"), _n(OA + "end")
MAX_DEPTH = 25

Triple = tuple[object, object, object]


@dataclass
class Derivation:
    """One step of an explanation: a triple, how it holds, and the premises beneath it."""

    triple: Triple
    status: str  # "asserted", "inferred" or "unexplained"
    rule: str | None = None
    note: str | None = None
    graphs: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    passages: list[dict] = field(default_factory=list)  # the sentences that state the claim
    premises: list[Derivation] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "triple": [_text(t) for t in self.triple],
            "status": self.status, "rule": self.rule, "note": self.note,
            "graphs": self.graphs, "sources": self.sources, "passages": self.passages,
            "premises": [p.as_dict() for p in self.premises],
        }


def _text(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return term.value
    return str(term)


@dataclass
class _PropertyRules:
    """What the TBox says about one property, for the rules that conclude its triples
    (each entry with its premise axiom and the note that names it)."""

    symmetric: str  # the note, or "" when not symmetric
    inverse: list[tuple]
    sub: list[tuple]
    equivalent: list[tuple]
    transitive: str
    chains: list[tuple]
    has_value: list[tuple]


class RuleInstances:
    """The OWL 2 RL rule instances that conclude a triple, looked up in a built store.

    ``store`` is anything with ``quads(s, p, o, graph)`` (an
    :class:`~crinkkg.store.oxigraph.OxigraphStore`); the support graph
    (:data:`~crinkkg.vocab.SUPPORT_GRAPH_IRI`) is computed from the derivations and is not
    read as a premise. The store must not change while this object is used: lookups are
    remembered (the same few patterns are asked for every triple of one property).
    """

    def __init__(self, store) -> None:
        self.store = store
        self._seen: dict[tuple, tuple] = {}
        has_support = next(iter(store.quads(None, None, None, SUPPORT)), None) is not None
        self._skip = SUPPORT if has_support else None
        self._names: dict[object, str] = {}
        self._lists: dict[tuple, list] = {}
        self._rules: dict[object, _PropertyRules] = {}

    def _s(self, term) -> str:
        """``short(term)``, remembered: the notes name the same few TBox terms again and
        again."""
        found = self._names.get(term)
        if found is None:
            found = self._names[term] = short(term)
        return found

    # -- looking things up -----------------------------------------------------------------

    def quads(self, s, p, o) -> tuple:
        """The quads matching a pattern in the store (outside the skipped graph), remembered."""
        key = (s, p, o)
        found = self._seen.get(key)
        if found is None:
            skip = self._skip
            found = tuple(self.store.quads(s, p, o, None)) if skip is None else \
                tuple(q for q in self.store.quads(s, p, o, None) if q.graph_name != skip)
            self._seen[key] = found
        return found

    def graphs_of(self, s, p, o) -> list[ox.NamedNode | ox.DefaultGraph]:
        return [q.graph_name for q in self.quads(s, p, o)]

    def holds(self, s, p, o) -> bool:
        return bool(self.quads(s, p, o))

    def objects(self, s, p) -> list:
        """The distinct objects of ``s p ?o`` (a list the caller must not change)."""
        key = (s, p, 1)
        found = self._lists.get(key)
        if found is None:
            found = self._lists[key] = list(dict.fromkeys(q.object
                                                          for q in self.quads(s, p, None)))
        return found

    def subjects(self, p, o) -> list:
        """The distinct subjects of ``?s p o`` (a list the caller must not change)."""
        key = (p, o, 0)
        found = self._lists.get(key)
        if found is None:
            found = self._lists[key] = list(dict.fromkeys(q.subject
                                                          for q in self.quads(None, p, o)))
        return found

    def pairs(self, p) -> Iterator[tuple[object, object]]:
        seen = set()
        for q in self.quads(None, p, None):
            if (q.subject, q.object) not in seen:
                seen.add((q.subject, q.object))
                yield q.subject, q.object

    def rdf_list(self, head) -> list:
        items, node = [], head
        while node != NIL and len(items) < 100:
            first = self.objects(node, FIRST)
            rest = self.objects(node, REST)
            if not first or not rest:
                break
            items.append(first[0])
            node = rest[0]
        return items

    def sources(self, subject) -> list[str]:
        return [_text(o) for o in self.objects(subject, PROV_DERIVED)]

    def passages(self, subject) -> list[dict]:
        """The passages of stored source texts that state the claim ``subject``."""
        found = []
        for passage in self.objects(subject, STATED_IN):
            entry: dict = {"source": next((_text(s) for s in self.objects(passage, HAS_SOURCE)),
                                          None)}
            for selector in self.objects(passage, HAS_SELECTOR):
                for key, prop in (("exact", EXACT), ("start", START), ("end", END)):
                    for value in self.objects(selector, prop):
                        entry[key] = int(value.value) if key != "exact" else value.value
            found.append(entry)
        return sorted(found, key=lambda e: (e.get("source") or "", e.get("start", -1)))

    # -- the rules ---------------------------------------------------------------------------

    def candidates(self, s, p, o) -> Iterator[tuple[str, str, list[Triple]]]:
        """Every rule instance whose conclusion is ``(s, p, o)`` and whose premises all hold
        in the store, with its premises (each instance once)."""
        if p == TYPE:
            yield from self._type_candidates(s, o)
        if p == SUBCLASS:
            for mid in self.objects(s, SUBCLASS):
                if mid not in (s, o) and self.holds(mid, SUBCLASS, o):
                    yield "scm-sco", "rdfs:subClassOf is transitive", \
                        [(s, SUBCLASS, mid), (mid, SUBCLASS, o)]
        if p == SUBPROP:
            for mid in self.objects(s, SUBPROP):
                if mid not in (s, o) and self.holds(mid, SUBPROP, o):
                    yield "scm-spo", "rdfs:subPropertyOf is transitive", \
                        [(s, SUBPROP, mid), (mid, SUBPROP, o)]
        if p == SAME and self.holds(o, SAME, s):
            yield "eq-sym", "owl:sameAs is symmetric", [(o, SAME, s)]
        rules = self._property_rules(p)
        if rules.symmetric and self.holds(o, p, s):
            yield "prp-symp", rules.symmetric, [(p, TYPE, SYMMETRIC), (o, p, s)]
        for q, axiom, rule, note in rules.inverse:
            if self.holds(o, q, s):
                yield rule, note, [axiom, (o, q, s)]
        for q, axiom, note in rules.sub:
            if self.holds(s, q, o):
                yield "prp-spo1", note, [axiom, (s, q, o)]
        for q, axiom, note in rules.equivalent:
            if self.holds(s, q, o):
                yield "prp-eqp", note, [axiom, (s, q, o)]
        if rules.transitive:
            for mid in self.objects(s, p):
                if mid not in (s, o) and self.holds(mid, p, o):
                    yield "prp-trp", rules.transitive, \
                        [(p, TYPE, TRANSITIVE), (s, p, mid), (mid, p, o)]
        for steps, note in rules.chains:
            for path in self._paths(s, steps, o):
                yield "prp-spo2", note, path
        for cls, value, note in rules.has_value:
            if value == o and self.holds(s, TYPE, cls):
                yield "cls-hv2", note, [(s, TYPE, cls)]

    def _property_rules(self, p) -> _PropertyRules:
        """What the TBox says about ``p`` that the rules concluding ``? p ?`` read, with
        the notes that name it: the same for every triple of ``p``, so read once."""
        found = self._rules.get(p)
        if found is not None:
            return found
        n = self._s
        inverse = [(q, (p, INVERSE, q), "prp-inv1", f"{n(p)} owl:inverseOf {n(q)}")
                   for q in self.objects(p, INVERSE)]
        inverse += [(q, (q, INVERSE, p), "prp-inv2", f"{n(q)} owl:inverseOf {n(p)}")
                    for q in self.subjects(INVERSE, p)]
        sub = [(q, (q, SUBPROP, p), f"{n(q)} rdfs:subPropertyOf {n(p)}")
               for q in self.subjects(SUBPROP, p) if q != p]
        equivalent = [(q, (p, EQ_PROP, q) if self.holds(p, EQ_PROP, q) else (q, EQ_PROP, p),
                       f"{n(q)} owl:equivalentProperty {n(p)}")
                      for q in self.objects(p, EQ_PROP) + self.subjects(EQ_PROP, p) if q != p]
        chains = []
        for head in self.objects(p, CHAIN):
            steps = [self._step(e) for e in self.rdf_list(head)]
            names = " o ".join(("inverse " if inv else "") + n(q) for q, inv in steps)
            chains.append((steps, f"{n(p)} owl:propertyChainAxiom ( {names} )"))
        has_value = [(cls, value, f"{n(cls)} is the class of things with {n(p)} {n(value)}")
                     for cls in self.subjects(ON_PROPERTY, p)
                     for value in self.objects(cls, HAS_VALUE)]
        found = self._rules[p] = _PropertyRules(
            f"{n(p)} is an owl:SymmetricProperty" if self.holds(p, TYPE, SYMMETRIC) else "",
            inverse, sub, equivalent,
            f"{n(p)} is an owl:TransitiveProperty" if self.holds(p, TYPE, TRANSITIVE) else "",
            chains, has_value)
        return found

    def _type_candidates(self, s, c) -> Iterator[tuple[str, str, list[Triple]]]:
        for d in self.subjects(SUBCLASS, c):
            if d != c and self.holds(s, TYPE, d):
                yield "cax-sco", f"{self._s(d)} rdfs:subClassOf {self._s(c)}", \
                    [(d, SUBCLASS, c), (s, TYPE, d)]
        for d in self.objects(c, EQ_CLASS) + self.subjects(EQ_CLASS, c):
            if d != c and self.holds(s, TYPE, d):
                axiom = (c, EQ_CLASS, d) if self.holds(c, EQ_CLASS, d) else (d, EQ_CLASS, c)
                yield "cax-eqc", f"{self._s(c)} owl:equivalentClass {self._s(d)}", \
                    [axiom, (s, TYPE, d)]
        for q in self.subjects(DOMAIN, c):
            for x in self.objects(s, q):
                yield "prp-dom", f"{self._s(q)} rdfs:domain {self._s(c)}", \
                    [(q, DOMAIN, c), (s, q, x)]
        for q in self.subjects(RANGE, c):
            for x in self.subjects(q, s):
                yield "prp-rng", f"{self._s(q)} rdfs:range {self._s(c)}", \
                    [(q, RANGE, c), (x, q, s)]
        for q in self.objects(c, ON_PROPERTY):
            for value in self.objects(c, HAS_VALUE):
                if self.holds(s, q, value):
                    yield "cls-hv1", f"{self._s(c)}: {self._s(q)} has value {self._s(value)}", \
                        [(s, q, value)]
            for filler in self.objects(c, SOME_VALUES):
                for x in self.objects(s, q):
                    if self.holds(x, TYPE, filler):
                        yield "cls-svf1", \
                            f"{self._s(c)}: some {self._s(q)} is a {self._s(filler)}", \
                            [(s, q, x), (x, TYPE, filler)]
        for head in self.objects(c, INTERSECTION):
            members = self.rdf_list(head)
            if members and all(self.holds(s, TYPE, m) for m in members):
                yield "cls-int1", f"{self._s(c)} is the intersection of its members", \
                    [(s, TYPE, m) for m in members]
        for d in self.subjects(FIRST, c):
            for owner in self._list_owners(d, INTERSECTION):
                if self.holds(s, TYPE, owner):
                    yield "cls-int2", \
                        f"{self._s(owner)} is an intersection including {self._s(c)}", \
                        [(s, TYPE, owner)]
        for owner, members in self._unions_including_class(c):
            for m in members:
                if self.holds(s, TYPE, m):
                    yield "cls-uni", f"{self._s(owner)} is a union including {self._s(m)}", \
                        [(s, TYPE, m)]

    def _unions_including_class(self, c) -> Iterator[tuple[object, list]]:
        for head in self.objects(c, UNION):
            yield c, self.rdf_list(head)

    def _list_owners(self, cell, prop) -> list:
        """The resources whose ``prop`` list contains ``cell``."""
        node, seen = cell, set()
        while node not in seen:
            seen.add(node)
            owners = self.subjects(prop, node)
            if owners:
                return owners
            previous = self.subjects(REST, node)
            if not previous:
                return []
            node = previous[0]
        return []

    def _step(self, element) -> tuple[object, bool]:
        inverse = self.objects(element, INVERSE) if isinstance(element, ox.BlankNode) else []
        return (inverse[0], True) if inverse else (element, False)

    def _paths(self, start, steps, end) -> Iterator[list[Triple]]:
        """Every instantiation of a property chain from ``start`` to ``end``."""
        if len(steps) == 2:  # the usual chain: the middles are the nodes both ends reach
            (p1, inv1), (p2, inv2) = steps
            firsts = self.subjects(p1, start) if inv1 else self.objects(start, p1)
            lasts = set(self.objects(end, p2) if inv2 else self.subjects(p2, end))
            for mid in firsts:
                if mid in lasts:
                    yield [(mid, p1, start) if inv1 else (start, p1, mid),
                           (end, p2, mid) if inv2 else (mid, p2, end)]
            return

        def walk(node, i, acc):
            prop, inverse = steps[i]
            if i == len(steps) - 1:  # the last link: only whether it reaches ``end``
                premise = (end, prop, node) if inverse else (node, prop, end)
                if self.holds(*premise):
                    yield acc + [premise]
                return
            nexts = self.subjects(prop, node) if inverse else self.objects(node, prop)
            for n in nexts:
                premise = (n, prop, node) if inverse else (node, prop, n)
                yield from walk(n, i + 1, acc + [premise])
        if steps:
            yield from walk(start, 0, [])


class Explainer(RuleInstances):
    """Finds well-founded OWL 2 RL derivations over a built store."""

    def __init__(self, store) -> None:
        super().__init__(store)
        self._memo: dict[Triple, Derivation] = {}

    # -- explaining ------------------------------------------------------------------------

    def explain(self, triple: Triple, stack: tuple[Triple, ...] = ()) -> Derivation | None:
        """A derivation of ``triple`` that does not rely on anything in ``stack``."""
        if triple in self._memo:
            return self._memo[triple]
        s, p, o = triple
        graphs = self.graphs_of(s, p, o)
        if not graphs:
            return None
        asserted = [g for g in graphs if g != INFERRED]
        if asserted:
            d = Derivation(triple, "asserted", graphs=[_text(g) for g in asserted],
                           sources=self.sources(s), passages=self.passages(s))
            self._memo[triple] = d
            return d
        if len(stack) >= MAX_DEPTH:
            return None
        for rule, note, premises in self.candidates(s, p, o):
            if any(pr in stack or pr == triple for pr in premises):
                continue
            children = []
            for premise in premises:
                child = self.explain(premise, stack + (triple,))
                if child is None:
                    break
                children.append(child)
            else:
                d = Derivation(triple, "inferred", rule=rule, note=note, premises=children,
                               graphs=[str(INFERRED_GRAPH)])
                self._memo[triple] = d
                return d
        return None


def parse_terms(store, subject: str, predicate: str, obj: str) -> Triple:
    """Read three terms as a user types them (prefixed names, <IRIs>, literals)."""
    text = f"SELECT ?s ?p ?o WHERE {{ VALUES (?s ?p ?o) {{ ({subject} {predicate} {obj}) }} }}"
    try:
        row = next(iter(store.query(text)))
    except SyntaxError as exc:
        raise CrinkError(f"cannot read the triple ({subject} {predicate} {obj}): {exc}",
                         hint="write IRIs as <https://…> or prefixed names (id:iran, "
                              "crink:supplies), literals as \"text\" or \"2024\"^^xsd:gYear") \
            from None
    return row["s"], row["p"], row["o"]


def explain_triple(store, subject: str, predicate: str, obj: str) -> Derivation:
    """The explanation the ``crinkkg explain`` command prints."""
    triple = parse_terms(store, subject, predicate, obj)
    explainer = Explainer(store)
    derivation = explainer.explain(triple)
    if derivation is None:
        if not explainer.holds(*triple) and \
                next(iter(store.quads(*triple, SUPPORT)), None) is not None:
            raise CrinkError(
                f"{' '.join(short(t) for t in triple)} is in the support graph: the build "
                "computes it from the derivations of a derived link, it is neither asserted "
                "nor inferred",
                hint="explain the derived link itself (its crink:linkSubject, "
                     "crink:linkProperty and crink:linkObject); docs/support.md says how the "
                     "support is computed")
        if not explainer.holds(*triple):
            raise CrinkError(
                f"{' '.join(short(t) for t in triple)} is not in the graph, asserted or inferred",
                hint="check the terms with `crinkkg query`; the build may need re-running")
        return Derivation(triple, "unexplained",
                          note="inferred, but no OWL 2 RL rule this command knows derives it")
    return derivation


def format_derivation(d: Derivation, indent: int = 0) -> str:
    pad = "  " * indent
    head = f"{pad}{' '.join(short(t) for t in d.triple)}"
    lines = []
    if d.status == "asserted":
        files = ", ".join(g.removeprefix("https://w3id.org/crinkkg/graph/") for g in d.graphs)
        said = "; source " + ", ".join(short(ox.NamedNode(s)) for s in d.sources) \
            if d.sources else ""
        lines.append(f"{head}   [asserted in {files}{said}]")
        for passage in d.passages:
            where = f" [{passage['start']}:{passage['end']}]" if "start" in passage else ""
            source = short(ox.NamedNode(passage["source"])) if passage.get("source") else "?"
            lines.append(f'{pad}    stated in {source}{where}: "{passage.get("exact", "")}"')
    elif d.status == "inferred":
        lines.append(f"{head}   [inferred by {d.rule}: {d.note}]")
        for p in d.premises:
            lines.append(format_derivation(p, indent + 1))
    else:
        lines.append(f"{head}   [{d.note}]")
    return "\n".join(lines)
