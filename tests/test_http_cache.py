"""HTTP caching and compression over real HTTP: ETag and Last-Modified tied to the store
version on every cacheable GET, 304 on revalidation (without running the query again),
a new tag after an update, no validators for answers that change by themselves, and
gzip above a small size when the client accepts it."""

from __future__ import annotations

import gzip
import http.client
import re
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from servers import empty_project, start_server

TOKEN = "cache-test-token-0123456789"
TURTLE = "text/turtle, */*;q=0.1"
QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
PATHS = [f"/sparql?{urlencode({'query': QUERY})}", "/id/thing", "/ontology", "/",
         "/sparql", "/store?default", "/id/thing.ttl"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    ontology, data, store = empty_project(root)
    lines = [f'<https://w3id.org/crinkkg/id/thing> <http://www.w3.org/2000/01/rdf-schema#label> '
             f'"thing number {i} with a label long enough to compress" .' for i in range(60)]
    (data / "things.ttl").write_text("\n".join(lines) + "\n")
    (ontology / "crink.ttl").write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "<https://w3id.org/crinkkg/ontology> a owl:Ontology ;\n"
        "  owl:versionIRI <https://w3id.org/crinkkg/ontology/0.1.0> .\n")
    handle = start_server(store, "--enable-update", ontology=ontology, data=data,
                          env={"CRINKKG_UPDATE_TOKEN": TOKEN})
    yield handle
    handle.stop()


def get(server, path: str, **headers: str) -> requests.Response:
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    return requests.get(server.url + path, headers=headers, timeout=30)


def queries_run(server) -> int:
    text = requests.get(server.url + "/metrics", timeout=30).text
    return sum(int(n) for n in re.findall(r'crinkkg_queries_total\{outcome="ok"\} (\d+)', text))


@pytest.mark.parametrize("path", PATHS)
def test_validators_and_304(server, path) -> None:
    r = get(server, path, Accept=TURTLE)
    assert r.status_code == 200, r.text
    etag, modified = r.headers["ETag"], r.headers["Last-Modified"]
    assert etag.startswith('W/"') and r.headers["Cache-Control"] == "no-cache"
    again = get(server, path, Accept=TURTLE, If_None_Match=etag)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert get(server, path, Accept=TURTLE, If_Modified_Since=modified).status_code == 304
    assert get(server, path, Accept=TURTLE,
               If_None_Match='W/"something-else"').status_code == 200
    other = get(server, path, Accept="application/ld+json")
    if other.status_code == 200:
        assert other.headers["ETag"] != etag  # another representation, another tag


def test_304_does_not_run_the_query(server) -> None:
    path = PATHS[0]
    etag = get(server, path).headers["ETag"]
    before = queries_run(server)
    for _ in range(3):
        assert get(server, path, If_None_Match=etag).status_code == 304
    assert queries_run(server) == before
    get(server, path)
    assert queries_run(server) == before + 1


def test_an_update_changes_the_tag(server) -> None:
    path = "/id/thing"
    r = get(server, path, Accept=TURTLE)
    etag = r.headers["ETag"]
    u = requests.post(server.sparql, timeout=60, data={
        "update": "INSERT DATA { GRAPH <http://example.org/new> { "
                  "<https://w3id.org/crinkkg/id/thing> <http://example.org/p> 1 } }"},
        headers={"Authorization": f"Bearer {TOKEN}"})
    assert u.status_code == 200, u.text
    assert "ETag" not in u.headers
    r = get(server, path, Accept=TURTLE, If_None_Match=etag)
    assert r.status_code == 200 and "example.org/p" in r.text
    assert r.headers["ETag"] != etag


@pytest.mark.parametrize("query", ["SELECT (NOW() AS ?t) {}", "SELECT (RAND() AS ?r) {}",
                                   "SELECT (UUID() AS ?u) {}", "SELECT (struuid () AS ?u) {}"])
def test_volatile_queries_are_not_cached(server, query) -> None:
    r = get(server, "/sparql?" + urlencode({"query": query}))
    assert r.status_code == 200
    assert "ETag" not in r.headers and "Last-Modified" not in r.headers
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/health", "/metrics", "/id/nothing",
                                  "/sparql?query=SELECT"])
def test_no_validators_on_operations_and_errors(server, path) -> None:
    r = get(server, path)
    assert "ETag" not in r.headers


def raw_get(server, path: str, headers: dict) -> tuple[int, dict, bytes]:
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    conn.close()
    return out


@pytest.mark.parametrize("path,accept", [
    (PATHS[0], "application/sparql-results+json"), (PATHS[0], "text/csv"),
    ("/id/thing", "text/turtle"), ("/id/thing", "application/ld+json"),
    ("/", "text/html"), ("/store?default", "application/n-triples"),
    ("/static/crinkkg.css", "text/css")])
def test_gzip_when_accepted(server, path, accept) -> None:
    status, plain_headers, plain = raw_get(server, path, {"Accept": accept,
                                                          "Accept-Encoding": "identity"})
    assert status == 200 and len(plain) >= 1024
    assert "content-encoding" not in plain_headers
    status, headers, packed = raw_get(server, path, {"Accept": accept,
                                                     "Accept-Encoding": "gzip, deflate"})
    assert headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in headers["vary"]
    assert int(headers["content-length"]) == len(packed) < len(plain)
    assert gzip.decompress(packed) == plain
    status, headers, _ = raw_get(server, path, {"Accept": accept,
                                                "Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in headers


def test_small_answers_are_not_compressed(server) -> None:
    status, headers, body = raw_get(server, "/sparql?" + urlencode({"query": "ASK {}"}),
                                    {"Accept-Encoding": "gzip"})
    assert status == 200 and len(body) < 1024
    assert "content-encoding" not in headers


def test_head_has_validators_and_no_body(server) -> None:
    r = requests.head(server.url + "/id/thing", headers={"Accept-Encoding": "gzip"},
                      timeout=30)
    assert r.status_code == 200 and r.headers["ETag"].startswith('W/"')
    assert "Content-Encoding" not in r.headers


def test_cross_origin_revalidation_keeps_cors(server) -> None:
    path = "/id/thing"
    etag = get(server, path, Origin="https://example.org").headers["ETag"]
    r = get(server, path, Origin="https://example.org", If_None_Match=etag)
    assert r.status_code == 304
    assert r.headers["Access-Control-Allow-Origin"] == "*"
