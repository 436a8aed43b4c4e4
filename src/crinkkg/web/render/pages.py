"""HTML pages for people: the overview at ``/``, entity pages, the ontology's
documentation, named graphs, and the query page the endpoint shows to browsers.

Server-rendered with Jinja2 from what :mod:`crinkkg.web.services` reads through the
backend; light (one small CSS file, one small script that only adds conveniences: every
page works without it), accessible (semantic HTML, labelled diagrams with textual
equivalents) and offline (no CDN). The routes that serve them are in
:mod:`crinkkg.web.routes`.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Response, render_template, request

from crinkkg.examples import examples
from crinkkg.formats import formats_for
from crinkkg.problems import Problem, without_paths
from crinkkg.views import VIEWS
from crinkkg.vocab import DCT_NS, INFERRED_GRAPH_IRI, PREFIXES, RDF_TYPE, SKOS_NS
from crinkkg.web.context import context, settings
from crinkkg.web.http.urls import base_iri, href, iri_for, local_path
from crinkkg.web.render.diagram import (
    Neighbour,
    legend_sample,
    neighbourhood_svg,
    network_svg,
    node_sample,
)
from crinkkg.web.render.diagram import timeline_svg as draw_timeline
from crinkkg.web.render.rdfio import RDF_FORMATS, shorten
from crinkkg.web.render.values import Fact, Value
from crinkkg.web.services.claims import (
    STATED_IN,
    claim_facts,
    claims_in_context,
    passages,
    resting_rows,
    with_support,
)
from crinkkg.web.services.compare import Comparison, states_compared_with
from crinkkg.web.services.describe import (
    PROV_DERIVED,
    RDFS_LABEL,
    Description,
    Statement,
    labels_of,
)
from crinkkg.web.services.editor import MAX_RESULT_ROWS, ontology_terms, run
from crinkkg.web.services.graphs import graph_contents
from crinkkg.web.services.ontology_doc import ontology_doc
from crinkkg.web.services.overview import overview
from crinkkg.web.services.source_text import TEXT_CONTENT, anchors_in, render, stored_text
from crinkkg.web.services.support import resting_on, support_filter

#: Shown in the page's header rather than in the table of facts.
HEADER_PROPERTIES = {RDF_TYPE, RDFS_LABEL, SKOS_NS + "altLabel", SKOS_NS + "prefLabel",
                     SKOS_NS + "definition", DCT_NS + "description", PROV_DERIVED}
MAX_NEIGHBOURS = 12
#: how derived-link nodes point at resources: shown as each link's support, not as links
LINK_REFERENCES = {PREFIXES["crink"] + p for p in ("linkSubject", "linkObject", "restsOn")}
RESULT_DOWNLOADS = tuple((f.name, f.label) for f in formats_for("results"))
GRAPH_DOWNLOADS = tuple((f.name, f.label) for f in formats_for("graph"))


# -- template helpers --------------------------------------------------------------------------


def href_filter(iri: str) -> str:
    """The ``href`` template filter: where a link to ``iri`` goes; "" (falsy) for no link,
    and templates show the IRI as text."""
    return href(iri) or ""


def template_globals() -> dict:
    """What every page's template may use (a context processor): with the last build's
    error, if it failed (every page says that the store is an earlier build's)."""
    status = context().build_status
    error = status.error()
    if error:
        settings = context().settings
        roots = [Path(p).absolute() for p in (settings.data_dir, settings.ontology_dir,
                                               settings.store)]
        error = without_paths(error, roots)
    return {"base_iri": base_iri(), "graph_name": graph_name, "build_error": error,
            "watching": status.watching}


def graph_name(iri: str) -> str:
    """A graph IRI as a person reads it: ``data/russia-iran`` or ``inferred``."""
    prefix = base_iri() + "graph/"
    return iri[len(prefix):] if iri.startswith(prefix) else shorten(iri)


def html(body: str, status: int = 200) -> Response:
    return Response(body, status, content_type="text/html; charset=utf-8")


# -- the overview ---------------------------------------------------------------------------------


def overview_page() -> Response:
    """The overview page: the network of states and groupings (with the derived links and
    their support; ``?min-fact-sources=N``, ``?min-sources=N`` keep only the derived links
    whose claims N sources state as fact, or come from N sources), the timeline, examples."""
    shown = support_filter(request.args)
    data = overview(shown, root=request.script_root)
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
    interactive = data.interactive  # laid out as the SVG, by overview()
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
    facts, incoming, filtered_out = with_support(desc, facts, incoming, shown)
    resting = resting_on(desc.iri) if desc.values(PROV_DERIVED) else []
    path = local_path(desc.iri) or ""
    claim_at = request.script_root + "/id/"
    kinds = {s.object.value for s in desc.types() if isinstance(s.object, ox.NamedNode)}
    name = path[len(claim_at):] if path.startswith(claim_at) else None
    compare_with = [(v, f"{request.script_root}/compare/{name}/{v.iri.rsplit('/', 1)[-1]}")
                    for v in states_compared_with(desc.iri)] \
        if name and PREFIXES["crink"] + "State" in kinds else []
    compare_accounts = f"{request.script_root}/compare/{name}" \
        if name and PREFIXES["crink"] + "Matter" in kinds else None
    cite = "/np/" + path[len(claim_at):] if found and path.startswith(claim_at) else None
    page = render_template(
        "entity.html", desc=desc, label=desc.label(), types=types,
        alt_labels=[v.value for v in desc.values(SKOS_NS + "altLabel")],
        descriptions=[v.value for p in (DCT_NS + "description", SKOS_NS + "definition")
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
        total_neighbours=total, formats=RDF_FORMATS, path=path,
        cite=request.script_root + cite if cite else None,
        compare_with=compare_with, compare_accounts=compare_accounts,
        inferred_count=sum(1 for s in desc.outgoing + desc.incoming
                           if s.inferred and not s.computed
                           and s.predicate.value not in HEADER_PROPERTIES),
        only=shown, filtered_out=filtered_out, resting=resting_rows(resting))
    return html(page)


def compare_page(comparison: Comparison, pair: bool) -> Response:
    """Sources side by side: a pair's claims, or a matter's accounts (services/compare)."""
    subjects = comparison.subjects
    title = (f"What the sources say of {subjects[0].text} and {subjects[1].text}" if pair
             else f"What the sources say: {subjects[0].text}")
    page = render_template("compare.html", c=comparison, pair=pair, title=title,
                           links=resting_rows(comparison.links))
    return html(page)


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
    subjects, count = graph_contents(iri)
    labels = labels_of([s for s, _ in subjects])
    items = [(Value.of(ox.NamedNode(s), labels), n) for s, n in subjects]
    return html(render_template("graph.html", iri=iri, name=graph_name(iri), count=count,
                                items=items, inferred=iri == INFERRED_GRAPH_IRI,
                                formats=RDF_FORMATS, path=local_path(iri) or ""))


# -- the query page --------------------------------------------------------------------------------


def editor_config(query: str | None, view: str, default: str) -> dict:
    """What the YASGUI editor needs, embedded in the page as JSON (no inline script):
    endpoint, prefixes, our terms, the examples, the query the address gives (opened in a
    tab of its own, beside the tabs the browser kept) and the one a new tab starts with."""
    return {"endpoint": request.script_root + "/sparql", "view": view,
            "complete": request.script_root + "/sparql/complete",
            "base": base_iri(), "root": request.script_root,
            "query": query, "defaultQuery": default, "prefixes": PREFIXES,
            "terms": ontology_terms(),
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
        editor=editor_config(query, view, default),
        max_rows=MAX_RESULT_ROWS)
    return html(page, status)
