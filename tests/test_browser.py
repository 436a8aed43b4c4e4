"""A real headless Chromium (Debian's ``chromium``, driven by Playwright with the system
executable) walks through the site as a newcomer would: the overview and its interactive
network, YASGUI on the query page, a claim highlighted in its source's text, a source's text
with its claims, an ontology term, the search page and the completion of the graph's own
resources in the editor. Every page must keep its requests on the server (the
site works offline), log no console error and no Content-Security-Policy violation, and
pass axe-core (vendored in ``tests/vendor/axe-core``) with no serious or critical finding.
Screenshots go to ``test-artifacts/``, with the overview's render time
(``overview-render.json``: measured, not asserted).

Locally, without Chromium or Playwright, these tests skip; under CI (``CI=true``) that is a
failure.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests
from conftest import ROOT, require
from servers import project_server

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Reports each CSP violation on the console, where the page fixture collects it.
CSP_WATCH = ("document.addEventListener('securitypolicyviolation', e => console.error("
             "'CSP violation: ' + e.violatedDirective + ' at ' + e.sourceFile + ':' + "
             "e.lineNumber + ':' + e.columnNumber))")


@pytest.fixture(scope="module")
def browser():
    require(Path(CHROMIUM).exists(), "Chromium is not installed (the README names the "
            "Debian package: apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package is not installed (pip install -e '.[test]')")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


def _watched_page(browser, server, **options):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.elsewhere, page.errors = [], []
    page.on("request", lambda r: None if r.url.startswith(server.url)
            or r.url.startswith("data:") else page.elsewhere.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.add_init_script(CSP_WATCH)
    return context, page


@pytest.fixture
def page(browser, server):
    context, page = _watched_page(browser, server)
    yield page
    context.close()
    assert not page.elsewhere, f"requests left the server: {page.elsewhere}"
    assert not page.errors, f"console errors or CSP violations: {page.errors}"


def shot(page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def axe(page, *, include: str | None = None) -> list[dict]:
    """axe-core's serious and critical findings on the page as it is now (the script is
    evaluated through the DevTools protocol: the page's CSP does not apply to it)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    found = page.evaluate("""include => axe.run(include ? {include: [include]} : document,
        {resultTypes: ['violations']}).then(r => r.violations
          .filter(v => v.impact === 'serious' || v.impact === 'critical')
          .map(v => ({id: v.id, impact: v.impact, help: v.help,
                      nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))})))""",
                          include)
    return found


def select(server, sparql: str) -> list[dict]:
    r = requests.post(server.sparql, data={"query": sparql},
                      headers={"Accept": "application/sparql-results+json"}, timeout=30)
    r.raise_for_status()
    return r.json()["results"]["bindings"]


# -- the overview ---------------------------------------------------------------------------

def test_overview_network_is_interactive_and_filters(page, server):
    page.goto(server.url + "/")
    assert page.locator("h1").inner_text() == "The CRINK knowledge graph"
    cy = page.locator("#cy")
    assert cy.is_visible()
    page.locator("#cy[data-rendered-ms]").wait_for(state="attached")
    assert page.locator("#network-static").is_hidden()  # the SVG gives way to the live view
    data = json.loads(page.locator("#network-data").text_content())
    edges = [e["data"] for e in data["elements"] if e["group"] == "edges"]
    assert len(edges) >= 10 and int(cy.get_attribute("data-shown")) == len(edges)
    assert page.evaluate("document.querySelectorAll('#cy canvas').length") >= 1
    # parallel claims between the same two states are there, each its own edge
    pairs = [frozenset((e["source"], e["target"])) for e in edges]
    assert max(pairs.count(p) for p in set(pairs)) >= 2
    rendered = float(cy.get_attribute("data-rendered-ms"))
    (ARTIFACTS / "overview-render.json").write_text(json.dumps(
        {"navigation_to_first_network_render_ms": rendered, "edges": len(edges),
         "nodes": len(data["elements"]) - len(edges)}))
    assert axe(page) == []
    shot(page, "overview")

    # a relation kind switched off: its edges leave the network and the list
    kind = data["kinds"][0]["kind"]
    of_kind = [e for e in edges if e["kind"] == kind]
    claims = [e for e in edges if not e["derived"]]
    derived = len(edges) - len(claims)
    page.locator(f"input[name=kind][value='{kind}']").uncheck()
    assert int(cy.get_attribute("data-shown")) == len(edges) - len(of_kind)
    assert page.locator("#network-count").inner_text() == \
        f"{len(claims) - len(of_kind)} of {len(claims)} claims shown; " \
        f"{derived} of {derived} derived links."
    hidden = page.evaluate("[...document.querySelectorAll('li[data-via]')]"
                           ".filter(li => li.hidden).map(li => li.dataset.via)")
    assert set(hidden) == {e["via"] for e in of_kind if e["via"]}

    # time: only 2024, without undated claims; the timeline dims what falls outside
    page.locator("button[type=reset]").click()
    page.locator(f"#cy[data-shown='{len(edges)}']").wait_for(state="attached")
    page.select_option("select[name=from]", "2024")
    page.select_option("select[name=to]", "2024")
    page.locator("input[name=undated]").uncheck()
    expected = [e for e in edges if not e["faceted"]
                or (e.get("yearFrom") is not None and e["yearFrom"] <= 2024 <= e["yearTo"])]
    assert int(cy.get_attribute("data-shown")) == len(expected) < len(edges)
    dimmed = page.locator("svg.timeline .tl-item.filtered-out")
    assert dimmed.count() >= 1
    assert all(y != "2024" for y in dimmed.evaluate_all("els => els.map(e => e.dataset.year)"))
    shot(page, "overview-filtered")

    # the server-drawn SVG (what no-JS readers get) passes axe too
    page.evaluate("document.getElementById('network-static').hidden = false")
    assert axe(page, include="#network-static") == []


def test_overview_without_javascript(browser, server):
    context, page = _watched_page(browser, server, java_script_enabled=False)
    try:
        page.goto(server.url + "/")
        network = page.locator("svg.network")
        assert network.is_visible()
        assert network.locator("a.node").count() >= 7
        assert network.locator("a.edge").count() >= 10
        assert page.locator("#network-interactive").is_hidden()
        assert page.locator("svg.timeline").is_visible()
        assert page.locator("ul.legend li").count() >= 6
        # the query page: the plain form runs an example, the server renders the table
        page.goto(server.url + "/sparql")
        assert page.locator("textarea#query").is_visible()
        page.locator("a.example").first.click()
        page.wait_for_load_state()
        assert page.locator("table.results-table tbody tr").count() >= 4
        shot(page, "query-no-js")
    finally:
        context.close()
    assert not page.elsewhere


# -- the query page ---------------------------------------------------------------------------

def test_yasgui_runs_a_typed_query(page, server):
    page.goto(server.url + "/sparql")
    editor = page.locator(".yasqe .CodeMirror")
    assert editor.is_visible()
    assert page.locator("#editor-panel").is_hidden()  # the plain form gives way
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("SELECT ?state ?name WHERE { ?state a crink:Sta")
    page.keyboard.press("Control+Space")  # completion from our ontology, served locally
    hints = page.locator(".CodeMirror-hints li")
    hints.first.wait_for()
    assert "crink:State" in hints.all_inner_texts()
    page.keyboard.press("Escape")
    page.keyboard.type("te ; rdfs:label ?name } ORDER BY ?name")
    # the predeclared prefixes are not marked as undefined; an unknown one is
    errors = page.locator(".yasqe .parseErrorIcon")
    assert errors.count() == 0
    page.keyboard.press("Control+Enter")
    table = page.locator(".yasr table.dataTable")
    table.locator("tbody tr").first.wait_for()
    names = table.locator("tbody tr td:nth-child(3)").all_inner_texts()
    expected = select(server, "SELECT ?name WHERE { ?s a crink:State ; rdfs:label ?name }")
    assert len(names) == len(expected) >= 7
    assert any("Russia" in n for n in names)
    # downloads in every format of the form
    links = page.locator("#yasgui-downloads a")
    assert links.all_inner_texts() == ["SPARQL JSON", "SPARQL XML", "CSV", "TSV"]
    csv = requests.get(server.url + links.nth(2).get_attribute("href"), timeout=30)
    assert csv.status_code == 200 and csv.text.splitlines()[0] == "state,name"
    assert axe(page) == []
    shot(page, "query-yasgui")
    # the same query over asserted statements only (the endpoint's view= extension)
    page.select_option("#yasgui-view", "asserted")
    with page.expect_request(lambda r: r.url == server.sparql and r.method == "POST") as sent:
        page.locator(".yasqe .yasqe_queryButton").click()
    assert "view=asserted" in (sent.value.post_data or "")
    page.locator(".yasr table.dataTable tbody tr").first.wait_for()


def test_yasgui_chart_and_undeclared_prefix(page, server):
    page.goto(server.url + "/sparql")
    page.locator(".yasqe .CodeMirror").wait_for()
    set_query = "q => document.querySelector('.CodeMirror').CodeMirror.setValue(q)"
    page.evaluate(set_query, "SELECT * WHERE { ?x a nope:Thing }")
    page.locator(".yasqe .parseErrorIcon").first.wait_for(state="attached")
    page.evaluate(set_query, "SELECT ?class (COUNT(?x) AS ?n) WHERE { ?x a ?class "
                  "FILTER(STRSTARTS(STR(?class), STR(crink:))) } GROUP BY ?class "
                  "ORDER BY DESC(?n) ?class LIMIT 12")
    page.locator(".yasqe .parseErrorIcon").wait_for(state="detached")  # crink: is known
    page.locator(".yasqe .yasqe_queryButton").click()
    page.locator(".yasr table.dataTable tbody tr").first.wait_for()
    page.get_by_role("button", name="Chart").click()
    bars = page.locator(".results-chart rect")
    bars.first.wait_for()
    assert bars.count() == 12
    top = page.locator(".results-chart g title").first.text_content()
    assert top.startswith("crink:Situation: ")
    assert axe(page) == []
    shot(page, "query-chart")


def test_yasgui_network_and_timeline_of_any_answer(page, server):
    """A CONSTRUCT answer as a network (the overview's drawing), a SELECT of dated rows as a
    timeline (the overview's timeline code, on the server), each complete and accessible."""
    page.goto(server.url + "/sparql")
    page.locator(".yasqe .CodeMirror").wait_for()

    def run_in_view(query: str, view: str) -> None:
        page.evaluate("q => document.querySelector('.CodeMirror').CodeMirror.setValue(q)",
                      query)
        page.locator(".yasqe .yasqe_queryButton").click()
        page.get_by_role("button", name=view).click()

    construct = ("CONSTRUCT { ?t crink:armsSupplier ?from ; crink:armsRecipient ?to } WHERE "
                 "{ ?t crink:armsSupplier ?from ; crink:armsRecipient ?to }")
    run_in_view(construct, "Network")
    figure = page.locator(".results-network")
    figure.locator("canvas").first.wait_for()
    triples = requests.post(server.sparql, data={"query": construct},
                            headers={"Accept": "application/n-triples"}, timeout=30).text
    edges = len([line for line in triples.splitlines() if line.strip()])
    nodes = len({t for line in triples.splitlines() if line.strip()
                 for t in (line.split(" ")[0], line.split(" ")[2])})
    assert figure.locator("figcaption").inner_text().startswith(
        f"{nodes} nodes and {edges} triples between resources")
    assert axe(page) == []
    shot(page, "query-network")
    # the graph's own times: the earliest moment at the precision the source gives
    dated = ("SELECT ?x ?start ?precision WHERE { ?x crink:hasTime ?t . "
             "?t crink:earliest ?start ; crink:hasPrecision ?precision } ORDER BY ?start")
    run_in_view(dated, "Timeline")
    items = page.locator(".results-timeline svg .tl-item")
    items.first.wait_for()
    rows = select(server, dated)
    shown = [b for b in rows if b["precision"]["value"].split("#precision-")[-1]
             in ("day", "month", "year")]
    assert items.count() == len(shown) >= 5
    hollow = [b for b in shown if not b["precision"]["value"].endswith("-day")]
    assert page.locator(".results-timeline svg .tl-span").count() == len(hollow) >= 1
    assert axe(page) == []
    shot(page, "query-timeline")


def test_yasgui_example_in_one_click(page, server):
    page.goto(server.url + "/sparql")
    page.locator(".yasqe .CodeMirror").wait_for()
    page.locator("a.example").nth(2).click()
    page.locator(".yasr table.dataTable tbody tr").first.wait_for()
    assert page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()") \
        .startswith("# title: What kinds of military materiel has Iran supplied to Russia")
    assert page.locator(".yasr table.dataTable tbody tr").count() >= 2  # drones, artillery
    # an IRI of the graph in the results opens here
    link = page.locator(".yasr table.dataTable a[href*='/id/']").first
    link.dispatch_event("click")  # (the column resizer's grips lie over the cells' edges)
    page.wait_for_url(server.url + "/id/**")


def test_yasgui_keeps_its_tabs_and_links_to_a_query(page, server, browser):
    """Tabs and their queries survive a reload; a page opened with a query shows it in a tab
    of its own with its view; "Link to this query" opens the query and view anywhere."""
    page.goto(server.url + "/sparql")
    page.locator(".yasqe .CodeMirror").wait_for()
    mine = "SELECT ?s WHERE { ?s a crink:State } ORDER BY ?s"
    page.locator(".yasqe .CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(mine)
    page.reload()  # with the editor still focused: what was typed is kept all the same
    page.locator(".yasqe .CodeMirror").wait_for()
    visible = "() => [...document.querySelectorAll('.CodeMirror')]" \
              ".filter(e => e.offsetParent !== null)[0].CodeMirror.getValue()"
    assert page.evaluate(visible) == mine
    # a shared link: its query in a new tab, beside the one kept, with its view
    shared = "ASK { id:iran crink:supplies id:russia }"
    page.goto(server.url + "/sparql?" + requests.compat.urlencode(
        {"query": shared, "view": "inferred"}))
    page.wait_for_function("() => document.querySelectorAll('.tabsList .tab').length === 2")
    page.locator(".yasqe .CodeMirror:visible").wait_for()
    assert page.evaluate(visible) == shared
    assert page.locator("#yasgui-view").input_value() == "inferred"
    link = page.locator("#yasgui-link")
    href = link.get_attribute("href")
    assert "view=inferred" in href and requests.compat.quote_plus("crink:supplies") in href
    # the first tab keeps its own view
    page.locator(".tabsList .tab").first.locator("a").click()
    page.wait_for_function(f"() => ({visible})() === {mine!r}")
    assert page.locator("#yasgui-view").input_value() == "all"
    assert "view=" not in page.locator("#yasgui-link").get_attribute("href")
    assert axe(page) == []
    # the link opens the query and its view in a browser that kept nothing
    context, other = _watched_page(browser, server)
    try:
        other.goto(href)
        other.locator(".yasqe .CodeMirror").wait_for()
        assert other.evaluate(visible) == shared
        assert other.locator("#yasgui-view").input_value() == "inferred"
        assert other.locator(".tabsList .tab").count() == 1
        assert not other.errors and not other.elsewhere
    finally:
        context.close()


def test_query_error_is_shown(page, server):
    page.goto(server.url + "/sparql")
    editor = page.locator(".yasqe .CodeMirror")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("SELECT ?s WHERE { ?s a crink:State FILTER(")
    page.evaluate("document.querySelector('.CodeMirror').CodeMirror.setValue("
                  "'SELECT ?s WHERE { ?s a crink:State } LIMT 3')")
    page.locator(".yasqe .yasqe_queryButton").click()
    error = page.locator(".yasr .errorResult")
    error.wait_for()
    assert "LIMT" in error.inner_text() or "syntax" in error.inner_text().lower()
    shot(page, "query-error")
    page.errors.clear()  # the browser logs the endpoint's 400 as a failed resource load


# -- claims in their text -----------------------------------------------------------------------

def test_claim_page_highlights_exactly_its_sentence(page, server):
    claim = "https://w3id.org/crinkkg/id/iran-shahed-drones-to-russia"
    anchors = select(server, f"""PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?exact ?start ?end WHERE {{ <{claim}> crink:statedIn ?a .
          ?a oa:hasSelector ?q , ?p . ?q oa:exact ?exact . ?p oa:start ?start ; oa:end ?end }}
        ORDER BY ?start""")
    assert anchors
    page.goto(server.url + "/id/iran-shahed-drones-to-russia")
    marks = page.locator(".in-text mark.focus")
    assert marks.all_inner_texts() == [a["exact"]["value"] for a in anchors]
    # inside its paragraph: the text around it is there, not highlighted
    paragraph = page.locator(".source-excerpt p.text-para").first
    assert len(paragraph.inner_text()) > len(anchors[0]["exact"]["value"]) + 40
    assert page.locator(".claim-facts").inner_text().count("How the source states it") == 1
    assert axe(page) == []
    shot(page, "claim")


def test_source_page_marks_every_claim(page, server):
    page.goto(server.url + "/id/source-crink-article")
    refs = page.locator(".source-text a.claim-ref")
    assert refs.count() >= 50
    # each numbered link follows the highlighted passage it closes (passages that several
    # claims share carry one link per claim)
    before = refs.evaluate_all("""refs => refs.map(a => {
        let p = a.previousElementSibling;
        while (p && p.matches('a.claim-ref')) { p = p.previousElementSibling; }
        return p ? p.tagName + '.' + p.className : ''; })""")
    assert set(before) == {"MARK.claim"}
    assert axe(page) == []
    shot(page, "source")
    first = refs.first
    target = first.get_attribute("href")
    first.click()
    page.wait_for_url(server.url + target)
    assert page.locator(".in-text mark.focus").count() >= 1


def test_inferred_link_leads_to_the_claims_behind_it(page, server):
    page.goto(server.url + "/id/north-korea")
    details = page.locator("#inferred-heading ~ details")
    if not details.evaluate("d => d.open"):  # long lists start folded: a reader unfolds them
        details.locator("summary").click()
    behind = page.locator("#inferred-heading ~ details .behind a").first
    assert behind.is_visible()
    behind.click()
    page.wait_for_load_state()
    assert page.locator(".in-text mark.focus").count() >= 1
    page.goto(server.url + "/id/north-korea")
    assert axe(page) == []
    shot(page, "entity")


# -- other page types --------------------------------------------------------------------------

def test_ontology_term_anchor(page, server):
    page.goto(server.url + "/ontology#alliedWith")
    term = page.locator("#alliedWith")
    assert term.is_visible()
    assert page.evaluate("document.querySelector(':target').id") == "alliedWith"
    assert "symmetric" in term.inner_text()
    assert axe(page) == []
    shot(page, "ontology-term", full_page=False)


# -- search ------------------------------------------------------------------------------------

def test_search_page_marks_a_phrase_and_leads_to_its_claims(page, server):
    page.goto(server.url + "/search")
    page.get_by_label("Words to find").fill('"mutual disdain" Iran')
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search?q=*")
    first = page.locator("ol.search-hits li.passage").first
    assert first.locator("mark").all_inner_texts() == ["Iran", "mutual disdain"]
    assert "Iran Faces Crisis Alone" in first.locator(".where a").inner_text()
    assert axe(page) == []
    shot(page, "search")
    first.locator("ul.claims a", has_text="cooperation of convenience").click()
    page.wait_for_url(server.url + "/id/russia-iran-partnership")


def test_yasgui_completes_the_graphs_own_resources(page, server):
    page.goto(server.url + "/sparql")
    editor = page.locator(".yasqe .CodeMirror")
    editor.wait_for()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    with page.expect_response(lambda r: "/sparql/complete" in r.url) as answered:
        page.keyboard.type("SELECT * WHERE { id:russia-d")
        page.keyboard.press("Control+Space")  # asked of this server's index, as one types
    assert answered.value.status == 200
    hints = page.locator(".CodeMirror-hints li")
    hints.first.wait_for()
    texts = hints.all_inner_texts()
    assert texts[0].startswith("id:russia-dprk-treaty-2024")
    assert "Russia-North Korea treaty (2024)" in texts[0]  # the label beside the name
    assert axe(page) == []
    shot(page, "query-completion", full_page=False)
    page.keyboard.press("Enter")
    assert page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()") \
        == "SELECT * WHERE { id:russia-dprk-treaty-2024"
    assert axe(page) == []


@pytest.mark.parametrize("path", ["/graph/data/russia-iran", "/graph/inferred", "/id/atlantis",
                                  "/compare/iran/russia", "/compare/matter-su-35-for-iran",
                                  "/search?q=treaty*", "/search?q=%22%20%22"])
def test_other_pages_pass_axe(page, server, path):
    page.goto(server.url + path)
    assert axe(page) == []
    if path in ("/id/atlantis", "/search?q=%22%20%22"):
        page.errors.clear()  # the 404 or 400 itself is logged as a failed resource load
