"""The built dataset in an embedded Oxigraph database: asserted graphs (one per input
file), the inferred graph, the support graph (what each derived shortcut rests on), and
the hidden merge graph of the asserted ones.

Where versions live on disk and how one is published: :mod:`crinkkg.store.layout`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from crinkkg.errors import StoreError
from crinkkg.store.integrity import StoreDamaged, is_corruption, known_damage, reported_corruption
from crinkkg.store.layout import StoreLayout
from crinkkg.views import VIEWS, View
from crinkkg.vocab import INFERRED_GRAPH_IRI, MERGE_GRAPH_PREFIX, PREFIXES, SUPPORT_GRAPH_IRI

QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples

INFERRED = ox.NamedNode(INFERRED_GRAPH_IRI)
SUPPORT = ox.NamedNode(SUPPORT_GRAPH_IRI)


def _graph(iri: str) -> ox.NamedNode | ox.DefaultGraph:
    return ox.DefaultGraph() if iri in ("", "default") else ox.NamedNode(iri)


def is_merge_graph(graph: object) -> bool:
    """True for the graph the store keeps for itself (see :func:`asserted_merge`)."""
    return isinstance(graph, ox.NamedNode) and graph.value.startswith(MERGE_GRAPH_PREFIX)


MERGE = ox.NamedNode(MERGE_GRAPH_PREFIX + "asserted")


def asserted_merge(quads: Iterable[ox.Quad]) -> set[ox.Triple] | None:
    """The RDF merge of the asserted graphs when they share triples; None when they do not.

    Oxigraph evaluates a default graph made of several graphs as the union of their
    *quads*: a triple held in two graphs is matched twice and counted twice (the same in
    Oxigraph server; oxigraph/oxigraph#1919). When the asserted graphs share triples, the
    store therefore keeps their merge in one graph of its own (:data:`MERGE`, never shown)
    and queries it in their place: the default graph is then the merge plus the inferred
    graph, which holds no asserted triple. A store whose graphs share nothing needs no
    merge graph and is queried exactly as before (Oxigraph's union is then the merge); one
    whose graphs share triples stores its asserted triples once more, and its queries read
    two graphs instead of all of them (bench/README.md has the figures).
    ``quads`` are the asserted quads (not the inferred graph, not the merge graph).

    >>> g1, g2 = ox.NamedNode("http://ex/g1"), ox.NamedNode("http://ex/g2")
    >>> s, p = ox.NamedNode("http://ex/s"), ox.NamedNode("http://ex/p")
    >>> sorted(t.object.value for t in asserted_merge([ox.Quad(s, p, ox.Literal("1"), g1),
    ...     ox.Quad(s, p, ox.Literal("1"), g2), ox.Quad(s, p, ox.Literal("2"), g2)]))
    ['1', '2']
    >>> asserted_merge([ox.Quad(s, p, ox.Literal("1"), g1)]) is None
    True
    """
    merged: set[ox.Triple] = set()
    n = 0
    for q in quads:
        merged.add(q.triple)
        n += 1
    return merged if len(merged) < n else None


def write_merge(store: ox.Store, quads: Iterable[ox.Quad]) -> None:
    """Replace the store's merge graph by that of ``quads`` (the asserted quads)."""
    if store.contains_named_graph(MERGE):
        store.remove_graph(MERGE)
    merged = asserted_merge(quads)
    if merged is not None:
        store.extend(ox.Quad(t.subject, t.predicate, t.object, MERGE) for t in merged)


#: quads a memory copy adds at a time: ``bulk_extend`` holds the interpreter while it
#: runs, longer as the copy grows, and the HTTP processes make their copies while they
#: answer, so small batches keep their requests waiting less (bench/README.md, "Start-up")
_COPY_BATCH = 250


class OxigraphStore:
    """A built dataset in an embedded Oxigraph database.

    >>> import tempfile, pathlib
    >>> s = OxigraphStore.in_memory()
    >>> s.add_triples([ox.Triple(ox.NamedNode("http://ex/a"), ox.NamedNode("http://ex/p"),
    ...                          ox.Literal("x"))], "http://ex/g")
    >>> [r["o"].value for r in s.query("SELECT ?o WHERE { ?s ?p ?o }")]
    ['x']
    >>> s.count("http://ex/g"), s.count(INFERRED_GRAPH_IRI)
    (1, 0)
    """

    def __init__(self, store: ox.Store, *, path: Path | None = None,
                 read_only: bool = True, info: dict | None = None) -> None:
        self._store = store
        self.path = path
        self.read_only = read_only
        self._info = info or {}
        self._graphs: tuple[list[ox.NamedNode], bool] | None = None  # read-only stores
        #: the quads of a memory copy (:meth:`memory_copy`); None: not counted
        self.copied_quads: int | None = None

    @property
    def on_disk(self) -> bool:
        """Whether this is an on-disk database rather than an in-memory store (a copy).

        >>> OxigraphStore.in_memory().on_disk
        False
        """
        return self.path is not None

    @classmethod
    def open(cls, link: Path, *, read_only: bool = True) -> OxigraphStore:
        """Open the store a build made at ``link``."""
        layout = StoreLayout(Path(link))
        db = layout.db()
        info = layout.build_record()
        found = known_damage(db.parent, record=info)
        if found is not None:
            raise StoreDamaged(found)
        try:
            store = ox.Store.read_only(str(db)) if read_only else ox.Store(str(db))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {db}: {exc}",
                             hint="is another process writing it? rebuild with `crinkkg build`"
                             ) from exc
        except RuntimeError as exc:  # RocksDB's "Corruption: ..."
            if not is_corruption(exc):
                raise
            raise StoreDamaged(reported_corruption(exc)) from None
        return cls(store, path=db, read_only=read_only, info=info)

    @classmethod
    def in_memory(cls) -> OxigraphStore:
        return cls(ox.Store(), read_only=False)

    # -- reading ---------------------------------------------------------------------------

    def _named_and_merge(self) -> tuple[list[ox.NamedNode], bool]:
        """The named graphs users see, and whether the store keeps a merge graph (cached
        for a read-only store: it never changes)."""
        cached = self._graphs
        if cached is not None:
            return cached
        named, merge = [], False
        for g in self._store.named_graphs():
            if is_merge_graph(g):
                merge = True
            else:
                named.append(g)
        result = (named, merge)
        if self.read_only:
            self._graphs = result
        return result

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._named_and_merge()[0])

    def has_graph(self, iri: str) -> bool:
        node = ox.NamedNode(iri)
        return not is_merge_graph(node) and self._store.contains_named_graph(node)

    def asserted_graphs(self) -> list[ox.NamedNode | ox.DefaultGraph]:
        return [ox.DefaultGraph()] + [g for g in self._named_and_merge()[0]
                                      if g != INFERRED and g != SUPPORT]

    def dataset_for(self, view: View) -> dict:
        """The keyword arguments that make pyoxigraph query one view of the dataset.

        The default graph of ``all`` and ``asserted`` is an RDF merge (:func:`asserted_merge`):
        without shared triples Oxigraph's union of the graphs is the merge; with them the
        store's merge graph stands in for the asserted graphs. ``all`` holds the support
        graph too (it shares no triple with the others); ``asserted`` and ``inferred`` do not.
        """
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}: use one of {', '.join(VIEWS)}")
        named, merge = self._named_and_merge()
        if view == "inferred":
            return {"default_graph": [INFERRED], **({"named_graphs": named} if merge else {})}
        if not merge:
            if view == "all":
                return {"use_default_graph_as_union": True}
            return {"default_graph": self.asserted_graphs()}
        graphs = [MERGE, INFERRED, SUPPORT] if view == "all" else [MERGE]
        return {"default_graph": graphs, "named_graphs": named}

    def view_graphs(self, view: View) -> list[ox.NamedNode | ox.DefaultGraph] | None:
        """The graphs whose quads make the default graph of ``view`` (None: every graph,
        Oxigraph's union), as :meth:`dataset_for` has the engine read them."""
        dataset = self.dataset_for(view)
        return None if dataset.get("use_default_graph_as_union") else dataset["default_graph"]

    @property
    def scan(self):
        """The database's ``quads_for_pattern`` (the merge graph included: see
        :meth:`view_graphs`), for the lookups of :mod:`crinkkg.backends.lookup`."""
        return self._store.quads_for_pattern

    def query(self, sparql: str, *, view: View = "all",
              default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None,
              base_iri: str | None = None, query_dataset: bool = False) -> QueryResult:
        """Evaluate a SPARQL query.

        A protocol-specified dataset (``default_graphs``/``named_graphs``) wins; else, with
        ``query_dataset``, the query's own FROM / FROM NAMED; else the ``view``.
        """
        kwargs: dict = {"base_iri": base_iri}
        if query_dataset and default_graphs is None and named_graphs is None:
            pass
        elif default_graphs is not None or named_graphs is not None:
            if default_graphs is not None:
                kwargs["default_graph"] = [_graph(g) for g in default_graphs]
            # the protocol's dataset is exactly the graphs it names (SPARQL 1.1 Protocol
            # 2.1.4): default graphs alone leave no named graph, named ones alone an
            # empty default graph
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs or ()]
            kwargs.setdefault("default_graph", [])
        else:
            kwargs.update(self.dataset_for(view))
        if "PREFIX" in sparql or "prefix" in sparql:
            # a query that declares its prefixes usually needs none of ours, and handing
            # pyoxigraph our prefix table is a cost every lookup pays: parse without
            # it first; declared prefixes win over ours, so where that parses, it means
            # the same with them
            try:
                return self._store.query(sparql, **kwargs)
            except SyntaxError:
                pass  # maybe one of ours is used undeclared; the error, if any, is below
        return self._store.query(sparql, prefixes=PREFIXES, **kwargs)

    def count(self, graph: str | None = None) -> int:
        """Triples in one graph, or quads in the whole dataset (not the merge graph's)."""
        if graph is not None:
            return sum(1 for _ in self._store.quads_for_pattern(None, None, None,
                                                                _graph(graph)))
        hidden = sum(1 for _ in self._store.quads_for_pattern(None, None, None, MERGE))
        return sum(1 for _ in self._store.quads_for_pattern(None, None, None, None)) - hidden

    def quads(self, subject=None, predicate=None, obj=None, graph=None) -> Iterator[ox.Quad]:
        """Quads matching a pattern (never the merge graph's)."""
        found = self._store.quads_for_pattern(subject, predicate, obj, graph)
        if graph is None and self._named_and_merge()[1]:
            return (q for q in found if q.graph_name != MERGE)
        return iter(found)

    def dump(self, fmt: ox.RdfFormat, graph: str | None = None) -> bytes:
        """One graph, or the whole dataset (without the merge graph)."""
        if graph is not None:
            return self._store.dump(format=fmt, from_graph=_graph(graph))
        if not self._named_and_merge()[1]:
            return self._store.dump(format=fmt)
        return ox.serialize(self.quads(), format=fmt) or b""

    def build_info(self) -> dict:
        return dict(self._info)

    def memory_copy(self, max_quads: int) -> OxigraphStore | None:
        """The same dataset in an in-memory Oxigraph store, read-only; None when too large.

        Joins and aggregates run faster over Oxigraph's memory backend than over the
        read-only RocksDB database (bench/README.md has the figures), at the cost of
        memory and copying time in proportion to the quads. ``max_quads`` bounds both.

        >>> s = OxigraphStore.in_memory()
        >>> s.add_triples([ox.Triple(ox.NamedNode("http://ex/a"), ox.NamedNode("http://ex/p"),
        ...                          ox.Literal("x"))], "http://ex/g")
        >>> s.memory_copy(10).count(), s.memory_copy(0)
        (1, None)
        """
        if max_quads <= 0:
            return None
        quads = self._store.quads_for_pattern(None, None, None, None)
        copy = ox.Store()
        batch: list[ox.Quad] = []
        seen = 0
        for quad in quads:
            batch.append(quad)
            if len(batch) == _COPY_BATCH:
                seen += len(batch)
                if seen > max_quads:
                    return None
                copy.bulk_extend(batch)
                batch = []
                time.sleep(0)  # let a thread waiting for the interpreter answer now
        if seen + len(batch) > max_quads:
            return None
        copy.bulk_extend(batch)
        for graph in self._store.named_graphs():  # empty graphs too (CREATE GRAPH)
            copy.add_graph(graph)
        made = OxigraphStore(copy, path=None, read_only=True, info=self._info)
        made.copied_quads = seen + len(batch)
        return made

    # -- writing ---------------------------------------------------------------------------

    def add_triples(self, triples: Iterable[ox.Triple], graph: str) -> None:
        g = _graph(graph)
        self._store.extend(ox.Quad(t.subject, t.predicate, t.object, g) for t in triples)

    @property
    def database(self) -> ox.Store:
        """The pyoxigraph store itself, for the writers of :mod:`crinkkg.build`."""
        if self.read_only:
            raise StoreError("this store was opened read-only", hint="open it with read_only=False")
        return self._store

    def flush(self) -> None:
        self._store.flush()

    def close(self) -> None:
        self._store = None  # type: ignore[assignment]
