"""Do remote stores give the embedded answers at scale? The benchmark's queries and the
bundled queries, over the synthetic datasets, through crinkkg on Virtuoso, on Oxigraph
server and on the embedded store, compared answer for answer.

Run from the repository root (``nice`` is applied by the script itself; the machine is
shared)::

    .venv/bin/python -m bench.remote_answers                        # 50k, then 500k
    .venv/bin/python -m bench.remote_answers --scales 50k --repeat 1

For each scale: the synthetic data (``bench/synthetic.py``, seed 1) is generated and built
with ``crinkkg build`` in ``--work/<scale>`` (both reused when already there: the build is
cached); a private Virtuoso (sized for big loads as ``bench/scale_remote.py`` sizes it) and
then an Oxigraph server (``tests/remote_stores.py``) are started, one at a time, and
``crinkkg publish`` sends the build to each (its own process, timed, with the peak memory of
the store). Every query of :func:`bench.queries.query_mix` (over the sample of that dataset)
and every bundled query (``src/crinkkg/queries/*.rq``) is then run in this process through
crinkkg's own backends, as ``crinkkg query`` runs it: the embedded one on the build
(:class:`~crinkkg.backends.embedded.direct.DirectBackend`) and the remote one on each store
(:class:`~crinkkg.backends.remote.RemoteBackend`: the manifest's dataset, blank nodes turned
back from skolem IRIs, the answer written by the same code).

Where ``crinkkg publish`` to Oxigraph server fails (it did at 500k while its swap was one
request: docs/remote-stores.md), the answers are still compared on an Oxigraph server over a
database filled by ``oxigraph load`` with what the publish would have left there (the same
graphs, skolem IRIs and manifest: :func:`published_quads`); ``--bulk-load oxigraph@500k``
goes straight to that, skipping the publish.

Answers are compared as the query forms define them: SELECT as multisets of solutions
(every blank node the same term: labels are local to a document), CONSTRUCT and DESCRIBE
as graphs (:func:`rdflib.compare.isomorphic`). A query that differs gets the rows or
triples each side has and the other lacks (counts and a sample). Each query is run
``--repeat`` times on each backend; the wall time of each run is kept, and whether every run
gave the first run's answer (``stable``).

Results: ``bench/results/remote-answers-<date>.json`` (rewritten after each step), and a
table on standard output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from remote_stores import RemoteStore, start_oxigraph, start_virtuoso  # noqa: E402

from bench.queries import query_mix  # noqa: E402
from bench.synthetic import generate  # noqa: E402

if TYPE_CHECKING:
    from rdflib import Graph

    from crinkkg.backends import Backend

# bench.scale_remote (psutil, of the bench extra) is imported where a run needs it: the
# comparison itself serves tests/test_remote_answers.py, which has the test extra only

BUNDLED = sorted((ROOT / "src" / "crinkkg" / "queries").glob("*.rq"))
STORES = ("virtuoso", "oxigraph")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
#: one answer format for every query form: SPARQL JSON results, or N-Triples for a graph
FORMATS = ("json", "ntriples")
SAMPLE = 5  # rows or triples quoted from each side of a difference


@dataclass(frozen=True)
class Query:
    """One query of the comparison: ``bench:<name>`` or ``bundled:<NN>``."""

    name: str
    form: str
    text: str


def all_queries(sample: dict[str, str]) -> list[Query]:
    """The benchmark's mix over ``sample`` (the generated dataset's entities), then the
    bundled queries."""
    from crinkkg.sparqltext import query_form

    out = [Query(f"bench:{q.name}", q.form, q.text) for q in query_mix(sample)]
    for path in BUNDLED:
        text = path.read_text(encoding="utf-8")
        out.append(Query(f"bundled:{path.stem}", query_form(text), text))
    return out


# -- answers ------------------------------------------------------------------------------------


def _term(term: dict) -> str:
    """A SPARQL JSON term as one comparable string; every blank node is ``_:``."""
    kind = term["type"]
    if kind == "bnode":
        return "_:"
    if kind == "uri":
        return f"<{term['value']}>"
    text = json.dumps(term["value"], ensure_ascii=False)
    if "xml:lang" in term:
        return f"{text}@{term['xml:lang'].lower()}"
    datatype = term.get("datatype")
    return text if datatype in (None, XSD_STRING) else f"{text}^^<{datatype}>"


@dataclass
class Answer:
    """A query's answer, ready to compare: solutions (a multiset, in the order sent too)
    or a graph (N-Triples)."""

    form: str
    rows: list[tuple[tuple[str, str], ...]] | None = None
    boolean: bool | None = None
    ntriples: bytes | None = None

    @property
    def size(self) -> int:
        if self.rows is not None:
            return len(self.rows)
        if self.ntriples is not None:
            return len(self.graph())
        return 1

    def graph(self) -> Graph:
        """The answer as a graph, parsed once."""
        from rdflib import Graph

        if not hasattr(self, "_graph"):
            self._graph = Graph().parse(data=self.ntriples, format="nt")
        return self._graph


def read_answer(form: str, body: bytes) -> Answer:
    """A SPARQL JSON results body (SELECT, ASK) or N-Triples (CONSTRUCT, DESCRIBE)."""
    if form in ("CONSTRUCT", "DESCRIBE"):
        return Answer(form, ntriples=body)
    doc = json.loads(body)
    if "boolean" in doc:
        return Answer(form, boolean=bool(doc["boolean"]))
    rows = [tuple(sorted((v, _term(t)) for v, t in b.items()))
            for b in doc["results"]["bindings"]]
    return Answer(form, rows=rows)


def _has_blank(graph: Graph) -> bool:
    from rdflib import BNode

    return any(isinstance(n, BNode) for t in graph for n in (t[0], t[2]))


LIMIT_AT_END = re.compile(r"\s+LIMIT\s+\d+\s*$", re.I)
ORDER_BY = re.compile(r"\bORDER\s+BY\b(.*?)(?:\bLIMIT\b|\bOFFSET\b|$)", re.I | re.S)


def unlimited(query: Query) -> Query | None:
    """``query`` without the ``LIMIT`` that ends it, when it also has an ``ORDER BY``: the
    rows a top-k answer may take its ties at the cut from (None for any other query)."""
    if query.form != "SELECT" or not LIMIT_AT_END.search(query.text) \
            or not ORDER_BY.search(query.text):
        return None
    return Query(query.name, query.form, LIMIT_AT_END.sub("", query.text))


def described_iri(query: Query) -> str | None:
    """The IRI a ``DESCRIBE <iri>`` query describes."""
    found = re.search(r"\bDESCRIBE\s+<([^>]+)>", query.text, re.I)
    return found.group(1) if query.form == "DESCRIBE" and found else None


def order_keys(query: Query) -> list[str]:
    """The variables the ``ORDER BY`` of ``query`` sorts on (those in its expressions)."""
    found = ORDER_BY.search(query.text)
    return re.findall(r"[?$](\w+)", found.group(1)) if found else []


def ties_at_cut(embedded: Answer, remote: Answer, full: Answer, keys: list[str]) -> dict:
    """Whether two answers of a top-k query (``ORDER BY`` ... ``LIMIT k``) differ only in
    which rows tied at the cut each kept, as SPARQL allows (the order of rows whose sort
    keys are equal is not defined): the store's rows are all rows of ``full`` (the
    embedded answer without the LIMIT), as many as the embedded ones, and every row one
    side has and the other lacks has the sort keys of the embedded answer's last row."""
    assert embedded.rows is not None and remote.rows is not None and full.rows is not None
    if not embedded.rows or len(remote.rows) != len(embedded.rows):
        return {"ties_only": False}
    cut = {k: v for k, v in embedded.rows[-1] if k in keys}
    mine, theirs, every = Counter(embedded.rows), Counter(remote.rows), Counter(full.rows)
    differing = list((mine - theirs).elements()) + list((theirs - mine).elements())
    ok = not (theirs - every) and all(
        {k: v for k, v in row if k in keys} == cut for row in differing)
    return {"ties_only": ok, "cut": cut,
            "tied_rows_in_full_answer": sum(
                1 for row in full.rows if {k: v for k, v in row if k in keys} == cut)}


