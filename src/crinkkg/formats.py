"""The serialisation formats (SPARQL results, RDF graphs, pages) and content negotiation
for the SPARQL endpoint.

The one registry of each format's facts: name, media types, ``format=`` names, file
suffixes, label, whether it keeps named graphs, and the pyoxigraph constant that writes
it. Linked data (:mod:`.rdfio`) offers the same objects in its own order. Pure functions
over strings and these formats: the query workers use them too, so this module imports
nothing from Flask.

>>> negotiate("results", "text/csv;q=0.5, application/sparql-results+xml").name
'xml'
>>> negotiate("graph", "image/png") is None
True
>>> negotiate("graph", "*/*", override="nt").media_type
'application/n-triples'
>>> negotiate("graph", "text/n3", override=("json-ld", "application/ld+json,x/y")).name
'jsonld'
>>> negotiate("graph", "text/n3", override="csv").name  # not a graph format: Accept decides
'turtle'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import pyoxigraph as ox

from crinkkg.problems import Problem

Kind = Literal["results", "graph"]


@dataclass(frozen=True)
class Format:
    """One serialisation: how HTTP, ``format=`` values and file suffixes name it, and the
    pyoxigraph constant that writes it. The formats below are the only record of these
    facts; the linked-data documents (:mod:`.rdfio`) use the same objects."""

    name: str
    media_type: str
    kind: str  # "results", "graph" or "html"
    aliases: tuple[str, ...] = ()  # other media types that mean the same
    names: tuple[str, ...] = ()  # other values accepted by ``format=`` (besides suffixes)
    suffixes: tuple[str, ...] = ()  # file suffixes, the one documents use first
    label: str = ""  # what people call it
    graph_aware: bool = False  # keeps each statement in its named graph
    oxigraph: ox.QueryResultsFormat | ox.RdfFormat | None = None  # the writer (not for HTML)

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value (text types carry their charset)."""
        if self.media_type.startswith("text/"):
            return self.media_type + "; charset=utf-8"
        return self.media_type

    def named_by(self, value: str) -> bool:
        """True when a ``format=`` value (already lower-cased) names this format: its
        name, a suffix, another name, or one of its media types."""
        return value in (self.name, self.media_type, *self.suffixes, *self.names,
                         *self.aliases)


RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "results", ("application/json",),
           ("srj",), label="SPARQL JSON", oxigraph=ox.QueryResultsFormat.JSON),
    Format("xml", "application/sparql-results+xml", "results",
           ("application/xml", "text/xml"), ("srx",), label="SPARQL XML",
           oxigraph=ox.QueryResultsFormat.XML),
    Format("csv", "text/csv", "results", label="CSV", oxigraph=ox.QueryResultsFormat.CSV),
    Format("tsv", "text/tab-separated-values", "results", label="TSV",
           oxigraph=ox.QueryResultsFormat.TSV),
)

#: Turtle is valid N3: clients that ask for N3 (SPARQLWrapper's ``N3``) read it.
TURTLE = Format("turtle", "text/turtle", "graph", label="Turtle", suffixes=("ttl",),
                names=("n3",),
                aliases=("application/x-turtle", "application/turtle", "text/n3",
                         "text/rdf+n3", "application/n3"), oxigraph=ox.RdfFormat.TURTLE)
NTRIPLES = Format("ntriples", "application/n-triples", "graph", label="N-Triples",
                  suffixes=("nt",), names=("n-triples",), aliases=("text/plain",),
                  oxigraph=ox.RdfFormat.N_TRIPLES)
NQUADS = Format("nquads", "application/n-quads", "graph", label="N-Quads", suffixes=("nq",),
                names=("n-quads",), aliases=("text/x-nquads",), graph_aware=True,
                oxigraph=ox.RdfFormat.N_QUADS)
TRIG = Format("trig", "application/trig", "graph", label="TriG", suffixes=("trig",),
              aliases=("application/x-trig",), graph_aware=True, oxigraph=ox.RdfFormat.TRIG)
JSONLD = Format("jsonld", "application/ld+json", "graph", label="JSON-LD",
                suffixes=("jsonld",), names=("json-ld",),
                aliases=("application/json", "application/x-json+ld"),
                oxigraph=ox.RdfFormat.JSON_LD)
RDFXML = Format("rdfxml", "application/rdf+xml", "graph", label="RDF/XML",
                suffixes=("rdf", "owl"), names=("xml", "rdf+xml"),
                aliases=("application/xml", "text/xml"), oxigraph=ox.RdfFormat.RDF_XML)
#: In the endpoint's order of preference (the first is the default).
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, NTRIPLES, NQUADS, TRIG, JSONLD, RDFXML)
HTML = Format("html", "text/html", "html", label="HTML", suffixes=("html",),
              aliases=("application/xhtml+xml",))

_BY_KIND = {"results": RESULT_FORMATS, "graph": GRAPH_FORMATS}


