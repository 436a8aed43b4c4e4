"""The DISRUPT Act (S. 1883, as introduced) as a second source: every finding of its section 2
and the policy of its section 3 is a claim anchored to its sentence, with the modality and
time the bill gives it (data/disrupt-act.ttl)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BILL_TEXT = ROOT / "data" / "texts" / "disrupt-act-s1883-is.txt"
ID = "https://w3id.org/crinkkg/id/"
CRINK = "https://w3id.org/crinkkg/ontology#"
PREFIXES = f"""
PREFIX crink: <{CRINK}>
PREFIX id: <{ID}>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""

# Lines of sections 2 and 3 that structure the bill rather than state something: headings,
# the enacting words, and the labels of the kinds of cooperation that the next sentence of
# the same line (anchored) gives examples of.
STRUCTURE = {
    "2. Findings", "Congress makes the following findings:", "3. Statement of policy",
    "Examples include the following:", "(A) The transfer and sharing of weapons and munitions.",
    "(B) The transfer and sharing of dual-use technologies and capabilities.",
    "(C) Joint military activities and exercises.",
}


def select(store, body: str) -> list[dict[str, str]]:
    result = store.query(PREFIXES + body)
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result]


def bill_spans(store) -> list[tuple[int, int]]:
    return [(int(r["s"]), int(r["e"])) for r in select(store, """
        SELECT DISTINCT ?s ?e WHERE {
          ?claim prov:wasDerivedFrom id:source-disrupt-act-s1883 ;
                 crink:statedIn ?p .
          ?p oa:hasSource id:source-disrupt-act-s1883 ; oa:hasSelector ?sel .
          ?sel oa:start ?s ; oa:end ?e }""")]


def test_every_sentence_of_the_findings_and_the_policy_is_anchored_by_a_claim(built_store):
    """Each sentence of sections 2 and 3 lies within the passages claims are anchored to;
    two claims may share a sentence, leaving uncovered only the "and" that joins them."""
    text = BILL_TEXT.read_text(encoding="utf-8")
    start = text.index("2. Findings")
    covered = bytearray(len(text))
    for s, e in bill_spans(built_store):
        covered[s:e] = b"\x01" * (e - s)
    missing = []
    for line in re.finditer(r"[^\n]+", text[start:]):
        offset = start + line.start()
        if line.group(0).strip() in STRUCTURE:
            continue
        for sentence in re.finditer(r"[^.]+(?:\.(?=\s|$)|$)|.+", line.group(0)):
            words = sentence.group(0).strip()
            if not words or words in STRUCTURE:
                continue
            lo = offset + sentence.start()
            gaps = "".join(ch if not covered[lo + i] else "|"
                           for i, ch in enumerate(sentence.group(0)))
            if any(not re.fullmatch(r"[\s,;.]*(and)?[\s,;.]*", gap)
                   for gap in gaps.split("|")):
                missing.append(words)
    assert not missing, f"sentences of sections 2-3 with no claim anchored on them: {missing}"


def test_the_structure_list_names_only_lines_of_the_bill():
    lines = {line.strip() for line in BILL_TEXT.read_text(encoding="utf-8").splitlines()}
    sentences = {s.strip() for line in lines for s in re.split(r"(?<=\.)\s", line)}
    assert STRUCTURE <= lines | sentences


def test_the_threat_assessment_finding_is_attributed_to_the_work_the_bill_cites(built_store):
    [row] = select(built_store, """
        SELECT ?modality ?who ?cited WHERE {
          id:deepening-cooperation-threat-assessment-s1883 crink:hasModality ?modality ;
              crink:accordingTo ?who .
          OPTIONAL { id:source-disrupt-act-s1883 <http://purl.org/dc/terms/references> ?cited
                     FILTER (?cited = ?who) } }""")
    assert row["modality"] == CRINK + "modality-attributed"
    assert row["who"] == ID + "source-ic-annual-threat-assessment-2025" == row["cited"]
    # a cited work is not a source of claims
    assert not select(built_store, """SELECT ?c WHERE {
        ?c prov:wasDerivedFrom id:source-ic-annual-threat-assessment-2025 }""")


def test_what_reporting_indicates_is_reported_not_stated_as_fact(built_store):
    rows = select(built_store, """
        SELECT ?claim ?modality WHERE {
          ?claim prov:wasDerivedFrom id:source-disrupt-act-s1883 ; crink:hasModality ?modality ;
                 crink:statedIn/oa:hasSelector/oa:exact ?words .
          FILTER (CONTAINS(?words, "reporting indicates")) }""")
    assert {r["claim"].removeprefix(ID) for r in rows} == {
        "russia-satellite-expertise-to-north-korea-s1883",
        "russia-china-air-defence-and-submarine-technology-s1883"}
    assert {r["modality"] for r in rows} == {CRINK + "modality-reported"}


