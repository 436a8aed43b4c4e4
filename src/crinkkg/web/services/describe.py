"""What the server says about one resource: its description, read through the backend.

The description of ``<x>`` is its concise bounded description (every statement with ``x``
as subject, and those of the blank nodes it points to, two levels deep: a claim's
text passage and its selectors), its incoming links from named
resources, the sources (``prov:wasDerivedFrom``) of the claims that link to it, and the
labels of every resource it links to, so that a client can show names without asking
again. Each statement keeps the graphs it sits in: a statement only in the inferred graph
is inferred; any other graph is the input file that asserts it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cached_property

import pyoxigraph as ox

from crinkkg.vocab import (
    DCT_NS,
    INFERRED_GRAPH_IRI,
    PROV_NS,
    RDF_TYPE,
    RDFS_LABEL,
    SKOS_NS,
    SUPPORT_GRAPH_IRI,
    is_derived_graph,
)
from crinkkg.web.context import get_backend, memo
from crinkkg.web.render.rdfio import Term, shorten, term

PROV_DERIVED = PROV_NS + "wasDerivedFrom"
LABEL_PROPERTIES = (RDFS_LABEL, SKOS_NS + "prefLabel", DCT_NS + "title")
MAX_ROWS = 5000
_UNSAFE = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def safe_iri(iri: str) -> bool:
    """True when ``iri`` can be written between ``<`` and ``>`` in a query as it is (no
    injection through a crafted path): an absolute IRI (Oxigraph's parser agrees) without
    control or line-separator characters (U+0085 ends a line for some parsers)."""
    if not iri or _UNSAFE.search(iri):
        return False
    if iri.isascii():  # the common case: of ASCII, only DEL is in the categories below
        if "\x7f" in iri:
            return False
    elif any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in iri):
        return False
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return True


@dataclass
class Statement:
    """One triple of a description, with the graphs that hold it."""

    subject: Term
    predicate: ox.NamedNode
    object: Term
    graphs: set[str] = field(default_factory=set)
    role: str = "out"  # out, in, bnode, source, label

    @property
    def inferred(self) -> bool:
        """Only the build says so, by reasoning or in the support of a derived link (the
        same triple in an input file is asserted)."""
        return self.graphs <= {INFERRED_GRAPH_IRI, SUPPORT_GRAPH_IRI}

    @property
    def computed(self) -> bool:
        """Only in the support graph: computed by the build from the derivations, neither
        asserted nor inferred."""
        return self.graphs == {SUPPORT_GRAPH_IRI}

    @property
    def asserted_in(self) -> list[str]:
        return sorted(g for g in self.graphs if not is_derived_graph(g))

    def quads(self) -> list[ox.Quad]:
        return [ox.Quad(self.subject, self.predicate, self.object, ox.NamedNode(g))
                for g in sorted(self.graphs)]


@dataclass
class Description:
    """A resource's statements (grouped by role) and the labels of what they mention."""

    iri: str
    statements: list[Statement]
    labels: dict[str, str]
    truncated: bool = False

    def role(self, *roles: str) -> list[Statement]:
        return [s for s in self.statements if s.role in roles]

    @property
    def outgoing(self) -> list[Statement]:
        return self.role("out")

    @property
    def incoming(self) -> list[Statement]:
        return self.role("in")

    def label(self, iri: str | None = None) -> str:
        """The best label for ``iri`` (default: the described resource), else a short
        form of the IRI."""
        iri = iri or self.iri
        return self.labels.get(iri) or shorten(iri)

    def types(self) -> list[Statement]:
        return [s for s in self.outgoing if s.predicate.value == RDF_TYPE]

    def values(self, predicate: str) -> list[Term]:
        return [s.object for s in self.outgoing if s.predicate.value == predicate]

    def sources_of(self, subject: Term) -> list[str]:
        """The sources of a claim node (named in this description)."""
        return self._sources.get(subject, [])

    @cached_property
    def _sources(self) -> dict[Term, list[str]]:
        """Every claim node's sources, found in one pass (a page asks for those of each
        incoming link: one scan of the statements each was quadratic)."""
        found: dict[Term, set[str]] = defaultdict(set)
        for s in self.statements:
            if s.predicate.value == PROV_DERIVED and isinstance(s.object, ox.NamedNode):
                found[s.subject].add(s.object.value)
        return {subject: sorted(values) for subject, values in found.items()}

    def quads(self) -> tuple[list[ox.Quad], list[ox.Quad]]:
        """(asserted, inferred) quads, for the writers."""
        asserted: list[ox.Quad] = []
        inferred: list[ox.Quad] = []
        for s in self.statements:
            for q in s.quads():
                (inferred if is_derived_graph(q.graph_name.value) else asserted).append(q)
        return asserted, inferred


def _query(iri: str) -> str:
    x = f"<{iri}>"
    return f"""SELECT DISTINCT ?g ?s ?p ?o ?role WHERE {{
  {{ GRAPH ?g {{ {x} ?p ?o }} BIND({x} AS ?s) BIND("out" AS ?role) }}
  UNION {{ GRAPH ?g {{ ?s ?p {x} }} FILTER(!isBlank(?s)) BIND({x} AS ?o) BIND("in" AS ?role) }}
  UNION {{ GRAPH ?g0 {{ {x} ?p0 ?s }} FILTER(isBlank(?s)) GRAPH ?g {{ ?s ?p ?o }}
          BIND("bnode" AS ?role) }}
  UNION {{ GRAPH ?g0 {{ {x} ?p0 ?b }} FILTER(isBlank(?b)) GRAPH ?g1 {{ ?b ?p1 ?s }}
          FILTER(isBlank(?s)) GRAPH ?g {{ ?s ?p ?o }} BIND("bnode" AS ?role) }}
  UNION {{ GRAPH ?g0 {{ ?s ?p0 {x} }} FILTER(isIRI(?s) && ?s != {x})
          GRAPH ?g {{ ?s prov:wasDerivedFrom ?o }} BIND(prov:wasDerivedFrom AS ?p)
          BIND("source" AS ?role) }}
}} LIMIT {MAX_ROWS}"""


def _label_query(iris: list[str]) -> str:
    values = " ".join(f"<{i}>" for i in iris if safe_iri(i))
    props = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)
    return f"""SELECT ?g ?x ?p ?l WHERE {{
  VALUES ?x {{ {values} }} VALUES ?p {{ {props} }} GRAPH ?g {{ ?x ?p ?l }} FILTER(isLiteral(?l))
}}"""


