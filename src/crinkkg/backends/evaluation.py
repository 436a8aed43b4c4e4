"""Evaluating one query against one store version and writing its answer as bytes in the
negotiated format, within the server's size limits.

The query workers run this for every query; the server process runs it itself for the
one-pattern queries whose cost is bounded by their answer (``budget``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

import pyoxigraph as ox

from crinkkg.backends.lookup import Lookup, NotHere, match, plan, solutions_json
from crinkkg.backends.search import expand_search, uses_search
from crinkkg.formats import (
    Format,
    Override,
    acceptable_list,
    best_of,
    check_format,
    check_xml_chars,
    format_names,
    formats_for,
    negotiate,
)
from crinkkg.functions import check_functions
from crinkkg.problems import Problem, syntax_problem
from crinkkg.sparqltext import has_keyword, with_limit
from crinkkg.store.oxigraph import OxigraphStore
from crinkkg.store.textindex import TextIndex
from crinkkg.views import View, check_view_and_dataset
from crinkkg.vocab import PREFIXES


class RowLimit(Exception):
    """Raised inside serialisation when a result grows past ``max_rows``."""


class _Sink:
    """A binary sink for pyoxigraph's serialisers that stops past a limit.

    ``lines=True`` limits newlines (one per TSV row, plus the header); else bytes.
    """

    __slots__ = ("limit", "used", "lines", "chunks")

    def __init__(self, limit: int, *, lines: bool) -> None:
        self.limit = limit
        self.used = 0
        self.lines = lines
        self.chunks: list[bytes] = []

    def write(self, data) -> int:
        data = bytes(data)
        self.used += data.count(b"\n") if self.lines else len(data)
        if self.used > self.limit:
            raise RowLimit()
        self.chunks.append(data)
        return len(data)

    def flush(self) -> None:
        pass

    def value(self) -> bytes:
        return b"".join(self.chunks)


def _too_many(max_rows: int, what: str) -> Problem:
    return Problem(413, "too-many-results",
                   f"the result has more than {max_rows} {what}, the server's limit",
                   hint="add LIMIT (and ORDER BY with OFFSET to page through the result), "
                        "or narrow the query", extra={"max_rows": max_rows})


def _not_acceptable(kind: str, accept: str | None, fmt: Override) -> Problem:
    what = "SELECT and ASK results" if kind == "results" else "CONSTRUCT and DESCRIBE results"
    names = ", ".join(f.name for f in formats_for(kind))  # type: ignore[arg-type]
    asked = f"Accept: {accept}"
    if fmt:
        asked = "format=" + ",".join(format_names(fmt)) + f" (not a format for these), {asked}"
    return Problem(406, "not-acceptable",
                   f"cannot write {what} in any format acceptable to the client ({asked})",
                   hint=f"accept one of {acceptable_list(kind)}, or pass format= one of "  # type: ignore[arg-type]
                        f"{names}")


def serialize_solutions(evaluate, accept: str | None, fmt: Override,
                        max_rows: int) -> tuple[str, bytes, int]:
    """SELECT results in the negotiated format, refusing more than ``max_rows`` rows.

    ``evaluate()`` runs the query. The common case costs one pass: the result is written
    straight in the negotiated format with a budget of ``max_rows`` bytes (every row of
    every format takes at least one byte, so a smaller output has fewer rows). A larger
    output is re-evaluated and written as TSV, whose lines are rows: counting stops a
    runaway result early, and the TSV is converted (losslessly) to the negotiated format.
    Returns the content type, the bytes and the row count (-1 when not counted).
    """
    chosen = negotiate("results", accept, fmt)
    if chosen is None:
        raise _not_acceptable("results", accept, fmt)
    if chosen.name != "tsv":
        sink = _Sink(max_rows, lines=False)
        try:
            evaluate().serialize(sink, format=chosen.oxigraph)
            return chosen.content_type, _carried(chosen, sink.value()), -1
        except RowLimit:
            pass
    sink = _Sink(max_rows + 1, lines=True)  # + the header line
    try:
        evaluate().serialize(sink, format=ox.QueryResultsFormat.TSV)
    except RowLimit:
        raise _too_many(max_rows, "rows") from None
    tsv = sink.value()
    rows = max(0, tsv.count(b"\n") - 1)
    if chosen.name == "tsv":
        return chosen.content_type, tsv, rows
    parsed = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    return chosen.content_type, _carried(chosen, parsed.serialize(format=chosen.oxigraph)), rows


_XML_FORMATS = (ox.RdfFormat.RDF_XML, ox.QueryResultsFormat.XML)


def _carried(chosen: Format, body: bytes) -> bytes:
    """``body``, unless it is XML holding a character XML cannot carry (then 406)."""
    if chosen.oxigraph in _XML_FORMATS:
        return check_xml_chars(body, chosen.label or chosen.name)
    return body


def _limited(triples: Iterable[ox.Triple], max_rows: int, counter: list[int]
             ) -> Iterator[ox.Triple]:
    for n, t in enumerate(triples, 1):
        if n > max_rows:
            raise RowLimit()
        counter[0] = n
        yield t


def serialize_triples(triples: Iterable[ox.Triple], accept: str | None, fmt: Override,
                      max_rows: int) -> tuple[str, bytes, int]:
    """CONSTRUCT/DESCRIBE results (or a graph) in the negotiated RDF format."""
    chosen = negotiate("graph", accept, fmt)
    if chosen is None:
        raise _not_acceptable("graph", accept, fmt)
    counter = [0]
    try:
        body = ox.serialize(_limited(triples, max_rows, counter), format=chosen.oxigraph,
                            prefixes=PREFIXES)
    except RowLimit:
        raise _too_many(max_rows, "triples") from None
    return chosen.content_type, _carried(chosen, body or b""), counter[0]


#: the result formats that can carry an ASK answer so that every client reads it right
BOOLEAN_FORMATS = ("json", "xml")


def _boolean_not_acceptable(asked: str) -> Problem:
    return Problem(406, "not-acceptable",
                   f"an ASK result cannot be sent as CSV or TSV ({asked}): those formats have "
                   "no standard form for a boolean, and clients read the forms in use "
                   "differently (rdflib reads Jena's '_askResult' table holding false as true)",
                   hint="accept application/sparql-results+json or application/sparql-results"
                        "+xml, or pass format=json or format=xml")


def boolean_format(accept: str | None, fmt: Override):
    """The format for an ASK answer: JSON or XML only (see :data:`BOOLEAN_FORMATS`).

    >>> boolean_format("text/csv, application/sparql-results+xml;q=0.1", None).name
    'xml'
    >>> boolean_format(None, "tsv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crinkkg.problems.Problem: ...
    """
    chosen = negotiate("results", accept, fmt)
    if chosen is None:
        raise _not_acceptable("results", accept, fmt)
    if chosen.name in BOOLEAN_FORMATS:
        return chosen
    names = format_names(fmt)
    asked_for = negotiate("results", None, fmt) if names else None
    if asked_for is not None and asked_for.name == chosen.name:  # format= named CSV or TSV
        raise _boolean_not_acceptable("format=" + ",".join(names))
    best = best_of(tuple(f for f in formats_for("results") if f.name in BOOLEAN_FORMATS),
                   accept)
    if best is None:
        if negotiate("results", accept) is not None:  # the client takes only CSV/TSV
            raise _boolean_not_acceptable(f"Accept: {accept}")
        raise _not_acceptable("results", accept, fmt)
    return best


def serialize_boolean(value: ox.QueryBoolean, accept: str | None, fmt: Override
                      ) -> tuple[str, bytes, int]:
    chosen = boolean_format(accept, fmt)
    return chosen.content_type, value.serialize(format=chosen.oxigraph), 1


def unsupported(exc: RuntimeError, what: str = "query") -> Problem | None:
    """The 501 for an extension function the engine does not implement (the text parses:
    not a 400, and not the server's fault: not a 500); ``None`` for other errors."""
    message = str(exc)
    if "custom function" in message and "not supported" in message:
        return Problem(501, "unsupported-function",
                       f"the {what} calls a function this server does not implement: "
                       f"{message[:1].lower() + message[1:]}",
                       hint="use the SPARQL 1.1 built-in functions (and XSD casts)")
    return None


class OverBudget(Exception):
    """An in-process answer grew past its budget: evaluate it in a worker instead."""


def run_query(store: OxigraphStore, job: tuple, *,
              search: tuple[Callable[[], TextIndex] | None, int] = (None, 0)) -> tuple:
    """Evaluate a ``query`` job and serialise its result. ``search``: what gives the
    full-text index of the version ``store`` was opened from (read by ``SERVICE
    <urn:x-crinkkg:search>``), and the most hits one search gives."""
    _, sparql, view, default_graphs, named_graphs, base_iri, accept, fmt, max_rows = job
    check_format(fmt)
    check_view_and_dataset(sparql, view, default_graphs, named_graphs)
    check_functions(sparql, PREFIXES)
    if uses_search(sparql):
        sparql = expand_search(sparql, *search)
    # with no protocol dataset and the default view, the query's own FROM clauses count
    query_dataset = view == "all" and has_keyword(sparql, "FROM")

    def evaluate():
        return store.query(sparql, view=view, default_graphs=default_graphs,
                           named_graphs=named_graphs, base_iri=base_iri,
                           query_dataset=query_dataset)

    try:
        result = evaluate()
    except SyntaxError as exc:
        raise syntax_problem(exc, sparql) from None
    except RuntimeError as exc:
        raise unsupported(exc) or exc from None
    if isinstance(result, ox.QueryBoolean):
        content_type, body, count = serialize_boolean(result, accept, fmt)
    elif isinstance(result, ox.QuerySolutions):
        first = [result]

        def once():  # the first evaluation is used once, then the query is run again
            return first.pop() if first else evaluate()

        content_type, body, count = serialize_solutions(once, accept, fmt, max_rows)
    else:
        content_type, body, count = serialize_triples(result, accept, fmt, max_rows)
    return ("ok", content_type, body, count)


def run_bounded_query(store: OxigraphStore, job: tuple, form: str, budget: int, *,
                      lookups: bool = False) -> tuple:
    """Evaluate a one-pattern query (``form`` from :func:`single_pattern`) reading at most
    ``budget`` + 1 results; raise :class:`OverBudget` when the answer has more results
    than ``budget`` or takes more bytes (then it may still exceed ``max_rows``).

    With ``lookups`` the queries :mod:`crinkkg.backends.lookup` can answer exactly skip
    the SPARQL engine: the embedded backend asks for it over a memory copy, where a
    lookup's index scan costs less than the engine's parse and plan; over the database the
    scan is the slower (pyoxigraph makes a Python object of every quad it reads there;
    bench/README.md measures both)."""
    _, sparql, view, default_graphs, named_graphs, base_iri, accept, fmt, max_rows = job
    check_format(fmt)
    check_view_and_dataset(sparql, view, default_graphs, named_graphs)
    cap = min(budget, max_rows)
    lookup = plan(sparql) if lookups and default_graphs is None and named_graphs is None \
        else None
    if lookup is not None:
        try:
            return _answer_lookup(store, lookup, view, accept, fmt, cap)
        except NotHere:
            pass  # the engine writes this one
    if form in ("SELECT", "CONSTRUCT"):
        sparql = with_limit(sparql, cap + 1)
    try:
        result = store.query(sparql, view=view, default_graphs=default_graphs,
                             named_graphs=named_graphs, base_iri=base_iri)
    except SyntaxError as exc:
        raise syntax_problem(exc, job[1]) from None
    if isinstance(result, ox.QueryBoolean):
        return ("ok", *serialize_boolean(result, accept, fmt))
    kind = "results" if isinstance(result, ox.QuerySolutions) else "graph"
    chosen = negotiate(kind, accept, fmt)
    if chosen is None:
        raise _not_acceptable(kind, accept, fmt)
    # LIMIT cap + 1 bounds the work; the sink bounds the bytes (a row may be large), and
    # every row takes at least one byte, so an answer within cap bytes has all its rows
    sink = _Sink(cap, lines=False)
    count = -1
    try:
        if kind == "results" or chosen.oxigraph == ox.RdfFormat.N_TRIPLES:
            # N-Triples names no prefix: the engine writes it as it reads, and its bytes
            # bound the triples (each takes a line)
            result.serialize(sink, format=chosen.oxigraph)
        else:
            triples = list(islice(result, cap + 1))
            count = len(triples)
            if count > cap:
                raise OverBudget()
            ox.serialize(triples, sink, format=chosen.oxigraph, prefixes=PREFIXES)
    except RowLimit:
        raise OverBudget() from None
    body = _carried(chosen, sink.value())
    return ("ok", chosen.content_type, body, count)


def _answer_lookup(store: OxigraphStore, lookup: Lookup, view: View, accept: str | None,
                   fmt: Override, cap: int) -> tuple:
    """:func:`run_bounded_query` for a :class:`~crinkkg.backends.lookup.Lookup`: the same
    answer, negotiation, errors and budget, from one index scan (raises NotHere for a
    format the engine alone writes)."""
    if lookup.form != "SELECT":
        raise NotHere("CONSTRUCT: the engine removes duplicates in an order of its own")
    chosen = negotiate("results", accept, fmt)
    if chosen is None:
        raise _not_acceptable("results", accept, fmt)
    if chosen.name != "json":
        raise NotHere("only SPARQL JSON is written here")
    quads = match(lookup, store.view_graphs(view), store.scan, cap + 1)
    if len(quads) > cap:
        raise OverBudget()
    body = solutions_json(lookup, quads)
    if len(body) > cap:
        raise OverBudget()
    return ("ok", chosen.content_type, body, -1)


def run_graph(store: OxigraphStore, job: tuple) -> tuple:
    """Read one graph (Graph Store Protocol GET): a named graph, or the default graph.

    A named graph exists while the store lists it, empty or not (the same test as DELETE's
    and PUT's); the default graph always exists."""
    _, graph, accept, fmt, max_rows = job
    if graph is None:
        triples = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", view="all")
    else:
        node = ox.NamedNode(graph)
        if not store.has_graph(graph):
            raise Problem(404, "no-such-graph", f"there is no graph <{graph}> in the store",
                          hint="list the graphs with SELECT DISTINCT ?g { GRAPH ?g {} }")
        triples = (ox.Triple(q.subject, q.predicate, q.object)
                   for q in store.quads(None, None, None, node))
    content_type, body, count = serialize_triples(triples, accept, fmt, max_rows)
    return ("ok", content_type, body, count)


def dataset_format(accept: str | None, fmt: Override) -> Format:
    """The format of a whole dataset for this client: TriG or N-Quads, else 406."""
    chosen = negotiate("graph", accept, fmt)
    if chosen is None or not chosen.graph_aware:
        asked = f"format={fmt}" if fmt else f"Accept: {accept}"
        raise Problem(406, "not-acceptable",
                      f"the whole dataset is sent as TriG or N-Quads only ({asked})",
                      hint="accept application/trig or application/n-quads, or name one graph "
                           "with ?graph=IRI (or ?default) for the other formats")
    return chosen


def run_dataset(store: OxigraphStore, job: tuple) -> tuple:
    """The whole dataset (Graph Store Protocol GET without a graph, as Fuseki offers it
    and Jena's ``RDFConnection.fetchDataset()`` reads): every graph in TriG or N-Quads."""
    _, accept, fmt, max_rows = job
    chosen = dataset_format(accept, fmt)
    quads = store.quads()
    counted = []
    for n, quad in enumerate(quads, 1):
        if n > max_rows:
            raise _too_many(max_rows, "quads")
        counted.append(quad)
    body = ox.serialize(counted, format=chosen.oxigraph, prefixes=PREFIXES) or b""
    return ("ok", chosen.content_type, body, len(counted))
