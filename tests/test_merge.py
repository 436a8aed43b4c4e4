"""The default graph and view=asserted are RDF merges: a triple held in two graphs is
answered and counted once, and every count the system shows agrees."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests
from servers import CRINKKG, start_server
from test_build import make_project

from crinkkg.build.pipeline import build
from crinkkg.build.updates import apply_update
from crinkkg.store.oxigraph import OxigraphStore

SHARED = "<https://w3id.org/crinkkg/id/t1> <https://w3id.org/crinkkg/ontology#year> 2024 .\n"
ONCE = "<https://w3id.org/crinkkg/id/t2> <https://w3id.org/crinkkg/ontology#year> 2023 .\n"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s crink:year ?y }"
ROWS = "SELECT ?s ?y WHERE { ?s crink:year ?y }"
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("merge")
    settings = make_project(root)
    (root / "data" / "a.ttl").write_text(SHARED + ONCE)
    (root / "data" / "b.ttl").write_text(SHARED)
    report = build(settings, root=root)
    return root, settings, report


def _n(store: OxigraphStore, sparql: str, **kwargs) -> int:
    return int(next(iter(store.query(sparql, **kwargs)))[0].value)


def test_one_triple_in_two_graphs_is_counted_and_answered_once(project) -> None:
    _root, settings, _report = project
    store = OxigraphStore.open(settings.store)
    for view in ("all", "asserted"):
        assert _n(store, COUNT, view=view) == 2
        rows = sorted((r["s"].value, r["y"].value) for r in store.query(ROWS, view=view))
        assert rows == [("https://w3id.org/crinkkg/id/t1", "2024"),
                        ("https://w3id.org/crinkkg/id/t2", "2023")]
    # in the graphs themselves the triple is where the files put it
    assert _n(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s crink:year ?y } }") == 3
    # the store's own partitions are never shown
    names = {r["g"].value for r in store.query(GRAPHS)}
    assert names == set(store.graph_names())
    assert not any(n.startswith("urn:x-crinkkg:merge:") for n in names)
    assert b"urn:x-crinkkg:merge" not in store.dump(__import__("pyoxigraph").RdfFormat.N_QUADS)


def test_memory_copy_answers_the_same(project) -> None:
    _root, settings, _report = project
    copy = OxigraphStore.open(settings.store).memory_copy(10**6)
    assert _n(copy, COUNT) == 2 and _n(copy, COUNT, view="asserted") == 2


def test_updates_keep_the_merge(project, tmp_path: Path) -> None:
    root, settings, _report = project
    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    store = OxigraphStore.open(settings.store, read_only=False)
    apply_update(store, "INSERT DATA { GRAPH <http://ex/g1> { id:x crink:year 1 } "
                 "GRAPH <http://ex/g2> { id:x crink:year 1 } id:x crink:year 1 }")
    assert _n(store, COUNT) == 1 and _n(store, COUNT, view="asserted") == 1
    apply_update(store, "DROP GRAPH <http://ex/g1> ; DROP DEFAULT")
    assert _n(store, COUNT) == 1
    apply_update(store, "DROP GRAPH <http://ex/g2>")
    assert _n(store, COUNT) == 0
    with pytest.raises(Exception, match="belong to the store"):
        apply_update(store, "INSERT DATA { GRAPH <urn:x-crinkkg:merge:1> { id:x crink:year 1 } }")


def test_every_count_agrees(project) -> None:
    root, settings, report = project
    store = OxigraphStore.open(settings.store)
    asserted = _n(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", view="asserted")
    inferred = _n(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", view="inferred")
    total = _n(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    support = _n(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/crinkkg/"
                        "graph/support> { ?s ?p ?o } }")
    assert total == asserted + inferred + support
    assert report.asserted_triples == asserted and report.inferred_triples == inferred
    stats = json.loads(subprocess.run(
        [CRINKKG, "--store", str(settings.store), "--ontology", str(root / "ontology"),
         "--data", str(root / "data"), "stats", "--json"],
        capture_output=True, text=True, check=True).stdout)
    assert (stats["asserted_triples"], stats["inferred_triples"]) == (asserted, inferred)
    with start_server(settings.store, ontology=root / "ontology", data=root / "data") as server:
        health = requests.get(server.url + "/health", timeout=30).json()
        assert (health["asserted_triples"], health["inferred_triples"],
                health["triples"]) == (asserted, inferred, total)
        r = requests.get(server.sparql, params={"query": COUNT},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert r.json()["results"]["bindings"][0]["n"]["value"] == "2"
        r = requests.get(server.sparql, params={"query": ROWS, "view": "asserted"},
                         headers={"Accept": "text/csv"}, timeout=30)
        assert r.text.count("/id/t1") == 1
        void = requests.get(server.sparql, headers={"Accept": "application/n-triples"},
                            timeout=30).text
        assert f'"{total}"^^<http://www.w3.org/2001/XMLSchema#integer>' in void
        page = requests.get(server.url + "/", headers={"Accept": "text/html"}, timeout=30).text
        assert f"<dt>asserted triples</dt><dd>{asserted}</dd>" in page
        assert f"<dt>inferred triples</dt><dd>{inferred}</dd>" in page
