"""The support of derived links in a real headless Chromium (see tests/test_browser.py for
the set-up): on the small two-source data set of tests/fixtures/support, the network draws a
link resting only on a headline differently from one two sources state as fact, its control
(and the page's ``?min-fact-sources=N``) keeps only the links stated as fact by N sources,
and the entity and claim pages show what each link rests on. No console error, no CSP
violation, no request leaving the server, axe clean.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from servers import start_server
from test_browser import _watched_page, axe, browser, shot  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "support"
ID = "https://w3id.org/crinkkg/id/"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = tmp_path_factory.mktemp("support-browser") / "store"
    handle = start_server(store, data=FIXTURE)
    yield handle
    handle.stop()


@pytest.fixture
def page(browser, server):  # noqa: F811 (the browser fixture of test_browser)
    context, page = _watched_page(browser, server)
    yield page
    context.close()
    assert not page.elsewhere, f"requests left the server: {page.elsewhere}"
    assert not page.errors, f"console errors or CSP violations: {page.errors}"


def derived_edges(page) -> dict[tuple[str, str], dict]:
    data = json.loads(page.locator("#network-data").text_content())
    return {(e["data"]["source"].removeprefix(ID), e["data"]["target"].removeprefix(ID)):
            e["data"] for e in data["elements"]
            if e["group"] == "edges" and e["data"].get("derived")}


def test_the_network_draws_derived_links_by_their_support(page, server):
    page.goto(server.url + "/")
    page.locator("#cy[data-rendered-ms]").wait_for(state="attached")
    edges = derived_edges(page)
    # Aland supplies Cland: only A's headline -> weak, dashed; Dland sells oil to Bland:
    # A and B state it as fact -> corroborated, thick; Aland arms Bland: one fact, one hedge
    weak, strong, one = edges[("aland", "cland")], edges[("dland", "bland")], \
        edges[("aland", "bland")]
    assert (weak["kind"], weak["dashed"], weak["factSources"]) == ("derived-weak", True, 0)
    assert (strong["kind"], strong["dashed"], strong["factSources"]) == \
        ("derived-corroborated", False, 2)
    assert (one["kind"], one["factSources"], one["sourceCount"]) == ("derived-fact", 1, 2)
    assert strong["width"] > one["width"]
    # the alliance is symmetric: one undirected edge for the pair
    allied = [e for k, e in edges.items() if set(k) == {"cland", "dland"}]
    assert len(allied) == 1 and not allied[0]["directed"]
    assert axe(page) == []
    shot(page, "support-network")

    # the control: stated as fact by at least two sources
    cy = page.locator("#cy")
    total = int(cy.get_attribute("data-shown"))
    page.select_option("select[name=min-fact-sources]", "2")
    corroborated = [e for e in edges.values() if e["factSources"] >= 2]
    assert int(cy.get_attribute("data-shown-derived")) == len(corroborated) >= 1
    assert int(cy.get_attribute("data-shown")) == total - len(edges) + len(corroborated)
    hidden = page.evaluate("[...document.querySelectorAll('li[data-link]')]"
                           ".filter(li => li.hidden).length")
    assert hidden == len(edges) - len(corroborated)
    page.select_option("select[name=min-fact-sources]", "0")
    page.select_option("select[name=min-sources]", "2")
    assert int(cy.get_attribute("data-shown-derived")) == \
        sum(1 for e in edges.values() if e["sourceCount"] >= 2)
    shot(page, "support-network-filtered")


def test_the_page_parameter_draws_only_links_stated_as_fact_by_two_sources(browser, server):  # noqa: F811, E501
    context, page = _watched_page(browser, server, java_script_enabled=False)
    try:
        page.goto(server.url + "/?min-fact-sources=2")
        svg = page.locator("svg.network")
        assert svg.locator("a.edge-derived-corroborated").count() >= 1
        assert svg.locator("a.edge-derived-fact, a.edge-derived-weak").count() == 0
        page.goto(server.url + "/")
        assert page.locator("svg.network a.edge-derived-weak").count() >= 1
        dash = page.locator("svg.network a.edge-derived-weak path").first.get_attribute(
            "stroke-dasharray")
        assert dash
        assert page.locator("svg.network a.edge-derived-corroborated path").first \
            .get_attribute("stroke-dasharray") is None
    finally:
        context.close()
    assert not page.elsewhere


def test_entity_and_claim_pages_show_the_support(page, server):
    page.goto(server.url + "/id/aland")
    weak = page.locator("table .support-weak").first
    assert weak.is_visible() and "0 stating it as fact" in weak.inner_text()
    assert page.locator("table .support-fact").count() >= 1
    assert axe(page) == []
    shot(page, "support-entity")
    page.goto(server.url + "/id/aland?min-fact-sources=1")
    assert page.locator("table .support-weak").count() == 0
    assert "hidden" in page.locator(".filter-note").inner_text()
    # the headline claim lists the links that rest on it
    page.goto(server.url + "/id/t3-headline")
    rows = page.locator("table.resting tbody tr")
    assert rows.count() == 3  # Aland supplies Cland, and cooperates with it both ways
    assert axe(page) == []
    # a derived link's own page: what it rests on
    page.goto(server.url + "/id/link/dland--sellsOilTo--bland")
    assert "Dland sells oil to Bland" in page.locator("h1").inner_text()
    assert axe(page) == []
