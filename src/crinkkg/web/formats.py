"""Media types and content negotiation for SPARQL results, RDF graphs and pages.

Pure functions over strings and pyoxigraph format constants: the query workers use them
too, so this module imports nothing from Flask.

>>> negotiate("results", "text/csv;q=0.5, application/sparql-results+xml").name
'xml'
>>> negotiate("graph", "image/png") is None
True
>>> negotiate("graph", "*/*", override="nt").media_type
'application/n-triples'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyoxigraph as ox

Kind = Literal["results", "graph"]


@dataclass(frozen=True)
class Format:
    """One serialisation the endpoint can write."""

    name: str
    media_type: str
    kind: str  # "results", "graph" or "html"
    aliases: tuple[str, ...] = ()  # other media types that mean the same
    names: tuple[str, ...] = ()  # other values accepted by ``format=``

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value (text types carry their charset)."""
        if self.media_type.startswith("text/"):
            return self.media_type + "; charset=utf-8"
        return self.media_type

    @property
    def oxigraph(self) -> ox.QueryResultsFormat | ox.RdfFormat:
        """The pyoxigraph constant that writes this format."""
        return _OX[self.name]


RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "results",
           ("application/json",), ("srj",)),
    Format("xml", "application/sparql-results+xml", "results",
           ("application/xml", "text/xml"), ("srx",)),
    Format("csv", "text/csv", "results"),
    Format("tsv", "text/tab-separated-values", "results"),
)
GRAPH_FORMATS: tuple[Format, ...] = (
    Format("turtle", "text/turtle", "graph", ("application/x-turtle",), ("ttl",)),
    Format("ntriples", "application/n-triples", "graph", ("text/plain",), ("nt", "n-triples")),
    Format("nquads", "application/n-quads", "graph", ("text/x-nquads",), ("nq", "n-quads")),
    Format("trig", "application/trig", "graph", ("application/x-trig",)),
    Format("jsonld", "application/ld+json", "graph", ("application/json",), ("json-ld",)),
    Format("rdfxml", "application/rdf+xml", "graph", ("application/xml", "text/xml"),
           ("rdf", "xml", "rdf+xml", "owl")),
)
HTML = Format("html", "text/html", "html", ("application/xhtml+xml",))

_OX: dict[str, ox.QueryResultsFormat | ox.RdfFormat] = {
    "json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
    "turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML,
}
_BY_KIND = {"results": RESULT_FORMATS, "graph": GRAPH_FORMATS}


def formats_for(kind: Kind) -> tuple[Format, ...]:
    """The formats of one kind, in the server's order of preference."""
    return _BY_KIND[kind]


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


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an ``Accept`` header; malformed parts are skipped, as browsers expect."""
    ranges: list[MediaRange] = []
    if not header:
        return ranges
    for order, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
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
    """The format a ``format=`` value names (a short name or a media type), if any."""
    wanted = name.strip().lower()
    for fmt in formats_for(kind):
        if wanted in (fmt.name, fmt.media_type, *fmt.names, *fmt.aliases):
            return fmt
    return None


def negotiate(kind: Kind, accept: str | None, override: str | None = None,
              *, allow_html: bool = False) -> Format | None:
    """The best format of ``kind`` for this client, or ``None`` when nothing is acceptable.

    ``override`` (the ``format=`` parameter) wins over ``Accept``. Without an ``Accept``
    header (or with ``*/*`` only) the first format of the kind is the default. With
    ``allow_html`` a client that prefers HTML gets :data:`HTML`.
    """
    if override:
        return by_name(kind, override)
    ranges = parse_accept(accept)
    candidates = list(formats_for(kind))
    if not ranges:
        return candidates[0]
    if allow_html:
        candidates.append(HTML)
    best, best_rank = None, None
    for fmt in candidates:
        r = rank(ranges, fmt)
        if r is None or r[0] <= 0:
            continue
        if best_rank is None or r > best_rank:
            best, best_rank = fmt, r
    return best


def prefers_html(accept: str | None) -> bool:
    """True when a client (a browser) ranks HTML above every SPARQL result format."""
    if not accept or "html" not in accept:
        return False
    return negotiate("results", accept, allow_html=True) is HTML


def acceptable_list(kind: Kind) -> str:
    """The media types of ``kind``, for a 406 message."""
    return ", ".join(f.media_type for f in formats_for(kind))
