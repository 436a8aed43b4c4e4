"""The embedded backend's two fast paths give the same answers as the general one:

- one-pattern queries answered in the server process within a size budget
  (:func:`single_pattern`, :func:`run_bounded_query`);
- query workers answering from an in-memory copy of the store (:meth:`memory_copy`);

and the server keeps its HTTP threads on one CPU and its workers on all of them.
"""

from __future__ import annotations

import json
import os
import time

import pyoxigraph as ox
import pytest
import requests
from servers import start_server

from crinkkg.backends.evaluation import OverBudget, run_bounded_query, run_query
from crinkkg.sparqltext import single_pattern, with_limit
from crinkkg.store.oxigraph import OxigraphStore
from crinkkg.vocab import PREFIXES

PRE = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())

ONE_PATTERN = [
    ("SELECT ?p ?o WHERE { id:russia ?p ?o }", "SELECT"),
    ("SELECT * { ?s a crink:State }", "SELECT"),
    ("SELECT ?s WHERE { ?s rdfs:label \"Russia\"@en }", None),  # language tag: general path
    ("SELECT ?s { ?s crink:year 2024 . } LIMIT 2", "SELECT"),
    ("SELECT ?s { ?s crink:quote \"x\"^^xsd:string }", "SELECT"),
    ("ASK { id:russia crink:alliedWith ?x }", "ASK"),
    ("ASK WHERE { id:russia ?p id:north-korea }", "ASK"),
    ("CONSTRUCT WHERE { id:russia ?p ?o }", "CONSTRUCT"),
    ("DESCRIBE id:russia <https://w3id.org/crinkkg/id/iran>", "DESCRIBE"),
    ("# a comment\nBASE <http://x/> PREFIX e: <http://e/> SELECT ?o { e:a e:b ?o }", "SELECT"),
]
GENERAL = [
    "SELECT DISTINCT ?p { ?s ?p ?o }",
    "SELECT ?s { ?s ?p ?o } ORDER BY ?s",
    "SELECT ?s { ?s ?p ?o } OFFSET 1000000",
    "SELECT ?s { ?s ?p ?o FILTER(?o = 1) }",
    "SELECT ?s { ?s ?p ?o . ?o ?q ?r }",
    "SELECT ?s { ?s ?p ?s }",
    "SELECT ?s FROM <http://g> { ?s ?p ?o }",
    "SELECT ?s { GRAPH ?g { ?s ?p ?o } }",
    "SELECT ?s { ?s crink:alliedWith+ ?o }",
    "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
    "SELECT ?s { ?s ?p [] }",
    "SELECT ?s { ?s ?p ?o } VALUES ?s { <x> }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "DESCRIBE ?s WHERE { ?s ?p ?o }",
    "INSERT DATA { <a> <b> <c> }",
    "SELECT ?s { ?s ?p \"unterminated }",
]


@pytest.mark.parametrize("query,form", ONE_PATTERN)
def test_one_pattern_queries_are_recognised(query, form) -> None:
    assert single_pattern(query) == form


@pytest.mark.parametrize("query", GENERAL)
def test_everything_else_takes_the_general_path(query) -> None:
    assert single_pattern(query) is None


def test_with_limit_caps_an_existing_limit_and_adds_one_otherwise() -> None:
    assert with_limit("SELECT * { ?s ?p ?o } LIMIT 2", 10).endswith("LIMIT 2")
    assert with_limit("SELECT * { ?s ?p ?o } LIMIT 20", 10).endswith("LIMIT 10")
    assert with_limit("SELECT * { ?s ?p ?o } # note", 5) == "SELECT * { ?s ?p ?o } # note\nLIMIT 5"


def test_memory_copy_holds_the_same_dataset(built_store) -> None:
    copy = built_store.memory_copy(10_000_000)
    assert copy is not None and copy.read_only and copy.path is None
    assert set(copy.quads()) == set(built_store.quads())
    assert copy.graph_names() == built_store.graph_names()
    assert built_store.memory_copy(100) is None  # larger than allowed: stays on disk
    for view in ("all", "asserted", "inferred"):
        q = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
        assert [r["n"] for r in copy.query(q, view=view)] == \
            [r["n"] for r in built_store.query(q, view=view)]


def test_memory_copy_keeps_empty_named_graphs() -> None:
    store = OxigraphStore.in_memory()
    store._store.add_graph(ox.NamedNode("http://ex/empty"))
    copy = store.memory_copy(10)
    assert copy is not None and copy.has_graph("http://ex/empty")


