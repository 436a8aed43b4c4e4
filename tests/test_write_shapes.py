"""Writes are held to the build's shapes and anchors, over real HTTP, on every backend.

A SPARQL Update or a Graph Store write whose result would break a shape or drift from a
stored text is refused with 422 and the build's own report, and nothing is applied (the
whole dataset, inferred graph included, is quad for quad what it was); a well-formed claim
is accepted. The same on the embedded store and over Oxigraph server and Virtuoso.
``crinkkg publish`` refuses to send what the build's checks refuse.
"""

from __future__ import annotations

import json
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
    # the article is divided into parts: a passage names the part it lies in
    passage = s.turtle("id:source-crink-article").replace(
        "oa:hasSource id:source-crink-article ;",
        "oa:hasSource id:source-crink-article ; crink:inPart id:crink-article-body ;", 1)
    return f"""INSERT {{ GRAPH <{TEST_GRAPH}> {{
  id:{node} a crink:DroneTransfer ; rdfs:label "Test: Iran supplies drones to Russia"@en ;
    crink:armsSupplier id:iran ; crink:armsRecipient id:russia ;
    crink:hasItemKind crink:kind-drones ; crink:hasStatus crink:status-delivered ;
    crink:hasModality crink:modality-asserted ; prov:wasDerivedFrom id:source-crink-article ;
    crink:statedIn {passage} .
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


def _violation_lines(text: str) -> list[str]:
    return sorted(line.strip() for line in text.splitlines()
                  if line.strip().startswith("- Violation:"))


def test_writes_meet_the_shapes_on_the_embedded_store(curated_store, tmp_path) -> None:
    # what `crinkkg validate` says of the same triples in a file
    ontology, data, _store = _project(tmp_path / "files")
    (data / "extra.ttl").write_bytes(SOURCELESS_TURTLE)
    checked = run_crinkkg("validate", "--ontology", str(ontology), "--data", str(data))
    assert checked.returncode == 3 and _violation_lines(checked.stderr), checked.stderr
    with start_server(curated_store, "--enable-update",
                      env={"CRINKKG_UPDATE_TOKEN": TOKEN}) as server:
        version = requests.get(server.url + "/health", timeout=30).json()["version"]
        r = update(server, SOURCELESS)
        assert r.status_code == 422
        # the same report, line for line
        assert _violation_lines(r.json()["message"]) == _violation_lines(checked.stderr)
        # nothing was published: the same store version is served
        assert requests.get(server.url + "/health", timeout=30).json()["version"] == version
        exercise(server)


@pytest.mark.parametrize("remote", ["oxigraph", "virtuoso"])
def test_writes_meet_the_shapes_over_a_remote_store(remote, request, curated_store) -> None:
    store = request.getfixturevalue(remote)
    publish(store, curated_store)
    with start_server(curated_store, "--enable-update", env={"CRINKKG_UPDATE_TOKEN": TOKEN},
                      global_args=backend_args(store)) as server:
        raw = _everything(store)
        assert update(server, SOURCELESS).status_code == 422
        # the store itself, every graph (manifest included, no staging graph left behind)
        assert _everything(store) == raw
        exercise(server)


def _everything(remote) -> list[tuple]:
    doc = remote.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    return sorted(tuple(json.dumps(b[k], sort_keys=True) for k in "gspo")
                  for b in doc["results"]["bindings"]
                  if b["g"]["value"] not in remote.system_graphs)


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


# -- the restricted check finds what the full check finds --------------------------------------

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
CRINK = "https://w3id.org/crinkkg/ontology#"
ID = "https://w3id.org/crinkkg/id/"
PROV = "http://www.w3.org/ns/prov#wasDerivedFrom"
OA = "http://www.w3.org/ns/oa#"


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    """The curated store's asserted quads (they meet the shapes) and the build's shapes."""
    from crinkkg.build.conformance import read_shapes
    from crinkkg.build.pipeline import build
    from crinkkg.settings import Settings
    from crinkkg.store.oxigraph import OxigraphStore

    settings = Settings(ontology_dir=ROOT / "ontology", data_dir=ROOT / "data",
                        store=tmp_path_factory.mktemp("reach") / "store")
    build(settings, root=ROOT)
    store = OxigraphStore.open(settings.store)
    inferred = ox.NamedNode("https://w3id.org/crinkkg/graph/inferred")
    quads = [q for q in store.quads() if q.graph_name != inferred]
    return quads, read_shapes(StoreLayout(settings.store).current())


def _violations(quads: list[ox.Quad], shapes, focus=None) -> set[tuple]:
    from rdflib import Graph

    from crinkkg.inputs.validation import check
    from crinkkg.terms import triples_to_graph

    data = Graph()
    triples_to_graph([q.triple for q in quads], data)
    return {(v.focus, v.path, v.message, v.value) for v in
            check(data, shapes, triples=[q.triple for q in quads], focus=focus)
            if v.severity == "Violation"}


def _compare(curated, removed: set[ox.Quad], added: set[ox.Quad]) -> tuple[set, set | None]:
    """The full check's violations after the change, and the focus nodes the restricted
    check looks at (``None``: it falls back to the full check). Fails the test when the
    restricted check misses a violation or reports another."""
    from crinkkg.build.conformance import focus_of

    before, shapes = curated
    after = [q for q in before if q not in removed] + sorted(added - set(before), key=str)
    stores = []
    for quads in (before, after):
        s = ox.Store()
        s.extend(quads)
        stores.append(s)
    full = _violations(after, shapes)
    focus = focus_of(shapes, before, after, stores)
    if focus is not None:
        restricted = _violations(after, shapes, focus) if focus else set()
        assert restricted == full, (removed, added, full ^ restricted)
    return full, focus


def _q(s: str, p: str, o, g: str = TEST_GRAPH) -> ox.Quad:
    obj = o if isinstance(o, (ox.Literal, ox.BlankNode)) else ox.NamedNode(o)
    return ox.Quad(ox.NamedNode(s), ox.NamedNode(p), obj, ox.NamedNode(g))


def _find(curated, predicate: str, subject: str | None = None) -> list[ox.Quad]:
    return [q for q in curated[0] if q.predicate.value == predicate
            and (subject is None or q.subject.value == subject)]


def test_a_deleted_source_is_caught_by_the_restricted_check(curated) -> None:
    """The cases that need a route: the claim is not the subject of the changed triple."""
    claim = ID + "iran-shahed-drones-to-russia"
    full, focus = _compare(curated, set(_find(curated, PROV, claim)), set())
    assert any(v[0] == "id:iran-shahed-drones-to-russia" for v in full)
    assert ox.NamedNode(claim) in focus
    # the passage loses its source: the claim (one step away) is checked again
    passage = next(q.object for q in _find(curated, CRINK + "statedIn", claim))
    has_source = {q for q in curated[0] if q.subject == passage
                  and q.predicate.value == OA + "hasSource"}
    full, focus = _compare(curated, has_source, set())
    assert full and ox.NamedNode(claim) in focus and passage in focus
    # the source stops being a source: every claim derived from it
    article = ID + "source-crink-article"
    full, focus = _compare(curated, set(_find(curated, RDF_TYPE, article)), set())
    assert ox.NamedNode(claim) in focus and len(full) > 10
    # a source gains a stored text: its claims need anchors (found through the source)
    source, derived = next((q.object, q.subject) for q in curated[0] if q.predicate.value == PROV
                           and not _find(curated, CRINK + "storedText", q.object.value))
    full, focus = _compare(curated, set(), {
        _q(source.value, CRINK + "storedText", ox.Literal("texts/x.txt"))})
    assert derived in focus and any(v[0].endswith(derived.value.rsplit("/", 1)[1])
                                    for v in full)
    # a change to the class hierarchy is only checked in full
    sub = _find(curated, SUBCLASS)[0]
    _full, focus = _compare(curated, {sub}, set())
    assert focus is None


def test_the_restricted_check_equals_the_full_check_on_random_writes(curated) -> None:
    """Random deletions, insertions, retypings and rewired links on the curated graph: the
    restricted check reports exactly the full check's violations every time."""
    import random

    rng = random.Random(19)
    quads = curated[0]
    data = [q for q in quads if "/graph/data/" in q.graph_name.value]
    nodes = sorted({q.subject for q in data} | {q.object for q in data
                                                 if not isinstance(q.object, ox.Literal)},
                   key=str)
    classes = sorted({q.object for q in data if q.predicate.value == RDF_TYPE}, key=str)
    literals = [ox.Literal("x"), ox.Literal("x", language="en"), ox.Literal("5"),
                ox.Literal("-3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema"
                                                        "#integer")),
                ox.Literal("2024-01-01T00:00:00",
                           datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))]
    graph = ox.NamedNode(TEST_GRAPH)
    violating = restricted = 0
    for _ in range(120):
        removed: set[ox.Quad] = set()
        added: set[ox.Quad] = set()
        for _ in range(rng.randint(1, 3)):
            kind = rng.randrange(6)
            q = rng.choice(data)
            if kind == 0:  # delete a triple
                removed.add(q)
            elif kind == 1:  # delete everything about a node
                removed |= {x for x in data if x.subject == q.subject}
            elif kind == 2:  # rewire: another subject or object
                if rng.random() < 0.5:
                    added.add(ox.Quad(rng.choice(nodes), q.predicate, q.object, graph))
                else:
                    added.add(ox.Quad(q.subject, q.predicate, rng.choice(nodes + literals),
                                      graph))
            elif kind == 3:  # retype a node
                added.add(ox.Quad(rng.choice(nodes), ox.NamedNode(RDF_TYPE),
                                  rng.choice(classes), graph))
            elif kind == 4:  # move a value onto another property of the same node
                other = rng.choice([x for x in data if x.subject == q.subject])
                removed.add(q)
                added.add(ox.Quad(q.subject, other.predicate, q.object, graph))
            else:  # a new node copying another's properties, one of them dropped
                props = [x for x in data if x.subject == q.subject]
                new = ox.NamedNode(ID + f"test-node-{rng.randrange(10**6)}")
                props.remove(rng.choice(props))
                added |= {ox.Quad(new, x.predicate, x.object, graph) for x in props}
        full, focus = _compare(curated, removed, added)
        violating += bool(full)
        restricted += focus is not None
    # the cases exercise both outcomes, and most are answered by the restricted check
    assert violating > 30 and 120 - violating > 10, violating
    assert restricted > 100, restricted