def compare(embedded: Answer, remote: Answer, full: Answer | None = None,
            keys: list[str] | None = None, described: str | None = None) -> dict:
    """``equal``, the sizes, and where they differ what each side has that the other lacks
    (``missing``: in the embedded answer only; ``extra``: in the store's only); for a
    top-k query (``full``: its embedded answer without the LIMIT), whether they differ
    only in the rows tied at the cut (:func:`ties_at_cut`); for a DESCRIBE of the IRI
    ``described``, whether that IRI is the subject or the object of the differing triples."""
    if embedded.boolean is not None or remote.boolean is not None:
        return {"equal": embedded.boolean == remote.boolean,
                "embedded": embedded.boolean, "remote": remote.boolean}
    if embedded.rows is not None and remote.rows is not None:
        mine, theirs = Counter(embedded.rows), Counter(remote.rows)
        equal = mine == theirs
        out: dict = {"equal": equal, "embedded_rows": len(embedded.rows),
                     "remote_rows": len(remote.rows),
                     "same_order": embedded.rows == remote.rows}
        if not equal:
            missing, extra = mine - theirs, theirs - mine
            out.update(missing=sum(missing.values()), extra=sum(extra.values()),
                       missing_sample=[dict(r) for r in list(missing.elements())[:SAMPLE]],
                       extra_sample=[dict(r) for r in list(extra.elements())[:SAMPLE]])
            if full is not None:
                out.update(ties_at_cut(embedded, remote, full, keys or []))
        if keys:  # an ORDER BY: do the rows come in the same order of their sort keys?
            def sorted_on(rows: list) -> list:
                return [tuple(v for k, v in row if k in keys) for row in rows]

            out["sort_keys_in_same_order"] = sorted_on(embedded.rows) == sorted_on(remote.rows)
        return out
    from rdflib.compare import graph_diff, isomorphic, to_isomorphic

    g1, g2 = embedded.graph(), remote.graph()
    blank = _has_blank(g1) or _has_blank(g2)
    equal = isomorphic(g1, g2) if blank else set(g1) == set(g2)
    out = {"equal": equal, "embedded_triples": len(g1), "remote_triples": len(g2),
           "blank_nodes": blank}
    if not equal:
        if blank:
            _both, only1, only2 = graph_diff(to_isomorphic(g1), to_isomorphic(g2))
        else:
            only1, only2 = set(g1) - set(g2), set(g2) - set(g1)
        out.update(missing=len(only1), extra=len(only2),
                   missing_sample=sorted(" ".join(n.n3() for n in t) for t in only1)[:SAMPLE],
                   extra_sample=sorted(" ".join(n.n3() for n in t) for t in only2)[:SAMPLE])
        if described:  # where the described resource stands in what differs
            for side, triples in (("missing", only1), ("extra", only2)):
                out[f"{side}_with_resource"] = dict(Counter(
                    "subject" if str(t[0]) == described else
                    "object" if str(t[2]) == described else "neither" for t in triples))
    return out


