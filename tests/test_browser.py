"""A real headless Chromium (Debian's ``chromium``, driven by Playwright with the system
executable) walks through the site as a newcomer would: the overview, an example query,
a result link to an entity page, and an ontology term. Screenshots go to
``test-artifacts/``. Every request must stay on the server: the pages work offline.

Locally, without Chromium or Playwright, these tests skip; under CI (``CI=true``) that is a
failure.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT, require
from servers import project_server

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    elsewhere: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server.url)
            or r.url.startswith("data:") else elsewhere.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not elsewhere, f"requests left the server: {elsewhere}"
    assert not errors, f"script errors: {errors}"


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_walkthrough(page, server):
    # 1. the overview: network with legend, timeline
    page.goto(server.url + "/")
    assert page.locator("h1").inner_text() == "The CRINK knowledge graph"
    network = page.locator("svg.network")
    assert network.is_visible()
    assert network.locator("a.node").count() >= 7
    assert network.locator("a.edge").count() >= 10
    assert page.locator("ul.legend li").count() >= 6
    assert page.locator("svg.timeline").is_visible()
    box = network.bounding_box()
    assert box and box["width"] > 600 and box["height"] > 300
    shot(page, "overview")

    # 2. the query page: one click on an example runs it
    page.get_by_role("link", name="Query", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("textarea#query").is_visible()
    page.locator("a.example").first.click()
    page.wait_for_load_state()
    table = page.locator("table.results-table")
    assert table.is_visible()
    rows = table.locator("tbody tr")
    assert rows.count() >= 4
    assert "CRINK" in page.locator("textarea#query").input_value()
    shot(page, "query-example")

    # 3. follow a result link to an entity page
    link = table.locator('a[href^="/id/"]').first
    name = link.inner_text()
    link.click()
    page.wait_for_load_state()
    assert page.url.startswith(server.url + "/id/")
    assert page.locator("h1").inner_text() == name
    assert page.locator("ul.types li").count() >= 1
    assert page.locator("table.facts").first.is_visible()
    assert page.locator("#inferred-heading").count() == 1
    assert page.locator(".badge.inferred").first.is_visible()
    assert page.locator("svg.neighbourhood").is_visible()
    shot(page, "entity")


def test_entity_page_of_a_claim(page, server):
    page.goto(server.url + "/id/russia-dprk-treaty-2024")
    assert page.locator("#sources-heading").is_visible()
    assert page.get_by_role("link", name="Iran Faces Crisis Alone (news article)").first \
        .is_visible()
    assert page.locator("blockquote").count() >= 1
    # a node of the neighbourhood diagram is a link to its page
    page.locator('svg.neighbourhood a[href="/id/pyongyang"] circle').click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Pyongyang"
    page.goto(server.url + "/id/russia-dprk-treaty-2024")
    shot(page, "entity-claim")


def test_query_error_is_shown_at_its_line(page, server):
    page.goto(server.url + "/sparql")
    page.locator("textarea#query").fill("SELECT ?s WHERE {\n  ?s a crink:State\n  FILTER(\n}")
    page.get_by_role("button", name="Run query").click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    assert alert.is_visible()
    assert "syntax-error" in alert.inner_text()
    assert page.locator(".error-line").is_visible()
    shot(page, "query-error")


def test_ontology_term_anchor(page, server):
    page.goto(server.url + "/ontology#alliedWith")
    term = page.locator("#alliedWith")
    assert term.is_visible()
    assert page.evaluate("document.querySelector(':target').id") == "alliedWith"
    assert "symmetric" in term.inner_text()
    page.screenshot(path=str(ARTIFACTS / "ontology-term.png"))
