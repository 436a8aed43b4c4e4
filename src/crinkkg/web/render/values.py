"""What pages show of terms and facts: the view models the renderers and services share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyoxigraph as ox

from crinkkg.web.http.urls import href
from crinkkg.web.render.rdfio import Term, shorten, term

if TYPE_CHECKING:
    from crinkkg.web.services.support import LinkSupport


@dataclass
class Value:
    """A term as a page shows it: text, link target, a hint (datatype, language)."""

    text: str
    link: str | None = None
    hint: str = ""
    iri: str | None = None

    @classmethod
    def of(cls, t: Term | dict, labels: dict[str, str]) -> Value:
        if isinstance(t, dict):
            t = term(t)
        if isinstance(t, ox.NamedNode):
            return cls(labels.get(t.value) or shorten(t.value), href(t.value), "", t.value)
        if isinstance(t, ox.BlankNode):
            return cls("(anonymous node)", None, "blank node")
        hint = f"@{t.language}" if t.language else (
            "" if t.datatype.value.endswith("#string") else shorten(t.datatype.value))
        return cls(t.value, None, hint)


@dataclass
class Fact:
    """One row of an entity page: a property, a value, where it comes from."""

    prop: Value
    value: Value
    inferred: bool
    graphs: list[str]
    sources: list[Value] = field(default_factory=list)
    behind: list[Value] = field(default_factory=list)  # claims an inferred link rests on
    support: Support | None = None  # a derived link's support (the support graph)
    computed: bool = False  # a statement of the support graph


@dataclass
class Support:
    """A derived link's support as a page shows it."""

    link: Value
    claims: list[Value]
    sources: int
    fact_sources: int
    weakest: Value | None
    strength: str  # corroborated, fact or weak

    @classmethod
    def of(cls, s: LinkSupport, labels: dict[str, str]) -> Support:
        return cls(Value.of(ox.NamedNode(s.link), labels),
                   sorted((Value.of(ox.NamedNode(c), labels) for c in s.claims),
                          key=lambda v: v.text.lower()),
                   s.sources, s.fact_sources,
                   Value.of(ox.NamedNode(s.weakest), labels) if s.weakest else None, s.strength)
