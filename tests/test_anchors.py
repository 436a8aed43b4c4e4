"""Claims anchored in their source's text: selectors made by ``crinkkg anchor`` and checked
by the build against the stored text (a drift is an error naming file, claim, expected and
found text)."""

from __future__ import annotations

import doctest
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

import crinkkg.inputs.anchors
from crinkkg.build.pipeline import build
from crinkkg.errors import CrinkError
from crinkkg.inputs.anchors import AnchorError, check, selectors_for
from crinkkg.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TEXT = "Skip.\n\nIran has supplied Russia with drones. China’s role is measured.\n"

SOURCE = """@prefix crink: <https://w3id.org/crinkkg/ontology#> .
@prefix id: <https://w3id.org/crinkkg/id/> .
id:doc crink:storedText "texts/doc.txt" ; crink:sha256 "{sha}" .
"""
CLAIM = """@prefix crink: <https://w3id.org/crinkkg/ontology#> .
@prefix id: <https://w3id.org/crinkkg/id/> .
@prefix oa: <http://www.w3.org/ns/oa#> .
id:claim crink:statedIn {anchor} .
"""


def files(tmp_path: Path, anchor: str, text: str = TEXT, sha: str | None = None):
    (tmp_path / "texts").mkdir(exist_ok=True)
    (tmp_path / "texts" / "doc.txt").write_text(text, encoding="utf-8")
    sha = sha or hashlib.sha256(text.encode()).hexdigest()
    parsed = [(name, list(ox.parse(body.encode(), format=ox.RdfFormat.TURTLE)))
              for name, body in (("data/sources.ttl", SOURCE.format(sha=sha)),
                                 ("data/claims.ttl", CLAIM.format(anchor=anchor)))]
    return parsed


def test_doctests_of_the_anchors_module_run():
    assert doctest.testmod(crinkkg.inputs.anchors).failed == 0


def test_selectors_count_unicode_code_points_and_carry_context():
    s = selectors_for(TEXT, "China’s role is measured.")
    assert TEXT[s.start:s.end] == "China’s role is measured."
    assert s.prefix == TEXT[max(0, s.start - 32):s.start] and s.suffix == "\n"
    second = selectors_for("a b a b", "a b", occurrence=2)
    assert (second.start, second.prefix) == (4, "a b ")
    with pytest.raises(CrinkError, match="does not appear"):
        selectors_for(TEXT, "China's role")  # a straight apostrophe is not the article's
    with pytest.raises(CrinkError, match="does not appear 3 times"):
        selectors_for("a b a b", "a b", occurrence=3)


def test_a_correct_anchor_passes(tmp_path: Path):
    anchor = selectors_for(TEXT, "Iran has supplied Russia with drones.").turtle("id:doc")
    assert check(files(tmp_path, anchor), tmp_path) == 1


def test_a_drifted_position_names_file_claim_expected_and_found(tmp_path: Path):
    good = selectors_for(TEXT, "Iran has supplied Russia with drones.")
    anchor = good.turtle("id:doc").replace(f"oa:start {good.start}",
                                           f"oa:start {good.start + 5}")
    with pytest.raises(AnchorError) as err:
        check(files(tmp_path, anchor), tmp_path)
    [drift] = err.value.drifts
    assert drift.file == "data/claims.ttl"
    assert drift.claim == "https://w3id.org/crinkkg/id/claim"
    assert drift.expected == "Iran has supplied Russia with drones."
    assert drift.found == "has supplied Russia with drones."
    assert f"the quote is at {good.start}-{good.end}" in str(err.value)
    assert "crinkkg anchor" in str(err.value)


def test_an_edited_quote_or_context_is_caught(tmp_path: Path):
    good = selectors_for(TEXT, "China’s role is measured.").turtle("id:doc")
    with pytest.raises(AnchorError, match="oa:exact is not the text"):
        check(files(tmp_path, good.replace("China’s", "China's")), tmp_path)
    with pytest.raises(AnchorError, match="oa:prefix is not the text before"):
        check(files(tmp_path, good.replace('oa:prefix "', 'oa:prefix "X')), tmp_path)


def test_a_changed_stored_text_fails_its_checksum(tmp_path: Path):
    anchor = selectors_for(TEXT, "China’s role is measured.").turtle("id:doc")
    with pytest.raises(AnchorError, match=r"has changed \(crink:sha256\)"):
        check(files(tmp_path, anchor, sha="0" * 64), tmp_path)


def test_a_passage_of_a_source_without_stored_text_is_refused(tmp_path: Path):
    anchor = selectors_for(TEXT, "Skip.").turtle("id:other")
    with pytest.raises(AnchorError, match="has no stored text"):
        check(files(tmp_path, anchor), tmp_path)


def test_the_build_fails_on_a_drifted_anchor_and_leaves_no_store(tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    china = data / "china.ttl"
    text = china.read_text(encoding="utf-8")
    assert "oa:start 2333 ; oa:end 2457" in text
    china.write_text(text.replace("oa:start 2333 ; oa:end 2457", "oa:start 2334 ; oa:end 2458"),
                     encoding="utf-8")
    settings = Settings(store=tmp_path / "store", ontology_dir=ROOT / "ontology", data_dir=data)
    with pytest.raises(AnchorError) as err:
        build(settings, root=tmp_path)
    assert "data/china.ttl" in str(err.value) and "china-russia-partnership" in str(err.value)
    assert not (tmp_path / "store").exists()


def test_the_build_fails_when_the_stored_article_changes(tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    article = data / "texts" / "crink-article.txt"
    article.write_text(article.read_text(encoding="utf-8").replace("Shahed", "Shahid"),
                       encoding="utf-8")
    settings = Settings(store=tmp_path / "store", ontology_dir=ROOT / "ontology", data_dir=data)
    with pytest.raises(AnchorError, match="crink-article.txt has changed"):
        build(settings, root=tmp_path)


def test_cli_anchor_prints_selectors_the_build_accepts():
    result = subprocess.run(
        [sys.executable, "-m", "crinkkg.cli.main", "anchor", "id:source-crink-article",
         "China is concerned"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert 'oa:exact "China is concerned"' in result.stdout
    text = (ROOT / "data" / "texts" / "crink-article.txt").read_text(encoding="utf-8")
    start = text.index("China is concerned")
    assert f"oa:start {start} ; oa:end {start + 18}" in result.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "crinkkg.cli.main", "anchor", "id:source-crink-article",
         "China is worried"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert missing.returncode != 0 and "does not appear" in missing.stderr
