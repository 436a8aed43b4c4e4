"""Which focus nodes a change of the data can affect, read from the shapes themselves.

A write changes a few triples of a graph that met the shapes before it. A focus node whose
validation result changes must have read a changed triple: its constraints match the
triple with one of their triple patterns, and that pattern is joined to ``$this`` by
patterns that are matched in the same solution. :func:`reach` reads every shape (targets,
property shapes, SHACL-SPARQL constraints, the latter through rdflib's SPARQL algebra) and
gives, for each pattern that can read instance data, a *route*: the predicates and
directions that lead back from the triple's subject or object to ``$this``.
:func:`affected` follows those routes backwards from each changed triple, in the data
before and after the change, and returns every focus node that could have read it.

What cannot be routed makes the whole check fall back to the full one: a changed triple
whose predicate a pattern reads with no route to ``$this`` (the ``rdfs:subClassOf*`` and
``rdfs:subPropertyOf*`` paths the shapes use on the ontology, ``MINUS``, sub-selects, paths
with ``*`` over instance data), and any shape that uses a construct this module does not
analyse (:func:`reach` returns ``None``: then every check is full).

Soundness rests on two things, both tested against the full check
(``tests/test_write_shapes.py``): the routes are made only of patterns that are matched
whenever the pattern that reads the triple is (its own basic graph pattern and those of the
groups that enclose it, never a sibling branch of a ``UNION`` or an ``OPTIONAL`` part seen
from outside it); and the data before the change met the shapes, so every violation after
it involves a changed triple.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.paths import InvPath, Path
from rdflib.plugins.sparql.algebra import translateGroupGraphPattern
from rdflib.plugins.sparql.parserutils import CompValue

THIS = Variable("this")
#: at most this many patterns between a read triple and ``$this``
MAX_ROUTE = 4

#: what a shape may say besides what is analysed below, without changing what it reads
_NOISE = {str(RDF.type), str(SH.message), str(SH.severity), str(SH.name), str(SH.description),
          str(SH.order), str(SH.group), str(RDFS.label),
          str(RDFS.comment), str(SH.deactivated)}
#: property-shape components that read only the values of the path
_ON_VALUES = {SH.minCount, SH.maxCount, SH.datatype, SH.pattern, SH.flags, SH.languageIn,
              SH.uniqueLang, SH["in"], SH.nodeKind, SH.hasValue, SH.minLength, SH.maxLength,
              SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive}
#: components that compare the path's values with another property's, on the focus node
_ON_FOCUS = {SH.disjoint, SH.equals, SH.lessThan, SH.lessThanOrEquals}


@dataclass(frozen=True)
class Reader:
    """A pattern that reads triples with ``predicate`` (``None``: any), and the route from
    the triple's ``end`` (``"s"`` or ``"o"``) back to the focus node: each step a predicate
    (``None``: any) and whether the step's next node is the subject of that triple."""

    predicate: str | None
    end: str
    route: tuple[tuple[str | None, bool], ...] = ()


@dataclass
class Reach:
    """Every reader of the shapes, the predicates read with no route (``None`` among them:
    any predicate), and the fixed focus nodes (``sh:targetNode``)."""

    readers: list[Reader] = field(default_factory=list)
    unrouted: set[str | None] = field(default_factory=set)
    fixed: set[str] = field(default_factory=set)


class _Unanalysed(Exception):
    pass


@dataclass(frozen=True)
class _Edge:
    s: object
    p: str | None
    o: object


def reach(shapes: Graph) -> Reach | None:
    """What each shape reads and how it is routed to its focus node; ``None`` when some
    shape uses a construct that is not analysed (then only the full check is sound)."""
    found = Reach()
    rdfs_class = RDFS.Class
    owl_class = OWL.Class
    if any(shapes.subjects(RDF.type, rdfs_class)) or any(shapes.subjects(RDF.type, owl_class)):
        return None  # a shape that is a class targets its instances implicitly
    try:
        for shape in set(shapes.subjects(SH.targetClass)) | set(shapes.subjects(
                SH.targetSubjectsOf)) | set(shapes.subjects(SH.targetObjectsOf)) | set(
                shapes.subjects(SH.targetNode)) | set(shapes.subjects(SH.target)):
            _shape(shapes, shape, found)
    except _Unanalysed:
        return None
    return found


