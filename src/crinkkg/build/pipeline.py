"""The build: load -> validate -> reason -> clean -> support -> write the store (atomic
and cached).

Nothing here knows about HTTP. The store is written into a fresh directory beside the
current one, and a symbolic link is swapped only once it is complete: an interrupted or
failed build leaves the previous store as it was, servable.
"""

from __future__ import annotations

import hashlib
import shutil
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from crinkkg import __version__
from crinkkg.build.cache import STORE_LAYOUT, cache_key, is_current  # noqa: F401 (re-exported)
from crinkkg.build.cache import build_record as _record
from crinkkg.build.conformance import write_shapes
from crinkkg.errors import InconsistencyError
from crinkkg.inputs import anchors
from crinkkg.inputs.loading import SourceFile, load_inputs
from crinkkg.inputs.validation import validate
from crinkkg.reasoning import owlrl_closure as reasoning
from crinkkg.reasoning import rules, support
from crinkkg.settings import Settings
from crinkkg.store import textindex
from crinkkg.store.journal import Journal
from crinkkg.store.layout import StoreLayout
from crinkkg.store.oxigraph import MERGE, OxigraphStore, asserted_merge
from crinkkg.terms import graph_to_triples, triples_to_graph
from crinkkg.vocab import (
    CRINK_NS,
    INFERRED_GRAPH,
    SUPPORT_GRAPH_IRI,
    TEXTS_GRAPH_IRI,
)

Progress = Callable[[str, str], None]
#: changes when the store's layout changes, so that an older store is rebuilt


@dataclass
class StepTiming:
    name: str
    seconds: float
    detail: str = ""


@dataclass
class BuildReport:
    """What a build did, in figures: the CLI prints it, ``--json`` dumps it."""

    store: str
    cached: bool
    key: str
    files: int = 0
    asserted_triples: int = 0
    inferred_triples: int = 0
    removed_by_cleanup: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    graphs: dict[str, int] = field(default_factory=dict)
    steps: list[StepTiming] = field(default_factory=list)
    seconds: float = 0.0
    peak_memory_mb: float | None = None
    #: the journal of writes replayed on the files: how many patches, the newest one's id,
    #: and those that did not apply cleanly (by id, with what did not apply)
    journal: dict = field(default_factory=dict)
    #: the full-text index written beside the store: passages, resources, seconds
    search: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _quiet(_step: str, _message: str) -> None:
    pass


def _timed(report: BuildReport, name: str, progress: Progress):
    class _Step:
        def __enter__(self):
            self.start = time.perf_counter()
            progress(name, "...")
            return self

        def __exit__(self, exc_type, exc, tb):
            if exc_type is None:
                report.steps.append(StepTiming(name, round(time.perf_counter() - self.start, 4),
                                               getattr(self, "detail", "")))
                progress(name, getattr(self, "detail", "done"))
            return False

    return _Step()


def build(settings: Settings, *, force: bool = False, progress: Progress = _quiet,
          measure_memory: bool = False, root: Path | None = None) -> BuildReport:
    """Build the store described by ``settings``; a no-op if it is already current."""
    started = time.perf_counter()
    layout = StoreLayout(settings.store)
    key = cache_key(settings)
    journal = Journal(layout.link)
    with layout.writer_lock():  # writes never published are never replayed
        record = _record(layout)  # a corrupt record is rebuilt, not trusted
        for dropped in journal.drop_unpublished(record):
            progress("journal", f"the journalled write <{dropped}> was never published (its "
                                "update was stopped): taken out of the journal")
    if not force and record.get("key") == key and "report" in record \
            and record.get("journal") == journal.head() and not record.get("discarded"):
        report = BuildReport(**{k: v for k, v in record["report"].items() if k != "steps"})
        report.cached, report.steps = True, []
        report.seconds = round(time.perf_counter() - started, 4)
        progress("cache", f"store at {settings.store} is current (key {key[:12]}); nothing to do")
        return report
    if measure_memory:
        tracemalloc.start()
    try:
        report, work = _build(settings, layout, key, progress, root)
    finally:
        if measure_memory:
            report_peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    if measure_memory:
        report.peak_memory_mb = round(report_peak, 1)
    # the journal is replayed and the record written with the version under the writer
    # lock: an update published in between is neither lost nor given this build's record
    with layout.writer_lock():
        try:
            head = _replay(journal, work, report, progress)
            _index(work, report, progress)  # of the version as published: replay included
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        report.seconds = round(time.perf_counter() - started, 4)
        record = {"key": key, "version": __version__, "report": report.as_dict(),
                  "journal": head}
        layout.publish_version(work, lambda _current: record, locked=True)
    return report


