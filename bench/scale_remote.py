"""Scale over Virtuoso: the embedded build, ``crinkkg publish`` and ``crinkkg reason
--in-store`` at 500k and 5M synthetic triples, with time and peak memory of each step.

Run from the repository root (``nice`` is applied by the script itself; the machine is
shared)::

    .venv/bin/python -m bench.scale_remote                    # 500k, then 5M
    .venv/bin/python -m bench.scale_remote --scales 500k      # one scale
    .venv/bin/python -m bench.scale_remote --build-5m         # also try the 5M local build

Every crinkkg step is the real command in its own process (``crinkkg build``, ``crinkkg
--backend ... publish``, ``crinkkg --backend ... reason --in-store``, ``crinkkg --backend ...
export``), watched from here: wall time, peak RSS of its process tree (psutil, sampled at
10 Hz, the sum over the process and its children), its CPU seconds, and the same for the
Virtuoso server over the step, so that a reader can tell where the time goes.

At 500k the closure computed in the store is compared with the local build's inferred
graph: counts, and the triples themselves (the inferred view read back through ``crinkkg
export``, blank nodes matched through their skolem names). At 5M the local build does not fit
this machine (the 500k build peaks near 2 GB; see ``--build-5m``): the asserted graphs are
written the way publish writes them (blank nodes as skolem IRIs, one N-Triples file per
graph, named as the build names them), loaded with Virtuoso's bulk loader, a manifest that
``crinkkg publish`` would write is added (:class:`crinkkg.backends.remote.Manifest`), and
``reason --in-store`` runs on that.

Results: ``bench/results/scale-remote-<date>.json`` (rewritten after every step).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from remote_stores import HOST, VIRTUOSO_INI, RemoteStore, start_virtuoso  # noqa: E402

CRINKKG = str(Path(sys.executable).with_name("crinkkg"))
SCALES = {"500k": 500_000, "5m": 5_000_000}
#: Virtuoso settings for loads of millions of triples (on top of the test harness's ini):
#: buffers of 8 KB each, sized for a machine with ~18 GB free that others share
BIG_LOAD = {
    "NumberOfBuffers": "340000",        # ~2.7 GB of page buffers (Virtuoso's 4 GB row)
    "MaxDirtyBuffers": "250000",
    "CheckpointInterval": "60",
    "MaxQueryMem": "4G",                # memory of one query's hash joins and sorts
    # one rule INSERT at 5M writes millions of quads in one transaction: its log image
    # must not hit the default limit (50 MB), which aborts the update
    # (set to 4000000000 a 50k-triple PUT was still aborted: an overflow, it seems)
    "TransactionAfterImageLimit": "1500000000",
    "MaxCheckpointRemap": "500000",
}
#: the [SPARQL] limits the harness already sets (no truncation, no anytime answers)
SPARQL_LIMITS = {"ResultSetMaxRows": "1000000000", "MaxQueryExecutionTime": "0",
                 "MaxQueryCostEstimationTime": "0"}


def big_ini(dirs_allowed: list[Path]) -> str:
    """The harness's ini with :data:`BIG_LOAD` in [Parameters] and the load folders
    allowed (the bulk loader reads only from ``DirsAllowed``)."""
    ini = VIRTUOSO_INI
    params = dict(BIG_LOAD, DirsAllowed=", ".join([".", *map(str, dirs_allowed)]))
    for key, value in params.items():
        line = re.compile(rf"^{key}\s*=.*$", re.M)
        if line.search(ini):
            ini = line.sub(f"{key} = {value}", ini)
        else:
            ini = ini.replace("[Parameters]\n", f"[Parameters]\n{key} = {value}\n", 1)
    return ini


class Watch:
    """Samples a process tree's RSS (and a server's) at 10 Hz until stopped."""

    def __init__(self, pid: int, server: int | None) -> None:
        self.pid, self.server = pid, server
        self.peak = 0
        self.server_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self) -> int:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_rss())
            if self.server:
                try:
                    self.server_peak = max(self.server_peak,
                                           psutil.Process(self.server).memory_info().rss)
                except psutil.Error:
                    pass
            self._stop.wait(0.1)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        t = psutil.Process(pid).cpu_times()
        return t.user + t.system
    except psutil.Error:
        return 0.0


def _mb(n: int) -> float:
    return round(n / 2**20, 1)


def run_step(argv: list[str], *, server: RemoteStore | None = None, timeout: float = 3600,
             profile: Path | None = None) -> dict:
    """Run one command, watched; its JSON output (the last line that parses) as ``report``."""
    spid = server.process.pid if server else None
    children0 = os.times()
    scpu0 = _cpu(spid)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={k: v for k, v in os.environ.items()
                                 if not k.startswith("CRINKKG_")})
    spy = None
    if profile is not None and shutil.which("py-spy", path=str(Path(sys.executable).parent)):
        spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record",
                                "--pid", str(proc.pid), "--rate", "20", "--nonblocking",
                                "--format", "raw",
                                "--output", str(profile)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    with Watch(proc.pid, spid) as watch:
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            timed_out = True
    seconds = time.perf_counter() - t0
    if spy is not None:
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
    children1 = os.times()
    result = {"argv": [a for a in argv if a not in ("nice",)], "seconds": round(seconds, 2),
              "returncode": proc.returncode, "timed_out": timed_out,
              "peak_rss_mb": _mb(watch.peak),
              "cpu_s": round((children1.children_user - children0.children_user)
                             + (children1.children_system - children0.children_system), 2)}
    if server is not None:
        result["store_peak_rss_mb"] = _mb(watch.server_peak)
        result["store_cpu_s"] = round(_cpu(spid) - scpu0, 2)
    text = out.decode(errors="replace").strip()
    try:
        result["report"] = json.loads(text)
    except ValueError:
        result["stdout_tail"] = text[-1500:]
    if proc.returncode != 0 or timed_out:
        result["stderr_tail"] = err.decode(errors="replace")[-3000:]
    return result


def backend_args(store: RemoteStore) -> list[str]:
    return ["--backend", store.query_url, "--backend-update", store.update_url,
            "--backend-graph-store", store.graph_store_url]


def isql(store: RemoteStore, sql: str, timeout: float = 7200) -> str:
    """SQL through ``isql-vt`` as ``dba`` (its port read back from the instance's ini)."""
    ini = (store.directory / "virtuoso.ini").read_text()
    port = re.search(r"\[Parameters\][^\[]*?ServerPort\s*=\s*[\d.]+:(\d+)", ini).group(1)
    done = subprocess.run([shutil.which("isql-vt") or "isql-vt", f"{HOST}:{port}", "dba",
                           store.password or "dba", f"exec={sql}"],
                          capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    if done.returncode != 0 or "*** Error" in output:
        raise RuntimeError(f"isql-vt failed on {sql[:300]}:\n{output[-2000:]}")
    return output


def crinkkg(*args: str) -> list[str]:
    return [CRINKKG, *args]


def generate(scale: str, out: Path, fmt: str) -> dict:
    """The synthetic graph (seed 1, as bench/ makes it), reused when already there."""
    meta = out / "generated.json"
    if meta.exists():
        data = json.loads(meta.read_text())
        if data.get("seed") == 1 and data.get("fmt") == fmt and \
                abs(data.get("triples", 0) - SCALES[scale]) < SCALES[scale] * 0.01:
            return {**data, "reused": True}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench.synthetic", "--scale",
                           str(SCALES[scale]), "--seed", "1", "--format", fmt, "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return {**json.loads(done.stdout), "seconds": round(time.perf_counter() - t0, 2)}


def local_inferred(store_link: Path) -> set[str]:
    """The build's inferred graph, as canonical N-Triples lines."""
    import pyoxigraph as ox

    from crinkkg.store.layout import StoreLayout
    from crinkkg.vocab import INFERRED_GRAPH

    layout = StoreLayout(store_link)
    st = ox.Store.read_only(str(layout.db()))
    return {str(q.triple) for q in
            st.quads_for_pattern(None, None, None, ox.NamedNode(str(INFERRED_GRAPH)))}


def read_back(path: Path) -> set[str]:
    """An N-Triples export of the remote store, its blank nodes named as the build names
    them (publish makes ``_:b1`` the skolem IRI ``…/genid/<version>-b1``; crinkkg turns it
    back into ``_:<version>-b1``)."""
    import pyoxigraph as ox

    out = set()
    for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES):
        s, o = t.subject, t.object
        if isinstance(s, ox.BlankNode):
            s = ox.BlankNode(re.sub(r"^[0-9a-f]{16}-", "", s.value))
        if isinstance(o, ox.BlankNode):
            o = ox.BlankNode(re.sub(r"^[0-9a-f]{16}-", "", o.value))
        out.add(str(ox.Triple(s, t.predicate, o)))
    return out


def compare(local: set[str], remote: set[str]) -> dict:
    missing, extra = local - remote, remote - local
    return {"local": len(local), "remote": len(remote), "missing": len(missing),
            "extra": len(extra), "equal": not missing and not extra,
            "missing_sample": sorted(missing)[:5], "extra_sample": sorted(extra)[:5]}


def count_inferred(store: RemoteStore) -> dict:
    """The inferred graph's size, asked through crinkkg (the manifest's dataset)."""
    from crinkkg.vocab import INFERRED_GRAPH_IRI

    return run_step(crinkkg(*backend_args(store), "query", "--format", "json",
                            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED_GRAPH_IRI}> "
                            "{ ?s ?p ?o } }"), server=store)


