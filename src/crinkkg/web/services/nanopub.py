"""A claim's evidence as a nanopublication: what the source states, how and where it states
it, and which published version of the graph it comes from, in one citable piece of TriG.

The four graphs of a nanopublication (https://nanopub.net/guidelines/working_draft/):

- **assertion**: the claim as its source states it: the claim's own triples from the asserted
  graphs (not the reasoner's), with the blank nodes they hold, less those of the provenance;
- **provenance**: the claim's ``prov:wasDerivedFrom``, ``crink:statedIn`` (the passage, a Web
  Annotation ``oa:SpecificResource`` with its quote and position selectors and its part of
  the page), ``crink:hasModality`` and ``crink:accordingTo`` triples; for the assertion graph
  itself, ``prov:wasDerivedFrom`` each source and an ``oa:Annotation`` whose body is the
  assertion and whose target is each passage; and each source's ``crink:sha256``, so a
  reader can check the quoted words against the very text they come from;
- **pubinfo**: the nanopublication's label, the claim it was made from and the version of
  the store (``owl:versionInfo``) that held it;
- **head**: the nanopublication and its three graphs.

Its IRI ends in a digest of the assertion and provenance (their canonical N-Quads, RDFC-1.0,
SHA-256): the same evidence gets the same IRI in every version of the store, and other
evidence another one. It is not a Trusty URI (no RA module hash) and it is not signed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyoxigraph as ox

from crinkkg.vocab import BASE, OA_NS, PREFIXES
from crinkkg.web.context import get_backend

NP = "http://www.nanopub.org/nschema#"
PROV = PREFIXES["prov"]
CRINK = PREFIXES["crink"]
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode(PREFIXES["rdfs"] + "label")
#: the claim's triples that say where and how its source states it, not what it states
PROVENANCE = frozenset(CRINK + p for p in ("statedIn", "hasModality", "accordingTo")) | {
    PROV + "wasDerivedFrom"}
#: characters of the digest kept in the nanopublication's IRI
DIGEST = 16


@dataclass(frozen=True)
class Nanopub:
    """A claim's nanopublication: its IRI and its quads."""

    iri: str
    quads: list[ox.Quad]


def public_version(version: str) -> str:
    """The version as ``/health`` shows it: the build's name, not the server's path to it.

    >>> public_version("/srv/crinkkg/store.d/build-1796615215546-3717")
    'build-1796615215546-3717'
    """
    return version.rstrip("/").rsplit("/", 1)[-1]


def _closure(triples: list[ox.Triple], roots: list[ox.Triple]) -> list[ox.Triple]:
    """``roots`` and the triples of every blank node reached from them."""
    by_subject: dict[ox.BlankNode, list[ox.Triple]] = {}
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            by_subject.setdefault(t.subject, []).append(t)
    out, todo, seen = list(roots), [t.object for t in roots], set()
    while todo:
        node = todo.pop()
        if not isinstance(node, ox.BlankNode) or node in seen:
            continue
        seen.add(node)
        for t in by_subject.get(node, ()):
            out.append(t)
            todo.append(t.object)
    return out