def pick_label(candidates: list[tuple[str, str, str]]) -> str | None:
    """The label a person reads: rdfs:label before skos:prefLabel before dcterms:title,
    English (or no language) before other languages, and among equals the first by text
    (whatever order the store gave them in).

    >>> pick_label([(RDFS_LABEL, "Russland", "de"), (RDFS_LABEL, "Russia", "en"),
    ...             (RDFS_LABEL, "Russian Federation", "en")])
    'Russia'
    """
    if not candidates:
        return None

    def rank(c: tuple[str, str, str]) -> tuple[int, int, str, str]:
        prop, text, lang = c
        return (LABEL_PROPERTIES.index(prop), 0 if lang in ("", "en") else 1, text, lang)

    return min(candidates, key=rank)[1]


def fetch_labels(iris: list[str], select: Callable[[str], dict] | None = None
                 ) -> tuple[dict[str, str], list[tuple[str, str, dict]]]:
    """Labels for ``iris`` and the raw rows (graph, iri, literal binding) of rdfs:label."""
    wanted = sorted({i for i in iris if safe_iri(i)})
    if not wanted:
        return {}, []
    select = select or get_backend().select_json
    found: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    rows: list[tuple[str, str, dict]] = []
    for chunk in range(0, len(wanted), 400):
        result = select(_label_query(wanted[chunk:chunk + 400]))
        for b in result["results"]["bindings"]:
            x, p, lit = b["x"]["value"], b["p"]["value"], b["l"]
            found[x].append((p, lit["value"], lit.get("xml:lang", "")))
            if p == RDFS_LABEL:
                rows.append((b["g"]["value"], x, lit))
    return {x: pick_label(c) or "" for x, c in found.items()}, rows


