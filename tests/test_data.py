"""The CRINK data (data/*.ttl): parsing, SHACL, provenance, coverage of the article, and
what OWL 2 RL derives from it (no inconsistency, no self-alliance, no merged states)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH

from crinkkg.reasoning.owlrl_closure import infer, raw_closure

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_FILE = ROOT / "ontology" / "crink.ttl"
SHAPES_FILE = ROOT / "ontology" / "shapes.ttl"
DATA_FILES = sorted((ROOT / "data").glob("*.ttl"))
FIXTURES = ROOT / "tests" / "fixtures"
ARTICLE = ROOT / "data" / "texts" / "crink-article.txt"
SHARED_ARTICLE = ROOT.parent / "shared" / "source" / "crink-article.txt"
OA = "http://www.w3.org/ns/oa#"

NS = "https://w3id.org/crinkkg/ontology#"
ID = "https://w3id.org/crinkkg/id/"
CRINK = {name: URIRef(NS + name) for name in (
    "State", "Situation", "Source", "alliedWith", "cooperatesWith", "supplies",
    "suppliesArmsTo", "sellsOilTo", "sendsTroopsTo", "attacked", "opposes", "statedIn",
    "consequence", "damageExtent", "scope", "storedText", "pledgesSupportTo")}
PROV_DERIVED = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
EXACT_MATCH = URIRef("http://www.w3.org/2004/02/skos/core#exactMatch")
ERROR_MESSAGE = URIRef("http://www.daml.org/2002/03/agents/agent-ont#ErrorMessage")
ERROR_TEXT = URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")

PREFIXES = f"""
PREFIX crink: <{NS}>
PREFIX id: <{ID}>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


def iri(local: str) -> URIRef:
    return URIRef(ID + local)


def short(term) -> str:
    return str(term).removeprefix(ID).removeprefix(NS)


@pytest.fixture(scope="module")
def data() -> Graph:
    g = Graph()
    for path in DATA_FILES:
        g.parse(path)
    return g


@pytest.fixture(scope="module")
def asserted(data: Graph) -> Graph:
    """What the build reasons over: the ontology and the data."""
    g = Graph().parse(ONTOLOGY_FILE)
    for triple in data:
        g.add(triple)
    return g


@pytest.fixture(scope="module")
def closure(asserted: Graph) -> Graph:
    return raw_closure(asserted)


@pytest.fixture(scope="module")
def inferred(asserted: Graph) -> Graph:
    return infer(asserted)


def pairs(g: Graph, prop: str) -> set[tuple[str, str]]:
    return {(short(s), short(o)) for s, o in g.subject_objects(CRINK[prop])}


# --- files parse -----------------------------------------------------------------------------


def test_the_expected_theme_files_exist():
    assert {p.stem for p in DATA_FILES} >= {
        "sources", "states-and-groupings", "russia-north-korea", "russia-iran", "china",
        "iran-israel-conflict", "public-record"}


@pytest.mark.parametrize("path", [ONTOLOGY_FILE, SHAPES_FILE, *DATA_FILES], ids=lambda p: p.name)
def test_file_parses_with_rdflib_and_oxigraph(path: Path):
    assert len(Graph().parse(path)) > 0
    assert len(list(ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE))) > 0


def test_entity_iris_are_kebab_case_slash_iris_under_the_id_base(data: Graph):
    allowed_external = ("http://www.wikidata.org/entity/Q", NS, "http://www.w3.org/",
                        "http://purl.org/dc/terms/", "https://creativecommons.org/",
                        "https://w3id.org/crinkkg/graph/data/",
                        "https://w3id.org/crinkkg/ontology",
                        # a source's official page (rdfs:seeAlso), never fetched
                        "https://www.congress.gov/bill/")
    bad = set()
    for triple in data:
        for term in triple:
            if not isinstance(term, URIRef) or str(term).startswith(allowed_external):
                continue
            if not re.fullmatch(re.escape(ID) + r"[a-z0-9]+(-[a-z0-9]+)*", str(term)):
                bad.add(str(term))
    assert not bad, f"IRIs outside {ID}<kebab-case>: {sorted(bad)}"


