"""The support of derived links (issue 19, part 4): which claims each derived state-to-state
shortcut rests on, how many sources state them, how many as fact, the weakest modality.

Exact expectations on a small data set of two sources (``tests/fixtures/support``): a
claim stated as fact, a hedged one, a headline, one claim of two sources, a symmetric
alliance and arms transfers whose property is a sub-property of crink:supplies. Invariants
on the curated store: every shortcut has its node, every count agrees with a direct SPARQL
count, the weakest modality is the weakest. And the paths that keep it current: the build,
an update, ``crinkkg explain`` and the bundled query 17.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from crinkkg.build.pipeline import build
from crinkkg.build.updates import UpdateRefused, apply_update
from crinkkg.reasoning.explain import RuleInstances, explain_triple
from crinkkg.reasoning.support import compute_support, link_iri, shortcut_properties
from crinkkg.settings import Settings
from crinkkg.store.oxigraph import OxigraphStore

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "support"
CRINKKG = str(Path(sys.executable).with_name("crinkkg"))
QUERY_17 = ROOT / "src" / "crinkkg" / "queries" / "17-links-stated-as-fact.rq"
CRINK = "https://w3id.org/crinkkg/ontology#"
ID = "https://w3id.org/crinkkg/id/"
SUPPORT = "https://w3id.org/crinkkg/graph/support"
INFERRED = "https://w3id.org/crinkkg/graph/inferred"
PREFIXES = (f"PREFIX crink: <{CRINK}>\nPREFIX id: <{ID}>\n"
            "PREFIX prov: <http://www.w3.org/ns/prov#>\n"
            "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n"
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n")

A, B = "src-a", "src-b"
FACT, HEDGED, HEADLINE = "modality-asserted", "modality-qualified", "modality-headline"
ARMS = ({"t1-arms", "t2-drones"}, {A, B}, {A}, HEDGED)
HEAD = ({"t3-headline"}, {A}, set(), HEADLINE)
TREATY = ({"treaty"}, {B}, {B}, FACT)
OIL = ({"t4-oil"}, {A, B}, {A, B}, FACT)
#: every shortcut of the fixture: (claims, sources, sources stating one as fact, weakest)
EXPECTED = {
    ("aland", "suppliesArmsTo", "bland"): ARMS,
    ("aland", "supplies", "bland"): ARMS,  # sub-property (and the chain of crink:supplies)
    ("aland", "cooperatesWith", "bland"): ARMS,  # supplies is a sub-property of it
    ("bland", "cooperatesWith", "aland"): ARMS,  # ... and it is symmetric
    ("aland", "supplies", "cland"): HEAD,
    ("aland", "cooperatesWith", "cland"): HEAD,
    ("cland", "cooperatesWith", "aland"): HEAD,
    ("cland", "alliedWith", "dland"): TREATY,
    ("dland", "alliedWith", "cland"): TREATY,  # symmetric: a cycle with the other way
    ("cland", "cooperatesWith", "dland"): TREATY,
    ("dland", "cooperatesWith", "cland"): TREATY,
    ("dland", "sellsOilTo", "bland"): OIL,
    ("dland", "supplies", "bland"): OIL,
    ("dland", "cooperatesWith", "bland"): OIL,
    ("bland", "cooperatesWith", "dland"): OIL,
}


def build_fixture(tmp_path: Path, data: Path = FIXTURE) -> OxigraphStore:
    settings = Settings(ontology_dir=ROOT / "ontology", data_dir=data,
                        store=tmp_path / "store")
    build(settings, force=True, root=ROOT)
    return OxigraphStore.open(settings.store)


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> OxigraphStore:
    return build_fixture(tmp_path_factory.mktemp("support"))


def local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rsplit("/", 1)[-1]


def select(store: OxigraphStore, sparql: str, view: str = "all") -> list[dict[str, str]]:
    result = store.query(PREFIXES + sparql, view=view)
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result]


def support_table(store: OxigraphStore) -> dict[tuple[str, str, str], tuple]:
    """The support graph read back with SPARQL, in the shape of :data:`EXPECTED`."""
    out: dict[tuple[str, str, str], tuple] = {}
    for row in select(store, f"""SELECT ?link ?s ?p ?o ?claims ?sources ?facts ?weakest WHERE {{
        GRAPH <{SUPPORT}> {{ ?link a crink:DerivedLink ; crink:linkSubject ?s ;
          crink:linkProperty ?p ; crink:linkObject ?o ; crink:claimCount ?claims ;
          crink:sourceCount ?sources ; crink:factSourceCount ?facts .
          OPTIONAL {{ ?link crink:weakestModality ?weakest }} }} }}"""):
        key = (local(row["s"]), local(row["p"]), local(row["o"]))
        assert key not in out, f"two derived-link nodes for {key}"
        assert row["link"] == link_iri(row["s"], row["p"], row["o"])
        claims = {local(r["c"]) for r in select(
            store, f"SELECT ?c WHERE {{ GRAPH <{SUPPORT}> {{ <{row['link']}> "
                   "crink:restsOn ?c } }")}
        sources = {local(r["src"]) for r in select(
            store, f"SELECT DISTINCT ?src WHERE {{ GRAPH <{SUPPORT}> {{ <{row['link']}> "
                   "crink:restsOn ?c } ?c prov:wasDerivedFrom ?src }")}
        facts = {local(r["src"]) for r in select(
            store, f"SELECT DISTINCT ?src WHERE {{ GRAPH <{SUPPORT}> {{ <{row['link']}> "
                   "crink:restsOn ?c } ?c prov:wasDerivedFrom ?src ; "
                   "crink:hasModality crink:modality-asserted }")}
        assert (int(row["claims"]), int(row["sources"]), int(row["facts"])) == \
            (len(claims), len(sources), len(facts)), key
        out[key] = (claims, sources, facts, local(row.get("weakest", "")) or None)
    return out


# -- exact support on the fixture --------------------------------------------------------------


def test_every_shortcut_of_the_fixture_has_exactly_its_support(fixture_store) -> None:
    assert support_table(fixture_store) == EXPECTED


def test_a_link_rests_on_every_derivation_not_only_the_first_explained(fixture_store) -> None:
    d = explain_triple(fixture_store, "id:aland", "crink:suppliesArmsTo", "id:bland")

    def leaves(x):
        return [x] if not x.premises else [y for p in x.premises for y in leaves(p)]

    explained = {local(str(t.triple[0].value)) for t in leaves(d)
                 if t.status == "asserted" and t.sources}
    # explain prints one derivation, from one of the two transfers; the support has both
    assert len(explained) == 1 and explained < EXPECTED[("aland", "suppliesArmsTo", "bland")][0]


def test_explain_says_a_support_triple_is_computed_not_derived(fixture_store) -> None:
    from crinkkg.errors import CrinkError

    link = f"<{ID}link/aland--supplies--cland>"
    with pytest.raises(CrinkError, match="is in the support graph"):
        explain_triple(fixture_store, link, "crink:restsOn", "id:t3-headline")


def test_the_python_api_gives_what_the_graph_holds(fixture_store) -> None:
    links = compute_support(fixture_store)
    got = {(local(x.subject), local(x.property), local(x.object)):
           ({local(c.iri) for c in x.claims}, {local(s) for s in x.sources},
            {local(s) for s in x.fact_sources}, local(x.weakest_modality or "") or None)
           for x in links}
    assert got == EXPECTED
    assert [x.iri for x in links] == sorted(x.iri for x in links)  # a fixed order
    assert link_iri(ID + "aland", CRINK + "supplies", ID + "cland") == \
        "https://w3id.org/crinkkg/id/link/aland--supplies--cland"


def test_shortcut_properties_are_read_from_the_tbox(fixture_store) -> None:
    chained = {r["p"] for r in select(fixture_store, """SELECT DISTINCT ?p WHERE {
        { ?p owl:propertyChainAxiom ?c } UNION { ?q owl:propertyChainAxiom ?c .
        ?q rdfs:subPropertyOf+ ?p FILTER(isIRI(?p)) } }""")}
    found = {p.value for p in shortcut_properties(RuleInstances(fixture_store))}
    assert found == chained
    assert {CRINK + n for n in ("supplies", "suppliesArmsTo", "sendsTroopsTo", "sellsOilTo",
                                 "alliedWith", "cooperatesWith", "madeRequestTo", "attacked",
                                 "pledgesSupportTo", "prefersAsPartner", "opposes")} <= found


def test_the_support_graph_is_its_own_and_changes_no_closure(fixture_store) -> None:
    # the views: all holds it, asserted and inferred do not; no triple is in two of them
    n = "SELECT (COUNT(*) AS ?n) WHERE {{ ?l a crink:DerivedLink }}"
    assert [int(select(fixture_store, n.format(), v)[0]["n"]) for v in
            ("all", "asserted", "inferred")] == [len(EXPECTED), 0, 0]
    shared = select(fixture_store, f"""SELECT (COUNT(*) AS ?n) WHERE {{
        GRAPH <{SUPPORT}> {{ ?s ?p ?o }} GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{SUPPORT}>) }}""")
    assert shared[0]["n"] == "0"
    # nothing in the inferred graph is about derived links (it is not reasoned over)
    assert select(fixture_store, f"""SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED}> {{
        ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{ID}link/") || STRSTARTS(STR(?o), "{ID}link/")
        || ?o = crink:DerivedLink) }} }}""")[0]["n"] == "0"


# -- kept current by updates -------------------------------------------------------------------


def writable_copy(store: OxigraphStore) -> OxigraphStore:
    copy = OxigraphStore.in_memory()
    copy.database.extend(store.quads(None, None, None, None))
    return copy


def test_an_update_recomputes_the_support(fixture_store) -> None:
    store = writable_copy(fixture_store)
    before = support_table(store)
    assert before == EXPECTED
    apply_update(store, f"""PREFIX crink: <{CRINK}> PREFIX id: <{ID}>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        INSERT DATA {{ GRAPH <https://w3id.org/crinkkg/graph/data/more> {{
          id:t5 a crink:Transfer ; crink:supplier id:aland ; crink:recipient id:cland ;
            crink:hasModality crink:modality-asserted ; prov:wasDerivedFrom id:src-b . }} }}""")
    after = support_table(store)
    both = ({"t3-headline", "t5"}, {A, B}, {B}, HEADLINE)
    assert after == {**EXPECTED, ("aland", "supplies", "cland"): both,
                     ("aland", "cooperatesWith", "cland"): both,
                     ("cland", "cooperatesWith", "aland"): both}
    apply_update(store, "DROP GRAPH <https://w3id.org/crinkkg/graph/data/more>")
    assert support_table(store) == EXPECTED
    # a link whose last claim goes is gone with its node
    apply_update(store, f"PREFIX id: <{ID}> DELETE WHERE {{ GRAPH ?g {{ id:treaty ?p ?o }} }}")
    table = support_table(store)
    assert ("cland", "alliedWith", "dland") not in table and len(table) == len(EXPECTED) - 4


def test_updates_may_not_write_the_support_graph(fixture_store) -> None:
    store = writable_copy(fixture_store)
    for sparql in (f"INSERT DATA {{ GRAPH <{SUPPORT}> {{ <urn:a> <urn:b> <urn:c> }} }}",
                   f"DROP GRAPH <{SUPPORT}>"):
        with pytest.raises(UpdateRefused, match="support graph"):
            apply_update(store, sparql)
    assert support_table(store) == EXPECTED


# -- the bundled query and explain -------------------------------------------------------------


def query_17(threshold: int) -> str:
    text = QUERY_17.read_text()
    assert "VALUES ?minSources { 2 }" in text  # the documented place to change it
    return text.replace("VALUES ?minSources { 2 }", f"VALUES ?minSources {{ {threshold} }}")


@pytest.mark.parametrize("threshold", [0, 1, 2, 3])
def test_query_17_lists_the_links_stated_as_fact_by_n_sources(fixture_store, threshold) -> None:
    rows = select(fixture_store, query_17(threshold))
    got = {(local(r["from"]), local(r["property"]), local(r["to"])) for r in rows}
    want = {k for k, v in EXPECTED.items() if len(v[2]) >= threshold}
    assert got == want
    for r in rows:
        assert int(r["factSources"]) >= threshold


def test_explain_prints_the_support(tmp_path: Path) -> None:
    store = tmp_path / "store"
    args = ["--store", str(store), "--ontology", str(ROOT / "ontology"), "--data", str(FIXTURE)]
    subprocess.run([CRINKKG, *args, "build", "--quiet"], check=True, cwd=ROOT)
    text = subprocess.run([CRINKKG, *args, "explain", "id:aland", "crink:supplies", "id:bland"],
                          check=True, capture_output=True, text=True, cwd=ROOT).stdout
    assert "Support: 2 claims from 2 sources (1 stating at least one as fact); weakest " \
           "modality crink:modality-qualified" in text
    assert "id:t2-drones   source id:src-b; crink:modality-qualified" in text
    data = json.loads(subprocess.run(
        [CRINKKG, *args, "explain", "id:aland", "crink:supplies", "id:cland", "--json"],
        check=True, capture_output=True, text=True, cwd=ROOT).stdout)
    assert data["support"]["fact_source_count"] == 0
    assert data["support"]["weakest_modality"] == CRINK + HEADLINE
    assert data["support"]["link"] == ID + "link/aland--supplies--cland"
    asserted = json.loads(subprocess.run(
        [CRINKKG, *args, "explain", "id:t1-arms", "crink:armsSupplier", "id:aland", "--json"],
        check=True, capture_output=True, text=True, cwd=ROOT).stdout)
    assert asserted["support"] is None


# -- invariants on the curated store -------------------------------------------------------------


def test_every_curated_shortcut_has_support(built_store) -> None:
    shortcuts = {(r["s"], r["p"], r["o"]) for r in select(built_store, f"""
        SELECT DISTINCT ?s ?p ?o WHERE {{
          {{ SELECT DISTINCT ?p WHERE {{ {{ ?p owl:propertyChainAxiom ?c }} UNION
             {{ ?q owl:propertyChainAxiom ?c . ?q rdfs:subPropertyOf+ ?p FILTER(isIRI(?p)) }} }} }}
          GRAPH <{INFERRED}> {{ ?s ?p ?o }} FILTER(isIRI(?s) && isIRI(?o)) }}""")}
    links = {(r["s"], r["p"], r["o"]) for r in select(built_store, f"""
        SELECT ?s ?p ?o WHERE {{ GRAPH <{SUPPORT}> {{ ?l a crink:DerivedLink ;
          crink:linkSubject ?s ; crink:linkProperty ?p ; crink:linkObject ?o }} }}""")}
    assert shortcuts and links == shortcuts
    # ... and every one rests on at least one claim with a source
    assert select(built_store, f"""SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{SUPPORT}> {{
        ?l a crink:DerivedLink FILTER NOT EXISTS {{ ?l crink:restsOn ?c }} }} }}""")[0]["n"] == "0"


def test_curated_counts_agree_with_a_direct_count(built_store) -> None:
    table = support_table(built_store)  # checks each count against SPARQL
    assert len(table) > 20


def test_curated_weakest_modality_is_the_weakest(built_store) -> None:
    rows = select(built_store, f"""SELECT ?l ?w ?m ?strength WHERE {{
        GRAPH <{SUPPORT}> {{ ?l crink:restsOn ?c OPTIONAL {{ ?l crink:weakestModality ?w }} }}
        OPTIONAL {{ ?c crink:hasModality ?m . ?m crink:modalityStrength ?strength }} }}""")
    by: dict[str, list] = {}
    for r in rows:
        by.setdefault(r["l"], []).append(r)
    for link, found in by.items():
        modalities = sorted((int(r["strength"]), r["m"]) for r in found if "m" in r)
        weakest = {r.get("w") for r in found}
        assert weakest == {modalities[0][1] if modalities else None}, link


def test_curated_supplies_rests_on_exactly_its_transfers(built_store) -> None:
    """An independent reading for one family: crink:supplies holds from a transfer node
    (supplier, recipient, with sub-properties), so its claims are those transfers."""
    transfers: dict[tuple[str, str], set[str]] = {}
    for r in select(built_store, """SELECT ?s ?o ?t WHERE { ?t crink:supplier ?s ;
            crink:recipient ?o ; prov:wasDerivedFrom ?src }"""):
        transfers.setdefault((r["s"], r["o"]), set()).add(r["t"])
    links: dict[tuple[str, str], set[str]] = {}
    for r in select(built_store, f"""SELECT ?s ?o ?c WHERE {{ GRAPH <{SUPPORT}> {{
            ?l crink:linkProperty crink:supplies ; crink:linkSubject ?s ; crink:linkObject ?o ;
            crink:restsOn ?c }} }}"""):
        links.setdefault((r["s"], r["o"]), set()).add(r["c"])
    assert links and links == transfers


def test_curated_support_contains_what_explain_prints(built_store) -> None:
    for r in select(built_store, f"""SELECT ?l ?s ?p ?o WHERE {{ GRAPH <{SUPPORT}> {{
            ?l crink:linkSubject ?s ; crink:linkProperty ?p ; crink:linkObject ?o }} }}"""):
        d = explain_triple(built_store, f"<{r['s']}>", f"<{r['p']}>", f"<{r['o']}>")

        def leaves(x):
            return [x] if not x.premises else [y for p in x.premises for y in leaves(p)]

        claims = {t.value for x in leaves(d) if x.status == "asserted"
                  for t in (x.triple[0], x.triple[2]) if isinstance(t, ox.NamedNode)
                  and bool(built_store.query(
                      f"ASK {{ <{t.value}> <http://www.w3.org/ns/prov#wasDerivedFrom> ?x }}"))}
        rests = {x["c"] for x in select(
            built_store, f"SELECT ?c WHERE {{ GRAPH <{SUPPORT}> {{ <{r['l']}> "
                         "crink:restsOn ?c } }")}
        assert claims and claims <= rests, r["l"]


def test_query_17_answers_only_links_stated_as_fact_by_two_sources(built_store) -> None:
    rows = select(built_store, QUERY_17.read_text())
    for r in rows:
        assert int(r["factSources"]) >= 2
        got = select(built_store, f"""SELECT (COUNT(DISTINCT ?src) AS ?n) WHERE {{
            GRAPH <{SUPPORT}> {{ ?l crink:linkSubject <{r['from']}> ;
              crink:linkProperty <{r['property']}> ; crink:linkObject <{r['to']}> ;
              crink:restsOn ?c }}
            ?c prov:wasDerivedFrom ?src ; crink:hasModality crink:modality-asserted }}""")
        assert int(got[0]["n"]) >= 2


def test_two_builds_mint_the_same_links(tmp_path: Path, fixture_store) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    again = build_fixture(tmp_path, data)
    assert support_table(again) == support_table(fixture_store)
    assert sorted(q.subject.value for q in again.quads(
        None, ox.NamedNode(CRINK + "linkSubject"), None, ox.NamedNode(SUPPORT))) == sorted(
        q.subject.value for q in fixture_store.quads(
            None, ox.NamedNode(CRINK + "linkSubject"), None, ox.NamedNode(SUPPORT)))


# -- over HTTP: the endpoint's views, the graph page, updates ----------------------------------

TOKEN = "support-test-token-0123456789"


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory):
    from servers import start_server

    store = tmp_path_factory.mktemp("support-http") / "store"
    with start_server(store, "--enable-update", data=FIXTURE,
                      env={"CRINKKG_UPDATE_TOKEN": TOKEN}) as handle:
        yield handle


def http_select(server, sparql: str, **params: str) -> list[dict]:
    import requests

    r = requests.post(server.sparql, data={"query": sparql, **params},
                      headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["results"]["bindings"]


def test_the_endpoint_answers_from_the_support_graph_in_every_view(http_server) -> None:
    import requests

    count = PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { ?l a crink:DerivedLink }"
    named = PREFIXES + f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{SUPPORT}> {{ ?l a crink:DerivedLink }} }}"  # noqa: E501
    want = str(len(EXPECTED))
    for view, in_default in (("all", want), ("asserted", "0"), ("inferred", "0")):
        assert http_select(http_server, count, view=view)[0]["n"]["value"] == in_default
        assert http_select(http_server, named, view=view)[0]["n"]["value"] == want
    rows = http_select(http_server, query_17(2))
    assert {(local(r["from"]["value"]), local(r["property"]["value"]), local(r["to"]["value"]))
            for r in rows} == {k for k, v in EXPECTED.items() if len(v[2]) >= 2}
    page = requests.get(http_server.url + "/graph/support", headers={"Accept": "text/html"},
                        timeout=30)
    assert page.status_code == 200 and "aland--supplies--cland" in page.text
    r = requests.post(http_server.sparql, data=f"DROP GRAPH <{SUPPORT}>".encode(), timeout=60,
                      headers={"Content-Type": "application/sparql-update",
                               "Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 403 and "support graph" in r.text
    # an update over HTTP: the support is current when the response returns
    r = requests.post(http_server.sparql, timeout=120, data=f"""PREFIX crink: <{CRINK}>
        PREFIX id: <{ID}> PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        INSERT DATA {{ GRAPH <https://w3id.org/crinkkg/graph/data/more> {{
          id:t6 a crink:Transfer ; rdfs:label "Bland supplies Cland (test)"@en ;
            crink:supplier id:bland ; crink:recipient id:cland ;
            crink:hasItemKind crink:kind-oil ; crink:hasStatus crink:status-delivered ;
            crink:hasModality crink:modality-asserted ; prov:wasDerivedFrom id:src-a , id:src-b .
        }} }}""".encode(), headers={"Content-Type": "application/sparql-update",
                                     "Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    rows = http_select(http_server, query_17(2))
    assert (f"{ID}bland", f"{CRINK}supplies", f"{ID}cland") in {
        (r["from"]["value"], r["property"]["value"], r["to"]["value"]) for r in rows}
