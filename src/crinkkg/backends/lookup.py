"""Answering a one-triple-pattern query straight from the store's indexes, without the
SPARQL engine.

A lookup (``SELECT ?p ?o WHERE { <iri> ?p ?o }``) is the most common request, and
pyoxigraph spends most of its time on one parsing and planning the query and on
serialising the solutions through Python file writes (bench/README.md has the profile).
Its answer is one index scan, ``quads_for_pattern``, over the graphs of the view. This
module answers the subset of :func:`crinkkg.sparqltext.single_pattern` queries whose
meaning is unambiguous without the engine, and only in the formats it writes exactly as
the engine does (``tests/test_lookup.py`` compares the two on random patterns):

- ``SELECT`` (variables or ``*``) and ``CONSTRUCT WHERE``, with an optional ``LIMIT``;
- a prologue of ``PREFIX`` declarations (no ``BASE``, no prefix declared twice);
- terms that are variables, ``a``, absolute IRIs or prefixed names without escapes,
  whose IRI has no ``.``/``..`` segment (the engine resolves them against the endpoint's
  address, which removes such segments); literals and blank nodes go to the engine;
- the view's default graph (no FROM, no protocol dataset);
- SELECT in SPARQL JSON. (``CONSTRUCT WHERE`` is planned but the engine answers it: it
  removes duplicate triples and writes them in an order of its own, which this module
  does not reproduce.)

Anything else returns ``None`` from :func:`plan` or raises :class:`NotHere`: the engine
answers it.
"""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import count, islice
from operator import attrgetter

import pyoxigraph as ox

from crinkkg.sparqltext import SHORT, Unreadable, lookup_shape, short_tokens
from crinkkg.vocab import PREFIXES, RDF_TYPE, XSD_STRING

_DOT_SEGMENT = re.compile(r"(?:^|[/:])\.\.?(?:$|[/?#])")
_PLAIN_PREFIX = re.compile(r"(?:[A-Za-z](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_\-])?)?")
_PLAIN_LOCAL = re.compile(r"(?:[A-Za-z0-9_:](?:[A-Za-z0-9_:\-.]*[A-Za-z0-9_:\-])?)?")
_PLAIN_VAR = re.compile(r"[?$][A-Za-z0-9_]+")


class NotHere(Exception):
    """This query or answer is not one the fast path writes exactly: the engine answers."""


@dataclass(frozen=True)
class Lookup:
    """One triple pattern: per position a node (bound) or a variable name (free)."""

    form: str  # SELECT or CONSTRUCT
    nodes: tuple[ox.NamedNode | None, ox.NamedNode | None, ox.NamedNode | None]
    names: tuple[str | None, str | None, str | None]
    variables: tuple[str, ...]  # SELECT's columns, in the engine's order
    limit: int | None


def _iri(value: str) -> ox.NamedNode:
    if _DOT_SEGMENT.search(value):
        raise NotHere("a dot segment: the engine resolves it")
    try:
        return ox.NamedNode(value)
    except ValueError:
        raise NotHere("not an absolute IRI") from None


def plan(text: str) -> Lookup | None:
    """The lookup a query text asks for, or None when the engine must answer it."""
    return _plan(text) if len(text) <= SHORT else None


@lru_cache(maxsize=512)  # clients repeat their queries; the plan depends on the text only
def _plan(text: str) -> Lookup | None:
    shape = lookup_shape(text)
    if shape is None:
        return plan_of_tokens(text)
    subject, p, o, first, second = shape
    try:
        node = _iri(subject)
    except NotHere:
        return None
    return Lookup("SELECT", (node, None, None), (None, p, o), (first, second), None)


def plan_of_tokens(text: str) -> Lookup | None:
    """:func:`plan` from the text's tokens (for any text)."""
    try:
        return _parse(short_tokens(text))
    except (Unreadable, NotHere, IndexError):
        return None


