"""SPARQL updates that keep the inferred graph and the support graph current.

An update is tried first on an in-memory copy of the asserted graphs and re-reasoned
there; only a consistent result is written to the store, so a rejected update changes
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import pyoxigraph as ox
from rdflib import Graph

from crinkkg.build.conformance import check_state, read_shapes
from crinkkg.errors import AnchorError, CrinkError, InconsistencyError, ValidationError
from crinkkg.reasoning.rules import reason
from crinkkg.reasoning.support import replace_support, support_graph
from crinkkg.store.journal import Patch
from crinkkg.store.oxigraph import OxigraphStore, is_merge_graph, write_merge
from crinkkg.terms import graph_to_triples, to_rdflib
from crinkkg.vocab import INFERRED_GRAPH, MERGE_GRAPH_PREFIX, PREFIXES, SUPPORT_GRAPH_IRI

INFERRED = ox.NamedNode(str(INFERRED_GRAPH))
SUPPORT = ox.NamedNode(SUPPORT_GRAPH_IRI)
DERIVED = (INFERRED, SUPPORT)


class UpdateRefused(CrinkError):
    """An update the server will not run."""

    exit_code = 6


class GraphMissing(CrinkError):
    """DROP, CLEAR, COPY, MOVE or ADD without SILENT names a graph that does not exist."""

    exit_code = 6


class GraphExists(CrinkError):
    """CREATE GRAPH without SILENT names a graph that exists."""

    exit_code = 6


def _sources(sparql: str) -> list[tuple[str, str | None]]:
    """For each operation of an update: its text with the prologue declared before it, and
    the graph a COPY/MOVE/ADD without SILENT reads (``None`` otherwise; ``DEFAULT``
    always exists). Empty when no operation copies, moves or adds."""
    from urllib.parse import urljoin

    from crinkkg.sparqltext import Unreadable, _operations, resolve, tokenize

    if not any(w in sparql.upper() for w in ("COPY", "MOVE", "ADD")):
        return []
    try:
        operations = _operations(tokenize(sparql))
    except Unreadable:
        return []
    prefixes, base, prologue = dict(PREFIXES), "", ""
    out: list[tuple[str, str | None]] = []
    found = False
    for op in operations:
        i = 0
        while i + 1 < len(op) and op[i].is_word("PREFIX", "BASE"):
            if op[i].is_word("BASE"):
                base = urljoin(base, op[i + 1].value[1:-1])
                i += 2
            elif i + 2 < len(op):
                prefixes[op[i + 1].value[:-1]] = urljoin(base, op[i + 2].value[1:-1])
                i += 3
            else:
                break
        text = prologue + sparql[op[0].start:op[-1].end]
        prologue += sparql[op[0].start:op[i].start if i < len(op) else op[-1].end] + "\n"
        source = None
        if i < len(op) and op[i].is_word("COPY", "MOVE", "ADD"):
            j = i + 1
            if j < len(op) and not op[j].is_word("SILENT"):
                if op[j].is_word("GRAPH"):
                    j += 1
                if j < len(op) and not op[j].is_word("DEFAULT"):
                    resolved = resolve(op[j], prefixes)
                    if resolved is not None:
                        source, found = urljoin(base, resolved), True
        out.append((text, source))
    return out if found else []


def _run(scratch: ox.Store, sparql: str) -> None:
    """Run an update on the scratch store, as the standard says for missing graphs.

    Oxigraph raises for DROP, CLEAR and MOVE of a missing graph but treats a missing source
    of COPY and ADD as empty; the standard makes each an error unless SILENT. So an update
    holding COPY/MOVE/ADD runs one operation at a time, checking each source first.
    """
    try:
        steps = _sources(sparql)
        if not steps:
            scratch.update(sparql, prefixes=PREFIXES)
            return
        for text, source in steps:
            if source is not None and not scratch.contains_named_graph(ox.NamedNode(source)):
                raise GraphMissing(f"the graph <{source}> does not exist",
                                   hint="add SILENT to ignore a missing graph, or create it "
                                        "first (CREATE GRAPH)")
            scratch.update(text, prefixes=PREFIXES)
    except RuntimeError as exc:
        message = str(exc)
        if "does not exist" in message:
            raise GraphMissing(message[:1].lower() + message[1:],
                               hint="add SILENT to ignore a missing graph, or create it "
                                    "first (CREATE GRAPH)") from None
        if "already exists" in message:
            raise GraphExists(message[:1].lower() + message[1:],
                              hint="add SILENT to ignore an existing graph") from None
        raise


def asserted_quads(store: ox.Store) -> list[ox.Quad]:
    """Every quad but those of the inferred and support graphs and of the merge graph
    (store.py)."""
    return [q for q in store.quads_for_pattern(None, None, None, None)
            if q.graph_name not in DERIVED and not is_merge_graph(q.graph_name)]


def rdflib_graph(quads: list[ox.Quad]) -> Graph:
    graph = Graph()
    for q in quads:
        graph.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return graph


def refuse_protected(sparql: str) -> None:
    """Refuse an update that names the inferred graph, the support graph or a graph the
    store keeps for itself (``urn:x-crinkkg:…``), locally and remotely alike."""
    for graph in (str(INFERRED_GRAPH), SUPPORT_GRAPH_IRI):
        if graph in sparql:
            raise UpdateRefused(
                f"updates may not touch the {_derived_name(graph)} graph <{graph}>",
                hint="change the asserted graphs: the inferred and support graphs are "
                     "recomputed after each update",
            )
    if "urn:x-crinkkg:" in sparql:
        raise UpdateRefused("graphs named urn:x-crinkkg:… belong to the store itself",
                            hint="write to another graph")


def _derived_name(graph: str) -> str:
    return "support" if graph == SUPPORT_GRAPH_IRI else "inferred"


class Change(NamedTuple):
    """What a write did to the asserted graphs: the quads it removed and those it added."""

    removed: frozenset[ox.Quad]
    added: frozenset[ox.Quad]
    graphs_created: frozenset[str] = frozenset()
    graphs_dropped: frozenset[str] = frozenset()


class Unclean(NamedTuple):
    """A journalled write that no longer applies cleanly to the input files: the triples it
    deletes that they no longer hold, and those it adds that they hold already."""

    patch: Patch
    missing: tuple[ox.Quad, ...]
    present: tuple[ox.Quad, ...]


class JournalConflict(CrinkError):
    """A journalled write cannot be replayed on the changed input files."""

    exit_code = 8


def apply_update(target: OxigraphStore, sparql: str, *, shapes: Graph | None = None) -> Change:
    """Run ``sparql`` against the asserted graphs of ``target`` (opened for writing), then
    re-reason: the inferred graph and the support graph are current when it returns.

    Raises :class:`UpdateRefused` when it names the inferred graph,
    :class:`~crinkkg.errors.ValidationError` or :class:`~crinkkg.errors.AnchorError` when the
    result would break the build's shapes or anchors (``shapes``: by default those kept with
    the store's version), and :class:`InconsistencyError` when it would be inconsistent
    under OWL 2 RL.
    """
    refuse_protected(sparql)
    if shapes is None:
        shapes = read_shapes(target.path.parent) if target.path is not None else Graph()
    store = target.database
    before = asserted_quads(store)
    scratch = _scratch(store, before)
    _run(scratch, sparql)  # raises SyntaxError before anything changes
    for graph in DERIVED:
        if next(iter(scratch.quads_for_pattern(None, None, None, graph)), None) is not None:
            raise UpdateRefused(
                f"updates may not write the {_derived_name(graph.value)} graph <{graph.value}>",
                hint="change the asserted graphs: the inferred and support graphs are "
                     "recomputed after each update",
            )
    if any(is_merge_graph(g) for g in scratch.named_graphs()):
        raise UpdateRefused(f"graphs named {MERGE_GRAPH_PREFIX}… belong to the store itself",
                            hint="write to another graph")
    return _commit(store, before, scratch, shapes)


def replay(target: OxigraphStore, patches: Sequence[Patch], *, shapes: Graph) -> list[Unclean]:
    """Apply the journal's ``patches`` to the asserted graphs of ``target`` (a fresh build,
    opened for writing) in order, then re-reason once, as :func:`apply_update` does.

    A deletion of a triple the store does not hold, or an addition of one it holds, leaves
    it as the write meant it to be; the patch is returned as :class:`Unclean` so that the
    build reports it by name. When the result breaks the shapes, the anchors or
    consistency, nothing is written and :class:`JournalConflict` names the first patch
    after which it does.
    """
    store = target.database
    before = asserted_quads(store)
    scratch = _scratch(store, before)
    unclean = [_apply(scratch, patch) for patch in patches]
    try:
        _commit(store, before, scratch, shapes)
    except (ValidationError, AnchorError, InconsistencyError) as exc:
        raise _conflict(store, before, patches, shapes, exc) from None
    return [u for u in unclean if u.missing or u.present]


def _apply(scratch: ox.Store, patch: Patch) -> Unclean:
    missing = tuple(q for q in patch.deletes if q not in scratch)
    present = tuple(q for q in patch.adds if q in scratch)
    for quad in patch.deletes:
        scratch.remove(quad)
    scratch.extend(patch.adds)
    for graph in patch.graphs_dropped:
        scratch.remove_graph(ox.NamedNode(graph))
    for graph in patch.graphs_created:
        scratch.add_graph(ox.NamedNode(graph))
    return Unclean(patch, missing, present)


def _conflict(store: ox.Store, before: list[ox.Quad], patches: Sequence[Patch],
              shapes: Graph, error: CrinkError) -> JournalConflict:
    """Name the first patch whose replay breaks the checks (found by replaying them one
    more at a time: only when the whole journal failed)."""
    culprit, error_of = patches[-1], error
    scratch = _scratch(store, before)
    for patch in patches:
        _apply(scratch, patch)
        after = asserted_quads(scratch)
        try:
            data = rdflib_graph(after)
            check_state(after, shapes, data=data)
            closure = reason(data)
            if closure.inconsistencies:
                raise InconsistencyError(closure.inconsistencies)
        except (ValidationError, AnchorError, InconsistencyError) as exc:
            culprit, error_of = patch, exc
            break
    return JournalConflict(
        f"the journalled write {culprit.name} no longer applies to the input files as they "
        f"are now: {error_of.message}",
        hint="change the input files so that it applies, or fold or discard the journal "
             "(`crinkkg journal show`, `crinkkg journal discard`); the store served until "
             "then keeps every write")


def _scratch(store: ox.Store, before: list[ox.Quad]) -> ox.Store:
    """An in-memory copy of the asserted graphs, empty named graphs included."""
    scratch = ox.Store()
    scratch.extend(before)
    for graph in store.named_graphs():  # empty graphs exist too (CREATE GRAPH)
        if graph not in DERIVED and not is_merge_graph(graph):
            scratch.add_graph(graph)
    return scratch


def _commit(store: ox.Store, before: list[ox.Quad], scratch: ox.Store,
            shapes: Graph) -> Change:
    """Check the asserted state held in ``scratch``, reason over it and write it, with its
    inferred and support graphs, over ``store``; nothing is written when a check fails."""
    after = asserted_quads(scratch)
    data = rdflib_graph(after)
    # held to the build's checks before reasoning: nothing is published when they fail
    check_state(after, shapes, data=data, before=before, stores=[store, scratch])
    closure = reason(data)
    if closure.inconsistencies:
        raise InconsistencyError(closure.inconsistencies)
    # store exactly what was reasoned over: running the update text again could differ
    # (UUID(), NOW(), RAND(), BNODE() give new values each time)
    old, new = set(before), set(after)
    removed, added = frozenset(old - new), frozenset(new - old)
    for quad in removed:
        store.remove(quad)
    store.extend(added)
    # graphs themselves (CREATE / DROP GRAPH), not only their triples
    dropped = [g for g in store.named_graphs() if g not in DERIVED and not is_merge_graph(g)
               and not scratch.contains_named_graph(g)]
    created = [g for g in scratch.named_graphs() if not store.contains_named_graph(g)]
    for graph in dropped:
        store.remove_graph(graph)
    for graph in created:
        store.add_graph(graph)
    write_merge(store, after)
    store.clear_graph(INFERRED)
    asserted = {q.triple for q in after}  # the inferred graph holds no asserted triple
    store.extend(ox.Quad(t.subject, t.predicate, t.object, INFERRED)
                 for t in graph_to_triples(closure.inferred) if t not in asserted)
    scratch.extend(store.quads_for_pattern(None, None, None, INFERRED))  # the new state, in memory
    replace_support(store, support_graph(OxigraphStore(scratch)))
    store.flush()
    return Change(removed, added, frozenset(g.value for g in created),
                  frozenset(g.value for g in dropped))
