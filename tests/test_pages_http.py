"""The HTML pages over real HTTP: the overview's diagrams drawn from the data (and following
it when it changes), entity pages, the ontology's documentation, the query page with its
results, downloads and errors, and assets that all ship with the package."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
import requests
from conftest import ROOT
from servers import project_server, start_server

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

TESTLAND = """\
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix crink: <https://w3id.org/crinkkg/ontology#> .
@prefix id:    <https://w3id.org/crinkkg/id/> .
@prefix prov:  <http://www.w3.org/ns/prov#> .
@prefix rdfs:  <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos:  <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd:   <http://www.w3.org/2001/XMLSchema#> .

id:testland a crink:State ; rdfs:label "Testland"@en ;
    skos:exactMatch <http://www.wikidata.org/entity/Q999999999> .
id:testland-oil-to-china a crink:OilSale ;
    rdfs:label "Testland sells oil to China"@en ;
    crink:oilSeller id:testland ; crink:oilBuyer id:china ;
    crink:hasItemKind crink:kind-oil ; crink:hasStatus crink:status-delivered ;
    crink:hasTime [ a crink:TimeSpec ; rdfs:label "2026"@en ;
        crink:hasPrecision crink:precision-year ; crink:year 2026 ;
        crink:earliest "2026-01-01T00:00:00Z"^^xsd:dateTime ;
        crink:latest "2026-12-31T23:59:59Z"^^xsd:dateTime ] ;
    crink:hasModality crink:modality-asserted ;
    prov:wasDerivedFrom id:source-testland-report .
id:source-testland-report a crink:NewsArticle ; rdfs:label "A report on Testland"@en ;
    dcterms:title "Testland sells oil" .
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


def page(server, path: str, **params) -> requests.Response:
    r = requests.get(server.url + path, headers={"Accept": BROWSER}, params=params, timeout=30)
    return r


class Assets(HTMLParser):
    """Every URL a page loads by itself (scripts, styles, images) and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "link" and a.get("rel") == "stylesheet":
            self.loads.append(a["href"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


def assets(html: str) -> Assets:
    parser = Assets()
    parser.feed(html)
    return parser


# -- the overview ------------------------------------------------------------------------------

def test_overview_draws_the_network(server):
    r = page(server, "/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    html = r.text
    assert 'class="diagram network"' in html and 'role="group"' in html
    for state in ("russia", "china", "iran", "north-korea"):
        assert f'href="/id/{state}"' in html
    assert 'href="/id/russia-dprk-treaty-2024"' in html  # the alliance edge links its treaty
    assert "alliance (treaty)" in html  # legend
    assert "transfer: drone transfer" in html  # transfers by kind
    assert "armed conflict" in html


def test_overview_timeline(server):
    html = page(server, "/").text
    assert 'class="diagram timeline"' in html
    assert '<time datetime="2024-06-19">' in html  # the treaty, at its exact date
    assert "2023" in html


def test_overview_loads_nothing_from_elsewhere(server):
    found = assets(page(server, "/").text)
    assert found.loads, "the page has a stylesheet and a script"
    for url in found.loads:
        assert url.startswith("/"), url
        assert requests.get(urljoin(server.url, url), timeout=10).status_code == 200


def test_every_link_on_the_overview_resolves(server):
    links = {link for link in assets(page(server, "/").text).links
             if link.startswith("/") and not link.startswith("/sparql")}
    assert len(links) > 20
    for link in sorted(links):
        r = requests.get(server.url + link.split("#")[0], headers={"Accept": BROWSER},
                         timeout=30)
        assert r.status_code == 200, link


def test_overview_follows_the_data(tmp_path):
    """A new state and a transfer in the data appear in the network and the timeline."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "testland.ttl").write_text(TESTLAND)
    with start_server(tmp_path / "store", data=data, timeout=120) as srv:
        html = page(srv, "/").text
        assert 'href="/id/testland"' in html
        assert 'href="/id/testland-oil-to-china"' in html
        assert "2026" in html
        entity = page(srv, "/id/testland").text
        assert "Testland" in entity and "sells oil to" in entity


# -- entity pages ------------------------------------------------------------------------------

def test_entity_page(server):
    html = page(server, "/id/russia-dprk-treaty-2024").text
    assert "<h1>Russia-North Korea treaty (2024)</h1>" in html
    assert "Alliance treaty" in html  # a type
    assert 'id="sources-heading"' in html and 'href="/id/source-crink-article"' in html
    assert 'class="badge inferred"' in html  # inferred facts are marked
    assert 'id="inferred-heading"' in html
    assert 'class="diagram neighbourhood"' in html
    assert 'href="/id/russia-dprk-treaty-2024-signing"' in html  # the public record links in
    assert "data/public-record" in html  # where an asserted fact comes from
    # the anchored sentence, highlighted inside its paragraph of the stored text
    assert ('<mark class="focus">In 2024, they signed a treaty that forms an enduring alliance '
            'encompassing battlefield cooperation.</mark>') in html
    assert "The strongest and most formalized military partnership" in html  # its context
    assert "characters 946–1045 of its stored text" in html
    # how and when the source states it
    assert "stated as fact" in html and "to the year" in html
    for suffix in ("ttl", "jsonld", "rdf", "nt", "trig", "nq"):
        assert f'href="/id/russia-dprk-treaty-2024.{suffix}"' in html


