"""RDF for linked-data documents: the formats a client can ask for (the registry's, see
:mod:`.formats`, in linked data's order), terms read from SPARQL JSON results, and the
writers (pyoxigraph's, plus our own compact JSON-LD).

Why our own JSON-LD: pyoxigraph writes expanded JSON-LD with full IRIs as keys; linked-data
clients expect compact keys resolved by a ``@context``, which every document here embeds
(so that it expands offline and does not depend on the host that served it; the same
context is published at ``/context.jsonld``). The expansion of what we write is exactly the
triples of the Turtle version (a test checks it).

>>> by_suffix("ttl").media_type
'text/turtle'
>>> jsonld_context({"ex": "http://example.org/"})["@context"]["ex"]
'http://example.org/'
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence

import pyoxigraph as ox

from crinkkg.formats import (
    GRAPH_FORMATS,
    HTML,
    JSONLD,
    NQUADS,
    NTRIPLES,
    RDFXML,
    TRIG,
    TURTLE,
    Format,
    check_xml_chars,
)
from crinkkg.vocab import DCT_NS, PREFIXES, RDF_TYPE, SUPPORT_GRAPH_IRI, VOID_NS, XSD_STRING

#: Prefixes of the written documents: the project's, plus a few that the data links to.
LD_PREFIXES: dict[str, str] = {**PREFIXES, "wd": "http://www.wikidata.org/entity/",
                               "void": "http://rdfs.org/ns/void#"}

Term = ox.NamedNode | ox.BlankNode | ox.Literal


#: A representation of a resource: the formats are those of :mod:`.formats`.
LDFormat = Format

#: Every format, in linked data's order of preference (the first wins a tie, e.g. ``*/*``):
#: Turtle, the page, the formats linked-data clients ask for most, then any other graph
#: format of the registry.
_PREFERRED = (TURTLE, HTML, JSONLD, RDFXML, NTRIPLES, TRIG, NQUADS)
FORMATS: tuple[LDFormat, ...] = (*_PREFERRED,
                                 *(f for f in GRAPH_FORMATS if f not in _PREFERRED))
RDF_FORMATS: tuple[LDFormat, ...] = tuple(f for f in FORMATS if f is not HTML)


def by_suffix(suffix: str) -> LDFormat | None:
    """The format a file suffix (``ttl``, ``jsonld``, ``rdf``, ...) names."""
    suffix = suffix.lower().lstrip(".")
    return next((f for f in FORMATS if suffix in f.suffixes), None)


def by_name(value: str) -> LDFormat | None:
    """The format a ``format=`` value names: a short name, a suffix or a media type."""
    value = value.split(";", 1)[0].strip().lower()
    return next((f for f in FORMATS if f.named_by(value)), None)


# -- terms ---------------------------------------------------------------------------------

def term(binding: dict) -> Term:
    """A pyoxigraph term from one value of SPARQL 1.1 JSON results."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if "xml:lang" in binding:
        return ox.Literal(value, language=binding["xml:lang"])
    datatype = binding.get("datatype")
    return ox.Literal(value, datatype=ox.NamedNode(datatype) if datatype else None)


def shorten(iri: str, prefixes: dict[str, str] | None = None) -> str:
    """A compact IRI (``crink:State``) when a prefix fits, else the IRI itself."""
    for prefix, ns in (prefixes or LD_PREFIXES).items():
        if iri.startswith(ns) and len(iri) > len(ns):
            local = iri[len(ns):]
            if "/" not in local and "#" not in local and not local.startswith("-"):
                return f"{prefix}:{local}"
    return iri


# -- writers -------------------------------------------------------------------------------

def jsonld_context(prefixes: dict[str, str] | None = None) -> dict:
    """The published ``@context``: the prefixes every document here uses."""
    return {"@context": dict(prefixes or LD_PREFIXES)}


def _jsonld_value(obj: Term) -> object:
    if isinstance(obj, ox.NamedNode):
        return {"@id": obj.value}
    if isinstance(obj, ox.BlankNode):
        return {"@id": f"_:{obj.value}"}
    if obj.language:
        return {"@value": obj.value, "@language": obj.language}
    if obj.datatype.value == XSD_STRING:
        return obj.value
    return {"@value": obj.value, "@type": shorten(obj.datatype.value)}


def to_jsonld(triples: Iterable[ox.Triple]) -> bytes:
    """Compact JSON-LD: one node object per subject, keys as compact IRIs, the context
    embedded (a saved document expands offline, whatever host served it). Literal forms
    are kept exactly (typed values stay strings)."""
    nodes: dict[str, dict] = {}
    for t in triples:
        sid = t.subject.value if isinstance(t.subject, ox.NamedNode) else f"_:{t.subject.value}"
        node = nodes.setdefault(sid, {"@id": sid})
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            node.setdefault("@type", []).append(shorten(t.object.value))
            continue
        node.setdefault(shorten(t.predicate.value), []).append(_jsonld_value(t.object))
    doc = {**jsonld_context(), "@graph": list(nodes.values())}
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


