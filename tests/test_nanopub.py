"""Each claim's evidence as a nanopublication (``/np/{claim}``; issue 20, item 6): well formed
by the ``nanopub`` library's own check, its assertion what the source states, its provenance
the quoted words exactly as they stand in the stored text whose SHA-256 it gives, its
publication info the store version the server serves; its IRI the same while the evidence
is."""

from __future__ import annotations

import hashlib
import re
import warnings

import pytest
import requests
from conftest import ROOT
from rdflib import Dataset, URIRef
from servers import project_server

from crinkkg.web.services.nanopub import PROVENANCE

BASE = "https://w3id.org/crinkkg/"
CRINK = BASE + "ontology#"
OA = "http://www.w3.org/ns/oa#"
NP = "http://www.nanopub.org/nschema#"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def claims(server) -> list[str]:
    """Every claim of the curated graph: the nodes with a passage that states them."""
    r = requests.post(server.sparql, data={"query": "SELECT DISTINCT ?c { ?c crink:statedIn "
                                                    "?p FILTER(isIRI(?c)) } ORDER BY ?c"},
                      headers={"Accept": "application/sparql-results+json"}, timeout=30)
    found = [b["c"]["value"] for b in r.json()["results"]["bindings"]]
    assert len(found) >= 100
    return found


def fetch(server, claim: str, **headers: str) -> requests.Response:
    return requests.get(server.url + "/np/" + claim[len(BASE) + 3:], headers=headers,
                        timeout=30)


def parse(body: str, fmt: str = "trig") -> Dataset:
    ds = Dataset()
    ds.parse(data=body, format=fmt)
    return ds


def test_every_claim_has_a_well_formed_nanopublication(server, claims) -> None:
    from nanopub import Nanopub
    from rdflib import ConjunctiveGraph

    texts = {}
    version = requests.get(server.url + "/health", timeout=30).json()["version"]
    for claim in claims:
        r = fetch(server, claim)
        assert r.status_code == 200, (claim, r.text[:300])
        assert r.headers["Content-Type"].startswith("application/trig")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the library's own graph
            graph = ConjunctiveGraph()
            graph.parse(data=r.text, format="trig")
            np = Nanopub(rdf=graph)
        assert np.is_valid
        iri = next(graph.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                  URIRef(NP + "Nanopublication")))
        assert r.headers["Content-Location"] == \
            "/" + str(iri)[len(BASE):] + ".trig"
        # the assertion: what the source states, and nothing of where or how
        assert (URIRef(claim), None, None) in np.assertion
        assert not any(str(p) in PROVENANCE for p in np.assertion.predicates())
        # the provenance: each quote byte for byte at its place in the text of that digest
        quotes = list(np.provenance.subject_objects(URIRef(OA + "exact")))
        assert quotes, claim
        for anchor in np.provenance.objects(URIRef(claim), URIRef(CRINK + "statedIn")):
            source = np.provenance.value(anchor, URIRef(OA + "hasSource"))
            digest = str(np.provenance.value(source, URIRef(CRINK + "sha256")))
            if digest not in texts:
                stored = next(p for p in (ROOT / "data" / "texts").iterdir()
                              if hashlib.sha256(p.read_bytes()).hexdigest() == digest)
                texts[digest] = stored.read_text(encoding="utf-8")
            selectors = list(np.provenance.objects(anchor, URIRef(OA + "hasSelector")))
            exact = next(str(np.provenance.value(s, URIRef(OA + "exact"))) for s in selectors
                         if np.provenance.value(s, URIRef(OA + "exact")) is not None)
            start = next(int(np.provenance.value(s, URIRef(OA + "start"))) for s in selectors
                         if np.provenance.value(s, URIRef(OA + "start")) is not None)
            end = next(int(np.provenance.value(s, URIRef(OA + "end"))) for s in selectors
                       if np.provenance.value(s, URIRef(OA + "end")) is not None)
            assert texts[digest][start:end] == exact
            # the assertion annotates that passage
            assert any(np.provenance.value(a, URIRef(OA + "hasTarget")) == anchor
                       for a in np.provenance.subjects(URIRef(OA + "hasBody"),
                                                       np.metadata.assertion))
        # the publication info: the claim and the version served
        info = " ".join(str(o) for o in np.pubinfo.objects())
        assert claim in info and version in info


def test_the_iri_stays_while_the_evidence_does(server, claims) -> None:
    claim = BASE + "id/iran-shahed-drones-to-russia"
    first, second = fetch(server, claim), fetch(server, claim)
    assert first.text == second.text  # canonical blank nodes: the same bytes
    location = first.headers["Content-Location"]
    match = re.fullmatch(r"/np/iran-shahed-drones-to-russia\.([0-9a-f]{16})\.trig", location)
    assert match
    by_iri = requests.get(server.url + location[:-len(".trig")], timeout=30)
    assert by_iri.status_code == 200 and by_iri.text == first.text
    # other evidence, another digest; a digest that is not the current one is a 404
    other = fetch(server, BASE + "id/iran-artillery-to-russia").headers["Content-Location"]
    assert other.rsplit(".", 2)[1] != match[1]
    stale = requests.get(server.url + "/np/iran-shahed-drones-to-russia.0123456789abcdef",
                         timeout=30)
    assert stale.status_code == 404 and match[1] in stale.text
    # N-Quads, the same quads
    nq = fetch(server, claim, Accept="application/n-quads")
    assert nq.headers["Content-Type"].startswith("application/n-quads")
    assert len(parse(nq.text, "nquads")) == len(parse(first.text))


def test_what_is_no_claim_has_no_nanopublication(server) -> None:
    for name in ("russia", "no-such-thing", "source-crink-article"):
        r = requests.get(server.url + "/np/" + name, timeout=30)
        assert r.status_code == 404, name
        assert "is not a claim" in r.text


def test_the_claim_page_links_to_it(server) -> None:
    page = requests.get(server.url + "/id/iran-shahed-drones-to-russia",
                        headers={"Accept": "text/html"}, timeout=30).text
    assert 'href="/np/iran-shahed-drones-to-russia"' in page
    entity = requests.get(server.url + "/id/russia", headers={"Accept": "text/html"},
                          timeout=30).text
    assert "/np/" not in entity
