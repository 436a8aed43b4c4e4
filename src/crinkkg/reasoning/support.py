"""What each derived shortcut rests on: the claims of every derivation, their sources, and
the weakest way any of them is stated.

A *shortcut* is a triple of the inferred graph whose predicate is a shortcut property and
whose subject and object are IRIs. The shortcut properties are read from the TBox in the
store: every property with an ``owl:propertyChainAxiom`` (crink:supplies, crink:alliedWith,
...) and every super-property of one (``rdfs:subPropertyOf``, transitively: crink:supplies
is one of crink:suppliesArmsTo's). A *claim* is a node with ``prov:wasDerivedFrom`` (a
crink:Situation with its source); an asserted triple brings the claims among its subject
and object.

A shortcut *rests on* the claims of every derivation, not only the first that ``crinkkg
explain`` prints: the rule instances are those of
:meth:`crinkkg.reasoning.explain.RuleInstances.candidates` (one enumeration for both), and
the union over all of them is a least fixpoint, since symmetric properties and
sub-properties make cycles (alliedWith both ways; suppliesArmsTo -> supplies). Every
instance's premises hold in the closure and so have well-founded derivations of their own:
the fixpoint is exactly the union of the claims at the leaves of every well-founded
derivation.

The result goes into a graph of its own (:data:`~crinkkg.vocab.SUPPORT_GRAPH_IRI`), one
``crink:DerivedLink`` node per shortcut, in plain triples any SPARQL 1.1 store answers. It is
never reasoned over: the inferred graph stays exactly the OWL 2 RL closure.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from crinkkg.reasoning.explain import (
    CHAIN,
    INFERRED,
    PROV_DERIVED,
    SUBPROP,
    RuleInstances,
    Triple,
)
from crinkkg.vocab import (
    LINK_BASE,
    NAMESPACE_IRIS,
    RDF_TYPE,
    RDFS_LABEL,
    SUPPORT_GRAPH_IRI,
    XSD_NS,
)

CRINK = NAMESPACE_IRIS["CRINK"]
ID = NAMESPACE_IRIS["ID"]
SUPPORT = ox.NamedNode(SUPPORT_GRAPH_IRI)
HAS_MODALITY = ox.NamedNode(CRINK + "hasModality")
STRENGTH = ox.NamedNode(CRINK + "modalityStrength")
FACT = CRINK + "modality-asserted"
TYPE = ox.NamedNode(RDF_TYPE)
LABEL = ox.NamedNode(RDFS_LABEL)
XSD_INTEGER = ox.NamedNode(XSD_NS + "integer")
_READABLE = re.compile(r"[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*")


def _c(name: str) -> ox.NamedNode:
    return ox.NamedNode(CRINK + name)


DERIVED_LINK, LINK_SUBJECT, LINK_PROPERTY, LINK_OBJECT = (
    _c("DerivedLink"), _c("linkSubject"), _c("linkProperty"), _c("linkObject"))
RESTS_ON, CLAIM_COUNT, SOURCE_COUNT, FACT_SOURCE_COUNT, WEAKEST = (
    _c("restsOn"), _c("claimCount"), _c("sourceCount"), _c("factSourceCount"),
    _c("weakestModality"))


@dataclass(frozen=True)
class Claim:
    """A claim a shortcut rests on: its node, its sources and its modality (or modalities,
    should a write give it several)."""

    iri: str
    sources: tuple[str, ...]
    modalities: tuple[str, ...]

    @property
    def as_fact(self) -> bool:
        return FACT in self.modalities


@dataclass(frozen=True)
class LinkSupport:
    """The support of one shortcut ``subject property object``."""

    subject: str
    property: str
    object: str
    claims: tuple[Claim, ...]
    weakest_modality: str | None

    @property
    def iri(self) -> str:
        return link_iri(self.subject, self.property, self.object)

    @property
    def sources(self) -> tuple[str, ...]:
        """Distinct sources of the claims."""
        return tuple(sorted({s for c in self.claims for s in c.sources}))

    @property
    def fact_sources(self) -> tuple[str, ...]:
        """Distinct sources that state at least one of the claims as fact."""
        return tuple(sorted({s for c in self.claims if c.as_fact for s in c.sources}))


def _local(iri: str, namespace: str) -> str | None:
    rest = iri[len(namespace):] if iri.startswith(namespace) else ""
    return rest if _READABLE.fullmatch(rest) else None


def link_iri(subject: str, prop: str, obj: str) -> str:
    """The IRI of the derived-link node of one shortcut: readable when its three terms are
    (``id:`` entities, a ``crink:`` property), a hash of them otherwise; the same for the
    same triple in every build.

    >>> link_iri(ID + "iran", CRINK + "supplies", ID + "russia")
    'https://w3id.org/crinkkg/id/link/iran--supplies--russia'
    >>> link_iri("http://ex/a", CRINK + "supplies", ID + "russia")[len(LINK_BASE):]
    'h-0c66cdedab97b9dbee'
    """
    parts = [_local(subject, ID), _local(prop, CRINK), _local(obj, ID)]
    if all(parts):
        return LINK_BASE + "--".join(parts)  # type: ignore[arg-type]
    digest = hashlib.sha256(f"{subject}\n{prop}\n{obj}".encode()).hexdigest()[:18]
    return LINK_BASE + "h-" + digest


def shortcut_properties(rules: RuleInstances) -> list[ox.NamedNode]:
    """The properties with a property chain and their super-properties, from the TBox."""
    found = {q.subject for q in rules.quads(None, CHAIN, None)
             if isinstance(q.subject, ox.NamedNode)}
    frontier = list(found)
    while frontier:
        for parent in rules.objects(frontier.pop(), SUBPROP):
            if isinstance(parent, ox.NamedNode) and parent not in found:
                found.add(parent)
                frontier.append(parent)
    return sorted(found, key=lambda p: p.value)


def shortcuts(rules: RuleInstances) -> list[Triple]:
    """Every shortcut triple of the inferred graph, in a fixed order."""
    found: set[Triple] = set()
    for prop in shortcut_properties(rules):
        for q in rules.store.quads(None, prop, None, INFERRED):
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode):
                found.add((q.subject, q.predicate, q.object))
    return sorted(found, key=lambda t: (t[0].value, t[1].value, t[2].value))


class _Supports:
    """The fixpoint over the rule instances beneath a set of shortcuts."""

    def __init__(self, rules: RuleInstances) -> None:
        self.rules = rules
        self.leaves: dict[Triple, frozenset[object]] = {}  # asserted: the claims it brings
        self.instances: dict[Triple, list[list[Triple]]] = {}  # inferred: its rule instances
        self._is_claim: dict[object, bool] = {}

    def is_claim(self, node: object) -> bool:
        known = self._is_claim.get(node)
        if known is None:
            known = isinstance(node, (ox.NamedNode, ox.BlankNode)) \
                and self.rules.holds(node, PROV_DERIVED, None)
            self._is_claim[node] = known
        return known

    def explore(self, roots: Iterable[Triple]) -> None:
        stack = list(roots)
        while stack:
            t = stack.pop()
            if t in self.leaves or t in self.instances:
                continue
            graphs = self.rules.graphs_of(*t)
            if any(g != INFERRED for g in graphs) or not graphs:
                self.leaves[t] = frozenset(x for x in (t[0], t[2]) if self.is_claim(x))
                continue
            found = [premises for _rule, _note, premises in self.rules.candidates(*t)
                     if t not in premises]
            self.instances[t] = found
            stack.extend(x for premises in found for x in premises
                         if x not in self.leaves and x not in self.instances)

    def solve(self) -> dict[Triple, set[object]]:
        """The least fixpoint: each inferred triple's claims, the union over its instances."""
        claims: dict[Triple, set[object]] = {}
        inner: dict[Triple, list[Triple]] = {}  # the inferred premises each one reads
        leaves, instances = self.leaves, self.instances
        for t, found in instances.items():
            mine: set[object] = set()
            reads: dict[Triple, None] = {}
            for premises in found:
                for x in premises:
                    leaf = leaves.get(x)
                    if leaf is not None:
                        mine |= leaf
                    elif x in instances:
                        reads[x] = None
            claims[t], inner[t] = mine, list(reads)
        changed = True
        while changed:
            changed = False
            for t, reads in inner.items():
                mine = claims[t]
                before = len(mine)
                for x in reads:
                    mine |= claims[x]
                if len(mine) != before:
                    changed = True
        return claims


