"""The build pipeline through the real `crinkkg` entry point and its Python API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from crinkkg.build import pipeline as build_module
from crinkkg.build.pipeline import build
from crinkkg.errors import InconsistencyError, InputSyntaxError, ValidationError
from crinkkg.settings import Settings
from crinkkg.store.layout import StoreLayout
from crinkkg.store.oxigraph import OxigraphStore

CRINKKG = str(Path(sys.executable).with_name("crinkkg"))

ONTOLOGY = """\
@prefix : <https://w3id.org/crinkkg/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/crinkkg/ontology> a owl:Ontology .
:State a owl:Class .
:Transfer a owl:Class ; owl:disjointWith :State .
:ArmsTransfer a owl:Class ; rdfs:subClassOf :Transfer .
:supplier a owl:ObjectProperty ; rdfs:domain :Transfer ; rdfs:range :State .
:recipient a owl:ObjectProperty ; rdfs:domain :Transfer ; rdfs:range :State .
:supplies a owl:ObjectProperty ;
    owl:propertyChainAxiom ( [ owl:inverseOf :supplier ] :recipient ) .
:alliedWith a owl:ObjectProperty, owl:SymmetricProperty .
"""
SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix : <https://w3id.org/crinkkg/ontology#> .
:TransferShape a sh:NodeShape ; sh:targetClass :Transfer ;
    sh:property [ sh:path :supplier ; sh:minCount 1 ; sh:maxCount 1 ;
                  sh:message "a transfer has exactly one supplier" ] .
"""
DATA = """\
@prefix : <https://w3id.org/crinkkg/ontology#> .
@prefix id: <https://w3id.org/crinkkg/id/> .
id:t1 a :ArmsTransfer ; :supplier id:iran ; :recipient id:russia .
id:russia :alliedWith id:north-korea .
"""


def make_project(root: Path, data: str = DATA) -> Settings:
    (root / "ontology").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "ontology" / "crink.ttl").write_text(ONTOLOGY)
    (root / "ontology" / "shapes.ttl").write_text(SHAPES)
    (root / "data" / "facts.ttl").write_text(data)
    return Settings(ontology_dir=root / "ontology", data_dir=root / "data",
                    store=root / ".crinkkg" / "store")


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRINKKG_")}
    return subprocess.run([CRINKKG, *args], cwd=root, capture_output=True, text=True, env=env,
                          timeout=120)


def rows(store: OxigraphStore, sparql: str, view: str = "all") -> set[tuple[str, ...]]:
    return {tuple(t.value for t in sol) for sol in store.query(sparql, view=view)}


def test_graph_layout_one_graph_per_file_and_the_inferred_graph(tmp_path: Path) -> None:
    settings = make_project(tmp_path)
    report = build(settings, root=tmp_path)
    assert set(report.graphs) == {
        "https://w3id.org/crinkkg/graph/ontology/crink",
        "https://w3id.org/crinkkg/graph/data/facts",
        "https://w3id.org/crinkkg/graph/inferred",
        "https://w3id.org/crinkkg/graph/support",
    }
    store = OxigraphStore.open(settings.store)
    supplies = "SELECT ?a ?b WHERE { ?a crink:supplies ?b }"
    assert rows(store, supplies) == {("https://w3id.org/crinkkg/id/iran",
                                      "https://w3id.org/crinkkg/id/russia")}
    assert rows(store, supplies, view="asserted") == set()
    assert rows(store, supplies, view="inferred") == rows(store, supplies)
    # shapes are not data: they are not stored
    assert rows(store, "SELECT ?s WHERE { ?s a <http://www.w3.org/ns/shacl#NodeShape> }") == set()
    graphs = rows(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { id:t1 a crink:ArmsTransfer } }")
    assert graphs == {("https://w3id.org/crinkkg/graph/data/facts",)}


def test_closure_is_cleaned(tmp_path: Path) -> None:
    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    store = OxigraphStore.open(settings.store)
    assert not store.query("ASK { GRAPH crink:x { } }")  # sanity: an unknown graph is empty
    assert not store.query("ASK { ?x owl:sameAs ?x }")
    assert not store.query("ASK { ?x rdfs:subClassOf ?x }")
    assert not store.query("ASK { ?x ?p owl:Thing }")
    assert not store.query("ASK { GRAPH <https://w3id.org/crinkkg/graph/inferred> "
                           "{ ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) } }")
    assert not store.query("ASK { GRAPH <https://w3id.org/crinkkg/graph/inferred> "
                           "{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), STR(owl:)) || "
                           "STRSTARTS(STR(?s), STR(rdf:)) || STRSTARTS(STR(?s), STR(rdfs:))) } }")
    assert store.query("ASK { id:north-korea crink:alliedWith id:russia }")
    assert not store.query("ASK { ?x crink:alliedWith ?x }")


