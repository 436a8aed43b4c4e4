"""Missing and emptied graphs, and the dataset-level graph store, over real HTTP.

- DROP/CLEAR/COPY/MOVE/ADD of a missing graph without SILENT: 404, nothing of the update
  applied (never a 500); with SILENT: done. CREATE GRAPH of an existing graph: 409.
- The graph store's GET, PUT and DELETE agree on whether an emptied graph exists.
- GET /store without a graph: the whole dataset, TriG or N-Quads (what Jena's
  ``RDFConnection.fetchDataset()`` asks for), read here with rdflib's Dataset; POST of
  TriG/N-Quads to /store adds quads to their graphs (token, re-reasoned, the inferred graph
  refused).
"""

from __future__ import annotations

import warnings

import pytest
import requests
from rdflib import Dataset, URIRef
from servers import project_server
from test_updates import SUPPLIES, TOKEN, ask, start, update

INFERRED = "https://w3id.org/crinkkg/graph/inferred"
G1, G2 = "http://example.org/g1", "http://example.org/g2"
MISSING = "http://example.org/missing"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from test_build import make_project

    root = tmp_path_factory.mktemp("graph-store-dataset")
    make_project(root)
    with start(root) as handle:
        yield handle


def graphs(server) -> set[str]:
    r = requests.get(server.sparql, params={"query": "SELECT ?g { GRAPH ?g { } }"},
                     headers={"Accept": "application/sparql-results+json"}, timeout=30)
    return {b["g"]["value"] for b in r.json()["results"]["bindings"]}


@pytest.mark.parametrize("operation", [
    f"DROP GRAPH <{MISSING}>", f"CLEAR GRAPH <{MISSING}>", f"COPY <{MISSING}> TO <{G2}>",
    f"MOVE <{MISSING}> TO <{G2}>", f"ADD <{MISSING}> TO <{G2}>",
    f"COPY GRAPH <{MISSING}> TO DEFAULT",
    "PREFIX ex: <http://example.org/> ADD ex:missing TO ex:g2",
])
def test_a_missing_graph_without_silent_is_a_404_and_nothing_is_applied(server,
                                                                          operation) -> None:
    before = graphs(server)
    r = update(server, f"INSERT DATA {{ GRAPH <{G1}> {{ <urn:a> <urn:b> 1 }} }} ;\n{operation}")
    assert r.status_code == 404, r.text
    problem = r.json()
    assert problem["error"] == "no-such-graph" and MISSING in problem["message"]
    assert "SILENT" in problem["hint"]
    assert graphs(server) == before and G1 not in before  # the INSERT was not applied
    silent = operation.replace("DROP", "DROP SILENT").replace("CLEAR", "CLEAR SILENT") \
        .replace("COPY", "COPY SILENT").replace("MOVE", "MOVE SILENT") \
        .replace("ADD", "ADD SILENT")
    assert update(server, silent).status_code == 200


def test_a_source_created_earlier_in_the_same_update_exists(server) -> None:
    r = update(server, f"CREATE GRAPH <{G1}> ; COPY <{G1}> TO <{G2}> ; DROP GRAPH <{G1}> ;"
                       f" DROP SILENT GRAPH <{G2}>")
    assert r.status_code == 200, r.text


def test_create_of_an_existing_graph_is_a_409(server) -> None:
    assert update(server, f"CREATE GRAPH <{G1}>").status_code == 200
    try:
        r = update(server, f"CREATE GRAPH <{G1}>")
        assert r.status_code == 409 and r.json()["error"] == "graph-exists"
        assert update(server, f"CREATE SILENT GRAPH <{G1}>").status_code == 200
    finally:
        assert update(server, f"DROP GRAPH <{G1}>").status_code == 200


def test_get_put_and_delete_agree_on_an_emptied_graph(server) -> None:
    url = f"{server.store}?graph={G1}"
    turtle = {"Content-Type": "text/turtle", **AUTH}
    assert requests.put(url, data=b"<urn:a> <urn:b> 1 .", headers=turtle,
                        timeout=60).status_code == 201
    assert update(server, f"CLEAR GRAPH <{G1}>").status_code == 200  # emptied, still there
    got = requests.get(url, headers={"Accept": "application/n-triples"}, timeout=30)
    assert got.status_code == 200 and got.text.strip() == ""
    assert requests.put(url, data=b"", headers=turtle, timeout=60).status_code == 204
    assert requests.get(url, timeout=30).status_code == 200  # an empty PUT keeps it
    assert requests.delete(url, headers=AUTH, timeout=60).status_code == 204
    assert requests.get(url, timeout=30).status_code == 404
    assert requests.delete(url, headers=AUTH, timeout=60).status_code == 404
    assert G1 not in graphs(server)


def _dataset(body: bytes, fmt: str) -> Dataset:
    ds = Dataset()
    with warnings.catch_warnings():  # rdflib's own TriG/N-Quads parsers use its old API
        warnings.simplefilter("ignore", DeprecationWarning)
        ds.parse(data=body, format=fmt)
    return ds


