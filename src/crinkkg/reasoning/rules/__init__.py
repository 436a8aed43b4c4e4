"""A fast OWL 2 RL path: owlrl's closure, computed by SPARQL updates in an in-memory Oxigraph.

owlrl (:mod:`crinkkg.reasoning.owlrl_closure`) is the reference semantics and stays the oracle;
this package reproduces its *cleaned* closure exactly (the same inferred triples after
:func:`crinkkg.reasoning.removal_reason`, the same inconsistency messages) without owlrl's
Python-level rule loop, so that large graphs build (the benchmark's figures are in
``bench/README.md``). :func:`reason` and :func:`reason_triples` are its entry points.

How it works, module by module

1. (:mod:`~crinkkg.reasoning.rules.local`, :mod:`~crinkkg.reasoning.rules.proxies`)
   Every term goes into an in-memory :class:`pyoxigraph.Store`. Blank nodes and literals are
   replaced by proxy IRIs, so that owlrl's *generalized* triples (a literal as subject, a blank
   node ``[ owl:inverseOf p ]`` as predicate) can be stored and reasoned over exactly as owlrl
   does; they are mapped back, and dropped as owlrl and the clean-up drop them, at the end.
   Rules read and write the default graph; the asserted triples are deleted from it at the
   end, and what remains is the inferred part.
2. (:mod:`~crinkkg.reasoning.rules.tbox`) The schema rules (scm-cls, scm-sco, scm-eqc1/2,
   scm-op, scm-spo, scm-eqp1/2, scm-dom1/2, scm-rng1/2, scm-hv, scm-svf1/2, scm-avf1/2,
   scm-int, scm-uni) run in Python over the TBox: a port of owlrl's ``_schema_vocabulary``,
   quirks included.
3. (:mod:`~crinkkg.reasoning.rules.compiler`, :mod:`~crinkkg.reasoning.rules.fixpoint`) The
   instance rules are compiled from the closed TBox into SPARQL
   ``INSERT { ... } WHERE { ... FILTER NOT EXISTS { ... } }`` updates (their exact form is the
   store's choice, :class:`~crinkkg.reasoning.rules.compiler.UpdateForm`) and run to a
   fixpoint (a rule runs again only when a rule that fired writes a predicate or a class it
   reads): cax-sco, cax-eqc1/2, prp-dom, prp-rng, prp-spo1, prp-eqp1/2, prp-inv1/2,
   prp-symp (folded into one pre-computed closure per property, so one update derives all of
   a triple's single-premise consequences), prp-spo2 (chains of any length, with
   ``[ owl:inverseOf p ]`` elements), prp-trp, prp-fp, prp-ifp, cls-int1/2, cls-uni,
   cls-svf1/2, cls-avf, cls-hv1/2, cls-maxc2, cls-maxqc3/4, cls-oo, and, when the graph uses
   or can derive ``owl:sameAs``, eq-sym, eq-trans, eq-rep-s/p/o. The datatype one-time rules
   (dt-type2, literal subsumptions, disjointness of the datatypes in use, ill-typed literals)
   are owlrl's own tables (:mod:`~crinkkg.reasoning.rules.vocabulary`).
4. (:mod:`~crinkkg.reasoning.rules.fixpoint`) A triple derived by the instance rules that
   feeds the schema rules (say a class typed ``owl:Class`` through a range) re-opens steps 2
   and 3 until nothing changes.
5. (:mod:`~crinkkg.reasoning.rules.checks`) Inconsistency checks, with owlrl's messages:
   cax-dw, cax-adc (``owl:AllDisjointClasses``), cls-nothing2, cls-com, cls-maxc1,
   cls-maxqc1/2, prp-irp, prp-asyp, prp-pdw, prp-adp (``owl:AllDisjointProperties``),
   prp-npa1/2, eq-diff1/2/3, ill-typed literals.

The pieces are separate so that :mod:`crinkkg.reasoning.in_store` runs the same compiled
rules, fixpoint and checks in a SPARQL store, by supplying its own store and update form.

What it does not do: ``owl:hasKey`` (owlrl's prp-key is buggy, see the design notes), axioms
about the RDF/RDFS/OWL vocabulary itself (a sub-property of ``rdf:type``, a domain on
``owl:sameAs``, a subclass of ``owl:Class``...), and resources typed explicitly with an XSD
datatype or ``owl:sameAs`` a literal (owlrl's "explicit" datatype handling). For those,
:func:`reason` falls back to owlrl (and says so with a warning); ``fallback=False`` raises
:class:`UnsupportedConstruct` instead. Anything the engine implements is checked against owlrl
by ``tests/test_rules.py``, rule by rule.

``Closure.removed`` counts what the clean-up removed from *this engine's* closure. owlrl also
materialises a reflexive ``owl:sameAs`` for every node and typings of the RDF/OWL vocabulary
that this engine never computes, so the counts are smaller than owlrl's; the inferred triples
and the inconsistencies are the same.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable

import pyoxigraph as ox
from rdflib import Graph

from crinkkg.errors import Inconsistency
from crinkkg.reasoning import owlrl_closure as reasoning
from crinkkg.reasoning.rules.local import run
from crinkkg.reasoning.rules.vocabulary import UnsupportedConstruct
from crinkkg.terms import to_oxigraph, to_rdflib

__all__ = ["UnsupportedConstruct", "reason", "reason_triples"]


def reason(asserted: Graph, *, fallback: bool = True) -> reasoning.Closure:
    """OWL 2 RL closure of ``asserted``, cleaned: a drop-in for :func:`crinkkg.reasoning.reason`.

    Falls back to owlrl (with a warning) for constructs this engine does not reproduce, or
    raises :class:`UnsupportedConstruct` when ``fallback`` is false.
    """
    try:
        kept, removed, messages, _ = run(asserted)
    except UnsupportedConstruct as exc:
        _fall_back(exc, fallback)
        return reasoning.reason(asserted)
    inferred = Graph()
    for prefix, ns in asserted.namespaces():
        inferred.bind(prefix, ns, override=True)
    add = inferred.add
    for t in kept:
        add(t)
    return reasoning.Closure(inferred, removed, reasoning.inconsistencies_from(messages))


def reason_triples(triples: list[ox.Triple], *, fallback: bool = True
                   ) -> tuple[list[ox.Triple], Counter, list[Inconsistency]]:
    """The same over Oxigraph triples, without building rdflib graphs (for large inputs).

    Terms are converted as the build converts them (:mod:`crinkkg.terms`).
    """
    rd = _memoized(to_rdflib)
    converted = [(rd(t.subject), rd(t.predicate), rd(t.object)) for t in triples]
    ox_term = _memoized(to_oxigraph)
    try:
        kept, removed, messages, _ = run(converted)
    except UnsupportedConstruct as exc:
        _fall_back(exc, fallback)
        graph = Graph()
        for t in converted:
            graph.add(t)
        closure = reasoning.reason(graph)
        return ([ox.Triple(ox_term(s), ox_term(p), ox_term(o)) for s, p, o in closure.inferred],
                closure.removed, closure.inconsistencies)
    out = [ox.Triple(ox_term(s), ox_term(p), ox_term(o)) for s, p, o in kept]
    return out, removed, reasoning.inconsistencies_from(messages)


def _fall_back(exc: UnsupportedConstruct, fallback: bool) -> None:
    """Raise ``exc`` again unless falling back to owlrl is allowed; warn the caller's caller
    when it is."""
    if not fallback:
        raise exc
    warnings.warn(f"crinkkg.reasoning.rules: falling back to owlrl: {exc}", stacklevel=3)


def _memoized(convert: Callable) -> Callable:
    """``convert`` remembering its answers (a term recurs in many triples)."""
    cache: dict = {}

    def converted(term):
        found = cache.get(term)
        if found is None:
            found = cache[term] = convert(term)
        return found

    return converted