def same(a: Answer, b: Answer) -> bool:
    return compare(a, b)["equal"]


def run_queries(ask: Callable[[str], bytes], queries: list[Query], repeat: int,
                log: Callable[[str], None]) -> dict[str, tuple[Answer | None, dict]]:
    """Each query ``repeat`` times through ``ask`` (text -> answer body): its first answer
    and its figures (wall time of each run, stability, or the error it raised)."""
    out: dict[str, tuple[Answer | None, dict]] = {}
    for q in queries:
        seconds: list[float] = []
        first: Answer | None = None
        stable = True
        try:
            for _ in range(repeat):
                t0 = time.perf_counter()
                body = ask(q.text)
                seconds.append(round(time.perf_counter() - t0, 4))
                answer = read_answer(q.form, body)
                if first is None:
                    first = answer
                elif stable and not same(first, answer):
                    stable = False
        except Exception as exc:  # noqa: BLE001 - reported as the query's answer
            out[q.name] = (None, {"error": f"{type(exc).__name__}: {exc}"[:2000],
                                  "seconds": seconds})
            log(f"  {q.name}: error {type(exc).__name__}: {str(exc)[:300]}")
            continue
        assert first is not None
        figures = {"seconds": seconds, "median_s": round(statistics.median(seconds), 4),
                   "size": first.size, "stable": stable}
        out[q.name] = (first, figures)
        log(f"  {q.name}: {first.size} {'triples' if first.ntriples is not None else 'rows'}"
            f" in {figures['median_s']:.3f} s (median of {len(seconds)})"
            + ("" if stable else ", NOT STABLE across runs"))
    return out


