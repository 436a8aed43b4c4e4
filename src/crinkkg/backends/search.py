"""Full-text search of the embedded store: the index of the version served
(:mod:`crinkkg.store.textindex`), asked in a query worker (as a query is: admitted, within
the timeout), and the SPARQL service pattern that brings its hits into a query.

The index read is the one in the folder the worker's open store came from, so an answer
never mixes two versions; the worker keeps it open (:class:`Indexes`) until it moves to a
newer version.

The SPARQL form (docs/querying.md)::

    PREFIX search: <urn:x-crinkkg:search#>
    SELECT ?source ?sentence ?claim WHERE {
      SERVICE <urn:x-crinkkg:search> {
        [] search:passages "mutual disdain" ; search:source ?source ;
           search:sentence ?sentence ; search:claim ?claim }
    }

is evaluated by searching the index first and putting its hits in the query's place as a
``VALUES`` block, which the engine then joins with the rest of the query as usual.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from crinkkg.backends.contract import search_unavailable
from crinkkg.problems import Problem
from crinkkg.sparqltext import Token, Unreadable, declared_prefixes, resolve, tokenize
from crinkkg.store.textindex import SearchSyntax, TextIndex
from crinkkg.vocab import PREFIXES, SEARCH_NS, SEARCH_SERVICE, XSD_NS

#: the longest search text, in characters
MAX_SEARCH_CHARS = 500
#: what a search pattern may ask for, by what it searches
OUTPUTS = {"passages": ("source", "sourceLabel", "sentence", "start", "end", "claim",
                        "claimLabel", "score"),
           "resources": ("resource", "label", "description", "score")}
SCOPES = ("all", "passages", "resources")


def version_folder(link: Path | str) -> Path:
    """The folder of the version the store link points at now."""
    return Path(os.path.realpath(link))


class Indexes:
    """The index of the version last asked for, kept open between questions: a query
    worker's, which moves to a new version's index when it moves to the new version
    (opening an index and warming its searcher costs more than most searches)."""

    def __init__(self) -> None:
        self._open: TextIndex | None = None

    def of(self, folder: Path | str) -> TextIndex:
        """The index of the version in ``folder`` (a 503 when it has none)."""
        folder = version_folder(folder)
        index = self._open
        if index is None or index.version != folder:
            index = TextIndex(folder)
            if not index.exists:
                raise Problem(503, "no-search-index",
                              f"the store version {folder.name} has no full-text index",
                              hint="rebuild the store (`crinkkg build --force`): builds since "
                                   "crinkkg's store layout 4 write one")
            self._open = index
        return index


def _checked(text: str, what: str = "search") -> str:
    if len(text) > MAX_SEARCH_CHARS:
        raise Problem(400, "search-too-long",
                      f"the {what} text has {len(text)} characters; the limit is "
                      f"{MAX_SEARCH_CHARS}", hint="search for fewer words")
    return text


def _asked(run: Callable[[], dict]) -> dict:
    try:
        return run()
    except SearchSyntax as exc:
        raise Problem(400, "bad-search", str(exc),
                      hint='give at least one word; "two words" for a phrase, word* for a '
                           "prefix") from None


def search(index: TextIndex, text: str, *, scope: str = "all", limit: int, offset: int = 0
           ) -> dict:
    """The passages and resources matching ``text`` in the version ``index`` indexes,
    best first; at most ``limit`` of each, after ``offset``."""
    _checked(text)
    if scope not in SCOPES:
        raise Problem(400, "bad-search", f"unknown search scope {scope!r}",
                      hint="use one of " + ", ".join(SCOPES))

    def run() -> dict:
        out: dict = {"query": text, "version": index.version.name, "limit": limit,
                     "offset": offset}
        if scope in ("all", "passages"):
            out["passages"] = [p.as_dict() for p in index.passages(text, limit, offset)]
        if scope in ("all", "resources"):
            out["resources"] = [r.as_dict() for r in index.resources(text, limit, offset)]
        return out

    return _asked(run)


def complete(index: TextIndex, prefix: str, *, limit: int) -> dict:
    """Resources for an editor's completion of ``prefix`` (a local name's start, or the
    start of words of a label), from the version ``index`` indexes."""
    _checked(prefix, "completion")
    return _asked(lambda: {"prefix": prefix, "version": index.version.name, "limit": limit,
                           "resources": [{"iri": r.iri, "label": r.label}
                                         for r in index.complete(prefix, limit)]})


# -- the SPARQL service pattern ----------------------------------------------------------


def _bad(message: str) -> Problem:
    return Problem(400, "bad-search-pattern", message,
                   hint=f"write SERVICE <{SEARCH_SERVICE}> {{ [] search:passages \"words\" ; "
                        "search:sentence ?sentence }} with PREFIX search: "
                        f"<{SEARCH_NS}> (docs/querying.md lists every term)")


def uses_search(sparql: str) -> bool:
    """Whether a query text may call the search service (a cheap test before tokenizing)."""
    return "service" in sparql.lower()


def expand_search(sparql: str, index: Callable[[], TextIndex] | None, max_hits: int) -> str:
    """``sparql`` with every ``SERVICE <urn:x-crinkkg:search> { … }`` replaced by the hits
    of ``index()`` (the index of the version the query is evaluated on; None: no index
    here) as a ``VALUES`` block (at most ``max_hits`` hits each).

    >>> expand_search("SELECT * { ?s ?p ?o }", None, 10)
    'SELECT * { ?s ?p ?o }'
    """
    if not uses_search(sparql):
        return sparql
    try:
        tokens = tokenize(sparql)
    except Unreadable:
        return sparql  # the parser gives the syntax error
    prefixes = {**PREFIXES, **declared_prefixes(tokens)}
    out, last, i = [], 0, 0
    while i < len(tokens):
        t = tokens[i]
        j = i + 1
        if j < len(tokens) and tokens[j].is_word("SILENT"):
            j += 1
        if not t.is_word("SERVICE") or j >= len(tokens) \
                or resolve(tokens[j], prefixes) != SEARCH_SERVICE:
            i += 1
            continue
        if j + 1 >= len(tokens) or tokens[j + 1].value != "{":
            raise _bad("the search service's pattern must follow it in { }")
        end = _closing(tokens, j + 1)
        if index is None:
            raise search_unavailable()
        values = _values(tokens[j + 2:end], prefixes, index(), max_hits)
        out.append(sparql[last:t.start])
        out.append(values)
        last = tokens[end].end
        i = end + 1
    out.append(sparql[last:])
    return "".join(out)


def _closing(tokens: list[Token], opening: int) -> int:
    depth = 0
    for k in range(opening, len(tokens)):
        if tokens[k].value == "{":
            depth += 1
        elif tokens[k].value == "}":
            depth -= 1
            if depth == 0:
                return k
    raise _bad("the search service's { } is not closed")


def _string(tokens: list[Token], k: int) -> tuple[str, int]:
    """A string literal's value at ``tokens[k]`` (a language tag or datatype after it is
    skipped); the index after it."""
    t = tokens[k]
    if t.kind != "string":
        raise _bad(f"expected a string after the search term, found {t.value!r}")
    quote = 3 if t.value[:3] in ('"""', "'''") else 1
    try:
        value = _unescape(t.value[quote:-quote])
    except ValueError:
        raise _bad(f"cannot read the string {t.value}") from None
    k += 1
    if k < len(tokens) and tokens[k].value == "@":
        k += 2
    elif k < len(tokens) and tokens[k].value == "^^":
        k += 2
    return value, k


