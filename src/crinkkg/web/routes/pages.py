"""HTML pages for people: the overview at ``/``, entity pages, the ontology's
documentation, named graphs, and the query page the endpoint shows to browsers.

Server-rendered with Jinja2 from data read through the engine; light (one small CSS file,
one small script that only adds conveniences: every page works without it), accessible
(semantic HTML, labelled diagrams with textual equivalents) and offline (no CDN).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from crinkkg.examples import examples
from crinkkg.formats import formats_for
from crinkkg.problems import Problem
from crinkkg.sparqltext import Unreadable, tokenize
from crinkkg.views import VIEWS
from crinkkg.vocab import INFERRED_GRAPH_IRI, PREFIXES
from crinkkg.web.backend import get_backend
from crinkkg.web.http.urls import base_iri, href, iri_for, local_path, settings
from crinkkg.web.render.diagram import (
    Neighbour,
    legend_sample,
    neighbourhood_svg,
    network_svg,
    node_sample,
)
from crinkkg.web.render.diagram import timeline_svg as draw_timeline
from crinkkg.web.render.rdfio import RDF_FORMATS, RDF_TYPE, Term, shorten, term
from crinkkg.web.services.describe import (
    PROV_DERIVED,
    RDFS_LABEL,
    Description,
    Statement,
    fetch_labels,
    safe_iri,
)
from crinkkg.web.services.ontology_doc import ontology_doc
from crinkkg.web.services.overview import network_data, overview
from crinkkg.web.services.source_text import (
    TEXT_CONTENT,
    Anchor,
    Paragraph,
    anchors_in,
    render,
    stored_text,
)
from crinkkg.web.services.support import (
    LinkSupport,
    SupportFilter,
    resting_on,
    support_filter,
    supports_of,
)

bp = Blueprint("pages", __name__)

SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
STATED_IN = PREFIXES["crink"] + "statedIn"
OA = "http://www.w3.org/ns/oa#"
#: Shown in the page's header rather than in the table of facts.
HEADER_PROPERTIES = {RDF_TYPE, RDFS_LABEL, SKOS + "altLabel", SKOS + "prefLabel",
                     SKOS + "definition", DCT + "description", PROV_DERIVED}
MAX_NEIGHBOURS = 12
#: how derived-link nodes point at resources: shown as each link's support, not as links
LINK_REFERENCES = {PREFIXES["crink"] + p for p in ("linkSubject", "linkObject", "restsOn")}
MAX_RESULT_ROWS = 2000


# -- template helpers --------------------------------------------------------------------------

@bp.app_template_filter("href")
def _href(iri: str) -> str:
    return href(iri) or ""  # "" (falsy): templates show the IRI as text


@bp.app_template_filter("short")
def _short(iri: str) -> str:
    return shorten(iri)


@bp.app_context_processor
def _globals() -> dict:
    return {"base_iri": base_iri(), "graph_name": graph_name}


def graph_name(iri: str) -> str:
    """A graph IRI as a person reads it: ``data/russia-iran`` or ``inferred``."""
    prefix = base_iri() + "graph/"
    return iri[len(prefix):] if iri.startswith(prefix) else shorten(iri)


def html(body: str, status: int = 200) -> Response:
    return Response(body, status, content_type="text/html; charset=utf-8")


@dataclass
class Value:
    """A term as a page shows it: text, link target, a hint (datatype, language)."""

    text: str
    link: str | None = None
    hint: str = ""
    iri: str | None = None

    @classmethod
    def of(cls, t: Term | dict, labels: dict[str, str]) -> Value:
        if isinstance(t, dict):
            t = term(t)
        if isinstance(t, ox.NamedNode):
            return cls(labels.get(t.value) or shorten(t.value), href(t.value), "", t.value)
        if isinstance(t, ox.BlankNode):
            return cls("(anonymous node)", None, "blank node")
        hint = f"@{t.language}" if t.language else (
            "" if t.datatype.value.endswith("#string") else shorten(t.datatype.value))
        return cls(t.value, None, hint)


@dataclass
class Fact:
    """One row of an entity page: a property, a value, where it comes from."""

    prop: Value
    value: Value
    inferred: bool
    graphs: list[str]
    sources: list[Value] = field(default_factory=list)
    behind: list[Value] = field(default_factory=list)  # claims an inferred link rests on
    support: Support | None = None  # a derived link's support (the support graph)
    computed: bool = False  # a statement of the support graph


@dataclass
class Support:
    """A derived link's support as a page shows it."""

    link: Value
    claims: list[Value]
    sources: int
    fact_sources: int
    weakest: Value | None
    strength: str  # corroborated, fact or weak

    @classmethod
    def of(cls, s: LinkSupport, labels: dict[str, str]) -> Support:
        return cls(Value.of(ox.NamedNode(s.link), labels),
                   sorted((Value.of(ox.NamedNode(c), labels) for c in s.claims),
                          key=lambda v: v.text.lower()),
                   s.sources, s.fact_sources,
                   Value.of(ox.NamedNode(s.weakest), labels) if s.weakest else None, s.strength)


