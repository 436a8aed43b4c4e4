"""Three hostile inputs, over real HTTP against a real server: a flat chain of operators
(10,000 UNIONs, ``||`` or path steps: each used to kill a worker by stack overflow) is
refused before parsing; a chunked body past the limit is 413 on every route that reads a
body (a chunked graph-store PUT used to be read as empty); and a character XML 1.0
cannot carry never makes an XML answer that does not parse (406 naming the term)."""

from __future__ import annotations

import xml.dom.minidom

import pytest
import requests
from servers import generated_project, start_server

TOKEN = "chains-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Accept": "application/json"}
SUBJECT = "https://w3id.org/crinkkg/id/control-characters"
GRAPH = "http://example.org/controls"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    ontology, data, store = generated_project(tmp_path_factory.mktemp("chains"), 50)
    with start_server(store, "--enable-update", "--query-workers", "1",
                      ontology=ontology, data=data,
                      env={"CRINKKG_UPDATE_TOKEN": TOKEN}) as handle:
        yield handle


CHAINS = {
    "unions": "SELECT * WHERE { " + " UNION ".join(
        "{ ?s <http://example.org/p> ?o }" for _ in range(10_000)) + " }",
    "ors": "SELECT * WHERE { ?s ?p ?o FILTER(" + " || ".join(
        "?o = 1" for _ in range(10_000)) + ") }",
    "path steps": "SELECT * WHERE { ?s " + "/".join(
        "<http://example.org/p>" for _ in range(10_000)) + " ?o }",
    "binds": "SELECT * WHERE { " + " ".join(
        f"BIND({i} AS ?v{i})" for i in range(3000)) + " }",
}


@pytest.mark.parametrize("name", CHAINS)
def test_a_flat_chain_is_refused_before_parsing(server, name) -> None:
    r = requests.post(server.sparql, data={"query": CHAINS[name]}, headers=JSON, timeout=60)
    assert r.status_code == 400, (name, r.status_code, r.text[:300])
    body = r.json()
    assert body["error"] == "too-many-operators" and body["max_operators"] == 1000
    assert body["operators"] > 1000 and "--max-operators" in body["hint"]
    health = requests.get(server.url + "/health", timeout=30).json()
    assert health["worker_restarts"] == 0  # no worker was killed


def test_chains_in_updates_are_refused_and_large_insert_data_is_not(server) -> None:
    update = "DELETE { ?s ?p ?o } WHERE { " + " UNION ".join(
        "{ ?s <http://example.org/p> ?o }" for _ in range(10_000)) + " }"
    r = requests.post(server.sparql, data={"update": update}, headers={**AUTH, **JSON},
                      timeout=60)
    assert r.status_code == 400 and r.json()["error"] == "too-many-operators", r.text[:300]
    facts = " ".join(f"<http://example.org/bulk{i}> <http://example.org/p> {i} ."
                     for i in range(3000))
    r = requests.post(server.sparql, data={"update": f"INSERT DATA {{ GRAPH "
                                           f"<http://example.org/bulk> {{ {facts} }} }}"},
                      headers={**AUTH, **JSON}, timeout=120)
    assert r.status_code == 200, r.text[:300]


def test_signed_numbers_in_values_are_data_not_operators(server) -> None:
    numbers = " ".join(f"-{i}.5" for i in range(2000))
    r = requests.post(server.sparql, headers=JSON, timeout=60,
                      data={"query": f"SELECT (COUNT(*) AS ?n) {{ VALUES ?x {{ {numbers} }} }}"})
    assert r.status_code == 200, r.text
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "2000"


def _chunked(first: bytes, megabytes: int = 50):
    yield first
    for _ in range(megabytes):
        yield b"#" + b"x" * (1 << 20) + b"\n"


