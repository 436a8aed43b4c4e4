"""The CRINK ontology (ontology/crink.ttl): header, documentation, axioms and consistency.

HermiT (through owlready2, on the machine's Java) checks that the ontology, alone and with
the data, is consistent and has no unsatisfiable class. Without Java these tests skip
locally and fail under CI (CI=true), where .ci/run installs Java.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from crinkkg.reasoning.owlrl_closure import raw_closure

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_FILE = ROOT / "ontology" / "crink.ttl"
SHAPES_FILE = ROOT / "ontology" / "shapes.ttl"
CATALOG_FILE = ROOT / "ontology" / "catalog-v001.xml"
DATA_FILES = sorted((ROOT / "data").glob("*.ttl"))
QUERY_FILES = sorted((ROOT / "src" / "crinkkg" / "queries").glob("*.rq"))
FIXTURES = ROOT / "tests" / "fixtures"

ONTOLOGY_IRI = URIRef("https://w3id.org/crinkkg/ontology")
VERSION_IRI = URIRef("https://w3id.org/crinkkg/ontology/0.2.0")
NS = "https://w3id.org/crinkkg/ontology#"
DCTERMS = "http://purl.org/dc/terms/"
VANN = "http://purl.org/vocab/vann/"
PROV = "http://www.w3.org/ns/prov#"
ERROR_MESSAGE = URIRef("http://www.daml.org/2002/03/agents/agent-ont#ErrorMessage")
ERROR_TEXT = URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")

TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE)


def crink_terms(g: Graph, *types: URIRef) -> set[URIRef]:
    return {s for t in (types or TERM_TYPES) for s in g.subjects(RDF.type, t)
            if isinstance(s, URIRef) and str(s).startswith(NS)}


# --- header and documentation ------------------------------------------------------------


def test_header_has_the_metadata_protege_and_documentation_tools_read(ontology: Graph):
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(ONTOLOGY_IRI, OWL.versionIRI) == VERSION_IRI
    assert str(ontology.value(ONTOLOGY_IRI, OWL.versionInfo)) == "0.2.0"
    for name in ("title", "description", "creator", "license", "created", "modified"):
        value = ontology.value(ONTOLOGY_IRI, URIRef(DCTERMS + name))
        assert value is not None, f"the ontology header lacks dcterms:{name}"
    for name in ("created", "modified"):  # ISO 8601 strings: xsd:date is outside OWL 2 DL
        value = ontology.value(ONTOLOGY_IRI, URIRef(DCTERMS + name))
        assert isinstance(value, Literal) and value.datatype is None
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value))
    assert isinstance(ontology.value(ONTOLOGY_IRI, URIRef(DCTERMS + "license")), URIRef)
    assert str(ontology.value(ONTOLOGY_IRI, URIRef(VANN + "preferredNamespacePrefix"))) == "crink"
    assert str(ontology.value(ONTOLOGY_IRI, URIRef(VANN + "preferredNamespaceUri"))) == NS
    assert not list(ontology.objects(ONTOLOGY_IRI, OWL.imports)), "no remote imports: offline"


def test_every_term_has_an_english_label_and_a_definition(ontology: Graph):
    terms = crink_terms(ontology) | crink_terms(ontology, SKOS.Concept, SKOS.ConceptScheme)
    terms |= {s for s in ontology.subjects(RDF.type, None)
              if isinstance(s, URIRef) and str(s).startswith(NS)}
    assert len(terms) > 100
    problems = []
    for term in sorted(terms):
        labels = [o for o in ontology.objects(term, RDFS.label) if getattr(o, "language", None)]
        definitions = [o for p in (SKOS.definition, RDFS.comment)
                       for o in ontology.objects(term, p)
                       if isinstance(o, Literal) and o.language == "en"]
        if not any(lbl.language == "en" for lbl in labels):
            problems.append(f"{term}: no English rdfs:label")
        if not definitions:
            problems.append(f"{term}: no English skos:definition or rdfs:comment")
    assert not problems, "\n".join(problems)


def test_reused_terms_are_declared_locally_with_labels(ontology: Graph):
    """Protégé and HermiT see the PROV-O, SKOS and Dublin Core terms typed, without imports."""
    reused = (PROV, str(SKOS), DCTERMS, VANN)
    used = {t for triple in ontology for t in triple
            if isinstance(t, URIRef) and str(t).startswith(reused)}
    for path in DATA_FILES:
        g = Graph().parse(path)
        used |= {p for p in g.predicates() if str(p).startswith(reused)}
        used |= {c for c in g.objects(None, RDF.type) if str(c).startswith(reused)}
    undeclared = sorted(t for t in used
                        if not any((t, RDF.type, kind) in ontology for kind in TERM_TYPES))
    assert not undeclared, f"reused but not declared: {undeclared}"
    unlabelled = sorted(t for t in used if ontology.value(t, RDFS.label) is None)
    assert not unlabelled, f"reused but not labelled: {unlabelled}"


def test_properties_have_a_domain_or_a_range(ontology: Graph):
    for prop in crink_terms(ontology, OWL.ObjectProperty):
        assert ontology.value(prop, RDFS.domain) or ontology.value(prop, RDFS.range), prop
    for prop in crink_terms(ontology, OWL.DatatypeProperty):
        assert ontology.value(prop, RDFS.range) is not None, f"{prop} has no range"


def test_every_crink_term_used_anywhere_is_declared(ontology: Graph):
    """A typo in the data, the shapes or a query (crink:armSupplier) would silently never
    match nor reason: every crink: IRI used must be declared in the ontology."""
    declared = {s for s in ontology.subjects() if isinstance(s, URIRef)}
    used: dict[str, set[str]] = {}
    for path in [*DATA_FILES, SHAPES_FILE]:
        for triple in Graph().parse(path):
            for term in triple:
                if isinstance(term, URIRef) and str(term).startswith(NS):
                    used.setdefault(str(term), set()).add(path.name)
    for path in QUERY_FILES:
        for local in re.findall(r"\bcrink:([A-Za-z][\w-]*)", path.read_text()):
            used.setdefault(NS + local, set()).add(path.name)
    unknown = {term: files for term, files in used.items() if URIRef(term) not in declared}
    assert not unknown, f"undeclared crink: terms: {unknown}"


def test_class_hierarchy_places_drone_transfers_under_transfers(ontology: Graph):
    def ancestors(cls: URIRef) -> set[URIRef]:
        return set(ontology.transitive_objects(cls, RDFS.subClassOf))

    assert {URIRef(NS + "ArmsTransfer"), URIRef(NS + "Transfer"), URIRef(NS + "Event"),
            URIRef(NS + "Situation"), URIRef(PROV + "Entity")} <= ancestors(
                URIRef(NS + "DroneTransfer"))
    for kind in ("TroopDeployment", "OilSale", "IntelligenceSupport", "IndustrialSupport",
                 "Investment", "MissileTransfer", "ArtilleryTransfer"):
        assert URIRef(NS + "Transfer") in ancestors(URIRef(NS + kind)), kind


def test_status_and_obligation_vocabularies_are_skos_concepts(ontology: Graph):
    def concepts(cls: str) -> set[str]:
        return {str(s).removeprefix(NS) for s in ontology.subjects(RDF.type, URIRef(NS + cls))}

    assert {"status-delivered", "status-ongoing", "status-requested-not-delivered",
            "status-refused", "status-fragile"} <= concepts("Status")
    assert concepts("ObligationKind") == {
        "obligation-defence", "obligation-offense", "obligation-neutrality",
        "obligation-non-aggression", "obligation-consultation"}
    for cls in ("Status", "ObligationKind", "ItemKind", "AssetKind"):
        assert (URIRef(NS + cls), RDFS.subClassOf, SKOS.Concept) in ontology
        for concept in concepts(cls):
            assert ontology.value(URIRef(NS + concept), SKOS.prefLabel) is not None, concept


# --- the owlrl traps: what the ontology must not contain ------------------------------------


def test_no_owlrl_traps_in_ontology_or_data(ontology: Graph):
    """No owl:hasKey, no functional links to states, no owl:sameAs (design.md, measured)."""
    everything = Graph()
    for path in [ONTOLOGY_FILE, *DATA_FILES]:
        everything.parse(path)
    assert not list(everything.triples((None, OWL.hasKey, None)))
    assert not list(everything.triples((None, OWL.sameAs, None)))
    functional = set(everything.subjects(RDF.type, OWL.FunctionalProperty)) | set(
        everything.subjects(RDF.type, OWL.InverseFunctionalProperty))
    assert not functional, f"functional properties merge states under owlrl: {functional}"


def test_no_property_chain_links_a_node_to_itself(ontology: Graph):
    """A chain ``inverse(p) o p`` (partyTo o hasParty) relates every party to itself."""
    def inverse_of(p: URIRef) -> set:
        return set(ontology.objects(p, OWL.inverseOf)) | set(ontology.subjects(OWL.inverseOf, p))

    chains = list(ontology.subject_objects(OWL.propertyChainAxiom))
    assert len(chains) >= 5
    for prop, head in chains:
        links = list(Collection(ontology, head))
        assert len(links) == 2 and not any(isinstance(x, BNode) for x in links), (
            f"{prop}: chains use two named properties (no blank-node inverses)")
        first, second = links
        assert second not in inverse_of(first), f"{prop}: chain {first} o {second} is reflexive"


def test_allied_with_is_symmetric_and_derived_through_distinct_roles(ontology: Graph):
    allied = URIRef(NS + "alliedWith")
    assert (allied, RDF.type, OWL.SymmetricProperty) in ontology
    assert (allied, RDF.type, OWL.ReflexiveProperty) not in ontology
    chain = list(Collection(ontology, ontology.value(allied, OWL.propertyChainAxiom)))
    assert chain == [URIRef(NS + "firstAllyOf"), URIRef(NS + "secondAlly")]


def test_disjointness_axioms_catch_a_modelling_error(ontology: Graph):
    """owlrl flags an individual that is both a state and a transfer (it adds error nodes
    to the closure instead of raising)."""
    g = Graph().parse(ONTOLOGY_FILE)
    g.parse(FIXTURES / "disjoint-violation.ttl")
    closure = raw_closure(g)
    messages = [str(m) for node in closure.subjects(RDF.type, ERROR_MESSAGE)
                for m in closure.objects(node, ERROR_TEXT)]
    assert any("https://w3id.org/crinkkg/id/russia" in m for m in messages), messages


def test_catalog_maps_the_ontology_iris_to_the_local_file():
    root = ET.parse(CATALOG_FILE).getroot()
    ns = {"c": "urn:oasis:names:tc:entity:xmlns:xml:catalog"}
    mapping = {u.get("name"): u.get("uri") for u in root.iterfind(".//c:uri", ns)}
    assert mapping == {str(ONTOLOGY_IRI): "crink.ttl", str(VERSION_IRI): "crink.ttl"}
    assert (CATALOG_FILE.parent / "crink.ttl").is_file()


def test_every_data_file_is_an_ontology_importing_the_ontology_with_a_catalog():
    """Protégé shows a data file's individuals only when it is an ontology of its own that
    imports the TBox; the catalog beside the data resolves the import offline."""
    root = ET.parse(ROOT / "data" / "catalog-v001.xml").getroot()
    ns = {"c": "urn:oasis:names:tc:entity:xmlns:xml:catalog"}
    mapping = {u.get("name"): u.get("uri") for u in root.iterfind(".//c:uri", ns)}
    assert mapping == {str(ONTOLOGY_IRI): "../ontology/crink.ttl",
                       str(VERSION_IRI): "../ontology/crink.ttl"}
    for path in DATA_FILES:
        g = Graph().parse(path)
        headers = list(g.subjects(RDF.type, OWL.Ontology))
        assert headers == [URIRef("https://w3id.org/crinkkg/graph/data/" + path.stem)], path.name
        assert list(g.objects(headers[0], OWL.imports)) == [ONTOLOGY_IRI], path.name


def test_no_two_terms_differ_only_by_case_and_no_labels_collide(ontology: Graph):
    terms = {str(s).removeprefix(NS) for s in ontology.subjects()
             if isinstance(s, URIRef) and str(s).startswith(NS)}
    folded: dict[str, set[str]] = {}
    for term in terms:
        folded.setdefault(term.lower().replace("-", "").replace("_", ""), set()).add(term)
    assert not [names for names in folded.values() if len(names) > 1]
    labels: dict[str, set[str]] = {}
    for term in terms:
        for label in ontology.objects(URIRef(NS + term), RDFS.label):
            labels.setdefault(str(label).lower(), set()).add(term)
    assert not {k: v for k, v in labels.items() if len(v) > 1}


def test_no_axioms_on_other_vocabularies_terms(ontology: Graph):
    """Reused terms are declared and documented, never given domains, ranges or
    hierarchy of our own (that would redefine another vocabulary's term)."""
    axioms = (RDFS.domain, RDFS.range, RDFS.subPropertyOf, RDFS.subClassOf, OWL.inverseOf,
              OWL.equivalentClass, OWL.equivalentProperty, OWL.disjointWith)
    own = {(URIRef(PROV + "Organization"), RDFS.subClassOf, URIRef(PROV + "Agent")),
           (URIRef(PROV + "Person"), RDFS.subClassOf, URIRef(PROV + "Agent")),
           (URIRef(PROV + "wasDerivedFrom"), RDFS.domain, URIRef(PROV + "Entity")),
           (URIRef(PROV + "wasDerivedFrom"), RDFS.range, URIRef(PROV + "Entity")),
           (SKOS.hasTopConcept, OWL.inverseOf, SKOS.topConceptOf),
           (SKOS.hasTopConcept, RDFS.domain, SKOS.ConceptScheme),
           (SKOS.hasTopConcept, RDFS.range, SKOS.Concept),
           (SKOS.topConceptOf, RDFS.subPropertyOf, SKOS.inScheme),
           (SKOS.topConceptOf, RDFS.domain, SKOS.Concept),
           (SKOS.topConceptOf, RDFS.range, SKOS.ConceptScheme),
           (SKOS.inScheme, RDFS.range, SKOS.ConceptScheme),
           (SKOS.broader, OWL.inverseOf, SKOS.narrower)}
    foreign = {(s, p, o) for p in axioms for s, o in ontology.subject_objects(p)
               if isinstance(s, URIRef) and not str(s).startswith(NS)} - own
    assert not foreign, f"axioms on other vocabularies' terms (beyond their own): {foreign}"


def test_cross_scheme_skos_links_use_the_mapping_properties():
    g = Graph().parse(ONTOLOGY_FILE)
    for path in DATA_FILES:
        g.parse(path)
    crossing = [(s, o) for s, o in g.subject_objects(SKOS.broader)
                if set(g.objects(s, SKOS.inScheme)) | set(g.objects(s, SKOS.topConceptOf))
                != set(g.objects(o, SKOS.inScheme)) | set(g.objects(o, SKOS.topConceptOf))]
    assert not crossing, f"skos:broader across schemes (use skos:broadMatch): {crossing}"


# HermiT in its default configuration and the OWL 2 DL profile: tests/test_owl_tools.py