def compute_support(store) -> list[LinkSupport]:
    """The support of every shortcut of ``store`` (an
    :class:`~crinkkg.store.oxigraph.OxigraphStore` holding the asserted graphs and the
    inferred graph; a support graph already there is ignored), in a fixed order."""
    rules = RuleInstances(store)
    roots = shortcuts(rules)
    fix = _Supports(rules)
    fix.explore(roots)
    solved = fix.solve()
    claims_memo: dict[object, Claim] = {}
    strengths: dict[str, int] = {}

    def claim(node) -> Claim:
        found = claims_memo.get(node)
        if found is None:
            found = Claim(_text(node),
                          tuple(sorted(_text(s) for s in rules.objects(node, PROV_DERIVED))),
                          tuple(sorted(m.value for m in rules.objects(node, HAS_MODALITY)
                                       if isinstance(m, ox.NamedNode))))
            claims_memo[node] = found
        return found

    def strength(modality: str) -> int:
        if modality not in strengths:
            values = [int(v.value) for v in rules.objects(ox.NamedNode(modality), STRENGTH)
                      if isinstance(v, ox.Literal) and _is_int(v.value)]
            strengths[modality] = min(values) if values else 0  # unknown: the weakest
        return strengths[modality]

    out = []
    for t in roots:
        nodes = solved.get(t, set())
        claims = tuple(sorted((claim(n) for n in nodes), key=lambda c: c.iri))
        modalities = {m for c in claims for m in c.modalities}
        weakest = min(modalities, key=lambda m: (strength(m), m)) if modalities else None
        out.append(LinkSupport(t[0].value, t[1].value, t[2].value, claims, weakest))
    return out


