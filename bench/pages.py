"""What pages cost, over real HTTP, on the curated graph: ``python -m bench.pages``.

For each server measured (this checkout, and with ``--baseline REV`` that git revision
too, from a temporary ``git worktree``, so that before/after ratios come from one run on
one machine state), a real ``crinkkg serve`` process over its own build of the curated
graph:

- **pages** (``--answer-cache-mb 0``, so that every request makes its page): the first
  render of each page after the server started (entity page ``/id/russia`` as HTML, a
  claim page, the overview, a source's text), then the warm one (median of
  ``--repeats``), and the Turtle of the same entity for comparison;
- **resources**: the HTML page of ``--resources`` different resources, one request each:
  p50, p90, max;
- **mixed load**: ``--clients`` clients for ``--duration`` seconds, no think time, sending
  in turn lookups, lookups of different resources, a join, an aggregate, a DESCRIBE,
  entity pages as HTML and as Turtle, and the overview: requests/s, p50, p99, errors;
  once with every answer made (``made``) and once as users run the server, answers
  kept per store version (``kept``).

Each figure is the median of ``--rounds`` rounds, the servers' order alternating from
round to round; the queries each page sends are counted in process (no HTTP, no answer
kept), with pyinstrument's tree of each page when ``--profile-trees DIR`` is given.
Results: JSON (``--out``, by default ``bench/results/pages-<date>.json``). Servers and
load come from :mod:`bench.servers` and :mod:`bench.load`; ``--quick`` is a small setting
for tests (nothing it measures means anything).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

from . import load, servers

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/crinkkg/"
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TURTLE = "text/turtle"
JSON = "application/sparql-results+json"
PREFIXES = ("PREFIX crink: <https://w3id.org/crinkkg/ontology#> "
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> ")


def log(message: str) -> None:
    print(f"[pages {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the servers measured -----------------------------------------------------------------------

def checkout(rev: str, into: Path) -> Path:
    """A temporary worktree of ``rev`` (its ``src`` is put first on the server's path)."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet",
                    str(into), rev], check=True)
    return into


def remove_checkout(path: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                   check=False, capture_output=True)


def build(source: Path, store: Path) -> float:
    """Build the curated graph with the code under ``source``; seconds taken."""
    env = {**os.environ, "PYTHONPATH": str(source / "src")}
    t0 = time.perf_counter()
    subprocess.run([servers._bin("crinkkg") or "crinkkg", "--ontology",
                    str(source / "ontology"), "--data", str(source / "data"),
                    "--store", str(store), "build"], check=True, env=env,
                   capture_output=True)
    return time.perf_counter() - t0


def start(source: Path, store: Path, logdir: Path, name: str, extra: list[str]
          ) -> servers.Running:
    spec = servers.crinkkg_spec(source / "ontology", source / "data", store, extra=extra,
                                name=name)
    spec.env["PYTHONPATH"] = str(source / "src")
    return servers.start(spec, logdir, cwd=source)


def root_of(running: servers.Running) -> str:
    return running.spec.endpoint.rsplit("/sparql", 1)[0]


# -- what is asked ------------------------------------------------------------------------------

def select(endpoint: str, query: str) -> list[dict]:
    status, body, _, _ = load.fetch(load.request_url(endpoint, PREFIXES + query), JSON)
    if status != 200:
        raise RuntimeError(f"{query!r} answered {status}")
    return json.loads(body)["results"]["bindings"]


def path_of(iri: str) -> str:
    return "/" + urllib.parse.quote(iri[len(BASE):], safe="/:@!$&'()*+,;=-._~%")


def subjects(endpoint: str) -> dict[str, list[str]]:
    """The pages measured, read from the graph itself (so that another build of the data
    still has them): a claim with passages, a source with a stored text, resources."""
    claims = select(endpoint, "SELECT ?x WHERE { ?x crink:statedIn ?a ; a crink:ArmsTransfer }"
                              " ORDER BY ?x LIMIT 1")
    texts = select(endpoint, "SELECT ?x WHERE { ?x crink:textContent ?t } ORDER BY ?x LIMIT 1")
    resources = select(endpoint, f"""SELECT DISTINCT ?x WHERE {{ ?x ?p ?o
        FILTER(isIRI(?x) && STRSTARTS(STR(?x), "{BASE}id/")) }} ORDER BY ?x""")
    return {"claim": [b["x"]["value"] for b in claims],
            "source": [b["x"]["value"] for b in texts],
            "resources": [b["x"]["value"] for b in resources]}