# -- the overview ---------------------------------------------------------------------------------

def overview_page() -> Response:
    """The overview page: the network of states and groupings (with the derived links and
    their support; ``?min-fact-sources=N``, ``?min-sources=N`` keep only the derived links
    whose claims N sources state as fact, or come from N sources), the timeline, examples."""
    shown = support_filter(request.args)
    data = overview(shown)
    legend_edges = [(s, legend_sample(s)) for s in data.styles.values()]
    legend_nodes = [(kind, text, node_sample(kind)) for kind, text in (
        ("member", "state in a grouping"), ("state", "other state"),
        ("grouping", "grouping of states"))
        if any(n.kind == kind for n in data.nodes)]
    svg = network_svg(data.nodes, data.edges, data.styles,
                      title="Network of states and groupings",
                      description=f"{len(data.nodes)} actors and {len(data.edges)} edges "
                                  "between them: alliances, partnerships, transfers by kind, "
                                  "conflicts, strikes, requests and memberships, and the "
                                  "links OWL 2 RL derives from them, drawn by how firmly "
                                  "their claims are stated.")
    # after network_svg: the interactive view starts from the SVG's layout
    interactive = network_data(data.nodes, data.edges, data.styles, data.dated)
    names = {n.key: n.label for n in data.nodes}
    edge_list = defaultdict(list)
    for e in data.edges:
        edge_list[data.styles[e.kind].legend].append(
            (e, names.get(e.source, e.source), names.get(e.target, e.target)))
    response = html(render_template(
        "overview.html", data=data, network=svg, legend_edges=legend_edges,
        legend_nodes=legend_nodes, edge_list=dict(edge_list),
        timeline=draw_timeline(data.dated), examples=examples(), query_url=query_url,
        interactive=interactive, only=shown))
    response.headers.add("Vary", "Accept")
    return response


def query_url(sparql: str, **params: str) -> str:
    """A link that runs ``sparql`` on this server's endpoint."""
    return f"{request.script_root}/sparql?" + urlencode({"query": sparql, **params})


# -- entity pages ---------------------------------------------------------------------

def _facts(desc: Description, statements: list[Statement], *, incoming: bool) -> list[Fact]:
    facts = []
    for st in statements:
        other = st.subject if incoming else st.object
        sources = [Value.of(ox.NamedNode(s), desc.labels)
                   for s in desc.sources_of(st.subject)] if incoming else []
        facts.append(Fact(Value.of(st.predicate, desc.labels), Value.of(other, desc.labels),
                          st.inferred, st.asserted_in, sources, computed=st.computed))
    facts.sort(key=lambda f: (f.inferred, f.prop.text.lower(), f.value.text.lower()))
    return facts


