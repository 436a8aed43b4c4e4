"""Full-text search over real HTTP: the sentences of the stored texts (a phrase of the
article finds its sentence, at its offsets, with the claims anchored there), prefixes and
several words, resources by label and local name, the page and the JSON, the SPARQL
service pattern, the editor's completion, the index of each new version after an update,
and the 501 over a remote store."""

from __future__ import annotations

import re

import pytest
import requests
from conftest import ROOT
from servers import backend_args, empty_project, project_server, publish, start_server
from test_build import DATA, make_project

from crinkkg.build.pipeline import build
from crinkkg.store.layout import StoreLayout
from crinkkg.store.textindex import INDEX_DIR, SearchSyntax, TextIndex, sentences

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON = {"Accept": "application/json"}
ID = "https://w3id.org/crinkkg/id/"
ARTICLE = (ROOT / "data" / "texts" / "crink-article.txt").read_text(encoding="utf-8")
BILL = (ROOT / "data" / "texts" / "disrupt-act-s1883-is.txt").read_text(encoding="utf-8")
TEXTS = {ID + "source-crink-article": ARTICLE, ID + "source-disrupt-act-s1883": BILL}
PHRASE = "mutual disdain for Western dominance"
SEARCH_PREFIX = "PREFIX search: <urn:x-crinkkg:search#>\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


