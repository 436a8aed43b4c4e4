"""The fast OWL 2 RL path (crinkkg.reasoning.rules) against its oracle, owlrl
(crinkkg.reasoning.owlrl_closure).

Every case runs both on the same rdflib graph and asks for the same cleaned inferred triples
(0 missing, 0 extra) and the same inconsistency messages.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef

from crinkkg.reasoning import owlrl_closure as reasoning
from crinkkg.reasoning import rules
from crinkkg.terms import graph_to_triples, to_rdflib

ROOT = Path(__file__).resolve().parent.parent

PREFIXES = """
@prefix : <http://example.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def graph(ttl: str) -> Graph:
    return Graph().parse(data=PREFIXES + ttl, format="turtle")


def compare(g: Graph) -> tuple[reasoning.Closure, reasoning.Closure]:
    reference = reasoning.reason(g)
    fast = rules.reason(g, fallback=False)
    ref, mine = set(reference.inferred), set(fast.inferred)
    assert not ref - mine, f"missing: {sorted(ref - mine)[:10]}"
    assert not mine - ref, f"extra: {sorted(mine - ref)[:10]}"
    assert [p.message for p in fast.inconsistencies] == \
        [p.message for p in reference.inconsistencies]
    assert [p.resources for p in fast.inconsistencies] == \
        [p.resources for p in reference.inconsistencies]
    return reference, fast


