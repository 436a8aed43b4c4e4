"""The W3C SPARQL 1.1 Protocol test suite, run over real HTTP against ``crinkkg serve``.

The manifest and data are read at test time from ``../shared/w3c/sparql11-protocol/``.
As the manifest asks, every ``/sparql/`` path is replaced by this endpoint's path. Before
each test the store is reset to the test's ``ut:graphData`` (each file loaded into the
graph named by its ``rdfs:label``) through the update endpoint, with the bearer token.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
import requests
from conftest import SHARED, require
from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection
from servers import backend_args, empty_project, publish, start_server

SUITE = SHARED / "w3c" / "sparql11-protocol"
MANIFEST = SUITE / "manifest.ttl"
TOKEN = "w3c-suite-token-0123456789"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

TABULAR = {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
           "text/tab-separated-values"}
BOOLEAN = {"application/sparql-results+json", "application/sparql-results+xml"}
RDF_TYPES = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
             "application/rdf+xml": ox.RdfFormat.RDF_XML,
             "application/ld+json": ox.RdfFormat.JSON_LD, "application/trig": ox.RdfFormat.TRIG,
             "application/n-quads": ox.RdfFormat.N_QUADS}


def _manifest() -> Graph | None:
    if not MANIFEST.is_file():
        return None
    graph = Graph()
    graph.parse(MANIFEST, format="turtle")
    return graph


MANIFEST_GRAPH = _manifest()


def _entries() -> list[URIRef]:
    if MANIFEST_GRAPH is None:
        return []
    root = next(MANIFEST_GRAPH.subjects(RDF.type, MF.Manifest))
    return list(Collection(MANIFEST_GRAPH, MANIFEST_GRAPH.value(root, MF.entries)))


ENTRIES = _entries()


def _name(entry: URIRef) -> str:
    return str(entry).rsplit("#", 1)[-1]


@pytest.fixture(scope="module", params=["embedded", "oxigraph", "virtuoso"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """crinkkg over its own store, and over each remote store (issue 12: every protocol
    test passes whichever store answers)."""
    require(MANIFEST.is_file(), f"the W3C protocol suite is not at {SUITE}")
    ontology, data, store = empty_project(tmp_path_factory.mktemp("w3c"))
    extra: list[str] = []
    remote = None
    if request.param != "embedded":
        remote = request.getfixturevalue(f"{request.param}_server")
        remote.clear()
        publish(remote, store, ontology, data)
        extra = backend_args(remote)
    with start_server(store, "--enable-update", ontology=ontology, data=data,
                      env={"CRINKKG_UPDATE_TOKEN": TOKEN}, global_args=extra) as handle:
        yield handle
    if remote is not None:
        remote.clear()  # the session's store goes back empty to the tests after these


def _reset(server, entry: URIRef) -> None:
    """Empty the store, then load the test's graphs (each under its label)."""
    g = MANIFEST_GRAPH
    parts = ["DROP ALL"]
    for data in g.objects(entry, UT.graphData):
        source = Path(str(g.value(data, UT.graph)).removeprefix("file://"))
        source = SUITE / source.name
        label = str(g.value(data, RDFS.label))
        parts.append(f"INSERT DATA {{ GRAPH <{label}> {{ {source.read_text()} }} }}")
    r = requests.post(server.sparql, data=" ;\n".join(parts).encode(),
                      headers={"Content-Type": "application/sparql-update",
                               "Authorization": f"Bearer {TOKEN}"}, timeout=60)
    assert r.status_code == 200, r.text


def _request(server, req) -> requests.Response:
    g = MANIFEST_GRAPH
    method = str(g.value(req, HT.methodName))
    path = str(g.value(req, HT.absolutePath))
    assert path.startswith("/sparql/")
    path = "/sparql" + path[len("/sparql/"):]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    header_list = g.value(req, HT.headers)
    if header_list is not None:
        for h in Collection(g, header_list):
            headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
    body = None
    content = g.value(req, HT.body)
    if content is not None:
        encoding = str(g.value(content, CNT.characterEncoding) or "UTF-8")
        body = str(g.value(content, CNT.chars)).encode(encoding)
    return requests.request(method, server.url + path, data=body, headers=headers,
                            timeout=60, allow_redirects=False)


def _check(g: Graph, expected, response: requests.Response, where: str) -> None:
    statuses = set(g.objects(expected, MF.expectedStatus))
    family = f"StatusCode{str(response.status_code)[0]}xx"
    assert HTS[family] in statuses, (
        f"{where}: status {response.status_code}, expected "
        f"{sorted(s.rsplit('#', 1)[-1] for s in statuses)}\n{response.text[:500]}")
    media = response.headers.get("Content-Type", "").split(";")[0].strip()
    fmt = g.value(expected, MF.expectedFormat)
    if fmt is not None:
        wanted = {"boolean": BOOLEAN, "tabular": TABULAR, "RDF": set(RDF_TYPES)}[str(fmt)]
        assert media in wanted, f"{where}: {media} is not a {fmt} format"
        if str(fmt) == "RDF":
            list(ox.parse(response.content, format=RDF_TYPES[media]))  # it parses
        elif str(fmt) == "tabular":
            formats = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                       "application/sparql-results+xml": ox.QueryResultsFormat.XML,
                       "text/tab-separated-values": ox.QueryResultsFormat.TSV}
            if media in formats:  # CSV is lossy: oxigraph does not read it back
                list(ox.parse_query_results(response.content, format=formats[media]))
    boolean = g.value(expected, MF.expectedBoolean)
    if boolean is not None:
        if media == "application/sparql-results+json":
            value = json.loads(response.content)["boolean"]
        else:
            value = bool(ox.parse_query_results(response.content,
                                                format=ox.QueryResultsFormat.XML))
        assert value == boolean.toPython(), f"{where}: ASK gave {value}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[_name(e) for e in ENTRIES])
def test_w3c_protocol(server, entry: URIRef) -> None:
    g = MANIFEST_GRAPH
    _reset(server, entry)
    action = g.value(entry, MF.action)
    requests_list = list(Collection(g, g.value(action, HT.requests)))
    for i, req in enumerate(requests_list, 1):
        response = _request(server, req)
        _check(g, g.value(req, HT.resp), response, f"{_name(entry)} request {i}")


def test_the_whole_suite_is_found() -> None:
    require(MANIFEST.is_file(), f"the W3C protocol suite is not at {SUITE}")
    assert len(ENTRIES) == 34
    assert urlsplit("http://x/sparql").path == "/sparql"
