"""SHACL validation of the asserted data, reported in terms a data editor can act on.

pySHACL checks each constraint focus node by focus node in Python, and evaluates a
SHACL-SPARQL constraint once per focus node with rdflib's SPARQL engine, which grows too
slow for the synthetic graphs of the benchmark (bench/README.md). Here each constraint of
a shape with class targets is compiled into one SPARQL query over all its focus nodes
together and run in Oxigraph: SHACL-SPARQL constraints (the focus nodes joined in place of
the pre-bound ``$this``, equivalent for constraints that use ``$this`` in basic graph
patterns and filters, as these shapes do) and the common core components on a plain
property path (minCount, maxCount, class, datatype, pattern, languageIn, uniqueLang,
disjoint). What is left (sh:or, sh:in, sh:nodeKind, complex paths, other targets) goes to
pySHACL. Both halves report in the same :class:`Violation` form, and tests check the
results equal pySHACL's own on the curated data, on a broken sample and on synthetic data.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from crinkkg.errors import ValidationError, Violation
from crinkkg.terms import graph_to_triples, to_rdflib
from crinkkg.vocab import PREFIXES, XSD_NS

_THIS = re.compile(r"\$this\b")
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


@dataclass(frozen=True)
class SparqlConstraint:
    """A node-level SHACL-SPARQL constraint, ready to run over all focus nodes at once."""

    shape: Node
    targets: tuple[tuple[str, str], ...]
    query: str
    message: str
    severity: str
    path: str | None = None  # a property shape's path (the query does not bind ?path)


def _short(node: Node | None, graph: Graph) -> str | None:
    if node is None:
        return None
    if isinstance(node, URIRef):
        try:
            return graph.namespace_manager.normalizeUri(node)
        except Exception:  # noqa: BLE001 - any IRI rdflib cannot shorten stays long
            return f"<{node}>"
    return node.n3()


def _prefixes(shapes: Graph, constraint: Node) -> str:
    lines = []
    for owner in shapes.objects(constraint, SH.prefixes):
        for decl in shapes.objects(owner, SH.declare):
            prefix, ns = shapes.value(decl, SH.prefix), shapes.value(decl, SH.namespace)
            if prefix is not None and ns is not None:
                lines.append(f"PREFIX {prefix}: <{ns}>")
    return "\n".join(lines)


def split_shapes(shapes: Graph) -> tuple[Graph, list[SparqlConstraint]]:
    """The shapes without the SPARQL constraints we run ourselves, and those constraints.

    A SPARQL constraint stays with pySHACL when it is not of the simple form we can batch:
    on a property shape, on a shape with targets other than classes, or with a query
    that has no ``WHERE {``.
    """
    core = Graph()
    for prefix, ns in shapes.namespaces():
        core.bind(prefix, ns)
    for triple in shapes:
        core.add(triple)
    batched = []
    for shape, constraint in list(shapes.subject_objects(SH.sparql)):
        targets = targets_of(shapes, shape)
        if shapes.value(shape, SH.path) is not None or not targets:
            continue
        select = shapes.value(constraint, SH.select)
        if select is None or shapes.value(constraint, SH.deactivated) is not None \
                or not _WHERE.search(str(select)):
            continue
        severity = shapes.value(constraint, SH.severity) or shapes.value(shape, SH.severity)
        message = shapes.value(constraint, SH.message) or shapes.value(shape, SH.message)
        batched.append(SparqlConstraint(
            shape=shape, targets=targets, query=_batched_query(str(select), targets,
                                                               _prefixes(shapes, constraint)),
            message=str(message) if message else "SPARQL constraint not met",
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
        ))
        core.remove((shape, SH.sparql, constraint))
    for shape, prop in list(shapes.subject_objects(SH.property)):
        batched += _compile_property(shapes, core, shape, prop)
    for shape in _targeted_shapes(core):
        if not _checks_left(core, shape):  # all compiled: pySHACL need not find its targets
            for kind in _TARGETS:
                core.remove((shape, kind, None))
    return core, batched


_TARGETS = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode, SH.target)
#: what a shape may say that checks nothing
_QUIET = {*_TARGETS, SH.message, SH.severity, SH.name, SH.description, RDF.type,
          RDFS.label, RDFS.comment, SH.deactivated, SH.prefixes, SH.declare}


def _targeted_shapes(shapes: Graph) -> set[Node]:
    return {s for kind in _TARGETS for s in shapes.subjects(kind)}


def _checks_left(shapes: Graph, shape: Node) -> bool:
    return any(p not in _QUIET for p in shapes.predicates(shape))


XSD = XSD_NS
SH_CLASS = URIRef(str(SH) + "class")
#: datatypes whose well-formedness Oxigraph can check with a cast
_CASTABLE = {XSD + n for n in ("date", "dateTime", "gYear", "integer", "decimal", "boolean",
                               "double", "float", "time")}


def _compile_property(shapes: Graph, core: Graph, shape: Node,
                      prop: Node) -> list[SparqlConstraint]:
    """Queries for the components of one property shape that SPARQL states exactly.

    The compiled components are removed from ``core`` (what pySHACL still checks).
    """
    targets = targets_of(shapes, shape)
    path = shapes.value(prop, SH.path)
    if not targets or not isinstance(path, URIRef) \
            or shapes.value(prop, SH.deactivated) is not None:
        return []
    message = shapes.value(prop, SH.message)
    severity = shapes.value(prop, SH.severity)
    focus = _focus(targets)
    p = f"<{path}>"
    queries: list[tuple[Node, str]] = []
    for component, value in list(shapes.predicate_objects(prop)):
        q = None
        if component == SH.minCount:
            q = (f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ ?this {p} ?value }} }} "
                 f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {int(value)})")
        elif component == SH.maxCount:
            q = (f"SELECT ?this WHERE {{ {focus} ?this {p} ?value }} "
                 f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {int(value)})")
        elif component == SH.hasValue:
            continue
        elif component == SH_CLASS:
            q = (f"SELECT ?this ?value WHERE {{ {focus} ?this {p} ?value FILTER NOT EXISTS "
                 f"{{ ?value <{RDF.type}>/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* "
                 f"<{value}> }} }}")
        elif component == SH.datatype:
            ok = f"(isLiteral(?value) && DATATYPE(?value) = <{value}>)"
            if str(value) in _CASTABLE:
                ok = f"({ok} && DATATYPE(COALESCE(<{value}>(STR(?value)), \"\")) = <{value}>)"
            q = f"SELECT ?this ?value WHERE {{ {focus} ?this {p} ?value FILTER (!{ok}) }}"
        elif component == SH.pattern:
            flags = shapes.value(prop, SH.flags)
            args = _literal(str(value)) + (f", {_literal(str(flags))}" if flags else "")
            q = (f"SELECT ?this ?value WHERE {{ {focus} ?this {p} ?value "
                 f"FILTER (isBlank(?value) || !REGEX(STR(?value), {args})) }}")
        elif component == SH.languageIn:
            langs = [str(x) for x in Graph.items(shapes, value)]
            ok = " || ".join(f"LANGMATCHES(LANG(?value), {_literal(lang)})" for lang in langs)
            q = (f"SELECT ?this ?value WHERE {{ {focus} ?this {p} ?value "
                 f"FILTER (!isLiteral(?value) || !({ok or 'false'})) }}")
        elif component == SH.uniqueLang and bool(value.toPython()):
            q = (f"SELECT ?this WHERE {{ {focus} ?this {p} ?v FILTER (LANG(?v) != \"\") }} "
                 f"GROUP BY ?this (LCASE(LANG(?v))) HAVING (COUNT(DISTINCT ?v) > 1)")
        elif component == SH.disjoint:
            q = (f"SELECT ?this ?value WHERE {{ {focus} ?this {p} ?value . "
                 f"?this <{value}> ?value }}")
        if q is not None:
            queries.append((component, q))
    compiled = []
    for component, q in queries:
        core.remove((prop, component, None))
        if component == SH.pattern:
            core.remove((prop, SH.flags, None))
        compiled.append(SparqlConstraint(
            shape=prop, targets=targets, query=q, path=str(path),
            message=str(message) if message else f"{component.n3()} not met",
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation"))
    if not [c for c in core.predicates(prop) if c not in (SH.path, SH.message, SH.severity,
                                                           SH.name, SH.description)]:
        # nothing left for pySHACL to check on this property shape
        core.remove((shape, SH.property, prop))
    return compiled


def targets_of(shapes: Graph, shape: Node) -> tuple[tuple[str, str], ...]:
    """A shape's targets as (kind, IRI) pairs; empty when one cannot be compiled."""
    found = []
    for kind, prop in (("class", SH.targetClass), ("subjectsOf", SH.targetSubjectsOf),
                       ("objectsOf", SH.targetObjectsOf), ("node", SH.targetNode)):
        for value in shapes.objects(shape, prop):
            if not isinstance(value, URIRef):
                return ()
            found.append((kind, str(value)))
    if shapes.value(shape, SH.target) is not None:
        return ()
    return tuple(found)


def _focus(targets: Iterable[tuple[str, str]], only: str = "") -> str:
    """A graph pattern binding ?this to every focus node of the targets (``only``: a
    ``VALUES`` or ``FILTER`` that keeps some of them)."""
    blocks = []
    for kind, iri in targets:
        if kind == "class":
            blocks.append(f"?this <{RDF.type}>/<http://www.w3.org/2000/01/rdf-schema#"
                          f"subClassOf>* <{iri}> .")
        elif kind == "subjectsOf":
            blocks.append(f"?this <{iri}> ?crinkkg_o .")
        elif kind == "objectsOf":
            blocks.append(f"?crinkkg_s <{iri}> ?this .")
        else:
            blocks.append(f"VALUES ?this {{ <{iri}> }}")
    return "{ SELECT DISTINCT ?this WHERE { " + \
        " UNION ".join("{ " + b + " }" for b in blocks) + (f" {only}" if only else "") + \
        " } } "


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _batched_query(select: str, targets: Iterable[tuple[str, str]], prefixes: str) -> str:
    focus = _focus(targets)
    body = _THIS.sub("?this", select)
    match = _WHERE.search(body)
    return prefixes + "\n" + body[:match.end()] + " " + focus + body[match.end():]


def _only(c: SparqlConstraint, focus: Collection[ox.NamedNode | ox.BlankNode]) -> str:
    """A compiled constraint restricted to the ``focus`` IRIs, and to every blank node
    when ``focus`` holds one (a query cannot name a blank node of the data: checking all
    of them checks those too)."""
    iris = [f"<{n.value}>" for n in focus if isinstance(n, ox.NamedNode)]
    if len(iris) == len(focus):
        only = f"VALUES ?this {{ {' '.join(iris)} }}"
    else:
        only = f"FILTER (isBlank(?this) || ?this IN ({', '.join(iris)}))"
    block = _focus(c.targets)
    assert block in c.query, c.query
    return c.query.replace(block, _focus(c.targets, only), 1)


def _sparql_results(store: ox.Store, constraints: list[SparqlConstraint],
                    names: Graph, focus: Collection | None = None,
                    union: bool = False) -> list[Violation]:
    found: dict[tuple, Violation] = {}
    for c in constraints:
        query = c.query if focus is None else _only(c, focus)
        for row in store.query(query, use_default_graph_as_union=union):
            this, path, value = (row[v] if v in _variables(row) else None
                                 for v in ("this", "path", "value"))
            if this is None:
                continue
            if c.path is not None:
                path = ox.NamedNode(c.path)
            else:
                value = this if value is None else value  # SHACL: the focus node, if unbound
            key = (c.shape, c.message, this, path, value)
            found.setdefault(key, Violation(
                focus=_ox_short(this, names) or "?", path=_ox_short(path, names),
                message=c.message, severity=c.severity, shape=_short(c.shape, names),
                value=_ox_short(value, names)))
    return list(found.values())


def _variables(row: ox.QuerySolution) -> set[str]:
    names = set()
    for name in ("this", "path", "value"):
        try:
            row[name]
            names.add(name)
        except (KeyError, IndexError):
            pass
    return names


def _ox_short(term: object, names: Graph) -> str | None:
    return None if term is None else _short(to_rdflib(term), names)


def _pyshacl_results(data: Graph, shapes: Graph, ontology: Graph | None,
                     names: Graph, focus: list[str] | None = None) -> list[Violation]:
    import pyshacl

    _conforms, report, _text = pyshacl.validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none",
        abort_on_first=False, allow_warnings=True, advanced=True,
        # without inference pySHACL does not change the data graph: no need to copy it
        inplace=ontology is None, focus_nodes=focus,
    )
    violations = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(result, SH.resultSeverity)
        message = report.value(result, SH.resultMessage)
        violations.append(Violation(
            focus=_short(report.value(result, SH.focusNode), names) or "?",
            path=_short(report.value(result, SH.resultPath), names),
            message=str(message) if message else "constraint not met",
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            shape=_short(report.value(result, SH.sourceShape), shapes),
            value=_short(report.value(result, SH.value), names),
        ))
    return violations


