"""Dereferenceable IRIs: ``/id/{name}``, ``/ontology`` (and its version IRI), ``/graph/...``
and the JSON-LD ``@context``, each in the format the client asks for.

Policy (applied to every IRI the server answers for): **200, not 303**. The response to
``GET /id/russia`` is the description of the resource, sent directly with
``Content-Location: /id/russia.ttl`` (the document that holds it, per format) and ``Link``
headers to the other formats. One round trip instead of two, and ``curl`` or a browser
gets the description without following redirects; the ``Content-Location`` tells a client
that cares about the thing/document distinction which document it got.

Format choice, first match wins: a suffix (``/id/russia.ttl``, ``.jsonld``, ``.rdf``,
``.nt``, ``.trig``, ``.nq``, ``.html``), then ``?format=``, then ``Accept`` with q-values
(``Vary: Accept``). With no ``Accept`` at all, entities default to Turtle and the ontology
to RDF/XML (what OWL tools that do not negotiate, such as owlready2, can read).
"""

from __future__ import annotations

import json

import pyoxigraph as ox
from flask import Blueprint, Response, request
from werkzeug.exceptions import NotFound

from crinkkg.formats import best_of, format_names, prefers_html
from crinkkg.problems import Problem
from crinkkg.views import View, parse_view
from crinkkg.web.http.responses import problem_response
from crinkkg.web.http.urls import base_iri, iri_for, local_path, root_url
from crinkkg.web.render.pages import (
    entity_page,
    graph_page,
    not_found_page,
    ontology_page,
    overview_page,
)
from crinkkg.web.render.rdfio import (
    FORMATS,
    HTML,
    JSONLD,
    LD_PREFIXES,
    NQUADS,
    RDF_FORMATS,
    RDFXML,
    TRIG,
    TURTLE,
    LDFormat,
    by_name,
    by_suffix,
    dataset_description,
    empty_document,
    jsonld_context,
    write,
)
from crinkkg.web.services.describe import Description, describe, safe_iri, search
from crinkkg.web.services.graphs import graph_has_triples, graph_quads
from crinkkg.web.services.nanopub import DIGEST, claim_nanopub
from crinkkg.web.services.ontology_doc import find_ontology_graph, version_iri_of

bp = Blueprint("linked_data", __name__)



# -- negotiation ---------------------------------------------------------------------------

def split_suffix(name: str) -> tuple[str, LDFormat | None]:
    """``russia.ttl`` -> (``russia``, Turtle); a name without a known suffix stays whole."""
    stem, dot, ext = name.rpartition(".")
    fmt = by_suffix(ext) if dot and stem else None
    return (stem, fmt) if fmt else (name, None)


def choose(suffix: LDFormat | None, *, no_accept: LDFormat = TURTLE,
           formats: tuple[LDFormat, ...] = FORMATS) -> tuple[LDFormat, bool]:
    """The format to answer in and whether the choice depended on ``Accept``.

    Raises a 400 for an unknown ``format=`` value and a 406 when nothing in ``Accept``
    can be served."""
    if suffix is not None:
        return suffix, False
    names = format_names(tuple(request.args.getlist("format")))
    if names:
        fmt = next((f for f in map(by_name, names) if f is not None and f in formats), None)
        if fmt is None:
            raise Problem(400, "unknown-format", f"format={','.join(names)} is not a format "
                          "of this resource", hint="use one of " +
                          ", ".join(f.suffixes[0] for f in formats))
        return fmt, False
    accept = request.headers.get("Accept", "")
    if not accept.strip():
        return no_accept, True
    best = best_of(formats, accept)  # media-type parameters (charset, profile) do not count
    if best is None:
        raise Problem(406, "not-acceptable", "none of the accepted media types is available "
                      "for this resource", hint="accept one of " +
                      ", ".join(f.media_type for f in formats),
                      headers={"Vary": "Accept"})
    return best, True


def document_headers(response: Response, path: str, fmt: LDFormat, negotiated: bool,
                     formats: tuple[LDFormat, ...] = FORMATS) -> Response:
    """``Content-Location`` (the document in this format), ``Link`` to the others,
    ``Vary: Accept`` when ``Accept`` decided."""
    response.headers["Content-Location"] = f"{path}.{fmt.suffixes[0]}"
    response.headers["Link"] = ", ".join(
        f'<{path}.{f.suffixes[0]}>; rel="alternate"; type="{f.media_type}"'
        for f in formats if f is not fmt)
    if negotiated:
        response.headers.add("Vary", "Accept")
    return response


