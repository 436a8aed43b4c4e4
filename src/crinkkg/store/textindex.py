"""The full-text index of a store version: every stored source text sentence by sentence
(each sentence with the claims anchored in it) and every resource's labels, descriptions
and local name, in SQLite FTS5.

It is written beside the database of the version it indexes (``<version>/search.sqlite``)
before the version is published, and never changed afterwards: whoever resolves the store
link once and opens both the database and the index of that folder reads one version's
data, never a store paired with another version's index.

SQLite comes with Python, writes one file, and answers a ranked phrase or prefix query
from its own inverted index; bench/README.md compares it with tantivy.

>>> import pyoxigraph as ox, tempfile, pathlib
>>> from crinkkg.vocab import CRINK_NS, RDFS_LABEL
>>> s = ox.Store()
>>> src, claim = ox.NamedNode("https://w3id.org/crinkkg/id/src"), ox.NamedNode(
...     "https://w3id.org/crinkkg/id/treaty")
>>> s.add(ox.Quad(src, ox.NamedNode(CRINK_NS + "textContent"),
...               ox.Literal("Russia signed a treaty. Iran did not.")))
>>> s.add(ox.Quad(claim, ox.NamedNode(RDFS_LABEL), ox.Literal("Russia's treaty", language="en")))
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_index(s, folder).passages
2
>>> index = TextIndex(folder)
>>> [p.sentence for p in index.passages('"signed a"', 5)]
['Russia signed a treaty.']
>>> [r.iri.rsplit("/", 1)[1] for r in index.complete("trea", 5)]
['treaty']
"""

from __future__ import annotations

import bisect
import json
import os
import re
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from crinkkg.vocab import (
    CRINK_NS,
    DCT_NS,
    OA_NS,
    OWL_NS,
    RDFS_COMMENT,
    RDFS_LABEL,
    RDFS_NS,
    SKOS_NS,
)

#: the index's file in a version's folder
INDEX_FILE = "search.sqlite"
#: changes when the index's tables change: an index of another layout is not read
LAYOUT = "1"
TEXT_CONTENT = CRINK_NS + "textContent"
LABELS = (RDFS_LABEL, SKOS_NS + "prefLabel", SKOS_NS + "altLabel")
DESCRIPTIONS = (RDFS_COMMENT, SKOS_NS + "definition", DCT_NS + "description")
#: the predicates whose change makes an update rebuild the index
INDEXED_PREDICATES = frozenset({TEXT_CONTENT, *LABELS, *DESCRIPTIONS, CRINK_NS + "statedIn",
                                OA_NS + "hasSource", OA_NS + "hasSelector", OA_NS + "start",
                                OA_NS + "end"})
_SCHEMA_NAMESPACES = (RDFS_NS, OWL_NS)
#: unicode61 folds case and, with remove_diacritics 2, accents: "Türkiye" matches "turkiye"
_TOKENIZER = "unicode61 remove_diacritics 2"
#: a sentence ends at . ! or ? (and a closing quote or bracket) before white space; a line
#: ends one too (headings, list items)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'’”)\]]*[ \t]+(?=[\"'‘“(\[]?[A-Z0-9])|\s*\n\s*")
_ABBREVIATION = re.compile(r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|St|Sen|Rep|Sec|No|Nos|Gen|Col|"
                           r"Lt|Jr|Sr|Inc|Co|vs|etc|e\.g|i\.e))\.$")
_MARK_START, _MARK_END = "\x02", "\x03"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_WORD = re.compile(r"\w", re.UNICODE)


class SearchSyntax(ValueError):
    """A search text that holds nothing to search for (no word at all)."""


class SearchTimeout(TimeoutError):
    """A search that ran past its time budget (interrupted)."""


@dataclass(frozen=True)
class Claim:
    iri: str
    label: str


