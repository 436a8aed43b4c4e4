"""The benchmark's own parts, cheaply: the generator is deterministic and follows the
ontology and the shapes, the load generator measures and refuses non-loopback targets, the
report is written from results. (The benchmark itself: ``python -m bench --quick``.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load, report, servers  # noqa: E402
from bench.queries import query_mix  # noqa: E402
from bench.synthetic import generate  # noqa: E402

CRINK = "https://w3id.org/crinkkg/ontology#"


def _read(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _triples(folder: Path) -> set[str]:
    out = set()
    for p in sorted(folder.iterdir()):
        if p.suffix in (".ttl", ".nt"):
            out |= {str(t) for t in ox.parse(path=str(p))}
    return out


def test_generator_is_deterministic_and_seedable(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", 2000, seed=7)
    b = generate(tmp_path / "b", 2000, seed=7)
    c = generate(tmp_path / "c", 2000, seed=8)
    assert _read(tmp_path / "a") == _read(tmp_path / "b")
    assert _read(tmp_path / "a") != _read(tmp_path / "c")
    assert 2000 <= a.triples < 2300
    assert a.triples == b.triples
    # what it counts is what it wrote, and Turtle and N-Triples say the same
    assert len(_triples(tmp_path / "a")) == a.triples
    generate(tmp_path / "nt", 2000, seed=7, fmt="nt")
    assert _triples(tmp_path / "nt") == _triples(tmp_path / "a")
    assert c.sample["transfer"].startswith("https://w3id.org/crinkkg/id/transfer-")
    # the stored texts are part of the output, and as deterministic as the triples
    assert any(name.startswith("texts/") for name in _read(tmp_path / "a"))
    assert a.texts > 0 and a.anchors > 0


def test_generator_uses_only_terms_the_ontology_declares(tmp_path: Path) -> None:
    generate(tmp_path, 1500, seed=1)
    declared = {str(q.subject.value) for q in ox.parse(path=str(ROOT / "ontology" / "crink.ttl"))
                if isinstance(q.subject, ox.NamedNode)}
    used = set()
    for p in tmp_path.glob("*.ttl"):
        for t in ox.parse(path=str(p)):
            for term in (t.predicate, t.object):
                if isinstance(term, ox.NamedNode) and term.value.startswith(CRINK):
                    used.add(term.value)
    assert used, "the generator uses the crink: vocabulary"
    assert sorted(used - declared) == []


def test_generator_follows_the_claim_model(tmp_path: Path) -> None:
    """Every claim: one modality, a time spec, its sources, and one passage per stored
    text among them, located by selectors that say what the text says."""
    import hashlib

    from crinkkg.inputs.anchors import selectors_for

    gen = generate(tmp_path, 3000, seed=4)
    store = ox.Store()
    for p in tmp_path.glob("*.ttl"):
        store.load(path=str(p), format=ox.RdfFormat.TURTLE)
    prefixes = f"PREFIX crink: <{CRINK}> PREFIX prov: <http://www.w3.org/ns/prov#> " \
        "PREFIX oa: <http://www.w3.org/ns/oa#> " \
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "

    def rows(q: str) -> list:
        return list(store.query(prefixes + q))

    claims = rows("SELECT ?c (COUNT(DISTINCT ?m) AS ?n) WHERE { ?c prov:wasDerivedFrom ?s . "
                  "OPTIONAL { ?c crink:hasModality ?m } FILTER NOT EXISTS { ?c a crink:Grouping } "
                  "} GROUP BY ?c")
    assert len(claims) > 50
    assert {int(r["n"].value) for r in claims} == {1}, "exactly one modality per claim"
    modalities = {r["m"].value.rsplit("-", 1)[-1] for r in rows(
        "SELECT DISTINCT ?m WHERE { ?c crink:hasModality ?m }")}
    assert {"asserted", "perception", "qualified", "will"} <= modalities, modalities
    # accordingTo only where the modality is a perception, a warning or an attribution,
    # always on warnings
    assert not rows("SELECT ?c WHERE { ?c crink:accordingTo ?a ; crink:hasModality ?m . "
                    "FILTER (?m NOT IN (crink:modality-perception, crink:modality-warning, "
                    "crink:modality-attributed)) }")
    assert not rows("SELECT ?c WHERE { ?c crink:hasModality crink:modality-warning "
                    "FILTER NOT EXISTS { ?c crink:accordingTo ?a } }")
    assert rows("SELECT ?c WHERE { ?c crink:hasModality crink:modality-perception ; "
                "crink:accordingTo ?a }")
    # the old model's terms are gone, time goes through time specs with integer years
    assert not rows("SELECT * WHERE { ?s crink:attributionScope|crink:signedOn|"
                    "crink:signedInYear ?o }")
    assert not rows("SELECT * WHERE { ?s crink:year ?y FILTER (datatype(?y) != "
                    "<http://www.w3.org/2001/XMLSchema#integer>) }")
    assert rows("SELECT * WHERE { ?c crink:hasTime/crink:hasRelativeTime ?r }")
    assert not rows("SELECT ?t WHERE { ?t a crink:TreatyProvision "
                    "FILTER NOT EXISTS { ?t crink:provisionOf ?treaty } }")
    # one passage per stored-text source of a claim, and the selectors match the text
    missing = rows("SELECT ?c ?s WHERE { ?c prov:wasDerivedFrom ?s . ?s crink:storedText ?f "
                   "FILTER NOT EXISTS { ?c crink:statedIn/oa:hasSource ?s } }")
    assert missing == []
    passages = rows("""SELECT ?file ?sha ?exact ?prefix ?suffix ?start ?end WHERE {
        ?c crink:statedIn ?p . ?p oa:hasSource ?s ; oa:hasSelector ?q , ?r .
        ?s crink:storedText ?file ; crink:sha256 ?sha .
        ?q oa:exact ?exact ; oa:prefix ?prefix ; oa:suffix ?suffix .
        ?r oa:start ?start ; oa:end ?end }""")
    assert len(passages) == gen.anchors
    for r in passages:
        data = (tmp_path / r["file"].value).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r["sha"].value
        text = data.decode("utf-8")
        start, end = int(r["start"].value), int(r["end"].value)
        assert text[start:end] == r["exact"].value
        expected = selectors_for(text, r["exact"].value)
        assert (expected.prefix, expected.suffix, expected.start) == \
            (r["prefix"].value, r["suffix"].value, start)


def test_generated_data_builds_and_conforms(tmp_path: Path) -> None:
    from crinkkg.build.pipeline import build
    from crinkkg.settings import Settings
    from crinkkg.store.oxigraph import OxigraphStore

    gen = generate(tmp_path / "data", 1000, seed=2)
    settings = Settings(ontology_dir=ROOT / "ontology", data_dir=tmp_path / "data",
                        store=tmp_path / "store")
    rep = build(settings, root=tmp_path)
    assert rep.inferred_triples > 0
    # the build checked every generated anchor against its stored text
    anchors = next(s for s in rep.steps if s.name == "anchors")
    assert anchors.detail.startswith(f"{gen.anchors} text anchors match"), anchors.detail
    store = OxigraphStore.open(settings.store)
    sizes = {q.name: len(list(store.query(q.text))) for q in query_mix(gen.sample)}
    # a tiny graph may leave the selective queries empty; these always answer
    assert sizes["lookup"] > 5 and sizes["aggregate"] > 5 and sizes["describe"] > 5, sizes


def test_load_generator_measures_a_local_server(tmp_path: Path) -> None:
    ok, why = servers.ceiling_available("waitress")
    if not ok:
        pytest.skip(why)
    running = servers.start(servers.ceiling_spec("waitress", threads=2), tmp_path)
    try:
        url = load.request_url(running.spec.endpoint, "SELECT * WHERE { ?s ?p ?o }")
        r = load.run_python(url, "application/sparql-results+json", clients=2, duration=0.3)
        assert r.requests > 0 and r.errors == 0
        assert r.rps > 0 and r.p50_ms is not None and r.p99_ms >= r.p50_ms
        assert r.bytes_per_answer == len(servers.CONSTANT_ANSWER)
        # a mix: several requests sent in turn
        other = load.request_url(running.spec.endpoint, "ASK {}")
        m = load.run_python([(url, "application/json"), (other, "*/*")], "", clients=2,
                            duration=0.2)
        assert m.requests > 0 and m.errors == 0
    finally:
        servers.stop(running)
    assert running.proc.poll() is not None


def test_load_generator_is_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        load.run_python("http://example.org/sparql?query=x", "*/*", clients=1, duration=0.1)


def test_report_from_results(tmp_path: Path) -> None:
    def cell(server, query, clients, rps, p99):
        return {"server": server, "query": query, "kind": "cheap" if query == "lookup"
                else "engine", "clients": clients, "round": 0, "rps": rps, "p50_ms": 1.0,
                "p99_ms": p99, "errors": 0, "requests": int(rps)}

    http = [cell("crinkkg", "lookup", 8, 3000.0, 5.0), cell("oxigraph", "lookup", 8, 20000.0, 1.0),
            cell("rdflib-endpoint", "lookup", 8, 100.0, 80.0),
            cell("ceiling-waitress", "lookup", 8, 5000.0, 4.0),
            cell("crinkkg", "aggregate", 8, 900.0, 20.0),
            cell("oxigraph", "aggregate", 8, 600.0, 30.0)]
    results = {"meta": {"command": "test", "machine": {}}, "scales": {"50k": {
        "queries": {"lookup": {"kind": "cheap", "form": "SELECT", "what": "", "text": ""},
                    "aggregate": {"kind": "engine", "form": "SELECT", "what": "", "text": ""}},
        "http": http,
        "servers": {"crinkkg": {"available": True, "ready_s": 0.5,
                                "memory_peak": {"rss_mb": 120.0, "pss_mb": 100.0}}},
        "build": {"ok": True, "wall_s": 5.0, "asserted_triples": 1, "inferred_triples": 1,
                  "steps": [{"name": "reason", "seconds": 2.0}]},
        "owlrl": {"ok": True, "seconds": 60.0, "closure_triples": 3, "checks": [
            {"against": "store (crinkkg build)", "equal": True, "missing": 0, "extra": 0,
             "reference": 1, "missing_sample": [], "extra_sample": []}]},
    }}}
    report.write(results, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "crinkkg vs oxigraph" in md
    met = {(t["target"].split(":")[0], t["scale"]): t["met"] for t in report.targets(results)}
    assert met[("engine-bound queries, 8 clients", "50k")] is True  # 1.5x
    assert met[("cheap lookup, 8 clients", "50k")] is True  # 60% of the ceiling, 30x rdflib
    assert met[("build of 50k >= 10x faster than plain owlrl", "50k")] is True
    full = {(t["target"], t["scale"]): t for t in report.targets(results)}
    lookup = full[("cheap lookup, 8 clients: >= 1.0x Oxigraph server", "50k")]
    assert lookup["met"] is False and lookup["measured"].startswith("0.15x")  # 3k vs 20k
    assert full[("lookup p99 at 8 clients < 10 ms (50k)", "50k")]["met"] is True  # 5 ms
    assert (tmp_path / "results.csv").read_text().count("\n") > 10
    assert "crinkkg/oxigraph 1.50x" in report.summary(results)


def test_pages_benchmark_runs_on_a_tiny_setting(tmp_path: Path) -> None:
    """bench/pages.py end to end (real servers over HTTP, the in-process profile), small:
    every page answers, every figure is there; nothing is timed here."""
    from bench import pages

    out = tmp_path / "pages.json"
    results = pages.main(["--quick", "--out", str(out)])
    assert out.exists()
    current = results["servers"]["current"]
    assert set(current["pages"]) == {"entity", "claim", "overview", "source text",
                                     "entity as Turtle"}
    assert {p["status"] for p in current["pages"].values()} == {200}
    assert current["errors"] == 0 and current["resources"]["count"] == 5
    for kind in ("made", "kept"):
        assert current["load"][kind]["errors"] == 0 and current["load"][kind]["requests"] > 0
    profile = current["in_process"]
    assert profile["entity"]["first"]["queries"] > 0
    assert profile["overview"]["warm"]["queries"] == 0  # kept with the store version
    # before/after ratios come out of two runs' results
    ratios = pages.ratios(current, current)
    assert ratios["entity"]["warm_ms"] == 1.0 and "load kept" in ratios


def test_the_curated_scale_takes_its_entities_and_session_from_the_project(
        built_store, project_settings) -> None:
    from bench import curated
    from crinkkg.store.layout import StoreLayout

    db = StoreLayout(project_settings.store).db()
    found = curated.sample(db)

    def holds(pattern: str) -> bool:
        return bool(built_store.query(f"PREFIX crink: <{CRINK}> ASK {{ {pattern} }}"))

    assert holds(f"<{found['transfer']}> a crink:Transfer")
    assert holds(f"?t crink:armsSupplier <{found['state_hub']}>")
    assert holds(f"<{found['state_ally']}> crink:alliedWith ?other")
    assert holds(f"<{found['state_mid']}> a crink:State")
    # the generator's mix: what finds nothing in the curated graph is left out, by name
    mix = query_mix(found)
    kept, left_out = curated.answered(db, mix)
    assert {"lookup", "describe", "path"} <= {q.name for q in kept}
    assert sorted([q.name for q in kept] + left_out) == sorted(q.name for q in mix)
    for name in left_out:
        [query] = [q for q in mix if q.name == name]
        rows = list(built_store.query(query.text))
        assert all(all(v is None or v.value == "0" for v in row) for row in rows), name
    session = curated.session()
    shipped = sorted((ROOT / "src" / "crinkkg" / "queries").glob("*.rq"))
    assert len(session.texts) == len(shipped) == 17
    assert [t.strip() for t in session.texts] == [p.read_text(encoding="utf-8").strip()
                                                  for p in shipped]
    assert 1000 < curated.asserted_triples() < 10_000