def test_source_page_shows_its_text_with_every_claim(server):
    html = page(server, "/id/source-crink-article").text
    assert 'id="text-heading"' in html
    refs = re.findall(r'<a class="claim-ref" href="(/id/[^"]+)"', html)
    claims = requests.post(server.sparql, data={"query": """SELECT (COUNT(*) AS ?n) WHERE {
        SELECT DISTINCT ?c ?a WHERE { ?c crink:statedIn ?a .
        ?a <http://www.w3.org/ns/oa#hasSource> id:source-crink-article } }"""},
        headers={"Accept": "text/csv"}).text.split()[-1]
    assert len(refs) == int(claims) > 50  # one numbered link per anchored passage
    assert "/id/russia-dprk-treaty-2024" in refs
    assert "crink:textContent" not in html and "textContent" not in html  # not a 5 kB fact


def test_inferred_link_names_the_claims_behind_it(server):
    html = page(server, "/id/north-korea").text
    behind = html[html.index('id="inferred-heading"'):]
    assert 'class="behind"' in behind
    assert 'href="/id/russia-dprk-treaty-2024"' in behind


def test_entity_page_shows_incoming_links_with_sources(server):
    html = page(server, "/id/russia").text
    assert 'id="incoming-heading"' in html
    assert 'href="/id/iran-shahed-drones-to-russia"' in html
    assert "allied with" in html  # the inferred shortcut


def test_not_found_page(server):
    r = page(server, "/id/atlantis")
    assert r.status_code == 404
    assert "Not found" in r.text


# -- the ontology ------------------------------------------------------------------------------

def test_ontology_documentation(server):
    html = page(server, "/ontology").text
    assert "<h1>The CRINK ontology</h1>" in html
    assert "https://w3id.org/crinkkg/ontology/0.1.0" in html  # version IRI in the metadata
    assert 'id="hierarchy"' in html
    # a property with its domain, range, characteristics and chain
    allied = html[html.index('id="alliedWith"'):]
    allied = allied[:allied.index("</article>")]
    assert "symmetric" in allied
    assert 'href="#State"' in allied
    assert "Derived by the chain" in allied
    assert 'href="#firstAllyOf"' in allied
    assert "Used by" in allied and 'href="/id/russia"' in allied
    state = html[html.index('id="State"'):]
    assert "sovereign state" in state[:2000]  # its definition


# -- the query page ------------------------------------------------------------------------------

def test_query_page_without_query(server):
    r = page(server, "/sparql")
    assert r.status_code == 200
    html = r.text
    assert '<textarea id="query"' in html
    assert html.count('class="example"') >= 10


def test_query_page_runs_an_example(server):
    html = page(server, "/").text
    link = re.search(r'href="(/sparql\?query=[^"]+)"', html).group(1).replace("&amp;", "&")
    result = requests.get(server.url + link, headers={"Accept": BROWSER}, timeout=30).text
    assert 'class="results-table"' in result
    assert 'href="/id/china"' in result


def test_query_page_results_link_and_download(server):
    q = "SELECT ?s ?label WHERE { ?s a crink:State ; rdfs:label ?label } ORDER BY ?label"
    html = page(server, "/sparql", query=q).text
    assert "7 rows" in html
    assert 'href="/id/russia"' in html
    downloads = {m[1]: m[0] for m in
                 re.findall(r'<a href="([^"]+format=(\w+)[^"]*)" download>', html)}
    assert set(downloads) == {"json", "xml", "csv", "tsv"}
    expected = {"json": "application/sparql-results+json",
                "xml": "application/sparql-results+xml", "csv": "text/csv",
                "tsv": "text/tab-separated-values"}
    for name, link in downloads.items():
        r = requests.get(server.url + link.replace("&amp;", "&"),
                         headers={"Accept": BROWSER}, timeout=30)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith(expected[name]), name


def test_query_page_construct(server):
    q = "CONSTRUCT { ?s a crink:State } WHERE { ?s a crink:State }"
    html = page(server, "/sparql", query=q).text
    assert "7 triples" in html
    assert "format=turtle" in html and "format=rdfxml" in html and "format=nquads" in html


def test_query_page_ask(server):
    html = page(server, "/sparql", query="ASK { id:russia crink:alliedWith id:north-korea }").text
    assert '<strong class="boolean">yes</strong>' in html


def test_query_page_shows_the_error_where_it_is(server):
    r = page(server, "/sparql", query="SELECT ?s\nWHERE {\n  ?s a crink:State\n")
    assert r.status_code == 400
    html = r.text
    assert 'role="alert"' in html and "syntax-error" in html
    assert 'aria-invalid="true"' in html
    assert re.search(r'<li value="(\d+)" class="error-line"', html)


def test_query_page_view(server):
    q = "SELECT * WHERE { id:russia crink:alliedWith ?x }"
    assert "0 rows" in page(server, "/sparql", query=q, view="asserted").text
    assert "1 row" in page(server, "/sparql", query=q, view="inferred").text


def test_static_assets(server):
    css = requests.get(server.url + "/static/crinkkg.css", timeout=10)
    js = requests.get(server.url + "/static/crinkkg.js", timeout=10)
    assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]
    assert js.status_code == 200
    assert "http" not in re.sub(r"/\*.*?\*/", "", css.text, flags=re.S)  # no remote fonts


def test_an_inferred_shortcut_names_exactly_the_claims_it_rests_on(server):
    """Russia allied with North Korea comes from the treaty's property chain: the page
    names the treaty and not the partnership (which gives only 'cooperates with')."""
    html = page(server, "/id/russia").text
    row = next(r for r in html.split("<tr") if ">allied with<" in r and "north-korea" in r)
    behind = row[row.index('class="behind"'):]
    assert 'href="/id/russia-dprk-treaty-2024"' in behind
    assert "russia-north-korea-partnership" not in behind
    row = next(r for r in html.split("<tr") if ">cooperates with<" in r and '"/id/china"' in r)
    behind = row[row.index('class="behind"'):]
    assert 'href="/id/china-russia-partnership"' in behind  # the alignment's chain
    assert 'href="/id/russian-oil-sales-to-china"' in behind  # supplies, then symmetry