def test_every_data_subject_has_one_english_label(data: Graph):
    subjects = {s for s in data.subjects() if isinstance(s, URIRef)}
    missing = sorted(short(s) for s in subjects
                     if not [lbl for lbl in data.objects(s, RDFS.label) if lbl.language == "en"])
    assert not missing, f"no English rdfs:label: {missing}"


# --- SHACL -------------------------------------------------------------------------------------


@pytest.mark.parametrize("inference", ["none", "rdfs"])
def test_data_conforms_to_the_shapes(asserted: Graph, inference: str):
    conforms, _report, text = pyshacl.validate(
        asserted, shacl_graph=Graph().parse(SHAPES_FILE), ont_graph=Graph().parse(ONTOLOGY_FILE),
        inference=inference, advanced=True)
    assert conforms, text


def test_broken_sample_is_rejected_with_a_readable_report():
    data = Graph().parse(ONTOLOGY_FILE)
    data.parse(FIXTURES / "broken.ttl")
    conforms, report, text = pyshacl.validate(
        data, shacl_graph=Graph().parse(SHAPES_FILE), ont_graph=Graph().parse(ONTOLOGY_FILE),
        inference="none", advanced=True)
    assert not conforms
    found = {(short(report.value(r, SH.focusNode)), str(report.value(r, SH.resultMessage)))
             for r in report.subjects(RDF.type, SH.ValidationResult)}
    expected = {
        ("broken-transfer", "A transfer has exactly one supplier"),
        ("broken-transfer", "The supplier of a transfer must differ from its recipient"),
        ("broken-transfer", "A claim node needs at least one prov:wasDerivedFrom"),
        ("broken-transfer", "A transfer is realised: its one status is delivered or ongoing"),
        ("broken-transfer", "A claim needs exactly one crink:hasModality"),
        ("broken-time", "crink:year is one integer"),
        ("broken-time", "crink:earliest must not be after crink:latest"),
        ("broken-relative-time", "A time relative to a source (crink:precision-relative)"),
        ("broken-treaty", "A treaty has at least two distinct parties"),
        ("broken-treaty", "An alignment's two parties must be different states"),
        ("broken-treaty", "A treaty needs a time"),
        ("broken-treaty", "A claim derived from a source whose text the project stores must point"),
        ("broken-treaty", "crink:accordingTo is for claims reported as a perception, a warning"),
        ("broken-stance", "A passage a claim is stated in (crink:statedIn) must belong"),
        ("source-crink-article", "A source with a stored text (crink:storedText) needs its"),
        ("source-other", "A source is not derived from the works it cites"),
        ("iran", "State-to-state shortcuts (crink:alliedWith"),
        ("broken-since", "A time since a year (crink:precision-since-year) needs"),
        ("broken-matter", "A matter has no source of its own"),
        ("broken-difference", "A difference names at least two accounts"),
        ("broken-difference", "Each differing account must be an account of the difference's"),
        ("broken-bill", "A bill says which version of its text it is"),
        ("broken-headline-read-as-fact",
         "A claim stated only in a title or subtitle is a headline"),
        ("broken-headline-in-body", "A headline claim (crink:modality-headline) is stated in"),
        ("broken-summary-as-fact", "A claim stated only in a summary the page generated"),
        ("broken-part-overlap", "Two parts of one source overlap"),
    }
    for focus, message in expected:
        assert any(f == focus and m.startswith(message) for f, m in found), (
            f"no violation on {focus} saying {message!r}; got {sorted(found)}")
    # the text report a data editor reads names the node and says what to fix
    assert "broken-transfer" in text and "broken-treaty" in text
    assert "A transfer has exactly one supplier" in text
    passages = [m for f, m in found if m.startswith("A passage needs one oa:TextQuoteSelector")]
    assert passages, "a passage without selectors is reported"
    for message in ("The source of this passage is divided into document parts",
                    "A passage must lie within the document part it names"):
        assert any(m.startswith(message) for _f, m in found), message


