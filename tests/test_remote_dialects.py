"""The curated dataset served by remote stores: where their answers differ from crinkkg's
own (embedded pyoxigraph), and the portable rewrites that close each gap.

The built dataset is loaded graph by graph (Graph Store PUT) into each store. Every
competency query (src/crinkkg/queries/) runs there, with the protocol dataset naming every
graph (default-graph-uri and named-graph-uri) and with no dataset at all (the store's own
default graph: Virtuoso's union, which includes its system graphs, and an Oxigraph server
started with --union-default-graph), and is compared, as a set of rows, with the embedded
answer. The queries listed in ``GAPS`` must differ, all others must agree: the list is
docs/remote-stores.md's. Each rewrite in tests/fixtures/portable-queries/ must give the
embedded answer of the query it rewrites, row for row, on every store and embedded.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from remote_stores import (
    RemoteStore,
    StoreError,
    StoreUnavailable,
    solution_rows,
    solution_set,
    start_oxigraph,
    unavailable,
)

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "src" / "crinkkg" / "queries"
PORTABLE = ROOT / "tests" / "fixtures" / "portable-queries"
COMPETENCY = sorted(p.name for p in QUERIES.glob("*.rq"))
REWRITES = sorted(p.name for p in PORTABLE.glob("*.rq"))
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
PREFIXES = """PREFIX crink: <https://w3id.org/crinkkg/ontology#>
PREFIX id: <https://w3id.org/crinkkg/id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""

#: the competency queries whose answer differs from the embedded one (docs/remote-stores.md)
GAPS = {
    "virtuoso": {"01-crink-members.rq", "02-treaty-2024.rq", "08-references-and-claims.rq"},
    "oxigraph": set(),
}


def embedded(store, sparql: str, view: str = "all") -> list[frozenset]:
    result = store.query(sparql, view=view)
    return solution_rows(result.serialize(format=ox.QueryResultsFormat.JSON))


def original_of(rewrite: str) -> Path:
    text = (PORTABLE / rewrite).read_text(encoding="utf-8")
    match = re.match(r"# rewrites: (\S+)\n# gap: .+\n# portable: .+\n", text)
    assert match, f"{rewrite}: the first lines must be '# rewrites:', '# gap:', '# portable:'"
    return ROOT / match[1]


# -- the stores, loaded once for this module -------------------------------------------------


@pytest.fixture(scope="module")
def dataset_quads(built_store) -> list[ox.Quad]:
    """The built dataset as `crinkkg export` writes it (every graph but the hidden merge)."""
    return list(built_store.quads())


@pytest.fixture(scope="module")
def oxigraph_union(tmp_path_factory, dataset_quads) -> Iterator[RemoteStore]:
    """An Oxigraph server whose default graph is the union of its graphs, loaded."""
    try:
        store = start_oxigraph(tmp_path_factory.mktemp("oxigraph-union"),
                               union_default_graph=True)
    except StoreUnavailable as e:
        unavailable(f"oxigraph cannot start: {e}")
    try:
        store.load_quads(dataset_quads)
        yield store
    finally:
        store.stop()


@pytest.fixture(scope="module", params=["virtuoso", "oxigraph"])
def loaded(request, dataset_quads) -> tuple[RemoteStore, list[str]]:
    """Each session store, emptied and loaded with the dataset; and the graph names."""
    store: RemoteStore = request.getfixturevalue(request.param + "_server")
    store.clear()
    graphs = store.load_quads(dataset_quads)
    return store, graphs


@pytest.fixture
def union_default(loaded, request) -> RemoteStore:
    """The store whose default graph (no dataset given) is the union of all graphs."""
    store, _ = loaded
    return store if store.name == "virtuoso" else request.getfixturevalue("oxigraph_union")


def with_dataset(loaded: tuple[RemoteStore, list[str]], sparql: str) -> list[frozenset]:
    store, graphs = loaded
    return solution_rows(store.select(sparql, default_graphs=graphs, named_graphs=graphs))


def test_every_graph_is_loaded(loaded, built_store):
    store, graphs = loaded
    assert graphs == built_store.graph_names()
    count = store.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
                         named_graphs=graphs)
    assert int(count["results"]["bindings"][0]["n"]["value"]) == built_store.count()


# -- the competency queries ------------------------------------------------------------------


def _agreement(store: RemoteStore, name: str, remote: list[frozenset],
               expected: list[frozenset]) -> None:
    agrees = set(remote) == set(expected)
    if name in GAPS[store.name]:
        assert not agrees, (f"{name} now gives the embedded answer on {store.name}: take it "
                            "out of GAPS and of docs/remote-stores.md")
    else:
        missing, extra = set(expected) - set(remote), set(remote) - set(expected)
        assert agrees, (f"{name} on {store.name}: {len(missing)} rows missing, {len(extra)} "
                        f"extra (a new gap: list it in docs/remote-stores.md)\n"
                        f"missing: {sorted(map(sorted, missing))[:3]}\n"
                        f"extra: {sorted(map(sorted, extra))[:3]}")


@pytest.mark.parametrize("name", COMPETENCY)
def test_competency_query_with_the_protocol_dataset(loaded, built_store, name):
    sparql = (QUERIES / name).read_text(encoding="utf-8")
    _agreement(loaded[0], name, with_dataset(loaded, sparql), embedded(built_store, sparql))


@pytest.mark.parametrize("name", COMPETENCY)
def test_competency_query_on_the_stores_default_graph(union_default, built_store, name):
    sparql = (QUERIES / name).read_text(encoding="utf-8")
    remote = solution_rows(union_default.select(sparql))
    _agreement(union_default, name, remote, embedded(built_store, sparql))


