"""OWL 2 RL reasoning inside a SPARQL store: the compiled rules of
:mod:`crinkkg.reasoning.rules`, sent as SPARQL 1.1 updates to the store that holds the
data, run there to the fixpoint.

Why: a graph too large for this process gets the same closure as the local build. Only the
TBox (the schema triples the rules compile from, small) comes into this process; every
instance rule runs in the store, so this process's memory stays flat whatever the data size.

How: the compiled rules, the fixpoint and the checks are :mod:`crinkkg.reasoning.rules`'s,
composed, not copied; this module supplies the store they run against (the fixpoint's
:class:`~crinkkg.reasoning.rules.fixpoint.RuleStore`, the checks'
:class:`~crinkkg.reasoning.rules.checks.Queryable`) and the form of the rules' updates (the
compiler's :class:`~crinkkg.reasoning.rules.compiler.UpdateForm`), and what only a remote
store needs:

- The store is reached through :class:`SparqlStore` (``select``, ``ask``, ``update``), with two
  implementations: :class:`LocalStore` over a :class:`pyoxigraph.Store` (the reference, used by
  the tests) and :class:`crinkkg.backends.remote.ClientStore` over the SPARQL 1.1 Protocol.
- Each rule is ``INSERT { GRAPH <inferred> { ... } } USING <g1> ... USING <gn> USING <inferred>
  WHERE { ... FILTER NOT EXISTS { ... } }``: ``USING`` makes the rule's default graph the merge
  of the asserted graphs and the inferred graph, so the rule text, its ``FILTER NOT EXISTS``
  guard and its sub-selects are unchanged from the local engine. Chosen over ``GRAPH ?g`` with
  ``VALUES`` because every pattern of a rule would need its own ``GRAPH ?g`` (a join across
  graphs multiplies them), and because both Virtuoso 7.2 and Oxigraph run ``USING`` as is
  (Virtuoso needs ``WITH``/``USING`` or ``GRAPH`` in an ``INSERT`` anyway).
- Transitive rules are anchored (``?x p ?t . ?t p* ?z``): Virtuoso refuses ``?x p+ ?z`` with
  both ends unbound ("transitive start not given").
- A literal never stands as a subject (Virtuoso fails the whole update with "not a valid
  subject", Oxigraph skips the triple): subjects and predicates of templates are re-bound
  through ``IF(isLiteral(?v), ?unbound, ?v)``, so such a triple is skipped on both, and a
  rule whose main conclusion would have a literal subject is filtered out (its guard could
  never see it stored, so it would fire forever).
- Blank nodes of the TBox (lists, restrictions, ``[ owl:inverseOf p ]``) become the local
  engine's proxy IRIs in the rules; triples that mention a proxy (a blank-node predicate
  ``?y [owl:inverseOf p] ?x`` that a chain reads, a typing with an anonymous class) are stored
  in the inferred graph while the fixpoint runs, exactly as the local engine stores them, and
  removed by the clean-up, as the local clean-up removes them.
- Literals cannot be subjects here, so owlrl's typing of literals (dt-type2, a data property's
  range, through an inverse) is not stored; what the local engine derives through it is
  derived without it: a literal-valued triple through an inverse gives its subject the
  inverse's range directly; ``owl:someValuesFrom`` a datatype or a range-typed class tests
  the literal's datatype and properties; a literal whose datatype is disjoint with its
  property's range is found by a query of its own (same message). Every case of
  ``tests/test_rules.py`` gives the local closure. Not reproduced (tested): a consequence
  drawn from a class that another *rule* gave a literal (``owl:allValuesFrom`` onto a
  literal read by ``owl:someValuesFrom``, an ``owl:intersectionOf`` of data ranges, a literal
  in ``owl:oneOf``). Neither the curated data nor the synthetic graphs use those.
- The clean-up is the local one (:func:`crinkkg.reasoning.removal_reason`) as SPARQL
  ``DELETE``s on the inferred graph; the inconsistency checks are the local engine's, as
  ``SELECT``/``ASK`` over the merge, with the same messages.
"""