def labels_of(iris: Iterable[str]) -> dict[str, str]:
    """The labels of ``iris`` (those that have one), each read once per store version and
    kept (:mod:`crinkkg.web.versioned`): the resources pages name again and again (states,
    properties, modalities, sources) cost no query after the first page that names them."""
    wanted = sorted({i for i in iris if safe_iri(i)})
    if not wanted:
        return {}

    def read(missing: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        found, _ = fetch_labels([i for _, i in missing])
        return {("label", i): label for i, label in found.items()}

    found = memo().many([("label", i) for i in wanted], read, None)
    return {i: label for (_, i), label in found.items() if label is not None}


def describe(iri: str, *, page: bool = False) -> Description | None:
    """The description of ``iri``, or ``None`` when the graph says nothing about it.

    ``page``: for an HTML page, which shows the labels of what it names but does not write
    out their statements: the labels are read through the per-version memo
    (:func:`labels_of`), without the label statements an RDF description carries."""
    if not safe_iri(iri):
        return None
    result = get_backend().select_json(_query(iri))
    rows = result["results"]["bindings"]
    if not any(r["role"]["value"] in ("out", "in") for r in rows):
        return None
    by_triple: dict[tuple, Statement] = {}
    for r in rows:
        s, p, o = term(r["s"]), term(r["p"]), term(r["o"])
        key = (s, p, o, r["role"]["value"])
        st = by_triple.get(key)
        if st is None:
            st = by_triple[key] = Statement(s, p, o, set(), r["role"]["value"])  # type: ignore[arg-type]
        st.graphs.add(r["g"]["value"])
    statements = list(by_triple.values())
    mentioned = {iri}
    for st in statements:
        mentioned.add(st.predicate.value)
        for t in (st.subject, st.object):
            if isinstance(t, ox.NamedNode):
                mentioned.add(t.value)
    order = {"out": 0, "bnode": 1, "in": 2, "source": 3, "label": 4}
    truncated = len(rows) >= MAX_ROWS
    if page:
        statements.sort(key=lambda st: order.get(st.role, 5))
        return Description(iri, statements, labels_of(mentioned), truncated=truncated)
    labels, label_rows = fetch_labels(sorted(mentioned))
    # the labels of linked resources travel with the description (not those of
    # predicates: they belong to the ontology, one link away)
    neighbours = {t.value for st in statements for t in (st.subject, st.object)
                  if isinstance(t, ox.NamedNode) and t.value != iri}
    for g, x, lit in label_rows:
        if x in neighbours:
            key = (ox.NamedNode(x), ox.NamedNode(RDFS_LABEL), term(lit), "label")
            st = by_triple.get(key)
            if st is None:
                st = by_triple[key] = Statement(key[0], key[1], key[2], set(), "label")
                statements.append(st)
            st.graphs.add(g)
    statements.sort(key=lambda st: order.get(st.role, 5))
    return Description(iri, statements, labels, truncated=truncated)


def _squash(text: str) -> str:
    """Lower case, letters and digits only: ``North-Korea`` and ``northkorea`` meet."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


#: how alike (difflib ratio) a name must be to be suggested: "rusia" ~ "russia" is 0.91
SIMILAR = 0.75


def search(fragment: str, base: str, limit: int = 8) -> list[tuple[str, str]]:
    """Resources under ``base`` whose name or label is like ``fragment`` (for a 404 page
    that helps: "did you mean"): a near spelling (``rusia``, ``Russia``, ``northkorea``
    find ``russia`` and ``north-korea``), or names holding the fragment's words."""
    key = _squash(fragment)
    words = [w for w in re.split(r"[^A-Za-z0-9]+", fragment.lower()) if len(w) > 2][:4]
    if not key or not safe_iri(base):
        return []
    result = get_backend().select_json(
        f"""SELECT ?x (SAMPLE(?label) AS ?l) WHERE {{
        ?x rdfs:label ?label . FILTER(STRSTARTS(STR(?x), "{base}")) }}
        GROUP BY ?x LIMIT 20000""")
    scored: list[tuple[float, float, str, str]] = []
    for b in result["results"]["bindings"]:
        iri, label = b["x"]["value"], b["l"]["value"]
        local = iri[len(base):].rsplit("/", 1)[-1]
        names = [n for n in (_squash(local), _squash(label)) if n]
        similar = max((SequenceMatcher(None, key, n).ratio() for n in names), default=0.0)
        text = f"{local} {label}".lower()
        holds = sum(1 for w in words if w in text) / len(words) if words else 0.0
        score = max(similar if similar >= SIMILAR else 0.0, holds)
        if score > 0:  # the nearest spelling first among equals
            scored.append((-score, -similar, iri, label))
    scored.sort()
    return [(iri, label) for _, _, iri, label in scored[:limit]]
