"""Zero-valued doubles and floats are well-typed (owlrl's own check calls them ill-typed),
in the build with either reasoner and in updates; ill-typed literals are still refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rdflib import Graph
from test_build import make_project

from crinkkg.build.pipeline import build
from crinkkg.build.updates import apply_update
from crinkkg.errors import InconsistencyError
from crinkkg.reasoning import owlrl_closure as reasoning
from crinkkg.reasoning import rules
from crinkkg.store.oxigraph import OxigraphStore

XSD = "http://www.w3.org/2001/XMLSchema#"
ZEROS = ['0E1', '"0"^^xsd:double', '"-0.0E0"^^xsd:double', '"0"^^xsd:float',
         '"0.0"^^xsd:float', '"INF"^^xsd:double', '"-INF"^^xsd:float', '"NaN"^^xsd:double',
         '" 1.5e3 "^^xsd:double', '"1E400"^^xsd:double']
ILL_TYPED = ['"zero"^^xsd:double', '"1.0.0"^^xsd:float', '""^^xsd:double',
             '"0x10"^^xsd:double', '"1e"^^xsd:float']
PREFIXES = ("@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
            "@prefix : <https://w3id.org/crinkkg/ontology#> .\n"
            "@prefix id: <https://w3id.org/crinkkg/id/> .\n")


def _data(literals: list[str]) -> str:
    return PREFIXES + "".join(f"id:m{i} :value {lit} .\n" for i, lit in enumerate(literals))


@pytest.mark.parametrize("reasoner", ["rules", "owlrl"])
def test_zero_doubles_and_floats_build_with_either_reasoner(tmp_path: Path,
                                                            reasoner: str) -> None:
    settings = dataclasses.replace(make_project(tmp_path, _data(ZEROS)), reasoner=reasoner)
    report = build(settings, root=tmp_path)
    store = OxigraphStore.open(settings.store)
    rows = list(store.query("SELECT ?s ?o WHERE { ?s crink:value ?o }"))
    assert len(rows) == len(ZEROS)  # Oxigraph keeps doubles by value: 0E1 reads back as 0
    assert {(r["o"].value, r["o"].datatype.value) for r in rows} >= {
        ("0", XSD + "double"), ("-0", XSD + "double"), ("0", XSD + "float"),
        ("INF", XSD + "double"), ("NaN", XSD + "double")}
    assert report.asserted_triples > len(ZEROS)


@pytest.mark.parametrize("reasoner", ["rules", "owlrl"])
@pytest.mark.parametrize("literal", ILL_TYPED)
def test_ill_typed_doubles_and_floats_are_still_refused(tmp_path: Path, reasoner: str,
                                                        literal: str) -> None:
    settings = dataclasses.replace(make_project(tmp_path, _data([literal])), reasoner=reasoner)
    with pytest.raises(InconsistencyError, match="does not match its datatype"):
        build(settings, root=tmp_path)


def test_both_reasoners_agree_on_zero_literals() -> None:
    graph = Graph().parse(data=_data(ZEROS + ILL_TYPED[:1]), format="turtle")
    by_owlrl = reasoning.reason(graph)
    by_rules = rules.reason(graph, fallback=False)
    assert set(by_owlrl.inferred) == set(by_rules.inferred)
    assert [p.message for p in by_owlrl.inconsistencies] == \
        [p.message for p in by_rules.inconsistencies]
    assert len(by_rules.inconsistencies) == 1 and "zero" in by_rules.inconsistencies[0].message


def test_updates_accept_zero_doubles_and_refuse_ill_typed_ones(tmp_path: Path) -> None:
    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    store = OxigraphStore.open(settings.store, read_only=False)
    inserted = " ".join(f"id:u{i} crink:value {lit} ." for i, lit in enumerate(ZEROS))
    apply_update(store, f"INSERT DATA {{ {inserted} }}")
    assert len(list(store.query("SELECT * WHERE { ?s crink:value ?o }"))) == len(ZEROS)
    before = store.count()
    with pytest.raises(InconsistencyError, match="does not match its datatype"):
        apply_update(store, 'INSERT DATA { id:bad crink:value "zero"^^xsd:double }')
    assert store.count() == before
