"""The SPARQL 1.1 Service Description of the endpoint, with VoID statistics.

Says what a client can rely on: the endpoint, the languages (SPARQL 1.1 Query, and Update
when enabled), every result and input format, the features (the default graph is the union
of the named graphs), the entailment (OWL 2 RL, materialised by owlrl at build time into
its own graph) and the dataset: every named graph with its triple count, and for the
default graph the triples, classes and properties (with partitions).
"""

from __future__ import annotations

import pyoxigraph as ox

from crinkkg import vocab
from crinkkg.backends.contract import Backend, Statistics
from crinkkg.formats import GRAPH_FORMATS, RESULT_FORMATS
from crinkkg.settings import Settings
from crinkkg.vocab import INFERRED_GRAPH_IRI, NAMESPACE_IRIS, SUPPORT_GRAPH_IRI

SD = NAMESPACE_IRIS["SD"]
VOID = NAMESPACE_IRIS["VOID"]

RDF_TYPE = ox.NamedNode(vocab.RDF_TYPE)
RDFS_COMMENT = ox.NamedNode(vocab.RDFS_COMMENT)
RDFS_LABEL = ox.NamedNode(vocab.RDFS_LABEL)
FORMATS_NS = "http://www.w3.org/ns/formats/"
ENTAILMENT_OWL_RDF_BASED = ox.NamedNode("http://www.w3.org/ns/entailment/OWL-RDF-Based")
PROFILE_OWL2_RL = ox.NamedNode("http://www.w3.org/ns/owl-profile/RL")
XSD_INTEGER = ox.NamedNode(vocab.XSD_NS + "integer")

# format names of W3C's format registry (http://www.w3.org/ns/formats/)
FORMAT_IRIS = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML",
               "csv": "SPARQL_Results_CSV", "tsv": "SPARQL_Results_TSV",
               "turtle": "Turtle", "ntriples": "N-Triples", "nquads": "N-Quads",
               "trig": "TriG", "jsonld": "JSON-LD", "rdfxml": "RDF_XML"}
INPUT_FORMATS = ("turtle", "ntriples", "jsonld", "rdfxml")
PREFIXES = {"sd": SD, "void": VOID, "formats": FORMATS_NS,
            "rdfs": vocab.RDFS_NS,
            "xsd": vocab.XSD_NS}



def sd(term: str) -> ox.NamedNode:
    return ox.NamedNode(SD + term)


def void(term: str) -> ox.NamedNode:
    return ox.NamedNode(VOID + term)


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=XSD_INTEGER)


def description_triples(endpoint: str, settings: Settings, stats: Statistics
                        ) -> list[ox.Triple]:
    """The service description as triples."""
    service = ox.NamedNode(endpoint + "#service")
    t: list[ox.Triple] = []

    def add(s, p, o) -> None:
        t.append(ox.Triple(s, p, o))

    add(service, RDF_TYPE, sd("Service"))
    add(service, sd("endpoint"), ox.NamedNode(endpoint))
    add(service, RDFS_LABEL, ox.Literal("crinkkg: the CRINK knowledge graph"))
    add(service, sd("supportedLanguage"), sd("SPARQL11Query"))
    if settings.enable_update:
        add(service, sd("supportedLanguage"), sd("SPARQL11Update"))
        for name in INPUT_FORMATS:
            add(service, sd("inputFormat"), ox.NamedNode(FORMATS_NS + FORMAT_IRIS[name]))
    for fmt in (*RESULT_FORMATS, *GRAPH_FORMATS):
        add(service, sd("resultFormat"), ox.NamedNode(FORMATS_NS + FORMAT_IRIS[fmt.name]))
    add(service, sd("feature"), sd("UnionDefaultGraph"))
    if settings.service_allowlist:
        add(service, sd("feature"), sd("BasicFederatedQuery"))
    add(service, sd("defaultEntailmentRegime"), ENTAILMENT_OWL_RDF_BASED)
    add(service, sd("defaultSupportedEntailmentProfile"), PROFILE_OWL2_RL)
    add(service, RDFS_COMMENT, ox.Literal(
        "Entailment: the OWL 2 RL closure of the asserted graphs is materialised by owlrl "
        f"(at build time and after every update) into the named graph <{INFERRED_GRAPH_IRI}>. "
        "The support of each derived state-to-state link (crink:DerivedLink: the claims it "
        "rests on, their sources, the weakest modality) is computed from the same "
        f"derivations into the named graph <{SUPPORT_GRAPH_IRI}>, not reasoned over. "
        "The default graph is the RDF merge of all graphs; add view=asserted or "
        "view=inferred to a request to query one side only. SERVICE is limited to "
        "allow-listed endpoints and LOAD is off unless enabled."))

    dataset = ox.BlankNode("dataset")
    default = ox.BlankNode("defaultGraph")
    add(service, sd("defaultDataset"), dataset)
    add(dataset, RDF_TYPE, sd("Dataset"))
    add(dataset, sd("defaultGraph"), default)
    add(default, RDF_TYPE, sd("Graph"))
    add(default, RDF_TYPE, void("Dataset"))
    add(default, void("triples"), _int(stats.triples))
    add(default, void("classes"), _int(len(stats.classes)))
    add(default, void("properties"), _int(len(stats.properties)))
    for i, (cls, n) in enumerate(sorted(stats.classes.items())):
        part = ox.BlankNode(f"class{i}")
        add(default, void("classPartition"), part)
        add(part, void("class"), ox.NamedNode(cls))
        add(part, void("entities"), _int(n))
    for i, (prop, n) in enumerate(sorted(stats.properties.items())):
        part = ox.BlankNode(f"property{i}")
        add(default, void("propertyPartition"), part)
        add(part, void("property"), ox.NamedNode(prop))
        add(part, void("triples"), _int(n))
    for i, (name, n) in enumerate(sorted(stats.graphs.items())):
        if not name:
            continue  # the store's own default graph is part of the union, not named
        named = ox.BlankNode(f"named{i}")
        graph = ox.BlankNode(f"graph{i}")
        add(dataset, sd("namedGraph"), named)
        add(named, RDF_TYPE, sd("NamedGraph"))
        add(named, sd("name"), ox.NamedNode(name))
        add(named, sd("graph"), graph)
        add(graph, RDF_TYPE, sd("Graph"))
        add(graph, void("triples"), _int(n))
        if name == INFERRED_GRAPH_IRI:
            add(graph, RDFS_COMMENT, ox.Literal("Inferred by owlrl (OWL 2 RL closure)."))
        elif name == SUPPORT_GRAPH_IRI:
            add(graph, RDFS_COMMENT, ox.Literal(
                "The support of the derived links, computed by the build (not asserted, "
                "not reasoned over)."))
        else:
            add(graph, RDFS_COMMENT, ox.Literal("Asserted."))
    return t


def service_description(endpoint: str, settings: Settings, backend: Backend,
                        fmt: ox.RdfFormat) -> bytes:
    """The service description serialised in ``fmt``."""
    triples = description_triples(endpoint, settings, backend.statistics())
    if fmt == ox.RdfFormat.JSON_LD:
        # keep JSON-LD plain (no @context from prefixes): every client reads it
        return ox.serialize(triples, format=fmt) or b""
    return ox.serialize(triples, format=fmt, prefixes=PREFIXES) or b""

