"""The closure: the schema rules and the compiled instance rules, run until nothing changes.

The instance rules run to a fixpoint that is semi-naive at the level of rules: a rule runs
again only when a rule that fired writes a predicate or a class it reads. A triple derived
by the instance rules that feeds the schema rules (say a class typed ``owl:Class`` through a
range) re-opens the schema closure and the compilation, until the schema read back from the
store is the one compiled.

Where the triples are is the store's business (:class:`RuleStore`): an in-memory Oxigraph for
:mod:`crinkkg.reasoning.rules.local`, a SPARQL store for :mod:`crinkkg.reasoning.in_store`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

import pyoxigraph as ox

from crinkkg.reasoning.rules.compiler import Rule, RuleSet
from crinkkg.reasoning.rules.proxies import Terms
from crinkkg.reasoning.rules.tbox import Schema, check_supported, schema_closure
from crinkkg.reasoning.rules.vocabulary import DISJOINT_WITH, NOTHING, OWL_CLASS, THING, TYPE


class RuleStore(Protocol):
    """What the fixpoint needs of the store that holds the triples."""

    def apply(self, rule: Rule) -> bool:
        """Run one rule's update; True when it derived something new."""
        ...

    def add(self, triples: Iterable[tuple]) -> None:
        """Store triples derived outside the rules (the schema closure)."""
        ...

    def triples_with(self, p: ox.NamedNode) -> Iterable[tuple]:
        """The triples with predicate ``p``, as the engine's terms."""
        ...

    def schema_triples(self) -> set[tuple]:
        """The schema triples the store holds now (asserted or derived)."""
        ...

    def has_same_as(self) -> bool:
        """Whether the store holds an ``owl:sameAs`` triple."""
        ...


class Everything(set):
    """Everything (a rule with generic writes fired)."""


def anything_new(reads: set, dirty: set, fired: set) -> bool:
    """Whether a rule that reads ``reads`` may derive something new."""
    return (isinstance(dirty, Everything) or isinstance(fired, Everything)
            or bool(reads & dirty) or bool(reads & fired))


def fixpoint(rules: list[Rule], apply: Callable[[Rule], bool]) -> None:
    """Semi-naive at the level of rules: a rule runs again only when a rule that fired
    since its last run writes what it reads (``None``: anything)."""
    dirty: set | None = None  # None: everything is new
    while True:
        fired_writes: set = set()
        anything = False
        for r in rules:
            if dirty is not None and r.reads is not None and not anything_new(
                    r.reads, dirty, fired_writes):
                continue
            if apply(r):
                anything = True
                if r.writes is None:
                    fired_writes = Everything()
                elif not isinstance(fired_writes, Everything):
                    fired_writes |= r.writes
        if not anything:
            return
        dirty = fired_writes


def close(store: RuleStore, schema_input: Iterable[tuple], terms: Terms,
          compile_rules: Callable[[Schema], RuleSet]) -> Schema:
    """Close ``store`` under the schema rules and the rules ``compile_rules`` makes of the
    closed schema; returns the final schema (what the checks read).

    ``schema_input`` are the asserted schema triples. Raises
    :class:`~crinkkg.reasoning.rules.vocabulary.UnsupportedConstruct` for what the rules do
    not reproduce.
    """
    schema_triples = set(schema_input)
    for thing in (THING, NOTHING):  # cls-thing, cls-nothing1 (feed scm-cls)
        schema_triples.add((thing, TYPE, OWL_CLASS))
    schema_triples |= set(store.triples_with(DISJOINT_WITH))
    while True:
        schema = Schema(schema_triples)
        check_supported(schema, terms)
        store.add(schema_closure(schema))
        rules = compile_rules(schema)
        for r in rules.singles:
            store.apply(r)
        everything = rules.singles + rules.joins + rules.equality
        if rules.producers or store.has_same_as():
            fixpoint(everything, store.apply)
        else:
            fixpoint(rules.joins, store.apply)
            if store.has_same_as():  # a rule derived owl:sameAs after all
                fixpoint(everything, store.apply)
        found = store.schema_triples()
        if found <= schema.triples:
            return schema
        schema_triples = schema.triples | found
