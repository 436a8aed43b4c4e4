"""``DESCRIBE`` over a remote store, answered as the embedded engine answers it.

SPARQL 1.1 leaves a DESCRIBE's answer to the service, and stores differ: Virtuoso 7.2 adds
the triples whose object is the resource, and no store follows crinkkg's blank nodes, which
it holds as skolem IRIs (see :mod:`crinkkg.backends.publish`). The embedded engine gives
each resource's concise bounded description: the triples whose subject it is, and those of
every blank node reached from them. So the remote backend does not send a DESCRIBE; it asks
for that description in steps that every SPARQL 1.1 store answers alike:

1. the resources: the DESCRIBE's variables as a ``SELECT`` over its ``WHERE`` clause and
   solution modifiers (an ``ASK`` when it names only IRIs: they are described when the
   pattern has a solution), the IRIs it names as they are;
2. their triples: one ``CONSTRUCT`` per batch of resources;
3. the triples of the blank nodes reached, batch after batch, until none is new.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyoxigraph as ox

from crinkkg.backends.dialects import GENID, ask_answer
from crinkkg.backends.manifest import RESULTS_JSON
from crinkkg.backends.sparql_client import Response, SparqlClient
from crinkkg.sparqltext import Unreadable, tokenize

NTRIPLES = "application/n-triples"
#: resources per CONSTRUCT: a short request for any store, few round trips for most answers
BATCH = 200


@dataclass(frozen=True)
class DescribeParts:
    """A DESCRIBE query taken apart: what comes before it, what it names, where it reads."""

    prologue: str  # PREFIX and BASE declarations, as written
    variables: tuple[str, ...]  # ``?x`` as written; ("*",) for ``DESCRIBE *``
    iris: tuple[str, ...]  # IRIs and prefixed names, as written
    dataset: str  # FROM / FROM NAMED clauses, as written
    pattern: str  # WHERE clause, solution modifiers and VALUES; "" when there is none

    def resources_query(self) -> str | None:
        """The query whose answer gives the resources to describe (None when the DESCRIBE
        has no WHERE clause: it describes the IRIs it names)."""
        if not self.pattern:
            return None
        if self.variables:
            return f"{self.prologue}SELECT {' '.join(self.variables)} {self.dataset} {self.pattern}"
        return f"{self.prologue}ASK {self.dataset} {self.pattern}"

    def triples_query(self, resources: list[str]) -> str:
        """The triples whose subject is one of ``resources`` (absolute IRIs)."""
        values = " ".join(f"<{r}>" for r in resources)
        return (f"{self.prologue}CONSTRUCT {{ ?s ?p ?o }} {self.dataset} "
                f"WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}")


def describe_parts(sparql: str) -> DescribeParts | None:
    """The parts of a DESCRIBE query, or None for any other text.

    >>> p = describe_parts("PREFIX id: <urn:id:> DESCRIBE id:a ?x FROM <urn:g> "
    ...                    "WHERE { ?x ?p id:a } LIMIT 2")
    >>> (p.iris, p.variables, p.dataset, p.pattern)
    (('id:a',), ('?x',), 'FROM <urn:g>', 'WHERE { ?x ?p id:a } LIMIT 2')
    >>> p.resources_query()
    'PREFIX id: <urn:id:> SELECT ?x FROM <urn:g> WHERE { ?x ?p id:a } LIMIT 2'
    >>> describe_parts("DESCRIBE <urn:a>").resources_query() is None
    True
    >>> describe_parts("SELECT * { ?s ?p ?o }") is None
    True
    """
    try:
        tokens = tokenize(sparql)
    except Unreadable:
        return None
    at = next((i for i, t in enumerate(tokens)
               if t.is_word("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")), None)
    if at is None or not tokens[at].is_word("DESCRIBE"):
        return None
    variables: list[str] = []
    iris: list[str] = []
    i = at + 1
    while i < len(tokens):
        t = tokens[i]
        if t.kind == "var" or t.value == "*":
            variables.append(t.value)
        elif t.kind in ("iri", "pname"):
            iris.append(t.value)
        else:
            break
        i += 1
    first = i
    while i < len(tokens) and tokens[i].is_word("FROM"):
        i += 1
        if i < len(tokens) and tokens[i].is_word("NAMED"):
            i += 1
        i += 1  # the graph's IRI
    i = min(i, len(tokens))
    dataset = sparql[tokens[first].start:tokens[i - 1].end] if i > first else ""
    pattern = sparql[tokens[i].start:].strip() if i < len(tokens) else ""
    return DescribeParts(prologue=sparql[:tokens[at].start], variables=tuple(variables),
                         iris=tuple(iris), dataset=dataset,
                         pattern=pattern)


def describe(client: SparqlClient, parts: DescribeParts, *, default_graphs: list[str] | None,
             named_graphs: list[str] | None, max_triples: int) -> Response:
    """The embedded engine's DESCRIBE answer, asked of the store in steps, as N-Triples
    (blank nodes as the store holds them: skolem IRIs). Stops asking once the answer holds
    more than ``max_triples`` triples: the caller refuses it then, as the engine would."""
    def ask(sparql: str, accept: str, named: list[str] | None) -> Response:
        return client.query(sparql, accept=accept, default_graphs=default_graphs or None,
                            named_graphs=named or None)

    resources: list[str] = []
    found = parts.resources_query()
    if found is None:
        resources += _absolute(parts)
    else:
        answer = json.loads(ask(found, RESULTS_JSON, named_graphs).body)
        if parts.variables:
            rows = answer.get("results", {}).get("bindings", [])
            if rows:
                resources += _absolute(parts)
            resources += [term["value"] for row in rows for term in row.values()
                          if term.get("type") == "uri"]
        elif ask_answer(answer):
            resources += _absolute(parts)
    todo = list(dict.fromkeys(resources))
    seen = set(todo)
    triples: dict[tuple[str, str, str], None] = {}
    while todo and len(triples) <= max_triples:
        batch, todo = todo[:BATCH], todo[BATCH:]
        body = ask(parts.triples_query(batch), NTRIPLES, None).body
        for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES):
            triples[(str(t.subject), str(t.predicate), str(t.object))] = None
            o = t.object
            if isinstance(o, ox.NamedNode) and o.value.startswith(GENID) \
                    and o.value not in seen:
                seen.add(o.value)
                todo.append(o.value)
    body = "".join(f"{s} {p} {o} .\n" for s, p, o in triples).encode()
    return Response(200, NTRIPLES, body)


def _absolute(parts: DescribeParts) -> list[str]:
    """The IRIs the DESCRIBE names, resolved against its prologue (the store's parser
    would resolve them the same way; this one is the embedded engine's)."""
    if not parts.iris:
        return []
    probe = f"{parts.prologue}SELECT * WHERE {{ VALUES ?r {{ {' '.join(parts.iris)} }} }}"
    rows = ox.Store().query(probe)
    return [row["r"].value for row in rows]  # type: ignore[union-attr]