# ruff: noqa: UP031  (the inconsistency messages are owlrl's, %-formatted as owlrl does)

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from crinkkg.datatypes import LEXICAL_CHECKS
from crinkkg.errors import CrinkError, Inconsistency
from crinkkg.reasoning import owlrl_closure as reasoning
from crinkkg.reasoning.rules.checks import Messages, check
from crinkkg.reasoning.rules.compiler import Consequences, Rule, RuleCompiler, RuleSet
from crinkkg.reasoning.rules.fixpoint import close
from crinkkg.reasoning.rules.proxies import LITERAL_PROXY, PROXY_PREFIX, Terms
from crinkkg.reasoning.rules.tbox import Schema
from crinkkg.reasoning.rules.vocabulary import (
    ALL_DISJOINT_CLASSES,
    DATATYPE_DISJOINTNESS,
    DISJOINT_WITH,
    MEMBERS,
    RL_DATATYPES,
    SCHEMA_PREDICATES,
    SCHEMA_TYPES,
    SUBSUMPTIONS,
    TYPE,
    UnsupportedConstruct,
)
from crinkkg.terms import to_oxigraph
from crinkkg.vocab import OWL_NS, RDF_LANGSTRING, XSD_STRING

__all__ = ["InStoreResult", "InStoreUnsupported", "LocalStore", "SparqlStore",
           "reason_in_store"]

MARKER_GRAPH = "urn:x-crinkkg:in-store:fired"  # + ":" + a digest of the inferred graph's IRI
#: where the merge of many asserted graphs is copied for the rules to read (per inferred graph)
WORK_GRAPH = "urn:x-crinkkg:in-store:asserted:"
#: above this many asserted graphs the rules read one copy of their merge: Virtuoso's cost
#: of a query grows with the number of graphs in its dataset, and every rule update names
#: them all (measured in bench/README.md, reasoning inside a remote store)
MERGE_ABOVE = 50
_LITERAL_PROXY = re.compile(r"<" + re.escape(LITERAL_PROXY) + r"\d+>")
_TRANSITIVE = re.compile(r"(\?\w+) (<[^>]+>)\+ (\?\w+) \.")
_SVF_TYPED = re.compile(r" \?v a (<[^>]+>) \.")


def marker_graph(inferred: str) -> str:
    """The scratch graph that records which rule fired: one per inferred graph, so that runs
    into different inferred graphs of one store do not see each other's markers."""
    return f"{MARKER_GRAPH}:{hashlib.sha256(inferred.encode()).hexdigest()[:16]}"


class SparqlStore(Protocol):
    """What the reasoner needs of a store: SPARQL 1.1 query and update."""

    def select(self, sparql: str) -> list[dict]:
        """The bindings of a SELECT, as SPARQL 1.1 JSON results (``{"type", "value", ...}``)."""
        ...

    def ask(self, sparql: str) -> bool:
        """The answer of an ASK."""
        ...

    def update(self, sparql: str) -> None:
        """Run a SPARQL 1.1 update."""
        ...


