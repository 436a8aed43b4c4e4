"""What a lookup costs inside the server, against the same calls in a loop:
``python -m bench.inside STORE``.

``bench.layers`` times each layer of a lookup in a loop in one process. This harness asks
what the same work costs once granian serves it, and where the HTTP processes' time goes,
by serving stripped-down apps with granian's own command (the processes and threads of
``crinkkg serve``) and loading each with wrk, the benchmark's varied lookups (a different
resource each time) sent in turn:

- ``spin-N``: a constant answer of the lookup's size after N µs of Python spinning (CPU
  time): what any Python work per request costs the rate;
- ``parse``: crinkkg's app module loaded, the query string parsed, nothing else;
- ``lookup``: + the engine-free lookup from the memory copy
  (:func:`crinkkg.backends.evaluation.run_bounded_query`), its thread CPU time inside the
  server measured around the call and read back at ``/stats``;
- ``engine``: the same lookup written by the SPARQL engine (its parse, plan and JSON), timed
  the same way;
- ``backend``: + :meth:`EmbeddedBackend.query`;
- ``pipeline``: the whole app (:func:`crinkkg.web.create_app`), its access log written to
  ``/dev/null``, over a backend of its own: the lookups are answered in the HTTP process,
  as under ``crinkkg serve``;
- ``loop``: the lookup's thread CPU time in a loop in this process, alone and with a
  process spinning beside it.

Rounds alternate the cells. Not a test: figures for bench/README.md ("What a lookup costs
inside the server"). Needs wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from itertools import cycle
from pathlib import Path
from urllib.parse import parse_qs

from .load import request_url, run_wrk
from .queries import PREFIXES, SELECT_ACCEPT
from .servers import ServerSpec, free_port, start, stop

ROOT = Path(__file__).resolve().parent.parent
#: the size of the benchmark's lookup answer at 50k
BODY = b" " * 2447


def _query(environ: dict) -> str:
    return parse_qs(environ.get("QUERY_STRING", ""))["query"][0]


def spin_app(environ: dict, start_response) -> list[bytes]:
    """A constant answer after ``BENCH_SPIN_US`` µs of Python (CPU time)."""
    spin = float(os.environ.get("BENCH_SPIN_US", "0")) / 1e6
    if spin:
        end = time.thread_time() + spin
        while time.thread_time() < end:
            pass
    start_response("200 OK", [("Content-Type", SELECT_ACCEPT),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]


def _crinkkg_app():
    """The app of ``BENCH_MODE`` over the store at ``BENCH_STORE`` (in each HTTP process)."""
    from crinkkg.backends.embedded.backend import EmbeddedBackend
    from crinkkg.backends.evaluation import run_bounded_query
    from crinkkg.settings import Settings
    from crinkkg.web import create_app

    mode = os.environ["BENCH_MODE"]
    settings = Settings(store=Path(os.environ["BENCH_STORE"]).absolute(), query_workers=1)
    backend = EmbeddedBackend(settings, local_quads=settings.front_memory_quads)
    if mode == "pipeline":
        return create_app(settings, backend, access_log=open(os.devnull, "w"))  # noqa: SIM115
    timed = [0, 0.0]  # calls, thread CPU seconds

    def answer(environ: dict, start_response) -> list[bytes]:
        if environ.get("PATH_INFO") == "/stats":
            body = json.dumps({"calls": timed[0], "pid": os.getpid(),
                               "us": timed[1] / max(1, timed[0]) * 1e6}).encode()
        elif _query(environ).startswith("ASK"):  # the harness's probe: is it up?
            body = b'{"head":{},"boolean":true}'
        elif mode == "parse":
            body = _query(environ).encode()
        elif mode == "backend":
            body = backend.query(_query(environ), accept=SELECT_ACCEPT,
                                 base_iri="http://127.0.0.1/sparql").body
        else:
            started = time.thread_time()
            job = ("query", _query(environ), "all", None, None, "http://127.0.0.1/sparql",
                   SELECT_ACCEPT, None, settings.max_rows)
            body = run_bounded_query(backend._local_store().current(), job, "SELECT",
                                     settings.inline_bytes, lookups=mode == "lookup")[2]
            timed[0] += 1
            timed[1] += time.thread_time() - started
        start_response("200 OK", [("Content-Type", SELECT_ACCEPT),
                                  ("Content-Length", str(len(body)))])
        return [body]

    return answer


def crinkkg_app(environ: dict, start_response) -> list[bytes]:
    """The app of ``BENCH_MODE``, made on the first request of each HTTP process."""
    if not _APP:
        with _MAKING:
            if not _APP:
                _APP.append(_crinkkg_app())
    return _APP[0](environ, start_response)


_APP: list = []  # this process's app, once made
_MAKING = threading.Lock()


def _spec(target: str, env: dict[str, str], threads: int) -> ServerSpec:
    port = free_port()
    argv = [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", "2",
            "--blocking-threads", str(threads), "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "error", "--no-ws", target]
    return ServerSpec(target, argv, f"http://127.0.0.1:{port}/sparql", port, env=env,
                      startup_timeout=60)


def _stats(endpoint: str, processes: int = 2, tries: int = 40) -> list[dict]:
    """The lookup's timing from each HTTP process (asked until each has answered)."""
    seen: dict[int, dict] = {}
    url = endpoint.rsplit("/", 1)[0] + "/stats"
    for _ in range(tries):
        with urllib.request.urlopen(url, timeout=5) as r:
            found = json.loads(r.read())
        seen[found["pid"]] = found
        if len(seen) >= processes:
            break
    return list(seen.values())