# -- the portable rewrites -------------------------------------------------------------------


def test_every_competency_gap_has_a_rewrite():
    rewritten = {original_of(r).name for r in REWRITES if original_of(r).parent == QUERIES}
    assert rewritten == set().union(*GAPS.values())
    for rewrite in REWRITES:
        assert original_of(rewrite).is_file(), rewrite
        assert original_of(rewrite).name == rewrite


@pytest.mark.parametrize("rewrite", REWRITES)
def test_rewrite_gives_the_embedded_answer_remotely(loaded, union_default, built_store,
                                                    rewrite):
    expected = Counter(embedded(built_store, original_of(rewrite).read_text(encoding="utf-8")))
    sparql = (PORTABLE / rewrite).read_text(encoding="utf-8")
    assert Counter(with_dataset(loaded, sparql)) == expected
    assert Counter(solution_rows(union_default.select(sparql))) == expected


@pytest.mark.parametrize("view", ["all", "asserted", "inferred"])
@pytest.mark.parametrize("rewrite", REWRITES)
def test_rewrite_gives_the_embedded_answer_embedded(built_store, rewrite, view):
    original = original_of(rewrite).read_text(encoding="utf-8")
    sparql = (PORTABLE / rewrite).read_text(encoding="utf-8")
    assert Counter(embedded(built_store, sparql, view)) == Counter(
        embedded(built_store, original, view))


@pytest.mark.parametrize("rewrite", [r for r in REWRITES if r.startswith("9")])
def test_the_original_of_each_extra_rewrite_shows_its_gap_on_virtuoso(loaded, built_store,
                                                                       rewrite):
    store, _ = loaded
    original = original_of(rewrite).read_text(encoding="utf-8")
    expected = Counter(embedded(built_store, original))
    try:
        remote = Counter(with_dataset(loaded, original))
    except StoreError:
        assert store.name == "virtuoso"
        return
    assert (remote == expected) == (store.name != "virtuoso")


# -- the gaps no query rewrite closes --------------------------------------------------------


def test_virtuoso_booleans_come_back_as_integers(loaded, built_store):
    store, _ = loaded
    sparql = PREFIXES + "SELECT ?u WHERE { ?pledge crink:isUnconditional ?u }"
    [embedded_row] = embedded(built_store, sparql)
    assert embedded_row == {("u", ("literal", "true", XSD_BOOLEAN, None))}
    value = "1" if store.name == "virtuoso" else "true"
    assert with_dataset(loaded, sparql) == [{("u", ("literal", value, XSD_BOOLEAN, None))}]
    # what is portable: compare in the query, or spell the value out with IF (Virtuoso's
    # STR(?u) gives "1" or "true" depending on the query around it)
    for portable in ["SELECT ?pledge WHERE { ?pledge crink:isUnconditional ?u "
                     "FILTER (?u = true) }",
                     'SELECT ?pledge (IF(?u, "true", "false") AS ?text) WHERE { '
                     "?pledge crink:isUnconditional ?u }"]:
        expected = embedded(built_store, PREFIXES + portable)
        assert len(expected) == 1
        assert with_dataset(loaded, PREFIXES + portable) == expected


def test_virtuoso_named_graphs_ignore_a_dataset_without_named_graph_uri(loaded, built_store):
    store, graphs = loaded
    sparql = (QUERIES / "14-why-iran-supplies-china.rq").read_text(encoding="utf-8")
    assert embedded(built_store, sparql) != []
    # SPARQL 1.1 Protocol: default-graph-uri alone leaves no named graph for GRAPH ?g
    only_default = solution_set(store.select(sparql, default_graphs=graphs))
    assert (only_default == set()) == (store.name != "virtuoso")
    # portable: name the graphs in both parameters (as with_dataset does)
    assert set(with_dataset(loaded, sparql)) == set(embedded(built_store, sparql))


def test_virtuoso_needs_a_graph_for_every_insert(loaded):
    store, _ = loaded
    graph = "http://example.org/dialect-insert"
    bare = "INSERT DATA { <http://example.org/s> <http://example.org/p> 1 }"
    if store.name == "virtuoso":
        with pytest.raises(StoreError, match="No plain default graph"):
            store.update(bare)
    # portable: name the graph (GRAPH in the data, or WITH for INSERT ... WHERE)
    store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/s> "
                 "<http://example.org/p> 1 } }")
    store.update(f"WITH <{graph}> INSERT {{ <http://example.org/s> <http://example.org/p> 2 }}"
                 " WHERE {}")
    answer = store.select(f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    assert {r["o"]["value"] for r in answer["results"]["bindings"]} == {"1", "2"}
    # Virtuoso drops only graphs made by CREATE GRAPH; DROP SILENT drops any
    if store.name == "virtuoso":
        with pytest.raises(StoreError, match="has not been explicitly created"):
            store.update(f"DROP GRAPH <{graph}>")
    store.update(f"DROP SILENT GRAPH <{graph}>")
    assert graph not in store.graphs()


def test_virtuoso_default_graph_includes_its_system_graphs(loaded, built_store):
    store, _ = loaded
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    [[(_, (_, n, _, _))]] = [sorted(r) for r in solution_rows(store.select(count))]
    [[(_, (_, local, _, _))]] = [sorted(r) for r in embedded(built_store, count)]
    if store.name == "virtuoso":
        assert int(n) > int(local)
    else:  # the session's Oxigraph server keeps its own (empty) default graph
        assert int(n) == 0