@dataclass(frozen=True)
class Passage:
    """One sentence of a stored text that matches: where it is, its words with the matches
    marked (``marked``: runs of text, each flagged when it is a match), and the claims
    whose anchors overlap it."""

    source: str
    source_label: str
    start: int
    end: int
    sentence: str
    marked: tuple[tuple[str, bool], ...]
    claims: tuple[Claim, ...]
    score: float

    def as_dict(self) -> dict:
        return {"source": self.source, "source_label": self.source_label,
                "start": self.start, "end": self.end, "sentence": self.sentence,
                "marked": [[text, hit] for text, hit in self.marked],
                "claims": [{"iri": c.iri, "label": c.label} for c in self.claims],
                "score": round(self.score, 4)}


@dataclass(frozen=True)
class Resource:
    """A resource whose label, description or local name matches."""

    iri: str
    label: str
    description: str
    score: float

    def as_dict(self) -> dict:
        return {"iri": self.iri, "label": self.label, "description": self.description,
                "score": round(self.score, 4)}


@dataclass
class IndexReport:
    passages: int = 0
    resources: int = 0
    seconds: float = 0.0
    bytes: int = 0


def changes_index(quads: Iterable[ox.Quad]) -> bool:
    """Whether a write of ``quads`` (removed or added) can change what the index holds:
    an indexed predicate, or one of RDFS or OWL (a new sub-property of ``rdfs:label``
    makes labels by inference).

    >>> from crinkkg.vocab import RDFS_LABEL
    >>> q = lambda p: ox.Quad(ox.NamedNode("http://ex/a"), ox.NamedNode(p), ox.Literal("x"))
    >>> changes_index([q(RDFS_LABEL)]), changes_index([q("http://ex/p")])
    (True, False)
    """
    return any(q.predicate.value in INDEXED_PREDICATES
               or q.predicate.value.startswith(_SCHEMA_NAMESPACES) for q in quads)


# -- the search text ---------------------------------------------------------------------------

_TERM = re.compile(r'"([^"]*)"(\*?)|(\S+)')


def fts_query(text: str) -> str:
    """The FTS5 query for a user's search text: every word must occur; ``"…"`` is a phrase;
    a trailing ``*`` makes a word (or a phrase's last word) a prefix. Everything else the
    FTS5 syntax gives meaning to (``AND``, ``NEAR``, ``-``, ``:``, ``^``) is taken as plain
    words, so no search text is an FTS5 syntax error.

    >>> fts_query('nuclear "mutual defence" sanc*')
    '"nuclear" "mutual defence" "sanc"*'
    >>> fts_query('col:umn AND -x')
    '"col:umn" "AND" "-x"'
    >>> fts_query('  " " ')
    Traceback (most recent call last):
    crinkkg.store.textindex.SearchSyntax: the search holds no word to look for
    """
    terms = []
    for m in _TERM.finditer(text):
        phrase, star, word = m.group(1), m.group(2), m.group(3)
        if word is not None:
            star = "*" if word.endswith("*") else ""
            phrase = word.rstrip("*")
        if not phrase or not _WORD.search(phrase):
            continue
        terms.append('"' + phrase.replace('"', '""') + '"' + star)
    if not terms:
        raise SearchSyntax("the search holds no word to look for")
    return " ".join(terms)


def _completion_query(prefix: str) -> str:
    """Every word of ``prefix`` as a prefix, in order of typing (a local name's dashes and
    a prefixed name's colon separate words)."""
    words = [w for w in re.split(r"[\W_]+", prefix) if w]
    if not words:
        raise SearchSyntax("nothing typed to complete")
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words)