def test_syntax_error_names_file_line_column_and_text(tmp_path: Path) -> None:
    make_project(tmp_path, DATA + 'id:x a "unterminated .\nid:y a id:z .\n')
    result = run_cli(tmp_path, "build")
    assert result.returncode == 2
    assert "data/facts.ttl:5:8:" in result.stderr
    assert 'id:x a "unterminated .' in result.stderr
    assert "Traceback" not in result.stderr


def test_syntax_error_in_python_api(tmp_path: Path) -> None:
    settings = make_project(tmp_path, DATA + "id:x id:y .\n")
    with pytest.raises(InputSyntaxError) as info:
        build(settings, root=tmp_path)
    assert info.value.path == "data/facts.ttl" and info.value.line == 5


def test_shacl_violation_lists_focus_path_and_message(tmp_path: Path) -> None:
    settings = make_project(tmp_path, DATA + "id:t2 a :ArmsTransfer ; :recipient id:iran .\n")
    with pytest.raises(ValidationError) as info:
        build(settings, root=tmp_path)
    [violation] = info.value.violations
    assert violation.focus == "id:t2" or violation.focus.endswith("id/t2>")
    assert "supplier" in (violation.path or "")
    assert violation.message == "a transfer has exactly one supplier"
    result = run_cli(tmp_path, "build")
    assert result.returncode == 3
    assert "a transfer has exactly one supplier" in result.stderr
    assert not StoreLayout(settings.store).current()  # nothing was written


def test_inconsistency_is_a_build_error_naming_the_resources(tmp_path: Path) -> None:
    settings = make_project(tmp_path, DATA + "id:t1 a :State .\n")
    with pytest.raises(InconsistencyError) as info:
        build(settings, root=tmp_path)
    assert any("https://w3id.org/crinkkg/id/t1" in p.message for p in info.value.problems)
    result = run_cli(tmp_path, "build", "--json")
    assert result.returncode == 4
    body = json.loads(result.stdout)
    assert body["error"] == "InconsistencyError" and body["problems"]


def test_cache_hit_and_miss(tmp_path: Path) -> None:
    settings = make_project(tmp_path)
    first = build(settings, root=tmp_path)
    target = StoreLayout(settings.store).current()
    second = build(settings, root=tmp_path)
    assert not first.cached and second.cached
    assert second.asserted_triples == first.asserted_triples
    assert StoreLayout(settings.store).current() == target
    (tmp_path / "data" / "facts.ttl").write_text(DATA + "id:t3 a :Transfer ; :supplier id:iran .\n")
    third = build(settings, root=tmp_path)
    assert not third.cached and third.asserted_triples == first.asserted_triples + 2
    assert StoreLayout(settings.store).current() != target
    assert target.exists()  # one previous version stays for readers still on it
    (tmp_path / "data" / "facts.ttl").write_text(DATA)
    build(settings, root=tmp_path)
    assert not target.exists()  # older ones are removed


def test_the_same_inputs_named_another_way_are_current(tmp_path: Path, monkeypatch) -> None:
    from crinkkg.build.cache import why_rebuild

    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    monkeypatch.chdir(tmp_path)  # the same folders, relative to where the server starts
    relative = settings.with_(ontology_dir=Path("ontology"), data_dir=Path("data"))
    assert why_rebuild(relative) is None
    assert why_rebuild(settings.with_(data_dir=tmp_path / "ontology" / ".." / "data")) is None
    (tmp_path / "data" / "facts.ttl").write_text(DATA + "id:t3 a :Transfer .\n")
    assert why_rebuild(relative) == "the inputs changed"


