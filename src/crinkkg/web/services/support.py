"""What derived links rest on, read from the support graph for the pages and the network.

The build describes every derived state-to-state shortcut (crink:supplies, crink:alliedWith,
...) as a crink:DerivedLink node in the support graph: the claims of every derivation, how
many sources state them, how many as fact, the weakest modality. Pages read those nodes
with SPARQL, like any client; nothing here derives anything.

``?min-fact-sources=N`` and ``?min-sources=N`` on the overview and on entity pages show
only the derived links whose claims are stated as fact by at least N sources, or come from
at least N sources (:func:`support_filter`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crinkkg.problems import Problem
from crinkkg.vocab import SUPPORT_GRAPH_IRI
from crinkkg.web.context import get_backend, memo
from crinkkg.web.services.describe import safe_iri

#: the largest threshold a filter takes (more sources than any graph will hold)
MAX_THRESHOLD = 99


@dataclass
class LinkSupport:
    """One derived link and its support."""

    link: str
    subject: str
    property: str
    object: str
    claims: list[str] = field(default_factory=list)
    sources: int = 0
    fact_sources: int = 0
    weakest: str | None = None

    @property
    def strength(self) -> str:
        """``corroborated`` (stated as fact by two or more sources), ``fact`` (by one) or
        ``weak`` (by none: only hedged, reported, headline or perceived claims)."""
        return "corroborated" if self.fact_sources >= 2 else \
            "fact" if self.fact_sources == 1 else "weak"

    def passes(self, min_fact_sources: int, min_sources: int) -> bool:
        return self.fact_sources >= min_fact_sources and self.sources >= min_sources


@dataclass(frozen=True)
class SupportFilter:
    """The thresholds a page was asked for (0: no filter)."""

    min_fact_sources: int = 0
    min_sources: int = 0

    @property
    def active(self) -> bool:
        return bool(self.min_fact_sources or self.min_sources)

    def passes(self, support: LinkSupport | None) -> bool:
        """Whether a derived link is shown; anything that is not a derived link is."""
        return support is None or support.passes(self.min_fact_sources, self.min_sources)


def support_filter(args) -> SupportFilter:
    """``?min-fact-sources=N`` and ``?min-sources=N`` of a page request; 400 otherwise.

    >>> support_filter({"min-fact-sources": "2"})
    SupportFilter(min_fact_sources=2, min_sources=0)
    """
    values = []
    for name in ("min-fact-sources", "min-sources"):
        raw = args.get(name) or "0"
        if not raw.isdigit() or int(raw) > MAX_THRESHOLD:
            raise Problem(400, "bad-parameter",
                          f"{name}={raw} is not a number of sources",
                          hint=f"give a whole number from 0 to {MAX_THRESHOLD}, e.g. "
                               f"?{name}=2")
        values.append(int(raw))
    return SupportFilter(*values)


def _read(pattern: str) -> dict[tuple[str, str, str], LinkSupport]:
    rows = get_backend().select_json(f"""SELECT ?link ?s ?p ?o ?c ?n ?f ?w WHERE {{
  {pattern}
  GRAPH <{SUPPORT_GRAPH_IRI}> {{
    ?link crink:linkSubject ?s ; crink:linkProperty ?p ; crink:linkObject ?o ;
          crink:sourceCount ?n ; crink:factSourceCount ?f .
    OPTIONAL {{ ?link crink:restsOn ?c }}
    OPTIONAL {{ ?link crink:weakestModality ?w }}
  }}
}}""")["results"]["bindings"]
    out: dict[tuple[str, str, str], LinkSupport] = {}
    for b in rows:
        key = (b["s"]["value"], b["p"]["value"], b["o"]["value"])
        found = out.get(key)
        if found is None:
            found = out[key] = LinkSupport(
                b["link"]["value"], *key, sources=int(b["n"]["value"]),
                fact_sources=int(b["f"]["value"]),
                weakest=b["w"]["value"] if "w" in b else None)
        if "c" in b and b["c"]["value"] not in found.claims:
            found.claims.append(b["c"]["value"])
    for s in out.values():
        s.claims.sort()
    return out


def supports_of(links: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], LinkSupport]:
    """The support of those of ``links`` (subject, property, object) that are derived
    links; the others are left out. Each link's support is read once per store version
    (:mod:`crinkkg.web.versioned`), those not kept yet in one query per 400: a page reads
    the links it shows, never the whole support graph. What it gives is kept: read it,
    never change it."""
    safe = sorted((a, p, b) for a, p, b in links if safe_iri(a) and safe_iri(p) and safe_iri(b))

    def read(missing: list[tuple[str, tuple[str, str, str]]]) -> dict:
        found: dict[tuple[str, tuple[str, str, str]], LinkSupport] = {}
        for i in range(0, len(missing), 400):
            values = " ".join(f"(<{a}> <{p}> <{b}>)" for _, (a, p, b) in missing[i:i + 400])
            found.update((("support", key), support) for key, support
                         in _read(f"VALUES (?s ?p ?o) {{ {values} }}").items())
        return found

    kept = memo().many([("support", key) for key in safe], read, None)
    return {key: support for (_, key), support in kept.items() if support is not None}


def resting_on(claim: str) -> list[LinkSupport]:
    """The derived links that rest on the claim ``claim`` (among others), read once per
    store version."""
    if not safe_iri(claim):
        return []
    return _kept(("resting on", claim),
                 f"GRAPH <{SUPPORT_GRAPH_IRI}> {{ ?link crink:restsOn <{claim}> }}")


def links_between(a: str, b: str) -> list[LinkSupport]:
    """The derived links from ``a`` to ``b`` and from ``b`` to ``a`` (safe IRIs), read
    once per store version."""
    return _kept(("links between", a, b), f"VALUES (?s ?o) {{ (<{a}> <{b}>) (<{b}> <{a}>) }}")


def all_links() -> list[LinkSupport]:
    """Every derived link of the graph (the overview's), read once per store version."""
    return _kept(("all links",), "")


def _kept(key: tuple, pattern: str) -> list[LinkSupport]:
    """The derived links ``pattern`` selects (:func:`_read`), in link order, read once per
    store version under ``key``."""
    return memo().get(key, lambda: sorted(_read(pattern).values(),
                                          key=lambda s: (s.subject, s.property, s.object)),
                      size=lambda found: 200 + 600 * len(found))