def _n(step: dict) -> int | None:
    try:
        return int(step["report"]["results"]["bindings"][0]["n"]["value"])
    except (KeyError, IndexError, TypeError):
        return None


def counted(step: dict) -> dict:
    """The count of a :func:`count_inferred` step, or what crinkkg said instead."""
    n = _n(step)
    if n is not None:
        return {"inferred": n, "seconds": step["seconds"]}
    return {"inferred": None, "error": step.get("report") or step.get("stderr_tail")}


class Results:
    """The JSON document, written after each step so that a stopped run keeps its figures."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.doc: dict = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                          "machine": machine(), "virtuoso_ini": {**BIG_LOAD, **SPARQL_LIMITS},
                          "scales": {}}
        if path.exists():
            old = json.loads(path.read_text())
            self.doc["scales"] = old.get("scales", {})

    def step(self, scale: str, name: str, value: dict) -> dict:
        self.doc["scales"].setdefault(scale, {})[name] = value
        self.save()
        print(f"[{time.strftime('%H:%M:%S')}] {scale} {name}: " + json.dumps(
            {k: v for k, v in value.items() if k in ("seconds", "peak_rss_mb", "cpu_s",
                                                      "store_peak_rss_mb", "store_cpu_s",
                                                      "returncode", "equal", "skipped",
                                                      "missing", "extra", "inferred")}),
              flush=True)
        return value

    def save(self) -> None:
        self.doc["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.doc, indent=2) + "\n")


def machine() -> dict:
    import pyoxigraph

    version = subprocess.run(["virtuoso-t", "-?"], capture_output=True, text=True)
    vline = next((ln for ln in (version.stdout + version.stderr).splitlines()
                  if "Version" in ln), "")
    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "pyoxigraph": pyoxigraph.__version__, "virtuoso": vline.strip(),
            "nice": os.nice(0)}


# -- the steps --------------------------------------------------------------------------------


def scale_500k(res: Results, work: Path, reuse_build: bool = False) -> None:
    scale = "500k"
    data, store_dir = work / "synth-500k", work / "store-500k"
    res.step(scale, "generate", generate(scale, data, "ttl"))
    locations = ["--store", str(store_dir), "--ontology", str(ROOT / "ontology"),
                 "--data", str(data)]
    build = res.doc["scales"].get(scale, {}).get("build")
    if not (reuse_build and build and build["returncode"] == 0 and store_dir.exists()):
        build = res.step(scale, "build", run_step(crinkkg(*locations, "build", "--force",
                                                          "--json"), timeout=1800))
    if build["returncode"] != 0:
        return
    vdir = work / "virtuoso-500k"
    shutil.rmtree(vdir, ignore_errors=True)
    with start_virtuoso(vdir, ini_template=big_ini([])) as store:
        pub = res.step(scale, "publish", run_step(
            crinkkg(*locations, *backend_args(store), "publish", "--quiet", "--json",
                    "--no-build"), server=store, profile=work / "publish-500k.pyspy.txt"))
        if pub["returncode"] != 0:
            return
        res.step(scale, "count_published", counted(count_inferred(store)))
        rsn = res.step(scale, "reason_in_store", run_step(
            crinkkg(*backend_args(store), "reason", "--in-store", "--json"), server=store,
            timeout=3600, profile=work / "reason-500k.pyspy.txt"))
        if rsn["returncode"] != 0:
            return
        export = work / "inferred-500k.nt"
        exp = run_step(crinkkg(*backend_args(store), "export", "--view", "inferred",
                               "--format", "ntriples", "-o", str(export)), server=store)
        local = local_inferred(store_dir)
        check = {"export": exp, "count_through_crinkkg": _n(count_inferred(store)),
                 "count_local": len(local)}
        if exp["returncode"] == 0:
            check.update(compare(local, read_back(export)))
        res.step(scale, "closure_check", check)


def _prepare_5m(data: Path, load: Path, version: str
                ) -> tuple[list[tuple[str, Path]], list[str]]:
    """One N-Triples file per asserted graph, as publish would send it: the build's graph
    names, blank nodes (scoped per file, as the build scopes them) as skolem IRIs; and one
    N-Quads file with a graph per stored text (``crink:textContent``, as the build adds
    them). Returns the files with their graphs, and the text graphs."""
    import pyoxigraph as ox

    from crinkkg.backends.publish import skolemized
    from crinkkg.build.pipeline import _text_source
    from crinkkg.inputs import anchors
    from crinkkg.inputs.loading import discover, parse_file
    from crinkkg.settings import Settings
    from crinkkg.vocab import graph_iri_for

    base = Settings().base_iri
    done = load / "prepared.json"
    if done.exists() and json.loads(done.read_text()).get("version") == version:
        kept = json.loads(done.read_text())
        return [(g, Path(p)) for g, p in kept["files"]], kept["text_graphs"]
    shutil.rmtree(load, ignore_errors=True)
    load.mkdir(parents=True)
    out = []
    declared: list[tuple[str, list]] = []
    for i, (path, role) in enumerate(discover(ROOT / "ontology", data)):
        if role == "shapes":
            continue  # not data: the build keeps shapes out of the store
        target = load / f"{i:02d}-{path.stem}.nt"
        if path.suffix == ".nt" and b"_:" not in path.read_bytes():
            os.link(path, target)  # no blank nodes: the file as it is
            out.append((graph_iri_for(path.name), target))
            if path.stem == "sources":  # where crink:storedText is declared
                declared.append((path.name, parse_file(path, ROOT, role, base_iri=base).triples))
            continue
        source = parse_file(path, ROOT, role, base_iri=base)
        target.write_bytes(ox.serialize(skolemized(source.triples, version),
                                        format=ox.RdfFormat.N_TRIPLES) or b"")
        out.append((source.graph, target))
        del source
    texts = [_text_source(t, ROOT) for t in anchors.stored_texts(declared, data)]
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(src.graph))
             for src in texts for t in src.triples]
    (load / "texts.nq").write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")
    out.append(("urn:x-crinkkg:unused", load / "texts.nq"))
    text_graphs = [src.graph for src in texts]
    done.write_text(json.dumps({"version": version, "files": [(g, str(p)) for g, p in out],
                                "text_graphs": text_graphs}))
    return out, text_graphs


def scale_5m(res: Results, work: Path, try_build: bool) -> None:
    from crinkkg.backends.manifest import Manifest
    from crinkkg.vocab import INFERRED_GRAPH_IRI

    scale = "5m"
    data = work / "synth-5m"
    res.step(scale, "generate", generate(scale, data, "nt"))
    built = res.doc["scales"].get("500k", {}).get("build", {})
    if try_build:
        store_dir = work / "store-5m"
        res.step(scale, "build", run_step(crinkkg(
            "--store", str(store_dir), "--ontology", str(ROOT / "ontology"), "--data",
            str(data), "build", "--force", "--json"), timeout=900))
    else:
        peak = (built.get("peak_rss_mb") or 2000) * 10 / 1024
        wall = (built.get("seconds") or 50) * 10 / 60
        res.step(scale, "build", {
            "skipped": True,
            "why": f"projected from the 500k build on this machine (x10): about {peak:.1f} GB "
                   f"peak RSS, on a machine of {psutil.virtual_memory().total / 2**30:.1f} GB "
                   f"that others share, and about {wall:.0f} min, over the 15-minute limit; "
                   "run with --build-5m to try it"})
    version = "scale5m000000000"  # 16 characters, as publish's versions
    t0 = time.perf_counter()
    files, text_graphs = _prepare_5m(data, work / "load-5m", version)
    res.step(scale, "prepare_files", {"seconds": round(time.perf_counter() - t0, 2),
                                      "files": len(files), "text_graphs": len(text_graphs)})
    vdir = work / "virtuoso-5m"
    shutil.rmtree(vdir, ignore_errors=True)
    with start_virtuoso(vdir, ini_template=big_ini([work / "load-5m"])) as store:
        spid = store.process.pid
        scpu0 = _cpu(spid)
        t0 = time.perf_counter()
        with Watch(spid, None) as watch:
            adds = " ".join(f"ld_add('{p}', '{g}');" for g, p in files)
            isql(store, f"{adds} rdf_loader_run(); checkpoint;")
        loaded = store.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                              "FILTER(STRSTARTS(STR(?g), 'https://w3id.org/crinkkg/graph/')) }")
        res.step(scale, "bulk_load", {
            "seconds": round(time.perf_counter() - t0, 2), "store_peak_rss_mb": _mb(watch.peak),
            "store_cpu_s": round(_cpu(spid) - scpu0, 2),
            "quads": int(loaded["results"]["bindings"][0]["n"]["value"]),
            "how": "isql: ld_add(file, graph) per file, rdf_loader_run(), checkpoint"})
        graphs = [g for g, p in files if p.suffix == ".nt"] + text_graphs
        manifest = Manifest(version, tuple(sorted(graphs)), INFERRED_GRAPH_IRI)
        store.update(" ;\n".join(manifest.inserts()))
        rsn = res.step(scale, "reason_in_store", run_step(
            crinkkg(*backend_args(store), "reason", "--in-store", "--json"), server=store,
            timeout=3600, profile=work / "reason-5m.pyspy.txt"))
        if rsn["returncode"] == 0:
            res.step(scale, "count_inferred", counted(count_inferred(store)))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="500k,5m", help="comma-separated: 500k, 5m")
    ap.add_argument("--work", type=Path, default=Path("/tmp/crinkkg-scale"),
                    help="where data, stores and Virtuoso databases go (tens of GB free)")
    ap.add_argument("--build-5m", action="store_true",
                    help="try the local build at 5M too (15-minute limit)")
    ap.add_argument("--reuse-build", action="store_true",
                    help="keep the 500k build of an earlier run (its figures are kept too)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    os.nice(10)  # a shared machine: every step, and the Virtuoso it starts, yields
    out = args.out or ROOT / "bench" / "results" / f"scale-remote-{dt.date.today()}.json"
    args.work.mkdir(parents=True, exist_ok=True)
    res = Results(out)
    for scale in args.scales.split(","):
        if scale == "500k":
            scale_500k(res, args.work, args.reuse_build)
        elif scale == "5m":
            scale_5m(res, args.work, args.build_5m)
        else:
            raise SystemExit(f"unknown scale {scale!r}: 500k or 5m")
    res.save()
    print(f"results: {out}")


if __name__ == "__main__":
    main()
