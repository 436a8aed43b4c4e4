"""The SPARQL endpoint over real HTTP: every format, negotiation, every error path,
the browser form, CORS, /health and /metrics."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest
import requests
from servers import project_server

SELECT = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s LIMIT 3"
CONSTRUCT = "CONSTRUCT { ?s rdfs:label ?label } WHERE { ?s rdfs:label ?label } LIMIT 3"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


def get(server, query: str | None = None, accept: str | None = None, **params):
    if query is not None:
        params["query"] = query
    headers = {"Accept": accept} if accept else {}
    return requests.get(server.sparql, params=params, headers=headers, timeout=30)


@pytest.mark.parametrize("accept,media,fmt", [
    ("application/sparql-results+json", "application/sparql-results+json",
     ox.QueryResultsFormat.JSON),
    ("application/sparql-results+xml", "application/sparql-results+xml",
     ox.QueryResultsFormat.XML),
    ("text/csv", "text/csv", ox.QueryResultsFormat.CSV),
    ("text/tab-separated-values", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
])
def test_select_formats(server, accept, media, fmt) -> None:
    r = get(server, SELECT, accept)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == media
    assert "Accept" in r.headers["Vary"]
    if fmt == ox.QueryResultsFormat.CSV:  # lossy: oxigraph does not read it back
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == ["s", "label"] and len(rows) == 4
    else:
        assert len(list(ox.parse_query_results(r.content, format=fmt))) == 3


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_ask_formats(server, fmt) -> None:
    r = get(server, "ASK { ?s ?p ?o }", format=fmt)
    if fmt in ("csv", "tsv"):  # no CSV/TSV form every client reads right: test_ask_results
        assert r.status_code == 406 and "sparql-results+json" in r.text
    else:
        assert r.status_code == 200
        assert b"true" in r.content


@pytest.mark.parametrize("accept,fmt", [
    ("text/turtle", ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/n-quads", ox.RdfFormat.N_QUADS), ("application/trig", ox.RdfFormat.TRIG),
    ("application/ld+json", ox.RdfFormat.JSON_LD), ("application/rdf+xml", ox.RdfFormat.RDF_XML),
])
def test_graph_formats(server, accept, fmt) -> None:
    for query in (CONSTRUCT, "DESCRIBE id:iran"):
        r = get(server, query, accept)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].split(";")[0] == accept
        assert len(list(ox.parse(r.content, format=fmt))) >= 1


def test_q_values_and_defaults(server) -> None:
    r = get(server, SELECT, "text/csv;q=0.4, application/sparql-results+xml;q=0.9")
    assert r.headers["Content-Type"].startswith("application/sparql-results+xml")
    assert get(server, SELECT, "*/*").headers["Content-Type"].startswith(
        "application/sparql-results+json")
    assert get(server, CONSTRUCT).headers["Content-Type"].startswith("text/turtle")
    r = get(server, SELECT, "application/sparql-results+json;q=0, */*;q=0.5")
    assert not r.headers["Content-Type"].startswith("application/sparql-results+json")


def test_format_parameter_overrides_accept(server) -> None:
    r = get(server, SELECT, "application/sparql-results+xml", format="csv")
    assert r.headers["Content-Type"].startswith("text/csv")
    r = get(server, CONSTRUCT, format="nt")
    assert r.headers["Content-Type"].startswith("application/n-triples")


def test_406_when_nothing_is_acceptable(server) -> None:
    r = get(server, SELECT, "image/png")
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.text
    # format=csv cannot write a CONSTRUCT, so Accept decides (and refuses here)
    r = get(server, CONSTRUCT, "image/png", format="csv")
    assert r.status_code == 406
    r = get(server, CONSTRUCT, "application/json", format="csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/ld+json")


def test_query_by_post_form_and_direct(server) -> None:
    r = requests.post(server.sparql, data={"query": SELECT}, timeout=30)
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 3
    r = requests.post(server.sparql, data=SELECT.encode(),
                      headers={"Content-Type": "application/sparql-query"}, timeout=30)
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 3


def test_views(server) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    counts = {view: int(get(server, query, view=view).json()["results"]["bindings"][0]["n"]
                        ["value"]) for view in ("all", "asserted", "inferred")}
    assert counts["asserted"] > 0 and counts["inferred"] > 0
    assert get(server, query, view="bogus").status_code == 400


def test_syntax_error_says_where_and_what_to_do(server) -> None:
    r = get(server, "SELECT ?s WHERE {\n  ?s ?p \n}", "application/json")
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "syntax-error"
    assert body["line"] == 3 and body["column"] in (1, 2)
    assert f"line 3, column {body['column']}" in body["message"] and body["hint"]
    r = get(server, "SELECT ?s WHERE {", "text/plain")
    assert r.status_code == 400 and r.headers["Content-Type"].startswith("text/plain")
    assert "line 1, column 18" in r.text and "hint:" in r.text


@pytest.mark.parametrize("method,kwargs,status", [
    ("PUT", {"params": {"query": "ASK {}"}}, 405),
    ("GET", {"params": {"query": ["ASK {}", "ASK {}"]}}, 400),
    ("GET", {"params": {"update": "CLEAR ALL"}}, 405),
    ("POST", {"data": b"ASK {}", "headers": {"Content-Type": "text/plain"}}, 415),
    ("POST", {"data": b"query=ASK%20%7B%7D"}, 415),
    ("POST", {"data": "ASK {}".encode("utf-16"),
              "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"}}, 415),
    ("POST", {"data": b"ASK { \xff }", "headers": {"Content-Type": "application/sparql-query"}},
     400),
    ("POST", {"data": {"query": "ASK {}", "update": "CLEAR ALL"}}, 400),
    ("POST", {"data": b"", "headers": {"Content-Type": "application/sparql-query"}}, 400),
    ("GET", {"params": {"query": "ASK {}", "default-graph-uri": "not an iri"}}, 400),
])
def test_malformed_requests(server, method, kwargs, status) -> None:
    r = requests.request(method, server.sparql, timeout=30, **kwargs)
    assert r.status_code == status, r.text
    assert "hint" in r.text or r.status_code == 405


def test_browser_gets_a_query_page(server) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = requests.get(server.sparql, headers={"Accept": browser}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "<form" in r.text or "<textarea" in r.text
    r = get(server, SELECT, browser)
    assert r.headers["Content-Type"].startswith("text/html")
    r = get(server, SELECT, browser, format="json")
    assert r.headers["Content-Type"].startswith("application/sparql-results+json")


def test_cors(server) -> None:
    r = requests.get(server.sparql, params={"query": "ASK {}"},
                     headers={"Origin": "https://example.org"}, timeout=30)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    r = requests.options(server.sparql, headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"}, timeout=30)
    assert r.status_code == 204
    assert "POST" in r.headers["Access-Control-Allow-Methods"]


def test_health_and_metrics(server) -> None:
    health = requests.get(server.url + "/health", timeout=30).json()
    assert health["status"] == "ok" and health["triples"] > 0
    assert health["triples"] == health["asserted_triples"] + health["inferred_triples"] \
        + health["support_triples"]
    get(server, "SELECT ?s WHERE {")  # one syntax error
    r = requests.get(server.url + "/metrics", timeout=30)
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert 'crinkkg_http_requests_total{endpoint="/sparql",method="GET",status="200"}' in text
    assert 'crinkkg_errors_total{kind="syntax-error"}' in text
    assert "crinkkg_http_request_duration_seconds_bucket" in text
    assert "crinkkg_query_timeouts_total" in text


def test_graph_store_reads(server) -> None:
    r = requests.get(server.store, params={"graph": "https://w3id.org/crinkkg/graph/inferred"},
                     headers={"Accept": "application/n-triples"}, timeout=30)
    assert r.status_code == 200 and len(list(ox.parse(r.content,
                                                      format=ox.RdfFormat.N_TRIPLES))) > 0
    r = requests.get(server.store, params={"graph": "http://example.org/nothing"}, timeout=30)
    assert r.status_code == 404
    r = requests.get(server.store, params={"default": ""}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    r = requests.put(server.store, params={"graph": "http://example.org/g"}, data=b"",
                     headers={"Content-Type": "text/turtle"}, timeout=30)
    assert r.status_code == 403 and "read-only" in r.text


def test_select_json_is_standard(server) -> None:
    body = json.loads(get(server, SELECT).content)
    assert body["head"]["vars"] == ["s", "label"]


def test_a_protocol_dataset_is_exactly_the_graphs_it_names(server) -> None:
    """SPARQL 1.1 Protocol 2.1.4: default-graph-uri alone leaves no named graph;
    named-graph-uri alone an empty default graph."""
    china = "https://w3id.org/crinkkg/graph/data/china"
    named = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    default = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"

    def n(query: str, **params) -> int:
        r = get(server, query, "application/sparql-results+json", **params)
        assert r.status_code == 200, r.text
        return int(r.json()["results"]["bindings"][0]["n"]["value"])

    assert n(named) > 5  # no dataset given: every graph is named
    assert n(named, **{"default-graph-uri": china}) == 0
    assert n(default, **{"default-graph-uri": china}) > 0
    assert n(named, **{"named-graph-uri": china}) == 1
    assert n(default, **{"named-graph-uri": china}) == 0
