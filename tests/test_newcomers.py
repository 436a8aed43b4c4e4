"""What a newcomer meets first, through the real ``crinkkg`` command and a real server:
location options where people type them, a broken input file that never takes the
service down, a corrupt store record that is a clear error, the first ``serve`` saying it
builds, unknown prefixes named with a caret, and "did you mean" on misspelt IRIs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from servers import project_server, start_server
from test_build import make_project, run_cli

from crinkkg.vocab import PREFIXES

BROKEN = "@prefix : <https://w3id.org/crinkkg/ontology#> .\n:x :y \n"


# -- location options (item 20) ----------------------------------------------------------


@pytest.mark.parametrize("placement", ["after", "before", "mixed"])
def test_location_options_work_before_and_after_the_command(tmp_path: Path, placement) -> None:
    make_project(tmp_path / "p")
    store = tmp_path / "elsewhere" / "store"
    where = ["--store", str(store), "--ontology", str(tmp_path / "p" / "ontology"),
             "--data", str(tmp_path / "p" / "data")]
    before, after = {"after": ([], where), "before": (where, []),
                     "mixed": (where[:2], where[2:])}[placement]
    result = run_cli(tmp_path, *before, "build", *after)
    assert result.returncode == 0, result.stderr
    assert store.is_symlink() and str(store) in result.stdout
    for command in (["query", "ASK { ?s ?p ?o }"], ["stats", "--json"],
                    ["export", "--format", "nquads"], ["validate"],
                    ["explain", "id:russia", "crink:alliedWith", "id:north-korea"]):
        result = run_cli(tmp_path, *before, *command, *after)
        assert result.returncode == 0, (command, result.stderr)
        assert "Traceback" not in result.stderr
    # the option after the command wins over the one before
    result = run_cli(tmp_path, "--store", str(tmp_path / "nowhere"), "query", "ASK {}",
                     "--no-build", "--store", str(store))
    assert result.returncode == 0 and result.stdout.strip() == "yes"


def test_serve_takes_the_store_after_the_command(tmp_path: Path) -> None:
    settings = make_project(tmp_path)
    result = run_cli(tmp_path, "build", "--store", str(tmp_path / "st"))
    assert result.returncode == 0, result.stderr
    # start_server puts the global form first; --store after `serve` overrides it
    with start_server(tmp_path / "unused", "--store", str(tmp_path / "st"),
                      ontology=settings.ontology_dir, data=settings.data_dir) as server:
        health = requests.get(server.url + "/health", timeout=30).json()
        assert health["store"] == str((tmp_path / "st").absolute())
    assert not (tmp_path / "unused").exists()


# -- a broken input file (item 19) -------------------------------------------------------


def test_query_answers_from_the_last_good_store_with_a_warning(tmp_path: Path) -> None:
    make_project(tmp_path)
    assert run_cli(tmp_path, "build").returncode == 0
    (tmp_path / "data" / "broken.ttl").write_text(BROKEN)
    result = run_cli(tmp_path, "query", "ASK { id:iran crink:supplies id:russia }")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "yes"
    assert "warning: the build failed" in result.stderr and "last good store" in result.stderr
    assert "broken.ttl:3" in result.stderr and "Traceback" not in result.stderr
    # --no-build: no build check at all, so no warning
    result = run_cli(tmp_path, "query", "--no-build", "ASK { ?s ?p ?o }")
    assert result.returncode == 0 and result.stdout.strip() == "yes"
    assert result.stderr == ""
    # with no store at all, the build error is the answer
    result = run_cli(tmp_path, "query", "--store", str(tmp_path / "none"), "ASK {}")
    assert result.returncode == 2 and "broken.ttl:3" in result.stderr


def test_serve_with_a_broken_input_serves_the_last_good_store(tmp_path: Path) -> None:
    settings = make_project(tmp_path)
    assert run_cli(tmp_path, "build").returncode == 0
    (tmp_path / "data" / "broken.ttl").write_text(BROKEN)
    with start_server(settings.store, ontology=settings.ontology_dir,
                      data=settings.data_dir) as server:
        health = requests.get(server.url + "/health", timeout=30).json()
        assert health["status"] == "stale"
        assert "broken.ttl:3" in health["build_error"] and "rebuild" in health["hint"]
        assert health["triples"] > 0
        r = requests.get(server.sparql, timeout=30, headers={"Accept": "application/json"},
                         params={"query": "ASK { id:iran crink:supplies id:russia }"})
        assert r.status_code == 200 and r.json()["boolean"] is True
        log = server.log()
        assert "warning: the build failed" in log and "STALE" in log
    # fixed: the next start builds and is no longer stale
    (tmp_path / "data" / "broken.ttl").unlink()
    with start_server(settings.store, "--no-build", ontology=settings.ontology_dir,
                      data=settings.data_dir) as server:
        assert requests.get(server.url + "/health", timeout=30).json()["status"] == "ok"


# -- corrupt store metadata (item 18, part) -----------------------------------------------


def test_a_corrupt_build_record_is_a_clear_error_and_a_build_repairs_it(tmp_path: Path) -> None:
    settings = make_project(tmp_path)
    assert run_cli(tmp_path, "build").returncode == 0
    record = settings.store.resolve() / "build.json"
    record.write_text('{"key": "abc", trunc')
    result = run_cli(tmp_path, "query", "--no-build", "ASK {}")
    assert result.returncode == 5, result.stderr
    assert "build record" in result.stderr and "unreadable" in result.stderr
    assert "crinkkg build --force" in result.stderr and "Traceback" not in result.stderr
    result = run_cli(tmp_path, "build")  # a record that cannot be trusted is rebuilt
    assert result.returncode == 0 and "built:" in result.stdout, result.stderr
    assert json.loads((settings.store.resolve() / "build.json").read_text())["key"]
    result = run_cli(tmp_path, "query", "ASK { ?s ?p ?o }")
    assert result.returncode == 0 and result.stdout.strip() == "yes"


# -- newcomer papercuts (item 21) ---------------------------------------------------------


def test_the_first_serve_says_it_builds_with_progress(tmp_path: Path) -> None:
    settings = make_project(tmp_path)
    with start_server(settings.store, ontology=settings.ontology_dir,
                      data=settings.data_dir) as server:
        log = server.log()
    assert "building the store" in log and "the server starts when it is done" in log
    for step in ("load", "validate", "reason", "store"):
        assert f"{step} " in log
    assert log.index("building the store") < log.index("serving http://")
    with start_server(settings.store, ontology=settings.ontology_dir,
                      data=settings.data_dir) as server:
        assert "building the store" not in server.log()  # current: nothing to build


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


@pytest.mark.parametrize("text,prefix,line,column", [
    ("SELECT * WHERE { ?s foo:bar ?o }", "foo", 1, 21),
    ("SELECT * WHERE {\n  ?s a crink:State ;\n     ex:name ?o }", "ex", 3, 6),
    ("SELECT * WHERE { ?s ?p ex: }", "ex", 1, 24),
])
def test_an_unknown_prefix_is_named_with_a_caret_and_every_predeclared_prefix(
        project, text, prefix, line, column) -> None:
    r = requests.post(project.sparql, data={"query": text}, timeout=30,
                      headers={"Accept": "application/json"})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "unknown-prefix" and body["prefix"] == prefix
    assert (body["line"], body["column"]) == (line, column)
    assert f"the prefix {prefix}: is not declared" in body["message"]
    source, caret = body["message"].splitlines()[1:3]
    assert source.strip() == text.splitlines()[line - 1].strip()
    assert caret.index("^") == source.index(f"{prefix}:")  # the caret is on the prefix
    for name in PREFIXES:
        assert f"{name}:" in body["hint"]
    assert body["predeclared"] == list(PREFIXES)
    r = requests.post(project.sparql, data={"query": text}, timeout=30)  # as text too
    assert r.status_code == 400 and f"{prefix}:" in r.text and "^" in r.text


def test_the_command_line_names_an_unknown_prefix_too(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = run_cli(tmp_path, "query", "SELECT * WHERE { ?s foo:bar ?o }")
    assert result.returncode == 1 and "the prefix foo: is not declared" in result.stderr
    assert "crink:, id:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("typed,meant", [("rusia", "russia"), ("Russia", "russia"),
                                         ("northkorea", "north-korea"),
                                         ("russia-treaty", "russia-dprk-treaty-2024")])
def test_did_you_mean_finds_near_spellings(project, typed, meant) -> None:
    r = requests.get(f"{project.url}/id/{typed}", headers={"Accept": "text/html"}, timeout=30)
    assert r.status_code == 404
    assert f'href="/id/{meant}"' in r.text, r.text[-2000:]
