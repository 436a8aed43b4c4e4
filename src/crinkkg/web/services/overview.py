"""The overview's content, drawn by SPARQL from the store: the network of actors and the
claims between them, the timeline of dated things, and the numbers at a glance.

Nothing here is hard-coded to the current data: a new state, treaty, transfer kind or
dated event in the data shows up after the next build (or update).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from crinkkg.web.context import get_backend, memo
from crinkkg.web.http.urls import base_iri, href
from crinkkg.web.render.diagram import (
    BASE_STYLES,
    DERIVED_STYLES,
    NODE_FILL,
    Dated,
    Edge,
    Node,
    Style,
    place_network,
    transfer_style,
)
from crinkkg.web.services.describe import labels_of, safe_iri
from crinkkg.web.services.support import LinkSupport, SupportFilter, all_links

CRINK_NS = "ontology#"

_ACTORS = """SELECT DISTINCT ?a ?grouping ?member WHERE {
  ?a a crink:Actor .
  BIND(EXISTS { ?a a crink:Grouping } AS ?grouping)
  BIND(EXISTS { ?g crink:hasMember ?a } AS ?member)
}"""

_EDGES = """SELECT DISTINCT ?kind ?a ?b ?via ?cls ?status WHERE {
  { ?via a crink:AllianceTreaty ; crink:firstAlly ?a ; crink:secondAlly ?b .
    BIND("alliance" AS ?kind) }
  UNION { ?via a crink:Alignment ; crink:firstParty ?a ; crink:secondParty ?b .
    FILTER NOT EXISTS { ?via a crink:AllianceTreaty } BIND("partnership" AS ?kind) }
  UNION { ?via a crink:Transfer ; crink:supplier ?a ; crink:recipient ?b ; a ?cls .
    ?cls rdfs:subClassOf crink:Transfer . BIND("transfer" AS ?kind) }
  UNION { ?via a crink:ArmedConflict ; crink:belligerent ?a , ?b .
    FILTER(STR(?a) < STR(?b)) BIND("conflict" AS ?kind) }
  UNION { ?via a crink:Strike ; crink:attacker ?a ; crink:target ?b . BIND("strike" AS ?kind) }
  UNION { ?via a crink:Request ; crink:requester ?a ; crink:requestedFrom ?b .
    OPTIONAL { ?via crink:hasStatus ?status } BIND("request" AS ?kind) }
  UNION { ?a crink:hasMember ?b . BIND(?a AS ?via) BIND("member" AS ?kind) }
}"""

_PROPERTIES = """SELECT ?q ?p ?symmetric WHERE {
  { ?q rdfs:subPropertyOf ?p FILTER(?q != ?p) } UNION { ?q a owl:SymmetricProperty
    BIND(?q AS ?p) BIND(true AS ?symmetric) } }"""

_SUBCLASSES = """SELECT ?c ?sup WHERE { ?c rdfs:subClassOf ?sup .
  ?sup rdfs:subClassOf* crink:Transfer . FILTER(?c != ?sup) }"""


def _dates_query(ids: str) -> str:
    """Dated claims and sources: the start of their time, cut to the precision given."""
    return f"""SELECT ?x ?p ?d ?source WHERE {{
  ?x crink:hasTime ?t .
  FILTER(isIRI(?x) && STRSTARTS(STR(?x), "{ids}"))
  ?t crink:hasPrecision ?p ; crink:earliest ?e .
  FILTER(?p IN (crink:precision-day, crink:precision-month, crink:precision-year))
  BIND(SUBSTR(STR(?e), 1, IF(?p = crink:precision-day, 10,
                             IF(?p = crink:precision-month, 7, 4))) AS ?d)
  BIND(EXISTS {{ ?x a crink:Source }} AS ?source)
}}"""


_COUNTS = """SELECT ?what (COUNT(DISTINCT ?x) AS ?n) WHERE {
  VALUES (?what ?c) { ("states" crink:State) ("groupings" crink:Grouping)
                      ("claims" crink:Situation) ("sources" crink:Source) }
  ?x a ?c } GROUP BY ?what"""


@dataclass
class Overview:
    """Everything the root page shows."""

    nodes: list[Node]
    edges: list[Edge]
    styles: dict[str, Style]
    dated: list[Dated]
    counts: dict[str, int]
    #: the network for the interactive view (:func:`network_data`)
    interactive: dict = field(default_factory=dict)


def _bool(binding: dict | None) -> bool:
    return bool(binding) and binding["value"] in ("true", "1")


def _most_specific(classes: set[str], supers: dict[str, set[str]]) -> str:
    """The class of ``classes`` that no other one of them specialises."""
    for c in sorted(classes):
        if not any(c in supers.get(o, ()) for o in classes if o != c):
            return c
    return sorted(classes)[0]


def _shown_links(links: list[LinkSupport], sub: dict[str, set[str]], symmetric: set[str]
                 ) -> list[LinkSupport]:
    """The derived links worth an edge: one per pair for a symmetric property, and none
    for a link that a more specific one between the same two states restates on the very
    same claims (Iran supplies arms to Russia says all that Iran supplies Russia does)."""
    by_pair: dict[frozenset, list[LinkSupport]] = defaultdict(list)
    for x in links:
        by_pair[frozenset((x.subject, x.object))].append(x)
    out = []
    for x in links:
        if x.property in symmetric and x.subject > x.object and \
                any(y.property == x.property and y.subject == x.object
                    for y in by_pair[frozenset((x.subject, x.object))]):
            continue  # the other direction stands for both
        restated = any(
            y.property in sub.get(x.property, ()) and y.claims == x.claims
            and ((y.subject, y.object) == (x.subject, x.object) or x.property in symmetric)
            for y in by_pair[frozenset((x.subject, x.object))])
        if not restated:
            out.append(x)
    return out


def derived_edges(keys: set[str], shown: SupportFilter) -> tuple[list[Edge], set[str]]:
    """The derived links between actors as edges styled by their support, and the IRIs
    they name (for labels)."""
    sub: dict[str, set[str]] = defaultdict(set)  # property -> its strict sub-properties
    symmetric: set[str] = set()
    for b in get_backend().select_json(_PROPERTIES)["results"]["bindings"]:
        if "symmetric" in b:
            symmetric.add(b["q"]["value"])
        else:
            sub[b["p"]["value"]].add(b["q"]["value"])
    links = [x for x in all_links() if x.subject in keys and x.object in keys
             and shown.passes(x)]
    # the title is the property for now, the label the weakest modality: network() turns
    # them into a sentence once it has every label
    edges = [Edge(x.subject, x.object, "derived-" + x.strength, x.property, href(x.link),
                  label=x.weakest or "", directed=x.property not in symmetric,
                  support=(x.sources, x.fact_sources))
             for x in _shown_links(links, sub, symmetric)]
    return edges, {x.property for x in links} | {x.weakest for x in links if x.weakest}


def network(shown: SupportFilter | None = None) -> tuple[list[Node], list[Edge], dict[str, Style]]:
    """Actors, the claims between them and the derived links with their support, with a
    style per edge kind; ``shown`` leaves out the derived links it does not pass."""
    backend = get_backend()
    actors = backend.select_json(_ACTORS)["results"]["bindings"]
    rows = backend.select_json(_EDGES)["results"]["bindings"]
    supers: dict[str, set[str]] = defaultdict(set)
    for b in backend.select_json(_SUBCLASSES)["results"]["bindings"]:
        supers[b["c"]["value"]].add(b["sup"]["value"])
    keys = {b["a"]["value"] for b in actors}
    mention = set(keys)
    derived, named = derived_edges(keys, shown or SupportFilter())
    mention.update(named)
    transfer_classes: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    plain: list[dict] = []
    for b in rows:
        mention.update(b[v]["value"] for v in ("via", "cls", "status") if v in b)
        if b["kind"]["value"] == "transfer":
            key = (b["a"]["value"], b["b"]["value"], b["via"]["value"])
            transfer_classes[key].add(b["cls"]["value"])
        else:
            plain.append(b)
    labels = labels_of(sorted(mention))

    def label(iri: str) -> str:
        return labels.get(iri) or iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]

    nodes = []
    for b in actors:
        iri = b["a"]["value"]
        kind = "grouping" if _bool(b.get("grouping")) else \
            "member" if _bool(b.get("member")) else "state"
        nodes.append(Node(iri, label(iri), href(iri), kind))
    styles: dict[str, Style] = {}
    edges: list[Edge] = []
    for b in plain:
        kind = b["kind"]["value"]
        a, c, via = b["a"]["value"], b["b"]["value"], b["via"]["value"]
        if a not in keys or c not in keys:
            continue
        styles[kind] = BASE_STYLES[kind]
        if kind == "member":
            title = f"{label(c)} is a member of {label(a)}"
        elif kind == "request":
            status = label(b["status"]["value"]) if "status" in b else "status unknown"
            title = f"{label(via)} ({label(a)} asked {label(c)}; {status})"
        else:
            title = f"{label(via)} ({BASE_STYLES[kind].legend}: {label(a)} \u2013 {label(c)})"
        edges.append(Edge(a, c, kind, title, href(via) if kind != "member" else href(a),
                          via=via if kind != "member" else ""))
    kinds = sorted({_most_specific(cs, supers) for cs in transfer_classes.values()},
                   key=lambda c: label(c).lower())
    for i, cls in enumerate(kinds):
        styles["transfer:" + cls] = transfer_style("transfer:" + cls,
                                                   f"transfer: {label(cls).lower()}", i)
    for (a, c, via), classes in sorted(transfer_classes.items()):
        if a not in keys or c not in keys:
            continue
        cls = _most_specific(classes, supers)
        edges.append(Edge(a, c, "transfer:" + cls,
                          f"{label(via)} ({label(cls).lower()}: {label(a)} \u2192 {label(c)})",
                          href(via), via=via))
    for e in derived:
        sources, facts = e.support or (0, 0)
        weakest = f"; weakest: {label(e.label)}" if e.label else ""
        e.title = (f"{label(e.source)} {label(e.title)} {label(e.target)} (derived by OWL 2 RL): "
                   f"{sources} source{'' if sources == 1 else 's'}, {facts} stating it as fact"
                   f"{weakest}")
        e.label = ""
        styles[e.kind] = DERIVED_STYLES[e.kind]
    edges += derived
    order = list(BASE_STYLES) + ["transfer:" + k for k in kinds] + list(DERIVED_STYLES)
    ordered = {k: styles[k] for k in order if k in styles}
    return nodes, edges, ordered


@dataclass
class Facets:
    """What the interactive network filters a claim by: its sources, how it is stated,
    and when (years, with the precision the source gives; None when undated or only
    relative to an undated source)."""

    sources: list[str]
    modalities: list[str]
    year_from: int | None
    year_to: int | None
    precision: str | None


def facets(claims: list[str]) -> tuple[dict[str, Facets], dict[str, str]]:
    """Facets of the claim nodes ``claims``, and the labels of the values they name."""
    claims = [c for c in claims if safe_iri(c)]
    if not claims:
        return {}, {}
    values = " ".join(f"<{c}>" for c in sorted(set(claims)))
    rows = get_backend().select_json(f"""SELECT ?c ?src ?mod ?prec ?e ?l WHERE {{
  VALUES ?c {{ {values} }}
  {{ ?c prov:wasDerivedFrom ?src }} UNION {{ ?c crink:hasModality ?mod }}
  UNION {{ ?c crink:hasTime ?t . ?t crink:hasPrecision ?prec
           OPTIONAL {{ ?t crink:earliest ?e }} OPTIONAL {{ ?t crink:latest ?l }} }}
}}""")["results"]["bindings"]
    found: dict[str, Facets] = {c: Facets([], [], None, None, None) for c in claims}
    named: set[str] = set()
    for b in rows:
        f = found[b["c"]["value"]]
        if "src" in b:
            f.sources.append(b["src"]["value"])
        if "mod" in b:
            f.modalities.append(b["mod"]["value"])
        if "prec" in b:
            f.precision = b["prec"]["value"]
            if "e" in b and "l" in b:
                f.year_from, f.year_to = int(b["e"]["value"][:4]), int(b["l"]["value"][:4])
        named.update(b[k]["value"] for k in ("src", "mod", "prec") if k in b)
    for f in found.values():
        f.sources.sort()
        f.modalities.sort()
    labels = labels_of(sorted(named))
    return found, labels


def timeline() -> list[Dated]:
    """Every resource of the graph with a date-typed value, at its most precise date."""
    ids = base_iri() + "id/"
    if not safe_iri(ids):
        return []
    rows = get_backend().select_json(_dates_query(ids))["results"]["bindings"]
    best: dict[str, tuple[str, str, bool]] = {}
    for b in rows:
        x, date = b["x"]["value"], b["d"]["value"][:10]
        if x not in best or len(date) > len(best[x][0]):
            best[x] = (date, b["p"]["value"], _bool(b.get("source")))
    labels = labels_of(sorted(set(best) | {v[1] for v in best.values()}))
    out = []
    for x, (date, prop, is_source) in best.items():
        label = labels.get(x) or x.rsplit("/", 1)[-1]
        try:
            out.append(Dated(x, label, href(x), date, "source" if is_source else "event",
                             labels.get(prop, "")))
            _ = out[-1].position
        except (ValueError, IndexError):
            out.pop()
    return sorted(out, key=lambda d: (d.position, d.label))


def counts() -> dict[str, int]:
    """States, groupings, claims, sources, and triples asserted and inferred."""
    backend = get_backend()
    out = {b["what"]["value"]: int(b["n"]["value"])
           for b in backend.select_json(_COUNTS)["results"]["bindings"]}
    triples = backend.triple_counts()  # the same figures as /health and the VoID
    out["asserted triples"] = triples["asserted"]
    out["inferred triples"] = triples["inferred"]
    return out


def overview(shown: SupportFilter | None = None, *, root: str = "") -> Overview:
    """The overview for the support filter ``shown``, for a server mounted at ``root``
    (the links name it): read, laid out and made ready for the interactive view once per
    store version (:mod:`crinkkg.web.versioned`), since none of it depends on anything
    else. What it gives is kept: read it, never change it."""
    shown = shown or SupportFilter()

    def make() -> Overview:
        nodes, edges, styles = network(shown)
        place_network(nodes, edges)  # the interactive view starts from the same places
        dated = timeline()
        return Overview(nodes, edges, styles, dated, counts(),
                        network_data(nodes, edges, styles, dated))

    return memo().get(("overview", shown, root), make,
                      size=lambda o: 4000 * (len(o.nodes) + len(o.edges) + len(o.dated)))


def network_data(nodes: list[Node], edges: list[Edge], styles: dict[str, Style],
                 dated: Sequence[Dated] = ()) -> dict:
    """The network for the interactive view (Cytoscape.js elements, laid out where the
    server-drawn SVG puts them, so both show the same picture) and the values its filters
    offer: relation kinds, sources, modalities, years."""
    found, labels = facets([e.via for e in edges if e.via])
    elements: list[dict] = []
    for n in nodes:
        fill, stroke = NODE_FILL.get(n.kind, NODE_FILL["other"])
        elements.append({"group": "nodes", "data": {
            "id": n.key, "label": n.label, "href": n.href, "kind": n.kind, "fill": fill,
            "stroke": stroke}, "position": {"x": round(n.x, 1), "y": round(n.y, 1)}})
    sources: set[str] = set()
    modalities: set[str] = set()
    years: set[int] = {int(d.date[:4]) for d in dated}  # the timeline's years too
    for i, e in enumerate(edges):
        s = styles.get(e.kind) or Style(e.kind, e.kind, "#444444")
        f = found.get(e.via)
        data = {"id": f"e{i}", "source": e.source, "target": e.target, "kind": e.kind,
                "title": e.title, "href": e.href, "via": e.via, "colour": s.colour,
                "width": s.width, "dashed": bool(s.dash and s.dash != "1 0"),
                "directed": s.directed if e.directed is None else e.directed,
                "faceted": f is not None, "derived": e.support is not None}
        if e.support is not None:
            data.update(sourceCount=e.support[0], factSources=e.support[1])
        if f is not None:
            data.update(sources=f.sources, modalities=f.modalities, yearFrom=f.year_from,
                        yearTo=f.year_to, precision=labels.get(f.precision or "", ""))
            sources.update(f.sources)
            modalities.update(f.modalities)
            if f.year_from is not None and f.year_to is not None:
                years.update(range(f.year_from, f.year_to + 1))
        elements.append({"group": "edges", "data": data})

    def named(iris: set[str]) -> list[dict[str, str]]:
        items = [{"iri": i, "label": labels.get(i) or i.rsplit("/", 1)[-1].rsplit("#", 1)[-1]}
                 for i in iris]  # by name, the same names by IRI (not in a set's order)
        return sorted(items, key=lambda d: (d["label"].lower(), d["iri"]))

    used = {e.kind for e in edges}
    return {"elements": elements, "derived": any(e.support is not None for e in edges),
            "kinds": [{"kind": k, "legend": s.legend, "colour": s.colour}
                      for k, s in styles.items() if k in used],
            "sources": named(sources), "modalities": named(modalities),
            "years": sorted(years)}