# --- sources and provenance -------------------------------------------------------------------


def test_every_claim_node_has_a_source_and_its_sentence_in_every_stored_text_source(built_store):
    rows = list(built_store.query(PREFIXES + """
        PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?claim (COUNT(DISTINCT ?source) AS ?n) (COUNT(DISTINCT ?stored) AS ?texts)
               (COUNT(DISTINCT ?unanchored) AS ?missing) WHERE {
          ?claim a crink:Situation .
          OPTIONAL { ?claim prov:wasDerivedFrom ?source . ?source a crink:Source }
          OPTIONAL { ?claim prov:wasDerivedFrom ?stored . ?stored crink:storedText ?file }
          OPTIONAL { ?claim prov:wasDerivedFrom ?unanchored . ?unanchored crink:storedText ?f2
                     FILTER NOT EXISTS { ?claim crink:statedIn/oa:hasSource ?unanchored } }
        } GROUP BY ?claim"""))
    assert len(rows) >= 85
    unsourced = [r["claim"].value for r in rows if int(r["n"].value) == 0]
    assert not unsourced, f"claims without a source: {unsourced}"
    no_text = {short(r["claim"].value) for r in rows if int(r["texts"].value) == 0}
    assert no_text == {"russia-dprk-treaty-2024-signing", "russia-dprk-treaty-2024-article-4"}
    unanchored = [r["claim"].value for r in rows if int(r["missing"].value)]
    assert not unanchored, f"claims without their sentence in a stored source: {unanchored}"


def test_the_references_are_cited_and_no_claim_is_derived_from_them(built_store):
    rows = list(built_store.query(PREFIXES + """
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?ref ?title ?year (COUNT(DISTINCT ?claim) AS ?claims) WHERE {
          id:source-crink-article dcterms:references ?ref .
          ?ref dcterms:title ?title ; crink:hasTime/crink:year ?year .
          OPTIONAL { ?claim prov:wasDerivedFrom ?ref }
        } GROUP BY ?ref ?title ?year"""))
    found = {(r["title"].value, r["year"].value): int(r["claims"].value) for r in rows}
    assert found == {
        ("The CRINK Alliance: China, Russia, Iran, and North Korea", "2023"): 0,
        ("Russia's Relationship with Iran: A Complex Dance", "2024"): 0,
        ("China's Role in the Middle East: A Pragmatic Approach", "2023"): 0,
        ("The Iran-Israel Conflict: A Regional and Global Perspective", "2024"): 0,
    }
    # nothing says how a claim was matched to a reference: no guessed scope survives
    assert not built_store.query(PREFIXES + "ASK { ?s crink:attributionScope ?o }")
    assert not built_store.query(PREFIXES + "ASK { ?s ?p crink:attribution-topical }")


def test_public_record_facts_sit_on_nodes_of_their_own_with_their_own_source(built_store):
    rows = list(built_store.query(PREFIXES + """
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?name ?earliest ?precision ?place ?obligation ?article WHERE {
          GRAPH <https://w3id.org/crinkkg/graph/data/public-record> {
            ?signing crink:signingOf id:russia-dprk-treaty-2024 ; crink:hasTime ?time ;
              crink:signedAt/rdfs:label ?place ;
              prov:wasDerivedFrom id:source-russia-dprk-treaty-text .
            ?provision crink:provisionOf id:russia-dprk-treaty-2024 ;
              crink:obligation ?obligation ; crink:articleNumber ?article ;
              prov:wasDerivedFrom id:source-russia-dprk-treaty-text .
          }
          ?time crink:earliest ?earliest ; crink:hasPrecision ?precision .
          id:source-russia-dprk-treaty-text crink:textOf id:russia-dprk-treaty-2024 ;
            dcterms:title ?name .
        }"""))
    assert [(r["name"].value, r["earliest"].value, short(r["precision"].value), r["place"].value,
             short(r["obligation"].value), r["article"].value) for r in rows] == [(
        "Treaty on Comprehensive Strategic Partnership between the Russian Federation and "
        "the Democratic People's Republic of Korea", "2024-06-19T00:00:00+09:00", "precision-day",
        "Pyongyang", "obligation-defence", "4")]
    # one node, one set of sources: no node mixes the article and the public record
    assert not built_store.query(PREFIXES + """
        ASK { ?x prov:wasDerivedFrom id:source-crink-article ,
                                     id:source-russia-dprk-treaty-text }""")
    # and the article's treaty node holds no public-record fact
    treaty = [(short(s["p"].value)) for s in built_store.query(PREFIXES + """
        SELECT ?p WHERE { GRAPH <https://w3id.org/crinkkg/graph/data/public-record> {
          id:russia-dprk-treaty-2024 ?p ?o } }""")]
    assert treaty == []


