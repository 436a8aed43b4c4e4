"""Start and stop the servers under test, all on 127.0.0.1, each in its own process group.

- ``crinkkg``: ``crinkkg serve`` over the built store (a cache-hit build, then the server);
- ``oxigraph``: Oxigraph's Rust server, ``oxigraph serve-read-only --union-default-graph``,
  over the same database directory (``STORE/db``);
- ``rdflib-endpoint``: the ``rdflib-endpoint`` package (FastAPI under uvicorn) over an
  in-memory rdflib ``Dataset`` (default graph = union) loaded from the store's N-Quads dump,
  which is how that package is used;
- ``crinkkg-waitress``: ``crinkkg serve --front waitress`` (the single-process front);
- ``crinkkg-no-repeats`` (only when named): ``crinkkg serve --inline-repeat-ms 0``, every
  query but lookups answered by a worker, however often it was asked;
- ``ceiling-granian`` / ``ceiling-waitress`` / ``ceiling-waitress-pinned`` /
  ``ceiling-gunicorn``: a bare Flask app that returns a constant SPARQL JSON answer, under
  granian (as many processes and threads as `crinkkg serve`), waitress (on all CPUs, and on
  one CPU as `crinkkg serve --front waitress` runs) and gunicorn (gthread), to measure what
  the Python HTTP stack alone allows (the ceiling for cheap queries).

The last three are also runnable on their own: ``python -m bench.servers rdflib-endpoint
--nquads FILE --port P`` and ``python -m bench.servers ceiling --port P``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
PY = sys.executable

# a constant answer of about the size of the lookup query's (nine bindings)
CONSTANT_ANSWER = json.dumps({
    "head": {"vars": ["p", "o"]},
    "results": {"bindings": [
        {"p": {"type": "uri", "value": f"https://w3id.org/crinkkg/ontology#p{i}"},
         "o": {"type": "uri", "value": f"https://w3id.org/crinkkg/id/value-{i:04d}"}}
        for i in range(9)]},
}).encode()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _bin(name: str) -> str | None:
    here = Path(PY).with_name(name)
    return str(here) if here.exists() else shutil.which(name)


@dataclass
class ServerSpec:
    name: str
    argv: list[str]
    endpoint: str  # full URL of the SPARQL endpoint
    port: int
    env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 120.0
    note: str = ""


@dataclass
class Running:
    spec: ServerSpec
    proc: subprocess.Popen
    ready_s: float
    log: Path


def crinkkg_available() -> tuple[bool, str]:
    if _bin("crinkkg") is None:
        return False, "the crinkkg command is not installed (pip install -e .)"
    try:
        found = importlib.util.find_spec("crinkkg.web.server") is not None
    except ImportError:
        found = False
    if not found:
        return False, "crinkkg serve is not implemented yet (no crinkkg.web.server)"
    return True, ""


def crinkkg_spec(ontology: Path, data: Path, store: Path, *, port: int | None = None,
                 extra: list[str] | None = None, name: str = "crinkkg") -> ServerSpec:
    port = port or free_port()
    argv = [_bin("crinkkg") or "crinkkg", "--ontology", str(ontology), "--data", str(data),
            "--store", str(store), "serve", "--host", HOST, "--port", str(port)]
    if name == "crinkkg-waitress":
        argv += ["--front", "waitress"]
    if name == "crinkkg-no-repeats":
        argv += ["--inline-repeat-ms", "0"]
    return ServerSpec(name, argv + list(extra or []), f"http://{HOST}:{port}/sparql", port)


def oxigraph_available() -> tuple[bool, str]:
    if _bin("oxigraph") is None:
        return False, "the oxigraph server is not installed (pip install oxigraph)"
    return True, ""


def oxigraph_spec(db: Path, *, port: int | None = None) -> ServerSpec:
    port = port or free_port()
    argv = [_bin("oxigraph") or "oxigraph", "serve-read-only", "--location", str(db),
            "--bind", f"{HOST}:{port}", "--union-default-graph"]
    return ServerSpec("oxigraph", argv, f"http://{HOST}:{port}/query", port)


def rdflib_available() -> tuple[bool, str]:
    for mod in ("rdflib_endpoint", "uvicorn"):
        if importlib.util.find_spec(mod) is None:
            return False, f"{mod} is not installed (pip install rdflib-endpoint uvicorn)"
    return True, ""


def rdflib_spec(nquads: Path, *, port: int | None = None) -> ServerSpec:
    port = port or free_port()
    argv = [PY, "-m", "bench.servers", "rdflib-endpoint", "--nquads", str(nquads),
            "--port", str(port)]
    return ServerSpec("rdflib-endpoint", argv, f"http://{HOST}:{port}/", port,
                      startup_timeout=600.0)


def ceiling_available(wsgi: str) -> tuple[bool, str]:
    wsgi = wsgi.removesuffix("-pinned")
    if wsgi == "gunicorn" and not hasattr(os, "fork"):
        return False, "gunicorn needs fork"
    if importlib.util.find_spec(wsgi) is None:
        return False, f"{wsgi} is not installed"
    return True, ""


def crinkkg_threads(front: str = "waitress") -> int:
    """The HTTP threads `crinkkg serve --front FRONT` uses by default (the ceiling mirrors
    its set-up)."""
    try:
        from crinkkg.settings import Settings
        return Settings(front=front).http_threads
    except Exception:  # noqa: BLE001 - an older crinkkg: waitress's own default
        return 4


def crinkkg_http_processes() -> int:
    """The HTTP processes `crinkkg serve` runs by default (granian)."""
    try:
        from crinkkg.settings import Settings
        return Settings().http_processes
    except Exception:  # noqa: BLE001 - an older crinkkg: one process
        return 1


def ceiling_spec(wsgi: str, *, port: int | None = None, threads: int | None = None,
                 workers: int = 2) -> ServerSpec:
    port = port or free_port()
    if threads is None:
        threads = 4 if wsgi == "gunicorn" else crinkkg_threads(
            "granian" if wsgi == "granian" else "waitress")
    if wsgi == "gunicorn":
        argv = [PY, "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", str(workers),
                "--worker-class", "gthread", "--threads", str(threads), "--log-level",
                "warning", "bench.servers:ceiling_app()"]
        note = f"gunicorn gthread, {workers} workers x {threads} threads"
    elif wsgi == "granian":
        processes = crinkkg_http_processes()
        argv = [PY, "-m", "bench.servers", "ceiling", "--port", str(port), "--threads",
                str(threads), "--granian", str(processes)]
        note = f"granian, {processes} processes x {threads} threads (crinkkg serve's set-up)"
    else:
        argv = [PY, "-m", "bench.servers", "ceiling", "--port", str(port), "--threads",
                str(threads)]
        note = f"waitress, {threads} threads"
        if wsgi == "waitress-pinned":
            argv.append("--pin")
            note += ", on one CPU (crinkkg serve's set-up)"
    return ServerSpec(f"ceiling-{wsgi}", argv, f"http://{HOST}:{port}/sparql", port, note=note)


def _probe(url: str, timeout: float = 2.0) -> bool:
    q = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
    req = urllib.request.Request(f"{url}?{q}",
                                 headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            return r.status == 200
    except Exception:  # noqa: BLE001 - not up yet
        return False


def start(spec: ServerSpec, logdir: Path, *, cwd: Path | None = None) -> Running:
    """Spawn the server and wait until it answers a query; raise if it does not."""
    logdir.mkdir(parents=True, exist_ok=True)
    log = logdir / f"{spec.name}-{spec.port}.log"
    env = {**os.environ, **spec.env}
    env.setdefault("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(spec.argv, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                                start_new_session=True)
    deadline = t0 + spec.startup_timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{spec.name} exited with {proc.returncode} while starting: "
                               + _tail(log))
        if _probe(spec.endpoint):
            return Running(spec, proc, time.perf_counter() - t0, log)
        time.sleep(0.02)
    stop_proc(proc)
    raise RuntimeError(f"{spec.name} did not answer within {spec.startup_timeout:.0f} s: "
                       + _tail(log))


def _tail(log: Path, n: int = 600) -> str:
    try:
        return log.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def stop_proc(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Stop a server we started: its own process group, TERM then KILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)


def stop(running: Running) -> None:
    stop_proc(running.proc)


def _tree(pid: int):
    try:
        import psutil
    except ImportError:  # the bench extra is not installed: no memory or CPU figures
        return []
    try:
        p = psutil.Process(pid)
        return [p] + p.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def memory(running: Running) -> dict:
    """RSS (summed over the process tree) and PSS (shared pages counted once), in MB."""
    procs = _tree(running.proc.pid)
    if not procs:
        return {"rss_mb": None, "pss_mb": None, "processes": 0}
    import psutil
    rss = pss = 0
    for p in procs:
        try:
            info = p.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return {"rss_mb": round(rss / 2**20, 1), "pss_mb": round(pss / 2**20, 1),
            "processes": len(procs)}


def cpu_seconds(running: Running) -> float:
    total = 0.0
    procs = _tree(running.proc.pid)
    if not procs:
        return 0.0
    import psutil
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def wait_idle(running: Running, *, max_wait: float = 30.0, interval: float = 0.05,
              threshold: float = 0.05) -> float:
    """Wait until the server stops burning CPU (abandoned requests finishing).

    Returns the seconds waited; ``max_wait`` bounds it.
    """
    t0 = time.perf_counter()
    if not _tree(running.proc.pid):  # no psutil: a fixed pause instead
        time.sleep(0.2)
        return 0.2
    last = cpu_seconds(running)
    quiet = 0
    while time.perf_counter() - t0 < max_wait:
        time.sleep(interval)
        now = cpu_seconds(running)
        quiet = quiet + 1 if (now - last) < threshold * interval else 0
        last = now
        if quiet >= 2:
            break
    return time.perf_counter() - t0


def foreign_cpu(running: list[Running], interval: float = 0.1) -> float | None:
    """CPUs' worth of work done by processes other than the servers under test (other users'
    jobs on a shared machine) over a short interval: the noise the figures suffer."""
    try:
        import psutil
    except ImportError:
        return None
    mine = {os.getpid()}
    for r in running:
        mine |= {p.pid for p in _tree(r.proc.pid)}
    t0 = psutil.cpu_times()
    ours0 = sum(cpu_seconds(r) for r in running)
    time.sleep(interval)
    t1 = psutil.cpu_times()
    ours1 = sum(cpu_seconds(r) for r in running)
    busy = (t1.user - t0.user) + (t1.system - t0.system) + (t1.nice - t0.nice)
    return round(max(0.0, busy - (ours1 - ours0)) / interval, 2)


# -- the programs this module can run itself -------------------------------------------------


def ceiling_app():
    """A bare Flask app: the cheapest possible SPARQL endpoint (a constant answer)."""
    from flask import Flask, Response

    app = Flask("ceiling")

    @app.route("/sparql", methods=["GET", "POST"])
    def sparql():
        return Response(CONSTANT_ANSWER, mimetype="application/sparql-results+json")

    return app


def _serve_ceiling(port: int, threads: int, pin: bool = False, granian: int = 0) -> None:
    if granian:
        from granian import Granian
        from granian.constants import Interfaces
        from granian.log import LogLevels

        app = ceiling_app()
        Granian("ceiling", address=HOST, port=port, interface=Interfaces.WSGI,
                workers=granian, blocking_threads=threads, backpressure=max(threads, 64),
                log_level=LogLevels.error).serve(target_loader=lambda _target: app)
        return
    import waitress

    if pin:  # exactly what `crinkkg serve` does to its HTTP threads
        from crinkkg.affinity import pin_server
        pin_server()

    waitress.serve(ceiling_app(), host=HOST, port=port, threads=threads, _quiet=True)


def _serve_rdflib(nquads: Path, port: int) -> None:
    import uvicorn
    from rdflib import Dataset
    from rdflib_endpoint import SparqlEndpoint

    ds = Dataset(default_union=True)
    t0 = time.perf_counter()
    ds.parse(str(nquads), format="nquads")
    print(f"loaded {len(ds)} quads in {time.perf_counter() - t0:.1f} s", flush=True)
    app = SparqlEndpoint(graph=ds, cors_enabled=False)
    uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="servers the benchmark runs itself")
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("ceiling")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--threads", type=int, default=4)
    c.add_argument("--pin", action="store_true", help="keep the server on one CPU")
    c.add_argument("--granian", type=int, default=0,
                   help="serve with granian, this many processes (0: waitress)")
    r = sub.add_parser("rdflib-endpoint")
    r.add_argument("--nquads", type=Path, required=True)
    r.add_argument("--port", type=int, required=True)
    args = ap.parse_args(argv)
    if args.what == "ceiling":
        _serve_ceiling(args.port, args.threads, args.pin, args.granian)
    else:
        _serve_rdflib(args.nquads, args.port)


if __name__ == "__main__":
    main()
