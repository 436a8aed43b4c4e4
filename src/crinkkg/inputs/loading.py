"""Find and parse the input files (ontology and data) into per-file triple lists.

Parsing uses Oxigraph's parsers: they are fast and report exact line and column.
"""

from __future__ import annotations

import hashlib
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


def discover(ontology_dir: Path, data_dir: Path) -> list[tuple[Path, str]]:
    """Every RDF input, sorted, with its role; unknown extensions are ignored."""
    found: list[tuple[Path, str]] = []
    for folder, role in ((ontology_dir, "ontology"), (data_dir, "data")):
        if not folder.is_dir():
            raise CrinkError(
                f"input folder {folder} does not exist",
                hint="run from the project root, or pass --ontology/--data",
            )
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix.lower() in FORMATS:
                found.append((path, "shapes" if is_shapes_file(path) else role))
    return found


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parse_file(path: Path, root: Path, role: str, *, base_iri: str) -> SourceFile:
    """Parse one file; a syntax error names the file, line, column and offending text."""
    data = path.read_bytes()
    relative = path.resolve().relative_to(root.resolve()).as_posix() if _under(path, root) \
        else path.name
    fmt = FORMATS[path.suffix.lower()]
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
