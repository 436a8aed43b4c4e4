"""A damaged store, for real: bytes of a table file (``.sst``) of a copy of a built store
are overwritten, and the commands and a running server are asked.

Every answer says the store is damaged (exit status 5, or 503 ``store-damaged`` and a
``/health`` that says so), names no path of the machine, and gives a hint that works:
``crinkkg build --force`` (a plain build too) repairs it. A command that needs more memory
than the workers' bound says so in words, not with Rust's abort."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from servers import ROOT, run_crinkkg, start_server

COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
TRIPLES = 3000


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A project of 3,000 padded literals (several table files), built once."""
    root = tmp_path_factory.mktemp("damaged")
    (root / "ontology").mkdir()
    (root / "data").mkdir()
    lines = [f'<http://example.org/s{i}> <http://example.org/p> "value {i} padded with some '
             f'text to fill the table files" .' for i in range(TRIPLES)]
    (root / "data" / "facts.ttl").write_text("\n".join(lines) + "\n")
    done = run_crinkkg("--store", str(root / "store"), "--ontology", str(root / "ontology"),
                       "--data", str(root / "data"), "build", "--quiet")
    assert done.returncode == 0, done.stderr
    return root


def copy_store(built: Path, into: Path) -> Path:
    """A copy of the built project (inputs and store) under ``into``; its store link."""
    shutil.copytree(built, into, symlinks=True)
    return into / "store"


def largest_table(store: Path) -> Path:
    db = store.resolve() / "db"
    return max(db.glob("*.sst"), key=lambda p: p.stat().st_size)


def damage(table: Path, offset: int = 5000, size: int = 64) -> None:
    """Flip ``size`` bytes of ``table`` at ``offset``, in place (the same file, as a disk
    fault would)."""
    with open(table, "r+b") as handle:
        handle.seek(offset)
        data = handle.read(size)
        handle.seek(offset)
        handle.write(bytes(b ^ 0xFF for b in data))