def check(data: Graph, shapes: Graph, ontology: Graph | None = None, *,
          triples: Iterable[ox.Triple] | None = None,
          focus: Collection[ox.NamedNode | ox.BlankNode] | None = None,
          store: ox.Store | None = None) -> list[Violation]:
    """Every SHACL result (violations, warnings, infos) for ``data``.

    ``data`` must include the ontology's class and property hierarchy (the build passes
    the asserted union, which does): class targets and ``rdfs:subPropertyOf*`` paths follow
    it, so no RDFS inference is run (it would cost far more than the checks). ``triples``
    is the same data as Oxigraph triples, when the caller has them, to skip a conversion. ``focus``:
    check only these focus nodes (of those the shapes target), over the whole data.
    ``store``: a store that holds exactly the data already (in any of its graphs), read in
    place of a copy.
    """
    names = _names(data, shapes)
    core, batched = split_shapes(shapes)
    if focus is None:
        violations = _pyshacl_results(data, core, ontology, names)
    else:
        iris = [n for n in focus if isinstance(n, ox.NamedNode) and n.value.lower().startswith(
            ("http:", "https:", "urn:", "file:"))]  # pySHACL reads other IRIs as CURIEs
        others = [n for n in focus if n not in set(iris)]
        if others and _targeted(core, data, others):
            # pySHACL's own focus option keeps IRIs only: then every focus node
            violations = _pyshacl_results(data, core, ontology, names)
        elif iris:
            violations = _pyshacl_results(data, core, ontology, names,
                                          focus=[n.value for n in iris])
        else:
            violations = []
    if batched and (focus is None or focus):
        if store is None or ontology is not None:
            store, union = ox.Store(), False
            store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in
                         (triples if triples is not None else graph_to_triples(data)))
            if ontology is not None:
                store.extend(ox.Quad(t.subject, t.predicate, t.object)
                             for t in graph_to_triples(ontology))
        else:
            union = True
        violations += _sparql_results(store, batched, names, focus, union)
    return sorted(violations, key=lambda v: (v.severity, v.focus, v.path or "", v.message))