def asker(backend: Backend) -> Callable[[str], bytes]:
    """A query's answer body, as ``crinkkg query --format json|ntriples`` gets it."""
    from crinkkg.backends.contract import ALL_ROWS

    def ask(text: str) -> bytes:
        return backend.query(text, view="all", fmt=FORMATS, max_rows=ALL_ROWS).body

    return ask


# -- the steps ----------------------------------------------------------------------------------


class Results:
    """The JSON document, written after each step so that a stopped run keeps its figures."""

    def __init__(self, path: Path, command: str) -> None:
        from bench.scale_remote import machine

        self.path = path
        self.doc: dict = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                          "command": command, "machine": machine(), "scales": {}}
        if path.exists():  # other scales of an earlier run today are kept
            self.doc["scales"] = json.loads(path.read_text()).get("scales", {})

    def scale(self, scale: str) -> dict:
        return self.doc["scales"].setdefault(scale, {})

    def save(self) -> None:
        self.doc["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.doc, indent=1) + "\n")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def prepare(scale: str, work: Path) -> tuple[dict, Path, Path]:
    """The generated data (seed 1; kept when ``generated.json`` says it is that) and its
    build (``crinkkg build``, cached): the generation report, the data and the store."""
    data, store = work / scale / "data", work / scale / "store"
    meta = data / "generated.json"
    kept = json.loads(meta.read_text()) if meta.exists() else {}
    if kept.get("seed") == 1 and kept.get("scale") == scale and kept.get("fmt") == "ttl":
        gen = {**kept, "reused": True}
    else:
        t0 = time.perf_counter()
        gen = {**generate(data, scale, seed=1).as_dict(),
               "seconds": round(time.perf_counter() - t0, 2)}
    return gen, data, store


def locations(store: Path, data: Path) -> list[str]:
    """The global options of the build ``store`` of ``data``."""
    return ["--store", str(store), "--ontology", str(ROOT / "ontology"), "--data", str(data)]


def embedded_answers(store: Path, data: Path, queries: list[Query], repeat: int
                     ) -> tuple[dict[str, tuple[Answer | None, dict]], dict[str, Answer]]:
    """Each query's answer on the build, and for each top-k query (:func:`unlimited`) its
    answer without the LIMIT."""
    from crinkkg.backends.contract import ALL_ROWS
    from crinkkg.backends.embedded.direct import DirectBackend
    from crinkkg.settings import Settings

    backend = DirectBackend(Settings(store=store, ontology_dir=ROOT / "ontology",
                                     data_dir=data), max_rows=ALL_ROWS)
    backend.start()
    try:
        answers = run_queries(asker(backend), queries, repeat, log)
        ask = asker(backend)
        full = {q.name: read_answer(q.form, ask(u.text)) for q in queries
                if (u := unlimited(q)) is not None}
        return answers, full
    finally:
        backend.close()


def remote_answers(remote: RemoteStore, queries: list[Query], repeat: int, timeout: float
                   ) -> dict[str, tuple[Answer | None, dict]]:
    from crinkkg.backends import open_backend
    from crinkkg.backends.contract import ALL_ROWS
    from crinkkg.settings import Settings

    settings = Settings(backend=remote.query_url, backend_update=remote.update_url,
                        backend_graph_store=remote.graph_store_url, timeout=timeout,
                        max_rows=ALL_ROWS)
    backend = open_backend(settings)
    try:
        return run_queries(asker(backend), queries, repeat, log)
    finally:
        backend.close()


def start_store(name: str, folder: Path) -> RemoteStore:
    """A new private store in ``folder``: Virtuoso sized for big loads, or Oxigraph."""
    from bench.scale_remote import big_ini

    shutil.rmtree(folder, ignore_errors=True)
    if name == "virtuoso":
        return start_virtuoso(folder, ini_template=big_ini([]))
    return start_oxigraph(folder)


def published_quads(store_dir: Path, out: Path) -> dict:
    """What a successful ``crinkkg publish`` of the build leaves in a store, written as
    N-Quads to ``out``: each graph publish sends (the same names and sizes, blank nodes as
    the same skolem IRIs: the version is the one publish computes) and the manifest of its
    first publish. For a store that publish could not fill (:func:`bulk_loaded_oxigraph`)."""
    import pyoxigraph as ox

    from crinkkg.backends.manifest import MANIFEST_GRAPH, Manifest
    from crinkkg.backends.publish import DERIVED, local_graphs, skolemized, version_of
    from crinkkg.store.layout import StoreLayout
    from crinkkg.store.oxigraph import MERGE, OxigraphStore
    from crinkkg.vocab import INFERRED_GRAPH_IRI, SUPPORT_GRAPH_IRI

    layout = StoreLayout(store_dir)
    version = version_of(layout.build_record(), str(layout.current()))
    store = OxigraphStore.open(store_dir)
    try:
        sizes, _own = local_graphs(store)
        shared = next(iter(store.quads(None, None, None, MERGE)), None) is not None
        with out.open("wb") as f:
            for graph, size in sizes.items():
                if not size:
                    continue
                sources = [graph] if graph != MERGE.value or shared else \
                    [g for g in store.graph_names() if g not in DERIVED]
                node = ox.NamedNode(MERGE.value if graph == MERGE.value else graph)
                for source in sources:
                    triples = (q.triple for q in store.quads(
                        None, None, None, MERGE if source == MERGE.value
                        else ox.NamedNode(source)))
                    f.write(ox.serialize(
                        (ox.Quad(t.subject, t.predicate, t.object, node)
                         for t in skolemized(triples, version)),
                        format=ox.RdfFormat.N_QUADS) or b"")
            manifest = Manifest(version, tuple(sorted(g for g in sizes if g not in DERIVED)),
                                INFERRED_GRAPH_IRI, MERGE.value,
                                SUPPORT_GRAPH_IRI if sizes.get(SUPPORT_GRAPH_IRI) else None,
                                serial=1)
            graph_node = ox.NamedNode(MANIFEST_GRAPH)
            f.write(ox.serialize(
                (ox.Quad(t.subject, t.predicate, t.object, graph_node) for t in ox.parse(
                    manifest.triples().encode(), format=ox.RdfFormat.N_TRIPLES)),
                format=ox.RdfFormat.N_QUADS) or b"")
    finally:
        store.close()
    return {"version": version, "graphs": sum(1 for n in sizes.values() if n),
            "quads": sum(sizes.values())}


def bulk_loaded_oxigraph(store_dir: Path, folder: Path) -> tuple[RemoteStore, dict]:
    """An Oxigraph server over a database filled by its own bulk loader (``oxigraph
    load``) with :func:`published_quads`: the state a publish would leave, for when
    ``crinkkg publish`` itself fails on the store."""
    from bench.scale_remote import run_step

    shutil.rmtree(folder, ignore_errors=True)
    db = folder / "attempt-1" / "db"  # where start_oxigraph's first attempt serves from
    db.parent.mkdir(parents=True)
    t0 = time.perf_counter()
    dump = folder / "published.nq"
    figures = published_quads(store_dir, dump)
    figures["write_seconds"] = round(time.perf_counter() - t0, 2)
    load = run_step([str(Path(sys.executable).with_name("oxigraph")), "load", "--location",
                     str(db), "--file", str(dump)], timeout=3600)
    figures["load"] = {k: load.get(k) for k in ("seconds", "returncode", "peak_rss_mb",
                                               "stderr_tail") if k in load}
    dump.unlink()
    remote = start_oxigraph(folder)
    if remote.directory != db.parent:
        remote.stop()
        raise RuntimeError(f"the Oxigraph server did not start over {db}")
    return remote, figures


def publish_and_ask(name: str, scale: str, work: Path, store_dir: Path, data: Path,
                    queries: list[Query], repeat: int, timeout: float, entry: dict,
                    res: Results) -> tuple[dict, dict[str, tuple[Answer | None, dict]]]:
    """A new store ``name``: ``crinkkg publish`` to it (timed), then the queries through
    crinkkg when the publish succeeded."""
    from bench.scale_remote import backend_args, crinkkg, run_step

    answers: dict[str, tuple[Answer | None, dict]] = {}
    with start_store(name, work / scale / name) as remote:
        log(f"{scale}: publish to {name}")
        pub = run_step(crinkkg(*locations(store_dir, data), *backend_args(remote),
                               "publish", "--quiet", "--json", "--no-build"),
                       server=remote, timeout=3600)
        report = pub.pop("report", None)
        if isinstance(report, dict) and pub["returncode"] == 0:
            pub["version"] = report.get("version")
            pub["graphs"] = len(report.get("graphs", {}))
            pub["quads"] = sum(report.get("graphs", {}).values())
        elif report is not None:
            pub["report"] = report  # what crinkkg said when it failed
        entry["publish"] = pub
        res.save()
        log(f"{scale}: published to {name} in {pub['seconds']} s "
            f"(status {pub['returncode']}, {pub.get('graphs')} graphs)")
        if pub["returncode"] == 0:
            answers = remote_answers(remote, queries, repeat, timeout)
    return pub, answers


def run_scale(res: Results, scale: str, work: Path, repeat: int, timeout: float,
              stores: list[str], bulk: bool = True, bulk_only: tuple[str, ...] = ()
              ) -> None:
    from bench.scale_remote import crinkkg, run_step

    out = res.scale(scale)
    gen, data, store_dir = prepare(scale, work)
    out["generate"] = {k: gen[k] for k in ("triples", "files", "texts", "sample", "seconds",
                                           "reused") if k in gen}
    log(f"{scale}: {gen['triples']} generated triples in {len(gen['files'])} files")
    build = run_step(crinkkg(*locations(store_dir, data), "build", "--json"), timeout=3600)
    out["build"] = {k: build.get(k) for k in ("seconds", "returncode", "peak_rss_mb",
                                              "report", "stderr_tail") if k in build}
    res.save()
    log(f"{scale}: build (cached when current) {build['seconds']} s, "
        f"status {build['returncode']}")
    if build["returncode"] != 0:
        return
    queries = all_queries(gen["sample"])
    out["queries"] = {q.name: {"form": q.form, "text": q.text} for q in queries}
    log(f"{scale}: embedded")
    embedded, full = embedded_answers(store_dir, data, queries, repeat)
    out["embedded"] = {name: figures for name, (_a, figures) in embedded.items()}
    res.save()
    out.setdefault("stores", {})
    for name in stores:
        entry: dict = {}
        out["stores"][name] = entry
        if f"{name}@{scale}" in bulk_only:
            pub = {"returncode": None, "skipped": f"--bulk-load {name}@{scale}"}
            entry["publish"] = pub
        else:
            entry["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
            pub, answers = publish_and_ask(name, scale, work, store_dir, data, queries,
                                           repeat, timeout, entry, res)
        if pub["returncode"] != 0 and name == "oxigraph" and bulk:
            log(f"{scale}: no publish to {name}; its bulk loader fills a store instead")
            remote, entry["bulk_load"] = bulk_loaded_oxigraph(store_dir,
                                                              work / scale / f"{name}-bulk")
            res.save()
            with remote:
                answers = remote_answers(remote, queries, repeat, timeout)
        elif pub["returncode"] != 0:
            continue
        entry["queries"] = {}
        for q in queries:
            mine, mine_fig = embedded[q.name]
            theirs, figures = answers[q.name]
            row = dict(figures)
            if mine is None or theirs is None:
                row["equal"] = None
                row["why"] = "an error on " + ("the embedded store" if mine is None else name)
            else:
                row.update(compare(mine, theirs, full.get(q.name), order_keys(q),
                                   described_iri(q)))
            entry["queries"][q.name] = row
        res.save()


def table(doc: dict) -> str:
    """query | scale | store | equal | order | size | embedded s | store s (medians);
    "ties": the answers differ only in which rows tied at a LIMIT each kept
    (:func:`ties_at_cut`); order: for an ORDER BY, whether the rows come in the same order
    of their sort keys."""
    lines = [f"{'query':<42} {'scale':>5} {'store':<9} {'equal':<6} {'order':<5} "
             f"{'size':>8} {'embedded s':>10} {'store s':>9}"]
    for scale, out in doc["scales"].items():
        for store, entry in out.get("stores", {}).items():
            for name, row in entry.get("queries", {}).items():
                emb = out.get("embedded", {}).get(name, {})
                equal = {True: "yes", False: "NO", None: "error"}[row.get("equal")]
                if row.get("ties_only"):
                    equal = "ties"
                order = {True: "same", False: "DIFF", None: "-"}[
                    row.get("sort_keys_in_same_order")]
                lines.append(f"{name:<42} {scale:>5} {store:<9} {equal:<6} {order:<5} "
                             f"{emb.get('size', '-')!s:>8} "
                             f"{emb.get('median_s', float('nan')):>10.3f} "
                             f"{row.get('median_s', float('nan')):>9.3f}")
        for store, entry in out.get("stores", {}).items():
            pub = entry.get("publish", {})
            if pub.get("returncode") == 0:
                lines.append(f"publish {scale} to {store}: {pub.get('seconds')} s, "
                             f"{pub.get('graphs')} graphs, {pub.get('quads')} quads, "
                             f"store peak {pub.get('store_peak_rss_mb')} MB")
            else:
                said = (pub.get("report") or {}).get("message") or pub.get("skipped")
                lines.append(f"publish {scale} to {store}: FAILED or not run "
                             f"(status {pub.get('returncode')}, {pub.get('seconds')} s, "
                             f"store peak {pub.get('store_peak_rss_mb')} MB): {said}")
            if "bulk_load" in entry:
                bulk = entry["bulk_load"]
                lines.append(f"  answers of {store} at {scale} from a bulk-loaded store: "
                             f"{bulk['graphs']} graphs, {bulk['quads']} quads, "
                             f"oxigraph load {bulk['load']['seconds']} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="50k,500k", help="comma-separated: 5k, 50k, 500k")
    ap.add_argument("--stores", default=",".join(STORES), help="virtuoso,oxigraph")
    ap.add_argument("--work", type=Path, default=Path("/tmp/crinkkg-remote-answers"),
                    help="data, builds and store databases (a few GB free at 500k)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each query on each backend")
    ap.add_argument("--timeout", type=float, default=1800.0,
                    help="seconds crinkkg waits for one remote answer")
    ap.add_argument("--no-bulk-load", action="store_true",
                    help="when publish to Oxigraph server fails, stop there (default: fill "
                         "a server with its bulk loader and compare the answers on it)")
    ap.add_argument("--bulk-load", action="append", default=[], metavar="STORE@SCALE",
                    help="skip publish there and fill the store with its bulk loader (only "
                         "oxigraph): for a publish already measured to fail")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--table", type=Path, default=None,
                    help="print the table of an earlier results file and stop")
    args = ap.parse_args(argv)
    if args.table:
        print(table(json.loads(args.table.read_text())))
        return
    os.nice(10)  # a shared machine: every step, and the stores it starts, yield
    out = args.out or ROOT / "bench" / "results" / f"remote-answers-{dt.date.today()}.json"
    res = Results(out, "python -m bench.remote_answers "
                  + " ".join(argv if argv is not None else sys.argv[1:]))
    res.doc["repeat"] = args.repeat
    for scale in args.scales.split(","):
        run_scale(res, scale, args.work, args.repeat, args.timeout, args.stores.split(","),
                  not args.no_bulk_load, tuple(args.bulk_load))
        res.save()
    print(table(res.doc))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