def crinkkg(store: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    project = store.parent
    return run_crinkkg("--store", str(store), "--ontology", str(project / "ontology"),
                       "--data", str(project / "data"), *args, env=env, timeout=120)


def assert_damaged(done: subprocess.CompletedProcess, root: Path) -> None:
    assert done.returncode == 5, (done.returncode, done.stderr[-2000:])
    assert "error: the store is damaged" in done.stderr
    assert "crinkkg build --force" in done.stderr
    assert "Traceback" not in done.stderr and "RuntimeError" not in done.stderr
    assert str(root) not in done.stderr and "/" + "STORE" not in done.stderr


def test_commands_on_a_damaged_store_say_so_without_paths(built, tmp_path) -> None:
    store = copy_store(built, tmp_path / "p")
    damage(largest_table(store))
    for args in (["query", "--no-build", COUNT], ["stats", "--no-build"],
                 ["export", "--no-build"], ["stats", "--no-build", "--json"]):
        done = crinkkg(store, *args)
        assert_damaged(done, tmp_path)
        assert ".sst" in done.stderr  # which file, by its name only


def test_rocksdb_corruption_is_a_damaged_store_without_paths(built, tmp_path) -> None:
    """A store published before records were kept: RocksDB's own "Corruption: ... in
    <path>" at open becomes the same error, without the path."""
    store = copy_store(built, tmp_path / "p")
    record = store.resolve() / "build.json"
    data = json.loads(record.read_text())
    del data["files"]
    record.write_text(json.dumps(data))
    db = store.resolve() / "db"
    smallest = min(db.glob("*.sst"), key=lambda p: p.stat().st_size)
    damage(smallest, offset=100)  # its properties block, read when the store opens
    done = crinkkg(store, "query", "--no-build", COUNT)
    assert_damaged(done, tmp_path)
    assert "checksum mismatch" in done.stderr


def test_a_build_repairs_a_damaged_store(built, tmp_path) -> None:
    """The hint works: the build cache does not trust a damaged version (a plain build and
    a query without --no-build rebuild it; --force always does)."""
    store = copy_store(built, tmp_path / "p")
    damage(largest_table(store))
    done = crinkkg(store, "build")
    assert done.returncode == 0 and "built:" in done.stdout, done.stderr
    assert crinkkg(store, "query", "--no-build", COUNT, "--format", "csv").stdout \
        .split() == ["n", str(TRIPLES)]
    damage(largest_table(store))
    done = crinkkg(store, "query", COUNT, "--format", "csv")
    assert done.returncode == 0 and done.stdout.split() == ["n", str(TRIPLES)], done.stderr
    damage(largest_table(store))
    assert crinkkg(store, "build", "--force").returncode == 0
    assert crinkkg(store, "stats", "--no-build").returncode == 0


def test_a_command_runs_under_the_workers_memory_bound(built, tmp_path) -> None:
    """A query that needs more memory than --worker-memory-mb stops with a sentence and
    exit status 1, not Rust's "memory allocation of N bytes failed" and a core dump."""
    store = copy_store(built, tmp_path / "p")
    done = crinkkg(store, "query", "--no-build", "--format", "csv",
                   "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i",
                   env={"CRINKKG_WORKER_MEMORY_MB": "300"})
    assert done.returncode == 1, (done.returncode, done.stderr[-1000:])
    assert "error: the command needed more than 300 MB of memory" in done.stderr
    assert "--worker-memory-mb" in done.stderr
    assert "memory allocation of" not in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_server_says_its_store_is_damaged_and_serves_the_rebuild(built, tmp_path) -> None:
    store = copy_store(built, tmp_path / "p")
    project = store.parent
    with start_server(store, "--no-build", "--query-workers", "1",
                      ontology=project / "ontology", data=project / "data") as server:
        assert requests.get(server.url + "/health", timeout=30).json()["status"] == "ok"
        damage(largest_table(store))  # under the running server
        health = requests.get(server.url + "/health", timeout=30)
        assert health.status_code == 503, health.text
        body = health.json()
        assert body["status"] == "damaged" and body["error"] == "store-damaged"
        assert "crinkkg build --force" in body["hint"] and str(tmp_path) not in health.text
        time.sleep(1.2)  # every HTTP process looks at the files at least once a second
        for accept in ("application/json", "text/plain", "application/json"):
            r = requests.post(server.sparql, data={"query": COUNT},
                              headers={"Accept": accept}, timeout=60)
            assert r.status_code == 503, r.text
            assert "store-damaged" in r.text and str(tmp_path) not in r.text
            assert "/" + "tmp" not in r.text and "internal" not in r.text
        done = crinkkg(store, "build", "--force", "--quiet")
        assert done.returncode == 0, done.stderr
        health = requests.get(server.url + "/health", timeout=30)
        assert health.status_code == 200 and health.json()["status"] == "ok", health.text
        r = requests.post(server.sparql, data={"query": COUNT},
                          headers={"Accept": "application/json"}, timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["results"]["bindings"][0]["n"]["value"] == str(TRIPLES)


def test_a_stale_build_error_in_health_names_no_path(built, tmp_path) -> None:
    store = copy_store(built, tmp_path / "p")
    project = store.parent
    (project / "data" / "broken.ttl").write_text("<http://example.org/a> <http://e/b> .\n")
    with start_server(store, "--query-workers", "1", ontology=project / "ontology",
                      data=project / "data") as server:
        health = requests.get(server.url + "/health", timeout=30).json()
        assert health["status"] == "stale" and "broken.ttl" in health["build_error"]
        assert str(tmp_path) not in health["build_error"]
        assert str(ROOT) not in health["build_error"]


def test_the_start_up_check_is_kept_for_the_processes_forked_after_it(built, tmp_path,
                                                                     monkeypatch) -> None:
    """``crinkkg serve`` reads every database file once, in its cache check, before granian
    forks its HTTP processes: they inherit the verdict instead of reading the files again
    at their first request. A file written to since is read again."""
    import os

    from crinkkg.build.cache import why_rebuild
    from crinkkg.settings import Settings
    from crinkkg.store import integrity

    store = copy_store(built, tmp_path / "project")
    settings = Settings(ontology_dir=store.parent / "ontology",
                        data_dir=store.parent / "data", store=store)
    assert why_rebuild(settings) == "the inputs changed"  # copied: its paths differ
    reads: list[str] = []
    real_crc = integrity.crc_of
    monkeypatch.setattr(integrity, "crc_of", lambda path: reads.append(path.name)
                        or real_crc(path))
    version = os.path.realpath(store)
    assert integrity.known_damage(version) is None  # as an HTTP process asks it
    assert integrity.known_damage(Path(store).resolve()) is None  # named another way
    assert reads == []
    table = largest_table(store)
    damage(table)
    assert integrity.known_damage(version) is not None
    assert table.name in reads