def _shape(shapes: Graph, shape, found: Reach) -> None:
    if shapes.value(shape, SH.deactivated) is not None:
        return
    for prop, value in shapes.predicate_objects(shape):
        if prop == SH.targetClass:
            found.readers.append(Reader(str(RDF.type), "s"))
            found.unrouted.add(str(RDFS.subClassOf))
        elif prop == SH.targetSubjectsOf:
            found.readers.append(Reader(str(value), "s"))
        elif prop == SH.targetObjectsOf:
            found.readers.append(Reader(str(value), "o"))
        elif prop == SH.targetNode:
            found.fixed.add(str(value))
        elif prop == SH.property:
            _property(shapes, value, found)
        elif prop == SH.sparql:
            _sparql(shapes, value, found)
        elif prop == SH["class"]:  # on the focus node itself
            found.readers.append(Reader(str(RDF.type), "s"))
            found.unrouted.add(str(RDFS.subClassOf))
        elif prop in _ON_VALUES or prop in (SH.closed, SH.ignoredProperties) or \
                str(prop) in _NOISE or prop == SH.declare or prop == SH.prefixes:
            if prop == SH.closed:
                found.readers.append(Reader(None, "s"))
        else:
            raise _Unanalysed(f"{prop} on {shape}")


def _property(shapes: Graph, prop, found: Reach) -> None:
    if shapes.value(prop, SH.deactivated) is not None:
        return
    path = shapes.value(prop, SH.path)
    if isinstance(path, URIRef):
        p, end, back = str(path), "s", False
    elif isinstance(path, BNode) and shapes.value(path, SH.inversePath) is not None \
            and isinstance(shapes.value(path, SH.inversePath), URIRef):
        p, end, back = str(shapes.value(path, SH.inversePath)), "o", True
    else:
        raise _Unanalysed(f"path {path}")
    found.readers.append(Reader(p, end))
    for component, value in shapes.predicate_objects(prop):
        if component == SH["class"]:  # the value's types: one step from the focus
            found.readers.append(Reader(str(RDF.type), "s", ((p, not back),)))
            found.unrouted.add(str(RDFS.subClassOf))
        elif component in _ON_FOCUS:
            found.readers.append(Reader(str(value), "s"))
        elif component == SH.sparql:
            raise _Unanalysed("SPARQL constraint on a property shape")
        elif component == SH.path or component in _ON_VALUES or str(component) in _NOISE:
            continue
        else:
            raise _Unanalysed(f"{component} on a property shape")


def _sparql(shapes: Graph, constraint, found: Reach) -> None:
    from rdflib.plugins.sparql import prepareQuery

    if shapes.value(constraint, SH.deactivated) is not None:
        return
    select = shapes.value(constraint, SH.select)
    if select is None:
        raise _Unanalysed("a SPARQL constraint without sh:select")
    namespaces = {}
    for owner in shapes.objects(constraint, SH.prefixes):
        for decl in shapes.objects(owner, SH.declare):
            namespaces[str(shapes.value(decl, SH.prefix))] = str(shapes.value(decl, SH.namespace))
    algebra = prepareQuery(str(select), initNs=namespaces).algebra
    reads: list[tuple[_Edge, frozenset[_Edge]]] = []
    _walk(algebra, frozenset(), reads, found)
    for edge, context in reads:
        route = _route(edge, context)
        if route is None:
            found.unrouted.add(edge.p)
        else:
            found.readers.append(Reader(edge.p, *route))


# -- the SPARQL algebra ------------------------------------------------------------------


def _triples(node: CompValue) -> list[tuple]:
    flat = [t for group in node["triples"] for t in (group if isinstance(group, list)
                                                        else [group])]
    if flat and not isinstance(flat[0], tuple):  # the parser's form: s p o s p o ...
        return [tuple(flat[i:i + 3]) for i in range(0, len(flat), 3)]
    return [tuple(t) for t in flat]


def _edges(triples: Iterable[tuple], found: Reach) -> list[_Edge]:
    """The routable patterns of a block; paths other than a sequence of plain or inverse
    predicates are unrouted reads of every predicate they name."""
    edges = []
    for n, (s, p, o) in enumerate(triples):
        if isinstance(p, (URIRef, Variable)):
            edges.append(_Edge(s, None if isinstance(p, Variable) else str(p), o))
            continue
        steps = list(p.args) if type(p).__name__ == "SequencePath" else [p]
        here = s
        for i, step in enumerate(steps):
            there = o if i == len(steps) - 1 else BNode(f"crinkkg-path-{id(p)}-{n}-{i}")
            if isinstance(step, URIRef):
                edges.append(_Edge(here, str(step), there))
            elif isinstance(step, InvPath) and isinstance(step.arg, URIRef):
                edges.append(_Edge(there, str(step.arg), here))
            else:
                found.unrouted.update(_predicates(step))
            here = there
    return edges


def _predicates(path: Path | URIRef) -> set[str | None]:
    if isinstance(path, URIRef):
        return {str(path)}
    if type(path).__name__ == "NegatedPath":
        return {None}
    parts = getattr(path, "args", None) or [getattr(path, "path", None) or path.arg]
    return set().union(*(_predicates(x) for x in parts))


