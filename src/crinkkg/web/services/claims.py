"""A claim's evidence as pages show it: its passages in their sources' text, its modality
and time, and what inferred links rest on (read through the backend)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from crinkkg.vocab import INFERRED_GRAPH_IRI, OA_NS, PREFIXES
from crinkkg.web.context import get_backend, memo
from crinkkg.web.render.rdfio import Term, shorten
from crinkkg.web.render.values import Fact, Support, Value
from crinkkg.web.services.describe import Description, labels_of, safe_iri
from crinkkg.web.services.source_text import Anchor, Paragraph, render, stored_text
from crinkkg.web.services.support import LinkSupport, SupportFilter, supports_of

STATED_IN = PREFIXES["crink"] + "statedIn"


@dataclass
class Passage:
    """A passage of a source's stored text that states the claim a page shows."""

    exact: str
    source: Value | None
    start: int | None
    end: int | None
    source_iri: str | None = None


def passages(desc: Description) -> list[Passage]:
    """The claim's ``crink:statedIn`` passages, in text order, from its description."""
    by_subject: dict[Term, dict[str, list[Term]]] = {}
    for s in desc.statements:
        by_subject.setdefault(s.subject, {}).setdefault(s.predicate.value, []).append(s.object)
    found = []
    for anchor in desc.values(STATED_IN):
        props = by_subject.get(anchor, {})
        source = next(iter(props.get(OA_NS + "hasSource", [])), None)
        exact, start, end = None, None, None
        for selector in props.get(OA_NS + "hasSelector", []):
            sel = by_subject.get(selector, {})
            exact = exact or next((v.value for v in sel.get(OA_NS + "exact", [])), None)
            start = start if start is not None else next(
                (int(v.value) for v in sel.get(OA_NS + "start", [])), None)
            end = end if end is not None else next(
                (int(v.value) for v in sel.get(OA_NS + "end", [])), None)
        if exact is not None:
            found.append(Passage(exact, Value.of(source, desc.labels) if source else None,
                                 start, end, getattr(source, "value", None)))
    return sorted(found, key=lambda p: (p.start is None, p.start or 0))


@dataclass
class InText:
    """A claim's passages shown in the paragraphs of its source that hold them."""

    source: Value | None
    paragraphs: list[Paragraph]
    passages: list[Passage]


def claims_in_context(desc: Description, found: list[Passage]) -> list[InText]:
    """For each source of the claim's passages: the paragraphs that hold them, read from
    the source's stored text in the store, the passages highlighted. A passage whose
    selector does not match the stored text is left to the quote list."""
    out = []
    by_source: dict[str, list[Passage]] = defaultdict(list)
    for p in found:
        if p.source_iri and p.start is not None and p.end is not None:
            by_source[p.source_iri].append(p)
    for source, ps in by_source.items():
        text = stored_text(source)
        if text is None:
            continue
        good = [p for p in ps if text[p.start:p.end] == p.exact]  # type: ignore[misc]
        if not good:
            continue
        anchors = [Anchor(desc.iri, desc.label(), None, p.start, p.end, p.exact, i)  # type: ignore[arg-type]
                   for i, p in enumerate(good, 1)]
        out.append(InText(good[0].source, render(text, anchors, focus=[
            (a.start, a.end) for a in anchors]), good))
    return out


@dataclass
class ClaimFacts:
    """How a source states a claim and when: modality (and who says so), time."""

    modality: list[Value] = field(default_factory=list)
    according_to: list[Value] = field(default_factory=list)
    time: list[tuple[Value, str]] = field(default_factory=list)  # (time spec, its precision)
    bounds: list[tuple[str, str]] = field(default_factory=list)  # (earliest, latest)