def test_a_store_without_its_shapes_takes_no_writes(tmp_path) -> None:
    """A store version built before the shapes were kept with it cannot have a write
    checked: the update is refused (409), not applied unchecked."""
    from test_build import make_project

    from crinkkg.backends.embedded.worker import run_update
    from crinkkg.build.conformance import SHAPES_FILE
    from crinkkg.build.pipeline import build
    from crinkkg.problems import Problem

    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    current = StoreLayout(settings.store).current()
    (current / SHAPES_FILE).unlink()
    with pytest.raises(Problem) as refused:
        run_update(settings.store, ("update", "INSERT DATA { id:a id:b id:c }", 0))
    assert refused.value.status == 409 and refused.value.kind == "shapes-missing"
    assert "crinkkg build --force" in refused.value.hint
    assert StoreLayout(settings.store).current() == current


def _reach_of(select: str, extra: str = ""):
    from rdflib import Graph

    from crinkkg.inputs.reach import reach

    shapes = Graph().parse(data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://ex/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; {extra}
          sh:sparql [ sh:select "{select}" ] .""", format="turtle")
    return reach(shapes)


def test_routes_are_only_made_of_patterns_matched_together() -> None:
    """What a route may pass through, and what makes a pattern unrouted (then a change of
    what it reads is checked in full)."""
    def p(local: str) -> str:
        return f"http://ex/{local}"

    found = _reach_of("SELECT $this WHERE { $this <http://ex/a> ?x . ?x <http://ex/b> ?y }")
    assert {(r.predicate, r.end, r.route) for r in found.readers} >= {
        (p("a"), "s", ()), (p("b"), "s", ((p("a"), True),))}
    # a sibling branch of a UNION is not matched along with the other
    found = _reach_of("SELECT $this WHERE { { $this <http://ex/a> ?x } UNION "
                      "{ ?x <http://ex/b> ?y } }")
    assert p("b") in found.unrouted and p("a") not in found.unrouted
    # an OPTIONAL part routes through what it joins, not the other way
    found = _reach_of("SELECT $this WHERE { ?x <http://ex/b> ?y OPTIONAL { $this "
                      "<http://ex/a> ?x } }")
    assert p("b") in found.unrouted
    # MINUS is evaluated apart; an aggregate may answer with nothing matched
    found = _reach_of("SELECT $this WHERE { $this <http://ex/a> ?x MINUS { ?x <http://ex/b> "
                      "?y } }")
    assert p("b") in found.unrouted
    found = _reach_of("SELECT $this WHERE { $this <http://ex/a> ?n { SELECT (COUNT(*) AS ?n) "
                      "WHERE { ?q <http://ex/b> ?r } } }")
    assert p("b") in found.unrouted
    # a path with * over instance data cannot be followed back
    found = _reach_of("SELECT $this WHERE { $this <http://ex/a>* ?x }")
    assert p("a") in found.unrouted
    # constructs that are not analysed: no restricted check at all
    assert _reach_of("SELECT $this WHERE { $this <http://ex/a> ?x }",
                     "sh:node ex:T ;") is None