def _index(work: Path, report: BuildReport, progress: Progress) -> None:
    """Write the full-text index into the version's folder, so that it is published, and
    later removed, with the database it indexes."""
    with _timed(report, "search index", progress) as step:
        store = ox.Store.read_only(str(work / "db"))  # written already: only read here
        try:
            written = textindex.write_index(store, work)
        finally:
            del store
        report.search = {"passages": written.passages, "resources": written.resources,
                         "bytes": written.bytes, "seconds": written.seconds}
        step.detail = (f"{written.passages} sentences and {written.resources} resources "
                       "indexed for search")


def _replay(journal: Journal, work: Path, report: BuildReport, progress: Progress) -> str | None:
    """Replay the journal of writes on the version built in ``work``; return the id of the
    newest patch replayed. Every patch that does not apply cleanly is reported by name."""
    patches = journal.patches()
    if not patches:
        return None
    from crinkkg.build.conformance import read_shapes
    from crinkkg.build.updates import replay

    with _timed(report, "journal", progress) as step:
        target = OxigraphStore(ox.Store(str(work / "db")), path=work / "db", read_only=False)
        try:
            unclean = replay(target, patches, shapes=read_shapes(work))
            target.flush()
        finally:
            target.close()
            del target
        report.journal = {
            "patches": len(patches), "head": patches[-1].id,
            "unclean": [{"id": u.patch.id, "created": u.patch.created,
                         "deletes_not_held": [str(q) for q in u.missing],
                         "adds_held_already": [str(q) for q in u.present]}
                        for u in unclean]}
        step.detail = f"{len(patches)} journalled writes replayed on the input files"
        if unclean:
            step.detail += f"; {len(unclean)} did not apply cleanly"
    for u in unclean:
        what = []
        if u.missing:
            what.append(f"{len(u.missing)} deleted triple(s) the files no longer hold")
        if u.present:
            what.append(f"{len(u.present)} added triple(s) the files hold already")
        progress("journal", f"the journalled write {u.patch.name} did not apply cleanly: "
                            f"{' and '.join(what)} (`crinkkg journal show` lists them)")
    return patches[-1].id


def _build(settings: Settings, layout: StoreLayout, key: str, progress: Progress,
           root: Path | None) -> tuple[BuildReport, Path]:
    """Every step but publishing: the report, and the folder holding the new version."""
    report = BuildReport(store=str(settings.store), cached=False, key=key)
    with _timed(report, "load", progress) as step:
        sources = load_inputs(settings.ontology_dir, settings.data_dir,
                              base_iri=settings.base_iri, root=root)
        asserted, shapes, ontology = _graphs(sources)
        step.detail = f"{len(sources)} files, {len(asserted)} triples"
    with _timed(report, "anchors", progress) as step:
        data_files = [(s.relative, s.triples) for s in sources if s.role == "data"]
        checked = anchors.check(data_files, settings.data_dir)
        stored = anchors.stored_texts(data_files, settings.data_dir)
        texts = [_texts_source(stored)] if stored else []
        for text in texts:
            triples_to_graph(text.triples, asserted)
        report.files = len(sources) + len(stored)  # input files: RDF files and texts
        sources += texts
        step.detail = (f"{checked} text anchors match their {len(stored)} stored text(s), "
                       f"stored in <{TEXTS_GRAPH_IRI}>")
    report.asserted_triples = len(asserted)
    with _timed(report, "validate", progress) as step:
        warnings = validate_sources(sources, asserted, shapes)
        report.warnings = [str(w) for w in warnings]
        step.detail = "conforms" + (f" ({len(warnings)} warnings)" if warnings else "") \
            if len(shapes) else "no shapes found, skipped"
    with _timed(report, "reason", progress) as step:
        closure = reasoner(settings.reasoner)(asserted)
        if closure.inconsistencies:
            raise InconsistencyError(closure.inconsistencies)
        report.inferred_triples = len(closure.inferred)
        report.removed_by_cleanup = dict(closure.removed)
        step.detail = (f"{len(closure.inferred)} inferred triples kept, "
                       f"{sum(closure.removed.values())} removed by clean-up")
    quads, counts = _dataset_quads(sources, closure.inferred)
    with _timed(report, "support", progress) as step:
        described = _support_quads(quads)
        quads += described
        counts[SUPPORT_GRAPH_IRI] = len(described)
        links = sum(1 for q in described if q.predicate == support.LINK_SUBJECT)
        step.detail = f"{links} derived links described in <{SUPPORT_GRAPH_IRI}>"
    with _timed(report, "store", progress) as step:
        work = _write_store(layout, quads, shapes_of(sources))
        report.graphs = counts
        step.detail = f"{len(report.graphs)} graphs written to {settings.store}"
    return report, work