def search(server, q: str, **params) -> dict:
    r = requests.get(server.url + "/search", params={"q": q, **params}, headers=JSON,
                     timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json()


def select(server, sparql: str) -> requests.Response:
    return requests.post(server.sparql, data={"query": sparql},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)


# -- the index -------------------------------------------------------------------------------


def test_sentences_keep_abbreviations_and_the_anchors_offsets() -> None:
    spans = list(sentences(ARTICLE))
    texts = [ARTICLE[s:e] for s, e in spans]
    assert any("Israeli and U.S. airstrikes" in t for t in texts)  # U.S. ends no sentence
    assert all(t == t.strip() and t for t in texts)
    assert [s for s, _ in spans] == sorted(s for s, _ in spans)


def test_no_search_text_is_an_error_of_the_index(tmp_path) -> None:
    """What the query syntaxes of search engines give meaning to is plain text here: each
    text either searches or says it holds no word (never an engine's error)."""
    settings = make_project(tmp_path, DATA + 'id:t1 <http://www.w3.org/2000/01/rdf-schema#label> '
                                             '"NEAR AND col:umn d^e (a) -c"@en .\n')
    build(settings, root=tmp_path)
    index = TextIndex(StoreLayout(settings.store).current())
    for text in ['NEAR(a b)', 'a AND', '-c', 'x:y', '^e', '"unclosed', 'a OR b', '(a', '*',
                 'col:umn*', 'd^e', 'a~2', 'title:x', '[a TO b]', '+a -b', '"" *', "\\",
                 '.*', "(?i)x", "a" * 60]:
        try:
            index.resources(text, 5)
            index.passages(text, 5)
            index.complete(text, 5)
        except SearchSyntax:
            pass
    assert [r.iri for r in index.resources("col:umn", 5)] == [ID + "t1"]
    assert [r.iri for r in index.resources("(a)", 5)] == [ID + "t1"]


def test_the_build_writes_the_index_into_the_version_it_publishes(tmp_path) -> None:
    settings = make_project(tmp_path, DATA + 'id:t1 <http://www.w3.org/2000/01/rdf-schema#label> '
                                             '"The first transfer"@en .\n')
    report = build(settings, root=tmp_path)
    version = StoreLayout(settings.store).current()
    assert (version / INDEX_DIR / "meta.json").is_file()
    assert report.search["resources"] == TextIndex(version).counts()["resources"] > 0
    assert [r.iri for r in TextIndex(version).complete("t1", 5)] == [ID + "t1"]
    assert [r.iri for r in TextIndex(version).resources("first transfer", 5)] == [ID + "t1"]


# -- passages ------------------------------------------------------------------------------


def test_a_phrase_of_the_article_finds_its_sentence_and_the_claims_stated_there(server):
    found = search(server, f'"{PHRASE}"', scope="passages")
    assert found["passages"], found
    first = found["passages"][0]
    assert first["source"] == ID + "source-crink-article"
    assert ARTICLE[first["start"]:first["end"]] == first["sentence"]
    assert first["sentence"] == ("Russia and Iran share mutual disdain for Western dominance "
                                 "and have cooperated mainly out of convenience.")
    assert [t for t, hit in first["marked"] if hit] == [PHRASE]
    assert "".join(t for t, _ in first["marked"]) == first["sentence"]
    assert ID + "russia-iran-partnership" in {c["iri"] for c in first["claims"]}
    assert first["claims"][0]["href"].startswith("/id/")
    assert "resources" in found or found.get("passages")
    # every hit holds the phrase, as a phrase: a sentence with the words apart is no hit
    for passage in found["passages"]:
        assert PHRASE.lower() in passage["sentence"].lower()
    apart = search(server, '"disdain mutual"', scope="passages")
    assert apart["passages"] == []


def test_a_prefix_finds_every_word_that_starts_so(server):
    prefixed = search(server, "sanction*", scope="passages")["passages"]
    exact = search(server, "sanction", scope="passages")["passages"]
    assert len(prefixed) >= 3
    for passage in prefixed:
        assert re.search(r"\bsanction\w*", passage["sentence"], re.I)
        text = TEXTS[passage["source"]]
        assert text[passage["start"]:passage["end"]] == passage["sentence"]
        assert all(t.lower().startswith("sanction") for t, hit in passage["marked"] if hit)
    assert {(p["source"], p["start"]) for p in exact} < \
        {(p["source"], p["start"]) for p in prefixed}  # "sanctions" starts so, is not it


def test_several_words_must_all_occur(server):
    found = search(server, "Iran artillery", scope="passages")["passages"]
    assert found
    for passage in found:
        assert "iran" in passage["sentence"].lower()
        assert "artillery" in passage["sentence"].lower()
    expected = [ARTICLE[s:e] for s, e in sentences(ARTICLE)
                if "iran" in ARTICLE[s:e].lower() and re.search(r"\bartillery\b",
                                                                ARTICLE[s:e], re.I)]
    assert set(expected) <= {p["sentence"] for p in found}


def test_resources_by_label_and_by_local_name(server):
    by_label = {r["iri"] for r in search(server, "Shahed drones", scope="resources")
                ["resources"]}
    assert ID + "shahed-drones" in by_label
    by_name = [r["iri"] for r in search(server, "dprk treaty", scope="resources")["resources"]]
    assert ID + "russia-dprk-treaty-2024" in by_name


def test_paging_and_limits(server):
    first = search(server, "Russia", scope="passages", limit=3)["passages"]
    second = search(server, "Russia", scope="passages", limit=3, offset=3)["passages"]
    assert len(first) == len(second) == 3
    assert not {(p["source"], p["start"]) for p in first} & \
        {(p["source"], p["start"]) for p in second}
    many = search(server, "Russia", scope="passages", limit=10_000)["passages"]
    assert len(many) <= 100  # the default --search-limit


# -- the page and the JSON ---------------------------------------------------------------------


def test_the_page_marks_the_phrase_and_links_source_and_claims(server):
    r = requests.get(server.url + "/search", params={"q": f'"{PHRASE}"'},
                     headers={"Accept": BROWSER}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert f"<mark>{PHRASE}</mark>" in r.text
    assert 'href="/id/russia-iran-partnership"' in r.text
    assert 'href="/id/source-crink-article"' in r.text
    assert "Accept" in r.headers.get("Vary", "")
    empty = requests.get(server.url + "/search", headers={"Accept": BROWSER}, timeout=30)
    assert empty.status_code == 200 and 'role="search"' in empty.text
    bad = requests.get(server.url + "/search", params={"q": '" "'},
                       headers={"Accept": BROWSER}, timeout=30)
    assert bad.status_code == 400 and "bad-search" in bad.text and 'role="alert"' in bad.text


def test_formats_by_negotiation_and_errors_as_problems(server):
    url = server.url + "/search"
    assert requests.get(url, params={"q": "Iran"}, timeout=30).headers[
        "Content-Type"].startswith("application/json")  # no Accept: JSON
    assert requests.get(url, params={"q": "Iran", "format": "html"}, headers=JSON,
                        timeout=30).headers["Content-Type"].startswith("text/html")
    refused = requests.get(url, params={"q": "Iran"}, headers={"Accept": "image/png"},
                           timeout=30)
    assert refused.status_code == 406
    for params, kind in (({}, "bad-search"), ({"q": "  "}, "bad-search"),
                         ({"q": '"'}, "bad-search"), ({"q": "x" * 501}, "search-too-long"),
                         ({"q": "Iran", "scope": "everything"}, "bad-search"),
                         ({"q": "Iran", "limit": "-1"}, "bad-parameter"),
                         ({"q": "Iran", "format": "xml"}, "unknown-format")):
        r = requests.get(url, params=params, headers=JSON, timeout=30)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"] == kind and r.json()["hint"]


# -- inside SPARQL -------------------------------------------------------------------------------


def test_the_search_service_joins_its_hits_with_the_graph(server):
    r = select(server, SEARCH_PREFIX + f"""SELECT ?claim ?label ?sentence ?start WHERE {{
        SERVICE <urn:x-crinkkg:search> {{
          [] search:passages '"{PHRASE}"' ; search:claim ?claim ; search:sentence ?sentence ;
             search:start ?start }}
        ?claim rdfs:label ?label }}""")
    assert r.status_code == 200, r.text
    rows = r.json()["results"]["bindings"]
    assert ID + "russia-iran-partnership" in {b["claim"]["value"] for b in rows}
    assert all(PHRASE in b["sentence"]["value"] for b in rows)
    first = next(b for b in rows if b["claim"]["value"] == ID + "russia-iran-partnership")
    assert first["start"]["datatype"].endswith("#integer")
    assert ARTICLE[int(first["start"]["value"]):].startswith("Russia and Iran share")


def test_the_search_service_finds_resources_within_its_limit(server):
    r = select(server, SEARCH_PREFIX + """SELECT ?r ?label WHERE {
        SERVICE <urn:x-crinkkg:search> { ?hit search:resources "russ*" ; search:resource ?r ;
                                          search:label ?label ; search:limit 4 }
        ?r a crink:State }""")
    assert r.status_code == 200, r.text
    rows = r.json()["results"]["bindings"]
    assert ID + "russia" in {b["r"]["value"] for b in rows} and len(rows) <= 4


@pytest.mark.parametrize("pattern, message", [
    ('[] search:passages "Iran"', "binds no variable"),
    ("[] search:sentence ?s", "no search:passages"),
    ('[] search:passages ?words ; search:sentence ?s', "expected a string"),
    ('[] search:resources "Iran" ; search:sentence ?s', "search:sentence is not given"),
    ('[] search:passages "Iran" ; search:limit "5" ; search:sentence ?s', "whole number"),
    ('[] rdfs:label "Iran" ; search:sentence ?s', "not a term of the search service"),
])
def test_a_wrong_search_pattern_is_a_400_that_says_what_is_wrong(server, pattern, message):
    r = select(server, SEARCH_PREFIX + "SELECT * WHERE { SERVICE <urn:x-crinkkg:search> { "
               + pattern + " } }")
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad-search-pattern" and message in r.json()["message"]


# -- completion ----------------------------------------------------------------------------------


def test_completion_by_local_name_and_by_label(server):
    def names(prefix: str, **params) -> list[str]:
        r = requests.get(server.url + "/sparql/complete", params={"prefix": prefix, **params},
                         timeout=30)
        assert r.status_code == 200, r.text
        return [x["name"] for x in r.json()["resources"]]

    local = names("russia-d")
    assert local[0] == "id:russia-dprk-treaty-2024"
    by_name = [n.startswith("id:russia-d") for n in local]
    assert by_name == sorted(by_name, reverse=True) and sum(by_name) >= 4  # names first
    assert "id:north-korea" in names("north kor")  # the words of a label
    assert "crink:Treaty" in names("Treat")
    assert len(names("iran", limit=2)) == 2
    assert len(names("r", limit=1000)) <= 100
    r = requests.get(server.url + "/sparql/complete", params={"prefix": " "}, timeout=30,
                     headers=JSON)
    assert r.status_code == 400 and r.json()["error"] == "bad-search"


def test_the_query_page_offers_the_completion(server):
    page = requests.get(server.sparql, headers={"Accept": BROWSER}, timeout=30).text
    assert '"complete": "/sparql/complete"' in page


# -- updates and a remote store --------------------------------------------------------------------

TOKEN = "search-test-token-0123456789"


def test_each_write_publishes_its_own_index(tmp_path):
    make_project(tmp_path)
    with start_server(tmp_path / ".crinkkg" / "store", "--enable-update", "--search-limit",
                      "5", ontology=tmp_path / "ontology", data=tmp_path / "data",
                      env={"CRINKKG_UPDATE_TOKEN": TOKEN}) as srv:
        assert search(srv, "Quokkaland")["resources"] == []

        def update(text: str) -> None:
            r = requests.post(srv.sparql, data=text.encode(), timeout=120, headers={
                "Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
            assert r.status_code in (200, 204), r.text

        graph = "https://w3id.org/crinkkg/graph/data/facts"
        update(f'INSERT DATA {{ GRAPH <{graph}> {{ id:quokka a crink:State ; '
               'rdfs:label "Quokkaland"@en } }')
        found = search(srv, "quokka*")
        version = requests.get(srv.url + "/health", timeout=30).json()["version"]
        assert [r["iri"] for r in found["resources"]] == [ID + "quokka"]
        assert found["version"] == version
        # a write that changes no text or label: a new version, the index carried over
        update(f"INSERT DATA {{ GRAPH <{graph}> {{ id:quokka crink:alliedWith id:russia }} }}")
        again = search(srv, "Quokkaland")
        assert again["version"] != version and [r["iri"] for r in again["resources"]] == \
            [ID + "quokka"]
        # a graph-store write that removes the label: gone from the next version's index
        r = requests.delete(srv.store, params={"graph": graph}, timeout=120,
                            headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code in (200, 204), r.text
        assert search(srv, "Quokkaland")["resources"] == []
        # bounded by --search-limit, and no search inside an update
        assert len(search(srv, "a*", limit=50).get("resources", [])) <= 5
        refused = requests.post(srv.sparql, timeout=30, headers={
            "Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}",
            "Accept": "application/json"}, data=(
            SEARCH_PREFIX + f"INSERT {{ GRAPH <{graph}> {{ id:x rdfs:label ?s }} }} WHERE {{ "
            "SERVICE <urn:x-crinkkg:search> { [] search:passages 'x' ; search:sentence ?s } }"
        ).encode())
        assert refused.status_code == 403 and refused.json()["error"] == "service-refused"


def test_over_a_remote_store_search_is_a_501_with_a_hint(oxigraph, tmp_path):
    ontology, data, store = empty_project(tmp_path)
    (data / "facts.ttl").write_text(
        '<https://w3id.org/crinkkg/id/a> <http://www.w3.org/2000/01/rdf-schema#label> "A" .\n')
    publish(oxigraph, store, ontology, data)
    with start_server(store, ontology=ontology, data=data,
                      global_args=backend_args(oxigraph)) as srv:
        answers = [
            requests.get(srv.url + "/search", params={"q": "A"}, headers=JSON, timeout=30),
            requests.get(srv.url + "/sparql/complete", params={"prefix": "a"}, headers=JSON,
                         timeout=30),
            select(srv, SEARCH_PREFIX + "SELECT * WHERE { SERVICE <urn:x-crinkkg:search> "
                   "{ [] search:resources 'A' ; search:resource ?r } }")]
        for r in answers:
            assert r.status_code == 501, r.text
            assert r.json()["error"] == "search-not-available"
            assert "embedded" in r.json()["hint"]
        page = requests.get(srv.url + "/search", params={"q": "A"},
                            headers={"Accept": BROWSER}, timeout=30)
        assert page.status_code == 501 and "search-not-available" in page.text
