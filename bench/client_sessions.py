"""Sessions per thread or one session behind a lock: which serves a threaded client better.

``python -m bench.client_sessions [--threads 4] [--seconds 5]`` starts an Oxigraph server
on 127.0.0.1 (from the ``oxigraph`` package), then for each strategy runs THREADS threads
through one :class:`~crinkkg.backends.sparql_client.SparqlClient` for SECONDS each:

- ``fast``: every thread sends small ASK queries;
- ``mixed``: one thread sends a query that counts 10^5 rows, the others small ones.

and prints answers per second. ``per-thread`` is the client as shipped (a
``requests.Session`` per thread); ``lock`` shares one session behind a lock.

Measured on the 2-CPU development machine (other agents running, load average 2.5-3.4;
three runs: 4, 4 and 8 threads, 5 s each):

    per-thread  fast   1,060-1,430 answers/s
    lock        fast     960-1,170 answers/s
    per-thread  mixed    810-1,180 small answers/s (the counting thread: 25-39 counts/s)
    lock        mixed      140-280 small answers/s (every small query waits behind a count)

So the client keeps a session per thread.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable

import requests

from crinkkg.backends.endpoints import Endpoints
from crinkkg.backends.sparql_client import SparqlClient

from .servers import _bin, free_port

JSON = "application/sparql-results+json"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(
    f"VALUES ?v{i} {{ 1 2 3 4 5 6 7 8 9 10 }}" for i in range(5)) + " }"


class LockedClient(SparqlClient):
    """The alternative: one session for all threads, one request at a time."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._shared = requests.Session()
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        return self._shared

    def _exchange(self, *args: object, **kwargs: object) -> requests.Response:
        with self._lock:
            return super()._exchange(*args, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        self._shared.close()
        super().close()


def _run(client: SparqlClient, threads: int, seconds: float, mixed: bool) -> tuple[int, int]:
    """Small answers and slow answers in ``seconds``."""
    stop = time.monotonic() + seconds
    counts = [0] * threads

    def work(n: int, query: str) -> None:
        while time.monotonic() < stop:
            client.query(query, accept=JSON)
            counts[n] += 1

    workers = [threading.Thread(target=work,
                                args=(n, COUNT if mixed and n == 0 else "ASK {}"))
               for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    slow = counts[0] if mixed else 0
    return sum(counts) - slow, slow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    oxigraph = _bin("oxigraph")
    if oxigraph is None:
        raise SystemExit("the oxigraph server is not installed: pip install -e '.[bench]'")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as location:
        server = subprocess.Popen([oxigraph, "serve", "--location", location,
                                   "--bind", f"127.0.0.1:{port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    requests.get(url + "/query", params={"query": "ASK {}"}, timeout=2)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            endpoints = Endpoints(url + "/query")
            strategies: list[tuple[str, Callable[[], SparqlClient]]] = [
                ("per-thread", lambda: SparqlClient(endpoints)),
                ("lock", lambda: LockedClient(endpoints))]
            for mixed in (False, True):
                for name, make in strategies:
                    with make() as client:
                        small, slow = _run(client, args.threads, args.seconds, mixed)
                    extra = f"  (slow thread: {slow / args.seconds:.1f} counts/s)" \
                        if mixed else ""
                    print(f"{name:<11} {'mixed' if mixed else 'fast':<6} "
                          f"{small / args.seconds:8.0f} small answers/s{extra}", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
