"""Hostile input over real HTTP: Host headers, IRI parameters, error bodies for odd IRIs,
compressed request bodies, links to dangerous schemes, security headers and CORS for
writes. Each case is what an adversarial probe sent to the server, or what a browser
would do with the answer."""

from __future__ import annotations

import gzip
import http.client
import json
import zlib
from urllib.parse import quote, urlsplit

import pyoxigraph as ox
import pytest
import requests
from servers import empty_project, start_server

TOKEN = "hostile-test-token-0123456789"
BASE = "https://w3id.org/crinkkg/"
DATA = f"""@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{BASE}id/evil> rdfs:label "Evil links" ;
    rdfs:seeAlso <javascript:alert(1)> , <data:text/html,boom> , <https://example.org/ok> ,
                 <mailto:someone@example.org> , <vbscript:msgbox> .
<{BASE}id/ok> rdfs:label "An ordinary resource" ; rdfs:seeAlso <{BASE}id/evil> .
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    ontology, data, store = empty_project(root)
    (data / "links.ttl").write_text(DATA)
    handle = start_server(store, "--enable-update", "--allowed-host", "kg.example.org",
                          ontology=ontology, data=data, env={"CRINKKG_UPDATE_TOKEN": TOKEN})
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def public(tmp_path_factory, server):
    """The same store behind --public-url, with one origin allowed to write."""
    store = urlsplit(server.url)  # noqa: F841 (the first server built the store)
    root = tmp_path_factory.getbasetemp() / "hostile0"
    handle = start_server(root / "store", "--enable-update",
                          "--public-url", "https://kg.example.org/base",
                          "--cors-write-origin", "https://editor.example.org",
                          ontology=root / "ontology", data=root / "data",
                          env={"CRINKKG_UPDATE_TOKEN": TOKEN})
    yield handle
    handle.stop()


def raw(server, path: str, hosts: list[str], method: str = "GET",
        headers: dict | None = None, body: bytes | None = None) -> tuple[int, dict, bytes]:
    """A request with exactly the Host headers given (none, one, several, malformed)."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for h in hosts:
        conn.putheader("Host", h)
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    r = conn.getresponse()
    data = r.read()
    result = (r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    conn.close()
    return result


# -- Host (item 12) ---------------------------------------------------------------------------

@pytest.mark.parametrize("hosts", [
    ["a.example.org", "b.example.org"],        # repeated
    ["localhost, evil.example.org"],           # a list
    ["evil.example.org"],                      # not listed
    ["local host"], ["<script>"], ["x>y"], ["localhost:99999"], ["localhost:port"],
    ["xn--a.example.org"], ["xn--zz-.org"],    # IDNA-invalid
    ["-bad-.example.org"], ["a..b"], ["[::g]"], [""],
])
@pytest.mark.parametrize("path", ["/sparql?query=ASK%7B%7D", "/id/ok", "/", "/sparql",
                                  "/store?default"])
def test_bad_hosts_are_400(server, hosts, path) -> None:
    status, headers, body = raw(server, path, hosts, headers={"Accept": "application/json"})
    assert status == 400, (hosts, path, body)
    problem = json.loads(body)
    assert problem["error"] in ("bad-host", "unknown-host")
    assert problem["hint"]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "LOCALHOST", "kg.example.org",
                                  "kg.example.org.", "[::1]"])
def test_listed_hosts_are_answered(server, host) -> None:
    port = urlsplit(server.url).port
    status, _, body = raw(server, "/sparql?query=ASK%7B%7D", [f"{host}:{port}"],
                          headers={"Accept": "application/sparql-results+json"})
    assert status == 200, body
    assert json.loads(body)["boolean"] is True


def test_host_lands_only_checked_in_iris(server) -> None:
    """The endpoint URL (base of queries and updates) and the service description come
    from a checked Host; with --public-url from that, whatever the Host says."""
    port = urlsplit(server.url).port
    q = quote("SELECT ?b WHERE { BIND(IRI('x') AS ?b) }")
    status, _, body = raw(server, f"/sparql?query={q}", [f"kg.example.org:{port}"],
                          headers={"Accept": "application/sparql-results+json"})
    assert status == 200
    value = json.loads(body)["results"]["bindings"][0]["b"]["value"]
    assert value == f"http://kg.example.org:{port}/x"