def _copied(store: Path):
    """The store as an HTTP process has it once its memory copy is made."""
    from crinkkg.store.current import CurrentStore

    current = CurrentStore(store.absolute(), 2_000_000)
    deadline = time.monotonic() + 120
    while current.current().on_disk and time.monotonic() < deadline:
        time.sleep(0.05)
    return current


def loop_us(store: Path, texts: list[str], n: int = 3000) -> float:
    """The engine-free lookup's thread CPU time per call, in a loop in this process."""
    from crinkkg.backends.evaluation import run_bounded_query

    current = _copied(store)
    asked = cycle(texts)

    def one() -> None:
        job = ("query", next(asked), "all", None, None, "http://127.0.0.1/sparql",
               SELECT_ACCEPT, None, 100_000)
        run_bounded_query(current.current(), job, "SELECT", 32 * 1024, lookups=True)

    for _ in range(n):
        one()
    rounds = []
    for _ in range(5):
        started = time.thread_time()
        for _ in range(n // 5):
            one()
        rounds.append((time.thread_time() - started) / (n // 5) * 1e6)
    return statistics.median(rounds)


def answered_here(store: Path, texts: list[str]) -> list[str]:
    """The lookups an HTTP process answers itself (a larger answer goes to a worker)."""
    from crinkkg.settings import Settings

    from .layers import _fits

    current, settings = _copied(store).current(), Settings()
    return [text for text in texts if _fits(current, text, settings)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", type=Path, help="a built store (the harness's <work>/<scale>/store)")
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--spins", default="0,30,60,90", help="µs of Python per request")
    ap.add_argument("--threads", default="2", help="granian threads per process (e.g. 1,2)")
    ap.add_argument("--out", type=Path, default=None, help="JSON of every run")
    args = ap.parse_args()

    from bench.__main__ import _subjects
    from crinkkg.store.layout import StoreLayout

    subjects = _subjects(StoreLayout(args.store.absolute()).db())
    texts = answered_here(args.store, [PREFIXES + f"SELECT ?p ?o WHERE {{ <{s}> ?p ?o }}"
                                       for s in subjects])
    cells: list[tuple[str, str, dict[str, str], int]] = []
    for threads in (int(t) for t in args.threads.split(",")):
        cells += [(f"spin-{us} x{threads}", "bench.inside:spin_app",
                   {"BENCH_SPIN_US": us}, threads) for us in args.spins.split(",")]
        cells += [(f"{mode} x{threads}", "bench.inside:crinkkg_app",
                   {"BENCH_MODE": mode, "BENCH_STORE": str(args.store)}, threads)
                  for mode in ("parse", "lookup", "engine", "backend", "pipeline")]
    runs: list[dict] = []
    logdir = Path("/tmp") / f"bench-inside-{os.getpid()}"
    for rnd in range(args.rounds):
        for name, target, env, threads in (cells if rnd % 2 == 0 else cells[::-1]):
            running = start(_spec(target, {**env, "PYTHONPATH": str(ROOT)}, threads), logdir)
            try:
                urls = [(request_url(running.spec.endpoint, t), SELECT_ACCEPT) for t in texts]
                run_wrk(urls, SELECT_ACCEPT, 8, 1)  # every process makes its copy first
                result = run_wrk(urls, SELECT_ACCEPT, 8, args.seconds)
                row = {"cell": name, "round": rnd, "rps": result.rps,
                       "errors": result.errors}
                if env.get("BENCH_MODE") in ("lookup", "engine"):
                    row["inside_us"] = [round(s["us"], 1) for s in _stats(running.spec.endpoint)]
            finally:
                stop(running)
            runs.append(row)
            print(json.dumps(row), flush=True)
    alone = loop_us(args.store, texts)
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        beside = loop_us(args.store, texts)
    finally:
        spinner.kill()
        spinner.wait()
    print(json.dumps({"loop_us": round(alone, 1), "loop_us_beside_a_spinner": round(beside, 1)}))
    if args.out:
        args.out.write_text(json.dumps({"store": str(args.store), "runs": runs,
                                        "loop_us": alone, "loop_us_beside_a_spinner": beside},
                                       indent=1) + "\n")


if __name__ == "__main__":
    main()
