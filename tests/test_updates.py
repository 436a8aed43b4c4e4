"""Updates over real HTTP: off by default, bearer token required, the inferred graph is
current before the response, nothing changes on refusal, the Graph Store Protocol writes
through the same path, and a restart keeps every update."""

from __future__ import annotations

import pytest
import requests
from servers import project_server, start_server
from test_build import make_project
from test_safety import Listener

TOKEN = "update-test-token-0123456789"
FACTS = "https://w3id.org/crinkkg/graph/data/facts"
SUPPLIES = "ASK { GRAPH <https://w3id.org/crinkkg/graph/inferred> " \
           "{ id:north-korea crink:supplies id:russia } }"
TRANSFER = (f"INSERT DATA {{ GRAPH <{FACTS}> {{ id:t7 a crink:ArmsTransfer ; "
            "crink:supplier id:north-korea ; crink:recipient id:russia } }")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("updates")
    make_project(root)
    return root


def start(project, *args: str, token: str | None = TOKEN):
    env = {"CRINKKG_UPDATE_TOKEN": token} if token else {}
    return start_server(project / ".crinkkg" / "store", "--enable-update", *args,
                        ontology=project / "ontology", data=project / "data", env=env)


@pytest.fixture(scope="module")
def server(project):
    with start(project) as handle:
        yield handle


def update(server, text: str, token: str | None = TOKEN) -> requests.Response:
    headers = {"Content-Type": "application/sparql-update", "Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(server.sparql, data=text.encode(), headers=headers, timeout=120)


def ask(server, text: str) -> bool:
    r = requests.get(server.sparql, params={"query": text}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["boolean"]


def test_updates_are_off_by_default(tmp_path_factory) -> None:
    server = project_server(tmp_path_factory.getbasetemp())
    r = update(server, "INSERT DATA { <http://a> <http://b> <http://c> }")
    assert r.status_code == 403
    assert r.json()["error"] == "updates-disabled" and "--enable-update" in r.json()["hint"]


def test_the_server_refuses_to_start_without_a_token(project) -> None:
    with pytest.raises(RuntimeError, match="no token"):
        start(project, token=None)


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789", ""])
def test_no_token_or_a_wrong_one_changes_nothing(server, token) -> None:
    r = update(server, "INSERT DATA { GRAPH <http://example.org/x> { id:x a crink:State } }",
               token=token)
    assert r.status_code == 401
    assert "WWW-Authenticate" in r.headers
    assert not ask(server, "ASK { GRAPH <http://example.org/x> { ?s ?p ?o } }")


def test_update_is_reasoned_before_the_response(server) -> None:
    assert not ask(server, SUPPLIES)
    r = update(server, TRANSFER)
    assert r.status_code == 200, r.text
    assert ask(server, SUPPLIES)  # the very next query sees the inferred triple
    shortcut = "ASK { id:north-korea crink:supplies id:russia }"
    r = requests.get(server.sparql, params={"query": shortcut, "view": "asserted"},
                     timeout=30)
    assert r.json()["boolean"] is False  # derived, never asserted


def test_refused_updates_change_nothing(server, listener_factory=Listener) -> None:
    before = requests.get(server.url + "/health", timeout=30).json()["triples"]
    r = update(server, "CLEAR GRAPH <https://w3id.org/crinkkg/graph/inferred>")
    assert r.status_code == 403 and r.json()["error"] == "update-refused"
    r = update(server, "INSERT DATA { id:t1 a crink:State }")  # a transfer cannot be a state
    assert r.status_code == 409 and r.json()["error"] == "inconsistent"
    r = update(server, "INSERT DATA { GRAPH <http://g> { <http://a> <http://b> ")
    assert r.status_code == 400 and r.json()["line"] == 1
    listener = listener_factory()
    try:
        r = update(server, f"LOAD <{listener.url}> INTO GRAPH <http://example.org/loaded>")
        assert r.status_code == 403 and r.json()["error"] == "load-refused"
        r = update(server, f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{listener.url}> "
                           "{ ?s ?p ?o } }")
        assert r.status_code == 403 and r.json()["error"] == "service-refused"
        assert listener.hits == []
    finally:
        listener.close()
    assert requests.get(server.url + "/health", timeout=30).json()["triples"] == before


def test_graph_store_writes(server) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    g = {"graph": "http://example.org/uploaded"}
    turtle = b"<http://example.org/a> <http://example.org/p> <http://example.org/b> ."
    r = requests.put(server.store, params=g, data=turtle, timeout=60,
                     headers={"Content-Type": "text/turtle"})
    assert r.status_code == 401
    r = requests.put(server.store, params=g, data=turtle, timeout=60,
                     headers={**auth, "Content-Type": "text/turtle"})
    assert r.status_code == 201, r.text
    r = requests.get(server.store, params=g, headers={"Accept": "application/n-triples"},
                     timeout=30)
    assert r.text.count("\n") == 1
    more = b"<http://example.org/c> <http://example.org/p> <http://example.org/d> ."
    r = requests.post(server.store, params=g, data=more, timeout=60,
                      headers={**auth, "Content-Type": "application/n-triples"})
    assert r.status_code == 204
    r = requests.get(server.store, params=g, headers={"Accept": "application/n-triples"},
                     timeout=30)
    assert r.text.count("\n") == 2
    bomb = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            b'<rdf:Description rdf:about="http://example.org/e">'
            b'<rdf:value>&b;</rdf:value></rdf:Description></rdf:RDF>')
    r = requests.post(server.store, params=g, data=bomb, timeout=60,
                      headers={**auth, "Content-Type": "application/rdf+xml",
                               "Accept": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "xml-dtd-refused"
    plain = (b'<?xml version="1.0"?><rdf:RDF '
             b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
             b'<rdf:Description rdf:about="http://example.org/e">'
             b'<rdf:value>x</rdf:value></rdf:Description></rdf:RDF>')
    r = requests.post(server.store, params=g, data=plain, timeout=60,
                      headers={**auth, "Content-Type": "application/rdf+xml"})
    assert r.status_code == 204, r.text
    r = requests.put(server.store, params={"graph": "https://w3id.org/crinkkg/graph/inferred"},
                     data=turtle, headers={**auth, "Content-Type": "text/turtle"}, timeout=60)
    assert r.status_code == 403
    r = requests.delete(server.store, params=g, headers=auth, timeout=60)
    assert r.status_code == 204
    assert requests.get(server.store, params=g, timeout=30).status_code == 404
    assert requests.delete(server.store, params=g, headers=auth, timeout=60).status_code == 404


def test_a_restart_keeps_the_updates(project, server) -> None:
    if not ask(server, SUPPLIES):
        assert update(server, TRANSFER).status_code == 200
    server.stop()
    with start(project) as again:
        assert ask(again, SUPPLIES)
        assert ask(again, "ASK { id:t7 a crink:ArmsTransfer }")
