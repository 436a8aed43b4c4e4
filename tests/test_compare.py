"""Sources side by side (issue 20, item 5): ``/compare/{a}/{b}`` lists every claim that
names both, by source, with its words, modality, time and status, the recorded differences
and the matters that tie accounts of several sources, and the links derived between the
pair with their support; ``/compare/{matter}`` does the same for one matter's accounts.
Checked against SPARQL over the same server."""

from __future__ import annotations

import html
import re

import pytest
import requests
from servers import project_server

ID = "https://w3id.org/crinkkg/id/"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


def select(server, sparql: str, view: str = "asserted") -> list[dict]:
    r = requests.post(server.sparql, data={"query": sparql, "view": view},
                      headers={"Accept": "application/sparql-results+json"}, timeout=30)
    r.raise_for_status()
    return r.json()["results"]["bindings"]


def page(server, path: str) -> requests.Response:
    return requests.get(server.url + path, headers={"Accept": "text/html"}, timeout=30)


def section_of(text: str, source_label: str) -> str:
    """The part of the page under the heading of one source."""
    start = text.index(f">{html.escape(source_label, quote=True)}</a></h2>")
    end = text.find("<h2", start + 1)
    return text[start:end if end > 0 else None]


@pytest.mark.parametrize("a,b", [("iran", "russia"), ("russia", "north-korea"),
                                 ("china", "iran")])
def test_a_pair_shows_every_claim_that_names_both_by_source(server, a: str, b: str) -> None:
    r = page(server, f"/compare/{a}/{b}")
    assert r.status_code == 200, r.text[:300]
    text = r.text
    rows = select(server, f"""SELECT DISTINCT ?c ?src ?srcLabel ?words WHERE {{
      ?c ?p1 id:{a} ; ?p2 id:{b} ; prov:wasDerivedFrom ?src .
      ?src rdfs:label ?srcLabel .
      OPTIONAL {{ ?c crink:statedIn/oa:hasSelector/oa:exact ?words }} }}""")
    claims = {r["c"]["value"] for r in rows}
    assert len(claims) >= 2
    for row in rows:
        local = row["c"]["value"][len(ID):]
        part = section_of(text, row["srcLabel"]["value"])
        assert f'href="/id/{local}"' in part, (local, row["srcLabel"]["value"])
        if "words" in row:
            assert row["words"]["value"] in html.unescape(part)
    shown = set(re.findall(r'<th scope="row"><a href="/id/([^"]+)"', text.split(
        'id="links-heading"')[0]))
    assert {ID + s for s in shown} == claims
    # the derived links between them, both ways, with their support
    links = select(server, f"""SELECT ?link WHERE {{ GRAPH <https://w3id.org/crinkkg/graph/support>
      {{ ?link crink:linkSubject ?s ; crink:linkObject ?o }}
      VALUES (?s ?o) {{ (id:{a} id:{b}) (id:{b} id:{a}) }} }}""", view="all")
    for link in links:
        assert f'href="/id/{link["link"]["value"][len(ID):]}"' in text
    assert links or "the reasoner derives no link between them" in text


def test_a_matter_shows_its_accounts_and_where_they_differ(server) -> None:
    r = page(server, "/compare/matter-russia-dprk-treaty-2024")
    assert r.status_code == 200
    text = r.text
    accounts = select(server, "SELECT ?c WHERE { id:matter-russia-dprk-treaty-2024 "
                              "crink:hasAccount ?c }")
    assert len(accounts) == 3
    for c in accounts:
        assert f'href="/id/{c["c"]["value"][len(ID):]}"' in text
    assert "Where the sources differ" in text and "the day the treaty was signed" in text
    assert text.count('class="differs"') == 2  # the two signing days, not the article's
    assert "3 claims from 3 sources; 1 recorded difference" in text


def test_matters_tie_accounts_of_several_sources(server) -> None:
    text = page(server, "/compare/matter-iran-drones-to-russia").text
    assert "Where the sources differ" not in text  # none is recorded for this matter
    assert text.count('class="several"') == 3


def test_what_cannot_be_compared_is_a_404(server) -> None:
    for path in ("/compare/iran/atlantis", "/compare/russia/russia", "/compare/russia",
                 "/compare/matter-nothing"):
        r = page(server, path)
        assert r.status_code == 404, path


def test_pages_link_to_the_comparisons(server) -> None:
    state = page(server, "/id/iran").text
    assert 'href="/compare/iran/russia"' in state and 'href="/compare/iran/china"' in state
    matter = page(server, "/id/matter-su-35-for-iran").text
    assert 'href="/compare/matter-su-35-for-iran"' in matter
    claim = page(server, "/id/iran-shahed-drones-to-russia").text
    assert "/compare/" not in claim
