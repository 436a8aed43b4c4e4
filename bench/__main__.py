"""crinkkg benchmark: ``python -m bench`` (full run) or ``python -m bench --quick`` (< 2 min).

For each scale: generate synthetic data that follows ``ontology/`` (or, at the ``curated``
scale, take the project's own ``data/``: :mod:`bench.curated`), measure the build
(per step, time and peak RSS) against plain owlrl on the same input and check that the
inferred triples are equal, measure the warm start, then start every server over the same
built dataset and load each with the fixed query mix at 1, 8 and 32 concurrent clients,
alternating the servers cell by cell so that machine noise hits them all alike. Results go
to ``bench/results/`` (``report.md``, ``results.csv``, ``results.json``, plots); a short
summary with the ratios is printed at the end. Everything runs on 127.0.0.1, every step is
bounded in time, every process the harness starts is stopped by it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from . import curated, load, servers
from .queries import BenchQuery, query_mix, varied_lookups
from .synthetic import generate

ROOT = Path(__file__).resolve().parent.parent
ALL_SERVERS = ["crinkkg", "crinkkg-waitress", "oxigraph", "rdflib-endpoint",
               "ceiling-granian", "ceiling-waitress", "ceiling-waitress-pinned",
               "ceiling-gunicorn"]
# also runnable when named in --servers: crinkkg-no-repeats (bench/servers.py)


def _size(scale: str) -> int:
    """Asserted data triples at ``scale`` (the curated graph's are counted)."""
    from .synthetic import target_triples
    return curated.asserted_triples() if curated.is_curated(scale) else target_triples(scale)


def _scale_le(a: str, b: str) -> bool:
    return _size(a) <= _size(b)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="5k scale only, 1 and 8 clients, 1 s per cell, one round: under two "
                         "minutes")
    ap.add_argument("--scales", default=None,
                    help="comma-separated (default curated,5k,50k,500k; 'curated' is the "
                         "project's own data/, with the competency-query session)")
    ap.add_argument("--clients", default=None, help="concurrency levels (1,8,32; quick 1,8)")
    ap.add_argument("--duration", type=float, default=None,
                    help="seconds per cell (1; a slow server gets up to 3x)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="passes over every cell, server order reversed each pass; the median "
                         "is reported (3; quick 1)")
    ap.add_argument("--servers", default=",".join(ALL_SERVERS))
    ap.add_argument("--queries", default=None, help="subset of the query mix, comma-separated")
    ap.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", dest="fmt", choices=["ttl", "nt"], default="ttl")
    ap.add_argument("--out", type=Path, default=None,
                    help="results folder (bench/results; quick: bench/results/raw/quick)")
    ap.add_argument("--work", type=Path, default=ROOT / ".crinkkg" / "bench",
                    help="where data, stores and logs go")
    ap.add_argument("--max-minutes", type=float, default=None,
                    help="overall budget; cells left when it runs out are skipped (40; quick 2)")
    ap.add_argument("--build-timeout", type=float, default=None, help="seconds per build (900)")
    ap.add_argument("--owlrl-max-scale", default="50k",
                    help="largest scale for the plain-owlrl baseline and equality check")
    ap.add_argument("--rdflib-max-scale", default="50k",
                    help="largest scale served by rdflib-endpoint (in-memory rdflib)")
    ap.add_argument("--request-timeout", type=float, default=10.0)
    ap.add_argument("--crinkkg-arg", action="append", default=[],
                    help="extra argument for `crinkkg serve` (repeatable)")
    ap.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                    help="sample crinkkg serve with py-spy under load (default: on, off "
                         "with --quick)")
    ap.add_argument("--profile-seconds", type=float, default=6.0)
    ap.add_argument("--serve-fallback", action=argparse.BooleanOptionalAction, default=True,
                    help="when the build cannot finish in time, serve a store built the same "
                         "way without SHACL validation (labelled as such in the report)")
    ap.add_argument("--attempt-all-builds", action="store_true",
                    help="attempt a build even when the smaller scales predict it cannot "
                         "finish within --build-timeout")
    ap.add_argument("--reuse-build", action="store_true",
                    help="reuse a current store and its build figures from an earlier run "
                         "in --work (for iterating on the serving side; not for reports)")
    ap.add_argument("--from-json", type=Path, default=None,
                    help="only re-write the report from an earlier results.json")
    args = ap.parse_args(argv)
    q = args.quick
    args.scales = (args.scales or ("5k" if q else "curated,5k,50k,500k")).split(",")
    args.clients = [int(c) for c in (args.clients or ("1,8" if q else "1,8,32")).split(",")]
    args.duration = args.duration or 1.0
    args.rounds = args.rounds or (1 if q else 3)
    args.servers = [s for s in args.servers.split(",") if s]
    args.out = args.out or (ROOT / "bench" / "results" / ("raw/quick" if q else ""))
    args.max_minutes = args.max_minutes or (1.9 if q else 40.0)
    args.build_timeout = args.build_timeout or (90.0 if q else 900.0)
    if args.profile is None:
        args.profile = not q
    return args