def _named(ds: Dataset) -> set[str]:
    return {str(g.identifier) for g in ds.graphs() if len(g) and isinstance(
        g.identifier, URIRef) and not str(g.identifier).startswith("urn:x-rdflib")}


@pytest.mark.parametrize("accept,fmt", [("application/trig", "trig"),
                                        ("application/n-quads", "nquads")])
def test_get_store_gives_the_whole_dataset(server, accept, fmt) -> None:
    r = requests.get(server.store, headers={"Accept": accept}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(accept)
    ds = _dataset(r.content, fmt)
    assert _named(ds) == {g for g in graphs(server)
                          if requests.get(server.sparql, timeout=30, params={
                              "query": f"ASK {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"}).json()["boolean"]}
    assert {"https://w3id.org/crinkkg/graph/facts", INFERRED} <= _named(ds)
    quads = requests.get(server.sparql, timeout=30, params={
        "query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"}).json()
    assert sum(len(g) for g in ds.graphs()) == int(
        quads["results"]["bindings"][0]["n"]["value"])
    assert b"urn:x-crinkkg:merge" not in r.content


def test_get_store_in_a_graph_format_is_a_406_naming_the_dataset_formats(server) -> None:
    for headers, params in (({"Accept": "text/turtle"}, {}), ({}, {"format": "jsonld"})):
        r = requests.get(server.store, headers=headers, params=params, timeout=30)
        assert r.status_code == 406 and "application/trig" in r.text
    assert requests.get(server.store, timeout=30).headers["Content-Type"].startswith(
        "text/turtle") is False  # no Accept: TriG, the dataset default


def test_post_trig_adds_quads_and_is_reasoned(server) -> None:
    trig = (f"@prefix crink: <https://w3id.org/crinkkg/ontology#> .\n"
            f"@prefix id: <https://w3id.org/crinkkg/id/> .\n"
            f"<{G1}> {{ id:t9 a crink:ArmsTransfer ; crink:supplier id:north-korea . }}\n"
            f"<{G2}> {{ id:t9 crink:recipient id:russia . }}\n")
    assert not ask(server, SUPPLIES)
    r = requests.post(server.store, data=trig.encode(), timeout=60,
                      headers={"Content-Type": "application/trig", **AUTH})
    assert r.status_code == 204, r.text
    try:
        assert {G1, G2} <= graphs(server)
        assert ask(server, SUPPLIES)  # re-reasoned over both graphs
        nquads = ("<urn:x> <urn:y> <urn:z> <http://example.org/g3> .\n<urn:x> <urn:y> "
                  '"1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
        r = requests.post(server.store, data=nquads.encode(), timeout=60,
                          headers={"Content-Type": "application/n-quads", **AUTH})
        assert r.status_code == 204, r.text
        assert ask(server, "ASK { GRAPH <http://example.org/g3> { <urn:x> <urn:y> <urn:z> } }")
        assert ask(server, "ASK { <urn:x> <urn:y> 1 }")
    finally:
        update(server, f"DROP SILENT GRAPH <{G1}> ; DROP SILENT GRAPH <{G2}> ; "
                       "DROP SILENT GRAPH <http://example.org/g3> ; "
                       "DELETE DATA { <urn:x> <urn:y> 1 }")
    assert not ask(server, SUPPLIES)


def test_post_to_store_follows_the_write_rules(server) -> None:
    trig = f"<{INFERRED}> {{ <urn:a> <urn:b> <urn:c> }}".encode()
    headers = {"Content-Type": "application/trig"}
    assert requests.post(server.store, data=trig, headers=headers,
                         timeout=30).status_code == 401
    r = requests.post(server.store, data=trig, headers={**headers, **AUTH}, timeout=60)
    assert r.status_code == 403 and "inferred graph" in r.text
    assert not ask(server, "ASK { <urn:a> <urn:b> <urn:c> }")
    bad = requests.post(server.store, data=b"<urn:a> { <urn:b> ", timeout=30,
                        headers={**headers, **AUTH})
    assert bad.status_code == 400
    # a graph format still creates a new graph, whose IRI the Location names
    r = requests.post(server.store, data=b"<urn:a> <urn:b> 2 .", timeout=60,
                      headers={"Content-Type": "text/turtle", **AUTH})
    assert r.status_code == 201 and r.headers["Location"].startswith(
        "https://w3id.org/crinkkg/graph/uploads/")
    assert requests.get(server.store, params={"graph": r.headers["Location"]},
                        timeout=30).status_code == 200
    assert update(server, f"DROP GRAPH <{r.headers['Location']}>").status_code == 200


def test_a_read_only_server_refuses_dataset_posts(tmp_path_factory) -> None:
    server = project_server(tmp_path_factory.getbasetemp())
    r = requests.post(server.store, data=b"<urn:g> { <urn:a> <urn:b> <urn:c> }",
                      headers={"Content-Type": "application/trig", **AUTH}, timeout=30)
    assert r.status_code == 403
    assert requests.get(server.store, headers={"Accept": "application/n-quads"},
                        timeout=30).status_code == 200
