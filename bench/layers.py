"""What one lookup costs, layer by layer, in one process without HTTP.

``python -m bench.layers STORE [--n 3000] [--iri IRI]`` builds the web application over a
built store (``crinkkg build`` or the harness's ``.crinkkg/bench/<scale>/store``) as an
HTTP process of ``crinkkg serve`` has it, and times the benchmark's lookup through each
layer from the inside out: the backend (the SPARQL engine and, separately, the engine-free
lookup of ``crinkkg.backends.lookup``), the ``/sparql`` handler with its remembered plan,
the whole pipeline, and the pipeline with its access log (written to ``/dev/null``), as a
server runs it (``--memory-quads N``: from a memory copy, as ``--front-memory-quads``).
Medians of five interleaved rounds, in µs per request of CPU time of the calling thread
(steadier than wall time on a shared machine). ``--varied K`` times the ``lookups`` cell
instead: K different typed resources of the store in a seeded order, each layer sending
them in turn, so that nothing remembered of one request serves the next (K above the
memos' sizes). Not a test: figures for bench/README.md.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from itertools import cycle
from pathlib import Path
from urllib.parse import quote

from bench.queries import PREFIXES, SELECT_ACCEPT


def _environ(qs: str) -> dict:
    return {"REQUEST_METHOD": "GET", "PATH_INFO": "/sparql", "QUERY_STRING": qs,
            "HTTP_HOST": "127.0.0.1:8000", "HTTP_ACCEPT": SELECT_ACCEPT,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
            "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""), "SCRIPT_NAME": ""}


def _fits(store, text: str, settings) -> bool:
    from crinkkg.backends.evaluation import OverBudget, run_bounded_query

    job = ("query", text, "all", None, None, None, SELECT_ACCEPT, None, settings.max_rows)
    try:
        run_bounded_query(store, job, "SELECT", settings.inline_bytes, lookups=True)
    except OverBudget:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", type=Path)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--memory-quads", type=int, default=0,
                    help="answer from a memory copy (as --front-memory-quads)")
    ap.add_argument("--iri", default=None, help="the subject looked up (default: one transfer)")
    ap.add_argument("--varied", type=int, default=0, metavar="K",
                    help="look up K different resources in turn (the lookups cell)")
    args = ap.parse_args()

    import pyoxigraph as ox

    from crinkkg.backends.embedded.backend import EmbeddedBackend
    from crinkkg.backends.evaluation import run_bounded_query
    from crinkkg.settings import Settings
    from crinkkg.store.current import CurrentStore
    from crinkkg.web import create_app

    settings = Settings(store=args.store, query_workers=1)
    iri = args.iri
    if iri is None:
        st = CurrentStore(args.store.absolute(), 0).current()
        crink = "https://w3id.org/crinkkg/ontology#"
        iri = next(q.subject.value for q in st.quads(
            None, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            ox.NamedNode(crink + "DroneTransfer")))
    if args.varied:
        from bench.__main__ import _subjects
        from crinkkg.store.layout import StoreLayout
        subjects = _subjects(StoreLayout(args.store.absolute()).db(), count=args.varied)
    else:
        subjects = [iri]
    texts = [PREFIXES + f"SELECT ?p ?o WHERE {{ <{s}> ?p ?o }}" for s in subjects]
    backend = EmbeddedBackend(settings, local_quads=args.memory_quads)
    deadline = time.monotonic() + 120
    while args.memory_quads > 0 and time.monotonic() < deadline and \
            backend.health()["in_process_answers_from"] != "memory":
        time.sleep(0.05)  # the copy is made in the background: time what it answers
    sink = open(os.devnull, "w")  # noqa: SIM115 (closed at exit)
    logged = create_app(settings, backend, access_log=sink)
    app = create_app(settings, backend)
    handler = app.wsgi_app.sparql
    stack = {"pipeline with its access log (what a server runs)": logged,
             "pipeline": app}
    store = backend._local_store().current()
    if args.varied:  # those the HTTP process answers (a larger answer goes to a worker)
        texts = [text for text in texts if _fits(store, text, settings)]
        print(f"{len(texts)} resources of {len(subjects)} answered in the HTTP process")
    queries = cycle([(text, "query=" + quote(text, safe="")) for text in texts])

    def job() -> tuple:
        return ("query", next(queries)[0], "all", None, None, "http://127.0.0.1:8000/sparql",
                SELECT_ACCEPT, None, settings.max_rows)

    def start_response(status, headers, exc_info=None):
        return None

    cells = {
        "engine (run_bounded_query)":
            lambda: run_bounded_query(store, job(), "SELECT", settings.inline_bytes,
                                      lookups=False),
        "engine-free lookup (run_bounded_query)":
            lambda: run_bounded_query(store, job(), "SELECT", settings.inline_bytes,
                                      lookups=True),
        "backend.query": lambda: backend.query(next(queries)[0], accept=SELECT_ACCEPT,
                                               base_iri="http://127.0.0.1:8000/sparql"),
        "/sparql handler (remembered plan)":
            lambda: handler.answer(_environ(next(queries)[1])).body,
        **{name: (lambda w=w: b"".join(w(_environ(next(queries)[1]), start_response)))
           for name, w in stack.items()},
    }
    for f in cells.values():  # warm up, and check every layer answers
        assert f(), "no answer"
    times: dict[str, list[float]] = {k: [] for k in cells}
    for _ in range(5):
        for name, f in cells.items():
            t = time.thread_time()
            for _ in range(args.n // 5):
                f()
            times[name].append((time.thread_time() - t) / (args.n // 5) * 1e6)
    for name, ts in times.items():
        print(f"{statistics.median(ts):8.1f} µs  {name}")
    backend.close()


if __name__ == "__main__":
    main()