BODIES = [
    ("POST", "/sparql", {"Content-Type": "application/sparql-query"}, b"ASK {}\n"),
    ("POST", "/sparql", {"Content-Type": "application/sparql-update", **AUTH},
     b"INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }\n"),
    ("POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded"},
     b"query=ASK%7B%7D&pad="),
    ("POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded", **AUTH},
     b"update=INSERT%20DATA%7B%7D&pad="),
    ("PUT", f"/store?graph={GRAPH}/big", {"Content-Type": "text/turtle", **AUTH},
     b"<http://example.org/a> <http://example.org/b> 1 .\n"),
    ("POST", f"/store?graph={GRAPH}/big", {"Content-Type": "text/turtle", **AUTH},
     b"<http://example.org/a> <http://example.org/b> 1 .\n"),
    ("POST", "/store", {"Content-Type": "application/trig", **AUTH},
     b"<http://example.org/a> <http://example.org/b> 1 .\n"),
]


@pytest.mark.parametrize("method,path,headers,first", BODIES,
                         ids=[f"{m} {p.split('?')[0]} {h['Content-Type']}"
                              for m, p, h, _ in BODIES])
def test_an_oversized_chunked_body_is_413(server, method, path, headers, first) -> None:
    r = requests.request(method, server.url + path, data=_chunked(first),
                         headers={**headers, **JSON}, timeout=120)
    assert r.status_code == 413, (r.status_code, r.text[:300])
    assert r.json()["error"] == "too-large"


def test_a_small_chunked_graph_store_put_keeps_its_data(server) -> None:
    """It used to be read as an empty body: the graph was replaced by nothing."""
    graph = f"{GRAPH}/chunked"
    r = requests.put(f"{server.store}?graph={graph}", headers={
        "Content-Type": "text/turtle", **AUTH},
        data=iter([b"<http://example.org/a> <http://example.org/b> 42 .\n"]), timeout=60)
    assert r.status_code in (200, 201, 204), r.text
    got = requests.get(f"{server.store}?graph={graph}",
                       headers={"Accept": "application/n-triples"}, timeout=60)
    assert '"42"' in got.text, got.text


@pytest.fixture(scope="module")
def controls(server):
    """A literal holding U+0001 and U+FFFE, written by an update (as a fuzzer did)."""
    update = (f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{SUBJECT}> <http://example.org/p> '
              f'"a\\u0001b\\uFFFEc" . <{SUBJECT}> <http://example.org/q> "fine" }} }}')
    r = requests.post(server.sparql, data={"update": update}, headers=AUTH, timeout=120)
    assert r.status_code == 200, r.text
    return server


def _q(text: str) -> str:
    return "/sparql?query=" + requests.utils.quote(text)


RDFXML = "application/rdf+xml"
XML_ANSWERS = [
    (f"/store?graph={GRAPH}", RDFXML),
    ("/store?default", RDFXML),
    (_q("CONSTRUCT WHERE { ?s <http://example.org/p> ?o }"), RDFXML),
    (_q(f"DESCRIBE <{SUBJECT}>"), RDFXML),
    (_q("SELECT ?o WHERE { ?s <http://example.org/p> ?o }"), "application/sparql-results+xml"),
    (_q(f"SELECT * WHERE {{ <{SUBJECT}> ?p ?o }}"), "application/sparql-results+xml"),
    ("/id/control-characters", RDFXML),
    ("/id/control-characters.rdf", "*/*"),
]


@pytest.mark.parametrize("path,accept", XML_ANSWERS, ids=[p[:40] for p, _ in XML_ANSWERS])
def test_xml_answers_refuse_characters_xml_cannot_carry(controls, path, accept) -> None:
    r = requests.get(controls.url + path, headers={"Accept": accept}, timeout=60)
    if r.status_code == 200:  # whatever is answered must parse
        xml.dom.minidom.parseString(r.content)
        pytest.fail(f"{path} answered 200 with the control character dropped or escaped")
    assert r.status_code == 406, (r.status_code, r.text[:300])
    assert "not-representable" in r.text and "U+0001" in r.text
    assert "a\\x01b" in r.text  # the term, shown escaped


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples",
                                    "application/ld+json"])
def test_other_formats_carry_the_same_characters(controls, accept) -> None:
    r = requests.get(f"{controls.store}?graph={GRAPH}", headers={"Accept": accept},
                     timeout=60)
    assert r.status_code == 200, r.text