def write(fmt: LDFormat, asserted: Sequence[ox.Quad], inferred: Sequence[ox.Quad],
          *, note: str = "") -> bytes:
    """Serialise a description. Graph-aware formats keep every quad in its graph; triple
    formats carry the union, and Turtle and N-Triples put the inferred triples (and those
    of the support graph, which ``inferred`` holds too) after a comment line that says so
    (valid in both syntaxes)."""
    if fmt.graph_aware:
        return ox.serialize([*asserted, *inferred], format=fmt.oxigraph, prefixes=LD_PREFIXES)
    a_triples = _dedupe(asserted)
    asserted_set = set(a_triples)  # once (it was made again for every inferred triple)
    i_triples = [t for t in _dedupe(inferred) if t not in asserted_set]
    if fmt is JSONLD:
        return to_jsonld([*a_triples, *i_triples])
    if fmt is RDFXML:
        return check_xml_chars(ox.serialize([*a_triples, *i_triples], format=fmt.oxigraph,
                                            prefixes=LD_PREFIXES) or b"", "RDF/XML")
    prefixes = LD_PREFIXES if fmt is TURTLE else None
    head = f"# {note}\n" if note else ""
    out = head.encode() + ox.serialize(a_triples, format=fmt.oxigraph, prefixes=prefixes)
    support = set(_dedupe(q for q in inferred if q.graph_name.value == SUPPORT_GRAPH_IRI))
    reasoned = [t for t in i_triples if t not in support]
    if reasoned:
        out += (b"\n# Inferred by OWL 2 RL (graph <https://w3id.org/crinkkg/graph/inferred>); "
                b"ask for TriG or N-Quads to get every statement in its graph.\n")
        out += ox.serialize(reasoned, format=fmt.oxigraph, prefixes=prefixes)
    if support:
        out += (b"\n# The support of derived links, computed by the build (graph "
                b"<https://w3id.org/crinkkg/graph/support>).\n")
        out += ox.serialize([t for t in i_triples if t in support], format=fmt.oxigraph,
                            prefixes=prefixes)
    return out


def _dedupe(quads: Iterable[ox.Quad]) -> list[ox.Triple]:
    seen: dict[ox.Triple, None] = {}
    for q in quads:
        seen.setdefault(ox.Triple(q.subject, q.predicate, q.object), None)
    return list(seen)


def printable(text: str) -> str:
    """``text`` with every control, format, surrogate or unassigned character written as
    ``\\uXXXX``: safe inside a Turtle comment and an XML comment (a requested IRI may
    hold anything).

    >>> printable("a\\x00b\\u2028c")
    'a\\\\u0000b\\\\u2028c'
    """
    return "".join(f"\\u{ord(c):04X}" if unicodedata.category(c)[0] in "CZ" and c != " "
                   else c for c in text)


def empty_document(fmt: LDFormat, message: str) -> bytes:
    """A valid, empty document in ``fmt`` that carries ``message`` (for a 404 or 406):
    a client that parses what it asked for still can, and a person reads why."""
    one_line = printable(" ".join(message.split()))
    if fmt is JSONLD:
        return (json.dumps({**jsonld_context(), "@graph": [], "error": one_line},
                           indent=2) + "\n").encode()
    if fmt is RDFXML:
        safe = one_line.replace("--", "- -").rstrip("-")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<!-- {safe} -->\n"
                '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n'
                ).encode()
    return f"# {one_line}\n".encode()


def dataset_description(fmt: LDFormat, base: str, root: str, ontology: str) -> bytes:
    """A short VoID description of the dataset minted under ``base`` and served at
    ``root``, for RDF clients at the root."""
    s = g = ox.NamedNode(base)
    triples = [
        (ox.NamedNode(RDF_TYPE), ox.NamedNode(VOID_NS + "Dataset")),
        (ox.NamedNode(DCT_NS + "title"), ox.Literal("crinkkg: the CRINK knowledge graph",
                                                    language="en")),
        (ox.NamedNode(VOID_NS + "sparqlEndpoint"), ox.NamedNode(root + "sparql")),
        (ox.NamedNode(VOID_NS + "uriSpace"), ox.Literal(base + "id/")),
        (ox.NamedNode(VOID_NS + "vocabulary"), ox.NamedNode(ontology)),
    ]
    return write(fmt, [ox.Quad(s, p, o, g) for p, o in triples], [], note="The dataset")
