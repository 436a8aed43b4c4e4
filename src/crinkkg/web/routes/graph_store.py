"""SPARQL 1.1 Graph Store HTTP Protocol at ``/store?graph=<iri>`` (or ``?default``), and
the whole dataset at ``/store`` (as Fuseki offers it).

Reading is always allowed. ``?default`` reads the default graph the queries see (the
merge of every graph); ``/store`` alone reads every graph as TriG or N-Quads. Writes (PUT,
POST, DELETE) need updates enabled and the bearer token; they become SPARQL updates, so
they are checked, re-reasoned and published exactly like any other update (and cannot
touch the inferred graph). POST to ``/store`` with TriG or N-Quads adds the quads to their
graphs; with a graph format it creates a new graph (``Location`` names it).
"""

from __future__ import annotations

import io
import uuid

import pyoxigraph as ox
from flask import Blueprint, Response, request

from crinkkg.formats import body_format, check_format, formats_for
from crinkkg.problems import Problem, syntax_problem
from crinkkg.vocab import GRAPH_BASE
from crinkkg.web.context import get_backend, settings
from crinkkg.web.http import cors
from crinkkg.web.http.protocol import graph_iri
from crinkkg.web.http.safety import check_rdfxml, check_update_allowed, read_body
from crinkkg.web.http.urls import root_url

bp = Blueprint("graph_store", __name__)

#: request bodies by media type (from the one format registry): graphs, and datasets
INPUT_TYPES = {m: f.oxigraph for f in formats_for("graph") if not f.graph_aware
               for m in (f.media_type, *f.aliases) if body_format(m) is f}
DATASET_TYPES = {m: f.oxigraph for f in formats_for("graph") if f.graph_aware
                 for m in (f.media_type, *f.aliases) if body_format(m) is f}


def _target() -> str | None:
    """The graph IRI the request names; ``None`` for ``?default``."""
    graph = request.args.getlist("graph")
    if "default" in request.args and not graph:
        return None
    if len(graph) != 1:
        raise Problem(400, "bad-graph", "name exactly one graph: ?graph=<absolute IRI> or "
                      "?default", hint="e.g. /store?graph=https://w3id.org/crinkkg/graph/"
                                       "data/china")
    return graph_iri(graph[0], "graph")


def _parse(body: bytes, fmt: ox.RdfFormat, base_iri: str) -> list[ox.Quad]:
    if fmt == ox.RdfFormat.RDF_XML:
        check_rdfxml(body)
    try:
        return list(ox.parse(body, format=fmt, base_iri=base_iri))
    except SyntaxError as exc:
        problem = syntax_problem(exc, body.decode("utf-8", "replace"), what="graph")
        problem.hint = "fix the document at that position"
        raise problem from None


def _body() -> bytes:
    """The request body, bounded by ``max_body_bytes`` whether it comes with a
    ``Content-Length`` or chunked (Werkzeug reads a chunked body as empty: a chunked PUT
    would have emptied the graph). Read once; Werkzeug's form parser reads it again."""
    environ = request.environ
    body = environ.get("crinkkg.body")
    if body is None:
        body = read_body(environ, settings().max_body_bytes)
        environ["crinkkg.body"] = body
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
    return body


