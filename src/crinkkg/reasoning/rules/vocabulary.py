"""The RDF/RDFS/OWL terms the compiled rules read, as Oxigraph nodes, owlrl's datatype
tables, and the exception for what the rules do not reproduce.

One home for the terms that every piece of the engine (the TBox, the compiler, the fixpoint,
the checks) and in-store reasoning name.
"""

from __future__ import annotations

import pyoxigraph as ox
from owlrl.AxiomaticTriples import OWLRL_Datatypes_Disjointness
from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions, OWL_RL_Datatypes
from rdflib import URIRef
from rdflib.namespace import OWL, RDF, RDFS

from crinkkg.vocab import OWL_NS, RDF_NS, RDFS_NS


class UnsupportedConstruct(Exception):
    """The input uses an OWL construct this engine does not reproduce exactly."""


def _n(term: URIRef) -> ox.NamedNode:
    return ox.NamedNode(str(term))


TYPE, SUB, EQC = _n(RDF.type), _n(RDFS.subClassOf), _n(OWL.equivalentClass)
SUBP, EQP = _n(RDFS.subPropertyOf), _n(OWL.equivalentProperty)
DOMAIN, RANGE = _n(RDFS.domain), _n(RDFS.range)
FIRST, REST = _n(RDF.first), _n(RDF.rest)
THING, NOTHING, OWL_CLASS = _n(OWL.Thing), _n(OWL.Nothing), _n(OWL.Class)
PROPERTY_TYPES = {_n(OWL.ObjectProperty), _n(OWL.DatatypeProperty), _n(RDF.Property)}
ON_PROPERTY, HAS_VALUE = _n(OWL.onProperty), _n(OWL.hasValue)
SVF, AVF = _n(OWL.someValuesFrom), _n(OWL.allValuesFrom)
INTERSECTION, UNION, ONE_OF = _n(OWL.intersectionOf), _n(OWL.unionOf), _n(OWL.oneOf)
INVERSE, CHAIN = _n(OWL.inverseOf), _n(OWL.propertyChainAxiom)
SAME_AS, DIFFERENT = _n(OWL.sameAs), _n(OWL.differentFrom)
SYMMETRIC, TRANSITIVE = _n(OWL.SymmetricProperty), _n(OWL.TransitiveProperty)
FUNCTIONAL, INV_FUNCTIONAL = _n(OWL.FunctionalProperty), _n(OWL.InverseFunctionalProperty)
IRREFLEXIVE, ASYMMETRIC = _n(OWL.IrreflexiveProperty), _n(OWL.AsymmetricProperty)
DISJOINT_WITH, MEMBERS = _n(OWL.disjointWith), _n(OWL.members)
ALL_DISJOINT_CLASSES = _n(OWL.AllDisjointClasses)
ALL_DISJOINT_PROPERTIES = _n(OWL.AllDisjointProperties)
ALL_DIFFERENT, DISTINCT_MEMBERS = _n(OWL.AllDifferent), _n(OWL.distinctMembers)
PROPERTY_DISJOINT_WITH, COMPLEMENT = _n(OWL.propertyDisjointWith), _n(OWL.complementOf)
MAX_CARD, MAX_QCARD, ON_CLASS = (_n(OWL.maxCardinality), _n(OWL.maxQualifiedCardinality),
                                 _n(OWL.onClass))
HAS_KEY = _n(OWL.hasKey)
SOURCE_INDIVIDUAL, ASSERTION_PROPERTY = _n(OWL.sourceIndividual), _n(OWL.assertionProperty)
TARGET_INDIVIDUAL, TARGET_VALUE = _n(OWL.targetIndividual), _n(OWL.targetValue)

#: triples with these predicates describe the schema: the Python side reads them
SCHEMA_PREDICATES = {
    SUB, EQC, SUBP, EQP, DOMAIN, RANGE, FIRST, REST, ON_PROPERTY, HAS_VALUE, SVF, AVF,
    INTERSECTION, UNION, ONE_OF, INVERSE, CHAIN, DISJOINT_WITH, MEMBERS, DISTINCT_MEMBERS,
    PROPERTY_DISJOINT_WITH, COMPLEMENT, MAX_CARD, MAX_QCARD, ON_CLASS, HAS_KEY,
    SOURCE_INDIVIDUAL, ASSERTION_PROPERTY, TARGET_INDIVIDUAL, TARGET_VALUE, DIFFERENT,
}
#: ... and rdf:type triples with one of these objects
SCHEMA_TYPES = {
    OWL_CLASS, SYMMETRIC, TRANSITIVE, FUNCTIONAL, INV_FUNCTIONAL, IRREFLEXIVE, ASYMMETRIC,
    ALL_DISJOINT_CLASSES, ALL_DISJOINT_PROPERTIES, ALL_DIFFERENT, *PROPERTY_TYPES,
}
#: the same as rdflib terms, for reading rdflib triples
SCHEMA_PREDICATE_TERMS = {URIRef(p.value) for p in SCHEMA_PREDICATES}
SCHEMA_TYPE_TERMS = {URIRef(c.value) for c in SCHEMA_TYPES}
VOCABULARY = (RDF_NS, RDFS_NS, OWL_NS)
#: vocabulary terms that may stand where a class is expected
CLASS_VOCABULARY = {str(OWL.Thing), str(OWL.Nothing), str(RDFS.Literal), str(RDF.PlainLiteral),
                    str(RDF.XMLLiteral), str(RDF.HTML), str(RDF.langString)}
RL_DATATYPES = {str(d) for d in OWL_RL_Datatypes}
SUBSUMPTIONS = {str(k): [str(v) for v in vs] for k, vs in OWL_Datatype_Subsumptions.items()}
DATATYPE_DISJOINTNESS = [(str(a), str(b)) for a, _, b in OWLRL_Datatypes_Disjointness]