def _targeted(shapes: Graph, data: Graph, nodes: Iterable[ox.Term]) -> bool:
    """Whether a shape of ``shapes`` may target one of ``nodes`` (by its classes and their
    super-classes in ``data``; any other kind of target counts as yes)."""
    checking = {s for s in _targeted_shapes(shapes) if _checks_left(shapes, s)}
    if any((s, p, None) in shapes for s in checking
           for p in (SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode, SH.target)):
        return True
    classes = {c for s in checking for c in shapes.objects(s, SH.targetClass)}
    if not classes:
        return False
    for node in nodes:
        for kind in data.objects(to_rdflib(node), RDF.type):
            if isinstance(kind, BNode):
                return True
            if classes & set(data.transitive_objects(kind, RDFS.subClassOf)):
                return True
    return False


def _where_blank(data: Graph, node: BNode, names: Graph, depth: int = 3) -> str | None:
    """A blank node as an editor finds it in a file: the named resource and the
    properties that lead to it (``id:x / crink:hasTime / [ ]``)."""
    for subject, prop in data.subject_predicates(node):
        if isinstance(subject, URIRef):
            return f"{_short(subject, names)} / {_short(prop, names)} / [ ]"
        if depth > 1 and isinstance(subject, BNode):
            outer = _where_blank(data, subject, names, depth - 1)
            if outer:
                return f"{outer.removesuffix(' / [ ]')} / [ {_short(prop, names)} [ ] ]"
    return None


