"""How much memory a query worker needs to answer each bundled and benchmark query.

``--worker-memory-mb`` bounds each query worker's data memory (``RLIMIT_DATA``: heap and
private writable maps; file maps of the database and reserved address space do not count,
see :func:`crinkkg.backends.embedded.worker.limit_memory`). This harness measures what
that bound constrains, so that its default rests on figures::

    .venv/bin/python -m bench.query_memory                  # 5k, 50k, 500k (about an hour)
    .venv/bin/python -m bench.query_memory --scales 5k --modes copy   # a smoke run (~1 min)
    .venv/bin/python -m bench.query_memory --add --scales '' --runaway-mb 1536 --serve 1536

For each scale it generates the synthetic dataset and builds it as ``python -m bench`` does
(``bench/synthetic.py``, seed 1; a current store in ``--work`` is reused), then, for each
bundled query (``src/crinkkg/queries/*.rq``), each query of the benchmark's mix
(``bench/queries.py``) and a few queries at the server's limits (:func:`at_the_limits`),
with the memory copy and from the database alone (``--modes``), runs it in fresh child
processes that do what a query worker does
(:func:`~crinkkg.backends.embedded.worker.limit_memory`, then
:class:`~crinkkg.store.current.CurrentStore` with its memory copy, then the worker's own job
loop answering the job the server sends, over a socket pair):

- once unbounded (a safety bound of ``--safety-mb``): the worker's peak RSS (``VmHWM``,
  reset after the store is opened and copied), its data memory (``VmData``) sampled every
  few milliseconds from this process (no kernel high-water mark exists for it), the answer;
- then by bisection, the smallest bound (MB, to ``--resolution``) under which a fresh worker
  still opens the store, makes its copy and answers: the figure the default must cover.

The baseline is an idle worker: the store opened, and copied into memory (the smallest bound
under which that succeeds, its RSS and data memory). ``--runaway-mb`` runs the cross-product
``ORDER BY`` under a bound; ``--serve`` starts ``crinkkg serve`` (at ``--at``) with that
``--worker-memory-mb``, sends every query over HTTP and reads every process of the server
(HTTP processes, query workers): what the server's total is made of besides the bounded
workers. ``--add`` adds what a run measures to the day's results.

Writes ``bench/results/query-memory-<date>.json`` (every trial) and ``.md`` (the tables).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SELECT_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples"
#: what the memory copy is forced to hold in "copy" mode (every store measured fits)
FORCE_COPY = 10**9
#: a runaway query (design.md: it grew a worker by gigabytes within seconds)
RUNAWAY = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"


def log(msg: str) -> None:
    print(f"[query-memory {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- what a query worker does, in a child process --------------------------------------


def child_main(fd: int, link: str, copy_quads: int, limit_mb: int) -> None:
    """A query worker with its memory copy made before the first job: the same bound, the
    same store object, the same job loop as
    :func:`~crinkkg.backends.embedded.worker.query_worker_main`, whose copy is made in the
    background while it already answers from disk (here the copy is waited for, so that
    the measure of a query is never the measure of a copy half made)."""
    from crinkkg.backends.embedded import channel as wire
    from crinkkg.backends.embedded.worker import _serve_jobs, limit_memory
    from crinkkg.backends.evaluation import run_query
    from crinkkg.sparqltext import transitive_path
    from crinkkg.store.current import CurrentStore

    conn = socket.socket(fileno=fd)
    limit_memory(limit_mb)
    started = time.perf_counter()
    versioned = CurrentStore(Path(link), copy_quads)
    for thread in threading.enumerate():
        if thread.name == "memory-copy":
            thread.join()
    wire.send(conn, ("ready", os.getpid(), versioned.in_memory,
                     round(time.perf_counter() - started, 3)))

    def handle(job: tuple) -> tuple:
        return run_query(versioned.current(transitive=transitive_path(job[1])), job)

    _serve_jobs(conn, handle, limit_mb)  # the worker's own loop: what is measured is it


# -- the measuring side ---------------------------------------------------------------


def status_mb(pid: int) -> dict[str, float]:
    """``VmData``, ``VmRSS``, ``VmHWM``, ``VmSize`` of a process, in MB (empty once gone)."""
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmData", "VmRSS", "VmHWM", "VmSize"):
                    out[key] = round(int(rest.split()[0]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return out


def reset_peak(pid: int) -> None:
    """Reset a process's peak-RSS mark (``VmHWM``), so that it measures what follows."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