CASES = {
    "cax-sco, scm-sco": """
        :A rdfs:subClassOf :B . :B rdfs:subClassOf :C . :C rdfs:subClassOf :D .
        :A a owl:Class . :B a owl:Class . :x a :A .""",
    "cax-eqc1/2, scm-eqc": """
        :A owl:equivalentClass :B . :B rdfs:subClassOf :C . :x a :A . :y a :B .""",
    "subclass cycle": """
        :A rdfs:subClassOf :B . :B rdfs:subClassOf :A . :x a :A .""",
    "prp-dom, prp-rng, scm-dom1/2, scm-rng1/2": """
        :p rdfs:domain :A ; rdfs:range :B . :A rdfs:subClassOf :A2 . :B rdfs:subClassOf :B2 .
        :q rdfs:subPropertyOf :p . :x :q :y .""",
    "prp-spo1, scm-spo, prp-eqp1/2": """
        :p rdfs:subPropertyOf :q . :q rdfs:subPropertyOf :r . :r owl:equivalentProperty :s .
        :p a owl:ObjectProperty . :x :p :y . :u :s :v .""",
    "prp-inv1/2": """
        :p owl:inverseOf :q . :q rdfs:domain :C . :x :p :y . :u :q :v .""",
    "prp-symp": """
        :p a owl:SymmetricProperty ; rdfs:range :C . :x :p :y .""",
    "prp-trp with a cycle": """
        :p a owl:TransitiveProperty . :a :p :b . :b :p :c . :c :p :d . :d :p :b .""",
    "prp-spo2, two links": """
        :sup owl:propertyChainAxiom ( :supplierOf :recipient ) ; rdfs:domain :Actor .
        :supplier owl:inverseOf :supplierOf .
        :t1 :supplier :iran ; :recipient :russia . :t2 :supplier :iran ; :recipient :iran .""",
    "prp-spo2, three links and a blank-node inverse": """
        :p owl:propertyChainAxiom ( [ owl:inverseOf :a ] :b :c ) .
        :p rdfs:subPropertyOf :q .
        :y :a :x . :y :b :z . :z :c :w . :z :c :w2 .""",
    "prp-spo2, chain of one": """
        :p owl:propertyChainAxiom ( :a ) . :x :a :y .""",
    "cls-hv1/2, scm-hv": """
        :R a owl:Restriction ; owl:onProperty :p ; owl:hasValue :v .
        :R2 a owl:Restriction ; owl:onProperty :q ; owl:hasValue :v .
        :p rdfs:subPropertyOf :q .
        :C rdfs:subClassOf :R . :x a :C . :y :p :v .""",
    "cls-svf1/2": """
        :R owl:onProperty :p ; owl:someValuesFrom :B .
        :T owl:onProperty :q ; owl:someValuesFrom owl:Thing .
        :R rdfs:subClassOf :Good .
        :x :p :y . :y a :B . :u :p :w . :s :q :o .""",
    "cls-avf, scm-avf": """
        :R owl:onProperty :p ; owl:allValuesFrom :B . :B rdfs:subClassOf :B2 .
        :x a :R ; :p :y , :z .""",
    "scm-svf1/2": """
        :R1 owl:onProperty :p ; owl:someValuesFrom :A .
        :R2 owl:onProperty :p ; owl:someValuesFrom :B .
        :A rdfs:subClassOf :B . :x :p :y . :y a :A .""",
    "cls-int1/2, scm-int": """
        :AB owl:intersectionOf ( :A :B ) . :x a :A , :B . :y a :AB . :z a :A .""",
    "cls-uni, scm-uni": """
        :AB owl:unionOf ( :A :B ) . :x a :A . :y a :B .""",
    "cls-oo": """
        :Colour owl:oneOf ( :red :green ) . :Colour rdfs:subClassOf :Thingy .""",
    "datatype property range on literals": """
        :label rdfs:range xsd:string ; rdfs:domain :Named .
        :n rdfs:range xsd:integer .
        :x :label "a" , "b"@en , "c"^^xsd:string ; :n 3 , "4"^^xsd:int .""",
    "restriction on a datatype property": """
        :R owl:onProperty :n ; owl:someValuesFrom xsd:integer .
        :x :n 3 . :y :n "three" .""",
    "literal value through an inverse": """
        :name owl:inverseOf :nameOf . :nameOf rdfs:range :Named . :x :name "Iran" .""",
    "owl:Thing as a superclass": """
        owl:Thing rdfs:subClassOf :Everything . :A a owl:Class . :x a :A . :p rdfs:domain :A .
        :y :p :z .""",
    "eq-sym, eq-trans, eq-rep-s/p/o": """
        :a owl:sameAs :b . :b owl:sameAs :c . :a :p :x . :y :q :c . :p owl:sameAs :p2 .
        :u :p :v .""",
    "owl:sameAs between classes and properties (the schema grows mid-run)": """
        :A owl:sameAs :B . :B rdfs:subClassOf :C . :x a :A .
        :p owl:sameAs :q . :q rdfs:domain :D ; owl:inverseOf :r . :y :p :z .""",
    "prp-fp, prp-ifp": """
        :f a owl:FunctionalProperty . :g a owl:InverseFunctionalProperty .
        :x :f :y1 , :y2 . :z1 :g :w . :z2 :g :w .""",
    "cls-maxc2, cls-maxqc3/4": """
        :R owl:onProperty :p ; owl:maxCardinality "1"^^xsd:nonNegativeInteger .
        :Q owl:onProperty :q ; owl:maxQualifiedCardinality "1"^^xsd:nonNegativeInteger ;
           owl:onClass :C .
        :x a :R ; :p :a , :b . :u a :Q ; :q :c , :d , :e . :c a :C . :d a :C .""",
    "blank-node individuals": """
        :p rdfs:domain :A ; owl:inverseOf :q . [] :p [ a :B ] . :B rdfs:subClassOf :A .""",
}

