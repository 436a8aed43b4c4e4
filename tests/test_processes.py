"""The processes of ``crinkkg serve``, over real HTTP against real servers (issue 23):

- none outlives the serving process, whatever kills it (``kill -9`` included, also during
  start-up), so that no orphan keeps answering on the port or writing the store;
- a server restarted on the same port never shares it with an old one's processes;
- clients that hold connections and send nothing (slowloris, silent sockets, 1,000 idle
  keep-alives) do not keep a new client waiting;
- an HTTP process that keeps dying degrades the server, which goes on answering and says
  so in its log and on /health, instead of stopping it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import idle_clients
import pytest
import requests
from servers import CRINKKG, ROOT, generated_project, start_server

TOKEN = "test-token-processes"
SCAN = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(?o > 3) }"  # goes to a worker
CROSS = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o }"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return generated_project(tmp_path_factory.mktemp("processes"), 50)


def _start(project, *args: str, **kwargs):
    ontology, data, store = project
    return start_server(store, "--query-workers", "2", *args, ontology=ontology, data=data,
                        **kwargs)


def _group(pgid: int) -> dict[int, str]:
    """The live (not zombie) processes of process group ``pgid``: their command lines.
    ``start_server`` makes the server a group leader; every process it starts stays in
    its group."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in "ZX":
            found[int(entry.name)] = command
    return found


def _left_after(pgid: int, seconds: float) -> dict[int, str]:
    """The group's processes still there ``seconds`` after now (polled, so a pass is fast)."""
    deadline = time.monotonic() + seconds
    while True:
        left = _group(pgid)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _ask_quietly(sparql: str, query: str) -> None:
    """A request whose answer does not matter (its server is killed meanwhile)."""
    try:
        requests.get(sparql, params={"query": query}, timeout=60)
    except requests.RequestException:
        pass


def _wait_for_a_busy_worker(pgid: int) -> None:
    """Until a query worker of the group is running (on a CPU)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for pid, command in _group(pgid).items():
            if "worker query" not in command:
                continue
            try:
                if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "R":
                    return
            except OSError:
                continue
        time.sleep(0.05)
    raise AssertionError("no query worker started the query")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_kill_9_leaves_no_process_behind(project) -> None:
    server = _start(project, "--http-processes", "2", "--enable-update",
                    env={"CRINKKG_UPDATE_TOKEN": TOKEN})
    pgid = server.process.pid
    try:
        r = requests.get(server.sparql, params={"query": SCAN}, timeout=30)
        assert r.status_code == 200, r.text
        before = _group(pgid)
        # the serving process, 2 HTTP processes, 2 query workers, the update worker
        assert len(before) >= 6, before
        # a query worker busy in Rust (minutes of cross product), an HTTP process waiting
        busy = threading.Thread(target=_ask_quietly, args=(server.sparql, CROSS), daemon=True)
        busy.start()
        _wait_for_a_busy_worker(pgid)
        server.process.kill()
        server.process.wait(timeout=10)
        left = _left_after(pgid, 1.0)
        assert left == {}, f"still running 1 s after kill -9 of serve: {left}"
    finally:
        _kill_group(pgid)


@pytest.mark.parametrize("after", [0.3, 0.8, 1.5])
def test_kill_9_during_start_up_leaves_no_process_behind(project, after) -> None:
    ontology, data, store = project
    process = subprocess.Popen(
        [CRINKKG, "--store", str(store), "--ontology", str(ontology), "--data", str(data),
         "serve", "--host", "127.0.0.1", "--port", "0", "--enable-update"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
        env={**os.environ, "CRINKKG_UPDATE_TOKEN": TOKEN}, start_new_session=True)
    try:
        time.sleep(after)
        process.kill()
        process.wait(timeout=10)
        left = _left_after(process.pid, 1.0)
        assert left == {}, f"still running 1 s after kill -9 at {after} s: {left}"
    finally:
        _kill_group(process.pid)


def test_a_restart_on_the_same_port_never_shares_it(project) -> None:
    """kill -9, then at once a new server on the same port: every request is answered, by
    the new server's processes."""
    port = str(_free_port())
    old = _start(project, "--port", port)
    old_pgid = old.process.pid
    try:
        for _ in range(4):
            assert requests.get(old.url + "/health", timeout=10).status_code == 200
        old.process.kill()
        old.process.wait(timeout=10)
        with _start(project, "--port", port) as new:
            assert new.url == old.url
            mine = set(_group(new.process.pid))
            for _ in range(10):
                r = requests.get(new.url + "/health", timeout=5)  # a hang fails here
                assert r.status_code == 200 and r.json()["http_process"] in mine
            r = requests.get(new.sparql, params={"query": SCAN}, timeout=10)
            assert r.status_code == 200, r.text
            assert _group(old_pgid) == {}
    finally:
        _kill_group(old_pgid)


