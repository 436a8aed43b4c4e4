"""``crinkkg --backend URL serve``: several HTTP processes over one remote store.

Each HTTP process talks to the store itself; ``/metrics`` adds up every process's counters
(through the serving process's metrics broker), as it does over the embedded store.
"""

from __future__ import annotations

import re

import requests
from servers import backend_args, empty_project, publish, run_crinkkg, start_server

QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _counter(text: str, endpoint: str) -> int:
    return sum(int(n) for n in re.findall(
        rf'^crinkkg_http_requests_total{{endpoint="{re.escape(endpoint)}",[^}}]*}} (\d+)$',
        text, re.M))


def test_metrics_add_up_across_http_processes_over_a_remote_store(oxigraph, tmp_path) -> None:
    ontology, data, store = empty_project(tmp_path)
    (data / "facts.ttl").write_text("<http://example.org/a> <http://example.org/p> 1 .\n")
    publish(oxigraph, store, ontology, data)
    with start_server(store, "--http-processes", "2", ontology=ontology, data=data,
                      global_args=backend_args(oxigraph)) as server:
        assert "granian, 2 HTTP processes" in server.log()
        before = _counter(requests.get(server.url + "/metrics", timeout=30).text, "/sparql")
        seen: set[int] = set()
        for _ in range(30):  # a new connection each time: both processes answer
            r = requests.get(server.sparql, params={"query": QUERY},
                             headers={"Accept": "application/sparql-results+json"}, timeout=30)
            assert r.status_code == 200, r.text
            assert r.json()["results"]["bindings"][0]["n"]["value"] == "1"
            seen.add(requests.get(server.url + "/health", timeout=30).json()["http_process"])
        assert len(seen) == 2, "every request reached the same HTTP process"
        text = requests.get(server.url + "/metrics", timeout=30).text
        assert _counter(text, "/sparql") - before == 30, text
        health = requests.get(server.url + "/health", timeout=30).json()
        assert health["backend"] == "remote" and health["triples"] == 1


def test_digest_credentials_from_the_environment_reach_virtuoso(virtuoso, tmp_path) -> None:
    """``CRINKKG_BACKEND_USER``/``_PASSWORD`` against Virtuoso's digest-protected endpoints:
    publish and query work with them, and without them the error says what to check."""
    ontology, data, store = empty_project(tmp_path)
    (data / "facts.ttl").write_text("<http://example.org/a> <http://example.org/p> 7 .\n")
    remote = ["--backend", virtuoso.auth_query_url, "--backend-graph-store",
              virtuoso.auth_graph_store_url]
    where = ["--store", str(store), "--ontology", str(ontology), "--data", str(data)]
    secret = {"CRINKKG_BACKEND_USER": virtuoso.user,
              "CRINKKG_BACKEND_PASSWORD": virtuoso.password}
    refused = run_crinkkg(*where, *remote, "publish", "--quiet")
    assert refused.returncode != 0
    assert "401" in refused.stderr or "credential" in refused.stderr.lower(), refused.stderr
    done = run_crinkkg(*where, *remote, "publish", "--quiet", env=secret)
    assert done.returncode == 0, done.stderr
    answer = run_crinkkg(*where, *remote, "query", "SELECT ?o { ?s <http://example.org/p> ?o }",
                         "--format", "csv", env=secret)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.splitlines() == ["o", "7"]
    assert virtuoso.password not in refused.stderr + done.stderr + answer.stderr


def test_pages_and_their_validators_follow_the_remote_store(oxigraph, tmp_path) -> None:
    """The validators (and the answers kept under them) name the remote store's published
    version, not the local store link: a write to the store is seen on the next request,
    never answered 304 or from a kept page."""
    ontology, data, store = empty_project(tmp_path)
    (data / "facts.ttl").write_text(
        '<https://w3id.org/crinkkg/id/a> <http://www.w3.org/2000/01/rdf-schema#label> "A" .\n')
    publish(oxigraph, store, ontology, data)
    token = "remote-pages-token-0123456789"
    with start_server(store, "--enable-update", ontology=ontology, data=data,
                      global_args=backend_args(oxigraph),
                      env={"CRINKKG_UPDATE_TOKEN": token}) as server:
        page = server.url + "/id/a"
        first = requests.get(page, headers={"Accept": "text/html"}, timeout=30)
        assert first.status_code == 200 and "renamed" not in first.text
        etag = first.headers["ETag"]
        assert requests.get(page, headers={"Accept": "text/html", "If-None-Match": etag},
                            timeout=30).status_code == 304
        r = requests.post(server.sparql, timeout=120, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/json"}, data={
            "update": "INSERT DATA { GRAPH <https://w3id.org/crinkkg/graph/data/facts> "
                      '{ <https://w3id.org/crinkkg/id/a> rdfs:comment "renamed" } }'})
        assert r.status_code == 200, r.text
        again = requests.get(page, headers={"Accept": "text/html", "If-None-Match": etag},
                             timeout=30)
        assert again.status_code == 200 and "renamed" in again.text
        assert again.headers["ETag"] != etag