def _required(node) -> frozenset[_Edge]:
    """The patterns matched in every solution of ``node``."""
    if not isinstance(node, CompValue):
        return frozenset()
    name = node.name
    if name in ("BGP", "TriplesBlock"):
        return frozenset(_edges(_triples(node), Reach()))
    if name == "Join":
        return _required(node.p1) | _required(node.p2)
    if name in ("LeftJoin", "Minus"):
        return _required(node.p1)
    if name in ("Filter", "Extend", "Project", "Distinct", "Reduced", "Slice", "OrderBy",
                "ToMultiSet", "SelectQuery", "Graph"):
        return _required(node.get("p"))
    # an aggregate answers even when nothing matches (COUNT gives 0): nothing is required
    if name == "GroupGraphPatternSub":
        return frozenset().union(*(_required(part) for part in node.part
                                   if part.name in ("TriplesBlock", "GroupGraphPatternSub")))
    return frozenset()


def _walk(node, context: frozenset[_Edge], reads: list, found: Reach) -> None:
    """Every routable read pattern with the patterns matched along with it."""
    if isinstance(node, list):
        for item in node:
            _walk(item, context, reads, found)
        return
    if not isinstance(node, CompValue):
        return
    name = node.name
    if name in ("BGP", "TriplesBlock"):
        own = _edges(_triples(node), found)
        for edge in own:
            reads.append((edge, context | frozenset(own)))
        return
    if name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
        graph = node.graph
        if isinstance(graph, CompValue) and graph.name == "GroupGraphPatternSub":
            graph = translateGroupGraphPattern(graph)
        _walk(graph, context, reads, found)
        return
    if name == "Join":
        _walk(node.p1, context | _required(node.p2), reads, found)
        _walk(node.p2, context | _required(node.p1), reads, found)
        return
    if name == "LeftJoin":
        _walk(node.p1, context, reads, found)
        _walk(node.p2, context | _required(node.p1), reads, found)
        _walk(node.get("expr"), context | _required(node.p1) | _required(node.p2), reads,
              found)
        return
    if name == "Filter":
        _walk(node.p, context, reads, found)
        _walk(node.expr, context | _required(node.p), reads, found)
        return
    if name == "Minus":  # evaluated apart from the focus node's patterns
        _walk(node.p1, context, reads, found)
        _walk(node.p2, frozenset(), reads, found)
        return
    if name == "Project":  # a (sub-)select: only its own patterns route to $this
        _walk(node.p, frozenset(), reads, found)
        return
    for key, value in node.items():
        if not key.startswith("_"):
            _walk(value, context, reads, found)


def _route(edge: _Edge, context: frozenset[_Edge]) -> tuple[str, tuple] | None:
    """The shortest route over ``context`` from an end of ``edge`` to ``$this``: the end,
    and the steps from it (predicate, whether the next node is that triple's subject)."""
    best: tuple[str, tuple] | None = None
    for end, start in (("s", edge.s), ("o", edge.o)):
        if isinstance(start, Literal):
            continue
        frontier = [(start, ())]
        seen = {start}
        for _ in range(MAX_ROUTE + 1):
            hit = next((steps for node, steps in frontier if node == THIS), None)
            if hit is not None:
                if best is None or len(hit) < len(best[1]):
                    best = (end, hit)
                break
            nxt = []
            for node, steps in frontier:
                for e in context:
                    if e.o == node and e.s not in seen:
                        seen.add(e.s)
                        nxt.append((e.s, (*steps, (e.p, True))))
                    if e.s == node and e.o not in seen:
                        seen.add(e.o)
                        nxt.append((e.o, (*steps, (e.p, False))))
            frontier = nxt
    return best


# -- following the routes in the data ------------------------------------------------------


def affected(found: Reach, changed: Iterable[ox.Triple], stores: list[ox.Store]
             ) -> set[ox.NamedNode | ox.BlankNode] | None:
    """The focus nodes whose validation the ``changed`` triples can affect, followed in
    every store given (the data before and after the change); ``None`` when a changed
    triple is read with no route (then the full check must run)."""
    by_predicate: dict[str | None, list[Reader]] = {}
    for r in found.readers:
        by_predicate.setdefault(r.predicate, []).append(r)
    nodes: set = {ox.NamedNode(n) for n in found.fixed}
    for t in changed:
        p = t.predicate.value
        if p in found.unrouted or None in found.unrouted:
            return None
        for r in by_predicate.get(p, []) + by_predicate.get(None, []):
            here = {t.subject if r.end == "s" else t.object}
            for predicate, to_subject in r.route:
                pred = ox.NamedNode(predicate) if predicate is not None else None
                nxt = set()
                for node in here:
                    for store in stores:
                        if to_subject:
                            nxt.update(q.subject for q in
                                       store.quads_for_pattern(None, pred, node, None))
                        elif not isinstance(node, ox.Literal):
                            nxt.update(q.object for q in
                                       store.quads_for_pattern(node, pred, None, None))
                here = nxt
            nodes.update(n for n in here if not isinstance(n, ox.Literal))
    return nodes
