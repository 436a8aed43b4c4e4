"""Safety and bounds over real HTTP: SERVICE and FROM never reach a listener unless
allowed, body and result caps, a timeout that kills the work while others are served,
and the concurrency cap."""

from __future__ import annotations

import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from servers import generated_project, start_server

SLOW = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")


class Listener:
    """An HTTP server on 127.0.0.1 that records every request and answers with an
    empty SPARQL result."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                outer.hits.append(self.path)
                body = b'{"head":{"vars":["x"]},"results":{"bindings":[]}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def listener():
    item = Listener()
    yield item
    item.close()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return generated_project(tmp_path_factory.mktemp("safety"), 300)


@pytest.fixture(scope="module")
def server(project):
    ontology, data, store = project
    with start_server(store, "--timeout", "1.5", "--max-rows", "100", "--max-body-bytes",
                      "4000", "--query-workers", "2", ontology=ontology, data=data) as handle:
        yield handle


def query(server, text: str, **params) -> requests.Response:
    return requests.post(server.sparql, data={"query": text, **params},
                         headers={"Accept": "application/json"}, timeout=60)


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}",
    "PREFIX ep: <{base}> SELECT * WHERE {{ SERVICE ep:sparql {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ BIND(<{url}> AS ?ep) SERVICE ?ep {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?s ?p ?o FILTER(?o<?s)SERVICE<{url}>{{ ?s ?p ?o }} }}",
    "ASK {{ SERVICE <{url}> {{ ?s ?p ?o }} }} # a trailing comment",
])
def test_service_is_refused_and_the_listener_untouched(server, listener, template) -> None:
    text = template.format(url=listener.url, base=listener.url.rsplit("/", 1)[0] + "/")
    r = query(server, text)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "service-refused" and r.json()["hint"]
    assert listener.hits == []


def test_service_in_comments_and_strings_is_not_a_service(server, listener) -> None:
    text = (f'SELECT ?x WHERE {{ BIND("SERVICE <{listener.url}> {{ }}" AS ?x) }}\n'
            f"# SERVICE <{listener.url}> {{ ?s ?p ?o }}\n")
    r = query(server, text)
    assert r.status_code == 200, r.text
    assert listener.hits == []


def test_from_and_protocol_graphs_never_fetch(server, listener) -> None:
    for text, params in [
        (f"SELECT * FROM <{listener.url}> WHERE {{ ?s ?p ?o }}", {}),
        (f"SELECT * FROM NAMED <{listener.url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
        (f"DESCRIBE <{listener.url}>", {}),
        ("SELECT * WHERE { ?s ?p ?o }", {"default-graph-uri": listener.url,
                                         "named-graph-uri": listener.url}),
    ]:
        r = requests.post(server.sparql, data={"query": text, **params}, timeout=30)
        assert r.status_code == 200, r.text
    time.sleep(0.2)
    assert listener.hits == []


def test_body_size_is_capped(server) -> None:
    text = "ASK { }" + " " * 5000
    r = requests.post(server.sparql, data=text.encode(), timeout=30,
                      headers={"Content-Type": "application/sparql-query",
                               "Accept": "application/json"})
    assert r.status_code == 413
    assert r.json()["max_body_bytes"] == 4000


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_result_rows_are_capped(server, fmt) -> None:
    r = query(server, "SELECT * WHERE { ?s ?p ?o }", format=fmt)
    assert r.status_code == 413 and r.json()["error"] == "too-many-results"
    assert "LIMIT" in r.json()["hint"]
    r = query(server, "SELECT * WHERE { ?s ?p ?o } LIMIT 100", format=fmt)
    assert r.status_code == 200
    r = query(server, "CONSTRUCT WHERE { ?s ?p ?o }")
    assert r.status_code == 413


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry))
    return found


def _metric(server, name: str) -> float:
    text = requests.get(server.url + "/metrics", timeout=30).text
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def test_timeout_kills_the_query_while_others_are_served(server) -> None:
    before = _children(server.process.pid) if os.path.isdir("/proc") else set()
    outcome: dict = {}

    def slow() -> None:
        started = time.monotonic()
        outcome["response"] = query(server, SLOW)
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    deadline = time.monotonic() + 10
    while _metric(server, "crinkkg_queries_in_flight") < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    served = query(server, "ASK { ?s ?p ?o }")  # another client, meanwhile
    assert served.status_code == 200 and served.json()["boolean"] is True
    assert "response" not in outcome  # the slow query is still running
    thread.join(timeout=30)
    r = outcome["response"]
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["error"] == "timeout" and 1.4 <= body["elapsed_seconds"] < 10
    assert "1.5 s" in body["message"]
    assert outcome["seconds"] < 10  # a cross product of 300**4 rows takes minutes
    assert _metric(server, "crinkkg_query_timeouts_total") >= 1
    # the worker that ran it was killed and replaced; the server keeps answering
    deadline = time.monotonic() + 20
    while requests.get(server.url + "/health", timeout=30).json()["query_workers"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    if before:
        after = _children(server.process.pid)
        assert len(after) == len(before)  # no runaway process left behind
        assert after != before  # one of them is new
    assert query(server, "ASK { ?s ?p ?o }").status_code == 200


def test_allow_listed_service_is_called_and_concurrency_is_capped(project, listener) -> None:
    ontology, data, store = project
    with start_server(store, "--service-allow", listener.url, "--max-concurrent", "1",
                      "--query-workers", "1", "--timeout", "2", ontology=ontology,
                      data=data) as server:
        r = query(server, f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}")
        assert r.status_code == 200, r.text
        assert listener.hits  # allowed: the call really happens
        other = listener.url.replace("/sparql", "/other")
        assert query(server, f"ASK {{ SERVICE <{other}> {{ }} }}").status_code == 403

        thread = threading.Thread(target=lambda: query(server, SLOW))
        thread.start()
        deadline = time.monotonic() + 10
        while _metric(server, "crinkkg_queries_in_flight") < 1:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        r = query(server, "ASK {}")
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "1" and r.json()["error"] == "saturated"
        thread.join(timeout=30)
        deadline = time.monotonic() + 20
        while query(server, "ASK {}").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
