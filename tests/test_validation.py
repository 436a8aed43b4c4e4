"""Our SHACL validation gives exactly pySHACL's results, component by component."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from crinkkg.inputs import validation

ROOT = Path(__file__).resolve().parent.parent

SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix : <http://ex/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
:prefixes sh:declare [ sh:prefix "ex" ; sh:namespace "http://ex/"^^xsd:anyURI ] .
:TShape a sh:NodeShape ; sh:targetClass :T ;
  sh:property [ sh:path :a ; sh:minCount 1 ; sh:maxCount 1 ; sh:class :S ;
                sh:message "one a, an S" ] ;
  sh:property [ sh:path :d ; sh:datatype xsd:date ; sh:message "d is a date" ] ;
  sh:property [ sh:path :y ; sh:pattern "^[0-9]{4}$" ; sh:message "y is a year" ] ;
  sh:property [ sh:path rdfs:label ; sh:languageIn ( "en" ) ; sh:uniqueLang true ;
                sh:message "english label" ] ;
  sh:property [ sh:path :a ; sh:disjoint :b ; sh:message "a and b differ" ] ;
  sh:property [ sh:path :n ; sh:in ( 1 2 ) ; sh:message "n in 1, 2" ] ;
  sh:sparql [ sh:message "no self link" ; sh:prefixes :prefixes ;
              sh:select "SELECT $this ?value WHERE { $this ex:a ?value FILTER(?value = $this) }"
            ] .
:YShape a sh:NodeShape ; sh:targetSubjectsOf :y ;
  sh:property [ sh:path :y ; sh:maxCount 1 ; sh:message "one y" ] .
"""
DATA = """\
@prefix : <http://ex/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
:U rdfs:subClassOf :T .
:s1 a :S . :s2 a :S .
:ok a :T ; :a :s1 ; :d "2024-01-02"^^xsd:date ; :y "2024" ; rdfs:label "ok"@en ; :n 1 .
:none a :U .
:two a :T ; :a :s1, :s2 ; :b :s2 ; :n 3 .
:notS a :T ; :a :x ; :d "2024-02-30"^^xsd:date ; :y "20x4", "1999" ;
   rdfs:label "a"@en, "b"@en, "c"@fr .
:self a :T, :S ; :a :self ; :d "2024" .
:other :y "abc" .
"""


def key(v: validation.Violation) -> tuple:
    return (v.focus, v.path, v.message, v.value, v.severity)


def both(data: Graph, shapes: Graph) -> tuple[set, set]:
    ours = validation.check(data, shapes)
    reference = validation._pyshacl_results(data, shapes, None, data)
    return {key(v) for v in ours}, {key(v) for v in reference}


def test_every_compiled_component_agrees_with_pyshacl() -> None:
    data = Graph().parse(data=DATA, format="turtle")
    shapes = Graph().parse(data=SHAPES, format="turtle")
    ours, reference = both(data, shapes)
    assert ours == reference
    messages = {m for _, _, m, _, _ in ours}
    assert messages == {"one a, an S", "d is a date", "y is a year", "english label",
                        "a and b differ", "n in 1, 2", "no self link", "one y"}


def test_components_are_compiled_not_left_to_pyshacl() -> None:
    core, compiled = validation.split_shapes(Graph().parse(data=SHAPES, format="turtle"))
    assert len(compiled) == 10  # 9 core components on plain paths + 1 SPARQL constraint
    leftover = {str(p).rsplit("#", 1)[-1] for s, p, o in core
                if str(p).startswith("http://www.w3.org/ns/shacl#")}
    assert "in" in leftover and not leftover & {"minCount", "class", "sparql", "pattern"}


@pytest.mark.parametrize("extra", [[], ["tests/fixtures/broken.ttl"]])
def test_curated_graph_and_broken_sample_agree_with_pyshacl(extra: list[str]) -> None:
    data = Graph().parse(ROOT / "ontology" / "crink.ttl")
    for path in [*sorted((ROOT / "data").glob("*.ttl")), *(ROOT / p for p in extra)]:
        data.parse(path)
    shapes = Graph().parse(ROOT / "ontology" / "shapes.ttl")
    ours, reference = both(data, shapes)
    assert ours == reference
    assert bool(extra) == bool(ours)  # the curated data conforms; the broken sample not


def test_synthetic_graph_with_injected_errors_agrees_with_pyshacl(tmp_path: Path) -> None:
    synthetic = pytest.importorskip("bench.synthetic")
    data_dir = tmp_path / "data"
    synthetic.generate(data_dir, 1500, seed=3)
    data = Graph().parse(ROOT / "ontology" / "crink.ttl")
    for path in sorted(data_dir.glob("*.ttl")):
        data.parse(path)
    data.parse(ROOT / "tests" / "fixtures" / "broken.ttl")
    ours, reference = both(data, Graph().parse(ROOT / "ontology" / "shapes.ttl"))
    assert ours == reference and ours
