"""Dereferenceable IRIs over real HTTP: every content type, suffixes, ``format=``, q-values,
the 404s and 406s, asserted versus inferred statements, sources, the JSON-LD ``@context``,
and the ontology at its IRI loading in rdflib and owlready2."""

from __future__ import annotations

import io
import json

import owlready2
import pytest
import requests
from rdflib import OWL, RDF, RDFS, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from servers import project_server

ID = Namespace("https://w3id.org/crinkkg/id/")
CRINK = Namespace("https://w3id.org/crinkkg/ontology#")
PROV = Namespace("http://www.w3.org/ns/prov#")
INFERRED = URIRef("https://w3id.org/crinkkg/graph/inferred")
ONTOLOGY = URIRef("https://w3id.org/crinkkg/ontology")
PROTEGE_ACCEPT = ("application/rdf+xml, application/xml; q=0.7, text/xml; q=0.6, "
                  "text/plain; q=0.1, */*; q=0.09")

# media type -> (rdflib parser, suffix)
TRIPLE_FORMATS = {
    "text/turtle": ("turtle", "ttl"),
    "application/ld+json": ("json-ld", "jsonld"),
    "application/rdf+xml": ("xml", "rdf"),
    "application/n-triples": ("nt", "nt"),
}
QUAD_FORMATS = {"application/trig": ("trig", "trig"), "application/n-quads": ("nquads", "nq")}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


def get(server, path: str, accept: str | None = None, **params) -> requests.Response:
    headers = {"Accept": accept} if accept is not None else {}
    return requests.get(server.url + path, headers=headers, params=params, timeout=30)


def media(response: requests.Response) -> str:
    return response.headers["Content-Type"].split(";")[0].strip()


def parse(response: requests.Response, fmt: str, base: str) -> Graph:
    if fmt in ("trig", "nquads"):
        ds = Dataset(default_union=True)
        ds.parse(data=response.content, format=fmt)
        return ds
    return Graph().parse(data=response.content, format=fmt, publicID=base)


# -- content negotiation -------------------------------------------------------------------

@pytest.mark.parametrize("accept", [*TRIPLE_FORMATS, *QUAD_FORMATS])
def test_every_rdf_format_by_accept(server, accept):
    r = get(server, "/id/russia", accept)
    assert r.status_code == 200, r.text
    assert media(r) == accept
    assert "Accept" in r.headers["Vary"]
    fmt, suffix = {**TRIPLE_FORMATS, **QUAD_FORMATS}[accept]
    assert r.headers["Content-Location"] == f"/id/russia.{suffix}"
    assert 'rel="alternate"' in r.headers["Link"]
    g = parse(r, fmt, server.url)
    assert (ID.russia, RDFS.label, Literal("Russia", lang="en")) in g
    assert (ID.russia, RDF.type, CRINK.State) in g


def test_html_for_browsers(server):
    r = get(server, "/id/russia", "text/html,application/xhtml+xml,application/xml;q=0.9,"
                                  "*/*;q=0.8")
    assert r.status_code == 200
    assert media(r) == "text/html"
    assert r.headers["Content-Location"] == "/id/russia.html"
    assert "<h1>Russia</h1>" in r.text


@pytest.mark.parametrize("suffix,expected", [("ttl", "text/turtle"),
                                             ("jsonld", "application/ld+json"),
                                             ("rdf", "application/rdf+xml"),
                                             ("nt", "application/n-triples"),
                                             ("trig", "application/trig"),
                                             ("nq", "application/n-quads"),
                                             ("html", "text/html")])
def test_suffix_wins_over_accept(server, suffix, expected):
    r = get(server, f"/id/russia.{suffix}", "text/html" if suffix != "html" else "text/turtle")
    assert r.status_code == 200
    assert media(r) == expected


