"""The publish swap, against each real store (Virtuoso, Oxigraph server).

With many graphs they are moved by patterns instead of one operation per graph (Virtuoso
refuses a request of ~1,400 MOVEs: "generated SQL text has exceeded 10000 lines"); both
swaps must leave the same thing: every graph under its name with the local triples, no
staging graph, the manifest. The swap is a series of requests of one graph operation each
(Oxigraph server's time for one request grows with the square of the quads it writes):
readers wait for it behind the switch's mark, also when it stopped half-way, and a publish
run again completes it without sending anything.
"""

from __future__ import annotations

import json
import re

import pyoxigraph as ox
import pytest
from remote_stores import RemoteStore

from crinkkg.backends.endpoints import Endpoints
from crinkkg.backends.manifest import HELD, MANIFEST_GRAPH, Manifest, read_manifest
from crinkkg.backends.publish import STAGING, PublishError, publish
from crinkkg.backends.remote import RemoteBackend
from crinkkg.backends.remote_errors import RemoteStoreError
from crinkkg.backends.sparql_client import SparqlClient
from crinkkg.problems import Problem
from crinkkg.settings import Settings
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


class _Recording(SparqlClient):
    """A client that keeps the text of every update, and fails the ``fail_at``-th update
    that follows the held mark (the ``n``-th request of a switch's phase 2)."""

    def __init__(self, remote: RemoteStore, fail_at: int | None = None) -> None:
        super().__init__(Endpoints(query=remote.query_url, update=remote.update_url,
                                   graph_store=remote.graph_store_url), timeout=120)
        self.updates: list[str] = []
        self.fail_at = fail_at

    def update(self, sparql: str, *args: object, **kwargs: object):  # type: ignore[override]
        held = [i for i, u in enumerate(self.updates) if f"{HELD:.3f}" in u]
        if self.fail_at is not None and held and len(self.updates) - held[-1] == self.fail_at:
            raise RemoteStoreError("store_failure", "update", "POST", self.endpoints.update,
                                   "cut short (injected)", hint="check the store")
        self.updates.append(sparql)
        return super().update(sparql, *args, **kwargs)


def _phase_two(updates: list[str]) -> list[str]:
    """The requests between the held mark and the manifest's rewrite."""
    start = max(i for i, u in enumerate(updates) if f"{HELD:.3f}" in u)
    end = next(i for i, u in enumerate(updates) if i > start and MANIFEST_GRAPH in u)
    return updates[start + 1:end]


def test_a_switch_sends_one_graph_operation_per_request(remote_store: RemoteStore) -> None:
    """No MOVE, no DROP of a published graph, no request of two graph operations: each
    graph is emptied by pattern and its staged copy added, in a request of its own; the
    staged copies go after the switch."""
    first = {f"{G}{i}": 3 for i in range(3)} | {INFERRED_GRAPH_IRI: 4}
    second = {f"{G}{i}": 2 for i in range(1, 3)} | {INFERRED_GRAPH_IRI: 1}
    client = _Recording(remote_store)
    with client:
        publish(client, _build(first, "a"), "v1")
        client.updates.clear()
        publish(client, _build(second, "b"), "v2")
    swap = _phase_two(client.updates)
    assert not [u for u in swap if " ;" in u or "MOVE" in u or "DROP" in u], swap
    adds = [u for u in swap if u.startswith("ADD SILENT GRAPH")]
    # the two data graphs, the inferred graph and the merge; G0, gone, is emptied
    assert len(adds) == 4 and len(swap) == 4 + 4 + 1, swap
    after = client.updates[client.updates.index(swap[-1]) + 1:]
    assert any("switching" in u for u in after[:2])  # the mark is removed, then the copies go
    assert [u for u in after if STAGING in u and "DELETE" in u]
    got = _contents(remote_store)
    got.pop(MANIFEST_GRAPH)
    assert got == _expected(second, "b")


def test_a_switch_stopped_half_way_keeps_readers_waiting_until_run_again(
        remote_store: RemoteStore) -> None:
    """A publish whose swap fails after its first graph: the store holds a mix of versions,
    which no reader through crinkkg reads (the held mark outlives the publisher's deadline);
    running the publish again sends nothing and completes the switch."""
    first = {f"{G}{i}": 3 for i in range(3)} | {INFERRED_GRAPH_IRI: 4}
    second = {f"{G}{i}": 2 for i in range(3)} | {INFERRED_GRAPH_IRI: 1}
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    reader = RemoteBackend(Settings(backend=remote_store.query_url, timeout=1.0))
    try:
        with _client(remote_store) as client:
            publish(client, _build(first, "a"), "v1")
        assert json.loads(reader.query(count, fmt="json").body)[
            "results"]["bindings"][0]["n"]["value"] == "13"  # 9 asserted, 4 inferred
        with _Recording(remote_store, fail_at=2) as failing:  # G0 emptied, then its ADD fails
            with pytest.raises(PublishError) as failed:
                publish(failing, _build(second, "b"), "v2")
        assert "half-way" in (failed.value.hint or "")
        assert "unchanged" not in (failed.value.hint or "")
        cleared = re.search(r"GRAPH <([^>]+)>", failing.updates[-1]).group(1)  # type: ignore[union-attr]
        kept = next(g for g in first if g != cleared)
        got = _contents(remote_store)
        assert cleared not in got and got[kept] == _expected(first, "a")[kept]  # mixed
        with _client(remote_store) as client:
            assert read_manifest(client).switching == pytest.approx(HELD)
        with pytest.raises(Problem) as waited:
            reader.query(count, fmt="json")
        assert waited.value.status == 503 and waited.value.kind == "switching-versions"
        assert "stopped half way" in (waited.value.hint or "")  # and how to finish it
        # nor does a writer stage from the mix, which its switch would publish whole
        writer = RemoteBackend(Settings(backend=remote_store.query_url, timeout=1.0,
                                        enable_update=True))
        try:
            for write in (lambda: writer.update(f"INSERT DATA {{ GRAPH <{kept}> {{ "
                                                "<urn:x:s> <urn:x:p> 'written' } }"),
                          writer.reason):
                with pytest.raises(Problem) as refused:
                    write()
                assert (refused.value.status, refused.value.kind) == \
                    (503, "switching-versions")
        finally:
            writer.close()
        assert _contents(remote_store) == got  # nothing written, the mark still held
        with _client(remote_store) as client:
            report = publish(client, _build(second, "b"), "v2")
            assert report.sent == [] and len(report.resumed) == len(report.graphs)
            manifest = read_manifest(client)
        assert manifest.version == "v2" and manifest.switching is None
        got = _contents(remote_store)
        got.pop(MANIFEST_GRAPH)
        assert got == _expected(second, "b")
        assert json.loads(reader.query(count, fmt="json").body)[
            "results"]["bindings"][0]["n"]["value"] == "7"
    finally:
        reader.close()