def test_a_port_held_by_another_listener_is_refused(project) -> None:
    """Whatever holds the port (an old server's orphan would): the new server does not
    bind beside it with SO_REUSEPORT, it says what is wrong."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen(8)
    port = holder.getsockname()[1]
    try:
        started = time.monotonic()
        with pytest.raises(RuntimeError) as failure:
            _start(project, "--port", str(port))
        message = str(failure.value)
        assert f"cannot listen on 127.0.0.1:{port}" in message, message
        assert "another process" in message and "--port" in message, message
        assert time.monotonic() - started < 30
    finally:
        holder.close()


def test_two_servers_reserving_one_port_at_once_cannot_both_have_it() -> None:
    """Two sockets bound and not yet listening do not conflict: the port's lock does."""
    from crinkkg.errors import CrinkError
    from crinkkg.web.front import hold_port, reserve_port

    first = reserve_port("127.0.0.1", 0)
    port = first.getsockname()[1]
    lock = hold_port("127.0.0.1", port)
    try:
        with pytest.raises(CrinkError, match="another crinkkg server"):
            hold_port("127.0.0.1", port, wait=0.3)
    finally:
        lock.close()
        first.close()
    hold_port("127.0.0.1", port, wait=0.3).close()  # free again once the holder lets go


# -- idle clients ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def idle_server(project):
    with _start(project, "--http-processes", "2") as server:
        yield server


def _probe_during(server, case) -> idle_clients.Probe:
    with case:
        seen = idle_clients.probe(server.url, seconds=4)
    assert seen.failures == 0 and seen.quantile(0.99) < 0.5, str(seen)
    return seen


def test_slowloris_does_not_starve_other_clients(idle_server) -> None:
    _probe_during(idle_server, idle_clients.slowloris(idle_server.url, 200))


def test_silent_sockets_do_not_starve_other_clients(idle_server) -> None:
    _probe_during(idle_server, idle_clients.silent_sockets(idle_server.url, 140))


def test_a_thousand_idle_keep_alives_do_not_starve_other_clients(idle_server) -> None:
    with idle_clients.kept_alive(idle_server.url, 1000) as kept:
        assert kept.answered == len(kept.socks) == 1000
        seen = idle_clients.probe(idle_server.url, seconds=4)
    assert seen.failures == 0 and seen.quantile(0.99) < 0.5, str(seen)


def _closed_within(url: str, first: bytes, seconds: float) -> float | None:
    """The seconds until the server closes a connection that sent ``first`` (then only a
    header line now and then, if ``first`` is an unfinished head); None: still open."""
    host, port = url.split("//")[1].rsplit(":", 1)
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(first)
        s.settimeout(0.5)
        while time.monotonic() - started < seconds:
            try:
                if not s.recv(65536):
                    return time.monotonic() - started
            except TimeoutError:
                if first and not first.endswith(b"\r\n\r\n"):
                    try:
                        s.sendall(b"X-Slow: y\r\n")
                    except OSError:
                        return time.monotonic() - started
            except OSError:
                return time.monotonic() - started
    return None


