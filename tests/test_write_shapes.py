"""Writes are held to the build's shapes and anchors, over real HTTP, on every backend.

A SPARQL Update or a Graph Store write whose result would break a shape or drift from a
stored text is refused with 422 and the build's own report, and nothing is applied (the
whole dataset, inferred graph included, is quad for quad what it was); a well-formed claim
is accepted. The same on the embedded store and over Oxigraph server and Virtuoso.
``crinkkg publish`` refuses to send what the build's checks refuse.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from servers import ROOT, backend_args, publish, run_crinkkg, start_server

from crinkkg.inputs.anchors import selectors_for
from crinkkg.store.layout import StoreLayout

TOKEN = "write-shapes-token-0123456789"
TEST_GRAPH = "https://w3id.org/crinkkg/graph/data/test-writes"
#: the write of the issue: an arms transfer with no source, no anchor, no modality
SOURCELESS = ("INSERT DATA { id:x a crink:ArmsTransfer ; crink:armsSupplier id:china ; "
              "crink:armsRecipient id:russia }")
SOURCELESS_TURTLE = (b"@prefix crink: <https://w3id.org/crinkkg/ontology#> .\n"
                     b"@prefix id: <https://w3id.org/crinkkg/id/> .\n"
                     b"id:x a crink:ArmsTransfer ; crink:armsSupplier id:china ; "
                     b"crink:armsRecipient id:russia .\n")
SHORTCUT = "ASK { id:china crink:suppliesArmsTo id:russia }"
#: a claim with its source (which has no stored text: no anchor needed) and its modality
WELL_FORMED = f"""INSERT DATA {{ GRAPH <{TEST_GRAPH}> {{
  id:source-test-report a crink:NewsArticle ; rdfs:label "A test report"@en ;
    dcterms:title "A test report"@en .
  id:test-drones a crink:DroneTransfer ; rdfs:label "Test: drones to Russia"@en ;
    crink:armsSupplier id:china ; crink:armsRecipient id:russia ;
    crink:hasItemKind crink:kind-drones ; crink:hasStatus crink:status-delivered ;
    crink:hasModality crink:modality-asserted ; prov:wasDerivedFrom id:source-test-report .
}} }}"""
ARTICLE = ROOT / "data" / "texts" / "crink-article.txt"
SENTENCE = "Iran has supplied Russia with Shahed drones and artillery"


def anchored(node: str, shift: int = 0) -> str:
    """A claim of the article anchored to its sentence (``shift`` moves the positions).

    ``INSERT {…} WHERE {}``, not ``INSERT DATA``: Virtuoso refuses blank nodes in the data
    of an ``INSERT DATA`` (SP031), and the passage and its selectors are blank nodes."""
    s = selectors_for(ARTICLE.read_text(encoding="utf-8"), SENTENCE)
    s = type(s)(s.exact, s.prefix, s.suffix, s.start + shift, s.end + shift)
    return f"""INSERT {{ GRAPH <{TEST_GRAPH}> {{
  id:{node} a crink:DroneTransfer ; rdfs:label "Test: Iran supplies drones to Russia"@en ;
    crink:armsSupplier id:iran ; crink:armsRecipient id:russia ;
    crink:hasItemKind crink:kind-drones ; crink:hasStatus crink:status-delivered ;
    crink:hasModality crink:modality-asserted ; prov:wasDerivedFrom id:source-crink-article ;
    crink:statedIn {s.turtle("id:source-crink-article")} .
}} }} WHERE {{}}"""


def update(server, text: str, accept: str = "application/json") -> requests.Response:
    return requests.post(server.sparql, data=text.encode(), timeout=300,
                         headers={"Content-Type": "application/sparql-update",
                                  "Accept": accept, "Authorization": f"Bearer {TOKEN}"})


def ask(server, text: str) -> bool:
    r = requests.get(server.sparql, params={"query": text},
                     headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["boolean"]


def dataset(server) -> list[str]:
    """Every quad the server holds (asserted and inferred), sorted."""
    r = requests.get(server.store, headers={"Accept": "application/n-quads"}, timeout=120)
    assert r.status_code == 200, r.text
    return sorted(r.text.splitlines())


def refused(server, response: requests.Response, before: list[str], kind: str) -> dict:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] in kind.split("|") and body["status"] == 422, body
    assert dataset(server) == before, "a refused write changed the store"
    return body


def exercise(server) -> None:
    """Every refusal and acceptance, against one running server."""
    shortcut = ask(server, SHORTCUT)
    before = dataset(server)

    # the sourceless transfer: refused with the build's report, nothing applied
    body = refused(server, update(server, SOURCELESS), before, "shapes-violated")
    found = {(v["focus"], v["path"]) for v in body["violations"]}
    assert ("id:x", "prov:wasDerivedFrom") in found and ("id:x", "crink:hasModality") in found
    source = next(v for v in body["violations"] if v["path"] == "prov:wasDerivedFrom")
    assert "who says so?" in source["message"] and source["severity"] == "Violation"
    assert "Violation: id:x / prov:wasDerivedFrom: A claim node needs" in body["message"]
    assert "nothing" not in body["hint"] and "shapes" in body["hint"]
    assert ask(server, SHORTCUT) == shortcut
    assert not ask(server, "ASK { id:x ?p ?o }")
    text = update(server, SOURCELESS, accept="text/plain")  # the build's report, as text
    assert text.status_code == 422
    assert text.text.startswith("422 shapes-violated: the update was not applied: SHACL "
                                "validation failed with")
    assert "  - Violation: id:x / prov:wasDerivedFrom: A claim node needs" in text.text

    # removing the source of an existing claim: refused
    body = refused(server, update(server, (
        "DELETE { GRAPH ?g { id:iran-shahed-drones-to-russia prov:wasDerivedFrom ?s } } "
        "WHERE { GRAPH ?g { id:iran-shahed-drones-to-russia prov:wasDerivedFrom ?s } }")),
        before, "shapes-violated")
    assert ("id:iran-shahed-drones-to-russia", "prov:wasDerivedFrom") in \
        {(v["focus"], v["path"]) for v in body["violations"]}

    # an anchor that is not the text at its positions: the build's anchor report
    body = refused(server, update(server, anchored("test-misanchored", shift=1)), before,
                   "anchor-mismatch")
    [drift] = body["drifts"]
    assert drift["claim"].endswith("/id/test-misanchored") and "oa:exact" in drift["problem"]

    # Graph Store writes go the same way
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/turtle",
            "Accept": "application/json"}
    for method in (requests.put, requests.post):
        r = method(server.store, params={"graph": TEST_GRAPH}, data=SOURCELESS_TURTLE,
                   headers=auth, timeout=300)
        refused(server, r, before, "shapes-violated")
    r = requests.post(server.store, data=SOURCELESS_TURTLE, headers=auth, timeout=300)
    refused(server, r, before, "shapes-violated")  # a new graph of its own
    r = requests.delete(server.store,
                        params={"graph": "https://w3id.org/crinkkg/graph/data/sources"},
                        headers=auth, timeout=300)
    # every claim would lose its source, and the article its stored text: the anchors are
    # checked first, as in a build
    body = refused(server, r, before, "anchor-mismatch")
    assert any("has no stored text" in d["problem"] for d in body["drifts"])

    # well-formed claims are accepted: with a source that has no stored text, no anchor...
    r = update(server, WELL_FORMED)
    assert r.status_code == 200, r.text
    assert ask(server, "ASK { GRAPH <https://w3id.org/crinkkg/graph/inferred> "
                       "{ id:china crink:suppliesArmsTo id:russia } }")
    # ... and with an anchor that is the text at its positions
    r = update(server, anchored("test-anchored"))
    assert r.status_code == 200, r.text
    assert ask(server, "ASK { id:test-anchored crink:statedIn/oa:hasSource "
                       "id:source-crink-article }")


@pytest.fixture
def curated_store(tmp_path) -> Path:
    """A store of the curated project of its own (updates change it)."""
    return tmp_path / "store"


def test_writes_meet_the_shapes_on_the_embedded_store(curated_store) -> None:
    with start_server(curated_store, "--enable-update",
                      env={"CRINKKG_UPDATE_TOKEN": TOKEN}) as server:
        version = requests.get(server.url + "/health", timeout=30).json()["version"]
        r = update(server, SOURCELESS)
        assert r.status_code == 422
        # nothing was published: the same store version is served
        assert requests.get(server.url + "/health", timeout=30).json()["version"] == version
        exercise(server)


@pytest.mark.parametrize("remote", ["oxigraph", "virtuoso"])
def test_writes_meet_the_shapes_over_a_remote_store(remote, request, curated_store) -> None:
    store = request.getfixturevalue(remote)
    publish(store, curated_store)
    with start_server(curated_store, "--enable-update", env={"CRINKKG_UPDATE_TOKEN": TOKEN},
                      global_args=backend_args(store)) as server:
        exercise(server)


def _project(root: Path) -> tuple[Path, Path, Path]:
    shutil.copytree(ROOT / "ontology", root / "ontology")
    shutil.copytree(ROOT / "data", root / "data")
    return root / "ontology", root / "data", root / "store"


def test_publish_sends_nothing_the_build_would_refuse(oxigraph, tmp_path) -> None:
    ontology, data, store = _project(tmp_path)
    where = ["--store", str(store), "--ontology", str(ontology), "--data", str(data)]
    built = run_crinkkg(*where, "build", "--quiet")
    assert built.returncode == 0, built.stderr
    # a store changed behind the build's back (here: directly on disk) is not published
    db = ox.Store(str(StoreLayout(store).db()))
    db.update(SOURCELESS.replace("{", f"{{ GRAPH <{TEST_GRAPH}> {{", 1) + " }", prefixes={"id": "https://w3id.org/crinkkg/id/",
                                    "crink": "https://w3id.org/crinkkg/ontology#"})
    db.flush()
    del db
    done = run_crinkkg(*where, *backend_args(oxigraph), "publish", "--no-build", "--quiet")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Violation: id:x / prov:wasDerivedFrom: A claim node needs" in done.stderr
    assert oxigraph.graphs() == set()  # nothing was sent
    # inputs that fail the build publish nothing, not the last good store
    (data / "extra.ttl").write_bytes(SOURCELESS_TURTLE)
    done = run_crinkkg(*where, *backend_args(oxigraph), "publish", "--quiet")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Violation: id:x / prov:wasDerivedFrom" in done.stderr
    assert "last good store" not in done.stderr
    assert oxigraph.graphs() == set()
    (data / "extra.ttl").unlink()
    # the build cache still calls the tampered store current: publish refuses it again
    done = run_crinkkg(*where, *backend_args(oxigraph), "publish", "--quiet")
    assert done.returncode == 3 and "id:x / prov:wasDerivedFrom" in done.stderr
    assert run_crinkkg(*where, "build", "--force", "--quiet").returncode == 0
    publish(oxigraph, store, ontology, data)  # a rebuilt, valid store is published
    assert oxigraph.graphs()
