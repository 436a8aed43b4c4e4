"""The modelling guide (docs/modelling.md) stays true: its worked example, a second source
with two claims, builds together with the curated data, answers as the guide says, and
each mistake the guide warns of is refused with a message naming the node and the fix."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from crinkkg.build.pipeline import build
from crinkkg.errors import ValidationError
from crinkkg.inputs.anchors import AnchorError
from crinkkg.settings import Settings
from crinkkg.store.oxigraph import OxigraphStore

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "example"
ID = "https://w3id.org/crinkkg/id/"


def project(tmp_path: Path, edit=None) -> Settings:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    shutil.copy(EXAMPLE / "texts" / "example-brief.txt", data / "texts")
    text = (EXAMPLE / "example-brief.ttl").read_text(encoding="utf-8")
    (data / "example-brief.ttl").write_text(edit(text) if edit else text, encoding="utf-8")
    return Settings(store=tmp_path / "store", ontology_dir=ROOT / "ontology", data_dir=data)


def test_the_guide_shows_the_example_it_tests():
    guide = (ROOT / "docs" / "modelling.md").read_text(encoding="utf-8")
    example = (EXAMPLE / "example-brief.ttl").read_text(encoding="utf-8")
    for node in ("id:source-example-brief a crink:NewsArticle",
                 "id:example-north-korean-shells-to-russia-2023 a crink:ArtilleryTransfer",
                 "id:example-seoul-warns-of-more-shipments a crink:Warning"):
        assert node in guide and node in example, node


def test_the_worked_example_builds_and_answers(tmp_path: Path):
    settings = project(tmp_path)
    report = build(settings, root=tmp_path)
    curated = len(list((ROOT / "data").glob("*.ttl")))
    texts = len(list((ROOT / "data" / "texts").glob("*.txt")))
    # ontology, shapes, the curated data files, the example, the stored texts (+ the example's)
    assert report.files == 2 + curated + 1 + texts + 1
    store = OxigraphStore.open(settings.store)
    hedged = {r["claim"].value: r for r in store.query("""
        PREFIX crink: <https://w3id.org/crinkkg/ontology#>
        SELECT ?claim ?who WHERE { ?claim crink:hasModality crink:modality-warning ;
                                          crink:accordingTo ?who }""")}
    assert hedged[ID + "example-seoul-warns-of-more-shipments"]["who"].value == \
        ID + "south-korea"
    # the reasoner derives the shortcut from the new transfer, as from the article's
    assert store.query("""PREFIX crink: <https://w3id.org/crinkkg/ontology#>
        PREFIX id: <https://w3id.org/crinkkg/id/>
        ASK { id:north-korea crink:suppliesArmsTo id:russia }""")


@pytest.mark.parametrize(("mistake", "edit", "message", "node"), [
    ("no modality",
     lambda t: t.replace("    crink:hasModality crink:modality-asserted ;\n", "", 1),
     "A claim needs exactly one crink:hasModality", "example-north-korean-shells-to-russia-2023"),
    ("no sentence",
     lambda t: t.replace("    crink:hasTime id:time-year-2023 ;\n    crink:hasModality "
                         "crink:modality-asserted ;\n    crink:statedIn",
                         "    crink:hasTime id:time-year-2023 ;\n    crink:hasModality "
                         "crink:modality-asserted ;\n    rdfs:comment", 1),
     "must point to the passage that states it", "example-north-korean-shells-to-russia-2023"),
    ("a gYear",
     lambda t: t.replace("crink:hasTime id:time-year-2023 ;",
                         "crink:hasTime [ a crink:TimeSpec ; rdfs:label \"2023\"@en ; "
                         "crink:hasPrecision crink:precision-year ; "
                         "crink:year \"2023\"^^<http://www.w3.org/2001/XMLSchema#gYear> ] ;", 1),
     "crink:year is one integer",
     # a blank node is named by the resource and property that lead to it
     "id:example-north-korean-shells-to-russia-2023 / crink:hasTime / [ ]"),
])
def test_each_mistake_the_guide_warns_of_is_refused(tmp_path: Path, mistake, edit, message,
                                                    node):
    with pytest.raises(ValidationError) as err:
        build(project(tmp_path, edit), root=tmp_path)
    assert message in str(err.value), mistake
    assert node in str(err.value), "the report names the node to fix"


def test_a_sentence_copied_with_a_typo_is_refused(tmp_path: Path):
    settings = project(tmp_path, lambda t: t.replace(
        'oa:exact "North Korea shipped artillery shells',
        'oa:exact "North Korea sent artillery shells'))
    with pytest.raises(AnchorError) as err:
        build(settings, root=tmp_path)
    assert "data/example-brief.ttl" in str(err.value)
    assert "example-north-korean-shells-to-russia-2023" in str(err.value)


def test_the_guide_shows_how_the_bill_was_added_as_the_data_has_it():
    guide = (ROOT / "docs" / "modelling.md").read_text(encoding="utf-8")
    accounts = (ROOT / "data" / "accounts.ttl").read_text(encoding="utf-8")
    [snippet] = re.findall(r"```turtle\n(id:difference-[^`]+?)```", guide)
    assert snippet in accounts, "the guide's difference is not the one in data/accounts.ttl"
    sources = (ROOT / "data" / "sources.ttl").read_text(encoding="utf-8")
    for words in ('dcterms:identifier "S. 1883"', "crink:congress 119",
                  'crink:textVersion "Introduced in Senate"', "crink:sponsor id:mr-coons",
                  "crink:cosponsor id:mr-mccormick"):
        assert words in guide and words in sources, words
    shapes = (ROOT / "ontology" / "shapes.ttl").read_text(encoding="utf-8")
    for message in ("A time since a year (crink:precision-since-year) needs crink:earliest",
                    "A matter has no source of its own: its accounts (crink:hasAccount) "
                    "carry the sources.",
                    "A difference names at least two accounts",
                    "Each differing account must be an account of the difference's matter",
                    "A bill says which version of its text it is (crink:textVersion"):
        assert message in guide and message in shapes, message
