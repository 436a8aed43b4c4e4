"""The fixed query mix. Every query declares its prefixes (the peers have no defaults) and
reads the default graph, which every server under test makes the union of all graphs
(asserted + inferred), so that inferred links (``crink:supplier``, ``crink:alliedWith``,
``crink:supplies``) are visible everywhere. Years are read through a claim's time spec
(``crink:hasTime/crink:year``, an integer): claims with a relative time ("recently") have
no year and drop out of the year filters, as in any query of the curated graph.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIXES = """PREFIX crink: <https://w3id.org/crinkkg/ontology#>
PREFIX id: <https://w3id.org/crinkkg/id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""

SELECT_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples"


@dataclass(frozen=True)
class BenchQuery:
    name: str
    kind: str  # "cheap" (bound by the HTTP stack) or "engine" (bound by the query engine)
    form: str  # SELECT, CONSTRUCT, DESCRIBE
    text: str
    what: str
    #: several texts sent in turn, each a distinct request (``text`` is the first)
    texts: tuple[str, ...] = ()

    @property
    def accept(self) -> str:
        return SELECT_ACCEPT if self.form == "SELECT" else GRAPH_ACCEPT


def query_mix(sample: dict[str, str]) -> list[BenchQuery]:
    """The seven queries, over the entities a synthetic graph names in ``sample``."""
    transfer, hub, mid, ally = (sample["transfer"], sample["state_hub"], sample["state_mid"],
                                sample["state_ally"])
    return [
        BenchQuery("lookup", "cheap", "SELECT",
                   PREFIXES + f"SELECT ?p ?o WHERE {{ <{transfer}> ?p ?o }}",
                   "every property of one transfer node (asserted and inferred)"),
        BenchQuery("filter", "engine", "SELECT",
                   PREFIXES + """SELECT ?t ?label ?year WHERE {
  ?t a crink:DroneTransfer ; rdfs:label ?label ; crink:hasTime/crink:year ?year .
  FILTER(?year >= 2015 && CONTAINS(?label, "Russia"))
}""",
                   "scan of drone transfers, filtered on year (through the time spec) "
                   "and label text"),
        BenchQuery("aggregate", "engine", "SELECT",
                   PREFIXES + """SELECT ?supplier (COUNT(?t) AS ?transfers)
       (COUNT(DISTINCT ?recipient) AS ?partners) WHERE {
  ?t crink:supplier ?supplier ; crink:recipient ?recipient .
} GROUP BY ?supplier ORDER BY DESC(?transfers) LIMIT 20""",
                   "transfers and partners per supplier (inferred super-properties), GROUP BY"),
        BenchQuery("join", "engine", "SELECT",
                   PREFIXES + """SELECT ?t ?supplier ?recipient WHERE {
  ?t crink:supplier ?supplier ; crink:recipient ?recipient .
}""",
                   "supplier and recipient of every transfer (inferred super-properties): "
                   "a two-pattern join, every row sent"),
        BenchQuery("path", "engine", "SELECT",
                   PREFIXES + f"""SELECT (COUNT(DISTINCT ?x) AS ?reached) WHERE {{
  <{ally}> crink:alliedWith/crink:suppliesArmsTo+ ?x .
}}""",
                   "states reached from an ally's allies by chains of arms supplies"),
        BenchQuery("describe", "cheap", "DESCRIBE",
                   PREFIXES + f"DESCRIBE <{mid}>",
                   "DESCRIBE of a mid-ranked state"),
        BenchQuery("construct", "engine", "CONSTRUCT",
                   PREFIXES + f"""CONSTRUCT {{ ?t crink:armsSupplier <{hub}> ;
    crink:armsRecipient ?to ; prov:wasDerivedFrom ?src }} WHERE {{
  ?t a crink:ArmsTransfer ; crink:armsSupplier <{hub}> ; crink:armsRecipient ?to ;
     crink:hasTime/crink:year ?year ; prov:wasDerivedFrom ?src .
  FILTER(?year >= 2020)
}}""",
                   "arms transfers (inferred class) from the hub state since 2020, as a graph"),
    ]


def varied_lookups(subjects: list[str]) -> BenchQuery:
    """The lookup of ``lookup``, of a different resource each time: what a crawler or a
    linked-data client browsing the graph sends, where nothing a server remembers of one
    request serves the next."""
    texts = tuple(PREFIXES + f"SELECT ?p ?o WHERE {{ <{s}> ?p ?o }}" for s in subjects)
    return BenchQuery("lookups", "cheap", "SELECT", texts[0],
                      f"every property of {len(texts)} different resources, one after "
                      "the other", texts)