def _unescape(body: str) -> str:
    escapes = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'",
               "\\": "\\"}
    out, k = [], 0
    while k < len(body):
        c = body[k]
        if c == "\\" and k + 1 < len(body):
            nxt = body[k + 1]
            if nxt in escapes:
                out.append(escapes[nxt])
                k += 2
                continue
            if nxt in "uU":
                width = 4 if nxt == "u" else 8
                out.append(chr(int(body[k + 2:k + 2 + width], 16)))
                k += 2 + width
                continue
        out.append(c)
        k += 1
    return "".join(out)


def _values(inner: list[Token], prefixes: dict[str, str], index: TextIndex,
            max_hits: int) -> str:
    """The ``VALUES`` block for one search pattern: ``subject term value (; term value)*``."""
    k = 0
    if k < len(inner) and inner[k].value == "[":
        k += 1
        if k < len(inner) and inner[k].value == "]":
            k += 1
    elif k < len(inner) and inner[k].kind in ("var", "bnode"):
        k += 1
    else:
        raise _bad("the search pattern starts with a variable or [] (its subject)")
    scope, text, limit = None, None, max_hits
    wanted: dict[str, str] = {}
    while k < len(inner):
        if inner[k].value in (";", "."):
            k += 1
            continue
        term = resolve(inner[k], prefixes) if inner[k].kind in ("iri", "pname") else None
        if term is None or not term.startswith(SEARCH_NS):
            raise _bad(f"{inner[k].value} is not a term of the search service ({SEARCH_NS}…)")
        name = term[len(SEARCH_NS):]
        k += 1
        if k >= len(inner):
            raise _bad(f"search:{name} has no value")
        if name in OUTPUTS:
            if scope is not None:
                raise _bad("one search pattern searches once: passages or resources")
            scope = name
            text, k = _string(inner, k)
        elif name == "limit":
            if inner[k].kind != "number" or not inner[k].value.isdigit():
                raise _bad("search:limit takes a whole number")
            limit = min(int(inner[k].value), max_hits)
            k += 1
        else:
            if inner[k].kind != "var":
                raise _bad(f"search:{name} takes a variable")
            wanted[name] = inner[k].value
            k += 1
    if scope is None or text is None:
        raise _bad("the search pattern has no search:passages or search:resources "
                   "\"words\"")
    unknown = sorted(set(wanted) - set(OUTPUTS[scope]))
    if unknown:
        raise _bad(f"search:{unknown[0]} is not given for {scope}; they give " +
                   ", ".join("search:" + o for o in OUTPUTS[scope]))
    if not wanted:
        raise _bad("the search pattern binds no variable")
    _checked(text)
    try:
        rows = _rows(scope, text, index, limit,
                     by_claim=bool({"claim", "claimLabel"} & set(wanted)))
    except SearchSyntax as exc:
        raise _bad(str(exc)) from None
    names = list(wanted)
    body = " ".join("(" + " ".join(row.get(n, "UNDEF") for n in names) + ")" for row in rows)
    return "VALUES (" + " ".join(wanted[n] for n in names) + ") { " + body + " }"


