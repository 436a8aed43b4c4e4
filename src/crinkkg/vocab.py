"""The IRIs the project mints: one base, the ontology (hash namespace), entities and graphs.

Everything is minted under ``https://w3id.org/crinkkg/``; the server maps that base onto
its own URL so that every IRI dereferences locally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rdflib import Namespace, URIRef

BASE = "https://w3id.org/crinkkg/"
ONTOLOGY_IRI = BASE + "ontology"
GRAPH_BASE = BASE + "graph/"
INFERRED_GRAPH_IRI = GRAPH_BASE + "inferred"
#: the support of each derived shortcut (crink:DerivedLink nodes), computed from the
#: derivations after reasoning (crinkkg.reasoning.support); not reasoned over, not asserted
SUPPORT_GRAPH_IRI = GRAPH_BASE + "support"
#: where the derived-link nodes of the support graph are minted
LINK_BASE = BASE + "id/link/"
#: graphs the store keeps for itself so that the default graph is an RDF merge (store.py);
#: never shown, never writable
MERGE_GRAPH_PREFIX = "urn:x-crinkkg:merge:"

# rdflib namespaces, made on first use: the query workers need only the strings, and
# importing rdflib would cost each of them memory
CRINK_NS = ONTOLOGY_IRI + "#"
PROV_NS = "http://www.w3.org/ns/prov#"
VANN_NS = "http://purl.org/vocab/vann/"
VOID_NS = "http://rdfs.org/ns/void#"
SKOS_NS = "http://www.w3.org/2004/02/skos/core#"
DCT_NS = "http://purl.org/dc/terms/"
OA_NS = "http://www.w3.org/ns/oa#"
_NAMESPACES = {
    "CRINK": CRINK_NS,
    "ID": BASE + "id/",
    "GRAPH": GRAPH_BASE,
    "PROV": PROV_NS,
    "VANN": VANN_NS,
    "SD": "http://www.w3.org/ns/sparql-service-description#",
    "VOID": VOID_NS,
}
#: the same namespaces as strings, for code that must not import rdflib (the web app:
#: rdflib costs each HTTP process memory, counted again in every process forked)
NAMESPACE_IRIS: dict[str, str] = dict(_NAMESPACES)
CRINK: Namespace
ID: Namespace
GRAPH: Namespace
PROV: Namespace
VANN: Namespace
SD: Namespace
VOID: Namespace
INFERRED_GRAPH: URIRef


def __getattr__(name: str) -> object:
    if name not in _NAMESPACES and name != "INFERRED_GRAPH":  # e.g. __path__, asked on import
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rdflib import Namespace, URIRef

    value = URIRef(INFERRED_GRAPH_IRI) if name == "INFERRED_GRAPH" \
        else Namespace(_NAMESPACES[name])
    globals()[name] = value
    return value


#: the W3C namespaces, as strings: every module that needs them imports them from here
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = RDF_NS + "type"
RDF_LANGSTRING = RDF_NS + "langString"
XSD_STRING = XSD_NS + "string"
RDFS_LABEL = RDFS_NS + "label"
RDFS_COMMENT = RDFS_NS + "comment"
RDFS_SUBCLASS_OF = RDFS_NS + "subClassOf"

PREFIXES: dict[str, str] = {
    "crink": _NAMESPACES["CRINK"],
    "id": _NAMESPACES["ID"],
    "rdf": RDF_NS,
    "rdfs": RDFS_NS,
    "owl": OWL_NS,
    "xsd": XSD_NS,
    "skos": SKOS_NS,
    "prov": _NAMESPACES["PROV"],
    "dcterms": DCT_NS,
    "time": "http://www.w3.org/2006/time#",
    "oa": OA_NS,
    "vann": _NAMESPACES["VANN"],
}


#: the SPARQL service that searches the full-text index (``SERVICE <urn:x-crinkkg:search>``),
#: and the namespace of the terms its pattern uses (docs/querying.md)
SEARCH_SERVICE = "urn:x-crinkkg:search"
SEARCH_NS = SEARCH_SERVICE + "#"

#: the graph that holds every stored source text (``crink:textContent``): one graph for all
TEXTS_GRAPH_IRI = GRAPH_BASE + "texts"


def graph_iri_for(relative_path: str) -> str:
    """The named graph that holds the asserted triples of one input file.

    >>> graph_iri_for("data/russia-north-korea.ttl")
    'https://w3id.org/crinkkg/graph/data/russia-north-korea'
    """
    path = relative_path.replace("\\", "/").strip("/")
    stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    return GRAPH_BASE + stem


def is_inferred_graph(iri: str) -> bool:
    """True for the graph that holds the reasoner's output."""
    return iri == INFERRED_GRAPH_IRI


def is_derived_graph(iri: str) -> bool:
    """True for the graphs the build computes (the inferred graph and the support graph):
    never asserted, never writable.

    >>> is_derived_graph(SUPPORT_GRAPH_IRI), is_derived_graph(GRAPH_BASE + "data/china")
    (True, False)
    """
    return iri in (INFERRED_GRAPH_IRI, SUPPORT_GRAPH_IRI)
