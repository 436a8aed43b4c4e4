"""The publish swap with many graphs: moved by one pattern instead of one MOVE per graph
(Virtuoso refuses a request of ~1,400 MOVEs: "generated SQL text has exceeded 10000 lines").

Both swaps run against each real store (Virtuoso, Oxigraph server) and must leave the same
thing: every graph under its name with the local triples, no staging graph, the manifest.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from remote_stores import RemoteStore

from crinkkg.backends.endpoints import Endpoints
from crinkkg.backends.manifest import MANIFEST_GRAPH, Manifest, read_manifest
from crinkkg.backends.publish import STAGING, publish
from crinkkg.backends.sparql_client import SparqlClient
from crinkkg.store.oxigraph import MERGE, OxigraphStore
from crinkkg.vocab import INFERRED_GRAPH_IRI

G = "https://w3id.org/crinkkg/graph/test-"
P = ox.NamedNode("https://example.org/p")


def _build(graphs: dict[str, int], tag: str) -> OxigraphStore:
    """A build holding ``n`` triples in each graph (values tagged, so versions differ)."""
    store = OxigraphStore.in_memory()
    for graph, n in graphs.items():
        store.add_triples([ox.Triple(ox.NamedNode(f"{graph}/s{i}"), P, ox.Literal(f"{tag}{i}"))
                           for i in range(n)], graph)
    return store


def _client(remote: RemoteStore) -> SparqlClient:
    return SparqlClient(Endpoints(query=remote.query_url, update=remote.update_url,
                                  graph_store=remote.graph_store_url), timeout=120)


def _contents(remote: RemoteStore) -> dict[str, set[str]]:
    doc = remote.select("SELECT ?g ?s ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    out: dict[str, set[str]] = {}
    for b in doc["results"]["bindings"]:
        out.setdefault(b["g"]["value"], set()).add(f"{b['s']['value']} {b['o']['value']}")
    return {g: v for g, v in out.items() if g not in remote.system_graphs}


def _expected(graphs: dict[str, int], tag: str) -> dict[str, set[str]]:
    """Each graph's triples, and the merge of the asserted ones (the default graph that
    queries name: one graph however many there are)."""
    each = {g: {f"{g}/s{i} {tag}{i}" for i in range(n)} for g, n in graphs.items() if n}
    merge = set().union(*(t for g, t in each.items() if g != INFERRED_GRAPH_IRI))
    return each | ({MERGE.value: merge} if merge else {})


@pytest.mark.parametrize("swap_moves", [0, 100], ids=["by-pattern", "one-move-each"])
def test_publish_then_republish_leaves_each_graph_and_no_staging(
        remote_store: RemoteStore, swap_moves: int) -> None:
    first = {f"{G}{i}": 3 for i in range(6)} | {INFERRED_GRAPH_IRI: 4}
    with _client(remote_store) as client:
        publish(client, _build(first, "a"), "v1", swap_moves=swap_moves)
        got = _contents(remote_store)
        manifest = got.pop(MANIFEST_GRAPH)
        assert got == _expected(first, "a")
        assert any("v1" in t for t in manifest)
        # the next version: two graphs gone (one emptied), the others changed
        second = {f"{G}{i}": 2 for i in range(1, 5)} | {f"{G}5": 0, INFERRED_GRAPH_IRI: 1}
        report = publish(client, _build(second, "b"), "v2", swap_moves=swap_moves)
        assert report.dropped == [f"{G}0", f"{G}5"]  # an empty graph is no graph
        got = _contents(remote_store)
        got.pop(MANIFEST_GRAPH)
        assert got == _expected(second, "b")
        assert not [g for g in remote_store.graphs() if g.startswith(STAGING)]
        assert read_manifest(client).version == "v2"


def test_virtuoso_answers_a_dataset_of_many_graphs(virtuoso: RemoteStore) -> None:
    """Virtuoso sends one response header per graph of the dataset; the client reads them."""
    graphs = [f"{G}{i}" for i in range(300)]
    virtuoso.update("INSERT DATA { " + " ".join(
        f"GRAPH <{g}> {{ <{g}/s> <{P.value}> {i} }}" for i, g in enumerate(graphs)) + " }")
    with _client(virtuoso) as client:
        response = client.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                accept="application/sparql-results+json",
                                default_graphs=graphs, named_graphs=graphs)
    assert json.loads(response.body)["results"]["bindings"][0]["n"]["value"] == "300"


def test_a_manifest_of_many_graphs_is_written_in_one_request(remote_store: RemoteStore) -> None:
    """Virtuoso's parser runs out of memory on one INSERT DATA of 14,000 triples; the
    manifest goes as several operations of one request, and reads back whole."""
    manifest = Manifest("v-many", tuple(f"{G}{i:05d}" for i in range(15_000)))
    with _client(remote_store) as client:
        client.update(" ;\n".join(manifest.inserts()))
        assert read_manifest(client) == manifest
