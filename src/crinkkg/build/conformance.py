"""Writes held to the build's checks: the state a write would produce meets the SHACL
shapes and the text anchors exactly as a build from files must.

A build refuses data that breaks a shape (:func:`crinkkg.inputs.validation.validate`) or a
selector that drifts from its stored text (:func:`crinkkg.inputs.anchors.check`). A write
(SPARQL Update, Graph Store Protocol, ``crinkkg publish``) must not be a way around either,
so :func:`check_state` runs the same two checks on the asserted quads a write would leave,
before anything is published: the same validation function, the same shapes (those the
build used, kept with each store version in :data:`SHAPES_FILE`), and the anchor check with
the texts the store itself holds (``crink:textContent``, which the build copies from the
stored files) in place of the files.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from crinkkg.errors import AnchorError, CrinkError, Drift, Violation
from crinkkg.inputs import anchors
from crinkkg.inputs.loading import discover
from crinkkg.inputs.reach import Reach, affected, reach
from crinkkg.inputs.validation import validate
from crinkkg.store.oxigraph import OxigraphStore, is_merge_graph
from crinkkg.terms import triples_to_graph
from crinkkg.vocab import CRINK_NS, INFERRED_GRAPH, OA_NS, RDF_TYPE, SUPPORT_GRAPH_IRI

#: the shapes a store version was validated with, beside its ``db/`` (N-Triples)
SHAPES_FILE = "shapes.nt"
TEXT_CONTENT = CRINK_NS + "textContent"
STORED_TEXT = CRINK_NS + "storedText"
SHA256 = CRINK_NS + "sha256"


#: what :func:`crinkkg.inputs.anchors.check_anchors` reads of a claim, passage, selector
_ANCHOR_READS = {CRINK_NS + "statedIn", TEXT_CONTENT, STORED_TEXT, SHA256} | {
    OA_NS + p for p in ("hasSource", "hasSelector", "exact", "prefix", "suffix", "start",
                             "end")}
_SELECTOR_TYPES = {OA_NS + "TextQuoteSelector", OA_NS + "TextPositionSelector"}


class ShapesMissing(CrinkError):
    """A store version without the shapes its build used: writes cannot be checked."""

    exit_code = 6


def write_shapes(folder: Path, triples: Iterable[ox.Triple]) -> None:
    """Keep the build's shapes with the store version it validated."""
    data = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b""
    (folder / SHAPES_FILE).write_bytes(data)