class Sampler(threading.Thread):
    """Polls a process's ``VmData`` and ``VmSize``: the kernel keeps a high-water mark of
    the RSS only, and ``RLIMIT_DATA`` bounds data memory, not the RSS. A sample every
    ``interval`` s can miss a short peak: the bisection, not this, gives the need."""

    def __init__(self, pid: int, interval: float = 0.002) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peaks: dict[str, dict[str, float]] = {}
        self.phase = "start"
        self._stop_flag = threading.Event()

    def run(self) -> None:
        while not self._stop_flag.is_set():
            now = status_mb(self.pid)
            if not now:
                return
            peak = self.peaks.setdefault(self.phase, {})
            for key in ("VmData", "VmSize"):
                if key in now and now[key] > peak.get(key, 0):
                    peak[key] = now[key]
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stop_flag.set()
        self.join(timeout=2)


@dataclass
class Query:
    """One query as the server receives it: a name, the text(s), the Accept it sends."""

    name: str
    origin: str  # "bundled", "bench" or "runaway"
    texts: tuple[str, ...]
    accept: str


@dataclass
class Trial:
    """One fresh worker under one bound: did it open, copy and answer, and at what cost."""

    limit_mb: int
    answered: bool
    outcome: str  # "ok", "error <status> <kind>", "died <signal>", "no copy"
    copy_seconds: float | None = None
    in_memory: bool | None = None
    ready: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)
    sampled: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float | None = None
    rows: int | None = None
    bytes: int | None = None
    stderr: str = ""


def run_trial(link: Path, query: Query | None, limit_mb: int, *, copy: bool,
              timeout: float) -> Trial:
    """Start a worker bounded to ``limit_mb``, let it open (and copy) the store, send it
    ``query`` (None: nothing, the idle worker), and read what it took."""
    from crinkkg.backends.embedded import channel as wire

    parent, child = socket.socketpair()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "RUST_BACKTRACE": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.query_memory", "child", str(child.fileno()), str(link),
         str(FORCE_COPY if copy else 0), str(limit_mb)],
        pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, cwd=ROOT, env=env)
    child.close()
    err: list[bytes] = []
    reader = threading.Thread(target=lambda: err.append(process.stderr.read()), daemon=True)
    reader.start()
    sampler = Sampler(process.pid)
    sampler.phase = "open"
    sampler.start()
    trial = Trial(limit_mb, False, "")
    try:
        try:  # copying a large store on a busy machine takes minutes
            hello = wire.recv(parent, max(timeout, 600))
        except wire.Timeout:
            trial.outcome = "timed out while opening the store"
            return trial
        except (EOFError, OSError):
            trial.outcome = _ended(process) + " while opening the store"
            return trial
        _, pid, trial.in_memory, trial.copy_seconds = hello
        trial.ready = status_mb(pid)
        if copy and not trial.in_memory:
            trial.outcome = "no copy"
            return trial
        reset_peak(pid)
        sampler.phase = "query"
        started = time.perf_counter()
        rows = size = 0
        for text in (query.texts if query else ()):
            job = ("query", text, "all", None, None, None, query.accept, None, 100_000)
            try:
                wire.send(parent, job)
                reply = wire.recv(parent, timeout)
            except wire.Timeout:
                trial.outcome = f"timed out after {timeout:g} s"
                return trial
            except (EOFError, OSError):
                trial.outcome = _ended(process)
                return trial
            if reply[0] != "ok":
                trial.outcome = f"error {reply[1]} {reply[2]}"
                trial.after = status_mb(pid)
                return trial
            size += len(reply[2])
            rows += answer_size(reply[1], reply[2])
        trial.seconds = round(time.perf_counter() - started, 3)
        trial.after = status_mb(pid)
        trial.answered, trial.outcome, trial.rows, trial.bytes = True, "ok", rows, size
        return trial
    finally:
        sampler.stop()
        trial.sampled = sampler.peaks
        try:
            wire.send(parent, None)
        except OSError:
            pass
        parent.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=2)
        text = b"".join(err).decode("utf-8", "replace")
        trial.stderr = "\n".join(text.strip().splitlines()[-3:])


