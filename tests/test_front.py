"""The granian front over real HTTP: several HTTP processes that share one pool of query
workers, /metrics and /health adding up the whole server, one access-log line per
request, a killed HTTP process replaced, SIGTERM stopping every process; and waitress
still there behind ``--front waitress``."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
import requests
from servers import generated_project, start_server

LOOKUP = "SELECT ?p ?o WHERE { <http://example.org/s7> ?p ?o }"  # answered in-process
SCAN = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(?o > 3) }"  # goes to a worker
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return generated_project(tmp_path_factory.mktemp("front"), 50)


def _start(project, *args: str):
    ontology, data, store = project
    return start_server(store, "--query-workers", "2", *args, ontology=ontology, data=data)


def _descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid``: its command line."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
        commands[int(entry.name)] = command
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = commands.get(child, "")
            todo.append(child)
    return found


def _http_pids(server, want: int, tries: int = 400) -> set[int]:
    """The HTTP processes seen answering /health (new connection each time), until
    ``want`` distinct ones answered."""
    seen: set[int] = set()
    for _ in range(tries):
        seen.add(requests.get(server.url + "/health", timeout=30).json()["http_process"])
        if len(seen) >= want:
            break
    return seen


def _counter(text: str, endpoint: str, status: str = "200") -> int:
    m = re.search(r'crinkkg_http_requests_total\{endpoint="' + re.escape(endpoint)
                  + r'",method="GET",status="' + status + r'"\} (\d+)', text)
    return int(m.group(1)) if m else 0


def test_processes_share_the_workers_and_metrics_add_up(project) -> None:
    with _start(project, "--http-processes", "2", "--front-memory-quads", "0") as server:
        assert "granian, 2 HTTP processes" in server.log()
        pids = _http_pids(server, 2)
        assert len(pids) == 2, "requests on new connections never reached a second process"
        tree = _descendants(server.process.pid)
        workers = [p for p, cmd in tree.items() if "crinkkg.backends.embedded.worker" in cmd]
        assert len(workers) == 2, tree  # one pool for both HTTP processes, not one each
        assert set(pids) <= set(tree)
        before = _counter(requests.get(server.url + "/metrics", timeout=30).text, "/sparql")
        answered: set[int] = set()
        for i in range(40):
            r = requests.get(server.sparql, params={"query": LOOKUP if i % 2 else SCAN},
                             headers=JSON, timeout=30)
            assert r.status_code == 200, r.text
        for _ in range(20):
            answered.add(requests.get(server.url + "/health", timeout=30).json()
                         ["http_process"])
        text = requests.get(server.url + "/metrics", timeout=30).text
        assert _counter(text, "/sparql") - before == 40, text
        assert re.search(r"^crinkkg_query_workers 2$", text, re.M), text
        health = requests.get(server.url + "/health", timeout=30).json()
        assert health["query_workers"] == 2 and health["status"] == "ok"
        assert health["in_process_answers_from"] == "disk"  # --front-memory-quads 0 here
        log = server.log()
        assert len(re.findall(r'"GET /sparql\?query=', log)) == 40  # one line each, one log


def _value(text: str, name: str) -> float:
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    assert m, f"{name} not in /metrics"
    return float(m.group(1))


def test_answers_made_in_the_http_processes_are_counted(project) -> None:
    """/metrics counts the queries the HTTP processes answered themselves, over all of
    them: one-pattern queries, and queries asked again (with a limit every answer meets,
    which of those a process answers itself is known)."""
    inline, repeat = "crinkkg_inline_answers_total", "crinkkg_repeat_answers_total"
    with _start(project, "--http-processes", "2", "--inline-repeat-ms", "60000") as server:
        assert len(_http_pids(server, 2)) == 2
        text = requests.get(server.url + "/metrics", timeout=30).text
        assert f"# TYPE {inline} counter" in text and f"# TYPE {repeat} counter" in text
        before = _value(text, inline), _value(text, repeat)
        for i in range(40):  # a new connection each: both processes answer some
            r = requests.get(server.sparql, params={"query": LOOKUP if i % 2 else SCAN},
                             headers=JSON, timeout=30)
            assert r.status_code == 200, r.text
        text = requests.get(server.url + "/metrics", timeout=30).text
        assert _value(text, inline) - before[0] == 20
        # each process that got a SCAN sent its first to a worker and answered the rest
        assert 18 <= _value(text, repeat) - before[1] <= 19, text


def test_a_killed_http_process_is_replaced_and_sigterm_stops_all(project) -> None:
    server = _start(project, "--http-processes", "2")
    try:
        victim = _http_pids(server, 2).pop()
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:  # the other process answers meanwhile; a new one takes the place
            alive = {p for p, cmd in _descendants(server.process.pid).items()
                     if "crinkkg.backends.embedded.worker" not in cmd}
            if victim not in alive and len(alive) >= 2:
                break
            assert time.monotonic() < deadline, f"not replaced: {alive}\n{server.log()}"
            time.sleep(0.1)
        pids = _http_pids(server, 2)
        assert victim not in pids and len(pids) == 2
        r = requests.get(server.sparql, params={"query": SCAN}, headers=JSON, timeout=30)
        assert r.status_code == 200
        assert r.json()["results"]["bindings"][0]["n"]["value"] == "46"
        metrics = requests.get(server.url + "/metrics", timeout=30)
        assert metrics.status_code == 200  # the dead process's channel is dropped
        tree = _descendants(server.process.pid)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0, server.log()
        for pid in tree:
            assert not Path(f"/proc/{pid}").exists() or \
                Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", tree[pid]
    finally:
        server.stop()


def test_timeouts_stop_the_work_behind_the_front(tmp_path_factory) -> None:
    ontology, data, store = generated_project(tmp_path_factory.mktemp("front-slow"), 300)
    with start_server(store, "--timeout", "1", "--query-workers", "1", ontology=ontology,
                      data=data) as server:
        cross = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
        r = requests.get(server.sparql, params={"query": cross}, headers=JSON, timeout=60)
        assert r.status_code == 503 and r.json()["error"] == "timeout", r.text
        deadline = time.monotonic() + 30
        while requests.get(server.url + "/health", timeout=30).json()["query_workers"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        health = requests.get(server.url + "/health", timeout=30).json()
        assert health["worker_restarts"] >= 1
        text = requests.get(server.url + "/metrics", timeout=30).text
        assert re.search(r"^crinkkg_query_timeouts_total 1$", text, re.M), text


def test_each_http_process_answers_lookups_from_its_memory_copy(project) -> None:
    with _start(project, "--threads", "3") as server:  # the default --front-memory-quads
        assert "2 HTTP processes x 3 threads" in server.log()
        for pid in _http_pids(server, 2):
            assert pid != server.process.pid
        deadline = time.monotonic() + 60  # the copies are made in the background
        seen: dict[int, str] = {}
        while time.monotonic() < deadline and \
                (len(seen) < 2 or set(seen.values()) != {"memory"}):
            health = requests.get(server.url + "/health", timeout=30).json()
            seen[health["http_process"]] = health["in_process_answers_from"]
        assert len(seen) == 2 and set(seen.values()) == {"memory"}, seen
        r = requests.get(server.sparql, params={"query": LOOKUP}, headers=JSON, timeout=30)
        assert [b["o"]["value"] for b in r.json()["results"]["bindings"]] == ["7"]


def _reads(pid: int, folder: str) -> bool:
    """Whether process ``pid`` holds a file of ``folder`` open (a store it opened)."""
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.path.realpath(fd).startswith(folder + os.sep):
                return True
        except OSError:
            continue
    return False


def test_the_serving_process_opens_no_store_of_its_own(project) -> None:
    """The HTTP processes answer lookups from their own view of the store; the serving
    process above them answers none, so it opens no store (a memory copy there would be
    inherited by, and counted in, every HTTP process)."""
    store = project[2]
    with _start(project) as server:
        version = os.path.realpath(store)
        for _ in range(6):
            r = requests.get(server.sparql, params={"query": LOOKUP}, headers=JSON, timeout=30)
            assert r.status_code == 200, r.text
        pids = _http_pids(server, 2)
        assert any(_reads(pid, version) for pid in pids), "no HTTP process opened the store"
        assert not _reads(server.process.pid, version)


def test_the_serving_side_imports_no_rdflib() -> None:
    """What the serving process imports, every HTTP process forked from it holds too: the
    web app, the front and the build's cache check load without rdflib (and so without the
    build), which only the build itself and pages that need it import."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['rdflib'] = None\n"
            "import crinkkg.web, crinkkg.web.front, crinkkg.build.cache, crinkkg.cli.main\n"
            "print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_waitress_is_still_there(project) -> None:
    with _start(project, "--front", "waitress") as server:
        assert "waitress, 8 threads" in server.log()
        r = requests.get(server.sparql, params={"query": SCAN}, headers=JSON, timeout=30)
        assert r.status_code == 200 and r.json()["results"]["bindings"][0]["n"]["value"] \
            == "46"
        assert "http_process" in requests.get(server.url + "/health", timeout=30).json()


def test_bad_front_settings_are_refused(project) -> None:
    with pytest.raises(RuntimeError, match="--http-processes must be at least 1"):
        _start(project, "--http-processes", "0")


def test_access_log_keeps_one_line_per_request() -> None:
    import io
    import time

    from crinkkg.web.http.access_log import AccessLog

    stream = io.StringIO()
    AccessLog(stream).write({"PATH_INFO": "/a\nb\r", "REQUEST_METHOD": "GET",
                             "REMOTE_ADDR": "::1"}, "200", "2", time.perf_counter())
    assert stream.getvalue().count("\n") == 1
    assert stream.getvalue().startswith('::1 "GET /a\\x0ab\\x0d" 200 2 ')
