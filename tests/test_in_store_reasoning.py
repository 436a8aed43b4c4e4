"""OWL 2 RL reasoning inside a SPARQL store (``crinkkg.reasoning.in_store``) against the
local engine (``crinkkg.reasoning.rules``): the same inferred triples and the same
inconsistency messages, in
an in-process Oxigraph store, in a real Oxigraph server and in a real Virtuoso.

The servers are started here, minimally, on loopback ports of their own; each test loads its
graphs into its own named graphs, so a store serves several tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import test_rules as rules_cases
from remote_stores import RemoteStore, free_port

from crinkkg.backends.endpoints import Endpoints
from crinkkg.backends.remote import ClientStore
from crinkkg.backends.remote_errors import RemoteStoreError
from crinkkg.backends.sparql_client import SparqlClient
from crinkkg.inputs.loading import load_inputs
from crinkkg.reasoning import in_store, rules
from crinkkg.vocab import RDF_TYPE

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/crinkkg/"
CRINK = BASE + "ontology#"
ID = BASE + "id/"
XSD = "http://www.w3.org/2001/XMLSchema#"


Graphs = dict[str, list[ox.Triple]]


def _client_store(query: str, update: str | None = None, *, timeout: float = 3600.0
                  ) -> ClientStore:
    """The store in-store reasoning talks to over HTTP, as the server and the CLI make it."""
    return ClientStore(SparqlClient(Endpoints(query=query, update=update or ""),
                                    timeout=timeout))


# -- data ----------------------------------------------------------------------------------

def _sources(data_dir: Path) -> Graphs:
    """The ontology and the data files of ``data_dir``, one named graph per file (as the
    build stores them)."""
    sources = load_inputs(ROOT / "ontology", data_dir, base_iri=BASE, root=ROOT)
    return {s.graph: s.triples for s in sources if s.role != "shapes"}


def _synthetic(folder: Path, scale: str) -> Graphs:
    sys.path.insert(0, str(ROOT))
    try:
        from bench.synthetic import generate
    finally:
        sys.path.remove(str(ROOT))
    generate(folder, scale, seed=1)
    return _sources(folder)


@pytest.fixture(scope="module")
def curated() -> Graphs:
    return _sources(ROOT / "data")


@pytest.fixture(scope="module")
def synthetic_5k(tmp_path_factory: pytest.TempPathFactory) -> Graphs:
    return _synthetic(tmp_path_factory.mktemp("synthetic-5k"), "5k")


@pytest.fixture(scope="module")
def synthetic_50k(tmp_path_factory: pytest.TempPathFactory) -> Graphs:
    return _synthetic(tmp_path_factory.mktemp("synthetic-50k"), "50k")


def _with(graphs: Graphs, turtle: str, name: str = "extra") -> Graphs:
    extra = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(
        f"@prefix crink: <{CRINK}> . @prefix id: <{ID}> . @prefix xsd: <{XSD}> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n" + turtle, format=ox.RdfFormat.TURTLE)]
    return {**graphs, f"{BASE}graph/test/{name}": extra}


def _local(graphs: Graphs) -> tuple[set[ox.Triple], list[str]]:
    """The local engine over the merge of the graphs: inferred triples, messages."""
    inferred, _removed, problems = rules.reason_triples(
        [t for triples in graphs.values() for t in triples], fallback=False)
    return set(inferred), [p.message for p in problems]


def _nt(term) -> str:
    return "_:b" if isinstance(term, ox.BlankNode) else str(term)


def _key(t: ox.Triple) -> str:
    """A triple as text; blank node labels differ from store to store (none is inferred
    on our data; with blank nodes, the count of inferred triples is compared too)."""
    return f"{_nt(t.subject)} {_nt(t.predicate)} {_nt(t.object)}"


def _inferred(store, graph: str) -> set[ox.Triple]:
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return {ox.Triple(*(_ox(r[v]) for v in "spo")) for r in rows}


def _ox(b: dict):
    if b["type"] == "uri":
        return ox.NamedNode(b["value"])
    if b["type"] == "bnode":
        return ox.BlankNode()
    if b.get("xml:lang"):
        return ox.Literal(b["value"], language=b["xml:lang"])
    return ox.Literal(b["value"], datatype=ox.NamedNode(b.get("datatype", XSD + "string")))


def _compare(store, graphs: Graphs, name: str, **options: int) -> object:
    """Reason in ``store`` over ``graphs`` and check: 0 missing, 0 extra, same messages."""
    inferred_graph = f"{BASE}graph/test/{name}/inferred"
    result = in_store.reason_in_store(store, list(graphs), inferred_graph, **options)
    expected, messages = _local(graphs)
    got = {_key(t) for t in _inferred(store, inferred_graph)}
    want = {_key(t) for t in expected}
    missing, extra = sorted(want - got), sorted(got - want)
    assert (missing[:5], extra[:5]) == ([], []), (len(missing), len(extra))
    assert result.inferred == len(expected)
    assert [p.message for p in result.inconsistencies] == messages
    return result


# -- the stores ------------------------------------------------------------------------------

def _oxigraph_store(graphs: Graphs) -> object:
    store = ox.Store()
    for g, triples in graphs.items():
        store.bulk_extend([ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
                           for t in triples])
    return in_store.LocalStore(store)


class _Remote:
    """A running store of the shared harness: its SPARQL client and how to put a graph."""

    def __init__(self, store: RemoteStore) -> None:
        self.store = store
        self.client = _client_store(store.query_url, store.update_url)

    def load(self, graphs: Graphs) -> None:
        for g, triples in graphs.items():
            self.store.put_graph(g, "".join(f"{t} .\n" for t in triples).encode(),
                                 "application/n-triples")


@pytest.fixture
def in_oxigraph(oxigraph: RemoteStore) -> _Remote:
    """The session's Oxigraph server (tests/remote_stores.py), emptied."""
    return _Remote(oxigraph)