def _names(data: Graph, shapes: Graph) -> Graph:
    """The prefixes a report shortens IRIs with: the data's own, else the predeclared ones
    (the build's union graph binds none, and a report full of long IRIs is hard to read)."""
    if any(str(ns) == PREFIXES["id"] for _, ns in data.namespaces()):
        return data
    names = Graph()
    for prefix, ns in PREFIXES.items():
        names.bind(prefix, ns)
    for prefix, ns in (data if len(list(data.namespaces())) else shapes).namespaces():
        names.bind(prefix, ns, override=False)
    return names


def validate(data: Graph, shapes: Graph, ontology: Graph | None = None, *,
             triples: Iterable[ox.Triple] | None = None,
             focus: Collection[ox.NamedNode | ox.BlankNode] | None = None,
             store: ox.Store | None = None) -> list[Violation]:
    """Raise :class:`ValidationError` on any violation; return the warnings otherwise
    (``focus``, ``store``: see :func:`check`)."""
    results = check(data, shapes, ontology, triples=triples, focus=focus, store=store)
    names = _names(data, shapes)
    for v in results:  # a blank node, as an editor finds it in the file
        if v.focus.startswith("_:"):
            v.focus = _where_blank(data, BNode(v.focus[2:]), names) or v.focus
    violations = [v for v in results if v.severity == "Violation"]
    if violations:
        raise ValidationError(violations)
    return results