def test_states_link_to_wikidata_with_exact_match(data: Graph):
    states = {short(s): {str(o) for o in data.objects(s, EXACT_MATCH)}
              for s in data.subjects(RDF.type, CRINK["State"])}
    wd = "http://www.wikidata.org/entity/"
    assert states == {"china": {wd + "Q148"}, "russia": {wd + "Q159"}, "iran": {wd + "Q794"},
                      "north-korea": {wd + "Q423"}, "israel": {wd + "Q801"},
                      "united-states": {wd + "Q30"}, "ukraine": {wd + "Q212"}}
    assert not list(data.triples((None, OWL.sameAs, None)))


OWL2_DATATYPES = {"http://www.w3.org/2001/XMLSchema#" + n for n in (
    "string", "integer", "nonNegativeInteger", "decimal", "double", "float", "boolean",
    "dateTime", "dateTimeStamp", "anyURI")} | {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#PlainLiteral"}


@pytest.mark.parametrize("path", [ONTOLOGY_FILE, *DATA_FILES], ids=lambda p: p.name)
def test_every_literal_is_in_the_owl2_datatype_map(path: Path):
    """HermiT (default configuration) and OWL 2 DL refuse xsd:date and xsd:gYear."""
    outside = {(short(s), short(p), str(o.datatype)) for s, p, o in Graph().parse(path)
               if isinstance(o, Literal) and o.datatype and str(o.datatype) not in OWL2_DATATYPES}
    assert not outside, f"datatypes outside the OWL 2 datatype map: {sorted(outside)}"


def test_times_carry_their_precision_and_bounds(built_store):
    rows = {short(r["t"].value): (short(r["p"].value), r["y"] and r["y"].value)
            for r in built_store.query(PREFIXES + """
                SELECT ?t ?p ?y WHERE { ?t a crink:TimeSpec ; crink:hasPrecision ?p .
                                        OPTIONAL { ?t crink:year ?y } }""")}
    assert rows["time-crink-article"] == ("precision-unknown", None)
    assert rows["time-year-2024"] == ("precision-year", "2024")
    assert rows["time-2024-06-19"] == ("precision-day", "2024")
    assert rows["time-recent"] == ("precision-relative", None)


# --- coverage of the article -------------------------------------------------------------------

# Every claim of substance in the article, as words some anchored passage (oa:exact) must contain.
ARTICLE_CLAIMS = [
    "Iran Faces Crisis Alone",
    "Discounted Oil to Russia and China Failed to Boost Its Position",
    "Conspicuous Absence of Russia and China",
    "complex web of strategic alignments",
    "shared opposition to the U.S.-led international order",
    "significant differences and tensions also exist among these nations",
    "strongest and most formalized military partnership",
    "enduring alliance encompassing battlefield cooperation",
    "North Korean troops have fought alongside Russian forces in Ukraine",
    "Pyongyang pledges unconditional support for Russia",
    "intelligence sharing and coordinated efforts to build a multipolar world order",
    "Russia has increasingly preferred North Korea as a partner over Iran",
    "military and intelligence support is seen as more reliable",
    "delivery issues and local Russian production of certain military supplies",
    "mutual disdain for Western dominance and have cooperated mainly out of convenience",
    "Iran has supplied Russia with Shahed drones and artillery",
    "faltered under Israeli and U.S. airstrikes at home",
    "unable to secure advanced Russian weapons like Su-35 jets or S-400 missile systems",
    "Russia prioritizes its own war needs over Iranian demands",
    "destruction of some Iranian air defenses in 2024 has weakened Iran’s position",
    "sought Russian investment and economic ties",
    "International North-South Transport Corridor",
    "Russian support remains cautious and limited",
    "close diplomatic and strategic ties with both Russia and Iran",
    "stops short of direct military involvement in conflicts like Ukraine",
    "overt arms transfers to Russia",
    "adheres to some international norms and has not sent major weapons to Russia",
    "economic cooperation and helping to rebuild Russia’s defense industries",
    "major buyer of Russian oil",
    "Axis of Upheaval",
    "more measured and pragmatic to avoid full-scale international backlash",
    "fragile ceasefire currently exists between Iran and Israel",
    "Iran warns the truce may not hold",
    "significant damage to Iran’s nuclear infrastructure and air defenses",
    "Russia, China, and North Korea observe this conflict closely",
    "engaging Iran tactically but increasingly focused on Ukraine",
    "limited in its capacity or willingness to intervene militarily",
    "more focused on supporting Russia than direct involvement",
    "closest military ties and direct cooperation in Ukraine",
    "Iran remains somewhat sidelined due to military and political complications",
    "strategic but cautious partner, balancing support with concerns about global repercussions",
    "limited but critical involvement from these states primarily through diplomatic",
    "significant deepening",
]


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text.replace("\u201c", '"').replace("\u201d", '"')).lower()


