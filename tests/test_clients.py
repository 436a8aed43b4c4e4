"""Real clients against the real server: SPARQLWrapper in its default mode (it sends
``format=`` several times beside its ``Accept``) and linked-data media types with
parameters (``charset``, the JSON-LD ``profile``)."""

from __future__ import annotations

import json
import warnings

import pyoxigraph as ox
import pytest
import requests
from pyld import jsonld
from servers import project_server
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

CONSTRUCT = ("CONSTRUCT { ?s rdfs:label ?l } WHERE { ?s a crink:State ; rdfs:label ?l } "
             "ORDER BY ?s LIMIT 5")
SELECT = "SELECT ?s WHERE { ?s a crink:State } ORDER BY ?s LIMIT 5"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


def wrapper(server, query: str, fmt: str, method: str = "GET") -> SPARQLWrapper:
    sw = SPARQLWrapper(server.sparql)  # default mode: format=/output=/results= and Accept
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    sw.setMethod(method)
    return sw


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("query", [CONSTRUCT, "DESCRIBE id:iran"])
def test_sparqlwrapper_jsonld(server, query, method) -> None:
    result = wrapper(server, query, JSONLD, method).query()
    assert result.response.headers["Content-Type"].startswith("application/ld+json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's ConjunctiveGraph
        graph = result.convert()
    assert len(graph) >= 5


@pytest.mark.parametrize("fmt,media", [(N3, "text/turtle"), (TURTLE, "text/turtle"),
                                       (RDFXML, "application/rdf+xml"),
                                       (XML, "application/rdf+xml")])
def test_sparqlwrapper_graph_formats(server, fmt, media) -> None:
    result = wrapper(server, CONSTRUCT, fmt).query()
    assert result.response.headers["Content-Type"].split(";")[0] == media
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's ConjunctiveGraph
        body = result.convert()
    if isinstance(body, bytes):  # N3 and Turtle come back as text: Turtle is valid N3
        assert len(list(ox.parse(body, format=ox.RdfFormat.N3))) == 5
    else:
        assert len(body) == 5


@pytest.mark.parametrize("fmt,media", [(JSON, "application/sparql-results+json"),
                                       (XML, "application/sparql-results+xml"),
                                       (CSV, "text/csv"), (TSV, "text/tab-separated-values")])
def test_sparqlwrapper_select_formats(server, fmt, media) -> None:
    result = wrapper(server, SELECT, fmt).query()
    assert result.response.headers["Content-Type"].split(";")[0] == media
    if fmt == JSON:
        assert len(result.convert()["results"]["bindings"]) == 5
    elif fmt in (CSV, TSV):
        assert len(result.convert().strip().splitlines()) == 6


def test_format_for_another_query_form_leaves_accept_to_decide(server) -> None:
    # format=csv cannot write a CONSTRUCT: the Accept header decides
    r = requests.get(server.sparql, params={"query": CONSTRUCT, "format": "csv"},
                     headers={"Accept": "application/n-triples"}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/n-triples")
    # the first repeated value that names a format for the query form wins
    r = requests.get(server.sparql, params=[("query", CONSTRUCT), ("format", "csv"),
                                            ("format", "text/csv, application/trig")],
                     timeout=30)
    assert r.headers["Content-Type"].startswith("application/trig")


@pytest.mark.parametrize("value", ["docx", "bogus,nonsense", "text/x-unknown"])
def test_unknown_format_is_400(server, value) -> None:
    for query in (SELECT, CONSTRUCT, "ASK {}"):
        r = requests.get(server.sparql, params={"query": query, "format": value}, timeout=30)
        assert r.status_code == 400, (query, r.text)
        assert "unknown-format" in r.text and "format=" in r.text


def test_format_html_is_the_query_page(server) -> None:
    r = requests.get(server.sparql, params={"query": SELECT, "format": "html"}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")


# -- linked data: media types with parameters ------------------------------------------------

@pytest.mark.parametrize("accept,media,fmt", [
    ("text/turtle; charset=utf-8", "text/turtle", ox.RdfFormat.TURTLE),
    ("text/turtle;charset=UTF-8;q=0.9, text/html;q=0.1", "text/turtle", ox.RdfFormat.TURTLE),
    ('application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"',
     "application/ld+json", ox.RdfFormat.JSON_LD),
    ('application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted, x"',
     "application/ld+json", ox.RdfFormat.JSON_LD),
    ("text/n3", "text/turtle", ox.RdfFormat.TURTLE),
    ("text/rdf+n3;charset=utf-8", "text/turtle", ox.RdfFormat.TURTLE),
    ("application/rdf+xml; charset=utf-8", "application/rdf+xml", ox.RdfFormat.RDF_XML),
])
@pytest.mark.parametrize("path", ["/id/russia", "/ontology", "/graph/inferred", "/"])
def test_linked_data_media_types_with_parameters(server, path, accept, media, fmt) -> None:
    r = requests.get(server.url + path, headers={"Accept": accept}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == media
    assert len(list(ox.parse(r.content, format=fmt))) > 0


def test_sparql_endpoint_media_types_with_parameters(server) -> None:
    r = requests.get(server.sparql, params={"query": CONSTRUCT},
                     headers={"Accept": "text/turtle; charset=utf-8"}, timeout=30)
    assert r.headers["Content-Type"].startswith("text/turtle")
    r = requests.get(server.sparql, params={"query": CONSTRUCT}, headers={
        "Accept": 'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"'},
        timeout=30)
    assert r.headers["Content-Type"].startswith("application/ld+json")


# -- JSON-LD offline ----------------------------------------------------------------------------

def _refuse_network(url: str, options: dict | None = None) -> dict:
    raise AssertionError(f"the JSON-LD processor tried to load {url}")


@pytest.mark.parametrize("path", ["/id/russia", "/id/russia-dprk-treaty-2024", "/ontology",
                                  "/graph/inferred", "/", "/id/atlantis"])
def test_jsonld_expands_offline(server, path) -> None:
    """pyld with a loader that refuses the network expands every document to the same
    triples as the Turtle version (the context is embedded, nothing is fetched)."""
    r = requests.get(server.url + path, headers={"Accept": "application/ld+json"}, timeout=30)
    assert r.status_code in (200, 404)
    doc = r.json()
    assert isinstance(doc["@context"], dict)  # embedded, not a URL built from Host
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads",
                                 "documentLoader": _refuse_network})
    from_jsonld = {t for t in ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS)}
    turtle = requests.get(server.url + path, headers={"Accept": "text/turtle"}, timeout=30)
    from_turtle = set(ox.parse(turtle.content, format=ox.RdfFormat.TURTLE,
                               base_iri=server.url + path))
    def ground(triples) -> set:
        return {(t.subject, t.predicate, t.object) for t in triples
                if not isinstance(t.subject, ox.BlankNode)
                and not isinstance(t.object, ox.BlankNode)}

    assert ground(from_jsonld) == ground(from_turtle)
    assert len(from_jsonld) == len(from_turtle)
    if r.status_code == 200:
        assert len(from_jsonld) >= 5


def test_jsonld_context_is_the_published_one(server) -> None:
    published = requests.get(server.url + "/context.jsonld", timeout=30).json()
    doc = requests.get(server.url + "/id/russia", headers={"Accept": "application/ld+json"},
                       timeout=30).json()
    assert doc["@context"] == published["@context"]
    assert json.dumps(doc).count(server.url) == 0  # nothing in it names the serving host