# -- writing ---------------------------------------------------------------------------------


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """The (start, end) of every sentence of ``text``, in code points (what the anchors'
    ``oa:start`` and ``oa:end`` count), blank runs left out. A period after a single
    capital (``U.S.``, ``S. 1883``) or a usual abbreviation ends no sentence.

    >>> t = "# Title\\n\\nRussia signed. Iran (did) not!  U.S. forces (Sec. 2) left.\\nNext"
    >>> [t[s:e] for s, e in sentences(t)]
    ['# Title', 'Russia signed.', 'Iran (did) not!', 'U.S. forces (Sec. 2) left.', 'Next']
    """
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if "\n" not in m.group() and _ABBREVIATION.search(text, max(0, m.start() - 12),
                                                           m.start()):
            continue
        closing = len(m.group()) - len(m.group().lstrip("\"'’”)]"))
        yield from _trimmed(text, start, m.start() + closing)
        start = m.end()
    yield from _trimmed(text, start, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


def _first(values: Iterable[tuple[str, str, int]]) -> str:
    """The label a person reads: of the first of :data:`LABELS` given, English (or
    untagged) first."""
    ranked = sorted(values, key=lambda v: (v[2], v[1] not in ("en", ""), v[1], v[0]))
    return ranked[0][0] if ranked else ""


def _local_name(iri: str) -> str:
    return re.split(r"[/#:]", iri.rstrip("/#"))[-1]


def _rows(store: ox.Store, sparql: str) -> Iterator[ox.QuerySolution]:
    return iter(store.query(sparql, use_default_graph_as_union=True))  # type: ignore[arg-type]


def _read(store: ox.Store) -> tuple[dict[str, tuple[list[tuple[str, str, int]], list[str]]],
                                    dict[str, str], dict[str, list[tuple[int, int, str]]]]:
    """What the index holds, read from a version's database: labels and descriptions per
    resource, the stored texts, and every anchor (start, end, claim) per source."""
    found: dict[str, tuple[list[tuple[str, str, int]], list[str]]] = \
        defaultdict(lambda: ([], []))
    for predicates, slot in ((LABELS, 0), (DESCRIPTIONS, 1)):
        values = " ".join(f"<{p}>" for p in predicates)
        for row in _rows(store, f"SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES ?p {{ {values} }} "
                                "?s ?p ?o FILTER(isIRI(?s) && isLiteral(?o)) }"):
            s, o = row["s"].value, row["o"]
            if slot == 0:  # rdfs:label before skos:prefLabel before skos:altLabel
                found[s][0].append((o.value, o.language or "",
                                    predicates.index(row["p"].value)))
            else:
                found[s][1].append(o.value)
    texts = {row["s"].value: row["t"].value for row in _rows(
        store, f"SELECT DISTINCT ?s ?t WHERE {{ ?s <{TEXT_CONTENT}> ?t FILTER(isIRI(?s)) }}")}
    anchors: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for row in _rows(store, f"""SELECT DISTINCT ?claim ?src ?start ?end WHERE {{
          ?claim <{CRINK_NS}statedIn> ?target . ?target <{OA_NS}hasSource> ?src ;
                 <{OA_NS}hasSelector> ?sel . ?sel <{OA_NS}start> ?start ; <{OA_NS}end> ?end
          FILTER(isIRI(?claim) && isIRI(?src)) }}"""):
        try:
            start, end = int(row["start"].value), int(row["end"].value)
        except ValueError:
            continue
        anchors[row["src"].value].append((start, end, row["claim"].value))
    return found, texts, anchors


def _schema(db: sqlite3.Connection) -> None:
    db.executescript(f"""
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
        CREATE VIRTUAL TABLE passages USING fts5(
            sentence, source UNINDEXED, start UNINDEXED, "end" UNINDEXED,
            claims UNINDEXED, tokenize='{_TOKENIZER}');
        CREATE VIRTUAL TABLE resources USING fts5(
            label, name, description, iri UNINDEXED, tokenize='{_TOKENIZER}');
        CREATE TABLE names(local TEXT NOT NULL, iri TEXT NOT NULL, label TEXT NOT NULL);
        CREATE TABLE sources(iri TEXT PRIMARY KEY, label TEXT NOT NULL) WITHOUT ROWID;
    """)


def write_index(store: ox.Store, folder: Path) -> IndexReport:
    """Write the index of the dataset in ``store`` as ``folder/search.sqlite`` (replacing
    one there: an update's folder holds a copy of the previous version's)."""
    started = time.perf_counter()
    found, texts, anchors = _read(store)
    path = Path(folder) / INDEX_FILE
    tmp = path.with_name(INDEX_FILE + ".tmp")
    tmp.unlink(missing_ok=True)
    report = IndexReport()
    db = sqlite3.connect(tmp)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        _schema(db)
        label_of = {iri: _first(labels) for iri, (labels, _) in found.items()}
        rows = []
        for iri, (labels, descriptions) in found.items():
            local = _local_name(iri)
            first = label_of[iri]
            rows.append((" · ".join(sorted({v[0] for v in labels}, key=lambda v: (v != first, v))),
                         re.sub(r"[\W_]+", " ", local), " · ".join(sorted(set(descriptions))),
                         iri))
        db.executemany("INSERT INTO resources(label, name, description, iri) VALUES (?,?,?,?)",
                       rows)
        report.resources = len(rows)
        db.executemany("INSERT INTO names VALUES (?,?,?)",
                       ((_local_name(r[3]).lower(), r[3], label_of.get(r[3], ""))
                        for r in rows))
        db.execute("CREATE INDEX names_local ON names(local)")
        db.executemany("INSERT INTO sources VALUES (?,?)",
                       ((s, label_of.get(s, _local_name(s))) for s in texts))
        db.executemany(
            'INSERT INTO passages(sentence, source, start, "end", claims) VALUES (?,?,?,?,?)',
            _passage_rows(texts, anchors, label_of, report))
        db.execute("INSERT INTO passages(passages) VALUES ('optimize')")
        db.execute("INSERT INTO resources(resources) VALUES ('optimize')")
        db.executemany("INSERT INTO meta VALUES (?,?)",
                       [("layout", LAYOUT), ("passages", str(report.passages)),
                        ("resources", str(report.resources))])
        db.commit()
    except BaseException:
        db.close()
        tmp.unlink(missing_ok=True)
        raise
    db.close()
    os.replace(tmp, path)
    report.bytes = path.stat().st_size
    report.seconds = round(time.perf_counter() - started, 4)
    return report


def _passage_rows(texts: dict[str, str], anchors: dict[str, list[tuple[int, int, str]]],
                  label_of: dict[str, str], report: IndexReport
                  ) -> Iterator[tuple[str, str, int, int, str]]:
    for source, text in texts.items():
        spans = list(sentences(text))
        starts = [s for s, _ in spans]
        claims_at: dict[int, dict[str, str]] = defaultdict(dict)
        for a_start, a_end, claim in anchors.get(source, ()):
            # the sentences an anchor overlaps: from the one it starts in to the one it ends in
            i = max(0, bisect.bisect_right(starts, a_start) - 1)
            while i < len(spans) and spans[i][0] < max(a_end, a_start + 1):
                if spans[i][1] > a_start:
                    claims_at[i][claim] = label_of.get(claim, "")
                i += 1
        for i, (start, end) in enumerate(spans):
            report.passages += 1
            claims = sorted(claims_at[i].items(), key=lambda kv: (kv[1] or kv[0], kv[0]))
            yield (_CONTROL.sub(" ", text[start:end]), source, start, end,
                   json.dumps(claims, ensure_ascii=False, separators=(",", ":")))


# -- reading -----------------------------------------------------------------------------


@dataclass
class TextIndex:
    """The index of one version (a folder), opened read-only per search: a version's index
    never changes, so nothing is cached between searches but what the OS caches."""

    folder: Path
    #: the longest a search may run, in seconds (0: no bound)
    budget: float = 0.0
    _path: str = field(init=False)

    def __post_init__(self) -> None:
        self._path = str(Path(self.folder) / INDEX_FILE)

    @property
    def exists(self) -> bool:
        return os.path.isfile(self._path)

    def _connect(self) -> sqlite3.Connection:
        # immutable: no locks, no journal look-ups (the file never changes once published)
        uri = "file:" + self._path.replace("?", "%3f").replace("#", "%23") + \
            "?mode=ro&immutable=1"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        if self.budget > 0:
            deadline = time.monotonic() + self.budget
            db.set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
        return db

    def _run(self, sql: str, args: tuple) -> list[tuple]:
        db = self._connect()
        try:
            return db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise SearchTimeout(f"the search ran past {self.budget:g} s") from None
            raise
        finally:
            db.close()

    def passages(self, text: str, limit: int, offset: int = 0) -> list[Passage]:
        """The sentences matching ``text`` (see :func:`fts_query`), best first."""
        rows = self._run(
            f"""SELECT highlight(passages, 0, '{_MARK_START}', '{_MARK_END}'), source,
                       start, "end", claims, bm25(passages), s.label
                FROM passages LEFT JOIN sources s ON s.iri = passages.source
                WHERE passages MATCH ? ORDER BY rank LIMIT ? OFFSET ?""",
            (fts_query(text), limit, offset))
        out = []
        for marked, source, start, end, claims, score, source_label in rows:
            out.append(Passage(
                source, source_label or _local_name(source), int(start), int(end),
                marked.replace(_MARK_START, "").replace(_MARK_END, ""), _runs(marked),
                tuple(Claim(iri, label) for iri, label in json.loads(claims)), -score))
        return out

    def resources(self, text: str, limit: int, offset: int = 0) -> list[Resource]:
        """The resources whose labels, local names or descriptions match ``text``; a match
        in a label counts most, then the name, then a description."""
        rows = self._run(
            """SELECT iri, label, description, bm25(resources, 10.0, 5.0, 1.0)
               FROM resources WHERE resources MATCH ? ORDER BY rank LIMIT ? OFFSET ?""",
            (fts_query(text), limit, offset))
        return [Resource(iri, label.split(" · ")[0] if label else "", description, -score)
                for iri, label, description, score in rows]

    def complete(self, prefix: str, limit: int) -> list[Resource]:
        """Resources for an editor's completion of ``prefix``: those whose local name starts
        with it first (shortest first), then those whose label or name words start with
        its words (best first)."""
        typed = prefix.strip().lower()
        if not typed:
            raise SearchSyntax("nothing typed to complete")
        upper = typed[:-1] + chr(ord(typed[-1]) + 1)
        rows = self._run(
            """SELECT iri, label FROM names WHERE local >= ? AND local < ?
               ORDER BY length(local), local LIMIT ?""", (typed, upper, limit))
        out = [Resource(iri, label, "", 0.0) for iri, label in rows]
        seen = {r.iri for r in out}
        if len(out) < limit:
            try:
                query = "{label name} : (" + _completion_query(typed) + ")"
            except SearchSyntax:
                return out
            for iri, label, score in self._run(
                    """SELECT iri, label, bm25(resources, 10.0, 5.0, 1.0) FROM resources
                       WHERE resources MATCH ? ORDER BY rank LIMIT ?""", (query, limit)):
                if iri not in seen and len(out) < limit:
                    seen.add(iri)
                    out.append(Resource(iri, label.split(" · ")[0] if label else "", "",
                                        -score))
        return out

    def counts(self) -> dict[str, int]:
        """How many passages and resources the index holds."""
        rows = dict(self._run("SELECT key, value FROM meta", ()))
        return {"passages": int(rows.get("passages", 0)),
                "resources": int(rows.get("resources", 0))}


def _runs(marked: str) -> tuple[tuple[str, bool], ...]:
    """``highlight()``'s text as runs of (text, is a match).

    >>> _runs("a \\x02b\\x03 c")
    (('a ', False), ('b', True), (' c', False))
    """
    out: list[tuple[str, bool]] = []
    for i, part in enumerate(re.split(f"[{_MARK_START}{_MARK_END}]", marked)):
        if part:
            out.append((part, i % 2 == 1))
    return tuple(out)