def read_shapes(folder: Path) -> Graph:
    """The shapes a store version was validated with."""
    path = folder / SHAPES_FILE
    if not path.is_file():
        raise ShapesMissing(
            f"the store at {folder} was built without its shapes ({SHAPES_FILE}), so a write "
            "cannot be checked against them; nothing was changed",
            hint="rebuild the store with this version of crinkkg (`crinkkg build --force`)")
    data = path.read_bytes()
    key = hashlib.sha256(data).hexdigest()
    if key not in _SHAPES:  # one graph per content: what is derived from it is kept too
        _SHAPES.clear()
        _SHAPES[key] = shapes_graph(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
    return _SHAPES[key]


_SHAPES: dict[str, Graph] = {}


def shapes_graph(triples: Iterable[ox.Triple | ox.Quad]) -> Graph:
    graph = Graph()
    triples_to_graph([t.triple if isinstance(t, ox.Quad) else t for t in triples], graph)
    return graph


def load_shapes(ontology_dir: Path, data_dir: Path) -> Graph:
    """The shapes files a build of these folders would use (the remote backend's writes,
    which have no local build)."""
    graph = Graph()
    for path, role in discover(ontology_dir, data_dir):
        if role == "shapes":
            graph.parse(path)
    return graph


def check_state(quads: Sequence[ox.Quad], shapes: Graph, *, data: Graph | None = None,
                before: Sequence[ox.Quad] | None = None,
                stores: list[ox.Store] | None = None) -> list[Violation]:
    """Raise :class:`~crinkkg.errors.AnchorError` or
    :class:`~crinkkg.errors.ValidationError`, with the report a build prints, when the
    asserted ``quads`` (every asserted graph, the ontology's included) break an anchor or a
    shape; return the warnings otherwise.

    ``data``: the same triples as an rdflib graph, when the caller has one (reasoning needs
    it too). ``before``: the asserted quads of a state that met the same shapes, and
    ``stores`` the data before and after (to follow routes in; the last one holds exactly
    ``quads``, and is read in place of a copy): then only the focus nodes the change can
    affect are validated (:mod:`crinkkg.inputs.reach`), which finds every violation the
    full check finds; the anchors are always checked in full.
    """
    check_anchors(quads if stores is None else _anchor_quads(stores[-1]))
    if not len(shapes):
        return []
    focus = None
    if before is not None and stores is not None:
        focus = focus_of(shapes, before, quads, stores)
        if focus is not None and not focus:
            return []  # nothing a shape reads has changed
    if data is None:
        data = Graph()
        triples_to_graph([q.triple for q in quads], data)
    if stores is not None and focus is not None:  # the state after is stored already
        return validate(data, shapes, focus=focus, store=stores[-1])
    return validate(data, shapes, triples=(q.triple for q in quads), focus=focus)


_REACH: dict[int, tuple[Graph, Reach | None]] = {}


def focus_of(shapes: Graph, before: Sequence[ox.Quad], after: Sequence[ox.Quad],
             stores: list[ox.Store]) -> set[ox.NamedNode | ox.BlankNode] | None:
    """The focus nodes a change from ``before`` to ``after`` can affect; ``None`` when
    only the full check is sound (a change the shapes read with no route to a focus node,
    such as the class hierarchy, or shapes that :func:`~crinkkg.inputs.reach.reach` does
    not analyse)."""
    cached = _REACH.get(id(shapes))
    if cached is None or cached[0] is not shapes:
        if len(_REACH) > 8:
            _REACH.clear()
        cached = _REACH[id(shapes)] = (shapes, reach(shapes))
    found = cached[1]
    if found is None:
        return None
    # quads, not triples: cheaper, and a triple moved between graphs only adds candidates
    changed = {q.triple for q in set(before).symmetric_difference(after)}
    return affected(found, changed, stores)


def _anchor_quads(store: ox.Store) -> list[ox.Quad]:
    """What the anchor check reads, found through the store's indexes (a scan of every
    quad costs more than the check itself)."""
    found = [q for p in _ANCHOR_READS
             for q in store.quads_for_pattern(None, ox.NamedNode(p), None, None)]
    kind = ox.NamedNode(RDF_TYPE)
    return found + [q for t in _SELECTOR_TYPES
                    for q in store.quads_for_pattern(None, kind, ox.NamedNode(t), None)]


def check_anchors(quads: Sequence[ox.Quad]) -> int:
    """The build's anchor check on a store's state: every stored text declared
    (``crink:storedText``) is held (``crink:textContent``) and matches its ``crink:sha256``,
    and every ``crink:statedIn`` passage of every graph matches its text. Returns the
    number of passages checked."""
    by_graph: dict[str, list[ox.Triple]] = defaultdict(list)
    texts: dict[str, str] = {}
    declared: dict[str, tuple[str, str]] = {}
    digests: dict[str, str] = {}
    for q in quads:
        p = q.predicate.value
        if p not in _ANCHOR_READS and not (p == RDF_TYPE
                                           and q.object.value in _SELECTOR_TYPES):
            continue  # the anchor check reads nothing else
        graph = "the default graph" if isinstance(q.graph_name, ox.DefaultGraph) \
            else f"<{q.graph_name.value}>"
        by_graph[graph].append(q.triple)
        if p == TEXT_CONTENT and isinstance(q.object, ox.Literal):
            texts[q.subject.value] = q.object.value
        elif p == STORED_TEXT:
            declared[q.subject.value] = (graph, q.object.value)
        elif p == SHA256:
            digests[q.subject.value] = q.object.value
    texts = {s: t for s, t in texts.items() if s in declared}  # as the build reads them
    drifts: list[Drift] = []
    for source, (graph, path) in declared.items():
        if source not in texts:
            drifts.append(Drift(graph, source, f"stored text {path} is not in the store "
                                               "(crink:textContent): the build stores it from "
                                               "the data folder"))
            continue
        digest = hashlib.sha256(texts[source].encode("utf-8")).hexdigest()
        if source in digests and digests[source] != digest:
            drifts.append(Drift(graph, source, f"stored text {path} has changed (crink:sha256)",
                                digests[source], digest))
    checked, found = anchors.check_anchors(list(by_graph.items()), texts)
    drifts += found
    if drifts:
        raise AnchorError(drifts)
    return checked


def check_stored(store: OxigraphStore) -> list[Violation]:
    """:func:`check_state` on what a local store version holds, with the shapes kept with
    it: what ``crinkkg publish`` sends is what a build (or a checked write) let through.
    A store made in memory (by code, not by a build) has no shapes: its anchors only."""
    derived = {ox.NamedNode(str(INFERRED_GRAPH)), ox.NamedNode(SUPPORT_GRAPH_IRI)}
    quads = [q for q in store.quads()
             if q.graph_name not in derived and not is_merge_graph(q.graph_name)]
    shapes = read_shapes(store.path.parent) if store.path is not None else Graph()
    return check_state(quads, shapes)