def _view() -> View:
    return parse_view(request.args.get("view"))


def not_found(fmt: LDFormat, iri: str, message: str | None = None) -> Response:
    """404 in the format the client asked for (an empty but valid RDF document, or a page
    with suggestions)."""
    message = message or f"<{iri}> is not described in this graph"
    if fmt is HTML:
        name = iri[len(base_iri()):] if iri.startswith(base_iri()) else iri
        suggestions = search(name.rsplit("/", 1)[-1], base_iri()) if safe_iri(iri) else []
        return not_found_page(iri, message, suggestions)
    body = empty_document(fmt, message)
    response = Response(body, 404, content_type=fmt.content_type)
    response.headers.add("Vary", "Accept")
    return response


def unrouted(exc: NotFound) -> Response:
    """The app's answer to a path no route matches (e.g. one holding a line break): under
    the graph's own paths a 404 in the negotiated format, as for any unknown IRI; elsewhere
    a problem."""

    path = request.path
    if path.startswith(("/id/", "/graph/", "/ontology/")):
        try:
            fmt, _ = choose(None)
        except Problem:
            fmt = TURTLE
        return not_found(fmt, iri_for(path))
    message = f"nothing is served at {path!r}"
    if prefers_html(request.headers.get("Accept")):
        return not_found_page(request.url, message, [])
    return problem_response(Problem(404, "not-found", message,
                                    hint="see / for the overview, /sparql for queries"))


# -- descriptions ----------------------------------------------------------------------------

def filtered(desc: Description, view: str) -> Description:
    """Only the asserted, or only the inferred, statements of a description."""
    if view == "all":
        return desc
    keep = [s for s in desc.statements if s.inferred == (view == "inferred")]
    return Description(desc.iri, keep, desc.labels, desc.truncated)


def rdf_body(desc: Description, fmt: LDFormat) -> bytes:
    asserted, inferred = desc.quads()
    note = (f"Description of <{desc.iri}>: its statements, incoming links, the sources of "
            "the claims that link to it and the labels of linked resources.")
    return write(fmt, asserted, inferred, note=note)


@bp.route("/id/<path:name>")
def resource(name: str) -> Response:
    """``GET /id/{name}``: the description of ``{base}id/{name}``."""
    stem, suffix = split_suffix(name)
    fmt, negotiated = choose(suffix)
    view = _view()
    iri = iri_for("id/" + stem)
    desc = describe(iri, page=fmt is HTML)
    if desc is None and suffix is not None:  # a name that really ends in ".ttl"
        whole = describe(iri_for("id/" + name))
        if whole is not None:
            stem, desc, iri = name, whole, iri_for("id/" + name)
            fmt, negotiated = choose(None)
    if desc is None:
        return not_found(fmt, iri)
    path = local_path(iri) or request.path
    if fmt is HTML:
        response = entity_page(desc)
    else:
        response = Response(rdf_body(filtered(desc, view), fmt), 200,
                            content_type=fmt.content_type)
    return document_headers(response, path, fmt, negotiated)


# -- the ontology ------------------------------------------------------------------------------

def ontology_iri() -> str:
    return iri_for("ontology")


def _ontology(suffix: LDFormat | None, version: str | None = None) -> Response:
    fmt, negotiated = choose(suffix, no_accept=RDFXML)
    iri = ontology_iri()
    graph = find_ontology_graph(iri)
    if graph is None:
        return not_found(fmt, iri, f"the ontology <{iri}> is not in this store")
    path = local_path(iri) or "/ontology"
    if version is not None:
        wanted = iri_for("ontology/" + version)
        current = version_iri_of(iri)
        if wanted != current:
            return not_found(fmt, wanted, f"<{wanted}> is not a version of the ontology "
                             f"served here; the current version is <{current}>")
        path = local_path(wanted) or path
    if fmt is HTML:
        response = ontology_page()
    else:
        body = write(fmt, graph_quads(graph), [],
                     note=f"The ontology <{iri}>, from graph <{graph}>")
        response = Response(body, 200, content_type=fmt.content_type)
    return document_headers(response, path, fmt, negotiated)


