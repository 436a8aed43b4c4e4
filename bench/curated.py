"""The curated graph itself as a scale of the benchmark (``--scales curated,...``).

The synthetic scales say how crinkkg grows; the curated graph (``data/``, a few thousand
triples) is what people query. At that scale the benchmark serves the project's own build,
picks the query mix's entities from it by the rules the generator uses for its own graphs
(:func:`sample`), and adds the ``session`` cell: the bundled competency queries
(``src/crinkkg/queries``), sent in turn on every connection as an analyst's session sends
them.
"""

from __future__ import annotations

from pathlib import Path

from .queries import BenchQuery

ROOT = Path(__file__).resolve().parent.parent
NAME = "curated"
DATA = ROOT / "data"
CRINK = "https://w3id.org/crinkkg/ontology#"


def is_curated(scale: str) -> bool:
    return scale == NAME


def asserted_triples(data: Path = DATA) -> int:
    """The triples of the curated data files (the ontology not counted), as the synthetic
    scales count theirs."""
    import pyoxigraph as ox

    return sum(1 for path in sorted(data.glob("*.ttl"))
               for _ in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))


def sample(db: Path) -> dict[str, str]:
    """The entities the query mix names, chosen from the built store for what each query
    asks of it (the generator's graph has them by construction; the curated graph has a
    handful of states): the transfer in the middle of all of them by IRI; as the hub (the
    construct's supplier) the state supplying the most arms transfers; as the ally (the
    path's start) the state taking part in the most transfers among those with an ally; as
    the mid-ranked state (DESCRIBE) the one a quarter down the states ranked by the
    transfers they take part in. Ties go by IRI."""
    import pyoxigraph as ox

    def column(store: ox.Store, sparql: str) -> list[str]:
        return [row[0].value for row in store.query(
            f"PREFIX crink: <{CRINK}> " + sparql, use_default_graph_as_union=True)]

    store = ox.Store.read_only(str(db))
    try:
        transfers = sorted(column(store, "SELECT DISTINCT ?t WHERE { ?t a crink:Transfer }"))
        ranked = column(store, """SELECT ?s (COUNT(DISTINCT ?t) AS ?n) WHERE {
  ?t a crink:Transfer . { ?t crink:supplier ?s } UNION { ?t crink:recipient ?s }
  ?s a crink:State } GROUP BY ?s ORDER BY DESC(?n) STR(?s)""")
        suppliers = column(store, """SELECT ?s (COUNT(DISTINCT ?t) AS ?n) WHERE {
  ?t a crink:ArmsTransfer ; crink:armsSupplier ?s } GROUP BY ?s ORDER BY DESC(?n) STR(?s)""")
        allied = set(column(store, "SELECT DISTINCT ?s WHERE { ?s crink:alliedWith ?o }"))
    finally:
        del store
    allies = [s for s in ranked if s in allied]
    if not transfers or not ranked or not suppliers or not allies:
        raise RuntimeError(f"the store at {db} names {len(transfers)} transfers, "
                           f"{len(ranked)} states taking part in them, {len(suppliers)} arms "
                           f"suppliers and {len(allies)} allied states: the query mix needs "
                           "one of each (is the build complete?)")
    return {"transfer": transfers[len(transfers) // 2], "state_hub": suppliers[0],
            "state_mid": ranked[len(ranked) // 4], "state_ally": allies[0]}


def answered(db: Path, mix: list[BenchQuery]) -> tuple[list[BenchQuery], list[str]]:
    """The queries of ``mix`` that find something in the store at ``db``, and the names of
    those that do not (no rows, no triples, or only counts of zero): a query of the
    generator's mix that finds nothing in the curated graph would measure an empty scan."""
    import pyoxigraph as ox

    def finds(store: ox.Store, q: BenchQuery) -> bool:
        result = store.query(q.text, use_default_graph_as_union=True)
        if isinstance(result, ox.QuerySolutions):
            return any(any(term is not None and term.value != "0" for term in row)
                       for row in result)
        return any(True for _ in result)

    store = ox.Store.read_only(str(db))
    try:
        kept = [q for q in mix if finds(store, q)]
    finally:
        del store
    return kept, [q.name for q in mix if q not in kept]


def session() -> BenchQuery:
    """The bundled competency queries, each a request, sent in turn."""
    from crinkkg.examples import examples

    found = examples()
    texts = tuple(e.sparql for e in found)
    return BenchQuery("session", "session", "SELECT", texts[0],
                      f"the {len(texts)} bundled competency queries "
                      f"({found[0].name} to {found[-1].name}), in turn on every connection",
                      texts)