def _support_quads(quads: list[ox.Quad]) -> list[ox.Quad]:
    """The support graph of the dataset ``quads``: what every derived shortcut rests on,
    computed over an in-memory copy (reads of a freshly bulk-loaded database are slower
    than copying the quads)."""
    copy = ox.Store()
    copy.bulk_extend(quads)
    return support.support_graph(OxigraphStore(copy, read_only=True), support.SUPPORT)


def _texts_source(stored: list[anchors.StoredText]) -> SourceFile:
    """The stored source texts as one input: a triple each, ``<source> crink:textContent
    "…"``, all in one graph, so that the web and SPARQL users can show a passage in its
    context without reading files. One graph for all of them, not one each: a store limits
    how many graphs a query may name, and a large build stores thousands of texts."""
    triples, digests = [], hashlib.sha256()
    for text in stored:
        data = text.path.read_bytes()
        digests.update(hashlib.sha256(data).digest())
        triples.append(ox.Triple(ox.NamedNode(text.source), ox.NamedNode(CRINK_NS + "textContent"),
                                 ox.Literal(data.decode("utf-8"))))
    folder = stored[0].path.parent
    return SourceFile(folder, "stored texts", TEXTS_GRAPH_IRI, digests.hexdigest(), triples,
                      "data")


def validate_sources(sources: list[SourceFile], asserted: Graph, shapes: Graph) -> list:
    """SHACL over the asserted union (which holds the ontology: nothing else to merge)."""
    if not len(shapes):
        return []
    triples = [t for src in sources if src.role != "shapes" for t in src.triples]
    return validate(asserted, shapes, triples=triples)


def reasoner(name: str):
    """The reasoning function a settings name stands for (both give the same closure)."""
    return {"rules": rules.reason, "owlrl": reasoning.reason}[name]


def _graphs(sources: list[SourceFile]) -> tuple[Graph, Graph, Graph]:
    """The union of asserted triples (what is reasoned over), the shapes and the TBox."""
    asserted, shapes, ontology = Graph(), Graph(), Graph()
    for src in sources:
        if src.role == "shapes":
            triples_to_graph(src.triples, shapes)
            continue
        triples_to_graph(src.triples, asserted)
        if src.role == "ontology":
            triples_to_graph(src.triples, ontology)
    return asserted, shapes, ontology


def _dataset_quads(sources: list[SourceFile], inferred: Graph
                   ) -> tuple[list[ox.Quad], dict[str, int]]:
    """The new version's quads (asserted graphs, merge graph, inferred graph) and the
    triples of each graph users see."""
    counts: dict[str, int] = {}
    quads: list[ox.Quad] = []
    for src in sources:
        if src.role == "shapes":
            continue
        graph = ox.NamedNode(src.graph)
        quads += (ox.Quad(t.subject, t.predicate, t.object, graph) for t in src.triples)
        counts[src.graph] = len(set(src.triples))
    merged = asserted_merge(quads)  # only when files share triples
    if merged is not None:
        quads += (ox.Quad(t.subject, t.predicate, t.object, MERGE) for t in merged)
    inferred_graph = ox.NamedNode(str(INFERRED_GRAPH))
    quads += (ox.Quad(t.subject, t.predicate, t.object, inferred_graph)
              for t in graph_to_triples(inferred))
    counts[str(INFERRED_GRAPH)] = len(inferred)
    return quads, counts


def shapes_of(sources: list[SourceFile]) -> list[ox.Triple]:
    """The triples of the shapes files: a version keeps the shapes it was built to meet."""
    return [t for src in sources if src.role == "shapes" for t in src.triples]


def _write_store(layout: StoreLayout, quads: list[ox.Quad], shapes: list[ox.Triple]) -> Path:
    """Write the new version's database and its shapes; it is published by :func:`build`."""
    work = layout.work_dir("build")
    try:
        store = ox.Store(str(work / "db"))
        # one bulk load writes sorted files directly, faster than transactional inserts
        store.bulk_extend(quads)
        store.flush()
        del store
        # the shapes this version meets: every write to it is held to them
        write_shapes(work, shapes)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return work
