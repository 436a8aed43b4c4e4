"""The IRIs the project mints: one base, the ontology (hash namespace), entities and graphs.

Everything is minted under ``https://w3id.org/crinkkg/``; the server maps that base onto
its own URL so that every IRI dereferences locally.
"""

from __future__ import annotations

from rdflib import Namespace

BASE = "https://w3id.org/crinkkg/"
ONTOLOGY_IRI = BASE + "ontology"
CRINK = Namespace(ONTOLOGY_IRI + "#")
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
INFERRED_GRAPH = GRAPH["inferred"]

PROV = Namespace("http://www.w3.org/ns/prov#")
VANN = Namespace("http://purl.org/vocab/vann/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")

PREFIXES: dict[str, str] = {
    "crink": str(CRINK),
    "id": str(ID),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": str(PROV),
    "dcterms": "http://purl.org/dc/terms/",
    "time": "http://www.w3.org/2006/time#",
    "vann": str(VANN),
}


def graph_iri_for(relative_path: str) -> str:
    """The named graph that holds the asserted triples of one input file.

    >>> graph_iri_for("data/russia-north-korea.ttl")
    'https://w3id.org/crinkkg/graph/data/russia-north-korea'
    """
    path = relative_path.replace("\\", "/").strip("/")
    stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    return str(GRAPH) + stem


def is_inferred_graph(iri: str) -> bool:
    """True for the graph that holds the reasoner's output."""
    return iri == str(INFERRED_GRAPH)
