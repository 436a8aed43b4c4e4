"""The claims an inferred link rests on, found in two steps (the property chains first,
then each link with its own chains) give exactly what the one query that joined them all
gave, for every inferred link of the states and of every tenth other resource of the
curated graph (all of them take a minute: the reference query is the slow one)."""

from __future__ import annotations

import pytest

from crinkkg.backends.embedded.direct import DirectBackend
from crinkkg.settings import Settings
from crinkkg.vocab import INFERRED_GRAPH_IRI
from crinkkg.web import create_app
from crinkkg.web.services.claims import claims_behind

#: the single query the two steps replace: the reference they must equal
REFERENCE = """SELECT DISTINCT ?a ?p ?b ?claim WHERE {{
  VALUES (?a ?p ?b) {{ {values} }}
  {{ GRAPH ?g {{ ?a ?d ?b }} FILTER(?g != <{inferred}>) ?a crink:statedIn ?x . BIND(?a AS ?claim) }}
  UNION
  {{ GRAPH ?g {{ ?b ?d ?a }} FILTER(?g != <{inferred}>) ?b crink:statedIn ?x . BIND(?b AS ?claim) }}
  UNION
  {{ ?q rdfs:subPropertyOf* ?p .
     ?q owl:propertyChainAxiom ?chain .
     ?chain rdf:first ?p1 ; rdf:rest/rdf:first ?p2 .
     {{ ?a ?p1 ?claim . ?claim ?p2 ?b }}
     UNION {{ ?p a owl:SymmetricProperty . ?b ?p1 ?claim . ?claim ?p2 ?a }}
     ?claim crink:statedIn ?x }}
}}"""


@pytest.fixture(scope="module")
def backend(project_settings: Settings, built_store) -> DirectBackend:
    backend = DirectBackend(project_settings)
    backend.start()
    return backend


def test_two_steps_equal_the_one_query(backend, project_settings) -> None:
    app = create_app(project_settings, backend)
    rows = backend.select_json(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{INFERRED_GRAPH_IRI}> "
                               "{ ?s ?p ?o FILTER(isIRI(?s) && isIRI(?o)) } }")
    by_subject: dict[str, set[tuple[str, str, str]]] = {}
    for b in rows["results"]["bindings"]:
        by_subject.setdefault(b["s"]["value"], set()).add(
            (b["s"]["value"], b["p"]["value"], b["o"]["value"]))
    assert len(by_subject) > 50
    states = {b["s"]["value"] for b in backend.select_json(
        "SELECT ?s WHERE { ?s a crink:State }")["results"]["bindings"]}
    chosen = [s for i, s in enumerate(sorted(by_subject)) if s in states or i % 10 == 0]
    compared = 0
    with app.test_request_context("/"):
        for subject in chosen:
            links = by_subject[subject]
            values = " ".join(f"(<{a}> <{p}> <{b}>)" for a, p, b in sorted(links)[:400])
            expected: dict[tuple[str, str, str], set[str]] = {}
            for b in backend.select_json(REFERENCE.format(
                    values=values, inferred=INFERRED_GRAPH_IRI))["results"]["bindings"]:
                expected.setdefault((b["a"]["value"], b["p"]["value"], b["b"]["value"]),
                                    set()).add(b["claim"]["value"])
            found = {link: {v.iri for v in claims}
                     for link, claims in claims_behind(links).items()}
            assert found == expected
            compared += len(expected)
    assert compared > 100  # links with claims behind them were compared, not only empties


def test_a_chain_with_an_anonymous_step_is_passed_over(tmp_path) -> None:
    """``( [ owl:inverseOf :supplier ] :recipient )``: the step is a blank node, which
    cannot be written into the second query (the one query matched nothing through it)."""
    from test_build import make_project

    from crinkkg.build.pipeline import build

    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    backend = DirectBackend(settings)
    backend.start()
    app = create_app(settings, backend)
    link = ("https://w3id.org/crinkkg/id/iran", "https://w3id.org/crinkkg/ontology#supplies",
            "https://w3id.org/crinkkg/id/russia")
    with app.test_request_context("/"):
        assert claims_behind({link}) == {}
    values = " ".join(f"<{t}>" for t in link)
    assert backend.select_json(REFERENCE.format(values=f"({values})",
                                                inferred=INFERRED_GRAPH_IRI)
                               )["results"]["bindings"] == []