def _parse(tokens: list) -> Lookup | None:
    i, n = 0, len(tokens)
    declared: dict[str, str] = {}
    while i < n and tokens[i].is_word("PREFIX"):
        name, iri = tokens[i + 1], tokens[i + 2]
        if name.kind != "pname" or not name.value.endswith(":") or iri.kind != "iri" \
                or name.value in declared:
            return None
        declared[name.value] = iri.value[1:-1]
        i += 3
    prefixes = {f"{k}:": v for k, v in PREFIXES.items()} | declared
    form = tokens[i].value.upper() if tokens[i].kind == "word" else ""
    i += 1
    projected: list[str] | None = None
    if form == "SELECT":
        if tokens[i].value == "*":
            i += 1
        else:
            projected = []
            while tokens[i].kind == "var":
                if not _PLAIN_VAR.fullmatch(tokens[i].value):
                    return None
                projected.append(tokens[i].value[1:])
                i += 1
            if not projected or len(set(projected)) != len(projected):
                return None
        if tokens[i].is_word("WHERE"):
            i += 1
    elif form == "CONSTRUCT":
        if not tokens[i].is_word("WHERE"):
            return None
        i += 1
    else:
        return None
    if tokens[i].value != "{":
        return None
    i += 1
    nodes: list[ox.NamedNode | None] = []
    names: list[str | None] = []
    for _ in range(3):
        t = tokens[i]
        i += 1
        if t.kind == "var":
            if not _PLAIN_VAR.fullmatch(t.value):
                return None
            nodes.append(None)
            names.append(t.value[1:])
        elif t.kind == "iri":
            nodes.append(_iri(t.value[1:-1]))
            names.append(None)
        elif t.kind == "pname":
            prefix, _, local = t.value.partition(":")
            if prefix + ":" not in prefixes or not _PLAIN_PREFIX.fullmatch(prefix) \
                    or not _PLAIN_LOCAL.fullmatch(local):
                return None
            nodes.append(_iri(prefixes[prefix + ":"] + local))
            names.append(None)
        elif t.kind == "word" and t.value == "a" and len(nodes) == 1:
            nodes.append(ox.NamedNode(RDF_TYPE))
            names.append(None)
        else:
            return None
    free = [v for v in names if v is not None]
    if len(set(free)) != len(free):
        return None
    if i < n and tokens[i].value == ".":
        i += 1
    if i >= n or tokens[i].value != "}":
        return None
    i += 1
    limit = None
    if i + 1 < n and tokens[i].is_word("LIMIT") and tokens[i + 1].kind == "number" \
            and tokens[i + 1].value.isdigit():
        limit = int(tokens[i + 1].value)
        i += 2
    if i != n:
        return None
    if projected is not None and not set(projected) <= set(free):
        return None  # an unbound column: left to the engine
    variables = tuple(projected) if projected is not None else tuple(sorted(free))
    return Lookup(form, (nodes[0], nodes[1], nodes[2]), (names[0], names[1], names[2]),
                  variables, limit)


_quoted = json.encoder.encode_basestring  # type: ignore[attr-defined]  # C, as ensure_ascii=False
_POSITIONS = ("subject", "predicate", "object")


#: the JSON of terms already written (short ones only), forgotten all at once: lookups
#: repeat predicates, classes and the entities they link to
_TERMS: dict[object, str] = {}
_TERMS_MAX = 8192
_TERM_CHARS = 200


def _json_term(term: object) -> str:
    text = _TERMS.get(term)
    if text is not None:
        return text
    text = _write_term(term)
    if len(text) <= _TERM_CHARS:
        if len(_TERMS) >= _TERMS_MAX:
            _TERMS.clear()
        _TERMS[term] = text
    return text