def quotes(data: Graph) -> list[str]:
    """The exact words of every passage a claim is anchored to."""
    return [str(q) for q in data.objects(None, URIRef(OA + "exact"))]


@pytest.mark.parametrize("claim", ARTICLE_CLAIMS)
def test_article_claim_is_modelled(data: Graph, claim: str):
    assert any(claim in q for q in quotes(data)), f"no claim node is anchored in {claim!r}"


def test_the_stored_text_is_the_shared_article_byte_for_byte():
    if not SHARED_ARTICLE.is_file():
        pytest.skip(f"the shared source article is not next to the checkout ({SHARED_ARTICLE})")
    assert ARTICLE.read_bytes() == SHARED_ARTICLE.read_bytes()


BILL = ROOT / "data" / "texts" / "disrupt-act-s1883-is.txt"
BILL_SHA256 = "1e0ec24c4b8467d2cc567060b04f6f5bd9d4285ab9600e8d4285100c8b41aec2"


def test_the_stored_bill_is_the_shared_text_byte_for_byte_with_its_published_checksum(
        data: Graph):
    import hashlib

    # the checksum given by ../shared/source/README.md, and the one the data declares
    assert hashlib.sha256(BILL.read_bytes()).hexdigest() == BILL_SHA256
    bill = URIRef(ID + "source-disrupt-act-s1883")
    assert str(data.value(bill, URIRef(NS + "sha256"))) == BILL_SHA256
    shared = SHARED_ARTICLE.parent / BILL.name
    if not shared.is_file():
        pytest.skip(f"the shared source text is not next to the checkout ({shared})")
    assert BILL.read_bytes() == shared.read_bytes()


def test_the_bill_is_described_as_a_bill_as_introduced_not_a_law(built_store):
    rows = list(built_store.query(PREFIXES + """
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?number ?congress ?version ?sponsor ?cosponsor ?day WHERE {
          id:source-disrupt-act-s1883 a crink:Bill ; dcterms:identifier ?number ;
              crink:congress ?congress ; crink:textVersion ?version ;
              crink:sponsor/rdfs:label ?sponsor ; crink:cosponsor/rdfs:label ?cosponsor ;
              crink:hasTime/crink:earliest ?day }"""))
    assert [(r["number"].value, int(r["congress"].value), r["version"].value,
             r["sponsor"].value, r["cosponsor"].value, r["day"].value[:10]) for r in rows] == \
        [("S. 1883", 119, "Introduced in Senate", "Mr. Coons", "Mr. McCormick", "2025-05-22")]


