"""The SPARQL 1.1 Protocol's request rules: which operation a request carries, or which
4xx it deserves (wrong method, missing or wrong media type, non-UTF-8 body, two queries).

Works on plain values (method, content type, raw body, query-string pairs) so that the
rules are testable without a server.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal
from urllib.parse import parse_qsl

import pyoxigraph as ox

from crinkkg.problems import Problem

QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
FORM_TYPE = "application/x-www-form-urlencoded"
ALLOW = "GET, POST, HEAD, OPTIONS"


def query_string(environ: dict) -> str:
    """The request's query string as text: WSGI gives it as latin-1, the protocol wants the
    UTF-8 bytes the client sent; raises the ``400`` other bytes earn.

    >>> query_string({"QUERY_STRING": "q=%C3%A9\u00c3\u00a9"})
    'q=%C3%A9é'
    """
    raw = environ.get("QUERY_STRING", "")
    if raw.isascii():
        return raw
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise Problem(400, "not-utf8", "the query string is not UTF-8",
                      hint="percent-encode UTF-8 bytes") from None


@dataclass
class Operation:
    """What a request to the endpoint asks for."""

    kind: Literal["query", "update", "description"]
    text: str = ""
    default_graphs: list[str] | None = None
    named_graphs: list[str] | None = None
    using_graphs: list[str] = field(default_factory=list)
    using_named_graphs: list[str] = field(default_factory=list)
    params: dict[str, list[str]] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else None


def _media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    if not content_type:
        return "", {}
    parts = [p.strip() for p in content_type.split(";")]
    params = {}
    for p in parts[1:]:
        key, _, value = p.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return parts[0].lower(), params


def _utf8(body: bytes, params: dict[str, str], what: str) -> str:
    charset = params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise Problem(415, "unsupported-charset",
                      f"the {what} is declared as {charset}: the SPARQL protocol requires UTF-8",
                      hint="send the body encoded as UTF-8 (and say charset=utf-8 or nothing)")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(400, "not-utf8", f"the {what} is not valid UTF-8 (byte {exc.start})",
                      hint="encode the body as UTF-8") from None


@lru_cache(maxsize=256)  # clients repeat their requests
def _decoded(raw: str) -> tuple[tuple[str, str], ...]:
    return tuple(decode_pairs(raw))


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def decode_pairs(raw: str) -> list[tuple[str, str]]:
    """``parse_qsl(raw, keep_blank_values=True, errors="strict")``, faster for the usual
    query string (ASCII, every ``%`` followed by two hex digits): the percent-escapes are
    decoded in C by ``codecs.escape_decode`` instead of one by one in Python
    (bench/README.md, "Lookups without the engine"). Any other string is decoded by
    ``parse_qsl`` itself.

    >>> decode_pairs("query=SELECT+%2A+%7B%7D&x&y=%C3%A9")
    [('query', 'SELECT * {}'), ('x', ''), ('y', 'é')]
    """
    if not raw.isascii() or _BAD_ESCAPE.search(raw):
        return parse_qsl(raw, keep_blank_values=True, errors="strict")
    pairs = []
    for item in raw.split("&"):  # as parse_qsl splits, keeping blank values
        if not item:
            continue
        name, equals, value = item.partition("=")
        pairs.append((_unquote_plus(name), _unquote_plus(value) if equals else ""))
    return pairs


def _unquote_plus(text: str) -> str:
    if "%" not in text:
        return text.replace("+", " ")
    escaped = text.replace("+", " ").replace("\\", "\\\\").replace("%", "\\x")
    return codecs.escape_decode(escaped.encode("ascii"))[0].decode("utf-8")  # type: ignore[attr-defined]


def _pairs(raw: str, what: str) -> list[tuple[str, str]]:
    try:
        if len(raw) <= 4096:  # the cache holds short ones only
            return list(_decoded(raw))
        return parse_qsl(raw, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise Problem(400, "not-utf8", f"the {what} has percent-encoded bytes that are not UTF-8",
                      hint="percent-encode UTF-8 bytes") from None
    except ValueError as exc:
        raise Problem(400, "bad-parameters", f"the {what} cannot be read: {exc}") from None


def _group(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise Problem(400, f"multiple-{name}s",
                      f"the request carries {len(values)} {name} strings; the protocol allows one",
                      hint=f"send one {name} per request")
    return values[0] if values else None


def parse_operation(method: str, query_string: str, content_type: str | None,
                    body: bytes) -> Operation:
    """Classify a request to the SPARQL endpoint, or raise the :class:`Problem` it earns."""
    method = method.upper()
    url_params = _group(_pairs(query_string, "query string"))
    if method in ("GET", "HEAD"):
        params = url_params
        if "update" in params:
            raise Problem(405, "update-needs-post", "an update cannot be sent with GET",
                          hint="POST it as application/sparql-update, or as a form with "
                               "update=...", headers={"Allow": "POST"})
        text = _one(params, "query")
        if text is None:
            return Operation("description", params=params)
        return _query(text, params)
    if method != "POST":
        raise Problem(405, "method-not-allowed",
                      f"{method} is not a SPARQL protocol operation on this endpoint",
                      hint="query with GET or POST, update with POST; graphs are read and "
                           "written at /store (Graph Store Protocol)", headers={"Allow": ALLOW})
    media, ctparams = _media_type(content_type)
    if media == FORM_TYPE:
        form = _group(_pairs(_utf8(body, ctparams, "form body"), "form body"))
        params = {k: url_params.get(k, []) + form.get(k, []) for k in {*url_params, *form}}
        query, update = _one(params, "query"), _one(params, "update")
        if query is not None and update is not None:
            raise Problem(400, "query-and-update", "the form carries both a query and an update",
                          hint="send them in separate requests")
        if query is not None:
            return _query(query, params)
        if update is not None:
            return _update(update, params)
        raise Problem(400, "missing-query", "the form has neither a query= nor an update= field",
                      hint="send query=... or update=... (URL-encoded)")
    if media == QUERY_TYPE:
        if "query" in url_params or "update" in url_params:
            raise Problem(400, "multiple-queries",
                          "the body holds a query and the URL carries another",
                          hint="send the query in the body only")
        return _query(_utf8(body, ctparams, "query"), url_params)
    if media == UPDATE_TYPE:
        if "update" in url_params or "query" in url_params:
            raise Problem(400, "multiple-updates",
                          "the body holds an update and the URL carries another",
                          hint="send the update in the body only")
        return _update(_utf8(body, ctparams, "update"), url_params)
    said = f"Content-Type {content_type}" if content_type else "no Content-Type"
    raise Problem(415, "unsupported-media-type",
                  f"a POST to the SPARQL endpoint with {said}",
                  hint=f"use {QUERY_TYPE}, {UPDATE_TYPE} or {FORM_TYPE}")


def graph_iri(value: str, name: str) -> str:
    """``value`` when it is an absolute IRI (RFC 3987, checked by Oxigraph's parser), else
    a 400 that says why: control characters, a relative IRI, spaces, ``<>``..."""
    what = f"{name}={value!r}"
    if not value:
        raise Problem(400, "bad-graph-iri", f"{name}= is empty",
                      hint="give the full IRI of a graph, e.g. "
                           "https://w3id.org/crinkkg/graph/data/china")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value):
        raise Problem(400, "bad-graph-iri", f"{what} holds control characters",
                      hint="percent-encode the IRI's bytes once (a newline is %0A only "
                           "inside a percent-encoded parameter, never in an IRI)")
    try:
        ox.NamedNode(value)
    except ValueError as exc:
        raise Problem(400, "bad-graph-iri", f"{what} is not an absolute IRI: {exc}",
                      hint="give the full IRI of a graph (scheme included), "
                           "percent-encoded") from None
    return value


def _graph_list(params: dict[str, list[str]], name: str) -> list[str] | None:
    values = params.get(name)
    if values is None:
        return None
    return [graph_iri(v, name) for v in values]


def _query(text: str, params: dict[str, list[str]]) -> Operation:
    if not text.strip():
        raise Problem(400, "empty-query", "the query is empty",
                      hint="send a SPARQL query, e.g. query=SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    return Operation("query", text, _graph_list(params, "default-graph-uri"),
                     _graph_list(params, "named-graph-uri"), params=params)


def _update(text: str, params: dict[str, list[str]]) -> Operation:
    if not text.strip():
        raise Problem(400, "empty-update", "the update is empty",
                      hint="send a SPARQL update, e.g. INSERT DATA { ... }")
    return Operation("update", text, using_graphs=_graph_list(params, "using-graph-uri") or [],
                     using_named_graphs=_graph_list(params, "using-named-graph-uri") or [],
                     params=params)