class Budget:
    def __init__(self, minutes: float) -> None:
        self.t0 = time.perf_counter()
        self.limit = minutes * 60

    def left(self) -> float:
        return self.limit - (time.perf_counter() - self.t0)

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


def _child(argv: list[str], timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                              env=env, start_new_session=True)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"did not finish within {timeout:.0f} s",
                "timed_out": True}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"ok": False, "error": f"exit {proc.returncode}: {proc.stderr.strip()[-800:]}"}
    return json.loads(lines[-1])


def measure_build(args, scale: str, data: Path, store: Path, res: dict, budget: Budget) -> None:
    common = ["--ontology", str(ROOT / "ontology"), "--data", str(data), "--store", str(store),
              "--root", str(ROOT)]
    py = [sys.executable, "-m", "bench.buildbench"]
    timeout = max(10.0, min(args.build_timeout, budget.left() - 30))
    predicted = _predicted_build_s(args, scale)
    if predicted and predicted > timeout and not args.attempt_all_builds:
        res["build"] = {"ok": False, "not_attempted": True, "predicted_s": round(predicted),
                        "error": f"not attempted: the smaller scales predict about "
                                 f"{predicted / 60:.0f} min (linear in the triples), more than "
                                 f"the {timeout:.0f} s allowed (--attempt-all-builds tries)"}
        log(f"{scale}: build {res['build']['error']}")
    else:
        log(f"{scale}: build (crinkkg build, forced; timeout {timeout:.0f} s)")
        res["build"] = _child(py + ["build"] + common, timeout)
    b = res["build"]
    if b.get("ok"):
        _BUILT[scale] = b
    if b.get("ok"):
        log(f"{scale}: built in {b['wall_s']:.2f} s: " + ", ".join(
            f"{s['name']} {s['seconds']:.2f} s" for s in b["steps"]))
    else:
        log(f"{scale}: build failed: {str(b.get('error'))[:400]}")
        if args.serve_fallback and (b.get("timed_out") or b.get("not_attempted")):
            timeout = max(10.0, min(args.build_timeout, budget.left() - 60))
            log(f"{scale}: building a store to serve without SHACL validation "
                f"(timeout {timeout:.0f} s)")
            res["build_unvalidated"] = _child(py + ["build-unvalidated"] + common, timeout)
            u = res["build_unvalidated"]
            log(f"{scale}: " + (f"unvalidated build in {u['wall_s']:.2f} s" if u.get("ok")
                                else f"unvalidated build failed: {str(u.get('error'))[:300]}"))
    if b.get("ok") or res.get("build_unvalidated", {}).get("ok"):
        # warm start: the CLI's cache-hit build, a new process each time
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run([str(Path(sys.executable).with_name("crinkkg"))] + common[:-2]
                           + ["build", "--quiet"], cwd=ROOT, capture_output=True, timeout=60)
            times.append(time.perf_counter() - t0)
        res["warm_start"] = {"cli_cache_hit_s": [round(t, 3) for t in times],
                             "median_s": round(statistics.median(times), 3)}
        log(f"{scale}: warm start (cache-hit `crinkkg build`) {statistics.median(times):.3f} s")
    if _scale_le(scale, args.owlrl_max_scale):
        timeout = max(10.0, min(args.build_timeout, budget.left() - 30))
        log(f"{scale}: plain owlrl baseline + inferred-triples check (timeout {timeout:.0f} s)")
        res["owlrl"] = _child(py + ["owlrl", "--check"] + common, timeout)
        o = res["owlrl"]
        if o.get("ok"):
            checks = "; ".join(f"{c['against']}: {'equal' if c['equal'] else 'DIFFERENT'} "
                               f"(-{c['missing']} +{c['extra']})" for c in o.get("checks", []))
            log(f"{scale}: owlrl expand {o['seconds']:.2f} s; {checks}")
        else:
            log(f"{scale}: owlrl baseline failed: {o.get('error')}")
    else:
        res["owlrl"] = {"ok": False, "skipped": True,
                        "error": f"skipped above {args.owlrl_max_scale} (owlrl is the reference "
                                 "on the smaller scales; it takes minutes and GBs here)"}
        timeout = max(10.0, min(args.build_timeout, budget.left() - 30))
        res["rules"] = _child(py + ["rules"] + common, timeout)