def test_quotes_and_words_of_the_source_are_byte_verbatim(data: Graph):
    """Every quote is in the stored text of the source its passage names, and every
    crink:consequence / damageExtent / scope in the text of one of its claim's sources."""
    article = ARTICLE.read_text(encoding="utf-8")
    for claim in ARTICLE_CLAIMS:
        assert claim in article, f"test list: {claim!r} is not in the article"
    texts = {s: (ROOT / "data" / str(f)).read_text(encoding="utf-8")
             for s, f in data.subject_objects(CRINK["storedText"])}
    assert len(texts) >= 2
    wrong = []
    for passage, source in data.subject_objects(URIRef(OA + "hasSource")):
        for selector in data.objects(passage, URIRef(OA + "hasSelector")):
            for exact in data.objects(selector, URIRef(OA + "exact")):
                if str(exact) not in texts[source]:
                    wrong.append((short(source), str(exact)))
    for p in ("consequence", "damageExtent", "scope"):
        for claim, words in data.subject_objects(CRINK[p]):
            own = [texts[s] for s in data.objects(claim, PROV_DERIVED) if s in texts]
            if not any(str(words) in t for t in own):
                wrong.append((short(claim), str(words)))
    assert not wrong, f"not found byte for byte in their source's text: {wrong}"


# Lines of the page that are navigation or layout, not claims; the repeated title lines
# are anchored at their first appearance.
NOT_CLAIMS = {"Skip to content", "Read also:", "Latest", "### Russia and North Korea",
              "### Russia and Iran", "### China’s Role", "### Iran-Israel Conflict"}


def test_every_sentence_of_the_article_is_anchored_by_some_claim(data: Graph):
    text = ARTICLE.read_text(encoding="utf-8")
    spans = [(int(s), int(e)) for s, e in (
        (data.value(sel, URIRef(OA + "start")), data.value(sel, URIRef(OA + "end")))
        for sel in data.subjects(RDF.type, URIRef(OA + "TextPositionSelector")))]
    seen_lines: set[str] = set()
    missing = []
    for line in re.finditer(r"[^\n]+", text):
        stripped = line.group(0).strip()
        if stripped in NOT_CLAIMS or stripped in seen_lines:
            continue
        seen_lines.add(stripped)
        for sentence in re.finditer(r"[^.!?]+(?:[.!?]+|$)", line.group(0)):
            start, end = line.start() + sentence.start(), line.start() + sentence.end()
            if len(text[start:end].strip()) > 3 and not any(
                    min(end, b) > max(start, a) for a, b in spans):
                missing.append(text[start:end].strip())
    assert not missing, f"sentences no claim is anchored in: {missing}"


# --- negative facts --------------------------------------------------------------------------


def test_negative_facts_are_nodes_with_a_status_not_missing_triples(built_store):
    rows = list(built_store.query(PREFIXES + """
        SELECT ?holder ?counterpart ?kind ?status WHERE {
          ?r a crink:Restraint ; crink:holder ?holder ; crink:counterpart ?counterpart ;
             crink:hasItemKind ?kind ; crink:hasStatus ?status .
        }"""))
    assert sorted((short(r["holder"].value), short(r["counterpart"].value),
                   short(r["kind"].value), short(r["status"].value)) for r in rows) == [
        ("china", "russia", "kind-arms", "status-withheld"),  # no overt arms transfers
        ("china", "russia", "kind-major-weapons", "status-withheld")]
    # and nothing in the reasoned graph says China supplies arms to Russia, or Russia Su-35s
    assert not built_store.query(PREFIXES + "ASK { id:china crink:suppliesArmsTo ?x }")
    assert not built_store.query(PREFIXES + """
        ASK { ?t a crink:Transfer ; crink:hasWeaponSystem ?w .
              FILTER (?w IN (id:su-35, id:s-400)) }""")


# --- reasoning: what owlrl derives, and what it must not ----------------------------------------


def test_owlrl_closure_has_no_inconsistency_markers(closure: Graph):
    messages = [str(m) for node in closure.subjects(RDF.type, ERROR_MESSAGE)
                for m in closure.objects(node, ERROR_TEXT)]
    assert messages == []