def _text(term: object) -> str:
    return term.value if isinstance(term, ox.NamedNode) else str(term)


def _is_int(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def _node(text: str) -> ox.NamedNode | ox.BlankNode:
    return ox.BlankNode(text[2:]) if text.startswith("_:") else ox.NamedNode(text)


def support_triples(links: Iterable[LinkSupport], labels: dict[str, str] | None = None,
                    graph: ox.NamedNode | None = None) -> list:
    """The support graph's triples: one crink:DerivedLink node per shortcut (quads in
    ``graph`` when it is given). ``labels`` (IRI -> English label) names a node "Iran
    supplies Russia" where the terms have them."""
    labels = labels or {}
    nodes: dict[str, ox.NamedNode | ox.BlankNode] = {}
    numbers: dict[int, ox.Literal] = {}

    def node(text: str) -> ox.NamedNode | ox.BlankNode:
        found = nodes.get(text)
        if found is None:
            found = nodes[text] = _node(text)
        return found

    def number(n: int) -> ox.Literal:
        found = numbers.get(n)
        if found is None:
            found = numbers[n] = ox.Literal(str(n), datatype=XSD_INTEGER)
        return found

    out: list = []
    put = out.append

    def add(s: ox.NamedNode, p: ox.NamedNode, o: object) -> None:
        put(ox.Triple(s, p, o) if graph is None else ox.Quad(s, p, o, graph))
    for link in links:
        s = ox.NamedNode(link.iri)
        add(s, TYPE, DERIVED_LINK)
        add(s, LINK_SUBJECT, node(link.subject))
        add(s, LINK_PROPERTY, node(link.property))
        add(s, LINK_OBJECT, node(link.object))
        add(s, CLAIM_COUNT, number(len(link.claims)))
        add(s, SOURCE_COUNT, number(len(link.sources)))
        add(s, FACT_SOURCE_COUNT, number(len(link.fact_sources)))
        for c in link.claims:
            add(s, RESTS_ON, node(c.iri))
        if link.weakest_modality:
            add(s, WEAKEST, node(link.weakest_modality))
        names = [labels.get(x) for x in (link.subject, link.property, link.object)]
        if all(names):
            add(s, LABEL, ox.Literal(" ".join(names),  # type: ignore[arg-type]
                                          language="en"))
    return out


def labels_for(store, links: Iterable[LinkSupport]) -> dict[str, str]:
    """The English (or untagged) rdfs:label of the terms of ``links``, one each."""
    out: dict[str, str] = {}
    for link in links:
        for iri in (link.subject, link.property, link.object):
            if iri in out:
                continue
            found = sorted(q.object.value for q in store.quads(ox.NamedNode(iri), LABEL,
                                                               None, None)
                           if isinstance(q.object, ox.Literal)
                           and q.object.language in (None, "en") and q.graph_name != SUPPORT)
            if found:
                out[iri] = found[0]
    return out


def support_graph(store, graph: ox.NamedNode | None = None) -> list:
    """The support graph of ``store``'s current state, ready to write: triples, or quads
    in ``graph``."""
    links = compute_support(store)
    return support_triples(links, labels_for(store, links), graph)


def replace_support(database: ox.Store, triples: Iterable[ox.Triple]) -> None:
    """Replace the support graph of an Oxigraph database by ``triples``."""
    if database.contains_named_graph(SUPPORT):
        database.remove_graph(SUPPORT)
    database.extend(ox.Quad(t.subject, t.predicate, t.object, SUPPORT) for t in triples)


def read_support(store, subject: object, prop: object, obj: object) -> dict | None:
    """The support graph's description of the shortcut ``subject prop obj`` with, for each
    claim, its sources and modality as the store holds them; None when the triple is not a
    derived shortcut (or the store was built before there was a support graph)."""
    if not all(isinstance(t, ox.NamedNode) for t in (subject, prop, obj)):
        return None
    node = ox.NamedNode(link_iri(subject.value, prop.value, obj.value))  # type: ignore
    if next(iter(store.quads(node, LINK_SUBJECT, subject, SUPPORT)), None) is None:
        return None

    def values(s, p, graph=SUPPORT) -> list:
        return sorted({q.object for q in store.quads(s, p, None, graph)
                       if q.graph_name != SUPPORT or graph is SUPPORT}, key=str)

    def count(p) -> int:
        found = values(node, p)
        return int(found[0].value) if found else 0

    claims = []
    for claim in values(node, RESTS_ON):
        claims.append({"claim": _text(claim),
                       "sources": [_text(s) for s in values(claim, PROV_DERIVED, None)],
                       "modality": [_text(m) for m in values(claim, HAS_MODALITY, None)]})
    weakest = values(node, WEAKEST)
    return {"link": node.value, "claims": claims, "claim_count": count(CLAIM_COUNT),
            "source_count": count(SOURCE_COUNT), "fact_source_count": count(FACT_SOURCE_COUNT),
            "weakest_modality": _text(weakest[0]) if weakest else None}


def format_support(support: dict, short=str) -> str:
    """The support of a derived link for a person (``crinkkg explain``)."""
    n, s, f = support["claim_count"], support["source_count"], support["fact_source_count"]
    weakest = short(ox.NamedNode(support["weakest_modality"])) \
        if support["weakest_modality"] else "none recorded"
    lines = [f"Support: {n} claim{'s' if n != 1 else ''} from {s} source{'s' if s != 1 else ''}"
             f" ({f} stating {'it' if n == 1 else 'at least one'} as fact); weakest modality "
             f"{weakest}   [<{support['link']}> in the support graph]"]
    for c in support["claims"]:
        sources = ", ".join(short(ox.NamedNode(x)) for x in c["sources"]) or "no source"
        modality = ", ".join(short(ox.NamedNode(m)) for m in c["modality"]) or "no modality"
        lines.append(f"  {short(ox.NamedNode(c['claim']))}   source {sources}; {modality}")
    return "\n".join(lines)
