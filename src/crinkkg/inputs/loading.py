"""Find and parse the input files (ontology and data) into per-file triple lists.

Parsing uses Oxigraph's parsers: they are fast and report exact line and column. An
ontology editor may save OWL/XML instead of an RDF syntax (Protégé offers it, as ``.owx``
or ``.owl``): such a file, recognised by its root element, is read by horned-owl
(``py-horned-owl``), which keeps every literal's lexical form, and mapped to RDF as the OWL 2
mapping says, then parsed as the RDF/XML it writes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from crinkkg.errors import CrinkError, InputSyntaxError
from crinkkg.formats import GRAPH_FORMATS
from crinkkg.vocab import graph_iri_for

#: the files read as inputs, by suffix (from the one format registry)
FORMATS: dict[str, ox.RdfFormat] = {
    "." + suffix: f.oxigraph for f in GRAPH_FORMATS for suffix in f.suffixes
    if isinstance(f.oxigraph, ox.RdfFormat)}
#: OWL/XML's own suffix; a ``.owl`` file may hold OWL/XML too (see :func:`is_owl_xml`)
OWL_XML_SUFFIX = ".owx"
OWL_XML_ROOT = "{http://www.w3.org/2002/07/owl#}Ontology"


@dataclass
class SourceFile:
    """One input file and the triples it asserts (its graph names flattened into one)."""

    path: Path
    relative: str
    graph: str
    sha256: str
    triples: list[ox.Triple]
    role: str  # "ontology", "data" or "shapes"


def is_shapes_file(path: Path) -> bool:
    """SHACL shapes live beside the ontology and are named so (``shapes.ttl``)."""
    return "shapes" in path.stem.lower()


def in_order(path: Path) -> tuple[str, ...]:
    """The sort key giving paths in the order ``sorted`` puts them (part by part), without
    a Python comparison per pair (thousands of input files are sorted on every start).

    >>> paths = [Path("a-b/c"), Path("a/b"), Path("A"), Path("a")]
    >>> sorted(paths, key=in_order) == sorted(paths)
    True
    """
    return path.parts


def discover(ontology_dir: Path, data_dir: Path) -> list[tuple[Path, str]]:
    """Every RDF input, sorted, with its role; unknown extensions are ignored."""
    found: list[tuple[Path, str]] = []
    for folder, role in ((ontology_dir, "ontology"), (data_dir, "data")):
        if not folder.is_dir():
            raise CrinkError(
                f"input folder {folder} does not exist",
                hint="run from the project root, or pass --ontology/--data",
            )
        for path in sorted(folder.rglob("*"), key=in_order):
            if path.is_file() and (path.suffix.lower() in FORMATS
                                   or path.suffix.lower() == OWL_XML_SUFFIX):
                found.append((path, "shapes" if is_shapes_file(path) else role))
    return found


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parse_file(path: Path, root: Path, role: str, *, base_iri: str) -> SourceFile:
    """Parse one file; a syntax error names the file, line, column and offending text."""
    data = path.read_bytes()
    relative = path.resolve().relative_to(root.resolve()).as_posix() if _under(path, root) \
        else path.name
    fmt = FORMATS.get(path.suffix.lower(), ox.RdfFormat.RDF_XML)
    if path.suffix.lower() in (OWL_XML_SUFFIX, ".owl", ".xml") and is_owl_xml(data):
        data = owl_xml_as_rdf_xml(data, relative)
        fmt = ox.RdfFormat.RDF_XML
    try:
        quads = ox.parse(data, format=fmt, base_iri=base_iri + relative)
        scoped = _Scope("b" + hashlib.sha1(relative.encode()).hexdigest()[:8] + "_")
        triples = [ox.Triple(scoped(q.subject), q.predicate, scoped(q.object)) for q in quads]
    except SyntaxError as exc:
        line, column = _position(exc)
        text = _line_text(data, line)
        raise InputSyntaxError(relative, line, column, _detail(exc), text) from None
    return SourceFile(path, relative, graph_iri_for(relative), hashlib.sha256(data).hexdigest(),
                      triples, role)


def is_owl_xml(data: bytes) -> bool:
    """Whether a file is OWL/XML: its root element is ``owl:Ontology`` (RDF/XML's is
    ``rdf:RDF``).

    >>> is_owl_xml(b'<?xml version="1.0"?><Ontology xmlns="http://www.w3.org/2002/07/owl#"/>')
    True
    >>> is_owl_xml(b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>')
    False
    """
    from defusedxml.ElementTree import iterparse

    try:
        for _event, element in iterparse(io.BytesIO(data), events=("start",)):
            return element.tag == OWL_XML_ROOT
    except Exception:  # not XML, or a DTD with entities (RDF/XML as Protégé writes it)
        return False
    return False


def owl_xml_as_rdf_xml(data: bytes, relative: str) -> bytes:
    """An OWL/XML document mapped to RDF (as RDF/XML), or the syntax error that names
    the file."""
    import pyhornedowl

    try:
        ontology = pyhornedowl.open_ontology_from_string(data.decode("utf-8"), "owx")
        return ontology.save_to_string("owl").encode("utf-8")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a ValueError, or a panic of the Rust parser
        raise InputSyntaxError(relative, None, None, f"not readable as OWL/XML: {exc}",
                               None) from None


def load_inputs(ontology_dir: Path, data_dir: Path, *, base_iri: str,
                root: Path | None = None) -> list[SourceFile]:
    """Parse every input file; the first syntax error stops the load."""
    root = root or Path.cwd()
    return [parse_file(p, root, role, base_iri=base_iri)
            for p, role in discover(ontology_dir, data_dir)]


class _Scope:
    """Blank node labels are local to a file: keep two files' ``_:b0`` apart, and number
    them in the order the file gives them (the parser names ``[]`` nodes at random), so
    that a file read again gives the same labels: a journalled write that names one of
    its blank nodes still applies after a rebuild (:mod:`crinkkg.store.journal`)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.labels: dict[str, ox.BlankNode] = {}

    def __call__(self, term):
        if not isinstance(term, ox.BlankNode):
            return term
        label = self.labels.get(term.value)
        if label is None:
            label = self.labels[term.value] = ox.BlankNode(f"{self.prefix}{len(self.labels)}")
        return label


def _under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _position(exc: SyntaxError) -> tuple[int | None, int | None]:
    return (exc.lineno or None, exc.offset or None)


def _detail(exc: SyntaxError) -> str:
    msg = exc.msg if isinstance(exc.msg, str) else str(exc)
    # Oxigraph prefixes "Parser error between line L column C and ...: detail"
    return msg.split(": ", 1)[1] if msg.startswith("Parser error") and ": " in msg else msg


def _line_text(data: bytes, line: int | None) -> str | None:
    if not line:
        return None
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else None