def _term(value: object) -> str:
    if isinstance(value, ox.NamedNode):
        return str(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(ox.Literal(str(value)))
    kind = "integer" if isinstance(value, int) else "double"
    return str(ox.Literal(repr(value), datatype=ox.NamedNode(XSD_NS + kind)))


def _rows(scope: str, text: str, index: TextIndex, limit: int, *, by_claim: bool
          ) -> list[dict[str, str]]:
    """The hits as rows of SPARQL terms; with ``by_claim``, a passage's row for each of its
    claims (one with the claim unbound when it has none)."""
    rows: list[dict[str, str]] = []
    if scope == "resources":
        for r in index.resources(text, limit):
            rows.append({"resource": _term(ox.NamedNode(r.iri)), "label": _term(r.label),
                         "description": _term(r.description), "score": _term(r.score)})
        return rows
    for p in index.passages(text, limit):
        row = {"source": _term(ox.NamedNode(p.source)), "sourceLabel": _term(p.source_label),
               "sentence": _term(p.sentence), "start": _term(p.start), "end": _term(p.end),
               "score": _term(p.score)}
        if not p.claims or not by_claim:
            rows.append(row)
            continue
        for c in p.claims:
            rows.append({**row, "claim": _term(ox.NamedNode(c.iri)),
                         "claimLabel": _term(c.label)})
    return rows