def _neighbours(desc: Description) -> tuple[list[Neighbour], int]:
    """The resources linked to the centre: asserted links first; an inferred link is only
    drawn when no asserted one joins the same two resources."""
    found: dict[str, Neighbour] = {}
    asserted_pairs: set[str] = set()
    for st in sorted(desc.outgoing + desc.incoming, key=lambda s: s.inferred):
        outgoing = st.role == "out"
        other = st.object if outgoing else st.subject
        if not isinstance(other, ox.NamedNode) or other.value == desc.iri:
            continue
        if st.predicate.value == RDF_TYPE:
            continue
        if st.inferred and other.value in asserted_pairs:
            continue
        if not st.inferred:
            asserted_pairs.add(other.value)
        nb = found.get(other.value)
        if nb is None:
            nb = found[other.value] = Neighbour(other.value, desc.label(other.value),
                                                href(other.value), inferred=st.inferred)
        name = desc.label(st.predicate.value)
        (nb.outgoing if outgoing else nb.incoming).append(name)
    ordered = sorted(found.values(), key=lambda n: (n.inferred, n.label.lower()))
    return ordered[:MAX_NEIGHBOURS], len(ordered)


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
        source = next(iter(props.get(OA + "hasSource", [])), None)
        exact, start, end = None, None, None
        for selector in props.get(OA + "hasSelector", []):
            sel = by_subject.get(selector, {})
            exact = exact or next((v.value for v in sel.get(OA + "exact", [])), None)
            start = start if start is not None else next(
                (int(v.value) for v in sel.get(OA + "start", [])), None)
            end = end if end is not None else next((int(v.value) for v in sel.get(OA + "end", [])),
                                                   None)
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
    """The claim's modality and time, read through the engine; None for other resources."""
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
    labels, _ = fetch_labels(iris)
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


