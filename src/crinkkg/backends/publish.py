"""``crinkkg publish``: push a build into a remote SPARQL 1.1 store, all or nothing.

Readers never see half a dataset. The graphs are first written under staging names
(``urn:x-crinkkg:staging:<version>:<graph>``) through the Graph Store Protocol (or SPARQL
``INSERT DATA`` when the store offers none), in batches, while readers go on reading the
published graphs. Then the switch of :mod:`crinkkg.backends.manifest`: while its mark makes
readers wait, each published graph is emptied and the staged copy added to it, the graphs
the new version no longer has are emptied, the manifest that readers resolve is rewritten,
and the mark removed: a reader through crinkkg sees the old version or the new, never a
mix. The staged copies are dropped after the switch, so a switch that stopped half-way is
completed by running the publish again, without sending anything.

The staging manifest records each graph as it is completed, with its triple count, so a
publish that fails (network, store restart, Ctrl-C) resumes where it stopped: completed
graphs whose staged copy still has its count are not sent again.

Blank nodes are sent as skolem IRIs (RDF 1.1 Concepts 3.5, ``…/.well-known/genid/…``): a
blank node shared by two graphs (an asserted triple and the inferred one about the same
node) or by two batches stays one node in the store; the remote backend turns them back
into blank nodes in answers.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from crinkkg.backends.dialects import GENID
from crinkkg.backends.manifest import (
    MANIFEST,
    Manifest,
    clear_graph,
    read_manifest,
    replace_graph,
    switch,
)
from crinkkg.backends.remote import graph_sizes
from crinkkg.backends.remote_errors import RemoteStoreError
from crinkkg.backends.sparql_client import SparqlClient
from crinkkg.build.conformance import check_stored
from crinkkg.errors import CrinkError
from crinkkg.store.oxigraph import MERGE, OxigraphStore
from crinkkg.vocab import INFERRED_GRAPH_IRI, SUPPORT_GRAPH_IRI

STAGING = "urn:x-crinkkg:staging:"
#: triples per request: big enough to amortise a round trip, small enough for any store
BATCH = 50_000
#: above this many graphs the swap moves them by one pattern instead of one MOVE each:
#: Virtuoso compiles a request of 1,400 MOVEs into more than its 10,000 lines of SQL and
#: refuses it, and a large build has a graph per stored text
SWAP_MOVES = 100

Progress = Callable[[str, int], None]


class PublishError(CrinkError):
    """A publish that could not complete; the published version is unchanged."""

    exit_code = 7


def _skolem(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, version: str
            ) -> ox.NamedNode | ox.Literal | ox.Triple:
    if isinstance(term, ox.BlankNode):
        return ox.NamedNode(f"{GENID}{version}-{term.value}")
    return term  # type: ignore[return-value]


def skolemized(triples: Iterable[ox.Triple], version: str) -> Iterator[ox.Triple]:
    """Triples with each blank node as its skolem IRI (stable within one version).

    >>> t = ox.Triple(ox.BlankNode("b1"), ox.NamedNode("urn:p"), ox.Literal("x"))
    >>> next(skolemized([t], "v1")).subject.value
    'https://w3id.org/crinkkg/.well-known/genid/v1-b1'
    """
    for t in triples:
        yield ox.Triple(_skolem(t.subject, version), t.predicate,  # type: ignore[arg-type]
                        _skolem(t.object, version))


def staging_iri(version: str, graph: str) -> str:
    """Where ``graph`` of ``version`` is written before the swap."""
    return f"{STAGING}{version}:{graph}"


@dataclass
class PublishReport:
    """What a publish did: the version, graphs and triples sent or already staged."""

    version: str
    store: str
    graphs: dict[str, int] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    already_published: bool = False
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return dict(vars(self))


DERIVED = (INFERRED_GRAPH_IRI, SUPPORT_GRAPH_IRI, MERGE.value)


def local_graphs(store: OxigraphStore) -> tuple[dict[str, int], bool]:
    """The graphs a build holds (asserted, inferred, support, and the merge of the asserted
    graphs, which a remote store always gets) and their sizes, and whether the store's own
    default graph holds triples."""
    sizes = {g: store.count(g) for g in store.graph_names()}
    merge = sum(1 for _ in store.quads(None, None, None, MERGE))
    # without a merge graph of its own, the build's graphs share no triple: their merge is
    # all of their triples, which Publisher._batches sends under the merge graph's name
    sizes[MERGE.value] = merge or sum(n for g, n in sizes.items() if g not in DERIVED)
    own = next(iter(store.quads(None, None, None, ox.DefaultGraph())), None)
    return sizes, own is not None


def version_of(record: dict, build_dir: str) -> str:
    """A short, stable name for the build being published."""
    key = record.get("key") or build_dir
    return hashlib.sha256(f"{key}|{build_dir}|{record.get('updates', 0)}".encode()
                          ).hexdigest()[:16]


class Publisher:
    """Pushes one local build into one remote store (see the module's docstring)."""

    def __init__(self, client: SparqlClient, store: OxigraphStore, version: str, *,
                 batch: int = BATCH, progress: Progress | None = None,
                 swap_moves: int = SWAP_MOVES) -> None:
        self.client = client
        self.store = store
        self.version = version
        self.batch = batch
        self.swap_moves = swap_moves
        self.progress = progress or (lambda _what, _n: None)
        self.use_graph_store = client.endpoints.graph_store is not None
        self.staging_manifest = f"{STAGING}{version}:manifest"

    # -- staging ------------------------------------------------------------------------------

    def _ntriples(self, triples: Iterable[ox.Triple]) -> bytes:
        return ox.serialize(skolemized(triples, self.version),
                            format=ox.RdfFormat.N_TRIPLES) or b""

    def _quads(self, graph: str) -> Iterator[ox.Quad]:
        if graph != MERGE.value:
            yield from self.store.quads(None, None, None, ox.NamedNode(graph))
        elif next(iter(self.store.quads(None, None, None, MERGE)), None) is not None:
            yield from self.store.quads(None, None, None, MERGE)
        else:  # no triple shared: the merge is every asserted graph's triples
            for name in self.store.graph_names():
                if name not in DERIVED:
                    yield from self.store.quads(None, None, None, ox.NamedNode(name))

    def _batches(self, graph: str) -> Iterator[list[ox.Triple]]:
        chunk: list[ox.Triple] = []
        for q in self._quads(graph):
            chunk.append(q.triple)
            if len(chunk) >= self.batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _send(self, target: str, batch: list[ox.Triple], first: bool) -> None:
        data = self._ntriples(batch)
        if self.use_graph_store:
            if first:
                self.client.put_graph(target, data, "application/n-triples")
            else:
                self.client.post_graph(target, data, "application/n-triples")
        else:
            drop = f"DROP SILENT GRAPH <{target}> ;\n" if first else ""
            self.client.update(f"{drop}INSERT DATA {{ GRAPH <{target}> {{\n"
                               f"{data.decode()}}} }}")

    def staged(self) -> dict[str, int]:
        """Graphs already staged for this version, with their recorded counts."""
        response = self.client.query(
            f"SELECT ?g ?n WHERE {{ GRAPH <{self.staging_manifest}> {{ "
            f"?g <{MANIFEST}staged> ?n }} }}", accept="application/sparql-results+json")
        rows = json.loads(response.body)["results"]["bindings"]
        return {r["g"]["value"]: int(r["n"]["value"]) for r in rows}

    def stage(self, graph: str, size: int, done: dict[str, int]) -> bool:
        """Write one graph under its staging name; False when it was staged already."""
        target = staging_iri(self.version, graph)
        if done.get(graph) == size and graph_sizes(self.client, [target])[target] == size:
            self.progress(graph, size)
            return False
        first = True
        for batch in self._batches(graph):
            self._send(target, batch, first)
            first = False
            self.progress(graph, len(batch))
        if first:  # an empty graph: staged as nothing
            self.client.update(f"DROP SILENT GRAPH <{target}>")
        self.client.update(f"INSERT DATA {{ GRAPH <{self.staging_manifest}> {{ "
                           f"<{graph}> <{MANIFEST}staged> {size} }} }}")
        return True

    # -- the swap -----------------------------------------------------------------------------

    def swap(self, sizes: dict[str, int], previous: Manifest | None) -> list[str]:
        """Staged graphs onto their names, old graphs away, the new manifest in, inside a
        switch that readers see whole (:func:`crinkkg.backends.manifest.switch`), one
        request per graph operation; the staged copies are left for :meth:`clean`.
        Returns the graphs of the old version that are gone."""
        asserted = tuple(sorted(g for g in sizes if g not in DERIVED))
        support = SUPPORT_GRAPH_IRI if SUPPORT_GRAPH_IRI in sizes else None
        manifest = Manifest(self.version, asserted, INFERRED_GRAPH_IRI, MERGE.value, support)
        old = set(previous.graphs) | ({previous.merge} if previous and previous.merge else set()) \
            if previous else set()
        gone = sorted(old - set(sizes))
        requests = [clear_graph(g) for g in gone]
        requests += [clear_graph(g) for g, size in sizes.items() if not size]
        moved = [g for g, size in sizes.items() if size]
        if len(moved) <= self.swap_moves:
            for g in moved:
                requests += replace_graph(staging_iri(self.version, g), g)
        else:
            requests += self._moves_by_pattern()
        switch(self.client, previous, requests, manifest)
        return gone

    def clean(self, sizes: dict[str, int]) -> None:
        """Drop the staged copies of this version, then its staging manifest (after the
        switch: readers never read them). Each graph is emptied by a request of its own, by
        pattern (:func:`~crinkkg.backends.manifest.clear_graph`)."""
        staged = [g for g, size in sizes.items() if size]
        if len(staged) <= self.swap_moves:
            for g in staged:  # apart: a DROP after the DELETE in one request costs more (docs)
                self.client.update(clear_graph(staging_iri(self.version, g)))
                self.client.update(f"DROP SILENT GRAPH <{staging_iri(self.version, g)}>")
        else:
            self.client.update(self._staged_away())
        self.client.update(f"DROP SILENT GRAPH <{self.staging_manifest}>")

    def _staged(self) -> tuple[str, str]:
        prefix = staging_iri(self.version, "")
        staged = (f"FILTER(STRSTARTS(STR(?from), \"{prefix}\") && "
                  f"?from != <{self.staging_manifest}>)")
        target = f"BIND(IRI(STRAFTER(STR(?from), \"{prefix}\")) AS ?to)"
        return staged, target

    def _moves_by_pattern(self) -> list[str]:
        """Every staged graph of this version onto its name, in two requests whose size does
        not grow with the number of graphs: clear the targets, copy (:meth:`_staged_away`
        clears the staging graphs after the switch)."""
        staged, target = self._staged()
        return [
            f"DELETE {{ GRAPH ?to {{ ?a ?b ?c }} }} WHERE {{ {{ SELECT DISTINCT ?from WHERE "
            f"{{ GRAPH ?from {{ ?s ?p ?o }} {staged} }} }} {target} GRAPH ?to {{ ?a ?b ?c }} }}",
            f"INSERT {{ GRAPH ?to {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?from {{ ?s ?p ?o }} "
            f"{staged} {target} }}",
        ]

    def _staged_away(self) -> str:
        staged, _target = self._staged()
        return (f"DELETE {{ GRAPH ?from {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?from {{ ?s ?p ?o }} "
                f"{staged} }}")


def publish(client: SparqlClient, store: OxigraphStore, version: str, *,
            batch: int = BATCH, progress: Progress | None = None,
            on_start: Callable[[int], None] | None = None,
            swap_moves: int = SWAP_MOVES) -> PublishReport:
    """Publish the build in ``store`` as ``version``; a no-op when it is published already.

    Raises :class:`~crinkkg.errors.ValidationError` or :class:`~crinkkg.errors.AnchorError`
    (the build's report), before anything is sent, when the store's asserted graphs do not
    meet the shapes kept with it or their anchors drift.

    ``on_start(total triples)`` is called before the first batch (a progress bar's length).
    """
    started = time.perf_counter()
    report = PublishReport(version=version, store=client.endpoints.query)
    sizes, own = local_graphs(store)
    if own:
        raise PublishError("the build holds triples in the store's own default graph, which "
                           "a remote store does not keep apart",
                           hint="rebuild from the input files: every file is a named graph")
    report.graphs = dict(sizes)
    # the build's checks once more, on what is about to be sent: the store on disk may hold
    # writes, or be older than the shapes' last change; raises the build's report
    check_stored(store)
    try:
        previous = read_manifest(client)
        publisher = Publisher(client, store, version, batch=batch, progress=progress,
                              swap_moves=swap_moves)
        if previous is not None and previous.version == version and not previous.busy():
            report.already_published = True
            if publisher.staged():  # a publish that stopped after its switch
                publisher.clean(sizes)
            return report
        if on_start is not None:
            on_start(sum(sizes.values()))
        done = publisher.staged()
        for graph, size in sizes.items():
            (report.sent if publisher.stage(graph, size, done) else report.resumed).append(graph)
        report.dropped = publisher.swap(sizes, previous)
        publisher.clean(sizes)
    except RemoteStoreError as exc:
        unchanged = "" if exc.switch_held else \
            "; the published version is unchanged"
        raise PublishError(f"publishing to {client.endpoints.query} stopped: {exc.message}",
                           hint=(exc.hint or "") + unchanged + ", and running publish again "
                           "resumes with the graphs not yet sent") from None
    report.seconds = round(time.perf_counter() - started, 3)
    return report
