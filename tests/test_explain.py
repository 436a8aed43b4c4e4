"""`crinkkg explain` on the inferred competency answers of the curated graph."""

from __future__ import annotations

from crinkkg.reasoning.explain import explain_triple, format_derivation


def leaves(d) -> list:
    return [d] if not d.premises else [x for p in d.premises for x in leaves(p)]


def test_alliance_from_north_koreas_side_is_explained_down_to_the_treaty(built_store) -> None:
    d = explain_triple(built_store, "id:north-korea", "crink:alliedWith", "id:russia")
    assert d.status == "inferred" and d.rule == "prp-symp"
    bottom = leaves(d)
    assert all(x.status == "asserted" for x in bottom)
    # the derivation bottoms out in the data file holding the 2024 treaty, with its source
    data_leaves = [x for x in bottom if any("/graph/data/" in g for g in x.graphs)]
    assert data_leaves and all(x.sources for x in data_leaves)
    text = format_derivation(d)
    assert "prp-spo2" in text and "asserted in data/" in text


def test_iran_supplies_china_is_explained(built_store) -> None:
    d = explain_triple(built_store, "id:iran", "crink:supplies", "id:china")
    assert d.status == "inferred"
    assert {x.status for x in leaves(d)} == {"asserted"}
    assert any("id/iran" in str(x.triple[2]) or "id/iran" in str(x.triple[0]) for x in leaves(d))


def test_asserted_triple_names_its_file(built_store) -> None:
    d = explain_triple(built_store, "crink:alliedWith", "rdf:type", "owl:SymmetricProperty")
    assert d.status == "asserted" and d.graphs == ["https://w3id.org/crinkkg/graph/ontology/crink"]
