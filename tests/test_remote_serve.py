"""``crinkkg --backend URL serve``: several HTTP processes over one remote store.

Each HTTP process talks to the store itself; ``/metrics`` adds up every process's counters
(through the serving process's metrics broker), as it does over the embedded store.
"""

from __future__ import annotations

import re

import requests
from servers import backend_args, empty_project, publish, start_server

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
