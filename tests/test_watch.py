"""``crinkkg serve --watch`` (issue 20, item 7): a saved input is answered after a rebuild
without a failed request; a build that fails leaves the last good store served and says so
on /health, in the log and on every page, until a fixed file builds again."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import requests
from servers import ROOT, run_crinkkg, start_server

LABEL = "SELECT ?l { id:iran-shahed-drones-to-russia rdfs:label ?l }"
OLD = '"Iran supplies Shahed drones to Russia"@en'
NEW = '"Iran supplies Shahed drones to Russia (as saved)"@en'


class Load:
    """Requests sent without a pause (a query and a page in turn), counting failures."""

    def __init__(self, server) -> None:
        self.server, self.sent, self.failed = server, 0, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            for url, params in ((self.server.sparql, {"query": LABEL}),
                                (self.server.url + "/id/russia", {})):
                try:
                    r = session.get(url, params=params, timeout=30,
                                    headers={"Accept": "text/html" if not params else
                                             "application/sparql-results+json"})
                    if r.status_code != 200:
                        self.failed.append((url, r.status_code, r.text[:200]))
                except requests.RequestException as exc:
                    self.failed.append((url, type(exc).__name__, str(exc)[:200]))
                self.sent += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def label(server) -> str:
    r = requests.get(server.sparql, params={"query": LABEL}, timeout=30,
                     headers={"Accept": "application/sparql-results+json"})
    return r.json()["results"]["bindings"][0]["l"]["value"]


def wait_for(check, what: str, limit: float = 120.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if check():
            return time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"not within {limit} s: {what}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "ontology", tmp_path / "ontology")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


def test_a_saved_change_is_served_and_a_broken_one_is_reported(project: Path) -> None:
    data = project / "data" / "russia-iran.ttl"
    original = data.read_text(encoding="utf-8")
    assert OLD in original
    with start_server(project / "store", "--watch", ontology=project / "ontology",
                      data=project / "data", timeout=180) as server:
        load = Load(server)
        try:
            data.write_text(original.replace(OLD, NEW), encoding="utf-8")
            seconds = wait_for(lambda: label(server).endswith("(as saved)"),
                               "the saved label answered")
            print(f"a saved change was answered {seconds:.2f} s after the save")
            # a broken save: the last good store stays served, and everything says so
            data.write_text(original.replace(OLD, NEW) + "\nthis is not Turtle <\n",
                            encoding="utf-8")
            wait_for(lambda: requests.get(server.url + "/health", timeout=30)
                     .json()["status"] == "stale", "/health says stale")
            health = requests.get(server.url + "/health", timeout=30).json()
            assert "russia-iran.ttl" in health["build_error"]
            assert str(project) not in health["build_error"]  # no server paths
            assert "save them" in health["hint"]
            page = requests.get(server.url + "/id/iran", headers={"Accept": "text/html"},
                                timeout=30).text
            assert "The last build failed" in page and "russia-iran.ttl" in page
            assert label(server).endswith("(as saved)")  # the last good store answers
            assert "watch: the build failed" in server.log()
            # fixed: served again, and the banner is gone (not a cached page: a 200)
            data.write_text(original, encoding="utf-8")
            wait_for(lambda: requests.get(server.url + "/health", timeout=30)
                     .json()["status"] == "ok", "/health ok again")
            assert label(server) == OLD.strip('"').removesuffix('"@en')
            page = requests.get(server.url + "/id/iran", headers={"Accept": "text/html"},
                                timeout=30).text
            assert "The last build failed" not in page
        finally:
            load.close()
        print(f"{load.sent} requests during the rebuilds, {len(load.failed)} failed")
        assert load.sent > 50
        assert load.failed == []


@pytest.mark.parametrize("other", [["--enable-update"], []])
def test_watch_refuses_what_it_cannot_follow(tmp_path: Path, other: list[str]) -> None:
    if other:
        done = run_crinkkg("--store", str(tmp_path / "store"), "serve", "--watch", *other,
                           env={"CRINKKG_UPDATE_TOKEN": "a-long-enough-token"})
    else:
        done = run_crinkkg("--backend", "http://127.0.0.1:9/sparql", "serve", "--watch")
    assert done.returncode != 0
    assert "--watch is on together with --" in done.stderr, done.stderr
    assert "hint:" in done.stderr
