"""A full or read-only disk, for real: the store lives on a 48 MB tmpfs mounted in a
private mount namespace of the server (``unshare -m``, root only; skipped otherwise),
which the test fills up and remounts read-only under the running server.

An update then gets 507 with a message a user can act on (no server paths, not "a bug
in the server"), queries go on, and nothing acknowledged is lost."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from servers import start_server

TOKEN = "disk-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
GRAPH = "http://example.org/g"
MOUNT_SH = 'mount -t tmpfs -o size=48m tmpfs "$0" && exec "$@"'


def _can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("nsenter") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _can_mount(), reason="needs root and unshare/nsenter to "
                                "mount a private tmpfs (the full-disk test)")


@pytest.fixture
def server(tmp_path: Path):
    mount = tmp_path / "disk"
    mount.mkdir()
    (tmp_path / "ontology").mkdir()
    (tmp_path / "data").mkdir()
    lines = [f"<http://example.org/s{i}> <http://example.org/p> {i} ." for i in range(50)]
    (tmp_path / "data" / "facts.ttl").write_text("\n".join(lines) + "\n")
    with start_server(mount / "store", "--enable-update", ontology=tmp_path / "ontology",
                      data=tmp_path / "data", env={"CRINKKG_UPDATE_TOKEN": TOKEN},
                      wrapper=["unshare", "-m", "sh", "-c", MOUNT_SH, str(mount)]) as handle:
        handle.mount = mount  # type: ignore[attr-defined]
        # the server's view of the mount (this process sees the empty directory below it)
        handle.disk = Path(f"/proc/{handle.process.pid}/root") / mount.relative_to("/")  # type: ignore[attr-defined]
        yield handle


def insert(server, marker: str) -> requests.Response:
    update = f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <http://example.org/{marker}> " \
             f"<http://example.org/p> 1 }} }}"
    return requests.post(server.sparql, data={"update": update}, headers=AUTH, timeout=120)


def present(server) -> set[str]:
    r = requests.post(server.sparql, timeout=60, headers={"Accept": "application/json"},
                      data={"query": f"SELECT ?s {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}"})
    assert r.status_code == 200, r.text
    return {b["s"]["value"].rsplit("/", 1)[-1] for b in r.json()["results"]["bindings"]}


def assert_actionable_507(r: requests.Response, server, words: str) -> None:
    assert r.status_code == 507, (r.status_code, r.text)
    body = r.json()
    assert body["error"] == "insufficient-storage"
    assert words in body["message"] and "not applied" in body["message"]
    assert "queries are still answered" in body["message"] and "operator" in body["hint"]
    assert str(server.mount) not in r.text and "/proc" not in r.text  # no server paths
    assert "bug" not in r.text


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 2**20)
                f.flush()
        except OSError:
            pass
    return filler


def test_full_disk_is_507_queries_go_on_nothing_acknowledged_is_lost(server) -> None:
    acknowledged = set()
    for _ in range(3):
        marker = f"ok-{uuid.uuid4().hex[:8]}"
        assert insert(server, marker).status_code == 200
        acknowledged.add(marker)
    filler = fill(server.disk)
    refused = set()
    for _ in range(3):
        marker = f"refused-{uuid.uuid4().hex[:8]}"
        assert_actionable_507(insert(server, marker), server, "the disk that holds the store "
                              "is full")
        refused.add(marker)
        assert present(server) == acknowledged  # queries go on, from the last version
    filler.unlink()
    marker = f"ok-{uuid.uuid4().hex[:8]}"
    r = insert(server, marker)
    assert r.status_code == 200, r.text
    acknowledged.add(marker)
    assert present(server) == acknowledged
    assert requests.get(server.url + "/health", timeout=30).json()["status"] == "ok"
    # the journal holds each acknowledged write, and none of the refused ones
    journal = (server.disk / "store.journal").read_text()
    assert journal.count("TC .") == len(acknowledged)
    assert all(m in journal for m in acknowledged) and not any(m in journal for m in refused)


def test_read_only_disk_is_507_and_queries_go_on(server) -> None:
    first = "ok-before"
    assert insert(server, first).status_code == 200
    pid = str(server.process.pid)
    subprocess.run(["nsenter", "-t", pid, "-m", "mount", "-o", "remount,ro",
                    str(server.mount)], check=True)
    assert_actionable_507(insert(server, "refused"), server, "read-only")
    r = requests.put(f"{server.store}?graph=http://example.org/other", timeout=60,
                     data='<http://example.org/a> <http://example.org/b> "1" .',
                     headers={**AUTH, "Content-Type": "application/n-triples"})
    assert_actionable_507(r, server, "read-only")
    assert present(server) == {first}
    subprocess.run(["nsenter", "-t", pid, "-m", "mount", "-o", "remount,rw",
                    str(server.mount)], check=True)
    assert insert(server, "ok-after").status_code == 200
    assert present(server) == {first, "ok-after"}