class LocalStore:
    """A :class:`pyoxigraph.Store` as a :class:`SparqlStore` (the reference; tests)."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def select(self, sparql: str) -> list[dict]:
        data = self.store.query(sparql).serialize(format=ox.QueryResultsFormat.JSON)
        return json.loads(data)["results"]["bindings"]

    def ask(self, sparql: str) -> bool:
        return bool(self.store.query(sparql))

    def update(self, sparql: str) -> None:
        self.store.update(sparql)


class InStoreError(CrinkError):
    """The store refused or failed a request of the reasoner."""


class InStoreUnsupported(CrinkError):
    """The data uses a construct that in-store reasoning does not reproduce."""


@dataclass
class InStoreResult:
    """What in-store reasoning did: the size of the inferred graph, what its clean-up removed,
    the inconsistencies found (owlrl's messages), the updates sent and the time taken."""

    inferred: int
    removed: Counter[str] = field(default_factory=Counter)
    inconsistencies: list[Inconsistency] = field(default_factory=list)
    updates: int = 0
    seconds: float = 0.0


def _term(binding: dict):
    """A SPARQL JSON binding as an rdflib term (plain strings without a datatype, as
    :func:`crinkkg.terms.to_rdflib` makes them)."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    lang = binding.get("xml:lang")
    if lang:
        return Literal(value, lang=lang)
    dt = binding.get("datatype")
    return Literal(value, datatype=None if dt in (None, XSD_STRING) else URIRef(dt))


def _nt(term) -> str:
    return str(to_oxigraph(term))


class _InStore:
    """One run of the compiled rules in a SPARQL store.

    Composes the pieces of :mod:`crinkkg.reasoning.rules`: it is the fixpoint's
    :class:`~crinkkg.reasoning.rules.fixpoint.RuleStore` and the checks'
    :class:`~crinkkg.reasoning.rules.checks.Queryable`, each request sent to the store, and
    :meth:`insert` is the :class:`~crinkkg.reasoning.rules.compiler.UpdateForm` its rules are
    compiled with. Only the TBox, and the schema closure and datatype axioms derived from it,
    are kept in this process.
    """

    def __init__(self, remote: SparqlStore, graphs: Sequence[str], inferred: str) -> None:
        self.terms = Terms()
        self.remote, self.graphs, self.inferred = remote, list(graphs), inferred
        self.from_all = " ".join(f"FROM <{g}>" for g in [*self.graphs, inferred])
        self.from_asserted = " ".join(f"FROM <{g}>" for g in self.graphs)
        self.using = " ".join(f"USING <{g}>" for g in [*self.graphs, inferred])
        self.axiom_nodes: set = set()
        self.removed: Counter[str] = Counter()
        self.messages = Messages()
        #: the asserted schema triples, as the engine's terms (read by :meth:`read_schema`)
        self.schema_input: set[tuple] = set()
        #: the schema closure and the datatype axioms: TBox-sized, kept here
        self.extra: list[tuple] = []
        #: what the last compiled TBox implies (read by the update form and the literal checks)
        self.consequences: Consequences | None = None
        self.literal_props: set[str] = set()
        self.reads_anything: set[str] = set()
        self.asserted_literal_props: set[str] = set()
        self.markers = marker_graph(inferred)
        #: rule updates sent so far
        self.fired = 0

    # -- terms ---------------------------------------------------------------------------

    def node(self, binding: dict):
        """A remote term as the engine's term (blank nodes and literals as proxies)."""
        t = _term(binding)
        return ox.NamedNode(str(t)) if isinstance(t, URIRef) else self.terms.store(t)

    def text(self, sparql: str) -> str:
        """Literal proxies back to literals: the store holds the literals themselves."""
        return _LITERAL_PROXY.sub(
            lambda m: _nt(self.terms.literals[ox.NamedNode(m.group(0)[1:-1])]), sparql)

    def remote_triples(self, where: str, project: str, p=None):
        """Triples of the merge (asserted and inferred) as the engine's terms."""
        rows = self.remote.select(f"SELECT DISTINCT {project} {self.from_all} "
                                  f"WHERE {{ {where} }}")
        for r in rows:
            if p is None:
                yield self.node(r["s"]), self.node(r["p"]), self.node(r["o"])
            else:
                yield self.node(r["s"]), p, self.node(r["o"])

    # -- the compiled rules, in the store's form -------------------------------------------

    def compile(self, schema: Schema) -> RuleSet:
        """The local rules in the store's form, and the types that the local engine reaches
        through an inverse of a literal-valued triple (``"v" p- ?x``, then p-'s range):
        straight from ``?x p "v"``. A rule that reads a literal's class reads more than it
        says."""
        cons = self.consequences = Consequences(schema, self.terms)
        compiler = RuleCompiler(cons, self.insert)
        singles = compiler.single_premise_rules()
        pairs = [f"({p} {c})" for p, (_f, bwd, st, _ot) in cons.prop_closure.items()
                 if bwd and p.value in self.asserted_literal_props for c in st]
        if pairs:
            singles.append(Rule(self.insert(
                ["?x a ?c ."], "VALUES (?p ?c) { %s } ?x ?p ?y . FILTER(isLiteral(?y))"
                % " ".join(pairs), "?x a ?c .", "?x ?c"), None, None))
        joins, producers = compiler.join_rules()
        joins = [r._replace(reads=None) if any(w in r.sparql for w in self.reads_anything)
                 else r for r in joins]
        return RuleSet(singles, joins, compiler.equality_rules(), producers)

    def insert(self, template: list[str], where: str, guard: str | None,
               project: str | None = None) -> str:
        """The store's :class:`~crinkkg.reasoning.rules.compiler.UpdateForm`: the derived
        triples into the inferred graph, the rule reading the merge through ``USING``."""
        binds: dict[str, str] = {}
        body = []
        for item in dict.fromkeys(template):
            s, p, rest = item.split(" ", 2)
            if s.startswith("<" + LITERAL_PROXY):
                continue  # a literal subject: owlrl's generalized triple, not storable
            if s.startswith("?"):
                binds[s] = f"BIND(IF(isLiteral({s}), ?unbound__, {s}) AS {s}__s)"
                s += "__s"
            if p.startswith("?"):
                binds[p] = f"BIND(IF(isIRI({p}), {p}, ?unbound__) AS {p}__p)"
                p += "__p"
            body.append(f"{s} {p} {rest}")
        where = _TRANSITIVE.sub(r"\1 \2 ?t__ . ?t__ \2* \3 .", where)
        typed = _SVF_TYPED.search(where)  # cls-svf1: ?v may be a literal of class y
        literal = self._literal_test(ox.NamedNode(typed.group(1)[1:-1])) if typed else None
        if literal:
            where = where.replace(typed.group(0), f" FILTER(EXISTS {{ ?v a {typed.group(1)} }} "
                                                  f"|| (isLiteral(?v) && ({literal}))) ")
            self.reads_anything.add(where)
        if project:
            where = f"{{ SELECT DISTINCT {project} WHERE {{ {where} }} }}"
        nx = ""
        if guard:
            subject = guard.split(" ", 1)[0]
            if subject.startswith("?"):
                nx += f" FILTER(!isLiteral({subject}))"
            nx += f" FILTER NOT EXISTS {{ {guard} }}"
        return (f"INSERT {{ GRAPH <{self.inferred}> {{ {' '.join(body)} }} "
                f"GRAPH <{self.markers}> {{ <{MARKER_GRAPH}> <{MARKER_GRAPH}> {{marker}} }} }} "
                f"{self.using} WHERE {{ {where} {' '.join(binds.values())}{nx} }}")

    def _literal_test(self, c) -> str | None:
        """When a literal ``?v`` is a ``c`` for the local engine (which types literals, dt-type2
        and ranges), as a SPARQL condition; None when no literal can be."""
        dts = self._datatypes_of(c)
        props = sorted(str(p) for p, (_f, _b, _st, ot) in self._consequences.prop_closure.items()
                       if c in ot)
        tests = [f"DATATYPE(?v) IN ({', '.join(dts)})"] if dts else []
        if props:
            tests.append(f"EXISTS {{ ?s__ ?q__ ?v VALUES ?q__ {{ {' '.join(props)} }} }}")
        return " || ".join(tests) or None

    @property
    def _consequences(self) -> Consequences:
        assert self.consequences is not None, "read after the rules are compiled"
        return self.consequences

    # -- the fixpoint's RuleStore --------------------------------------------------------------

    def apply(self, rule: Rule) -> bool:
        self.fired += 1
        marker = f"<{MARKER_GRAPH}:{self.fired}>"
        self.remote.update(f"PREFIX owl: <{OWL_NS}> "
                           + self.text(rule.sparql.replace("{marker}", marker)))
        return self.remote.ask(f"ASK {{ GRAPH <{self.markers}> {{ <{MARKER_GRAPH}> "
                               f"<{MARKER_GRAPH}> {marker} }} }}")

    def add(self, triples: Iterable[tuple]) -> None:
        """Keeps the schema closure and the datatype axioms here, and writes to the inferred
        graph those that the clean-up would keep."""
        lines = []
        back = self.terms.back
        for triple in triples:
            self.extra.append(triple)
            t = tuple(back(x) for x in triple)
            why = reasoning.removal_reason(t, self.axiom_nodes)
            if why:
                self.removed[why] += 1
            elif any(isinstance(x, BNode) for x in t):
                self.removed["unstorable-blank-node"] += 1  # a fresh blank node would not be it
            else:
                lines.append(" ".join(_nt(x) for x in t) + " .")
        for i in range(0, len(lines), 5000):
            self.remote.update(f"INSERT DATA {{ GRAPH <{self.inferred}> {{ "
                               + "\n".join(lines[i:i + 5000]) + " } }")

    def triples_with(self, p: ox.NamedNode) -> list[tuple]:
        found = [t for t in self.extra if t[1] == p]
        found += self.remote_triples(f"?s <{p.value}> ?o", "?s ?o", p)
        return found

    def schema_triples(self) -> set[tuple]:
        preds = " ".join(str(p) for p in SCHEMA_PREDICATES)
        types = " ".join(str(c) for c in SCHEMA_TYPES)
        where = (f"{{ VALUES ?p {{ {preds} }} ?s ?p ?o }} UNION "
                 f"{{ VALUES ?o {{ {types} }} ?s a ?o BIND({TYPE} AS ?p) }}")
        return set(self.remote_triples(where, "?s ?p ?o"))

    def has_same_as(self) -> bool:
        return self.remote.ask(f"ASK {self.from_all} {{ ?x <{OWL.sameAs}> ?y }}")

    # -- the checks' Queryable -------------------------------------------------------------

    def select(self, where: str) -> list[dict]:
        rows = self.remote.select(f"PREFIX owl: <{OWL_NS}> SELECT * {self.from_all} "
                                  f"WHERE {{ {self.text(where)} }}")
        return [{k: self.node(v) for k, v in r.items()} for r in rows]

    def ask(self, pattern: str) -> bool:
        return self.remote.ask(f"PREFIX owl: <{OWL_NS}> ASK {self.from_all} "
                               f"{{ {self.text(pattern)} }}")

    # -- what the local engine does with its store, done in the store ---------------------

    def datatype_axioms(self) -> list[tuple]:
        """owlrl's datatype axioms for the datatypes in use; ill-typed literals reported.

        Literals are not typed in the store (they cannot be subjects): see
        :meth:`check_literals`."""
        # GROUP BY, not DISTINCT over an expression, which Virtuoso evaluates slowly on
        # large graphs (bench/README.md)
        rows = self.remote.select(f"SELECT ?p ?d {self.from_asserted} WHERE {{ ?s ?p ?o "
                                  "FILTER(isLiteral(?o)) BIND(DATATYPE(?o) AS ?d) } GROUP BY ?p ?d")
        self.asserted_literal_props = {r["p"]["value"] for r in rows}
        used: set[str] = set()
        seen: set[str] = set()
        for r in rows:
            dt = r.get("d", {}).get("value")
            if dt in (None, XSD_STRING, RDF_LANGSTRING) or dt not in RL_DATATYPES \
                    or dt in seen:  # rdflib gives plain and language strings no datatype
                continue
            seen.add(dt)
            used.add(dt)
            used.update(SUBSUMPTIONS.get(dt, ()))
            lexical = LEXICAL_CHECKS.get(URIRef(dt))
            if lexical is None:
                continue
            props = " ".join(f"<{r['p']['value']}>" for r in rows
                             if r.get("d", {}).get("value") == dt)
            lits = self.remote.select(  # by property: an index, not a scan, on Virtuoso
                f"SELECT DISTINCT ?o {self.from_asserted} WHERE {{ VALUES ?p {{ {props} }} "
                f"?s ?p ?o FILTER(isLiteral(?o) && DATATYPE(?o) = <{dt}>) }}")
            for lit in lits:
                value = lit["o"]["value"]
                try:
                    lexical(value)
                except ValueError:
                    self.messages.add("Lexical value of the literal '%s' does not match its "
                                      "datatype (%s)" % (value, dt))
        return [(ox.NamedNode(a), DISJOINT_WITH, ox.NamedNode(b))
                for a, b in DATATYPE_DISJOINTNESS if a in used and b in used]

    def read_schema(self) -> None:
        """The TBox and the blank nodes that encode axioms, from the asserted graphs."""
        owl_typed = " ".join(f"<{c}>" for c in (OWL.Restriction, OWL.Class,
                                                OWL.AllDisjointClasses))
        where = (f"{{ ?s ?p ?o FILTER(isBlank(?s) && (STRSTARTS(STR(?p), \"{OWL_NS}\") "
                 f"|| ?p IN (<{RDF.first}>, <{RDF.rest}>) || (?p = <{RDF.type}> && "
                 f"?o IN ({owl_typed.replace('> <', '>, <')})))) }} "
                 f"UNION {{ ?s ?p ?o FILTER(?p = <{RDF.rest}>) }}")
        rows = self.remote.select(f"SELECT DISTINCT ?s ?p ?o {self.from_asserted} "
                                  f"WHERE {{ {where} }}")
        from rdflib import Graph

        g = Graph()
        for r in rows:
            g.add((_term(r["s"]), _term(r["p"]), _term(r["o"])))
        self.axiom_nodes = reasoning.axiom_blank_nodes(g)
        self.schema_input = self.schema_triples()
        explicit = " ".join(f"<{d}>" for d in sorted(RL_DATATYPES))
        if self.remote.ask(f"ASK {self.from_asserted} {{ {{ ?x a ?d VALUES ?d {{ {explicit} }} }}"
                           f" UNION {{ ?x <{OWL.sameAs}> ?y FILTER(isLiteral(?y)) }} }}"):
            raise InStoreUnsupported(
                "a resource is typed with an XSD datatype or owl:sameAs a literal (owlrl's "
                "explicit datatype handling), which in-store reasoning does not reproduce",
                hint="reason locally (crinkkg build), which falls back to owlrl for it")
        anonymous = " ".join(f"<{p}>" for p in (OWL.onProperty, OWL.intersectionOf,
                                                OWL.unionOf, OWL.oneOf, OWL.complementOf))
        rows = self.remote.select(
            f"SELECT ?x ?b {self.from_asserted} WHERE {{ ?x a ?b FILTER(isBlank(?b)) "
            f"FILTER EXISTS {{ ?b ?q ?r VALUES ?q {{ {anonymous} }} }} }} LIMIT 1")
        if rows:
            raise InStoreUnsupported(
                f"{_term(rows[0]['x'])} is typed with an anonymous class expression (a blank "
                "node): a rule cannot name a blank node of the store, so in-store reasoning "
                "would miss what follows from it",
                hint="give the class expression an IRI, or reason locally (crinkkg build)")

    def check_literals(self, schema: Schema) -> None:
        """cax-dw/cax-adc for literals: the local engine types each literal with its datatype
        (dt-type2) and with its property's ranges, then finds one typed with two disjoint
        classes; here both typings are patterns of one query."""
        sc = schema
        rows = self.remote.select(f"SELECT DISTINCT ?p WHERE {{ GRAPH <{self.inferred}> "
                                  "{ ?s ?p ?o FILTER(isLiteral(?o)) } }")
        self.literal_props = self.asserted_literal_props | {r["p"]["value"] for r in rows}
        pairs = list(sc.by_p.get(DISJOINT_WITH, ()))
        for x in sc.subjects(TYPE, ALL_DISJOINT_CLASSES):
            for head in sc.objects(x, MEMBERS):
                classes = sc.items(head)
                pairs += [(classes[i], c2) for i in range(len(classes) - 1)
                          for c2 in classes[i + 1:]]
        for c1, c2 in pairs:
            r1, r2 = self._range_props(c1), self._range_props(c2)
            d1, d2 = self._datatypes_of(c1), self._datatypes_of(c2)
            parts = []
            if r1 and (d2 or r2):
                cond = [f"DATATYPE(?x) IN ({', '.join(d2)})"] if d2 else []
                if r2:
                    cond.append(f"EXISTS {{ ?s2 ?p2 ?x VALUES ?p2 {{ {' '.join(r2)} }} }}")
                parts.append(f"{{ ?s1 ?p1 ?x VALUES ?p1 {{ {' '.join(r1)} }} "
                             f"FILTER(isLiteral(?x) && ({' || '.join(cond)})) }}")
            if r2 and d1:
                parts.append(f"{{ ?s2 ?p2 ?x VALUES ?p2 {{ {' '.join(r2)} }} "
                             f"FILTER(isLiteral(?x) && DATATYPE(?x) IN ({', '.join(d1)})) }}")
            if not parts:
                continue
            for r in self.remote.select(f"SELECT DISTINCT ?x {self.from_all} WHERE "
                                        f"{{ {' UNION '.join(parts)} }}"):
                self.messages.add("Disjoint classes %s and %s have a common individual %s"
                            % (self.terms.back(c1), self.terms.back(c2), _term(r["x"])))

    def _range_props(self, c) -> list[str]:
        """Properties with a literal value whose range makes that value a ``c``."""
        return sorted(str(p) for p, (_f, _b, _st, ot) in self._consequences.prop_closure.items()
                      if c in ot and p.value in self.literal_props)

    def _datatypes_of(self, c) -> list[str]:
        out = []
        for d in sorted(RL_DATATYPES):
            if d in (XSD_STRING, RDF_LANGSTRING, str(RDF.PlainLiteral)):
                continue  # an untyped literal in the local engine
            own = [d, *SUBSUMPTIONS.get(d, ())]
            if any(c in self._consequences.types_of(ox.NamedNode(x)) for x in own):
                out.append(f"<{d}>")
        return out

    def clean(self) -> None:
        """The local clean-up (:func:`crinkkg.reasoning.removal_reason`), as DELETEs."""
        inf = f"<{self.inferred}>"
        graphs = " ".join(f"<{g}>" for g in self.graphs)
        iri = lambda v: f"(isIRI({v}) && STRSTARTS(STR({v}), \"{PROXY_PREFIX}\"))"  # noqa: E731
        vocab = " || ".join(f"STRSTARTS(STR(?s), \"{ns}\")"
                            for ns in reasoning.VOCABULARY_NAMESPACES)
        reflexive = ", ".join(f"<{p}>" for p in reasoning.REFLEXIVE_NOISE)
        top = ", ".join(f"<{c}>" for c in reasoning.TOP_CLASSES)
        top_p = ", ".join(f"<{p}>" for p in (RDF.type, RDFS.subClassOf, RDFS.domain,
                                              RDFS.range))
        axiom = (f"{{ ?n ?q ?r FILTER(STRSTARTS(STR(?q), \"{OWL_NS}\") || ?q IN (<{RDF.first}>, "
                 f"<{RDF.rest}>) || (?q = <{RDF.type}> && ?r IN (<{OWL.Restriction}>, "
                 f"<{OWL.Class}>, <{OWL.AllDisjointClasses}>))) }} UNION {{ ?m <{RDF.rest}> ?n }}")
        axiom_s, axiom_o = axiom.replace("?n", "?s"), axiom.replace("?n", "?o")
        steps = [
            ("proxy", f"FILTER({iri('?s')} || {iri('?p')} || {iri('?o')})", ""),
            ("asserted", f"VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }}", ""),
            ("reflexive", f"FILTER(sameTerm(?s, ?o) && ?p IN ({reflexive}))", ""),
            ("axiom-blank-node", f"FILTER((isBlank(?s) && EXISTS {{ {axiom_s} }}) || "
             f"(isBlank(?o) && EXISTS {{ {axiom_o} }}))",
             " ".join(f"USING <{g}>" for g in self.graphs) + f" USING NAMED {inf}"),
            ("vocabulary", f"FILTER((isIRI(?s) && ({vocab})) || (?o IN ({top}) && "
             f"?p IN ({top_p})))", ""),
        ]
        for name, where, using in steps:
            pattern = f"GRAPH {inf} {{ ?s ?p ?o }} {where}"
            n = self._count(pattern, using)
            if n:
                self.removed[name] += n
                self.remote.update(f"DELETE {{ GRAPH {inf} {{ ?s ?p ?o }} }} {using} "
                                   f"WHERE {{ {pattern} }}")

    def _count(self, pattern: str, using: str) -> int:
        src = using.replace("USING NAMED", "FROM NAMED").replace("USING", "FROM")
        rows = self.remote.select(f"SELECT (COUNT(*) AS ?n) {src} WHERE {{ {pattern} }}")
        return int(rows[0]["n"]["value"]) if rows else 0


def _copy_merge(store: SparqlStore, graphs: Sequence[str], work: str) -> None:
    """The RDF merge of ``graphs`` into ``work`` (replaced), a hundred graphs a request."""
    store.update(f"DROP SILENT GRAPH <{work}>")
    for i in range(0, len(graphs), 100):
        values = " ".join(f"<{g}>" for g in graphs[i:i + 100])
        store.update(f"INSERT {{ GRAPH <{work}> {{ ?s ?p ?o }} }} WHERE {{ "
                     f"VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")


def reason_in_store(store: SparqlStore, asserted_graphs: Sequence[str], inferred_graph: str,
                    *, merge_above: int = MERGE_ABOVE) -> InStoreResult:
    """Materialise the OWL 2 RL closure of the named ``asserted_graphs`` of ``store`` into its
    ``inferred_graph`` (replaced), in the store, and check it for inconsistencies.

    The same inferred triples and messages as :func:`crinkkg.reasoning.rules.reason` over
    the merge of those graphs, except for what the module docstring lists. With more than
    ``merge_above`` graphs the rules read a working copy of their merge (see
    :data:`MERGE_ABOVE`), dropped at the end.
    """
    if inferred_graph in asserted_graphs:
        raise InStoreError(f"the inferred graph <{inferred_graph}> is one of the asserted "
                           "graphs: reasoning would replace asserted data",
                           hint="name an inferred graph of its own")
    for g in [*asserted_graphs, inferred_graph]:
        if not re.fullmatch(r"[A-Za-z][\w+.-]*:[^<>\"{}|^`\\\s]*", g):
            raise InStoreError(f"not an absolute IRI: {g!r}",
                               hint="name graphs by absolute IRIs")
    started = time.perf_counter()
    store.update(f"DROP SILENT GRAPH <{inferred_graph}>")
    markers = marker_graph(inferred_graph)
    store.update(f"DROP SILENT GRAPH <{markers}>")
    work = f"{WORK_GRAPH}{inferred_graph}" if len(asserted_graphs) > merge_above else None
    try:
        if work:
            _copy_merge(store, asserted_graphs, work)
        engine = _InStore(store, [work] if work else asserted_graphs, inferred_graph)
        engine.read_schema()
        try:
            engine.add(engine.datatype_axioms())
            schema = close(engine, engine.schema_input, engine.terms, engine.compile)
        except UnsupportedConstruct as exc:
            raise InStoreUnsupported(f"the TBox uses a construct the compiled rules do not "
                                     f"reproduce: {exc}",
                                     hint="reason locally (crinkkg build), which falls back "
                                          "to owlrl for it") from None
        check(schema, engine, engine.terms, engine.messages)
        engine.check_literals(schema)
        engine.clean()
    finally:
        store.update(f"DROP SILENT GRAPH <{markers}>"
                     + (f" ; DROP SILENT GRAPH <{work}>" if work else ""))
    rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{inferred_graph}> "
                        "{ ?s ?p ?o } }")
    return InStoreResult(int(rows[0]["n"]["value"]), engine.removed,
                         reasoning.inconsistencies_from(engine.messages), engine.fired,
                         time.perf_counter() - started)