def test_idle_and_slow_connections_are_closed_after_the_header_timeout(project) -> None:
    """Silent, slow (slowloris) and idle keep-alive connections are all closed once
    --header-timeout has passed (2 s here; closed by 10 s is the test's margin)."""
    with _start(project, "--header-timeout", "2") as server:
        kinds = {"silent": b"", "slowloris": b"GET / HTTP/1.1\r\nHost: localhost\r\n",
                 "idle keep-alive": idle_clients.REQUEST}
        closed: dict[str, float | None] = {}
        threads = [threading.Thread(target=lambda k=k, f=f: closed.__setitem__(
            k, _closed_within(server.url, f, 10))) for k, f in kinds.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(seconds is not None and seconds >= 1.5 for seconds in closed.values()), \
            closed


# -- crash loops ----------------------------------------------------------------------------

def _http_processes(server) -> set[int]:
    """The HTTP processes now (the serving process's children that are not workers)."""
    return {pid for pid, command in _group(server.process.pid).items()
            if pid != server.process.pid and "crinkkg.backends.embedded.worker" not in command}


def _get(url: str, **options) -> requests.Response:
    """A GET that tries again when its connection was reset: a connection the kernel had
    queued for an HTTP process killed with SIGKILL is reset with it (a client retries);
    what the test checks is that the server keeps answering."""
    for attempt in range(3):
        try:
            return requests.get(url, timeout=10, **options)
        except requests.ConnectionError:
            if attempt == 2:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


def test_a_crash_loop_degrades_the_server_and_does_not_stop_it(project) -> None:
    with _start(project, "--http-processes", "2") as server:
        first = _http_processes(server)
        assert len(first) == 2, first
        victim = first.pop()
        killed = {victim}
        for _ in range(3):  # each replacement dies within a second of starting
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while True:
                now = _http_processes(server) - killed - first
                if now:
                    break
                assert server.process.poll() is None, server.log()
                r = _get(server.url + "/health")  # answered meanwhile
                assert r.status_code == 200, r.text
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.05)
            victim = now.pop()
            killed.add(victim)
            time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
        time.sleep(0.5)
        assert server.process.poll() is None, server.log()
        health = _get(server.url + "/health").json()
        assert health["status"] == "degraded", health
        assert health["http_processes"]["running"] == 1, health
        assert health["http_processes"]["configured"] == 2, health
        assert "HTTP process" in health["hint"], health
        r = _get(server.sparql, params={"query": SCAN})
        assert r.status_code == 200, r.text
        assert "crash loop" in server.log(), server.log()
        deadline = time.monotonic() + 60  # the back-off ends: both processes again
        while (health := _get(server.url + "/health").json())[
                "status"] != "ok":
            assert time.monotonic() < deadline, (health, server.log())
            time.sleep(0.2)
        assert health["http_processes"]["running"] == 2, health
        assert server.process.poll() is None


@pytest.mark.slow
def test_kill_9_in_many_rounds_leaves_nothing_running_and_publishes_nothing(tmp_path) -> None:
    """Ten rounds, each killed at another moment (starting, idle, mid-update, mid-query):
    nothing runs 1 s later, and no update is published after the server died."""
    ontology, data, store = generated_project(tmp_path, 50)
    env = {"CRINKKG_UPDATE_TOKEN": TOKEN}
    auth = {"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"}
    for round_ in range(10):
        if round_ % 3 == 0:  # during start-up
            process = subprocess.Popen(
                [CRINKKG, "--store", str(store), "--ontology", str(ontology), "--data",
                 str(data), "serve", "--host", "127.0.0.1", "--port", "0", "--enable-update"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                env={**os.environ, **env}, start_new_session=True)
            time.sleep(0.2 + 0.4 * round_ / 3)
        else:
            server = start_server(store, "--enable-update", ontology=ontology, data=data,
                                  env=env)
            process = server.process
            for i in range(3):  # updates in flight
                text = f"INSERT DATA {{ <http://example.org/r{round_}-{i}> " \
                       "<http://example.org/p> 1 }"
                threading.Thread(target=_post_quietly, args=(server.sparql, text, auth),
                                 daemon=True).start()
            threading.Thread(target=_ask_quietly, args=(server.sparql, CROSS),
                             daemon=True).start()
            time.sleep(0.1 * round_)
        try:
            process.kill()
            process.wait(timeout=10)
            left = _left_after(process.pid, 1.0)
            assert left == {}, f"round {round_}: still running 1 s after kill -9: {left}"
            version = os.path.realpath(store)
            time.sleep(2)
            assert os.path.realpath(store) == version, f"round {round_}: published after"
        finally:
            _kill_group(process.pid)


def _post_quietly(url: str, text: str, headers: dict) -> None:
    try:
        requests.post(url, data=text.encode(), headers=headers, timeout=60)
    except requests.RequestException:
        pass


def test_workers_launched_and_never_waited_for_are_stopped_by_close(project_settings,
                                                                    built_store) -> None:
    """``crinkkg serve`` launches the query workers before the web app is made; a server
    that then cannot start (its port taken) closes the backend, which stops them even
    though nobody waited for them to boot."""
    from crinkkg.backends.embedded.pool import WorkerPool

    pool = WorkerPool("query", project_settings.store, 2, ("0", "1536", "100"))
    pool.launch()
    processes = [process for process, _ in pool._booting]
    assert len(processes) == 2 and all(p.poll() is None for p in processes)
    pool.close()
    assert all(p.poll() is not None for p in processes)  # gone when close returns
    assert pool._booting == []