def formats_for(kind: Kind) -> tuple[Format, ...]:
    """The formats of one kind, in the server's order of preference."""
    return _BY_KIND[kind]


def file_format(suffix: str) -> Format | None:
    """The RDF format of an input file by its suffix (``.ttl``, ``.owl``, ...).

    >>> file_format(".owl").name, file_format(".csv") is None
    ('rdfxml', True)
    """
    value = suffix.lower().lstrip(".")
    return next((f for f in GRAPH_FORMATS if value in f.suffixes), None)


#: media types that two formats claim (``application/json``: results or JSON-LD): a body
#: sent with one of them is not read as RDF
_AMBIGUOUS = {"application/json", "application/xml", "text/xml"}


def body_format(media_type: str) -> Format | None:
    """The RDF format a request body with this ``Content-Type`` is parsed as.

    >>> body_format("text/turtle; charset=utf-8").name, body_format("application/json")
    ('turtle', None)
    """
    value = media_type.split(";", 1)[0].strip().lower()
    if value in _AMBIGUOUS:
        return None
    return next((f for f in GRAPH_FORMATS if value == f.media_type or value in f.aliases),
                None)


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    order: int

    def specificity(self, media_type: str) -> int:
        """-1 when this range does not match ``media_type``, else how specific it is."""
        t, _, s = media_type.partition("/")
        if self.type == "*":
            return 0
        if self.type != t:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == s else -1