def test_no_state_is_allied_with_or_cooperating_with_itself(closure: Graph, inferred: Graph):
    for g in (closure, inferred):
        for prop in ("alliedWith", "cooperatesWith", "supplies"):
            selfish = [s for s, o in g.subject_objects(CRINK[prop]) if s == o]
            assert selfish == [], f"{prop} links {selfish} to itself"


def test_no_two_distinct_states_are_same_as(closure: Graph):
    states = set(closure.subjects(RDF.type, CRINK["State"]))
    assert len(states) == 7
    merged = [(s, o) for s, o in closure.subject_objects(OWL.sameAs) if s != o]
    assert merged == [], f"owlrl made distinct nodes owl:sameAs: {merged[:5]}"


def test_the_reasoner_derives_the_state_to_state_shortcuts(inferred: Graph):
    assert pairs(inferred, "alliedWith") == {("russia", "north-korea"), ("north-korea", "russia")}
    assert pairs(inferred, "supplies") == {
        ("iran", "russia"), ("iran", "china"), ("north-korea", "russia"), ("china", "russia"),
        ("russia", "china"), ("russia", "north-korea")}
    assert pairs(inferred, "suppliesArmsTo") == {("iran", "russia"), ("north-korea", "russia")}
    # the subtitle's supply to Russia and China pairs no item with a recipient: Iran sells
    # oil to China on the bill's word alone (its finding (5)(A)), arms to China on none
    assert pairs(inferred, "sellsOilTo") == {("iran", "china"), ("russia", "china")}
    assert pairs(inferred, "sendsTroopsTo") == {("north-korea", "russia")}
    assert pairs(inferred, "attacked") == {("israel", "iran"), ("united-states", "iran")}
    # Russia "has agreed to provide" Su-35s (the bill): a commitment, not a pledge of support
    assert pairs(inferred, "pledgesSupportTo") == {("north-korea", "russia")}
    cooperating = {frozenset(p) for p in pairs(inferred, "cooperatesWith")}
    four = ("china", "russia", "iran", "north-korea")
    # the bill names a bilateral agreement or relation between every pair of the four
    assert cooperating == {frozenset((a, b)) for a in four for b in four if a != b}
    assert pairs(inferred, "opposes") >= {
        (s, "us-led-international-order") for s in ("china", "russia", "iran", "north-korea")}


def test_the_shortcuts_are_never_asserted(data: Graph):
    for prop in ("alliedWith", "cooperatesWith", "supplies", "suppliesArmsTo", "sellsOilTo",
                 "sendsTroopsTo", "attacked"):
        assert pairs(data, prop) == set(), f"crink:{prop} is asserted in the data"


def test_inferred_graph_is_plain_rdf(inferred: Graph):
    assert not [t for t in inferred if isinstance(t[0], Literal)]
    assert not [t for t in inferred.triples((None, OWL.sameAs, None))]


def test_every_claim_a_derived_link_may_rest_on_says_how_its_source_states_it(built_store):
    """Groupings (membership, shared opposition) are claims too: without a modality the
    links derived from them would count no source stating them as fact."""
    rows = list(built_store.query(PREFIXES + """
        SELECT ?claim (COUNT(DISTINCT ?m) AS ?n) WHERE {
          ?claim prov:wasDerivedFrom ?source . ?source a crink:Source .
          FILTER NOT EXISTS { ?claim a crink:Source }
          OPTIONAL { ?claim crink:hasModality ?m }
        } GROUP BY ?claim"""))
    assert len(rows) >= 85
    assert {short(r["claim"].value) for r in rows if int(r["n"].value) != 1} == set()
    [row] = built_store.query(PREFIXES + """
        SELECT ?fact WHERE { GRAPH <https://w3id.org/crinkkg/graph/support> {
          ?link crink:linkSubject id:iran ; crink:linkObject id:us-led-international-order ;
                crink:factSourceCount ?fact } }""")
    assert row["fact"].value == "1"