def claim_facts(iri: str) -> ClaimFacts | None:
    """The claim's modality and time, read through the backend; None for other resources."""
    if not safe_iri(iri):
        return None
    rows = get_backend().select_json(f"""SELECT ?m ?w ?t ?p ?e ?l WHERE {{
  {{ <{iri}> crink:hasModality ?m }} UNION {{ <{iri}> crink:accordingTo ?w }}
  UNION {{ <{iri}> crink:hasTime ?t OPTIONAL {{ ?t crink:hasPrecision ?p }}
           OPTIONAL {{ ?t crink:earliest ?e }} OPTIONAL {{ ?t crink:latest ?l }} }}
}}""")["results"]["bindings"]
    if not rows:
        return None
    iris = sorted({b[k]["value"] for b in rows for k in ("m", "w", "t", "p") if k in b})
    labels = labels_of(iris)
    facts = ClaimFacts()
    seen: set[str] = set()
    for b in rows:
        for key, target in (("m", facts.modality), ("w", facts.according_to)):
            if key in b and b[key]["value"] not in seen:
                seen.add(b[key]["value"])
                target.append(Value.of(ox.NamedNode(b[key]["value"]), labels))
        if "t" in b and b["t"]["value"] not in seen:
            seen.add(b["t"]["value"])
            precision = labels.get(b["p"]["value"], shorten(b["p"]["value"])) if "p" in b else ""
            facts.time.append((Value.of(ox.NamedNode(b["t"]["value"]), labels), precision))
            if "e" in b and "l" in b:
                facts.bounds.append((b["e"]["value"], b["l"]["value"]))
    return facts


def claims_behind(links: set[tuple[str, str, str]]
                   ) -> dict[tuple[str, str, str], list[Value]]:
    """For inferred links ``(a, p, b)`` that are not derived shortcuts (those have their
    support): the claims, stated in a source, the link rests on.

    Either an end itself, when it states a link between the two directly (the shortcut
    restates it through a sub-property or an inverse), or the claim nodes through which a
    property chain of ``p`` (or of a sub-property of it) links ``a`` to ``b`` (either way
    round for a symmetric ``p``). Nothing else is offered: ``crinkkg explain`` gives the
    whole derivation.
    """
    links = {(a, p, b) for a, p, b in links if safe_iri(a) and safe_iri(p) and safe_iri(b)}
    if not links:
        return {}
    ordered = sorted(links)[:400]
    values = " ".join(f"(<{a}> <{p}> <{b}>)" for a, p, b in ordered)
    inferred = f"<{INFERRED_GRAPH_IRI}>"
    # the chains first, then each link joined with its own chains only: one query joining
    # both lets the engine scan every chain step before it knows the link's ends
    chains, symmetric = _chains({p for _, p, _ in ordered})
    ends = [f"(<{a}> <{p}> <{b}> <{s}> <{p1}> <{p2}> <{o}>)"
            for a, p, b in ordered for p1, p2 in chains.get(p, ())
            for s, o in ((a, b), (b, a))[:2 if p in symmetric else 1]]
    through = f"""
  UNION
  {{ VALUES (?a ?p ?b ?s ?p1 ?p2 ?o) {{ {" ".join(ends)} }}
     ?s ?p1 ?claim . ?claim ?p2 ?o . ?claim crink:statedIn ?x }}""" if ends else ""
    rows = get_backend().select_json(f"""SELECT DISTINCT ?a ?p ?b ?claim WHERE {{
  {{ VALUES (?a ?p ?b) {{ {values} }}
     GRAPH ?g {{ ?a ?d ?b }} FILTER(?g != {inferred}) ?a crink:statedIn ?x . BIND(?a AS ?claim) }}
  UNION
  {{ VALUES (?a ?p ?b) {{ {values} }}
     GRAPH ?g {{ ?b ?d ?a }} FILTER(?g != {inferred}) ?b crink:statedIn ?x .
     BIND(?b AS ?claim) }}{through}
}}""")["results"]["bindings"]
    labels = labels_of(sorted({b["claim"]["value"] for b in rows}))
    out: dict[tuple[str, str, str], list[Value]] = defaultdict(list)
    for b in rows:
        out[(b["a"]["value"], b["p"]["value"], b["b"]["value"])].append(
            Value.of(ox.NamedNode(b["claim"]["value"]), labels))
    for v in out.values():  # by name, and claims of the same name by IRI
        v.sort(key=lambda x: (x.text.lower(), x.iri or ""))
    return out