@pytest.mark.parametrize("value,expected", [("turtle", "text/turtle"), ("ttl", "text/turtle"),
                                            ("jsonld", "application/ld+json"),
                                            ("rdfxml", "application/rdf+xml"),
                                            ("nt", "application/n-triples"),
                                            ("application/n-quads", "application/n-quads")])
def test_format_parameter_wins_over_accept(server, value, expected):
    r = get(server, "/id/russia", "text/html", format=value)
    assert r.status_code == 200
    assert media(r) == expected


@pytest.mark.parametrize("accept,expected", [
    ("text/turtle;q=0.5, application/ld+json", "application/ld+json"),
    ("application/rdf+xml;q=0.9, text/turtle;q=0.8", "application/rdf+xml"),
    ("application/n-triples, text/html;q=0.1", "application/n-triples"),
    ("*/*", "text/turtle"),
    ("", "text/turtle"),
    ("application/json", "application/ld+json"),
])
def test_q_values(server, accept, expected):
    r = get(server, "/id/russia", accept)
    assert r.status_code == 200
    assert media(r) == expected


def test_nothing_acceptable_is_406(server):
    r = get(server, "/id/russia", "image/png")
    assert r.status_code == 406
    assert "text/turtle" in r.text


def test_unknown_format_parameter_is_400(server):
    r = get(server, "/id/russia", format="docx")
    assert r.status_code == 400
    assert "format=docx" in r.text


