"""The ontology, read from the store, as a model for its HTML documentation and as RDF.

Everything on the documentation page comes from the ontology's own statements (labels,
``skos:definition``, domains, ranges, characteristics, chains, disjointness) and from the
data (which individuals use each term), so the page follows the ontology when it changes.
Built once per store version: an update or a rebuild gives a new model.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from crinkkg.settings import Settings
from crinkkg.vocab import DCT_NS, OWL_NS, RDF_NS, RDFS_NS, SKOS_NS, VANN_NS
from crinkkg.web.context import get_backend
from crinkkg.web.render.rdfio import LD_PREFIXES, shorten, term
from crinkkg.web.services.describe import labels_of, safe_iri

CHARACTERISTICS = {
    OWL_NS + "SymmetricProperty": "symmetric", OWL_NS + "TransitiveProperty": "transitive",
    OWL_NS + "FunctionalProperty": "functional",
    OWL_NS + "InverseFunctionalProperty": "inverse functional",
    OWL_NS + "AsymmetricProperty": "asymmetric", OWL_NS + "ReflexiveProperty": "reflexive",
    OWL_NS + "IrreflexiveProperty": "irreflexive",
}
KINDS = (("class", OWL_NS + "Class"), ("object property", OWL_NS + "ObjectProperty"),
         ("datatype property", OWL_NS + "DatatypeProperty"),
         ("annotation property", OWL_NS + "AnnotationProperty"))
METADATA = (DCT_NS + "title", DCT_NS + "description", OWL_NS + "versionInfo", OWL_NS + "versionIRI",
            DCT_NS + "creator", DCT_NS + "license", DCT_NS + "created", DCT_NS + "modified",
            DCT_NS + "source", VANN_NS + "preferredNamespacePrefix",
            VANN_NS + "preferredNamespaceUri", RDFS_NS + "comment", RDFS_NS + "seeAlso",
            OWL_NS + "imports", OWL_NS + "priorVersion")
USAGE_SHOWN = 12


@dataclass
class TermDoc:
    """One documented term: what it is, what it means, how it relates, who uses it."""

    iri: str
    anchor: str
    kind: str
    label: str
    definitions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    supers: list[str] = field(default_factory=list)
    subs: list[str] = field(default_factory=list)
    domain: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)
    characteristics: list[str] = field(default_factory=list)
    inverse: list[str] = field(default_factory=list)
    chains: list[list[str]] = field(default_factory=list)
    disjoint: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    schemes: list[str] = field(default_factory=list)
    broader: list[str] = field(default_factory=list)
    used_by: list[str] = field(default_factory=list)
    used_count: int = 0

    @property
    def local(self) -> bool:
        """Minted by this ontology (a hash IRI under the ontology IRI)."""
        return "#" in self.iri and self.anchor == self.iri.rsplit("#", 1)[1]


@dataclass
class OntologyDoc:
    """The whole documentation model: metadata, terms by kind, and a label lookup."""

    iri: str
    graph: str
    version_iri: str | None
    metadata: list[tuple[str, list[ox.NamedNode | ox.Literal | ox.BlankNode]]]
    terms: dict[str, TermDoc]
    labels: dict[str, str]
    triples: int

    def of_kind(self, kind: str, *, local: bool | None = None) -> list[TermDoc]:
        found = [t for t in self.terms.values() if t.kind == kind
                 and (local is None or t.local == local)]
        return sorted(found, key=lambda t: t.label.lower())

    def roots(self) -> list[TermDoc]:
        """Local classes with no local superclass: the tops of the hierarchy tree."""
        classes = {t.iri for t in self.of_kind("class")}
        return [t for t in self.of_kind("class", local=True)
                if not any(s in classes and self.terms[s].local for s in t.supers)]

    def label(self, iri: str) -> str:
        return self.labels.get(iri) or shorten(iri)

    def children(self, t: TermDoc) -> list[TermDoc]:
        """The documented direct subclasses (or sub-properties) of ``t``, by label."""
        return sorted((self.terms[s] for s in t.subs if s in self.terms),
                      key=lambda c: c.label.lower())

    def anchor(self, iri: str) -> str | None:
        t = self.terms.get(iri)
        return t.anchor if t else None

    @property
    def title(self) -> str:
        for key, values in self.metadata:
            if key == DCT_NS + "title" and values:
                return values[0].value
        return self.label(self.iri)


def find_ontology_graph(ontology_iri: str) -> str | None:
    """The named graph that declares ``ontology_iri`` an ``owl:Ontology``."""
    if not safe_iri(ontology_iri):
        return None
    r = get_backend().select_json(
        f"SELECT ?g WHERE {{ GRAPH ?g {{ <{ontology_iri}> a owl:Ontology }} }} LIMIT 1")
    rows = r["results"]["bindings"]
    return rows[0]["g"]["value"] if rows else None


def version_iri_of(ontology_iri: str) -> str | None:
    r = get_backend().select_json(
        f"SELECT ?v WHERE {{ <{ontology_iri}> owl:versionIRI ?v }} LIMIT 1")
    rows = r["results"]["bindings"]
    return rows[0]["v"]["value"] if rows else None


def _anchor(iri: str, ns: str) -> str:
    if iri.startswith(ns):
        return iri[len(ns):]
    short = shorten(iri)
    return short.replace(":", "-") if short != iri else "term-" + str(abs(hash(iri)))


def _list(index: dict, node: object) -> list[str]:
    """The IRIs of an RDF list starting at ``node``."""
    out: list[str] = []
    seen = set()
    while node is not None and node not in seen and str(node) != f"<{RDF_NS}nil>":
        seen.add(node)
        props = index.get(node, {})
        first = props.get(RDF_NS + "first", [])
        if first and isinstance(first[0], ox.NamedNode):
            out.append(first[0].value)
        rest = props.get(RDF_NS + "rest", [])
        node = rest[0] if rest else None
    return out


def build(settings: Settings, ontology_iri: str) -> OntologyDoc | None:
    """Read the ontology and its usage through the backend; ``None`` when not in the store."""
    graph = find_ontology_graph(ontology_iri)
    if graph is None:
        return None
    backend = get_backend()
    rows = backend.select_json(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    index: dict[object, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    count = 0
    for b in rows["results"]["bindings"]:
        s, o = term(b["s"]), term(b["o"])
        index[s][b["p"]["value"]].append(o)
        count += 1
    ns = ontology_iri + "#"

    def iris(subject: object, prop: str) -> list[str]:
        return [o.value for o in index.get(subject, {}).get(prop, [])
                if isinstance(o, ox.NamedNode)]

    def texts(subject: object, prop: str) -> list[str]:
        values = [o for o in index.get(subject, {}).get(prop, []) if isinstance(o, ox.Literal)]
        english = [v.value for v in values if v.language in (None, "en")]
        return english or [v.value for v in values]

    terms: dict[str, TermDoc] = {}
    for subject, props in index.items():
        if not isinstance(subject, ox.NamedNode) or subject.value == ontology_iri:
            continue
        types = [o.value for o in props.get(RDF_NS + "type", []) if isinstance(o, ox.NamedNode)]
        kind = next((k for k, t in KINDS if t in types), None)
        if kind is None and (OWL_NS + "NamedIndividual" in types or
                             (types and subject.value.startswith(ns))):
            kind = "individual"
        if kind is None:
            continue
        iri = subject.value
        labels = texts(subject, RDFS_NS + "label") or texts(subject, SKOS_NS + "prefLabel")
        doc = TermDoc(iri=iri, anchor=_anchor(iri, ns), kind=kind,
                      label=labels[0] if labels else shorten(iri))
        doc.definitions = texts(subject, SKOS_NS + "definition") or \
            texts(subject, DCT_NS + "description")
        doc.notes = texts(subject, SKOS_NS + "scopeNote") + texts(subject, RDFS_NS + "comment") + \
            texts(subject, SKOS_NS + "example")
        doc.supers = iris(subject, RDFS_NS + "subClassOf") + \
            iris(subject, RDFS_NS + "subPropertyOf")
        doc.domain = iris(subject, RDFS_NS + "domain")
        doc.range = iris(subject, RDFS_NS + "range")
        doc.characteristics = sorted(CHARACTERISTICS[t] for t in types if t in CHARACTERISTICS)
        doc.inverse = iris(subject, OWL_NS + "inverseOf")
        doc.chains = [_list(index, n) for n in props.get(OWL_NS + "propertyChainAxiom", [])]
        doc.disjoint = iris(subject, OWL_NS + "disjointWith")
        doc.types = [t for t in types if t != OWL_NS + "NamedIndividual"]
        doc.schemes = iris(subject, SKOS_NS + "inScheme") + iris(subject, SKOS_NS + "topConceptOf")
        doc.broader = iris(subject, SKOS_NS + "broader")
        terms[iri] = doc
    # inverse links: subclasses, inverse-of declared on one side, disjointness groups
    for doc in terms.values():
        for sup in doc.supers:
            if sup in terms and doc.iri not in terms[sup].subs:
                terms[sup].subs.append(doc.iri)
        for inv in doc.inverse:
            if inv in terms and doc.iri not in terms[inv].inverse:
                terms[inv].inverse.append(doc.iri)
        for other in doc.disjoint:
            if other in terms and doc.iri not in terms[other].disjoint:
                terms[other].disjoint.append(doc.iri)
    for props in index.values():
        if ox.NamedNode(OWL_NS + "AllDisjointClasses") in props.get(RDF_NS + "type", []):
            for node in props.get(OWL_NS + "members", []):
                members = _list(index, node)
                for m in members:
                    if m in terms:
                        terms[m].disjoint += [x for x in members
                                              if x != m and x not in terms[m].disjoint]
    _usage(settings, ns, terms)
    metadata = []
    ontology = ox.NamedNode(ontology_iri)
    for prop in METADATA:
        values = index.get(ontology, {}).get(prop, [])
        if values:
            metadata.append((prop, values))
    mentioned = set(terms)
    for t in terms.values():
        mentioned.update(t.supers + t.domain + t.range + t.types + t.schemes + t.used_by)
    labels = labels_of(sorted(mentioned | {p for p, _ in metadata}))
    labels.update({t.iri: t.label for t in terms.values()})
    version = next((v[0].value for p, v in metadata if p == OWL_NS + "versionIRI"), None)
    return OntologyDoc(ontology_iri, graph, version, metadata, terms, labels, count)


def _usage(settings: Settings, ns: str, terms: dict[str, TermDoc]) -> None:
    """Which individuals of the data use each term: instances of a class, subjects of a
    property, resources that point at a concept (asserted or inferred)."""
    ids = settings.base_iri + "id/"
    if not safe_iri(ids) or not safe_iri(ns):
        return
    query = f"""SELECT ?t ?x WHERE {{
      {{ ?x a ?t }} UNION {{ ?x ?t ?o }} UNION {{ ?x ?p ?t FILTER(?p != rdf:type) }}
      FILTER(isIRI(?x) && STRSTARTS(STR(?x), "{ids}"))
      FILTER(STRSTARTS(STR(?t), "{ns}") || STRSTARTS(STR(?t), "{LD_PREFIXES['prov']}")
             || STRSTARTS(STR(?t), "{LD_PREFIXES['skos']}")
             || STRSTARTS(STR(?t), "{LD_PREFIXES['dcterms']}"))
    }}"""
    users: dict[str, set[str]] = defaultdict(set)
    for b in get_backend().select_json(query)["results"]["bindings"]:
        users[b["t"]["value"]].add(b["x"]["value"])
    for iri, doc in terms.items():
        found = sorted(users.get(iri, ()))
        doc.used_count = len(found)
        doc.used_by = found[:USAGE_SHOWN]


_cache: dict[tuple[str, str], OntologyDoc | None] = {}
_lock = threading.Lock()


def ontology_doc(settings: Settings, ontology_iri: str) -> OntologyDoc | None:
    """The model for the current store version (built on first use, then reused)."""
    backend = get_backend()
    key = (str(getattr(backend, "version", lambda: "")()), ontology_iri)
    with _lock:
        if key in _cache:
            return _cache[key]
    doc = build(settings, ontology_iri)
    with _lock:
        if len(_cache) > 8:
            _cache.clear()
        _cache[key] = doc
    return doc