_ITEM = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+')


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an ``Accept`` header; malformed parts are skipped, as browsers expect.
    Parameters other than ``q`` (``charset``, the JSON-LD ``profile``, quoted or not)
    do not change which format a range names.

    >>> [(r.type, r.subtype) for r in parse_accept('application/ld+json; profile="a, b"')]
    [('application', 'ld+json')]
    """
    ranges: list[MediaRange] = []
    if not header:
        return ranges
    parts = _ITEM.findall(header) if '"' in header else header.split(",")
    for order, part in enumerate(parts):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        media = fields[0].lower()
        if "/" not in media:
            if media == "*":
                media = "*/*"
            else:
                continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        t, _, s = media.partition("/")
        ranges.append(MediaRange(t.strip(), s.strip(), q, order))
    return ranges


def _match(ranges: list[MediaRange], media: str) -> tuple[float, int, int] | None:
    """(q, specificity, -order) of the most specific range that matches ``media``."""
    best: tuple[float, int, int] | None = None
    for r in ranges:
        spec = r.specificity(media)
        if spec < 0:
            continue
        if best is None or spec > best[1] or (spec == best[1] and r.q > best[0]):
            best = (r.q, spec, -r.order)
    return best


def rank(ranges: list[MediaRange], fmt: Format) -> tuple[float, int, int] | None:
    """How much the client wants ``fmt``: its q-value, then how specific the match was,
    then how early the client listed it. ``None`` (or q=0) means not acceptable.

    The canonical media type decides when the client names it; an alias counts only
    when it is named exactly (``application/xml`` for RDF/XML, not ``*/*``).
    """
    canonical = _match(ranges, fmt.media_type)
    if canonical is not None and canonical[1] == 2:
        return canonical
    best = canonical
    for alias in fmt.aliases:
        m = _match(ranges, alias)
        if m is not None and m[1] == 2 and (best is None or m > best):
            best = m
    return best


def quality(ranges: list[MediaRange], fmt: Format) -> float:
    """The q-value the client gives ``fmt`` (0 when it does not accept it)."""
    r = rank(ranges, fmt)
    return r[0] if r else 0.0


def by_name(kind: Kind, name: str) -> Format | None:
    """The format a ``format=`` value names (a short name or a media type, whose
    parameters do not count), if any."""
    wanted = name.split(";", 1)[0].strip().lower()
    return next((fmt for fmt in formats_for(kind) if fmt.named_by(wanted)), None)


#: What ``format=`` holds: one value, or every value of a repeated parameter.
Override = str | tuple[str, ...] | None


def format_names(override: Override) -> list[str]:
    """Every name in ``format=`` values, in order. A value may be a comma-separated list
    of media types: SPARQLWrapper sends ``format=json-ld`` and
    ``format=application/ld+json,application/x-json+ld`` in one request.

    >>> format_names(("json-ld", "application/ld+json, application/x-json+ld", ""))
    ['json-ld', 'application/ld+json', 'application/x-json+ld']
    """
    if not override:
        return []
    values = (override,) if isinstance(override, str) else override
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


def known_name(name: str) -> bool:
    """True when ``name`` names any format this server writes (or the HTML page)."""
    return any(by_name(k, name) for k in ("results", "graph")) or \
        HTML.named_by(name.split(";", 1)[0].strip().lower())


def unknown_override(override: Override) -> str | None:
    """The ``format=`` text when it names nothing this server writes (a 400), else None."""
    names = format_names(override)
    if names and not any(known_name(n) for n in names):
        return ",".join(names)
    return None


def negotiate(kind: Kind, accept: str | None, override: Override = None,
              *, allow_html: bool = False) -> Format | None:
    """The best format of ``kind`` for this client, or ``None`` when nothing is acceptable.

    ``override`` (the ``format=`` values) wins over ``Accept`` when it names a format of
    ``kind`` (the first that does); otherwise ``Accept`` decides: ``format=csv`` does not
    make a CONSTRUCT unanswerable. Without an ``Accept`` header (or with ``*/*`` only)
    the first format of the kind is the default. With ``allow_html`` a client that
    prefers HTML gets :data:`HTML`.
    """
    size = len(override) if isinstance(override, str) else sum(map(len, override or ()))
    if (accept is None or len(accept) <= 512) and size <= 256:
        return _negotiate_cached(kind, accept, override, allow_html)  # clients repeat these
    return _negotiate(kind, accept, override, allow_html)


def best_of(candidates: tuple[Format, ...], accept: str | None) -> Format | None:
    """The candidate the ``Accept`` header ranks highest (ties: the earlier candidate);
    the first candidate without ``Accept``; ``None`` when none is acceptable."""
    ranges = parse_accept(accept)
    if not ranges:
        return candidates[0]
    best, best_rank = None, None
    for fmt in candidates:
        r = rank(ranges, fmt)
        if r is None or r[0] <= 0:
            continue
        if best_rank is None or r > best_rank:
            best, best_rank = fmt, r
    return best


def _negotiate(kind: Kind, accept: str | None, override: Override,
               allow_html: bool) -> Format | None:
    for name in format_names(override):
        chosen = by_name(kind, name)
        if chosen is not None:
            return chosen
    candidates = formats_for(kind)
    if allow_html and parse_accept(accept):
        candidates = (*candidates, HTML)
    return best_of(candidates, accept)


_negotiate_cached = lru_cache(maxsize=256)(_negotiate)


def prefers_html(accept: str | None) -> bool:
    """True when a client (a browser) ranks HTML above every SPARQL result format."""
    if not accept or "html" not in accept:
        return False
    return negotiate("results", accept, allow_html=True) is HTML


def acceptable_list(kind: Kind) -> str:
    """The media types of ``kind``, for a 406 message."""
    return ", ".join(f.media_type for f in formats_for(kind))


def check_format(fmt: Override) -> None:
    """A 400 for a ``format=`` that names nothing this server writes."""
    unknown = unknown_override(fmt)
    if unknown is not None:
        names = ", ".join(f.name for f in (*formats_for("results"), *formats_for("graph")))
        raise Problem(400, "unknown-format",
                      f"format={unknown} is not a format this server writes",
                      hint=f"use one of {names} (or a media type), or leave format= out and "
                           "send an Accept header")


#: characters XML 1.0 cannot carry, escaped or not (C0 controls but tab, line feed and
#: carriage return; U+FFFE and U+FFFF), as their UTF-8 bytes
_NOT_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def check_xml_chars(body: bytes, what: str) -> bytes:
    """``body`` (an XML document: RDF/XML, SPARQL XML results) when it is well-formed as
    far as characters go; else 406 ``not-representable`` naming the term that holds a
    character XML 1.0 cannot carry. Oxigraph writes such characters as they are (or as
    character references, which XML 1.0 forbids too), so the document would not parse.

    >>> check_xml_chars(b"<a>ok</a>", "RDF/XML")
    b'<a>ok</a>'
    >>> try:
    ...     check_xml_chars(b'<r rdf:about="http://e/s"><p>a\\x01b</p></r>', "RDF/XML")
    ... except Problem as p:
    ...     print(p.status, p.kind, p.extra)
    406 not-representable {'character': 'U+0001', 'term': 'a\\x01b'}
    """
    found = _NOT_XML.search(body)
    if found is None:
        return body
    start, end = found.start(), found.end()
    char = body[start:end].decode("utf-8")
    opened = max(body.rfind(b">", 0, start), body.rfind(b'"', 0, start)) + 1
    closes = [i for i in (body.find(b"<", end), body.find(b'"', end)) if i >= 0]
    term = body[opened:min(closes) if closes else len(body)].decode("utf-8", "replace")
    term = term if len(term) <= 80 else term[:77] + "..."
    about = re.findall(rb'rdf:about="([^"]*)"', body[max(0, start - 4000):start])
    context = f" (about <{about[-1].decode('utf-8', 'replace')}>)" if about else ""
    raise Problem(406, "not-representable",
                  f"the answer holds a character XML 1.0 cannot carry (U+{ord(char):04X}), in "
                  f"the term {term!r}{context}: it cannot be written as {what}",
                  hint="ask for another format, which can carry it: Turtle, N-Triples, "
                       "JSON-LD or SPARQL JSON (Accept, or format=)",
                  extra={"character": f"U+{ord(char):04X}", "term": term})