@pytest.fixture
def in_virtuoso(virtuoso: RemoteStore) -> _Remote:
    """The session's Virtuoso (tests/remote_stores.py), emptied."""
    return _Remote(virtuoso)

# -- in an in-process Oxigraph store -----------------------------------------------------------

def test_curated_closure_equals_local(curated: Graphs) -> None:
    result = _compare(_oxigraph_store(curated), curated, "curated")
    assert result.inferred > 800 and not result.inconsistencies


def test_synthetic_5k_closure_equals_local(synthetic_5k: Graphs) -> None:
    result = _compare(_oxigraph_store(synthetic_5k), synthetic_5k, "synthetic-5k")
    assert result.inferred > 2000


def test_rerun_replaces_the_inferred_graph(curated: Graphs) -> None:
    """A second run starts from an empty inferred graph (no stale triples survive)."""
    store = _oxigraph_store(curated)
    graph = f"{BASE}graph/test/rerun/inferred"
    store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <{ID}stale> <{ID}p> <{ID}o> }} }}")
    first = in_store.reason_in_store(store, list(curated), graph)
    assert not store.ask(f"ASK {{ GRAPH <{graph}> {{ <{ID}stale> ?p ?o }} }}")
    assert in_store.reason_in_store(store, list(curated), graph).inferred == first.inferred
    assert not store.ask(f"ASK {{ GRAPH <{in_store.marker_graph(graph)}> {{ ?s ?p ?o }} }}")


INCONSISTENT = {
    "two disjoint classes": "id:china a crink:Grouping .",
    "a literal outside its property's range": (
        'id:ts crink:earliest 2024 .'),
    "an ill-typed literal": 'id:ts crink:year "twenty"^^xsd:integer .',
}


@pytest.mark.parametrize("name", sorted(INCONSISTENT))
def test_inconsistency_found_with_the_local_message(curated: Graphs, name: str) -> None:
    graphs = _with(curated, INCONSISTENT[name])
    result = _compare(_oxigraph_store(graphs), graphs, "inconsistent")
    assert result.inconsistencies, "the local engine and the store both found none"


def _example(turtle: str) -> Graphs:
    """One graph of ``tests/test_rules.py``'s prefixes and ``turtle``."""
    parsed = ox.parse(rules_cases.PREFIXES + turtle, format=ox.RdfFormat.TURTLE)
    return {"http://example.org/graph": [ox.Triple(q.subject, q.predicate, q.object)
                                         for q in parsed]}


@pytest.mark.parametrize("name", sorted(rules_cases.CASES) + [
    f"inconsistent: {n}" for n in sorted(rules_cases.INCONSISTENT)])
def test_every_rule_case_equals_local(name: str) -> None:
    """``tests/test_rules.py``'s cases, rule by rule (the local engine matches owlrl on
    each): the same closure and messages in the store, including what the local engine
    derives through generalized triples (a literal typed by a datatype restriction, a
    literal-valued triple through an inverse, a ``[ owl:inverseOf p ]`` chain link)."""
    turtle = (rules_cases.INCONSISTENT[name.split(": ", 1)[1]] if name.startswith("inconsistent")
              else rules_cases.CASES[name])
    graphs = _example(turtle)
    _compare(_oxigraph_store(graphs), graphs, "case")