def pages(found: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
    """Page name -> (path, Accept)."""
    out = {"entity": ("/id/russia", HTML)}
    if found["claim"]:
        out["claim"] = (path_of(found["claim"][0]), HTML)
    out["overview"] = ("/", HTML)
    if found["source"]:
        out["source text"] = (path_of(found["source"][0]), HTML)
    out["entity as Turtle"] = ("/id/russia", TURTLE)
    return out


def mix(root: str, found: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The mixed load's requests, sent in turn: queries and pages as a session of users
    would send them."""
    sparql = root + "/sparql"
    russia = f"<{BASE}id/russia>"
    others = [r for r in found["resources"] if "/link/" not in r][:8] or [BASE + "id/russia"]
    queries = [f"SELECT ?p ?o WHERE {{ {russia} ?p ?o }}"]
    queries += [f"SELECT ?p ?o WHERE {{ <{r}> ?p ?o }}" for r in others[:4]]
    queries += ["SELECT ?t ?a ?b WHERE { ?t crink:supplier ?a ; crink:recipient ?b }",
                "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY DESC(?n)",
                f"DESCRIBE {russia}"]
    out = []
    for q in queries:
        accept = TURTLE if q.startswith("DESCRIBE") else JSON
        out.append((load.request_url(sparql, PREFIXES + q), accept))
    for r in others[:4]:
        out.append((root + path_of(r), HTML))
        out.append((root + path_of(r), TURTLE))
    out.append((root + "/id/russia", HTML))
    out.append((root + "/", HTML))
    return out


# -- measuring ----------------------------------------------------------------------------------

def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def timed(url: str, accept: str) -> tuple[float, int, int]:
    status, body, _, seconds = load.fetch(url, accept)
    return seconds, status, len(body)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure_pages(running: servers.Running, found: dict[str, list[str]], repeats: int,
                  resources: int) -> dict:
    """First render and warm render of each page, then one request per resource."""
    root = root_of(running)
    out: dict = {"pages": {}, "errors": 0}
    for name, (path, accept) in pages(found).items():
        first, status, size = timed(root + path, accept)
        warm = []
        for _ in range(repeats):
            seconds, again, _ = timed(root + path, accept)
            warm.append(seconds)
            out["errors"] += again != 200
        out["errors"] += status != 200
        out["pages"][name] = {"path": path, "status": status, "bytes": size,
                              "first_ms": ms(first), "warm_ms": ms(statistics.median(warm)),
                              "warm_min_ms": ms(min(warm))}
    chosen = found["resources"][:resources]
    times = []
    for iri in chosen:
        seconds, status, _ = timed(root + path_of(iri), HTML)
        out["errors"] += status != 200
        times.append(seconds)
    if times:
        out["resources"] = {"count": len(times), "p50_ms": ms(quantile(times, 0.5)),
                            "p90_ms": ms(quantile(times, 0.9)), "max_ms": ms(max(times))}
    return out


def measure_load(running: servers.Running, found: dict[str, list[str]], clients: int,
                 duration: float) -> dict:
    requests = mix(root_of(running), found)
    for url, accept in requests:  # every request answers before the clock starts
        status, _, _, _ = load.fetch(url, accept)
        if status != 200:
            raise RuntimeError(f"{url} answered {status}")
    result = load.run(requests, "", clients, duration)
    return {**result.as_dict(), "kinds": len(requests)}


# -- in-process profile ------------------------------------------------------------------------

class Counting:
    """The real backend, with a count of the queries sent through it and their time."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.queries = 0
        self.seconds = 0.0

    def __getattr__(self, name: str):
        found = getattr(self._backend, name)
        if name not in ("select_json", "ask", "construct", "query"):
            return found

        def counted(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return found(*args, **kwargs)
            finally:
                self.queries += 1
                self.seconds += time.perf_counter() - t0

        return counted


def profile_store(source: Path, store: Path, repeats: int, trees: Path | None) -> dict:
    """In this process (the code on ``sys.path``), without HTTP and with no answer kept:
    the queries each page sends and its time, first and warm (and, with ``trees`` and
    pyinstrument installed, where the time goes, one text tree per page)."""
    from crinkkg.backends import open_backend
    from crinkkg.settings import Settings
    from crinkkg.web import create_app

    settings = Settings(ontology_dir=source / "ontology", data_dir=source / "data",
                        store=store, answer_cache_mb=0)
    real = open_backend(settings)
    backend = Counting(real)
    try:
        app = create_app(settings, backend)  # type: ignore[arg-type]
        client = app.test_client()
        found = {"claim": [b["x"]["value"] for b in real.select_json(
            PREFIXES + "SELECT ?x WHERE { ?x crink:statedIn ?a ; a crink:ArmsTransfer } "
            "ORDER BY ?x LIMIT 1")["results"]["bindings"]],
                 "source": [b["x"]["value"] for b in real.select_json(
            PREFIXES + "SELECT ?x WHERE { ?x crink:textContent ?t } ORDER BY ?x LIMIT 1"
        )["results"]["bindings"]], "resources": []}
        out = {}
        for name, (path, accept) in pages(found).items():
            row = {"path": path}
            for phase, n in (("first", 1), ("warm", repeats)):
                backend.queries, backend.seconds = 0, 0.0
                t0 = time.perf_counter()
                for _ in range(n):
                    status = client.get(path, headers={"Accept": accept}).status_code
                    assert status == 200, (path, status)
                seconds = (time.perf_counter() - t0) / n
                row[phase] = {"ms": ms(seconds), "queries": round(backend.queries / n, 2),
                              "query_ms": ms(backend.seconds / n),
                              "python_ms": ms(seconds - backend.seconds / n)}
            out[name] = row
            if trees is not None:
                try:
                    from pyinstrument import Profiler
                except ImportError:
                    continue
                profiler = Profiler(interval=0.0005)
                with profiler:
                    for _ in range(repeats):
                        client.get(path, headers={"Accept": accept})
                trees.mkdir(parents=True, exist_ok=True)
                (trees / f"{name.replace(' ', '-')}.txt").write_text(
                    profiler.output_text(unicode=False, color=False))
        return out
    finally:
        real.close()


def profile(source: Path, store: Path, name: str, repeats: int, trees: Path | None) -> dict:
    """:func:`profile_store` for the code under ``source``, in a process of its own."""
    env = {**os.environ, "PYTHONPATH": f"{source / 'src'}{os.pathsep}{ROOT}"}
    argv = [sys.executable, "-m", "bench.pages", "--profile-store", str(store),
            "--profile-source", str(source), "--repeats", str(repeats)]
    if trees is not None:
        argv += ["--profile-trees-into", str(trees / name)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT,
                          check=True)
    return json.loads(done.stdout)


# -- a run --------------------------------------------------------------------------------------

def measure(source: Path, store: Path, work: Path, name: str, args: argparse.Namespace
            ) -> dict:
    """One round for the code under ``source``: pages and the mixed loads."""
    logdir = work / "logs"
    log(f"{name}: pages (answers made every time)")
    made = start(source, store, logdir, f"crinkkg-{name}-made", ["--answer-cache-mb", "0"])
    try:
        found = subjects(made.spec.endpoint)
        result = {"ready_s": round(made.ready_s, 3), **measure_pages(
            made, found, args.repeats, args.resources)}
        log(f"{name}: mixed load, answers made every time, {args.clients} clients, "
            f"{args.duration:g} s")
        result["load"] = {"made": measure_load(made, found, args.clients, args.duration)}
    finally:
        servers.stop(made)
    log(f"{name}: mixed load as served (answers kept), {args.clients} clients, "
        f"{args.duration:g} s")
    served = start(source, store, logdir, f"crinkkg-{name}", [])
    try:
        result["load"]["kept"] = measure_load(served, found, args.clients, args.duration)
    finally:
        servers.stop(served)
    return result


def median_of(rounds: list[dict]) -> dict:
    """The rounds' medians, figure by figure (errors: their sum)."""
    def mid(values: list) -> float | None:
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 3) if values else None

    first = rounds[0]
    out: dict = {"ready_s": mid([r["ready_s"] for r in rounds]),
                 "errors": sum(r["errors"] for r in rounds), "pages": {}, "load": {}}
    for page, row in first["pages"].items():
        out["pages"][page] = {**row, **{k: mid([r["pages"][page][k] for r in rounds])
                                        for k in ("first_ms", "warm_ms", "warm_min_ms")}}
    if "resources" in first:
        out["resources"] = {"count": first["resources"]["count"],
                            **{k: mid([r["resources"][k] for r in rounds])
                               for k in ("p50_ms", "p90_ms", "max_ms")}}
    for kind, row in first["load"].items():
        out["load"][kind] = {**row, **{k: mid([r["load"][kind][k] for r in rounds])
                                       for k in ("rps", "p50_ms", "p90_ms", "p99_ms",
                                                 "max_ms")},
                             "errors": sum(r["load"][kind]["errors"] for r in rounds),
                             "requests": sum(r["load"][kind]["requests"] for r in rounds)}
    return out


def ratios(before: dict, after: dict) -> dict:
    """before / after per figure (above 1: faster now)."""
    out: dict = {}
    for page, b in before["pages"].items():
        a = after["pages"].get(page)
        if a:
            out[page] = {k: round(b[k] / a[k], 2) for k in ("first_ms", "warm_ms") if a[k]}
    if "resources" in before and "resources" in after:
        out["resources"] = {k: round(before["resources"][k] / after["resources"][k], 2)
                            for k in ("p50_ms", "p90_ms", "max_ms") if after["resources"][k]}
    for kind in ("made", "kept"):
        lb, la = before["load"][kind], after["load"][kind]
        out["load " + kind] = {"rps": round(la["rps"] / lb["rps"], 2) if lb["rps"] else None,
                               **{k: round(lb[k] / la[k], 2) for k in ("p50_ms", "p99_ms")
                                  if lb.get(k) and la.get(k)}}
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", metavar="REV", help="also measure this git revision")
    ap.add_argument("--repeats", type=int, default=20, help="warm requests per page")
    ap.add_argument("--resources", type=int, default=200, help="different resources")
    ap.add_argument("--clients", type=int, default=32, help="clients of the mixed load")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of mixed load")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds, the servers' order alternating (medians reported)")
    ap.add_argument("--out", type=Path, help="where the JSON goes")
    ap.add_argument("--quick", action="store_true", help="a tiny setting (for tests)")
    ap.add_argument("--profile-trees", type=Path, metavar="DIR",
                    help="save pyinstrument's tree of each page in DIR/{baseline,current}")
    ap.add_argument("--profile-store", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--profile-source", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--profile-trees-into", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.repeats, args.resources, args.clients, args.duration = 2, 5, 4, 1.0
        args.rounds = 1
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.profile_store:  # the in-process profile, in the process profile() started
        found = profile_store(args.profile_source, args.profile_store, args.repeats,
                              args.profile_trees_into)
        print(json.dumps(found))
        return found
    out_path = args.out = args.out or ROOT / "bench" / "results" / \
        f"pages-{datetime.now(UTC).strftime('%Y-%m-%d')}.json"
    ok, why = servers.crinkkg_available()
    if not ok:
        raise SystemExit(why)
    from .__main__ import machine_info

    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    results: dict = {"meta": {
        "command": "python -m bench.pages " + " ".join(argv if argv is not None
                                                       else sys.argv[1:]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info(),
        "load_tool": "wrk" if load.wrk_path() else "python", "head": head,
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                     if not k.startswith("profile_") or k == "profile_trees"}},
        "servers": {}}
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        work = Path(tmp)
        sources = {"current": ROOT}
        if args.baseline:
            sources = {"baseline": checkout(args.baseline, work / "baseline"), **sources}
        try:
            stores = {}
            for name, source in sources.items():  # each built by its own code
                stores[name] = work / f"store-{name}"
                built = build(source, stores[name])
                log(f"{name}: built in {built:.1f} s; profile in process")
                results["servers"][name] = {
                    "rev": args.baseline if name == "baseline" else head,
                    "in_process": profile(source, stores[name], name, args.repeats,
                                          args.profile_trees)}
            rounds: dict[str, list[dict]] = {name: [] for name in sources}
            for r in range(args.rounds):  # the order alternates from round to round
                order = list(sources) if r % 2 == 0 else list(reversed(sources))
                for name in order:
                    log(f"round {r + 1} of {args.rounds}: {name}")
                    rounds[name].append(measure(sources[name], stores[name], work, name,
                                                args))
            for name in sources:
                results["servers"][name].update(median_of(rounds[name]),
                                                 rounds=rounds[name])
        finally:
            if args.baseline:
                remove_checkout(sources["baseline"])
    if args.baseline:
        results["ratios"] = ratios(results["servers"]["baseline"],
                                   results["servers"]["current"])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=1) + "\n")
    log(f"written {out_path}")
    for name, res in results["servers"].items():
        shown = ", ".join(f"{p} {v['first_ms']:.0f}/{v['warm_ms']:.1f} ms"
                          for p, v in res["pages"].items())
        loads = "; ".join(f"load ({kind}) p50 {v['p50_ms']} p99 {v['p99_ms']} ms, "
                          f"{v['rps']}/s, errors {v['errors']}"
                          for kind, v in res["load"].items())
        log(f"{name}: first/warm {shown}; resources {res.get('resources')}; {loads}")
    return results


if __name__ == "__main__":
    main()