def test_the_keys_paths_are_the_files_resolved_paths(tmp_path: Path, monkeypatch) -> None:
    """The cache key names each file by its resolved path, each folder resolved once: the
    same names as resolving every file, through linked folders, linked files, ``..`` and
    relative paths."""
    from crinkkg.build.cache import Resolved

    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "sub" / "a.ttl").write_text("")
    (tmp_path / "elsewhere.ttl").write_text("")
    (tmp_path / "real" / "sub" / "linked.ttl").symlink_to(tmp_path / "elsewhere.ttl")
    (tmp_path / "folder-link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path)
    resolved = Resolved()
    paths = [tmp_path / "real" / "sub" / "a.ttl", tmp_path / "folder-link" / "sub" / "a.ttl",
             tmp_path / "folder-link" / "sub" / "linked.ttl",
             tmp_path / "real" / ".." / "folder-link" / "sub" / "a.ttl",
             Path("folder-link/sub/a.ttl"), Path("real/sub/linked.ttl"), Path("elsewhere.ttl")]
    for path in paths * 2:  # the second time from the folders it resolved
        assert resolved(path) == path.resolve().as_posix(), path


def test_failed_build_leaves_previous_store_servable(tmp_path: Path, monkeypatch) -> None:
    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    before = StoreLayout(settings.store).current()
    (tmp_path / "data" / "facts.ttl").write_text(DATA + "id:t9 a :Transfer ; :supplier id:x .\n")

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build_module.ox.Store, "flush", disk_full)
    with pytest.raises(OSError):
        build(settings, root=tmp_path)
    monkeypatch.undo()
    assert StoreLayout(settings.store).current() == before
    assert not list(StoreLayout(settings.store).versions.glob("*.partial"))
    store = OxigraphStore.open(settings.store)
    assert not store.query("ASK { id:t9 ?p ?o }")
    assert store.query("ASK { id:t1 ?p ?o }")


