"""The support graph over remote stores (Oxigraph server and Virtuoso): published with the
build, the same triples as the embedded store's, the same answers to query 17, and kept
current by an update and by in-store reasoning, where reasoning runs inside the store and
the support is computed from what the store holds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from remote_stores import RemoteStore
from servers import ROOT, backend_args, publish, run_crinkkg

from crinkkg.backends.remote import RemoteBackend
from crinkkg.build.updates import apply_update
from crinkkg.settings import Settings
from crinkkg.store.oxigraph import OxigraphStore

FIXTURE = ROOT / "tests" / "fixtures" / "support"
SUPPORT = "https://w3id.org/crinkkg/graph/support"
QUERY_17 = ROOT / "src" / "crinkkg" / "queries" / "17-links-stated-as-fact.rq"
STORES = ["oxigraph", "virtuoso"]
DUMP = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{SUPPORT}> {{ ?s ?p ?o }} }}"
NEW_CLAIM = """PREFIX crink: <https://w3id.org/crinkkg/ontology#>
PREFIX id: <https://w3id.org/crinkkg/id/> PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT DATA { GRAPH <https://w3id.org/crinkkg/graph/data/more> {
  id:t5 a crink:Transfer ; rdfs:label "Aland supplies Cland (test)"@en ;
    crink:supplier id:aland ; crink:recipient id:cland ;
    crink:hasItemKind crink:kind-oil ; crink:hasStatus crink:status-delivered ;
    crink:hasModality crink:modality-asserted ; prov:wasDerivedFrom id:src-b . } }"""


def canonical(term: dict) -> str:
    """A term of SPARQL JSON results as one comparable string (Virtuoso writes integers
    as typed literals of xsd:integer too; a language tag in lower case)."""
    if term["type"] == "uri":
        return f"<{term['value']}>"
    lang = term.get("xml:lang", "").lower()
    return json.dumps(term["value"]) + (f"@{lang}" if lang else f"^^{term.get('datatype', '')}")


def embedded_rows(store: OxigraphStore, sparql: str) -> set[tuple[str, ...]]:
    result = store.query(sparql)
    names = [v.value for v in result.variables]
    out = set()
    for row in result:
        terms = []
        for n in names:
            t = row[n]
            if t is None:
                terms.append("")
            elif isinstance(t, ox.NamedNode):
                terms.append(f"<{t.value}>")
            else:
                lang = (t.language or "").lower()
                terms.append(json.dumps(t.value) + (f"@{lang}" if lang else
                                                    f"^^{t.datatype.value}"))
        out.add(tuple(terms))
    return out


def remote_rows(remote: RemoteStore, sparql: str) -> set[tuple[str, ...]]:
    doc = remote.select(sparql)
    names = doc["head"]["vars"]
    return {tuple(canonical(b[n]) if n in b else "" for n in names)
            for b in doc["results"]["bindings"]}


@pytest.fixture(scope="module")
def fixture_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("support-remote") / "store"
    done = run_crinkkg("--store", str(store), "--ontology", str(ROOT / "ontology"),
                       "--data", str(FIXTURE), "build", "--quiet")
    assert done.returncode == 0, done.stderr
    return store


@pytest.fixture(params=STORES)
def remote(request: pytest.FixtureRequest, fixture_build: Path) -> RemoteStore:
    store = request.getfixturevalue(f"{request.param}_server")
    store.clear()
    publish(store, fixture_build, None, FIXTURE)
    yield store
    store.clear()


def backend(remote: RemoteStore) -> RemoteBackend:
    return RemoteBackend(Settings(backend=remote.query_url, backend_update=remote.update_url,
                                  backend_graph_store=remote.graph_store_url,
                                  enable_update=True, timeout=120.0))


def test_the_published_support_graph_is_the_embedded_one(remote, fixture_build) -> None:
    local = OxigraphStore.open(fixture_build)
    want = embedded_rows(local, DUMP)
    assert len(want) > 100
    assert remote_rows(remote, DUMP) == want
    # query 17 through crinkkg's remote backend, at the threshold in the file (2) and at 1
    for text in (QUERY_17.read_text(),
                 QUERY_17.read_text().replace("VALUES ?minSources { 2 }",
                                              "VALUES ?minSources { 1 }")):
        done = run_crinkkg(*backend_args(remote), "query", text, "--format", "json")
        assert done.returncode == 0, done.stderr
        got = {tuple(canonical(b[n]) if n in b else "" for n in ("link", "factSources"))
               for b in json.loads(done.stdout)["results"]["bindings"]}
        expected = {(r[0], r[5]) for r in embedded_rows(local, text)}
        assert got == expected and got


def test_an_update_and_in_store_reasoning_keep_it_current(remote, fixture_build) -> None:
    local = OxigraphStore.in_memory()
    local.database.extend(OxigraphStore.open(fixture_build).quads(None, None, None, None))
    apply_update(local, NEW_CLAIM)
    want = embedded_rows(local, DUMP)
    target = backend(remote)
    try:
        target.update(NEW_CLAIM)
        got = remote_rows(remote, DUMP)
        assert got == want
        assert any("t5" in row[2] for row in got)  # the new claim is among the supports
        target.reason()  # recomputes the inferred graph in the store, and the support
        assert remote_rows(remote, DUMP) == want
        assert target.manifest(fresh=True).support == SUPPORT
    finally:
        target.close()
