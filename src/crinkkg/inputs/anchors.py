"""Claims anchored in their source's text: W3C Web Annotation selectors, made and checked.

A claim points to the passage that states it (``crink:statedIn``): an
``oa:SpecificResource`` on a source whose text the project stores (``crink:storedText``,
with its ``crink:sha256``), located twice over, by a ``oa:TextQuoteSelector`` (exact text
with a little context) and by a ``oa:TextPositionSelector`` (start and end, in Unicode
code points). The build checks every selector against the stored text, so a quote can
never drift from its source unnoticed; :func:`selectors_for` writes correct ones for an
analyst adding a claim.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from crinkkg.errors import AnchorError, CrinkError, Drift
from crinkkg.inputs.loading import in_order
from crinkkg.vocab import CRINK_NS, OA_NS, RDF_TYPE

CONTEXT = 32  # characters of prefix and suffix: enough to tell repeated passages apart


@dataclass(frozen=True)
class Selectors:
    """Where a passage sits in a text: the quote with its context, and its positions."""

    exact: str
    prefix: str
    suffix: str
    start: int
    end: int

    def turtle(self, source: str, indent: str = "    ", part: str | None = None) -> str:
        """The ``crink:statedIn`` value for a data file (prefixes ``oa:`` and ``id:``), with
        the document part the passage lies in (``crink:inPart``) when the source has parts.

        >>> print(Selectors("b", "a", "c", 1, 2).turtle("id:doc", indent=""))
        [ a oa:SpecificResource ; oa:hasSource id:doc ;
          oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "b" ;
                           oa:prefix "a" ; oa:suffix "c" ] ,
                         [ a oa:TextPositionSelector ; oa:start 1 ; oa:end 2 ] ]
        >>> print(Selectors("b", "a", "c", 1, 2).turtle("id:doc", "", "id:doc-body")[:60])
        [ a oa:SpecificResource ; oa:hasSource id:doc ; crink:inPart
        """
        in_part = f" crink:inPart {part} ;" if part else ""
        return (f"[ a oa:SpecificResource ; oa:hasSource {source} ;{in_part}\n"
                f"{indent}  oa:hasSelector [ a oa:TextQuoteSelector ; "
                f"oa:exact {_lit(self.exact)} ;\n"
                f"{indent}                   oa:prefix {_lit(self.prefix)} ; "
                f"oa:suffix {_lit(self.suffix)} ] ,\n"
                f"{indent}                 [ a oa:TextPositionSelector ; oa:start {self.start} ; "
                f"oa:end {self.end} ] ]")


def selectors_for(text: str, exact: str, occurrence: int = 1) -> Selectors:
    """Selectors for the ``occurrence``-th appearance of ``exact`` in ``text``.

    >>> s = selectors_for("One. Two. Three.", "Two.")
    >>> (s.start, s.end, s.prefix, s.suffix)
    (5, 9, 'One. ', ' Three.')
    """
    if not exact:
        raise CrinkError("an empty passage cannot be anchored",
                         hint="give the exact words of the source, as they appear in its text")
    start = -1
    for _ in range(occurrence):
        start = text.find(exact, start + 1)
        if start < 0:
            raise CrinkError(
                f"the passage does not appear {'' if occurrence == 1 else f'{occurrence} times '}"
                f"in the text: {exact!r}",
                hint="copy the words byte for byte from the stored text (curly quotes, "
                     "apostrophes and dashes included)")
    end = start + len(exact)
    return Selectors(exact, text[max(0, start - CONTEXT):start], text[end:end + CONTEXT],
                     start, end)


@dataclass(frozen=True)
class Part:
    """A document part of a source (``crink:DocumentPart``): where it lies in the text."""

    iri: str
    source: str
    start: int | None
    end: int | None
    declared_in: str


def document_parts(files: list[tuple[str, list[ox.Triple]]]) -> list[Part]:
    """Every ``crink:DocumentPart`` the data declares, with its position range."""
    found = []
    for name, triples in files:
        index = _index(triples)
        for subject, props in index.items():
            for source in props.get(CRINK_NS + "partOf", []):
                start = end = None
                for selector in props.get(OA_NS + "hasSelector", []):
                    sel = index.get(selector, {})
                    if OA_NS + "TextPositionSelector" in sel.get(RDF_TYPE, []):
                        try:
                            start = int(_one(sel, OA_NS + "start"))
                            end = int(_one(sel, OA_NS + "end"))
                        except (TypeError, ValueError):
                            start = end = None
                found.append(Part(subject, source, start, end, name))
    return found


def part_of(parts: list[Part], source: str, start: int, end: int) -> Part | None:
    """The part of ``source`` that holds the passage ``start``-``end``, if any."""
    for part in parts:
        if part.source == source and part.start is not None and part.end is not None \
                and part.start <= start <= end <= part.end:
            return part
    return None


@dataclass
class StoredText:
    """A source whose text the project keeps, as the data describes it."""

    source: str
    path: Path
    sha256: str | None
    declared_in: str


def stored_texts(files: list[tuple[str, list[ox.Triple]]], data_dir: Path) -> list[StoredText]:
    """Every ``crink:storedText`` the data declares, resolved against the data folder."""
    found = []
    for name, triples in files:
        index = _index(triples)
        for subject, props in index.items():
            for path in props.get(CRINK_NS + "storedText", []):
                sha = props.get(CRINK_NS + "sha256", [None])[0]
                found.append(StoredText(subject, data_dir / path, sha, name))
    return found


def text_paths(data_dir: Path) -> list[Path]:
    """The stored texts a build depends on (``data/texts/``): part of the cache key."""
    folder = data_dir / "texts"
    return sorted((p for p in folder.rglob("*") if p.is_file()), key=in_order) \
        if folder.is_dir() else []


def check(files: list[tuple[str, list[ox.Triple]]], data_dir: Path) -> int:
    """Check every stored text against its checksum and every anchor against its text.

    ``files`` pairs each input file's name with its triples. Returns the number of anchors
    checked; raises :class:`AnchorError` listing every drift (file, claim, expected, found).
    """
    drifts: list[Drift] = []
    texts: dict[str, str] = {}
    for stored in stored_texts(files, data_dir):
        if not stored.path.is_file():
            drifts.append(Drift(stored.declared_in, stored.source,
                                f"stored text {stored.path} does not exist"))
            continue
        data = stored.path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if stored.sha256 is not None and digest != stored.sha256:
            drifts.append(Drift(stored.declared_in, stored.source,
                                f"stored text {stored.path.name} has changed (crink:sha256)",
                                stored.sha256, digest))
            continue
        try:
            texts[stored.source] = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            drifts.append(Drift(stored.declared_in, stored.source,
                                f"stored text {stored.path.name} is not UTF-8 ({exc.reason} "
                                f"at byte {exc.start})"))
    checked, found = check_anchors(files, texts)
    drifts += found
    if drifts:
        raise AnchorError(drifts)
    return checked


def check_anchors(files: list[tuple[str, list[ox.Triple]]], texts: dict[str, str]
                  ) -> tuple[int, list[Drift]]:
    """Every ``crink:statedIn`` passage of each file (or graph) against the texts, by
    source IRI: the number checked, and the drifts found. A write is held to this check
    with the texts the store holds (:mod:`crinkkg.build.conformance`)."""
    drifts: list[Drift] = []
    # the parts a source is divided into lie within its text
    for part in document_parts(files):
        text = texts.get(part.source)
        if text is None:
            continue
        if part.start is None or part.end is None or not 0 <= part.start <= part.end <= len(text):
            drifts.append(Drift(part.declared_in, part.iri,
                                f"a document part needs one oa:TextPositionSelector within its "
                                f"source's text (0-{len(text)}): found {part.start}-{part.end}"))
    checked = 0
    for name, triples in files:
        index = _index(triples)
        for claim, props in index.items():
            for anchor in props.get(CRINK_NS + "statedIn", []):
                checked += 1
                drifts += _check_anchor(name, claim, index.get(anchor, {}), index, texts)
    return checked, drifts


def _check_anchor(name: str, claim: str, anchor: dict, index: dict,
                  texts: dict[str, str]) -> list[Drift]:
    sources = anchor.get(OA_NS + "hasSource", [])
    if len(sources) != 1:
        return [Drift(name, claim, f"a crink:statedIn passage needs exactly one oa:hasSource "
                                   f"(found {len(sources)})")]
    source = sources[0]
    if source not in texts:
        return [Drift(name, claim, f"the passage's source {source} has no stored text "
                                   f"(crink:storedText) to check it against")]
    text = texts[source]
    quote: dict = {}
    position: dict = {}
    for selector in anchor.get(OA_NS + "hasSelector", []):
        props = index.get(selector, {})
        kinds = props.get(RDF_TYPE, [])
        if OA_NS + "TextQuoteSelector" in kinds:
            quote = props
        elif OA_NS + "TextPositionSelector" in kinds:
            position = props
    if not quote or not position:
        return [Drift(name, claim, "a passage needs an oa:TextQuoteSelector and an "
                                   "oa:TextPositionSelector")]
    exact = _one(quote, OA_NS + "exact")
    prefix = _one(quote, OA_NS + "prefix") or ""
    suffix = _one(quote, OA_NS + "suffix") or ""
    try:
        start, end = int(_one(position, OA_NS + "start")), int(_one(position, OA_NS + "end"))
    except (TypeError, ValueError):
        return [Drift(name, claim, "oa:start and oa:end must be integers")]
    problems = []
    if exact is None:
        return [Drift(name, claim, "the oa:TextQuoteSelector has no oa:exact")]
    if not 0 <= start <= end <= len(text) or text[start:end] != exact:
        where = text.find(exact)
        hint = f" (the quote is at {where}-{where + len(exact)})" if where >= 0 else \
            " (the quote appears nowhere in the text)"
        problems.append(Drift(name, claim, f"oa:exact is not the text at {start}-{end}{hint}",
                              exact, text[max(0, start):max(0, end)]))
    else:
        if text[max(0, start - len(prefix)):start] != prefix:
            problems.append(Drift(name, claim, "oa:prefix is not the text before the passage",
                                  prefix, text[max(0, start - len(prefix)):start]))
        if text[end:end + len(suffix)] != suffix:
            problems.append(Drift(name, claim, "oa:suffix is not the text after the passage",
                                  suffix, text[end:end + len(suffix)]))
    return problems


def _index(triples: list[ox.Triple]) -> dict[str, dict[str, list[str]]]:
    index: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for t in triples:
        index[t.subject.value][t.predicate.value].append(t.object.value)
    return index


def _one(props: dict, key: str) -> str | None:
    values = props.get(key, [])
    return values[0] if values else None


def _lit(value: str) -> str:
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r"))
    return f'"{escaped}"'