def _solutions(body: bytes, fmt: str) -> object:
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.from_extension(fmt))
    if isinstance(parsed, ox.QueryBoolean):
        return bool(parsed)
    return sorted(repr([s[v] for v in parsed.variables]) for s in parsed)


def _job(query: str, accept: str | None = None, fmt: str | None = None, max_rows: int = 100_000,
         view: str = "all") -> tuple:
    return ("query", PRE + query, view, None, None, "http://localhost/sparql", accept, fmt,
            max_rows)


@pytest.mark.parametrize("query,form,fmt", [
    (q, form, fmt) for q, form in ONE_PATTERN[:-1] if form is not None
    for fmt in (("turtle", "ntriples") if form in ("CONSTRUCT", "DESCRIBE")
                else ("json", "xml") if form == "ASK"  # no CSV/TSV for ASK: test_ask_results
                else ("json", "xml", "tsv"))])
def test_bounded_answers_equal_the_general_ones(built_store, query, form, fmt) -> None:
    is_graph = form in ("CONSTRUCT", "DESCRIBE")
    for view in ("all", "asserted", "inferred"):
        job = _job(query, fmt=fmt, view=view)
        general = run_query(built_store, job)
        bounded = run_bounded_query(built_store, job, form, budget=1_000_000)
        assert bounded[1] == general[1]
        if is_graph:
            parse = lambda b: set(ox.parse(b, format=ox.RdfFormat.N_TRIPLES if fmt == "ntriples"  # noqa: E731
                                           else ox.RdfFormat.TURTLE))
            assert parse(bounded[2]) == parse(general[2])
        else:
            assert _solutions(bounded[2], fmt) == _solutions(general[2], fmt)


def test_a_bounded_answer_over_budget_is_handed_back(built_store) -> None:
    big = _job("SELECT ?s ?p ?o { ?s ?p ?o }", fmt="json", max_rows=1_000_000)
    with pytest.raises(OverBudget):
        run_bounded_query(built_store, big, "SELECT", budget=4096)
    describe = _job("DESCRIBE id:russia", fmt="ntriples")
    with pytest.raises(OverBudget):
        run_bounded_query(built_store, describe, "DESCRIBE", budget=3)
    # max_rows below the budget caps it too: never more rows than the server's limit
    few = _job("SELECT ?s { ?s a crink:State }", fmt="json", max_rows=2)
    with pytest.raises(OverBudget):
        run_bounded_query(built_store, few, "SELECT", budget=1_000_000)


# -- over HTTP ------------------------------------------------------------------------------

QUERIES = [
    ("SELECT ?p ?o WHERE { id:russia ?p ?o }", "application/sparql-results+json"),
    ("SELECT ?s WHERE { ?s a crink:State }", "text/tab-separated-values"),
    ("ASK { id:russia crink:alliedWith id:north-korea }", "application/sparql-results+json"),
    ("DESCRIBE id:north-korea", "application/n-triples"),
    ("CONSTRUCT WHERE { ?s crink:firstAlly ?o }", "application/n-triples"),
    ("SELECT ?a (COUNT(*) AS ?n) { ?a crink:alliedWith ?b } GROUP BY ?a ORDER BY ?a",
     "application/sparql-results+json"),
]


def _answers(server) -> list:
    out = []
    for query, accept in QUERIES:
        r = requests.get(server.sparql, params={"query": PRE + query},
                         headers={"Accept": accept}, timeout=30)
        assert r.status_code == 200, r.text
        if accept.endswith("json"):
            body = r.json()
            if "results" in body:
                body = sorted(json.dumps(b, sort_keys=True) for b in body["results"]["bindings"])
            out.append(body)
        elif "n-triples" in accept:
            out.append(set(ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES)))
        else:
            out.append(sorted(r.text.splitlines()))
    return out


def _wait_for_memory(server) -> dict:
    deadline = time.monotonic() + 30
    while True:
        health = requests.get(server.url + "/health", timeout=10).json()
        if health["in_process_answers_from"] == "memory" or time.monotonic() > deadline:
            return health
        time.sleep(0.1)