def test_head(server):
    r = requests.head(server.url + "/id/russia", headers={"Accept": "text/turtle"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Location"] == "/id/russia.ttl"


# -- 404s ----------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", [*TRIPLE_FORMATS, *QUAD_FORMATS])
def test_unknown_iri_is_404_in_the_asked_format(server, accept):
    r = get(server, "/id/no-such-thing", accept)
    assert r.status_code == 404
    assert media(r) == accept
    fmt = {**TRIPLE_FORMATS, **QUAD_FORMATS}[accept][0]
    assert len(parse(r, fmt, server.url)) == 0  # valid, and empty
    assert "no-such-thing" in r.text


def test_unknown_iri_html_404_suggests(server):
    r = get(server, "/id/russia-treaty", "text/html")
    assert r.status_code == 404
    assert media(r) == "text/html"
    assert "Not found" in r.text
    assert 'href="/id/russia-dprk-treaty-2024"' in r.text  # "did you mean"


@pytest.mark.parametrize("path", ["/id/%3Cinjection%3E", "/id/a%20b", '/id/x"y',
                                  "/ontology/9.9.9", "/graph/no-such-graph", "/ontology.docx"])
def test_other_404s(server, path):
    r = get(server, path, "text/turtle")
    assert r.status_code == 404


# -- what a description holds -----------------------------------------------------------------

def test_inferred_statements_sit_in_the_inferred_graph(server):
    ds = parse(get(server, "/id/russia", "application/trig"), "trig", server.url)
    inferred = ds.graph(INFERRED)
    assert (ID.russia, CRINK.alliedWith, ID["north-korea"]) in inferred
    states = ds.graph(URIRef("https://w3id.org/crinkkg/graph/data/states-and-groupings"))
    assert (ID.russia, RDFS.label, Literal("Russia", lang="en")) in states
    assert (ID.russia, RDFS.label, Literal("Russia", lang="en")) not in inferred


def test_turtle_marks_the_inferred_part(server):
    text = get(server, "/id/russia", "text/turtle").text
    asserted, _, inferred = text.partition("# Inferred by OWL 2 RL")
    assert inferred, "the Turtle has an inferred part after a comment"
    assert "crink:alliedWith" in inferred and "crink:alliedWith" not in asserted


@pytest.mark.parametrize("view,has_label,has_allied", [("asserted", True, False),
                                                       ("inferred", False, True),
                                                       ("all", True, True)])
def test_views(server, view, has_label, has_allied):
    g = parse(get(server, "/id/russia", "text/turtle", view=view), "turtle", server.url)
    assert ((ID.russia, RDFS.label, None) in g) == has_label
    assert ((ID.russia, CRINK.alliedWith, ID["north-korea"]) in g) == has_allied


def test_bad_view_is_400(server):
    assert get(server, "/id/russia", "text/turtle", view="maybe").status_code == 400


def test_description_has_incoming_links_sources_and_labels(server):
    g = parse(get(server, "/id/russia", "text/turtle"), "turtle", server.url)
    drones = ID["iran-shahed-drones-to-russia"]
    assert (drones, CRINK.armsRecipient, ID.russia) in g  # incoming
    assert (drones, PROV.wasDerivedFrom, ID["source-crink-article"]) in g  # its source
    assert (drones, RDFS.label, None) in g  # a label to show


def test_claim_has_its_sources(server):
    g = parse(get(server, "/id/russia-dprk-treaty-2024", "text/turtle"), "turtle", server.url)
    treaty = ID["russia-dprk-treaty-2024"]
    assert set(g.objects(treaty, PROV.wasDerivedFrom)) == {ID["source-crink-article"]}
    # the public record's signing links to the treaty: it comes with its own source
    signing = ID["russia-dprk-treaty-2024-signing"]
    assert (signing, CRINK.signingOf, treaty) in g
    assert (signing, PROV.wasDerivedFrom, ID["source-russia-dprk-treaty-text"]) in g


def test_jsonld_expands_to_the_turtle_triples(server):
    """The JSON-LD embeds the published @context: rdflib needs nothing from the network."""
    published = get(server, "/context.jsonld").json()["@context"]
    for path in ("/id/russia", "/id/russia-dprk-treaty-2024", "/id/source-crink-article"):
        turtle = parse(get(server, path, "text/turtle"), "turtle", server.url)
        r = get(server, path, "application/ld+json")
        doc = r.json()
        assert doc["@context"] == published
        jsonld = Graph().parse(data=r.text, format="json-ld")
        assert len(turtle) > 10
        assert isomorphic(turtle, jsonld), path


def test_jsonld_context_is_published(server):
    r = get(server, "/context.jsonld")
    assert r.status_code == 200
    assert media(r) == "application/ld+json"
    context = r.json()["@context"]
    assert context["crink"] == str(CRINK)
    assert context["id"] == str(ID)


def test_ntriples_same_triples_as_turtle(server):
    turtle = parse(get(server, "/id/iran", "text/turtle"), "turtle", server.url)
    nt = parse(get(server, "/id/iran", "application/n-triples"), "nt", server.url)
    xml = parse(get(server, "/id/iran", "application/rdf+xml"), "xml", server.url)
    assert isomorphic(turtle, nt)
    assert isomorphic(turtle, xml)


# -- the ontology -----------------------------------------------------------------------------

def test_ontology_for_protege_is_rdfxml(server):
    r = get(server, "/ontology", PROTEGE_ACCEPT)
    assert r.status_code == 200
    assert media(r) == "application/rdf+xml"
    g = Graph().parse(data=r.content, format="xml")
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in g
    assert (ONTOLOGY, OWL.versionIRI, URIRef(str(ONTOLOGY) + "/0.2.0")) in g
    assert (CRINK.alliedWith, RDF.type, OWL.SymmetricProperty) in g


def test_ontology_without_accept_is_rdfxml(server):
    """What owlready2 and other OWL tools that do not negotiate get."""
    r = requests.get(server.url + "/ontology", headers={"Accept": None}, timeout=10)
    assert media(r) == "application/rdf+xml"


def test_ontology_turtle_and_rdfxml_have_the_same_triples(server):
    ttl = Graph().parse(data=get(server, "/ontology", "text/turtle").content, format="turtle")
    xml = Graph().parse(data=get(server, "/ontology.owl").content, format="xml")
    jsonld = Graph().parse(data=get(server, "/ontology.jsonld").text, format="json-ld")
    assert len(ttl) > 1000
    assert isomorphic(ttl, xml)
    assert isomorphic(ttl, jsonld)


def test_version_iri_resolves_to_this_version(server):
    current = Graph().parse(data=get(server, "/ontology.ttl").content, format="turtle")
    version = get(server, "/ontology/0.2.0", "text/turtle")
    assert version.status_code == 200
    assert version.headers["Content-Location"] == "/ontology/0.2.0.ttl"
    assert isomorphic(current, Graph().parse(data=version.content, format="turtle"))
    assert get(server, "/ontology/0.2.0.rdf").status_code == 200


def test_owlready2_opens_the_ontology_by_url(server):
    world = owlready2.World()
    onto = world.get_ontology(server.url + "/ontology").load()
    assert onto.base_iri == str(CRINK)
    allied = world[str(CRINK.alliedWith)]
    assert allied is not None and owlready2.SymmetricProperty in allied.is_a
    state = world[str(CRINK.State)]
    assert world[str(CRINK.Actor)] in state.is_a


def test_owlready2_reads_the_turtle(server):
    """owlready2 has no Turtle parser: the Turtle goes through rdflib to N-Triples, and
    owlready2 gets the same classes as from the RDF/XML."""
    ttl = Graph().parse(data=get(server, "/ontology.ttl").content, format="turtle")
    world = owlready2.World()
    onto = world.get_ontology(str(ONTOLOGY)).load(
        fileobj=io.BytesIO(ttl.serialize(format="nt", encoding="utf-8")), format="ntriples")
    via_xml = owlready2.World().get_ontology(server.url + "/ontology.rdf").load()
    assert {c.iri for c in onto.classes()} == {c.iri for c in via_xml.classes()}
    assert len(list(onto.classes())) > 40


def test_ontology_html_has_term_anchors(server):
    r = get(server, "/ontology", "text/html")
    assert r.status_code == 200
    for anchor in ("State", "alliedWith", "ArmsTransfer", "kind-drones", "statedIn"):
        assert f'id="{anchor}"' in r.text


# -- graphs and the dataset ---------------------------------------------------------------------

def test_graph_iri_gives_its_triples(server):
    r = get(server, "/graph/inferred", "text/turtle")
    assert r.status_code == 200
    g = Graph().parse(data=r.content, format="turtle")
    assert (ID.russia, CRINK.alliedWith, ID["north-korea"]) in g
    assert get(server, "/graph/data/china", "text/html").status_code == 200


def test_root_for_rdf_clients_is_void(server):
    r = get(server, "/", "text/turtle")
    assert r.status_code == 200
    g = Graph().parse(data=r.content, format="turtle")
    void = Namespace("http://rdfs.org/ns/void#")
    assert (URIRef("https://w3id.org/crinkkg/"), RDF.type, void.Dataset) in g


def test_links_in_pages_point_at_this_server(server):
    """The base IRI is mapped onto the server: pages link locally, RDF keeps the IRIs."""
    page = get(server, "/id/russia", "text/html").text
    assert 'href="/id/north-korea"' in page
    assert 'href="https://w3id.org/crinkkg/id/' not in page
    assert json.dumps(get(server, "/id/russia.jsonld").json()).count("https://w3id.org/") > 5


def test_base_is_configurable():
    """Another base maps onto the server's root the same way; outside IRIs stay as they
    are."""
    from crinkkg.backends import open_backend
    from crinkkg.settings import Settings
    from crinkkg.web import create_app
    from crinkkg.web.http.urls import href, iri_for, local_path

    settings = Settings(base_iri="https://example.org/kg/")
    app = create_app(settings, open_backend(settings, start=False))  # nothing is started
    with app.test_request_context("/"):
        assert local_path("https://example.org/kg/id/x") == "/id/x"
        assert local_path("https://example.org/kg/ontology#State") == "/ontology#State"
        assert iri_for("/id/x") == "https://example.org/kg/id/x"
        assert href("https://w3id.org/crinkkg/id/x") == "https://w3id.org/crinkkg/id/x"