def test_the_statement_of_policy_is_proposed_not_in_force(built_store):
    rows = select(built_store, """
        SELECT ?claim ?modality ?holder WHERE {
          ?claim a crink:Policy ; prov:wasDerivedFrom id:source-disrupt-act-s1883 ;
                 crink:hasModality ?modality ; crink:holder ?holder }""")
    assert len(rows) == 3
    assert {(r["modality"], r["holder"]) for r in rows} == {
        (CRINK + "modality-proposed", ID + "united-states")}


def test_since_2022_is_an_open_start_of_year_not_the_year_2022(built_store):
    rows = select(built_store, """
        SELECT ?claim ?precision ?earliest ?latest ?year WHERE {
          ?claim prov:wasDerivedFrom id:source-disrupt-act-s1883 ; crink:hasTime ?t .
          ?t crink:hasPrecision ?precision .
          OPTIONAL { ?t crink:earliest ?earliest } OPTIONAL { ?t crink:latest ?latest }
          OPTIONAL { ?t crink:year ?year }
          FILTER (?precision = crink:precision-since-year) }""")
    assert {r["claim"].removeprefix(ID) for r in rows} == {
        "iran-drones-to-russia-s1883", "iran-ballistic-missiles-to-russia-s1883",
        "north-korea-artillery-ammunition-to-russia-s1883",
        "north-korea-ballistic-missiles-to-russia-s1883"}
    assert {r["earliest"] for r in rows} == {"2022-01-01T00:00:00Z"}
    assert not any("latest" in r or "year" in r for r in rows)


@pytest.mark.parametrize("node, day, place", [
    ("china-dprk-treaty-1961-signing", "1961-07-11", "beijing"),
    ("russia-dprk-treaty-2024-signing-s1883", "2024-06-18", "pyongyang"),
    ("iran-russia-treaty-2025-signing", "2025-01-17", "moscow"),
    ("iran-china-joint-statement-2021", "2021-03-27", None),
    ("russia-china-joint-statement-2022", "2022-02-04", None),
])
def test_the_agreements_dates_are_days_and_places_as_the_bill_gives_them(
        built_store, node: str, day: str, place: str | None):
    [row] = select(built_store, f"""
        SELECT ?precision ?earliest ?latest ?place WHERE {{
          id:{node} crink:hasTime ?t ; prov:wasDerivedFrom id:source-disrupt-act-s1883 .
          ?t crink:hasPrecision ?precision ; crink:earliest ?earliest ; crink:latest ?latest .
          OPTIONAL {{ id:{node} crink:signedAt ?place }} }}""")
    assert row["precision"] == CRINK + "precision-day"
    assert row["earliest"].startswith(day + "T00:00:00") and row["latest"].startswith(day)
    assert row.get("place") == (ID + place if place else None)


def test_the_bills_transfers_derive_the_links_the_bill_states_and_no_more(built_store):
    """Russia's agreement to provide Su-35s is a commitment, not a transfer: no
    Russia-to-Iran supply is derived from it; North Korea's arms to Russia are."""
    asked = {
        "ASK { id:north-korea crink:suppliesArmsTo id:russia }": True,
        "ASK { id:iran crink:sellsOilTo id:china }": True,
        "ASK { id:russia crink:supplies id:iran }": False,
        "ASK { id:russia crink:pledgesSupportTo id:iran }": False,
        "ASK { id:russia crink:suppliesArmsTo id:iran }": False,
        "ASK { id:china crink:suppliesArmsTo id:russia }": False,
        "ASK { id:russia crink:supplies id:north-korea }": True,
    }
    for query, expected in asked.items():
        assert bool(built_store.query(PREFIXES + query)) is expected, query


def test_words_a_bill_claim_quotes_are_words_of_its_own_passages(built_store):
    """A consequence, scope or legal basis in the bill's words comes from the very passages
    the claim is stated in."""
    text = BILL_TEXT.read_text(encoding="utf-8")
    rows = select(built_store, """
        SELECT ?c ?v WHERE {
          ?c crink:consequence|crink:scope|crink:legalBasis|crink:designatedAs ?v ;
             prov:wasDerivedFrom id:source-disrupt-act-s1883 }""")
    assert len(rows) >= 12
    for r in rows:
        spans = select(built_store, f"""
            SELECT ?s ?e WHERE {{ <{r["c"]}> crink:statedIn ?p .
              ?p oa:hasSource id:source-disrupt-act-s1883 ; oa:hasSelector ?sel .
              ?sel oa:start ?s ; oa:end ?e }}""")
        words = [text[int(x["s"]):int(x["e"])] for x in spans]
        assert any(r["v"] in w for w in words), (r["c"], r["v"])