def test_fast_paths_answer_as_the_workers_do_on_disk(built_store, project_settings) -> None:
    plain_env = {"CRINKKG_INLINE_BYTES": "0", "CRINKKG_MEMORY_QUADS": "0"}
    with start_server(project_settings.store) as fast, \
            start_server(project_settings.store, "--front-memory-quads", "0") as from_disk, \
            start_server(project_settings.store, env=plain_env) as plain:
        assert _wait_for_memory(fast)["in_process_answers_from"] == "memory"
        assert requests.get(from_disk.url + "/health", timeout=10).json()[
            "in_process_answers_from"] == "disk"
        assert requests.get(plain.url + "/health", timeout=10).json()[
            "in_process_answers_from"] == "off"
        expected = _answers(plain)
        assert _answers(fast) == expected
        assert _answers(from_disk) == expected
        metrics = requests.get(fast.url + "/metrics", timeout=10).text
        assert 'crinkkg_queries_total{outcome="ok"}' in metrics


def test_row_limit_holds_on_the_in_process_path(project_settings) -> None:
    with start_server(project_settings.store, "--max-rows", "3") as server:
        r = requests.get(server.sparql, params={"query": PRE + "SELECT ?s { ?s a crink:State }"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert r.status_code == 413, r.text
        r = requests.get(server.sparql,
                         params={"query": PRE + "SELECT ?s { ?s a crink:State } LIMIT 3"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 3


def _cpus(pid: int) -> str:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("Cpus_allowed_list:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no Cpus_allowed_list")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
        except FileNotFoundError:  # a thread that ended meanwhile (a memory copy made)
            continue
    return out


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two CPUs")
def test_http_threads_on_one_cpu_workers_on_all(project_settings) -> None:
    mine = _cpus(os.getpid())
    with start_server(project_settings.store, "--front", "waitress") as server:
        assert "-" not in _cpus(server.process.pid) and "," not in _cpus(server.process.pid)
        workers = _children(server.process.pid)
        assert len(workers) >= 2
        assert all(_cpus(w) == mine for w in workers)
        assert "on CPU" in server.log()
    with start_server(project_settings.store, "--front", "waitress", "--no-pin-cpu") as server:
        assert _cpus(server.process.pid) == mine
    with start_server(project_settings.store) as server:  # granian: processes on every CPU
        assert _cpus(server.process.pid) == mine
        assert all(_cpus(p) == mine for p in _children(server.process.pid))


def test_long_texts_take_the_general_path() -> None:
    # the recogniser caches its answers: only short texts are looked at, so the cache
    # stays small whatever clients send
    padding = "#" + "x" * 5000 + "\n"
    assert single_pattern(padding + "SELECT * { ?s ?p ?o }") is None


@pytest.mark.parametrize("query,transitive", [
    ("SELECT * { ?a crink:alliedWith+ ?b }", True),
    ("SELECT * { ?a (crink:alliedWith|crink:opposes)* ?b }", True),
    ("SELECT * { ?a a/rdfs:subClassOf* ?c }", True),
    ("SELECT * { ?a crink:alliedWith/crink:supplies ?b }", False),
    ("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", False),
    ("SELECT ?s { ?s crink:year ?y FILTER(?y * 2 > 3 && ?y + 1 > 2) }", False),
    ('SELECT ?s { ?s rdfs:label "a+" }', False),
])
def test_transitive_paths_are_recognised(query, transitive) -> None:
    from crinkkg.sparqltext import transitive_path

    assert transitive_path(query) is transitive


def test_paths_are_answered_from_memory_up_to_a_size_and_from_disk_beyond(
        project_settings, built_store, monkeypatch) -> None:
    """A transitive path runs faster over a memory copy of a small or middling store, and
    over the database of a large one (bench/README.md, "Transitive paths"); every other
    query is answered from the copy."""
    from crinkkg.store import current as module
    from crinkkg.store.current import CurrentStore

    current = CurrentStore(project_settings.store.absolute(), memory_quads=10_000_000)
    deadline = time.monotonic() + 30
    while not current.in_memory and time.monotonic() < deadline:
        time.sleep(0.05)
    assert current.in_memory
    copied = current.current().copied_quads
    assert copied == sum(1 for _ in current.disk.scan(None, None, None))
    assert current.current().path is None  # the copy
    assert current.current(transitive=True).path is None  # the curated graph is small
    monkeypatch.setattr(module, "PATHS_FROM_MEMORY_QUADS", copied - 1)
    assert current.current().path is None
    assert current.current(transitive=True).path is not None  # the database
    q = PRE + "SELECT (COUNT(*) AS ?n) { id:russia crink:alliedWith+ ?x }"
    assert [r["n"] for r in current.current().query(q)] == \
        [r["n"] for r in current.current(transitive=True).query(q)]