def _claims_behind(links: set[tuple[str, str, str]]
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
    values = " ".join(f"(<{a}> <{p}> <{b}>)" for a, p, b in sorted(links)[:400])
    inferred = f"<{INFERRED_GRAPH_IRI}>"
    rows = get_backend().select_json(f"""SELECT DISTINCT ?a ?p ?b ?claim WHERE {{
  VALUES (?a ?p ?b) {{ {values} }}
  {{ GRAPH ?g {{ ?a ?d ?b }} FILTER(?g != {inferred}) ?a crink:statedIn ?x . BIND(?a AS ?claim) }}
  UNION
  {{ GRAPH ?g {{ ?b ?d ?a }} FILTER(?g != {inferred}) ?b crink:statedIn ?x . BIND(?b AS ?claim) }}
  UNION
  {{ ?q rdfs:subPropertyOf* ?p .
     ?q owl:propertyChainAxiom ?chain .
     ?chain rdf:first ?p1 ; rdf:rest/rdf:first ?p2 .
     {{ ?a ?p1 ?claim . ?claim ?p2 ?b }}
     UNION {{ ?p a owl:SymmetricProperty . ?b ?p1 ?claim . ?claim ?p2 ?a }}
     ?claim crink:statedIn ?x }}
}}""")["results"]["bindings"]
    labels, _ = fetch_labels(sorted({b["claim"]["value"] for b in rows}))
    out: dict[tuple[str, str, str], list[Value]] = defaultdict(list)
    for b in rows:
        out[(b["a"]["value"], b["p"]["value"], b["b"]["value"])].append(
            Value.of(ox.NamedNode(b["claim"]["value"]), labels))
    for v in out.values():
        v.sort(key=lambda x: x.text.lower())
    return out


def _with_support(desc: Description, facts: list[Fact], incoming: list[Fact],
                  shown: SupportFilter) -> tuple[list[Fact], list[Fact], int]:
    """The inferred facts with what they rest on: a derived link's support from the support
    graph, another inferred link's claims from :func:`_claims_behind`; the derived links
    the filter ``shown`` leaves out are dropped (their number is returned)."""
    def key(f: Fact, out: bool) -> tuple[str, str, str]:
        return (desc.iri, f.prop.iri or "", f.value.iri or "") if out else \
            (f.value.iri or "", f.prop.iri or "", desc.iri)

    links = {key(f, True) for f in facts if f.inferred and f.value.iri and f.prop.iri} | \
        {key(f, False) for f in incoming if f.inferred and f.value.iri and f.prop.iri}
    supported = supports_of(links)
    behind = _claims_behind(links - set(supported))
    named = sorted({i for s in supported.values() for i in [s.link, *s.claims]
                    + ([s.weakest] if s.weakest else [])})
    labels, _ = fetch_labels(named) if named else ({}, None)
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


def entity_page(desc: Description) -> Response:
    """An entity: name, types, what it says and who says so, what links to it; a claim in
    its source's text with its modality and time; a source's text with its claims; a
    derived link's support (``?min-fact-sources=N``, ``?min-sources=N`` show only the
    derived links whose claims N sources state as fact, or come from N sources)."""
    shown = support_filter(request.args)
    # the derived-link nodes that name this resource are shown as each link's support
    # (and on a claim's page, as the links resting on it), not as incoming links
    desc = Description(desc.iri, [s for s in desc.statements if not (
        s.role == "in" and s.predicate.value in LINK_REFERENCES)], desc.labels, desc.truncated)
    labels = desc.labels
    types = sorted(((Value.of(s.object, labels), s.inferred and not s.computed)
                    for s in desc.types()),
                   key=lambda t: (t[1], t[0].text.lower()))
    out = [s for s in desc.outgoing if s.predicate.value not in HEADER_PROPERTIES
           and s.predicate.value not in (STATED_IN, TEXT_CONTENT)]
    neighbours, total = _neighbours(desc)
    found = passages(desc)
    in_text = claims_in_context(desc, found) if found else []
    text = stored_text(desc.iri) if desc.values(TEXT_CONTENT) else None
    anchors = anchors_in(desc.iri, text) if text else []
    facts = _facts(desc, out, incoming=False)
    incoming = _facts(desc, desc.incoming, incoming=True)
    facts, incoming, filtered_out = _with_support(desc, facts, incoming, shown)
    resting = resting_on(desc.iri) if desc.values(PROV_DERIVED) else []
    page = render_template(
        "entity.html", desc=desc, label=desc.label(), types=types,
        alt_labels=[v.value for v in desc.values(SKOS + "altLabel")],
        descriptions=[v.value for p in (DCT + "description", SKOS + "definition")
                      for v in desc.values(p)],
        passages=found, in_text=in_text,
        quoted_only=[p for p in found if not any(p in t.passages for t in in_text)],
        claim=claim_facts(desc.iri) if found else None,
        text=render(text, anchors) if text else None, anchors=anchors,
        sources=[Value.of(v, labels) for v in desc.values(PROV_DERIVED)],
        facts=[f for f in facts if not f.inferred or f.computed],
        inferred_facts=[f for f in facts if f.inferred and not f.computed],
        incoming=[f for f in incoming if not f.inferred or f.computed],
        inferred_incoming=[f for f in incoming if f.inferred and not f.computed],
        diagram=neighbourhood_svg(desc.label(), neighbours), shown=len(neighbours),
        total_neighbours=total, formats=RDF_FORMATS, path=local_path(desc.iri) or "",
        inferred_count=sum(1 for s in desc.outgoing + desc.incoming
                           if s.inferred and not s.computed
                           and s.predicate.value not in HEADER_PROPERTIES),
        only=shown, filtered_out=filtered_out, resting=_resting(resting))
    return html(page)


def _resting(found: list[LinkSupport]) -> list[tuple[Value, Value, Value, Support]]:
    """The derived links a claim supports, as rows: subject, property, object, support."""
    if not found:
        return []
    named = sorted({i for s in found for i in (s.subject, s.property, s.object, s.link,
                                                *s.claims, *([s.weakest] if s.weakest else []))})
    labels, _ = fetch_labels(named)
    return [(Value.of(ox.NamedNode(s.subject), labels), Value.of(ox.NamedNode(s.property), labels),
             Value.of(ox.NamedNode(s.object), labels), Support.of(s, labels)) for s in found]


def not_found_page(iri: str, message: str, suggestions: list[tuple[str, str]]) -> Response:
    """A 404 that helps: what was asked, similar resources, where to go next."""
    page = render_template("not_found.html", iri=iri, message=message,
                           suggestions=[(href(i), label) for i, label in suggestions])
    response = html(page, 404)
    response.headers.add("Vary", "Accept")
    return response


# -- the ontology ----------------------------------------------------------------------------------

def ontology_page() -> Response:
    """The ontology's documentation, generated from the ontology and its use in the data."""
    doc = ontology_doc(settings(), iri_for("ontology"))
    if doc is None:
        raise Problem(404, "not-found", "the ontology is not in this store")
    sections = [("classes", "Classes", doc.of_kind("class", local=True)),
                ("object-properties", "Object properties",
                 doc.of_kind("object property", local=True)),
                ("datatype-properties", "Datatype properties",
                 doc.of_kind("datatype property", local=True)),
                ("individuals", "Named individuals (controlled vocabularies)",
                 doc.of_kind("individual", local=True)),
                ("reused", "Reused terms, declared locally",
                 [t for t in doc.terms.values() if not t.local])]
    return html(render_template("ontology.html", doc=doc, sections=sections,
                                formats=RDF_FORMATS, path=local_path(doc.iri) or "/ontology"))


# -- named graphs ----------------------------------------------------------------------------------

def graph_page(iri: str) -> Response:
    """A named graph: what it is, how big, which resources it talks about."""
    rows = get_backend().select_json(
        f"SELECT ?s (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} FILTER(isIRI(?s)) }}"
        " GROUP BY ?s ORDER BY ?s LIMIT 5000")["results"]["bindings"]
    subjects = [(b["s"]["value"], int(b["n"]["value"])) for b in rows]
    labels, _ = fetch_labels([s for s, _ in subjects])
    total = get_backend().select_json(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
    count = int(total["results"]["bindings"][0]["n"]["value"])
    items = [(Value.of(ox.NamedNode(s), labels), n) for s, n in subjects]
    return html(render_template("graph.html", iri=iri, name=graph_name(iri), count=count,
                                items=items, inferred=iri == INFERRED_GRAPH_IRI,
                                formats=RDF_FORMATS, path=local_path(iri) or ""))


# -- the query page --------------------------------------------------------------------------------

RESULT_DOWNLOADS = tuple((f.name, f.label) for f in formats_for("results"))
GRAPH_DOWNLOADS = tuple((f.name, f.label) for f in formats_for("graph"))


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword outside the prologue."""

    try:
        for token in tokenize(sparql):
            if token.is_word("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
                return token.value.upper()
    except Unreadable:
        pass
    return "SELECT"


@dataclass
class Outcome:
    """What running the page's query gave: a table, a boolean, or a problem."""

    form: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[Value | None]] = field(default_factory=list)
    total: int = 0
    boolean: bool | None = None
    problem: Problem | None = None
    seconds: float = 0.0


def run(sparql: str, view: str) -> Outcome:
    """Evaluate the page's query through the engine; errors become part of the outcome."""
    form = query_form(sparql)
    outcome = Outcome(form)
    engine = get_backend()
    started = time.perf_counter()
    try:
        if form in ("CONSTRUCT", "DESCRIBE"):
            data = engine.construct(sparql, ox.RdfFormat.N_TRIPLES, view=view)  # type: ignore[arg-type]
            triples = list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
            outcome.columns = ["subject", "predicate", "object"]
            outcome.total = len(triples)
            bindings = [dict(zip(outcome.columns, (t.subject, t.predicate, t.object),
                                 strict=True)) for t in triples[:MAX_RESULT_ROWS]]
        else:
            result = engine.select_json(sparql, view=view)  # type: ignore[arg-type]
            if "boolean" in result:
                outcome.boolean = bool(result["boolean"])
                outcome.seconds = time.perf_counter() - started
                return outcome
            outcome.columns = list(result["head"].get("vars", []))
            raw = result["results"]["bindings"]
            outcome.total = len(raw)
            bindings = [{k: term(v) for k, v in b.items() if v.get("type") != "triple"}
                        for b in raw[:MAX_RESULT_ROWS]]
    except Problem as problem:
        outcome.problem = problem
        outcome.seconds = time.perf_counter() - started
        return outcome
    outcome.seconds = time.perf_counter() - started
    iris = {t.value for b in bindings for t in b.values() if isinstance(t, ox.NamedNode)}
    labels, _ = fetch_labels(sorted(iris)) if len(iris) <= 2000 else ({}, [])
    outcome.rows = [[Value.of(b[c], labels) if c in b else None for c in outcome.columns]
                    for b in bindings]
    return outcome


_TERMS = """SELECT DISTINCT ?t ?kind WHERE {
  VALUES (?c ?kind) { (owl:Class "class") (rdfs:Class "class") (owl:ObjectProperty "property")
    (owl:DatatypeProperty "property") (owl:AnnotationProperty "property")
    (rdf:Property "property") }
  ?t a ?c FILTER(isIRI(?t))
} ORDER BY ?t"""


def ontology_terms() -> dict[str, list[str]]:
    """The classes and properties the store declares (ours and the reused ones), as
    prefixed names where a predeclared prefix fits: the query editor's autocompletion,
    served with the page rather than fetched from an online service."""
    out: dict[str, set[str]] = {"class": set(), "property": set()}
    for b in get_backend().select_json(_TERMS)["results"]["bindings"]:
        iri = b["t"]["value"]
        name = shorten(iri, PREFIXES)
        out[b["kind"]["value"]].add(name if name != iri else f"<{iri}>")
    return {k: sorted(v) for k, v in out.items()}


def editor_config(query: str | None, view: str) -> dict:
    """What the YASGUI editor needs, embedded in the page as JSON (no inline script):
    endpoint, prefixes, our terms, the examples, the query to start with."""
    return {"endpoint": request.script_root + "/sparql", "view": view,
            "base": base_iri(), "root": request.script_root,
            "query": query, "prefixes": PREFIXES, "terms": ontology_terms(),
            "examples": {e.name: e.sparql for e in examples()},
            "downloads": {"results": [list(d) for d in RESULT_DOWNLOADS],
                          "graph": [list(d) for d in GRAPH_DOWNLOADS]}}


def render_query_page(query: str | None = None) -> Response:
    """The query page: editor, one-click examples, the results of ``query`` (if given) as a
    table with links, downloads in every format, errors next to the query."""
    view = request.args.get("view", "all")
    if view not in VIEWS:
        view = "all"
    default = examples()[0].sparql if examples() else "SELECT * WHERE { ?s ?p ?o } LIMIT 20"
    outcome = run(query, view) if query and query.strip() else None
    downloads = []
    if outcome is not None and outcome.problem is None:
        kinds = GRAPH_DOWNLOADS if outcome.form in ("CONSTRUCT", "DESCRIBE") \
            else RESULT_DOWNLOADS[:2] if outcome.boolean is not None else RESULT_DOWNLOADS
        extra = {"view": view} if view != "all" else {}
        downloads = [(label, query_url(query or "", format=name, **extra))
                     for name, label in kinds]
    error_line = None
    if outcome is not None and outcome.problem is not None:
        error_line = outcome.problem.extra.get("line")
    lines = (query or "").split("\n")
    status = 200
    if outcome is not None and outcome.problem is not None:
        status = outcome.problem.status
    page = render_template(
        "query.html", query=query if query is not None else default, ran=query is not None,
        outcome=outcome, downloads=downloads, examples=examples(), view=view,
        query_url=query_url, error_line=error_line, lines=lines,
        prefixes=sorted(PREFIXES.items()),
        editor=editor_config(query if query is not None else default, view),
        max_rows=MAX_RESULT_ROWS)
    return html(page, status)


__all__ = ["bp", "entity_page", "graph_page", "not_found_page", "ontology_page",
           "render_query_page", "safe_iri"]