def test_public_url_is_the_base(public) -> None:
    port = urlsplit(public.url).port
    q = quote("SELECT ?b WHERE { BIND(IRI('x') AS ?b) }")
    status, _, body = raw(public, f"/sparql?query={q}", [f"localhost:{port}"],
                          headers={"Accept": "application/sparql-results+json"})
    assert json.loads(body)["results"]["bindings"][0]["b"]["value"] == \
        "https://kg.example.org/base/x"
    r = requests.get(public.sparql, headers={"Accept": "text/turtle"}, timeout=30)
    assert "<https://kg.example.org/base/sparql>" in r.text
    status, _, _ = raw(public, "/id/ok", [f"kg.example.org:{port}"])
    assert status == 200  # the public URL's host is listed


def test_bad_public_url_is_refused_at_start(tmp_path) -> None:
    ontology, data, store = empty_project(tmp_path)
    with pytest.raises(RuntimeError, match="public-url"):
        start_server(store, "--public-url", "https://kg.example.org/<x>",
                     ontology=ontology, data=data, timeout=30)


# -- IRI parameters (item 13) -----------------------------------------------------------------

BAD_IRIS = ["", "relative/graph", "graph", "http://example.org/a b", "http://example.org/\x01",
            "http://example.org/\n", "http://example.org/>", "<http://example.org/>",
            "http://example.org/%zz", "http://example.org/\x7f", "{}"]


@pytest.mark.parametrize("iri", BAD_IRIS)
@pytest.mark.parametrize("param", ["default-graph-uri", "named-graph-uri"])
def test_bad_dataset_iris_are_400(server, iri, param) -> None:
    for method in ("GET", "POST"):
        if method == "GET":
            r = requests.get(server.sparql, params={"query": "ASK {}", param: iri}, timeout=30)
        else:
            r = requests.post(server.sparql, data={"query": "ASK {}", param: iri}, timeout=30)
        assert r.status_code == 400, (method, iri, r.text)
        assert "bad-graph-iri" in r.text