def _count_triples(body: bytes, ctype: str) -> int | None:
    import pyoxigraph as ox

    fmt = ox.RdfFormat.from_media_type(ctype.split(";")[0].strip()) if ctype else None
    if fmt is None and body.lstrip().startswith(b"<?xml"):
        fmt = ox.RdfFormat.RDF_XML  # rdflib-endpoint labels RDF/XML graphs sparql-results+xml
    if fmt is None:
        return None
    try:
        return sum(1 for _ in ox.parse(body, format=fmt))
    except (SyntaxError, ValueError):
        return None


def _store_current(data: Path, store: Path) -> bool:
    from crinkkg.build.pipeline import is_current
    from crinkkg.settings import Settings
    return is_current(Settings(ontology_dir=ROOT / "ontology", data_dir=data, store=store))


_BUILT: dict[str, dict] = {}


def _predicted_build_s(args, scale: str) -> float | None:
    """Linear extrapolation of the largest smaller scale's build time."""
    smaller = [(_size(s), b["wall_s"]) for s, b in _BUILT.items() if _size(s) < _size(scale)]
    if not smaller:
        return None
    n, seconds = max(smaller)
    return seconds * _size(scale) / n


def _answer_size(form: str, status: int, body: bytes, ctype: str = "") -> dict:
    out: dict = {}
    if status != 200:
        out["error"] = body[:300].decode(errors="replace")
        return out
    if form == "SELECT":
        try:
            data = json.loads(body)
            rows = data["results"]["bindings"]
            out["rows"] = len(rows)
            if len(rows) == 1 and len(rows[0]) == 1:
                out["value"] = next(iter(rows[0].values()))["value"]
        except (ValueError, KeyError):
            out["rows"] = None
    else:
        out["triples"] = _count_triples(body, ctype)
    return out


def _subjects(db: Path, count: int = 4096, seed: int = 1) -> list[str]:
    """``count`` resources of the store (every typed IRI, in a seeded order) for the
    varied lookups: more than any memo of a crinkkg HTTP process holds (1,024 requests),
    where the store has that many."""
    import random

    import pyoxigraph as ox

    store = ox.Store.read_only(str(db))
    typed = sorted({q.subject.value for q in store.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), None)
        if isinstance(q.subject, ox.NamedNode)})
    del store
    random.Random(seed).shuffle(typed)
    return typed[:count]