def _chains(properties: set[str]) -> tuple[dict[str, list[tuple[str, str]]], set[str]]:
    """The two-step property chains of each property (or of a sub-property of it), and
    which of the properties are symmetric: the ontology's, so read once per store version
    for each property (:mod:`crinkkg.web.versioned`)."""
    found = memo().many([("chains", p) for p in sorted(properties)], _read_chains, None)
    chains: dict[str, list[tuple[str, str]]] = {}
    symmetric = set()
    for (_, p), (steps, is_symmetric) in found.items():  # type: ignore[misc]
        if steps:
            chains[p] = steps
        if is_symmetric:
            symmetric.add(p)
    return chains, symmetric


def _read_chains(keys: list[tuple[str, str]]
                 ) -> dict[tuple[str, str], tuple[list[tuple[str, str]], bool]]:
    """For each ("chains", property): its chains in order, and whether it is symmetric."""
    values = " ".join(f"<{p}>" for _, p in keys)
    rows = get_backend().select_json(f"""SELECT DISTINCT ?p ?p1 ?p2 ?symmetric WHERE {{
  VALUES ?p {{ {values} }}
  ?q rdfs:subPropertyOf* ?p .
  ?q owl:propertyChainAxiom ?chain .
  ?chain rdf:first ?p1 ; rdf:rest/rdf:first ?p2 .
  OPTIONAL {{ ?p a owl:SymmetricProperty . BIND(true AS ?symmetric) }}
}}""")["results"]["bindings"]
    chains: dict[str, set[tuple[str, str]]] = defaultdict(set)
    symmetric = set()
    for b in rows:
        if b["p1"]["type"] != "uri" or b["p2"]["type"] != "uri":
            continue  # a step such as [ owl:inverseOf p ] links nothing as a predicate
        chains[b["p"]["value"]].add((b["p1"]["value"], b["p2"]["value"]))
        if "symmetric" in b:
            symmetric.add(b["p"]["value"])
    # in a fixed order, whatever order the store gave the rows in
    return {key: (sorted(chains.get(key[1], ())), key[1] in symmetric) for key in keys}


def with_support(desc: Description, facts: list[Fact], incoming: list[Fact],
                  shown: SupportFilter) -> tuple[list[Fact], list[Fact], int]:
    """The inferred facts with what they rest on: a derived link's support from the support
    graph, another inferred link's claims from :func:`claims_behind`; the derived links
    the filter ``shown`` leaves out are dropped (their number is returned)."""
    def key(f: Fact, out: bool) -> tuple[str, str, str]:
        return (desc.iri, f.prop.iri or "", f.value.iri or "") if out else \
            (f.value.iri or "", f.prop.iri or "", desc.iri)

    links = {key(f, True) for f in facts if f.inferred and f.value.iri and f.prop.iri} | \
        {key(f, False) for f in incoming if f.inferred and f.value.iri and f.prop.iri}
    supported = supports_of(links)
    behind = claims_behind(links - set(supported))
    named = sorted({i for s in supported.values() for i in [s.link, *s.claims]
                    + ([s.weakest] if s.weakest else [])})
    labels = labels_of(named)
    hidden = 0
    kept: list[list[Fact]] = [[], []]
    for out, group in ((True, facts), (False, incoming)):
        for f in group:
            found = supported.get(key(f, out)) if f.inferred else None
            if not shown.passes(found):
                hidden += 1
                continue
            if found is not None:
                f.support = Support.of(found, labels)
                f.behind = f.support.claims
            elif f.inferred:
                f.behind = behind.get(key(f, out), [])
            kept[0 if out else 1].append(f)
    return kept[0], kept[1], hidden


def resting_rows(found: list[LinkSupport]) -> list[tuple[Value, Value, Value, Support]]:
    """The derived links a claim supports, as rows: subject, property, object, support."""
    if not found:
        return []
    named = sorted({i for s in found for i in (s.subject, s.property, s.object, s.link,
                                                *s.claims, *([s.weakest] if s.weakest else []))})
    labels = labels_of(named)
    return [(Value.of(ox.NamedNode(s.subject), labels), Value.of(ox.NamedNode(s.property), labels),
             Value.of(ox.NamedNode(s.object), labels), Support.of(s, labels)) for s in found]