def answer_size(content_type: str, body: bytes) -> int:
    """Rows of a JSON result (1 for ASK), lines of N-Triples."""
    if content_type.startswith(SELECT_ACCEPT):
        data = json.loads(body)
        return len(data["results"]["bindings"]) if "results" in data else 1
    return body.count(b"\n")


def _ended(process: subprocess.Popen) -> str:
    try:
        code = process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        return "stopped answering"
    if code < 0:
        import signal
        return f"died {signal.Signals(-code).name}"
    return f"exited {code}"


def smallest_bound(link: Path, query: Query | None, *, copy: bool, low: int, high: int,
                   resolution: int, safety: int, timeout: float, trials: list[Trial],
                   low_fails: bool = False) -> int | None:
    """The smallest bound (a multiple of ``resolution``) under which a fresh worker answers
    ``query``, by bisection between a bound that fails and one that answers; ``low`` and
    ``high`` are guesses, checked (widened until they fail and answer) unless
    ``low_fails`` says ``low`` is known to fail. Confirmed once more at the end (worker
    threads make the need vary by a few MB) when the bisection found it: a bound that then
    fails moves up a step."""

    def answers(limit: int) -> bool:
        trial = run_trial(link, query, limit, copy=copy, timeout=timeout)
        trials.append(trial)
        if trial.outcome.startswith("timed out"):  # slow, not short of memory: no verdict
            raise TimeoutError(trial.outcome)
        return trial.answered

    high = max(resolution, -(-high // resolution) * resolution)
    while not answers(high):
        if high >= safety:
            return None
        high = min(safety, -(-int(high * 1.25) // resolution) * resolution)
    low = max(0, low // resolution * resolution)
    while low > 0 and not low_fails and answers(low):
        high, low = low, max(0, low - max(resolution, (high - low) * 2))
    bisected = high - low > resolution
    while high - low > resolution:
        middle = (low + high) // 2 // resolution * resolution
        if answers(middle):
            high = middle
        else:
            low = middle
    for _ in range(3 if bisected else 0):
        if answers(high):
            return high
        high += resolution
    return high


# -- the queries -------------------------------------------------------------------------


def _accept(text: str) -> str:
    body = re.sub(r"#[^\n]*", "", text)
    form = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body, re.IGNORECASE)
    return GRAPH_ACCEPT if form and form.group(1).upper() in ("CONSTRUCT", "DESCRIBE") \
        else SELECT_ACCEPT


def at_the_limits(max_rows: int) -> list[Query]:
    """Queries the server answers that are neither bundled nor benchmarked but set what a
    worker must hold besides: the largest answer it sends (``max_rows`` rows, or triples),
    and a whole-store DISTINCT and ORDER BY (held in full before the first row)."""
    return [
        Query("rows at max_rows", "limits",
              (f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {max_rows}",), SELECT_ACCEPT),
        Query("triples at max_rows", "limits",
              (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }} LIMIT {max_rows}",),
              GRAPH_ACCEPT),
        Query("DISTINCT over every object", "limits",
              ("SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }",), SELECT_ACCEPT),
        Query("ORDER BY over every triple", "limits",
              ("SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?o LIMIT 10",), SELECT_ACCEPT),
    ]


def queries_for(sample: dict[str, str], db: Path, lookups: int) -> list[Query]:
    """The bundled queries, the benchmark's mix over this dataset's sample (the varied
    lookups: the first ``lookups`` of them, one after another in the same worker), then
    the queries at the server's limits."""
    from crinkkg.examples import examples
    from crinkkg.settings import Settings

    from .__main__ import _subjects
    from .queries import query_mix, varied_lookups

    found = [Query(e.name, "bundled", (e.sparql,), _accept(e.sparql)) for e in examples()]
    for q in query_mix(sample) + [varied_lookups(_subjects(db, lookups))]:
        found.append(Query(q.name, "bench", q.texts or (q.text,), q.accept))
    return found + at_the_limits(Settings().max_rows)


# -- datasets ----------------------------------------------------------------------------


def dataset(scale: str, work: Path, seed: int, build_timeout: float) -> tuple[Path, dict, dict]:
    """Generate and build ``scale`` as ``python -m bench`` does (a current store is kept);
    return the store link, the generator's figures and the build's."""
    from .__main__ import _child, _store_current
    from .synthetic import generate

    data, store = work / scale / "data", work / scale / "store"
    gen = generate(data, scale, seed=seed)
    figures = work / scale / "build-figures.json"
    built: dict = {}
    if _store_current(data, store) and figures.exists():
        built = json.loads(figures.read_text()).get("build", {})
        log(f"{scale}: store current, reused ({store})")
    else:
        log(f"{scale}: building ({gen.triples} asserted triples)")
        built = _child([sys.executable, "-m", "bench.buildbench", "build", "--ontology",
                        str(ROOT / "ontology"), "--data", str(data), "--store", str(store),
                        "--root", str(ROOT)], build_timeout)
        if not built.get("ok"):
            raise SystemExit(f"{scale}: the build failed: {built.get('error')}")
        figures.write_text(json.dumps({"build": built}))
    return store, gen.as_dict(), built


def store_quads(link: Path) -> int:
    """Quads of the store version the link points at, as its memory copy holds them."""
    import pyoxigraph as ox

    from crinkkg.store.layout import StoreLayout

    db = ox.Store.read_only(str(StoreLayout(link).db()))
    try:
        return len(db)
    finally:
        del db


# -- the server as a whole -------------------------------------------------------------


def serve_figures(scale: str, work: Path, bound: int, queries: list[Query],
                  timeout: float) -> dict:
    """Start ``crinkkg serve`` (its defaults, ``--worker-memory-mb bound``), send every
    query over HTTP, and read each process of the server: role, RSS, peak RSS, data."""
    from . import load, servers

    spec = servers.crinkkg_spec(ROOT / "ontology", work / scale / "data",
                                work / scale / "store",
                                extra=["--worker-memory-mb", str(bound)])
    running = servers.start(spec, work / scale / "logs", cwd=ROOT)
    try:
        idle = _settled(running.proc.pid, max(timeout, 600))  # every memory copy made
        answers = []
        for q in queries:
            for text in q.texts[:8]:
                try:
                    status, body, _, sec = load.fetch(load.request_url(spec.endpoint, text),
                                                      q.accept, timeout=timeout)
                except OSError as exc:
                    status, body, sec = 0, str(exc).encode(), 0.0
                answers.append({"query": q.name, "status": status, "bytes": len(body),
                                "seconds": round(sec, 3)})
        loaded = _server_processes(running.proc.pid)
    finally:
        servers.stop(running)
    return {"scale": scale, "worker_memory_mb": bound, "argv": " ".join(spec.argv),
            "idle": idle, "after_queries": loaded, "answers": answers}


def _settled(root_pid: int, timeout: float, quiet: float = 10.0) -> list[dict]:
    """The server's processes once their memory stopped growing for ``quiet`` seconds (the
    HTTP processes and the query workers make their memory copies after start-up)."""
    deadline = time.monotonic() + timeout
    last, since = -1.0, time.monotonic()
    while time.monotonic() < deadline:
        procs = _server_processes(root_pid)
        total = sum(p.get("VmRSS", 0) for p in procs)
        if abs(total - last) > 0.01 * max(last, 1):
            last, since = total, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return procs
        time.sleep(1)
    return _server_processes(root_pid)


def _server_processes(root_pid: int) -> list[dict]:
    import psutil

    out = []
    try:
        top = psutil.Process(root_pid)
        procs = [top, *top.children(recursive=True)]
    except psutil.NoSuchProcess:
        return out
    for p in procs:
        try:
            cmd = " ".join(p.cmdline())
        except psutil.Error:
            continue
        if "embedded.worker query" in cmd:
            role = "query worker"
        elif "embedded.worker update" in cmd:
            role = "update worker"
        elif p.pid == root_pid:
            role = "serving process"
        else:
            role = "HTTP process" if "crinkkg" in cmd else cmd[:60]
        out.append({"pid": p.pid, "role": role, **status_mb(p.pid)})
    return out


# -- the run ------------------------------------------------------------------------------


def measure_scale(args: argparse.Namespace, scale: str, earlier: dict | None = None) -> dict:
    """Every figure of one scale; with ``earlier`` (the same scale from an earlier run of
    the day, ``--add``), its idle workers are not measured again."""
    link, generated, built = dataset(scale, args.work, args.seed, args.build_timeout)
    from crinkkg.store.layout import StoreLayout

    quads = store_quads(link)
    queries = queries_for(generated["sample"], StoreLayout(link).db(), args.lookups)
    if args.queries:
        keep = set(args.queries.split(","))
        queries = [q for q in queries if q.name in keep]
    out: dict = {"generated": {k: generated[k] for k in ("triples", "sample")},
                 "build": {k: built.get(k) for k in ("asserted_triples", "inferred_triples",
                                                     "wall_s", "peak_rss_mb")},
                 "quads": quads, "baseline": {}, "queries": []}
    modes = args.modes.split(",")
    # the server's workers copy the store when copy_budget allows it: say when they do
    from crinkkg.backends.embedded.worker import copy_budget
    from crinkkg.settings import Settings

    out["copied_by_workers_from_mb"] = next(
        (mb for mb in range(256, 16385, 8) if copy_budget(Settings().memory_quads, mb) >= quads),
        None)
    for mode in modes:
        copy = mode == "copy"
        trials: list[Trial] = []
        if earlier and mode in earlier.get("baseline", {}):
            out["baseline"][mode] = earlier["baseline"][mode]
            need = out["baseline"][mode]["need_mb"]
        else:
            idle = run_trial(link, None, args.safety_mb, copy=copy, timeout=args.timeout)
            need = smallest_bound(link, None, copy=copy, low=int(idle.ready.get("VmData", 0)),
                                  high=int(data_seen(idle, "open") or 256) + 16,
                                  resolution=args.resolution, safety=args.safety_mb,
                                  timeout=args.timeout, trials=trials)
            out["baseline"][mode] = {"unbounded": asdict(idle), "need_mb": need,
                                     "trials": [asdict(t) for t in trials]}
            log(f"{scale} {mode}: idle worker: VmData {idle.ready.get('VmData')} MB, RSS "
                f"{idle.ready.get('VmRSS')} MB (copied in {idle.copy_seconds} s); smallest "
                f"bound {need} MB")
        for q in queries:
            trials = []
            free = run_trial(link, q, args.safety_mb, copy=copy, timeout=args.timeout)
            row: dict = {"query": q.name, "origin": q.origin, "mode": mode,
                         "requests": len(q.texts), "unbounded": asdict(free)}
            if free.answered and need is not None:
                # a worker that cannot open and copy the store answers nothing: the idle
                # worker's need is the least any query needs, and a step below it fails;
                # a bounded worker may be slower (a machine shared with others): time
                try:
                    row["need_mb"] = smallest_bound(
                        link, q, copy=copy, low=need - args.resolution, low_fails=True,
                        high=max(need, int(data_seen(free) or 0) + 16),
                        resolution=args.resolution, safety=args.safety_mb,
                        timeout=max(args.timeout, 4 * (free.seconds or 0) + 30),
                        trials=trials)
                except TimeoutError as exc:
                    row["need_mb"], row["undecided"] = None, str(exc)
                row["trials"] = [asdict(t) for t in trials]
            out["queries"].append(row)
            log(f"{scale} {mode} {q.name:32} {free.outcome:10} {free.seconds} s "
                f"{free.rows} rows; peak RSS {free.after.get('VmHWM')} MB, data seen "
                f"{data_seen(free)} MB; smallest bound {row.get('need_mb')} MB")
    return out


def data_seen(trial: Trial, phase: str = "query") -> float | None:
    """The largest data memory seen in a phase: sampled, or read at its end."""
    seen = [trial.sampled.get(phase, {}).get("VmData"),
            (trial.after if phase == "query" else trial.ready).get("VmData")]
    return max((v for v in seen if v is not None), default=None)


def runaway(args: argparse.Namespace, scale: str, bound: int) -> dict:
    """The cross-product ORDER BY under ``bound``: how it ends, and how far it grew."""
    link = args.work / scale / "store"
    q = Query("runaway ORDER BY over a cross product", "runaway", (RUNAWAY,), SELECT_ACCEPT)
    trial = run_trial(link, q, bound, copy=True, timeout=args.timeout)
    log(f"{scale}: runaway under {bound} MB: {trial.outcome}; VmData sampled "
        f"{trial.sampled.get('query', {}).get('VmData')} MB")
    return {"bound_mb": bound, **asdict(trial)}


def machine() -> dict:
    import importlib.metadata as md

    total = None
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                total = round(int(line.split()[1]) / 1024)
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_mb": total,
            "kernel": platform.release(), "python": platform.python_version(),
            "pyoxigraph": md.version("pyoxigraph"), "crinkkg": md.version("crinkkg")}


def data_seen_row(trial: dict) -> float | None:
    """:func:`data_seen` of a trial read back from JSON."""
    return data_seen(Trial(**trial))


def markdown(results: dict) -> str:
    """The tables of a run: the baseline, each query's need, the server's processes."""
    m = results["meta"]["machine"]
    lines = [f"# What a query worker needs ({results['meta']['date']})", "",
             f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_mb']:,} MB of memory, Linux "
             f"{m['kernel']}, Python {m['python']}, pyoxigraph {m['pyoxigraph']}. Commands: "
             + ", ".join(f"`{c}`" for c in results["meta"]["commands"]) + ".",
             "Bound: `--worker-memory-mb` sets `RLIMIT_DATA` (data memory: heap and private "
             "maps). *Smallest bound*: the smallest bound, to "
             f"{results['meta']['resolution_mb']} MB, under which a fresh worker opens the "
             "store, makes its memory copy (mode `copy`) and answers. *Peak RSS*: `VmHWM` "
             "while answering. *Data seen*: the largest `VmData` seen while answering "
             "(sampled every 2 ms, and at the end).", ""]
    lines += ["| scale | quads | mode | idle worker: data | idle RSS | copy made in | "
              "smallest bound, idle |", "|---|---|---|---|---|---|---|"]
    for scale, res in results["scales"].items():
        for mode, b in res["baseline"].items():
            u = b["unbounded"]
            lines.append(f"| {scale} | {res['quads']:,} | {mode} | {u['ready'].get('VmData')} "
                         f"MB | {u['ready'].get('VmRSS')} MB | {u['copy_seconds']} s | "
                         f"{b['need_mb']} MB |")
    lines += ["", "| scale | query | mode | answer | s | peak RSS | data seen | "
              "smallest bound |", "|---|---|---|---|---|---|---|---|"]
    for scale, res in results["scales"].items():
        for row in res["queries"]:
            u = row["unbounded"]
            answer = (f"{u['rows']:,} rows/triples, {u['bytes']:,} B" if u["answered"]
                      else u["outcome"])
            if row["requests"] > 1:
                answer += f" ({row['requests']} requests)"
            lines.append(f"| {scale} | {row['query']} | {row['mode']} | {answer} | "
                         f"{u['seconds']} | {u['after'].get('VmHWM')} MB | "
                         f"{data_seen_row(u)} MB | {row.get('need_mb')} MB |")
    for r in results.get("runaway", []):
        lines += ["", f"Runaway (`{RUNAWAY}`) at {r['scale']} under {r['bound_mb']} MB: "
                  f"{r['outcome']}, data sampled up to "
                  f"{r['sampled'].get('query', {}).get('VmData')} MB."]
    if results.get("serve"):
        s = results["serve"]
        lines += ["", f"`crinkkg serve` at {s['scale']} with `--worker-memory-mb "
                  f"{s['worker_memory_mb']}`, after every query above was sent over HTTP:",
                  "", "| process | RSS | peak RSS | data |", "|---|---|---|---|"]
        for p in s["after_queries"]:
            lines.append(f"| {p['role']} | {p.get('VmRSS')} MB | {p.get('VmHWM')} MB | "
                         f"{p.get('VmData')} MB |")
        statuses: dict[int, list[str]] = {}
        for a in s["answers"]:
            statuses.setdefault(a["status"], []).append(a["query"])
        lines += ["", "Answers over HTTP: " + ", ".join(
            f"{status}: {len(names)}" + ("" if status == 200 else f" ({', '.join(names)})")
            for status, names in sorted(statuses.items())) + "."]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.query_memory",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="5k,50k,500k")
    ap.add_argument("--queries", default=None, help="only these (names, comma-separated)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=ROOT / ".crinkkg" / "bench",
                    help="where data and stores go (shared with python -m bench)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--resolution", type=int, default=8, help="MB the bisection stops at")
    ap.add_argument("--safety-mb", type=int, default=8192,
                    help="the bound of an 'unbounded' run: no measurement grows past it")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per worker step")
    ap.add_argument("--build-timeout", type=float, default=900.0)
    ap.add_argument("--lookups", type=int, default=64,
                    help="varied lookups sent to one worker, one after another")
    ap.add_argument("--runaway-mb", type=int, default=None,
                    help="run the runaway ORDER BY under this bound (at --at)")
    ap.add_argument("--serve", type=int, default=None, metavar="MB",
                    help="start crinkkg serve (at --at) with this bound and read its processes")
    ap.add_argument("--at", default="500k",
                    help="the scale --runaway-mb and --serve run at (built by an earlier run)")
    ap.add_argument("--add", action="store_true",
                    help="add to today's results (bench/results/query-memory-<date>.json) "
                         "instead of replacing them")
    ap.add_argument("--modes", default="copy,disk",
                    help="copy (the store copied into memory, as workers do below "
                         "--memory-quads), disk (the database alone), or both")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "child":
        fd, link, copy_quads, limit_mb = sys.argv[2:6]
        child_main(int(fd), link, int(copy_quads), int(limit_mb))
        return 0
    args = parse_args(argv)
    args.work = args.work.absolute()
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    stem = args.out / f"query-memory-{date}"
    command = "python -m bench.query_memory " + shlex.join(
        argv if argv is not None else sys.argv[1:])
    results: dict = {"meta": {
        "date": date, "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), "resolution_mb": args.resolution, "seed": args.seed,
        "commands": []}, "scales": {}, "runaway": []}
    if args.add and stem.with_suffix(".json").exists():
        results = json.loads(stem.with_suffix(".json").read_text())
    results["meta"]["commands"].append(command)
    scales = [s for s in args.scales.split(",") if s]
    for scale in scales:
        earlier = results["scales"].get(scale) if args.add else None
        measured = measure_scale(args, scale, earlier)
        if earlier:  # the rows measured now replace theirs, the rest stay
            measured["baseline"] = {**earlier["baseline"], **measured["baseline"]}
            fresh = {(r["query"], r["mode"]) for r in measured["queries"]}
            measured["queries"] = [r for r in earlier["queries"]
                                   if (r["query"], r["mode"]) not in fresh] + measured["queries"]
        results["scales"][scale] = measured
    largest = args.at
    if args.runaway_mb:
        results["runaway"].append({"scale": largest, **runaway(args, largest, args.runaway_mb)})
    if args.serve:
        from crinkkg.store.layout import StoreLayout

        link = args.work / largest / "store"
        generated = json.loads((args.work / largest / "data" / "generated.json").read_text())
        results["serve"] = serve_figures(largest, args.work, args.serve,
                                         queries_for(generated["sample"],
                                                     StoreLayout(link).db(), args.lookups),
                                         args.timeout)
    results["meta"]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    stem.with_suffix(".md").write_text(markdown(results))
    log(f"written: {stem}.json, {stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