INCONSISTENT = {
    "cax-dw": """
        :A owl:disjointWith :B . :C rdfs:subClassOf :B . :x a :A , :C .""",
    "cax-adc": """
        [] a owl:AllDisjointClasses ; owl:members ( :A :B :C ) .
        :p rdfs:range :C . :x a :A , :B . :y :p :x .""",
    "prp-irp": """
        :p a owl:IrreflexiveProperty . :q rdfs:subPropertyOf :p . :x :q :x .""",
    "prp-asyp": """
        :p a owl:AsymmetricProperty . :q owl:inverseOf :p . :x :p :y . :x :q :y .""",
    "prp-pdw": """
        :p owl:propertyDisjointWith :q . :x :p :y ; :q :y .""",
    "prp-adp (owlrl's bounds)": """
        [] a owl:AllDisjointProperties ; owl:members ( :p :q :r ) .
        :x :p :y ; :q :y ; :r :y .""",
    "cls-nothing2": """
        :A rdfs:subClassOf owl:Nothing . :x a :A .""",
    "cls-com": """
        :A owl:complementOf :B . :x a :A , :B .""",
    "cls-maxc1": """
        :R owl:onProperty :p ; owl:maxCardinality 0 . :x a :R ; :p :y .""",
    "eq-diff1": """
        :a owl:sameAs :b . :b owl:differentFrom :a . :c owl:differentFrom :c .""",
    "ill-typed literal": """
        :x :n "three"^^xsd:integer .""",
    "literal in a disjoint datatype": """
        :n rdfs:range xsd:decimal . :x :n "three" , "four"^^xsd:string . :y :m 5 .""",
    "disjoint classes in the CRINK style": """
        [] a owl:AllDisjointClasses ; owl:members ( :Actor :Situation ) .
        :State rdfs:subClassOf :Actor . :Transfer rdfs:subClassOf :Situation .
        :supplier rdfs:domain :Transfer ; rdfs:range :State .
        :iran a :State . :iran :supplier :russia .""",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_matches_owlrl(name: str) -> None:
    reference, fast = compare(graph(CASES[name]))
    assert not reference.inconsistencies


@pytest.mark.parametrize("name", sorted(INCONSISTENT))
def test_inconsistency_matches_owlrl(name: str) -> None:
    reference, _ = compare(graph(INCONSISTENT[name]))
    assert reference.inconsistencies, "the case must be inconsistent under owlrl"


def test_inconsistency_names_resources() -> None:
    _, fast = compare(graph(INCONSISTENT["cax-dw"]))
    assert fast.inconsistencies[0].resources == ["http://example.org/A", "http://example.org/B",
                                                 "http://example.org/x"]


UNSUPPORTED = {
    "owl:hasKey": ":C owl:hasKey ( :k ) . :x a :C ; :k 1 . :y a :C ; :k 1 .",
    "axiom on the vocabulary": ":p rdfs:subPropertyOf rdf:type . :x :p :C .",
    "explicit datatype typing": ":x a xsd:integer .",
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_raises_or_falls_back(name: str) -> None:
    g = graph(UNSUPPORTED[name])
    with pytest.raises(rules.UnsupportedConstruct):
        rules.reason(g, fallback=False)
    with pytest.warns(UserWarning, match="falling back to owlrl"):
        fast = rules.reason(g)
    assert set(fast.inferred) == set(reasoning.reason(g).inferred)


def test_reason_triples_matches_reason() -> None:
    g = graph(CASES["prp-spo2, three links and a blank-node inverse"]
              + CASES["datatype property range on literals"])
    triples = graph_to_triples(g)
    inferred, removed, problems = rules.reason_triples(triples)
    assert all(isinstance(t, ox.Triple) for t in inferred)
    back = {(to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))
            for t in inferred}
    expected = rules.reason(graph_to_graph(triples))
    assert back == set(expected.inferred)
    assert problems == expected.inconsistencies


def graph_to_graph(triples: list[ox.Triple]) -> Graph:
    g = Graph()
    for t in triples:
        g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return g


def _project_graph(data_dirs: list[Path]) -> Graph:
    g = Graph()
    for path in sorted((ROOT / "ontology").glob("*.ttl")):
        if path.name != "shapes.ttl":
            g.parse(path, format="turtle")
    for folder in data_dirs:
        for path in sorted(folder.glob("*.ttl")):
            g.parse(path, format="turtle")
    return g


def test_real_graph_equivalence() -> None:
    """The curated ontology and data: the same closure as owlrl, triple for triple."""
    g = _project_graph([ROOT / "data"])
    reference, fast = compare(g)
    assert len(fast.inferred) > 100
    supplies = URIRef("https://w3id.org/crinkkg/ontology#supplies")
    assert any(p == supplies for _, p, _ in fast.inferred)


def test_synthetic_graph_equivalence(tmp_path: Path) -> None:
    """A synthetic graph from the benchmark's generator (a few thousand triples)."""
    sys.path.insert(0, str(ROOT))
    try:
        from bench.synthetic import generate
    except ImportError:  # pragma: no cover - bench/ is part of the repository
        pytest.skip("bench.synthetic is not available")
    finally:
        sys.path.remove(str(ROOT))
    generate(tmp_path, 1500, seed=7)
    g = _project_graph([tmp_path])
    assert len(g) > 2500
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no silent fallback to owlrl
        compare(g)