def _parse_body(base_iri: str) -> str:
    """The request body as N-Triples text (for an INSERT DATA). A ``multipart/form-data``
    body may carry several documents (one per part, each with its own type): their
    merge."""
    media = (request.mimetype or "").lower()
    if media == "multipart/form-data":
        _body()  # bounded before Werkzeug reads the parts
        documents = [(part.read(), (part.mimetype or "").lower())
                     for part in request.files.values()]
        if not documents:
            raise Problem(400, "empty-form", "the multipart/form-data body has no file part",
                          hint="send each RDF document as a file part with its Content-Type")
    else:
        documents = [(_body(), media)]
    triples: list[ox.Triple] = []
    for body, part_media in documents:
        fmt = INPUT_TYPES.get(part_media)
        if fmt is None:
            raise Problem(415, "unsupported-media-type",
                          f"cannot read a graph sent as {part_media or 'no Content-Type'}",
                          hint="send " + ", ".join(sorted(
                              {k for k in INPUT_TYPES if not k.startswith("application/x")})) +
                          " (or TriG / N-Quads to /store without ?graph)")
        triples += (q.triple for q in _parse(body, fmt, base_iri))
    return (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()


def _quads_insert(quads: list[ox.Quad]) -> str:
    """An INSERT DATA holding ``quads`` in their graphs."""
    by_graph: dict[str, list[ox.Triple]] = {}
    for q in quads:
        g = "" if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        by_graph.setdefault(g, []).append(q.triple)
    parts = []
    for g, triples in by_graph.items():
        text = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()
        parts.append(_graph_clause(g or None, text))
    return "INSERT DATA {\n" + "\n".join(parts) + "}"


def _exists(graph: str | None) -> bool:
    """Whether the graph exists, empty or not: the same test GET makes (a graph emptied by
    CLEAR still exists until DROP or DELETE)."""
    if graph is None:
        return True
    return get_backend().graph_exists(graph)


def _graph_clause(graph: str | None, body: str) -> str:
    return body if graph is None else f"GRAPH <{graph}> {{\n{body}}}"


@bp.route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"])
def store() -> Response:
    """Read (GET/HEAD) or write (PUT/POST/DELETE) one graph."""
    if request.method == "OPTIONS":
        return cors.preflight(settings())
    whole = "graph" not in request.args and "default" not in request.args
    if request.method in ("GET", "HEAD") and whole:
        reply = get_backend().read_dataset(accept=request.headers.get("Accept"),
                                          fmt=request.args.get("format"))
        response = Response(reply.body, 200, content_type=reply.content_type)
        response.headers["Vary"] = "Accept"
        return response
    if request.method in ("GET", "HEAD"):
        graph = _target()
        fmt = tuple(request.args.getlist("format")) or None
        check_format(fmt)
        reply = get_backend().read_graph(graph, accept=request.headers.get("Accept"), fmt=fmt)
        response = Response(reply.body, 200, content_type=reply.content_type)
        response.headers["Vary"] = "Accept"
        return response
    s = settings()
    cors.mark_write(request.environ)
    check_update_allowed(s, request.headers.get("Authorization"))
    backend = get_backend()
    if request.method == "POST" and whole:
        fmt = DATASET_TYPES.get((request.mimetype or "").lower())
        if fmt is not None:  # quads into their graphs
            quads = _parse(_body(), fmt, request.base_url)
            if quads:
                backend.update(_quads_insert(quads))
            return Response(status=204)
        graph: str | None = f"{GRAPH_BASE}uploads/{uuid.uuid4()}"
        backend.update(f"INSERT DATA {{ {_graph_clause(graph, _parse_body(graph))} }}")
        response = Response(f"created <{graph}>\n", 201,
                            content_type="text/plain; charset=utf-8")
        response.headers["Location"] = str(graph)  # the new graph's IRI (GSP 5.5)
        return response
    graph = _target()
    existed = _exists(graph)
    if request.method == "DELETE":
        if not existed:
            raise Problem(404, "no-such-graph", f"there is no graph <{graph}>",
                          hint="list graphs with SELECT DISTINCT ?g { GRAPH ?g {} }")
        backend.update("DROP DEFAULT" if graph is None else f"DROP GRAPH <{graph}>")
        return Response(status=204)
    data = _parse_body(graph or root_url() + "store")
    insert = f"INSERT DATA {{ {_graph_clause(graph, data)} }}"
    # the graph exists afterwards even when the document is empty (GET then gives 200)
    create = "" if graph is None else f"CREATE SILENT GRAPH <{graph}> ;\n"
    if request.method == "PUT":
        drop = "DROP SILENT DEFAULT" if graph is None else f"DROP SILENT GRAPH <{graph}>"
        backend.update(f"{drop} ;\n{create}{insert}")
    else:
        backend.update(f"{create}{insert}")
    return Response(status=204 if existed else 201)
