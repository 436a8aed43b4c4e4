"""Updates through the store seam keep the inferred graph current and never half-apply."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_build import make_project

from crinkkg.build.pipeline import build
from crinkkg.build.updates import UpdateRefused, apply_update
from crinkkg.errors import InconsistencyError, StoreError
from crinkkg.store.oxigraph import OxigraphStore

SUPPLIES = "ASK { id:north-korea crink:supplies id:russia }"


@pytest.fixture
def store(tmp_path: Path) -> OxigraphStore:
    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    return OxigraphStore.open(settings.store, read_only=False)


def test_update_is_reasoned_before_it_returns(store: OxigraphStore) -> None:
    assert not store.query(SUPPLIES)
    apply_update(store, "INSERT DATA { GRAPH <https://w3id.org/crinkkg/graph/data/facts> {"
                 " id:t7 a crink:ArmsTransfer ; crink:supplier id:north-korea ;"
                 " crink:recipient id:russia } }")
    assert store.query(SUPPLIES)
    assert store.query(SUPPLIES.replace("ASK {", "ASK { GRAPH "
                                        "<https://w3id.org/crinkkg/graph/inferred> {") + " }")
    assert not store.query(SUPPLIES, view="asserted")
    # without GRAPH an update addresses the store's own default graph, not the file graphs
    apply_update(store, "DELETE WHERE { id:t7 ?p ?o }")
    assert store.query(SUPPLIES)
    apply_update(store, "DELETE WHERE { GRAPH ?g { id:t7 ?p ?o } }")
    assert not store.query(SUPPLIES)


def test_default_graph_inserts_are_asserted_and_queried(store: OxigraphStore) -> None:
    apply_update(store, "INSERT DATA { id:t8 a crink:ArmsTransfer ; crink:supplier id:north-korea ;"
                 " crink:recipient id:russia }")
    assert store.query(SUPPLIES)
    assert store.query("ASK { id:t8 a crink:ArmsTransfer }", view="asserted")


def test_update_of_the_inferred_graph_is_refused(store: OxigraphStore) -> None:
    with pytest.raises(UpdateRefused, match="inferred graph"):
        apply_update(store, "CLEAR GRAPH <https://w3id.org/crinkkg/graph/inferred>")
    assert store.query("ASK { id:iran crink:supplies id:russia }")


def test_inconsistent_update_changes_nothing(store: OxigraphStore) -> None:
    before = store.count()
    with pytest.raises(InconsistencyError):
        apply_update(store, "INSERT DATA { id:t1 a crink:State }")
    assert store.count() == before
    assert not store.query("ASK { id:t1 a crink:State }")


def test_syntax_error_changes_nothing(store: OxigraphStore) -> None:
    before = store.count()
    with pytest.raises(SyntaxError):
        apply_update(store, "INSERT DATA { id:x id:y }")
    assert store.count() == before


def test_read_only_store_refuses_updates(tmp_path: Path) -> None:
    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    with pytest.raises(StoreError, match="read-only"):
        apply_update(OxigraphStore.open(settings.store), "CLEAR ALL")


def test_missing_store_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="crinkkg build"):
        OxigraphStore.open(tmp_path / "nowhere")


def test_writing_the_inferred_graph_through_a_prefixed_name_is_refused(
        store: OxigraphStore) -> None:
    with pytest.raises(UpdateRefused, match="inferred graph"):
        apply_update(store, "PREFIX g: <https://w3id.org/crinkkg/graph/> "
                     "INSERT DATA { GRAPH g:inferred { id:x crink:supplies id:y } }")
    assert not store.query("ASK { id:x ?p ?o }")


def test_the_stored_result_is_the_one_that_was_reasoned_over(store: OxigraphStore) -> None:
    apply_update(store, "INSERT { GRAPH <https://w3id.org/crinkkg/graph/data/facts> {"
                 " ?t a crink:ArmsTransfer ; crink:supplier id:north-korea ;"
                 " crink:recipient id:russia } } WHERE { BIND(IRI(CONCAT(STR(id:), STRUUID()))"
                 " AS ?t) }")
    [row] = list(store.query("SELECT ?t WHERE { ?t crink:supplier id:north-korea }"))
    assert store.query(SUPPLIES)
    assert len(list(store.query("SELECT ?t WHERE { ?t a crink:ArmsTransfer }"))) == 2, row
