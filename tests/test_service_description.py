"""The service description (``GET /sparql`` without a query) against the checks of
``../shared/w3c/sparql11-service-description/manifest.ttl``: it returns RDF, it has an
``sd:endpoint`` triple matching the URL used, and it conforms to the SD schema (checked
here with SHACL shapes written from the SD vocabulary's domains and ranges)."""

from __future__ import annotations

import pytest
import requests
from conftest import SHARED, require
from pyshacl import validate
from rdflib import RDF, Graph, Namespace, URIRef
from servers import project_server

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
MANIFEST = SHARED / "w3c" / "sparql11-service-description" / "manifest.ttl"

SD_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix : <urn:shapes#> .
:Service a sh:NodeShape ; sh:targetClass sd:Service ;
  sh:property [ sh:path sd:endpoint ; sh:minCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:supportedLanguage ; sh:minCount 1 ;
                sh:in ( sd:SPARQL10Query sd:SPARQL11Query sd:SPARQL11Update ) ] ;
  sh:property [ sh:path sd:feature ; sh:in ( sd:DereferencesURIs sd:UnionDefaultGraph
                sd:RequiresDataset sd:EmptyGraphs sd:BasicFederatedQuery ) ] ;
  sh:property [ sh:path sd:resultFormat ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:inputFormat ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:defaultEntailmentRegime ; sh:nodeKind sh:IRI ; sh:maxCount 1 ] ;
  sh:property [ sh:path sd:defaultSupportedEntailmentProfile ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:defaultDataset ; sh:maxCount 1 ; sh:class sd:Dataset ] .
:Dataset a sh:NodeShape ; sh:targetClass sd:Dataset ;
  sh:property [ sh:path sd:defaultGraph ; sh:maxCount 1 ; sh:class sd:Graph ] ;
  sh:property [ sh:path sd:namedGraph ; sh:class sd:NamedGraph ] .
:NamedGraph a sh:NodeShape ; sh:targetClass sd:NamedGraph ;
  sh:property [ sh:path sd:name ; sh:minCount 1 ; sh:maxCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:graph ; sh:maxCount 1 ; sh:class sd:Graph ] .
:Counts a sh:NodeShape ; sh:targetSubjectsOf void:triples, void:entities ;
  sh:property [ sh:path void:triples ; sh:datatype xsd:integer ] ;
  sh:property [ sh:path void:entities ; sh:datatype xsd:integer ] .
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require(MANIFEST.is_file(), f"the service-description checks are not at {MANIFEST}")
    return project_server(tmp_path_factory.getbasetemp())


def _graph(response: requests.Response) -> Graph:
    fmt = {"text/turtle": "turtle", "application/rdf+xml": "xml",
           "application/ld+json": "json-ld"}[response.headers["Content-Type"].split(";")[0]]
    return Graph().parse(data=response.content, format=fmt)


@pytest.mark.parametrize("accept", [None, "text/turtle", "application/rdf+xml",
                                    "application/ld+json"])
def test_returns_rdf(server, accept) -> None:
    headers = {"Accept": accept} if accept else {}
    r = requests.get(server.sparql, headers=headers, timeout=30)
    assert r.status_code == 200
    assert "Accept" in r.headers["Vary"]
    graph = _graph(r)
    assert (None, RDF.type, SD.Service) in graph


def test_has_endpoint_triple(server) -> None:
    graph = _graph(requests.get(server.sparql, headers={"Accept": "text/turtle"}, timeout=30))
    assert (None, SD.endpoint, URIRef(server.sparql)) in graph
    # the endpoint follows the URL the client used
    other = server.sparql.replace("127.0.0.1", "localhost")
    graph = _graph(requests.get(other, headers={"Accept": "text/turtle"}, timeout=30))
    assert (None, SD.endpoint, URIRef(other)) in graph


def test_conforms_to_schema(server) -> None:
    graph = _graph(requests.get(server.sparql, headers={"Accept": "text/turtle"}, timeout=30))
    shapes = Graph().parse(data=SD_SHAPES, format="turtle")
    conforms, _, text = validate(graph, shacl_graph=shapes)
    assert conforms, text


def test_describes_entailment_and_dataset(server) -> None:
    graph = _graph(requests.get(server.sparql, headers={"Accept": "text/turtle"}, timeout=30))
    service = graph.value(None, RDF.type, SD.Service)
    assert graph.value(service, SD.defaultEntailmentRegime) == \
        URIRef("http://www.w3.org/ns/entailment/OWL-RDF-Based")
    assert graph.value(service, SD.defaultSupportedEntailmentProfile) == \
        URIRef("http://www.w3.org/ns/owl-profile/RL")
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    formats = set(graph.objects(service, SD.resultFormat))
    assert URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
    assert URIRef("http://www.w3.org/ns/formats/Turtle") in formats
    assert (service, SD.supportedLanguage, SD.SPARQL11Update) not in graph  # read-only
    default = graph.value(graph.value(service, SD.defaultDataset), SD.defaultGraph)
    assert int(graph.value(default, VOID.triples)) > 0
    assert int(graph.value(default, VOID.classes)) > 0
    assert int(graph.value(default, VOID.properties)) > 0
    names = {str(graph.value(n, SD.name)) for n in graph.subjects(RDF.type, SD.NamedGraph)}
    assert "https://w3id.org/crinkkg/graph/inferred" in names
    health = requests.get(server.url + "/health", timeout=30).json()
    counts = {str(graph.value(n, SD.name)): int(graph.value(graph.value(n, SD.graph),
                                                            VOID.triples))
              for n in graph.subjects(RDF.type, SD.NamedGraph)}
    assert counts["https://w3id.org/crinkkg/graph/inferred"] == health["inferred_triples"]


def test_manifest_lists_the_three_checks() -> None:
    require(MANIFEST.is_file(), "no manifest")
    text = MANIFEST.read_text()
    for check in ("has-endpoint-triple", "returns-rdf", "conforms-to-schema"):
        assert f":{check}" in text