def claim_nanopub(claim: str) -> Nanopub | None:
    """The nanopublication of ``claim`` (a safe IRI), or None when it is no claim (it has no
    passage that states it)."""
    backend = get_backend()
    two_levels = (f"CONSTRUCT {{ <{claim}> ?p ?o . ?o ?p2 ?o2 . ?o2 ?p3 ?o3 }} WHERE {{ "
                  f"<{claim}> ?p ?o OPTIONAL {{ ?o ?p2 ?o2 FILTER(isBlank(?o)) "
                  "OPTIONAL { ?o2 ?p3 ?o3 FILTER(isBlank(?o2)) } } }")
    triples = list(dict.fromkeys(ox.parse(  # (a CONSTRUCT may repeat a triple)
        backend.construct(two_levels, ox.RdfFormat.N_TRIPLES, view="asserted"),
        format=ox.RdfFormat.N_TRIPLES)))
    own = [t for t in triples if t.subject == ox.NamedNode(claim)]
    if not any(t.predicate.value == CRINK + "statedIn" for t in own):
        return None
    stated = _closure(triples, [t for t in own if t.predicate.value not in PROVENANCE])
    how = _closure(triples, [t for t in own if t.predicate.value in PROVENANCE])
    sources = sorted({t.object.value for t in how if t.predicate.value in
                      (PROV + "wasDerivedFrom", OA_NS + "hasSource")
                      and isinstance(t.object, ox.NamedNode)})
    checksums = list(ox.parse(backend.construct(
        "CONSTRUCT { ?s crink:sha256 ?h } WHERE { VALUES ?s { "
        + " ".join(f"<{s}>" for s in sources) + " } ?s crink:sha256 ?h }",
        ox.RdfFormat.N_TRIPLES, view="asserted"), format=ox.RdfFormat.N_TRIPLES)) \
        if sources else []

    # the evidence under placeholder names for its two graphs, in canonical form: its digest
    # names the nanopublication, and the placeholders then take the final names
    assertion, provenance = ox.NamedNode(BASE + "np/#assertion"), \
        ox.NamedNode(BASE + "np/#provenance")
    evidence = [ox.Quad(t.subject, t.predicate, t.object, assertion) for t in stated]
    evidence += [ox.Quad(t.subject, t.predicate, t.object, provenance)
                 for t in [*how, *checksums]]
    evidence += [ox.Quad(assertion, ox.NamedNode(PROV + "wasDerivedFrom"), ox.NamedNode(s),
                         provenance) for s in sources]
    for passage in (t.object for t in how if t.predicate.value == CRINK + "statedIn"):
        annotation = ox.BlankNode()
        evidence += [ox.Quad(annotation, RDF_TYPE, ox.NamedNode(OA_NS + "Annotation"),
                             provenance),
                     ox.Quad(annotation, ox.NamedNode(OA_NS + "hasBody"), assertion, provenance),
                     ox.Quad(annotation, ox.NamedNode(OA_NS + "hasTarget"), passage, provenance)]
    canonical = ox.Dataset(evidence)
    canonical.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    ordered = sorted(canonical, key=str)
    digest = hashlib.sha256(ox.serialize(ordered, format=ox.RdfFormat.N_QUADS)).hexdigest()
    name = claim[len(BASE) + 3:] if claim.startswith(BASE + "id/") else "claim"
    iri = f"{BASE}np/{name}.{digest[:DIGEST]}"
    np_iri = ox.NamedNode(iri)
    head, a, p, info = (ox.NamedNode(f"{iri}#{g}")
                        for g in ("Head", "assertion", "provenance", "pubinfo"))
    final = {assertion: a, provenance: p}

    def named(term):
        return final.get(term, term)

    quads = [ox.Quad(named(q.subject), q.predicate, named(q.object), final[q.graph_name])
             for q in ordered]
    label = next((t.object for t in stated if t.predicate == RDFS_LABEL), None)
    quads += [
        ox.Quad(np_iri, RDFS_LABEL, ox.Literal(
            f"The evidence of the claim “{label.value}”" if label is not None
            else f"The evidence of the claim <{claim}>", language="en"), info),
        ox.Quad(np_iri, ox.NamedNode(PROV + "wasDerivedFrom"), ox.NamedNode(claim), info),
        ox.Quad(np_iri, ox.NamedNode("http://www.w3.org/2002/07/owl#versionInfo"),
                ox.Literal("crinkkg store version " + public_version(backend.version())),
                info),
        ox.Quad(np_iri, RDF_TYPE, ox.NamedNode(NP + "Nanopublication"), head),
        ox.Quad(np_iri, ox.NamedNode(NP + "hasAssertion"), a, head),
        ox.Quad(np_iri, ox.NamedNode(NP + "hasProvenance"), p, head),
        ox.Quad(np_iri, ox.NamedNode(NP + "hasPublicationInfo"), info, head),
    ]
    order = {g: i for i, g in enumerate((head, a, p, info))}
    return Nanopub(iri, sorted(quads, key=lambda q: order[q.graph_name]))
