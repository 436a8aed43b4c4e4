"""Staying up, over real HTTP against a real server: deep nesting is refused before any
parser sees it, a query that needs too much memory is stopped with a clear error, a
worker that dies is a 503 with a retry hint (never a 500, never "exit code None"), and
an idle worker's death never fails the next query."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests
from servers import generated_project, start_server

MEMORY_MB = 256  # small (a worker needs ~200 MB to open the store), so the hogs hit it fast

# each allocates 0.7-2 GB without a limit (design.md), within a few seconds
CROSS_ORDER = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"
CROSS_GROUP_CONCAT = ("SELECT (GROUP_CONCAT(CONCAT(STR(?a), STR(?d))) AS ?x) "
                      "{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
DOUBLINGS = ('SELECT ?n { BIND("' + "x" * 1000 + '" AS ?x0) '
             + " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(18))
             + " BIND(STRLEN(?x18) AS ?n) }")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return generated_project(tmp_path_factory.mktemp("staying-up"), 300)


@pytest.fixture(scope="module")
def server(project):
    ontology, data, store = project
    with start_server(store, "--timeout", "20", "--query-workers", "2", "--worker-memory-mb",
                      str(MEMORY_MB), "--max-nesting", "64", ontology=ontology,
                      data=data) as handle:
        yield handle


def query(server, text: str, **params) -> requests.Response:
    return requests.post(server.sparql, data={"query": text, **params},
                         headers={"Accept": "application/json"}, timeout=60)


def workers(server) -> list[int]:
    """The pids of the server's worker processes (its children)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if int(fields[1]) == server.process.pid and fields[0] != "Z" \
                and b"crinkkg.backends.embedded.worker\0query" in cmdline:
            found.append(int(entry))
    return found


def wait_for_workers(server, n: int = 2) -> None:
    deadline = time.monotonic() + 30
    while requests.get(server.url + "/health", timeout=30).json()["query_workers"] < n \
            or len(workers(server)) < n:
        assert time.monotonic() < deadline, "the workers were not replaced"
        time.sleep(0.05)


@pytest.mark.parametrize("text", [
    "SELECT * WHERE " + "{" * 3000 + " ?s ?p ?o " + "}" * 3000,
    "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }",
    "SELECT * WHERE { ?s ?p " + "(" * 150 + ")" * 150 + " }",
    "SELECT * WHERE { ?s ?p " + "[ ?p " * 150 + "?o" + " ]" * 150 + " }",
])
def test_deep_nesting_is_refused_before_evaluation(server, text) -> None:
    before = requests.get(server.url + "/health", timeout=30).json()["worker_restarts"]
    started = time.monotonic()
    r = query(server, text)
    assert r.status_code == 400, r.text[:300]
    body = r.json()
    assert body["error"] == "too-deeply-nested" and body["max_nesting"] == 64
    assert "the limit is 64" in body["message"] and "--max-nesting" in body["hint"]
    assert body["line"] == 1 and body["column"] > 1
    assert time.monotonic() - started < 5  # nested lists of depth 150 take 5-10 s to parse
    assert requests.get(server.url + "/health", timeout=30).json()["worker_restarts"] == before


def test_nesting_within_the_limit_is_answered(server) -> None:
    r = query(server, "ASK WHERE " + "{" * 60 + "}" * 60)
    assert r.status_code == 200 and r.json()["boolean"] is True
    # brackets in strings and comments are not nesting
    r = query(server, 'ASK { FILTER("' + "(" * 500 + '" != "") } # ' + "{" * 500)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("name,text", [("cross-product ORDER BY", CROSS_ORDER),
                                       ("GROUP_CONCAT over a cross product", CROSS_GROUP_CONCAT),
                                       ("18 CONCAT doublings", DOUBLINGS)])
def test_a_query_past_the_memory_limit_is_stopped_clearly(server, name, text) -> None:
    wait_for_workers(server)
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.update(r=query(server, text)))
    thread.start()
    # meanwhile, other queries are answered
    for _ in range(5):
        r = query(server, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
        assert r.status_code == 200 and r.json()["results"]["bindings"][0]["n"]["value"] == "300"
    thread.join(timeout=60)
    r = outcome["r"]
    assert r.status_code == 503, (name, r.status_code, r.text[:300])
    body = r.json()
    assert body["error"] == "memory-limit" and body["memory_limit_mb"] == MEMORY_MB
    assert f"needs more than {MEMORY_MB} MB" in body["message"]
    assert "--worker-memory-mb" in body["hint"]
    assert "None" not in body["message"]
    wait_for_workers(server)
    assert query(server, "ASK { ?s ?p ?o }").json()["boolean"] is True


def test_idle_worker_death_never_fails_the_next_query(server) -> None:
    wait_for_workers(server)
    for pid in workers(server):  # every idle worker dies
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    for _ in range(4):
        r = query(server, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o . FILTER(?o > 10) }")
        assert r.status_code == 200, r.text
    wait_for_workers(server)


def test_a_worker_killed_mid_query_is_a_503_with_retry_after(server) -> None:
    wait_for_workers(server)
    before = set(workers(server))
    outcome: dict = {}
    slow = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    thread = threading.Thread(target=lambda: outcome.update(r=query(server, slow)))
    thread.start()
    busy = None
    deadline = time.monotonic() + 10
    while busy is None:  # the worker running it is the one using a CPU
        assert time.monotonic() < deadline
        time.sleep(0.1)
        for pid in before:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "R":
                    busy = pid
    os.kill(busy, signal.SIGSEGV)
    thread.join(timeout=60)
    r = outcome["r"]
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["error"] == "worker-crashed" and r.headers["Retry-After"] == "1"
    assert "SIGSEGV" in body["message"] and "None" not in body["message"]
    wait_for_workers(server)
    assert query(server, "ASK {}").status_code == 200


def test_memory_limit_default_and_settings(tmp_path) -> None:
    from crinkkg.settings import Settings

    assert Settings().worker_memory_mb == 1536 and Settings().max_nesting == 64
    s = Settings.from_env({"CRINKKG_WORKER_MEMORY_MB": "512", "CRINKKG_MAX_NESTING": "10"})
    assert (s.worker_memory_mb, s.max_nesting) == (512, 10)