@pytest.mark.parametrize("iri", BAD_IRIS)
def test_bad_using_graph_iris_are_400(server, iri) -> None:
    r = requests.post(server.sparql, data={"update": "INSERT DATA {}", "using-graph-uri": iri},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert r.status_code == 400, (iri, r.text)


@pytest.mark.parametrize("iri", BAD_IRIS)
def test_bad_graph_store_iris_are_400(server, iri) -> None:
    for method in ("GET", "DELETE", "PUT"):
        r = requests.request(method, server.store, params={"graph": iri}, data=b"",
                             headers={"Authorization": f"Bearer {TOKEN}",
                                      "Content-Type": "text/turtle"}, timeout=30)
        assert r.status_code == 400, (method, iri, r.text)


def test_good_iris_still_work(server) -> None:
    r = requests.get(server.sparql, params={"query": "ASK { ?s ?p ?o }",
                                            "default-graph-uri": "urn:x-nothing:é"},
                     headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert r.status_code == 200 and r.json()["boolean"] is False


# -- error bodies valid in their type (item 18) -----------------------------------------------

ODD_NAMES = ["a>b", "a%3Eb", "a%00b", "a%01%02", "a--b-", "a%0D%0Ab", "%E2%80%A8x",
             "a]]>b", "a%22b", "%F0%9F%92%A9", "a%C2%85b", "a%5Cb"]


@pytest.mark.parametrize("name", ODD_NAMES)
@pytest.mark.parametrize("accept,fmt", [
    ("text/turtle", ox.RdfFormat.TURTLE), ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    ("application/n-triples", ox.RdfFormat.N_TRIPLES), ("application/trig", ox.RdfFormat.TRIG),
    ("application/n-quads", ox.RdfFormat.N_QUADS), ("application/ld+json", ox.RdfFormat.JSON_LD),
])
def test_404_bodies_parse_in_their_type(server, name, accept, fmt) -> None:
    r = requests.get(f"{server.url}/id/{name}", headers={"Accept": accept}, timeout=30)
    assert r.status_code == 404, r.text
    assert r.headers["Content-Type"].split(";")[0] == accept
    assert list(ox.parse(r.content, format=fmt)) == []  # valid, and empty


@pytest.mark.parametrize("name", ODD_NAMES)
def test_404_pages_escape_the_iri(server, name) -> None:
    r = requests.get(f"{server.url}/id/{name}", headers={"Accept": "text/html"}, timeout=30)
    assert r.status_code == 404
    assert "<b" not in r.text.split("<main", 1)[-1].replace("<br", "")  # nothing unescaped


# -- compressed request bodies (item 18) ------------------------------------------------------

def test_gzip_query_body_is_decoded(server) -> None:
    body = gzip.compress(b"ASK { ?s ?p ?o }")
    for ctype, data in (("application/sparql-query", body),
                        ("application/x-www-form-urlencoded",
                         gzip.compress(b"query=ASK+%7B+%3Fs+%3Fp+%3Fo+%7D"))):
        r = requests.post(server.sparql, data=data, timeout=30, headers={
            "Content-Type": ctype, "Content-Encoding": "gzip",
            "Accept": "application/sparql-results+json"})
        assert r.status_code == 200, r.text
        assert r.json()["boolean"] is True


def test_gzip_update_and_graph_store_bodies_are_decoded(server) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    graph = "http://example.org/gz"
    r = requests.put(server.store, params={"graph": graph}, timeout=30,
                     data=gzip.compress(b"<http://example.org/s> <http://example.org/p> 1 ."),
                     headers={**auth, "Content-Type": "text/turtle", "Content-Encoding": "gzip"})
    assert r.status_code in (201, 204), r.text
    r = requests.post(server.sparql, timeout=30, data=gzip.compress(
        f"INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/s> <http://example.org/p> 2 }} }}"
        .encode()), headers={**auth, "Content-Type": "application/sparql-update",
                             "Content-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    r = requests.get(server.store, params={"graph": graph},
                     headers={"Accept": "application/n-triples"}, timeout=30)
    assert len(list(ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES))) == 2


@pytest.mark.parametrize("coding,data,status", [
    ("br", b"\x0b\x02\x80ASK {}\x03", 415),
    ("deflate", zlib.compress(b"ASK {}"), 415),
    ("gzip, gzip", gzip.compress(gzip.compress(b"ASK {}")), 415),
    ("compress", b"ASK {}", 415),
    ("gzip", b"ASK { ?s ?p ?o }", 400),                  # declared gzip, sent plain
    ("gzip", gzip.compress(b"ASK { ?s ?p ?o }")[:-6], 400),  # truncated
])
def test_other_or_broken_encodings_are_refused(server, coding, data, status) -> None:
    r = requests.post(server.sparql, data=data, timeout=30, headers={
        "Content-Type": "application/sparql-query", "Content-Encoding": coding,
        "Accept": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["hint"]


def test_gzip_bomb_is_413(server) -> None:
    bomb = gzip.compress(b"#" * 50_000_000)  # 50 MB of comment in ~50 kB
    r = requests.post(server.sparql, data=bomb, timeout=60, headers={
        "Content-Type": "application/sparql-query", "Content-Encoding": "gzip"})
    assert r.status_code == 413, r.text


# -- pages: links and headers (item 17) -------------------------------------------------------

def test_only_http_and_mailto_iris_become_links(server) -> None:
    r = requests.get(server.url + "/id/evil", headers={"Accept": "text/html"}, timeout=30)
    assert r.status_code == 200
    page = r.text
    for scheme in ("javascript:", "data:", "vbscript:"):
        assert f'href="{scheme}' not in page.lower()
        assert scheme in page  # shown, as text
    assert 'href="https://example.org/ok"' in page
    assert 'href="mailto:someone@example.org"' in page


@pytest.mark.parametrize("path,accept", [("/", "text/html"), ("/id/ok", "text/html"),
                                         ("/ontology", "text/html"), ("/sparql", "text/html"),
                                         ("/id/nothing", "text/html"),
                                         ("/graph/data/links", "text/html")])
def test_pages_send_security_headers(server, path, accept) -> None:
    r = requests.get(server.url + path, headers={"Accept": accept}, timeout=30)
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"]
    assert "<script>" not in r.text and "<style" not in r.text and " style=" not in r.text
    assert " onclick=" not in r.text and " onload=" not in r.text


@pytest.mark.parametrize("path", ["/sparql?query=ASK%7B%7D", "/id/ok", "/health",
                                  "/static/crinkkg.css", "/id/nothing"])
def test_every_response_says_nosniff(server, path) -> None:
    r = requests.get(server.url + path, headers={"Accept": "text/turtle"}, timeout=30)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"]


# -- CORS never opens writes unless configured (item 17) -----------------------------------

@pytest.mark.parametrize("path,method", [("/sparql", "POST"), ("/store", "PUT"),
                                         ("/store", "DELETE"), ("/store", "POST")])
def test_preflight_does_not_open_writes(server, path, method) -> None:
    r = requests.options(server.url + path, timeout=30, headers={
        "Origin": "https://attacker.example", "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type"})
    allowed_methods = r.headers.get("Access-Control-Allow-Methods", "")
    allowed_headers = r.headers.get("Access-Control-Allow-Headers", "").lower()
    assert "authorization" not in allowed_headers
    assert "PUT" not in allowed_methods and "DELETE" not in allowed_methods


def test_write_responses_are_not_shared_cross_origin(server) -> None:
    r = requests.post(server.sparql, timeout=30, data="INSERT DATA { }", headers={
        "Origin": "https://attacker.example", "Content-Type": "application/sparql-update",
        "Authorization": f"Bearer {TOKEN}"})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = requests.get(server.sparql, params={"query": "ASK {}"},
                     headers={"Origin": "https://attacker.example"}, timeout=30)
    assert r.headers["Access-Control-Allow-Origin"] == "*"  # reads stay open


def test_configured_write_origin_is_allowed(public) -> None:
    r = requests.options(public.store, timeout=30, headers={
        "Origin": "https://editor.example.org", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert "PUT" in r.headers["Access-Control-Allow-Methods"]
    assert "authorization" in r.headers["Access-Control-Allow-Headers"].lower()
    r = requests.options(public.store, timeout=30, headers={
        "Origin": "https://attacker.example", "Access-Control-Request-Method": "PUT"})
    assert "PUT" not in r.headers.get("Access-Control-Allow-Methods", "")


@pytest.mark.parametrize("accept,media", [("text/html", "text/html"),
                                          ("application/json", "application/json"),
                                          ("text/turtle", "text/plain")])
def test_unrouted_paths_are_404_in_a_type_that_parses(server, accept, media) -> None:
    r = requests.get(server.url + "/no/such/page%0A", headers={"Accept": accept}, timeout=30)
    assert r.status_code == 404
    assert r.headers["Content-Type"].split(";")[0] == media
    if media == "application/json":
        assert r.json()["error"] == "not-found"


def test_allowed_hosts_from_settings() -> None:
    from crinkkg.settings import Settings
    from crinkkg.web.http.guard import allowed_hosts

    s = Settings.from_env({"CRINKKG_ALLOWED_HOSTS": "a.example.org, B.example.org",
                           "CRINKKG_PUBLIC_URL": "https://kg.example.org/x"}, host="10.0.0.5")
    assert allowed_hosts(s) == {"localhost", "127.0.0.1", "::1", "a.example.org",
                                "b.example.org", "kg.example.org", "10.0.0.5"}
    assert allowed_hosts(s.with_(allowed_hosts=("*",))) is None
    assert "0.0.0.0" not in allowed_hosts(s.with_(host="0.0.0.0"))


@pytest.mark.parametrize("value", ["a.example.org, b.example.org", "local host", "<script>",
                                   "x>y", "localhost:99999", "localhost:port", "xn--a.org",
                                   "xn--zz-.org", "-bad-.example.org", "a..b", "[::g]", "",
                                   "a" * 64 + ".org", "é.example.org", "a/b", "a@b"])
def test_malformed_hosts_are_refused_even_when_any_name_is_allowed(value) -> None:
    from crinkkg.web.http.guard import host_name

    with pytest.raises(ValueError):
        host_name(value)