def test_interrupted_build_leaves_previous_store(tmp_path: Path, monkeypatch) -> None:
    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    before = StoreLayout(settings.store).current()
    (tmp_path / "data" / "facts.ttl").write_text(DATA + "id:t9 a :Transfer ; :supplier id:x .\n")

    def ctrl_c(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module, "graph_to_triples", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        build(settings, root=tmp_path)
    monkeypatch.undo()
    assert StoreLayout(settings.store).current() == before
    assert not list(StoreLayout(settings.store).versions.glob("*.partial"))


def test_killed_build_leaves_previous_store_and_is_cleaned_up(tmp_path: Path) -> None:
    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    before = StoreLayout(settings.store).current()
    big = DATA + "".join(
        f"id:tk{i} a :ArmsTransfer ; :supplier id:s{i % 50} ; :recipient id:s{(i + 1) % 50} .\n"
        for i in range(20000))
    (tmp_path / "data" / "facts.ttl").write_text(big)
    versions = StoreLayout(settings.store).versions
    proc = subprocess.Popen([CRINKKG, "build", "--quiet"], cwd=tmp_path)
    # kill -9 at the worst moment: while the new store is being written
    deadline = time.monotonic() + 120
    while proc.poll() is None and not list(versions.glob("*.partial")):
        assert time.monotonic() < deadline, "the build never started writing its store"
        time.sleep(0.002)
    proc.kill()
    proc.wait()
    assert list(versions.glob("*.partial")), "the build finished before it could be killed"
    assert StoreLayout(settings.store).current() == before
    store = OxigraphStore.open(settings.store)
    assert store.query("ASK { id:t1 ?p ?o }") and not store.query("ASK { id:tk1 ?p ?o }")
    # the partial build left by the dead process is removed by the next build
    (tmp_path / "data" / "facts.ttl").write_text(DATA)
    build(settings, root=tmp_path, force=True)
    assert not list(versions.glob("*.partial"))


def test_cli_build_json_quiet_and_stats(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = run_cli(tmp_path, "build", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cached"] is False and report["inferred_triples"] > 0
    assert [s["name"] for s in report["steps"]] == [
        "load", "anchors", "validate", "reason", "support", "store", "search index"]
    quiet = run_cli(tmp_path, "build", "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    stats = json.loads(run_cli(tmp_path, "stats", "--json").stdout)
    assert stats["graphs"]["https://w3id.org/crinkkg/graph/data/facts"] == 4
    assert stats["instances_per_class"]["https://w3id.org/crinkkg/ontology#Transfer"] == 1


def test_cli_query_formats_and_views(tmp_path: Path) -> None:
    make_project(tmp_path)
    q = "SELECT ?a WHERE { ?a crink:supplies id:russia }"
    csv = run_cli(tmp_path, "query", q, "--format", "csv")
    assert csv.returncode == 0, csv.stderr
    assert csv.stdout.splitlines() == ["a", "https://w3id.org/crinkkg/id/iran"]
    asserted = run_cli(tmp_path, "query", q, "--format", "csv", "--asserted")
    assert asserted.stdout.splitlines() == ["a"]
    table = run_cli(tmp_path, "query", q)
    assert "id:iran" in table.stdout and "(1 row)" in table.stdout
    ttl = run_cli(tmp_path, "query", "CONSTRUCT WHERE { ?a crink:supplies ?b }", "--format",
                  "ntriples")
    assert ttl.stdout.strip() == ("<https://w3id.org/crinkkg/id/iran> "
                                  "<https://w3id.org/crinkkg/ontology#supplies> "
                                  "<https://w3id.org/crinkkg/id/russia> .")
    bad = run_cli(tmp_path, "query", "SELECT ?a WHERE {")
    assert bad.returncode != 0 and "does not parse" in bad.stderr


def test_cli_export(tmp_path: Path) -> None:
    make_project(tmp_path)
    trig = run_cli(tmp_path, "export", "--format", "nquads")
    quads = list(ox.parse(trig.stdout.encode(), format=ox.RdfFormat.N_QUADS))
    assert {q.graph_name.value for q in quads} >= {"https://w3id.org/crinkkg/graph/inferred"}
    one = run_cli(tmp_path, "export", "--format", "turtle")
    assert one.returncode == 2 and "--view" in one.stderr
    out = tmp_path / "inferred.nt"
    run_cli(tmp_path, "export", "--format", "ntriples", "--view", "inferred", "-o", str(out))
    triples = list(ox.parse(path=str(out)))
    assert len(triples) == len([q for q in quads
                                if q.graph_name.value.endswith("/graph/inferred")])


def test_explain_symmetric_and_chain(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = run_cli(tmp_path, "explain", "id:north-korea", "crink:alliedWith", "id:russia")
    assert result.returncode == 0, result.stderr
    assert "prp-symp" in result.stdout and "asserted in data/facts" in result.stdout
    chain = json.loads(run_cli(tmp_path, "explain", "id:iran", "crink:supplies", "id:russia",
                               "--json").stdout)
    assert chain["rule"] == "prp-spo2"
    assert {tuple(p["triple"]) for p in chain["premises"]} == {
        ("https://w3id.org/crinkkg/id/t1", "https://w3id.org/crinkkg/ontology#supplier",
         "https://w3id.org/crinkkg/id/iran"),
        ("https://w3id.org/crinkkg/id/t1", "https://w3id.org/crinkkg/ontology#recipient",
         "https://w3id.org/crinkkg/id/russia"),
    }
    assert all(p["status"] == "asserted" for p in chain["premises"])
    typed = json.loads(run_cli(tmp_path, "explain", "id:iran", "rdf:type", "crink:State",
                               "--json").stdout)
    assert typed["rule"] == "prp-rng"
    missing = run_cli(tmp_path, "explain", "id:russia", "crink:supplies", "id:iran")
    assert missing.returncode == 1 and "not in the graph" in missing.stderr


def test_both_reasoners_build_the_same_inferred_graph(tmp_path: Path) -> None:
    settings = make_project(tmp_path)
    fast = build(settings, root=tmp_path)
    inferred = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    fast_triples = set(map(str, OxigraphStore.open(settings.store).query(inferred,
                                                                          view="inferred")))
    reference = build(settings.with_(reasoner="owlrl"), root=tmp_path)
    assert not reference.cached  # the reasoner is part of the cache key
    ref_triples = set(map(str, OxigraphStore.open(settings.store).query(inferred,
                                                                         view="inferred")))
    assert fast_triples == ref_triples and fast.inferred_triples == reference.inferred_triples


def test_unknown_reasoner_is_refused_with_the_choices(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = run_cli(tmp_path, "build", "--reasoner", "hermit")
    assert result.returncode == 2 and "rules" in result.stderr
    with pytest.raises(ValueError, match="rules or owlrl"):
        Settings.from_env({"CRINKKG_REASONER": "hermit"})


def test_a_version_is_published_with_its_record_never_before(tmp_path: Path, monkeypatch) -> None:
    """Builds and updates publish through one path (``StoreLayout.publish_version``): the
    record is written into the new version before the link moves to it, under the writer
    lock, so an update published meanwhile can neither get the build's record nor lose
    its own (the build used to write its record after publishing, outside the lock)."""
    settings = make_project(tmp_path)
    seen: list[dict] = []
    real = StoreLayout.publish

    def publish(layout: StoreLayout, target: Path) -> None:
        seen.append(json.loads((target / "build.json").read_text()))
        real(layout, target)

    monkeypatch.setattr(StoreLayout, "publish", publish)
    report = build(settings, root=tmp_path)
    assert len(seen) == 1 and seen[0]["key"] == report.key
    assert seen[0]["report"]["asserted_triples"] == report.asserted_triples
    assert StoreLayout(settings.store).build_record() == seen[0]