def serve_and_load(args, scale: str, store: Path, data: Path, res: dict, budget: Budget,
                   sample: dict | None) -> None:
    """Serve the built ``store`` with each server and load them cell by cell; ``sample``
    names the query mix's entities (None: chosen from the curated store)."""
    import pyoxigraph as ox

    from crinkkg.store.layout import StoreLayout

    workdir = args.work / scale
    db = StoreLayout(store).db()
    if sample is None:  # the curated graph: its queries that find something, its session
        mix, res["queries_left_out"] = curated.answered(db, query_mix(curated.sample(db)))
        for name in res["queries_left_out"]:
            log(f"{scale}: {name} left out: it finds nothing in this graph")
        mix += [varied_lookups(_subjects(db)), curated.session()]
    else:
        mix = query_mix(sample) + [varied_lookups(_subjects(db))]
    if args.queries:
        keep = set(args.queries.split(","))
        mix = [q for q in mix if q.name in keep]
    res["queries"] = {q.name: {"kind": q.kind, "form": q.form, "what": q.what, "text": q.text,
                               **({"requests": len(q.texts)} if q.texts else {})}
                      for q in mix}
    specs: list[servers.ServerSpec] = []
    info: dict[str, dict] = {}
    res["servers"] = info
    for name in args.servers:
        if name in ("crinkkg", "crinkkg-waitress", "crinkkg-no-repeats"):
            ok, why = servers.crinkkg_available()
            if ok:
                specs.append(servers.crinkkg_spec(ROOT / "ontology", data, store,
                                                  extra=args.crinkkg_arg, name=name))
        elif name == "oxigraph":
            ok, why = servers.oxigraph_available()
            if ok:
                specs.append(servers.oxigraph_spec(db))
        elif name == "rdflib-endpoint":
            ok, why = servers.rdflib_available()
            if ok and not _scale_le(scale, args.rdflib_max_scale):
                ok, why = False, (f"not run above {args.rdflib_max_scale}: rdflib's in-memory "
                                  "store and engine are too slow to load and query it in the "
                                  "time budget")
            if ok:
                nq = workdir / "dump.nq"
                st = ox.Store.read_only(str(db))
                st.dump(str(nq), format=ox.RdfFormat.N_QUADS)
                del st
                specs.append(servers.rdflib_spec(nq))
        elif name.startswith("ceiling-"):
            wsgi = name.split("-", 1)[1]
            ok, why = servers.ceiling_available(wsgi)
            if ok:
                specs.append(servers.ceiling_spec(wsgi))
        else:
            ok, why = False, "unknown server"
        if not ok:
            info[name] = {"available": False, "reason": why}
            log(f"{scale}: {name} skipped: {why}")
    running: dict[str, servers.Running] = {}
    try:
        for spec in specs:
            try:
                r = servers.start(spec, workdir / "logs", cwd=ROOT)
            except RuntimeError as exc:
                info[spec.name] = {"available": False, "reason": str(exc)[:500]}
                log(f"{scale}: {spec.name} failed to start: {exc}")
                continue
            running[spec.name] = r
            info[spec.name] = {"available": True, "ready_s": round(r.ready_s, 3),
                               "memory_idle": servers.memory(r), "note": spec.note,
                               "argv": " ".join(spec.argv)}
            log(f"{scale}: {spec.name} ready in {r.ready_s:.2f} s "
                f"(RSS {info[spec.name]['memory_idle']['rss_mb']} MB)")
        # answers: one request per query and server, to check they agree; also a warm-up
        answers = []
        for q in mix:
            for name, r in running.items():
                if name.startswith("ceiling-"):
                    continue
                # the session's every query is checked (its answer: the rows of all of them)
                texts = q.texts if q.name == "session" else (q.text,)
                try:
                    sizes = []
                    for text in texts:
                        url = load.request_url(r.spec.endpoint, text)
                        for _ in range(2):
                            status, body, ctype, sec = load.fetch(
                                url, q.accept, timeout=args.request_timeout * 3)
                        sizes.append(_answer_size(q.form, status, body, ctype))
                        if status != 200:
                            break
                    row = {"server": name, "query": q.name, "status": status,
                           "content_type": ctype.split(";")[0], "bytes": len(body),
                           "ms": round(sec * 1000, 2),
                           **(sizes[0] if status == 200 else sizes[-1])}
                    if len(texts) > 1 and status == 200:
                        row["rows_each"] = [s.get("rows") for s in sizes]
                        row["rows"] = sum(n or 0 for n in row["rows_each"])
                        row.pop("value", None)
                except OSError as exc:
                    row = {"server": name, "query": q.name, "status": None, "error": str(exc)}
                answers.append(row)
                servers.wait_idle(r, max_wait=10)
        res["answers"] = answers
        single_ms = {(a["server"], a["query"]): a.get("ms") or 0 for a in answers}
        # the load cells
        cells = []
        for q in mix:
            for c in args.clients:
                cells.append((q, c))
        turn = [q for q in mix if not q.texts]  # the mix: one text per query
        if len(turn) > 1:
            every = BenchQuery("mix", "mix", "MIX", "", "the queries above, sent in turn")
            res["queries"]["mix"] = {"kind": "mix", "form": "MIX", "what": every.what,
                                     "text": "(" + ", ".join(q.name for q in turn) + ")"}
            for c in args.clients:
                cells.append((every, c))
            for name in running:
                single_ms[(name, "mix")] = statistics.mean(
                    single_ms.get((name, q.name), 0) for q in turn)
        http = []
        res["http"] = http
        names = list(running)
        skipped = 0
        for rnd in range(args.rounds):
            for i, (q, c) in enumerate(cells):
                order = names[i % len(names):] + names[:i % len(names)] if names else []
                if rnd % 2 == 1:
                    order = order[::-1]
                for name in order:
                    if name.startswith("ceiling-") and q.name != "lookup":
                        continue
                    if budget.left() < 3 * args.duration + 8:
                        skipped += 1
                        continue
                    r = running[name]
                    servers.wait_idle(r, max_wait=30)
                    busy = servers.foreign_cpu(list(running.values()))
                    if q.name == "mix":
                        url = [(load.request_url(r.spec.endpoint, m.text), m.accept)
                               for m in turn]
                    elif q.texts:
                        url = [(load.request_url(r.spec.endpoint, t), q.accept)
                               for t in q.texts]
                    else:
                        url = load.request_url(r.spec.endpoint, q.text)
                    # a slow server needs a longer window for its queue to reach a steady
                    # state: at least ~2.5 rounds of every client's request, within 3x
                    single = single_ms.get((name, q.name), 0) / 1000
                    duration = min(3 * args.duration, max(args.duration, 2.5 * c * single))
                    try:
                        lr = load.run(url, q.accept, c, duration, tool=args.loadgen,
                                      timeout=args.request_timeout)
                        row = {"server": name, "query": q.name, "kind": q.kind, "clients": c,
                               "round": rnd, **lr.as_dict(), "foreign_cpu": busy,
                               "loadavg": round(os.getloadavg()[0], 2)}
                    except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
                        row = {"server": name, "query": q.name, "kind": q.kind, "clients": c,
                               "round": rnd, "error": str(exc)[:300], "rps": 0.0}
                    http.append(row)
                    mem = servers.memory(r)
                    peak = info[name].setdefault("memory_peak", mem)
                    if (mem["rss_mb"] or 0) > (peak["rss_mb"] or 0):
                        info[name]["memory_peak"] = mem
                    p99 = row.get("p99_ms")
                    log(f"{scale} r{rnd} {q.name:9} c={c:<2} {name:16} "
                        f"{row.get('rps', 0):9.1f}/s p99 {p99 if p99 is not None else '-'} ms"
                        + (f" errors {row['errors']}" if row.get("errors") else ""))
        if args.profile and "crinkkg" in running and budget.left() > 60:
            profile_crinkkg(args, running["crinkkg"], mix, res)
        if skipped:
            res["skipped_cells"] = skipped
            log(f"{scale}: {skipped} cells skipped: the time budget ran out")
        for name, r in running.items():
            info[name]["memory_after"] = servers.memory(r)
    finally:
        for r in running.values():
            servers.stop(r)