@bp.route("/ontology")
def ontology() -> Response:
    """The ontology: RDF for tools (Protégé's "Open from URL"), documentation for people."""
    return _ontology(None)


@bp.route("/ontology.<ext>")
def ontology_file(ext: str) -> Response:
    fmt = by_suffix(ext)
    if fmt is None:
        return not_found(TURTLE, iri_for("ontology." + ext))
    return _ontology(fmt)


@bp.route("/ontology/<version>")
def ontology_version(version: str) -> Response:
    """The version IRI: this exact version (the only one this store holds)."""
    stem, suffix = split_suffix(version)
    return _ontology(suffix, stem)


# -- named graphs ----------------------------------------------------------------------------

@bp.route("/graph/<path:name>")
def graph(name: str) -> Response:
    """A named graph's IRI: its content for RDF clients, a list of its subjects for
    people."""
    stem, suffix = split_suffix(name)
    fmt, negotiated = choose(suffix)
    iri = iri_for("graph/" + stem)
    if not safe_iri(iri) or not graph_has_triples(iri):
        return not_found(fmt, iri, f"<{iri}> is not a graph of this store")
    path = local_path(iri) or request.path
    if fmt is HTML:
        response = graph_page(iri)
    else:
        response = Response(write(fmt, graph_quads(iri), [],
                                  note=f"The named graph <{iri}>"), 200,
                            content_type=fmt.content_type)
    return document_headers(response, path, fmt, negotiated)


# -- a claim's evidence, citable ---------------------------------------------------------------

NANOPUB_FORMATS = (TRIG, NQUADS)


@bp.route("/np/<path:name>")
def nanopub(name: str) -> Response:
    """A claim's evidence as a nanopublication (TriG or N-Quads): ``/np/{claim}`` is the
    current one, ``/np/{claim}.{digest}`` (its IRI) is found while the evidence is the
    same; other evidence has another digest, and its IRI a 404 that names the current one."""
    stem, suffix = split_suffix(name)
    fmt, negotiated = choose(suffix, no_accept=TRIG, formats=NANOPUB_FORMATS)
    claim, dot, digest = stem.rpartition(".")
    if not dot or not _is_digest(digest):
        claim, digest = stem, ""
    iri = iri_for("id/" + claim)
    found = claim_nanopub(iri) if safe_iri(iri) else None
    if found is None:
        return not_found(fmt, iri, f"<{iri}> is not a claim of this graph: a nanopublication "
                                   "cites a claim, a node with the passage that states it "
                                   "(crink:statedIn)")
    path = local_path(found.iri) or request.path
    if digest and not found.iri.endswith("." + digest):
        return not_found(fmt, iri_for("np/" + stem),
                         f"the evidence of <{iri}> has changed since this nanopublication: "
                         f"the current one is <{found.iri}>")
    body = ox.serialize(found.quads, format=fmt.oxigraph, prefixes=LD_PREFIXES)
    response = Response(body, 200, content_type=fmt.content_type)
    return document_headers(response, path, fmt, negotiated, NANOPUB_FORMATS)


def _is_digest(text: str) -> bool:
    return len(text) == DIGEST and all(c in "0123456789abcdef" for c in text)


# -- the dataset (the base IRI itself) ----------------------------------------------------------

@bp.route("/")
@bp.route("/index.<ext>")
def root(ext: str | None = None) -> Response:
    """The overview for browsers; a VoID description of the dataset for RDF clients."""
    suffix = by_suffix(ext) if ext else None
    if ext and suffix is None:
        raise Problem(404, "not-found", f"/index.{ext} is not a format of this page",
                      hint="use .html, .ttl, .jsonld, .rdf, .nt, .trig or .nq")
    fmt, negotiated = choose(suffix, no_accept=HTML)
    if fmt is not HTML:
        response = Response(dataset_description(fmt, base_iri(), root_url(), ontology_iri()), 200,
                            content_type=fmt.content_type)
        return document_headers(response, "/index", fmt, negotiated)
    return overview_page()


# -- the JSON-LD context ----------------------------------------------------------------------

@bp.route("/context.jsonld")
def context() -> Response:
    """The ``@context`` every JSON-LD document of this server refers to."""
    body = json.dumps(jsonld_context(), indent=2) + "\n"
    response = Response(body, 200, content_type=JSONLD.content_type)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


__all__ = ["bp", "choose", "RDF_FORMATS", "split_suffix", "unrouted"]