def _write_term(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return '{"type":"uri","value":' + _quoted(term.value) + "}"
    if isinstance(term, ox.Literal):
        if getattr(term, "direction", None):
            raise NotHere("a directional language string")
        out = '{"type":"literal","value":' + _quoted(term.value)
        language = term.language
        if language:
            return out + ',"xml:lang":' + _quoted(language) + "}"
        datatype = term.datatype.value
        if datatype != XSD_STRING:
            return out + ',"datatype":' + _quoted(datatype) + "}"
        return out + "}"
    if isinstance(term, ox.BlankNode):
        return '{"type":"bnode","value":' + _quoted(term.value) + "}"
    raise NotHere("a triple term")


@lru_cache(maxsize=64)
def _layout(variables: tuple[str, ...], names: tuple[str | None, ...]
            ) -> tuple[str, list[tuple[str, Callable]], int]:
    """The results' head; per column its key and where its term is in a quad; and a
    number naming this layout in the memo of rows."""
    head = '{"head":{"vars":[' + ",".join(_quoted(v) for v in variables) + \
        ']},"results":{"bindings":['
    where = {name: k for k, name in enumerate(names) if name is not None}
    return (head, [(_quoted(v) + ":", attrgetter(_POSITIONS[where[v]])) for v in variables],
            next(_LAYOUTS))


_LAYOUTS = count()
#: the JSON of rows already written (short ones only), per layout and quad, forgotten all
#: at once: the resources clients look up are looked up again
_ROWS: dict[tuple[int, ox.Quad], str] = {}
_ROWS_MAX = 4096  # bounds the memory it holds: a quad object and its row each
_ROW_CHARS = 400
#: the lookups asked since the rows were last forgotten: a lookup's rows are remembered
#: from its second asking on, so that one asked once (a crawler's, a browser's) neither
#: pays for remembering them (a quad's hash costs more than its row) nor pushes out the
#: rows of those asked again
_ASKED: dict[Lookup, None] = {}
_ASKED_MAX = 1024


def _row(columns: list[tuple[str, Callable]], quad: ox.Quad) -> str:
    if len(columns) == 2:  # the usual lookup (?p ?o): without a generator
        (key1, get1), (key2, get2) = columns
        return "{" + key1 + _json_term(get1(quad)) + "," + key2 + _json_term(get2(quad)) + "}"
    return "{" + ",".join(key + _json_term(get(quad)) for key, get in columns) + "}"


def solutions_json(lookup: Lookup, quads: list[ox.Quad]) -> bytes:
    """The SPARQL JSON results of ``lookup`` over matching ``quads``, byte for byte as
    Oxigraph writes them."""
    head, columns, layout = _layout(lookup.variables, lookup.names)
    if lookup not in _ASKED:  # the first asking: written, not remembered
        if len(_ASKED) >= _ASKED_MAX:
            _ASKED.clear()
        _ASKED[lookup] = None
        return (head + ",".join([_row(columns, quad) for quad in quads]) + "]}}").encode()
    rows = []
    for quad in quads:
        key = (layout, quad)
        row = _ROWS.get(key)
        if row is None:
            row = _row(columns, quad)
            if len(row) <= _ROW_CHARS:
                if len(_ROWS) >= _ROWS_MAX:
                    _ROWS.clear()
                _ROWS[key] = row
        rows.append(row)
    return (head + ",".join(rows) + "]}}").encode()


def match(lookup: Lookup, graphs: list | None, scan: Callable, cap: int) -> list[ox.Quad]:
    """At most ``cap`` quads matching the pattern in ``graphs`` (None: the union of all);
    ``scan`` is a pyoxigraph store's ``quads_for_pattern``."""
    s, p, o = lookup.nodes
    take = cap if lookup.limit is None else min(cap, lookup.limit)
    if graphs is None:
        return list(islice(scan(s, p, o, None), take))
    found: list[ox.Quad] = []
    for g in graphs:
        if len(found) >= take:
            break
        found.extend(islice(scan(s, p, o, g), take - len(found)))
    return found