def profile_crinkkg(args, r: servers.Running, mix, res: dict) -> None:
    """py-spy samples of `crinkkg serve` (server and workers) under 8 clients, for a cheap
    and an engine-bound query: where does the time go? (Not counted in the figures.)"""
    from . import profile

    if profile.py_spy() is None:
        res["profiles"] = {"skipped": "py-spy is not installed (pip install py-spy)"}
        return
    out = {}
    for q in mix:
        if q.name not in ("lookup", "aggregate"):
            continue
        servers.wait_idle(r, max_wait=30)
        handle = profile.start(r.proc.pid, args.profile_seconds)
        time.sleep(0.3)
        lr = load.run(load.request_url(r.spec.endpoint, q.text), q.accept, 8,
                      args.profile_seconds - 0.5, tool=args.loadgen, timeout=args.request_timeout)
        summary = profile.finish(handle) if handle else None
        if summary:
            summary["rps_while_profiled"] = lr.rps
            out[q.name] = summary
            top = ", ".join(f"{k} {v}%" for k, v in list(summary["areas"].items())[:4])
            log(f"profile crinkkg {q.name} @8: {top}")
    res["profiles"] = out


def machine_info() -> dict:
    import importlib.metadata as md
    versions = {}
    for pkg in ("crinkkg", "pyoxigraph", "oxigraph", "rdflib", "owlrl", "rdflib-endpoint",
                "flask", "waitress", "gunicorn", "uvicorn"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    wrk = load.wrk_path()
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil
        mem = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        mem = None
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "cpu": cpu, "memory_gb": mem, "versions": versions,
            "wrk": bool(wrk)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from . import report

    if args.from_json:
        results = json.loads(args.from_json.read_text())
        report.write(results, args.out)
        print(report.summary(results))
        return 0
    budget = Budget(args.max_minutes)
    loadgen = args.loadgen if args.loadgen != "auto" else ("wrk" if load.wrk_path() else "python")
    results: dict = {"meta": {
        "started": datetime.now(UTC).isoformat(timespec="seconds"), "quick": args.quick,
        "scales": args.scales, "clients": args.clients, "duration_s": args.duration,
        "rounds": args.rounds, "seed": args.seed, "loadgen": loadgen,
        "request_timeout_s": args.request_timeout, "machine": machine_info(),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
    }, "scales": {}}
    try:
        for scale in args.scales:
            if budget.left() < 20:
                log(f"{scale}: skipped, the time budget ran out")
                results["scales"][scale] = {"skipped": "time budget"}
                continue
            workdir = args.work / scale
            data, store = workdir / "data", workdir / "store"
            res: dict = {}
            results["scales"][scale] = res
            t0 = time.perf_counter()
            sample: dict | None = None
            if curated.is_curated(scale):
                data = curated.DATA
                res["generated"] = {"triples": curated.asserted_triples(data),
                                    "source": "the curated graph (data/)"}
                log(f"{scale}: the curated graph, {res['generated']['triples']} triples")
            else:
                gen = generate(data, scale, seed=args.seed, fmt=args.fmt)
                sample = gen.sample
                res["generated"] = {**gen.as_dict(),
                                    "seconds": round(time.perf_counter() - t0, 3)}
                log(f"{scale}: generated {gen.triples} triples in {len(gen.files)} files")
            saved = workdir / "build-figures.json"
            if args.reuse_build and saved.exists() and _store_current(data, store):
                res.update(json.loads(saved.read_text()))
                res["build_reused"] = True
                if res.get("build", {}).get("ok"):
                    _BUILT[scale] = res["build"]
                log(f"{scale}: build figures reused from an earlier run ({saved})")
            else:
                measure_build(args, scale, data, store, res, budget)
                saved.write_text(json.dumps({k: res[k] for k in
                                             ("build", "owlrl", "rules", "warm_start",
                                              "build_unvalidated") if k in res}))
            servable = res["build"].get("ok") or res.get("build_unvalidated", {}).get("ok")
            if not servable:
                res["serving_skipped"] = "the build did not finish"
                continue
            if not res["build"].get("ok"):
                res["served_store"] = ("built by crinkkg's own build with the SHACL step "
                                       "skipped, because the full build could not finish")
            serve_and_load(args, scale, store, data, res, budget, sample)
    except KeyboardInterrupt:
        results["meta"]["interrupted"] = True
        log("interrupted: writing what was measured")
    results["meta"]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["meta"]["elapsed_s"] = round(budget.elapsed(), 1)
    report.write(results, args.out)
    print(report.summary(results))
    log(f"done in {budget.elapsed():.0f} s; report in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