def test_generalized_difference_is_exactly_the_documented_one() -> None:
    """What the local engine draws from a class that a *rule* gave a literal (a literal
    subject, which no store holds): here ``owl:allValuesFrom`` types the value 3, and
    ``owl:someValuesFrom`` reads that type. In the store that one consequence is missing,
    and nothing else differs."""
    graphs = _example("""
        :A owl:onProperty :n ; owl:allValuesFrom :Small .
        :S owl:onProperty :n ; owl:someValuesFrom :Small .
        :x a :A ; :n 3 .""")
    store = _oxigraph_store(graphs)
    graph = "http://example.org/inferred"
    in_store.reason_in_store(store, list(graphs), graph)
    expected, _ = _local(graphs)
    got = _inferred(store, graph)
    x_is_s = ox.Triple(ox.NamedNode("http://example.org/x"), ox.NamedNode(RDF_TYPE),
                       ox.NamedNode("http://example.org/S"))
    assert x_is_s in expected
    assert expected - got == {x_is_s}
    assert got - expected == set()


def test_errors_say_what_to_do(curated: Graphs) -> None:
    store = _oxigraph_store(curated)
    graph = next(iter(curated))
    with pytest.raises(in_store.InStoreError, match="one of the asserted graphs") as info:
        in_store.reason_in_store(store, list(curated), graph)
    assert info.value.hint
    graphs = _with(curated, "id:x a [ a owl:Restriction ; owl:onProperty crink:year ; "
                            "owl:hasValue 2020 ] .")
    with pytest.raises(in_store.InStoreUnsupported, match="anonymous class") as info:
        in_store.reason_in_store(_oxigraph_store(graphs), list(graphs), f"{BASE}graph/x")
    assert "IRI" in info.value.hint


# -- in real stores over HTTP --------------------------------------------------------------------

@pytest.mark.parametrize("scale", ["curated", "50k"])
def test_oxigraph_server_closure_equals_local(in_oxigraph: _Remote, curated: Graphs,
                                              synthetic_50k: Graphs, scale: str) -> None:
    graphs = curated if scale == "curated" else synthetic_50k
    in_oxigraph.load(graphs)
    _compare(in_oxigraph.client, graphs, scale)


@pytest.mark.parametrize("scale", ["curated", "50k"])
def test_virtuoso_closure_equals_local(in_virtuoso: _Remote, curated: Graphs,
                                       synthetic_50k: Graphs, scale: str) -> None:
    graphs = curated if scale == "curated" else synthetic_50k
    in_virtuoso.load(graphs)
    _compare(in_virtuoso.client, graphs, scale)


@pytest.mark.parametrize("where", ["oxigraph", "oxigraph-server", "virtuoso"])
def test_closure_over_a_copy_of_the_merge_equals_local(where: str, curated: Graphs,
                                                       request: pytest.FixtureRequest) -> None:
    """Over many graphs the rules read one copy of their merge: the same closure, and the
    copy is gone afterwards."""
    if where == "oxigraph":
        store = _oxigraph_store(curated)
    else:
        remote = request.getfixturevalue("in_oxigraph" if where == "oxigraph-server"
                                         else "in_virtuoso")
        remote.load(curated)
        store = remote.client
    _compare(store, curated, f"merged-{where}", merge_above=0)
    rows = store.select(f"SELECT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "
                        f"\"{in_store.WORK_GRAPH}\")) }} LIMIT 1")
    assert rows == []


def test_virtuoso_finds_an_inconsistency(in_virtuoso: _Remote, curated: Graphs) -> None:
    graphs = _with(curated, INCONSISTENT["a literal outside its property's range"]
                   + INCONSISTENT["two disjoint classes"], "virtuoso-inconsistent")
    in_virtuoso.load(graphs)
    assert _compare(in_virtuoso.client, graphs, "virtuoso-inconsistent").inconsistencies



def test_reason_command_over_http(in_oxigraph: _Remote, curated: Graphs) -> None:
    """``crinkkg --backend URL reason --in-store --graph G ...``: the report, and an
    inconsistency as the build reports one."""
    from click.testing import CliRunner

    from crinkkg.cli.main import cli

    store = in_oxigraph.store
    in_oxigraph.load(curated)
    args = ["--backend", store.query_url, "--backend-update", store.update_url, "reason",
            "--in-store", "--json"]
    args += [a for g in curated for a in ("--graph", g)]
    ran = CliRunner().invoke(cli, args)
    assert ran.exit_code == 0, ran.output
    assert f'"inferred": {len(_local(curated)[0])}' in ran.output
    bad = _with(curated, INCONSISTENT["two disjoint classes"], "command-inconsistent")
    in_oxigraph.load(bad)
    ran = CliRunner().invoke(cli, args + ["--graph", f"{BASE}graph/test/command-inconsistent"])
    assert ran.exit_code == 4, ran.output
    assert "Disjoint classes" in ran.output


def test_unreachable_store_is_an_error_with_a_hint(curated: Graphs) -> None:
    client = _client_store(f"http://127.0.0.1:{free_port()}/sparql", timeout=5)
    with pytest.raises(RemoteStoreError, match="unreachable|refused|connect") as info:
        in_store.reason_in_store(client, list(curated), f"{BASE}graph/inferred")
    assert info.value.hint
