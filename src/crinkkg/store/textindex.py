"""The full-text index of a store version: every stored source text sentence by sentence
(each sentence with the claims anchored in it) and every resource's labels, descriptions
and local name, in tantivy.

It is written beside the database of the version it indexes (``<version>/search/``)
before the version is published, and never changed afterwards: whoever resolves the store
link once and opens both the database and the index of that folder reads one version's
data, never a store paired with another version's index. bench/README.md says why tantivy
rather than SQLite FTS5, with the figures.

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
import re
import shutil
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox
import tantivy

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

#: the index's folder in a version's folder
INDEX_DIR = "search"
#: changes when the index's fields change: an index of another layout is not read
LAYOUT = "1"
TEXT_CONTENT = CRINK_NS + "textContent"
LABELS = (RDFS_LABEL, SKOS_NS + "prefLabel", SKOS_NS + "altLabel")
DESCRIPTIONS = (RDFS_COMMENT, SKOS_NS + "definition", DCT_NS + "description")
#: the predicates whose change makes an update rebuild the index
INDEXED_PREDICATES = frozenset({TEXT_CONTENT, *LABELS, *DESCRIPTIONS, CRINK_NS + "statedIn",
                                OA_NS + "hasSource", OA_NS + "hasSelector", OA_NS + "start",
                                OA_NS + "end"})
_SCHEMA_NAMESPACES = (RDFS_NS, OWL_NS)
#: words as the index cuts them: runs of letters and digits, case and accents folded
#: ("Türkiye" matches "turkiye"); no stemming, so a phrase and a prefix mean what they say
ANALYZER = "crinkkg"
#: the most terms (words, phrases, prefixes) one search may hold
MAX_TERMS = 16
#: how much a match counts in each field of a resource
BOOSTS = {"label": 10.0, "name": 5.0, "description": 1.0}
#: a sentence ends at . ! or ? (and a closing quote or bracket) before white space and a
#: capital or a digit; a line ends one too (headings, list items)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'’”)\]]*[ \t]+(?=[\"'‘“(\[]?[A-Z0-9])|\s*\n\s*")
_ABBREVIATION = re.compile(r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|St|Sen|Rep|Sec|No|Nos|Gen|Col|"
                           r"Lt|Jr|Sr|Inc|Co|vs|etc|e\.g|i\.e))\.$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_TERM = re.compile(r'"([^"]*)"(\*?)|(\S+)')


def _analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold()).build())


class SearchSyntax(ValueError):
    """A search text that holds nothing to search for (no word at all)."""


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


class Term(NamedTuple):
    """One term of a search: its words as the index has them, and whether the last one is
    a prefix."""

    words: tuple[str, ...]
    prefix: bool


def parse_search(text: str) -> list[Term]:
    """The terms of a user's search text: every term must occur; ``"…"`` is a phrase; a
    trailing ``*`` makes a word (or a phrase's last word) a prefix. Nothing else has a
    meaning (``AND``, ``-``, ``:`` are words or nothing), so no search text is an error but
    one without a word, or with too many terms.

    >>> parse_search('Nuclear "mutual défense" sanc* S-400')  # doctest: +NORMALIZE_WHITESPACE
    [Term(words=('nuclear',), prefix=False), Term(words=('mutual', 'defense'), prefix=False),
     Term(words=('sanc',), prefix=True), Term(words=('s', '400'), prefix=False)]
    >>> parse_search('  " " - ')
    Traceback (most recent call last):
    crinkkg.store.textindex.SearchSyntax: the search holds no word to look for
    """
    analyzer = _analyzer()
    terms = []
    for m in _TERM.finditer(text):
        phrase, star, word = m.group(1), m.group(2), m.group(3)
        if word is not None:
            star, phrase = ("*" if word.endswith("*") else ""), word.rstrip("*")
        words = tuple(analyzer.analyze(phrase))
        if words:
            terms.append(Term(words, bool(star)))
    if not terms:
        raise SearchSyntax("the search holds no word to look for")
    if len(terms) > MAX_TERMS:
        raise SearchSyntax(f"the search holds {len(terms)} terms; the limit is {MAX_TERMS}")
    return terms


def _term_query(schema: tantivy.Schema, field: str, term: Term) -> tantivy.Query:
    q = tantivy.Query
    if term.prefix and len(term.words) == 1:
        return q.regex_query(schema, field, re.escape(term.words[0]) + ".*")
    if term.prefix:
        return q.phrase_prefix_query(schema, field, list(term.words))
    if len(term.words) == 1:
        return q.term_query(schema, field, term.words[0])
    return q.phrase_query(schema, field, list(term.words))


def _query(schema: tantivy.Schema, terms: list[Term], boosts: dict[str, float]
           ) -> tantivy.Query:
    """Every term in one of the fields, scored by its best field (with its boost) and a
    tenth of the others; a prefix, whose every word scores alike, by its best field
    alone (so a resource is not ranked up for repeating a word in its description)."""
    q, occur = tantivy.Query, tantivy.Occur
    must = []
    for term in terms:
        alternatives = [q.boost_query(_term_query(schema, f, term), boost)
                        if boost != 1.0 else _term_query(schema, f, term)
                        for f, boost in boosts.items()]
        must.append((occur.Must, alternatives[0] if len(alternatives) == 1 else
                     q.disjunction_max_query(alternatives, 0.0 if term.prefix else 0.1)))
    return must[0][1] if len(must) == 1 else q.boolean_query(must)


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


@dataclass
class Contents:
    """What an index holds, read from a version's database (:func:`read_contents`)."""

    #: labels (value, language, rank of the predicate) and descriptions, per resource
    found: dict[str, tuple[list[tuple[str, str, int]], list[str]]]
    #: the stored texts, per source
    texts: dict[str, str]
    #: the anchors (start, end, claim), per source
    anchors: dict[str, list[tuple[int, int, str]]]

    def labels(self) -> dict[str, str]:
        """The label a person reads, per resource."""
        return {iri: _first(labels) for iri, (labels, _) in self.found.items()}

    def resource_rows(self) -> list[tuple[str, str, str, str]]:
        """(labels, local name as words, descriptions, IRI) per resource: the label a
        person reads first."""
        label_of = self.labels()
        return [(" · ".join(sorted({v[0] for v in labels},
                                   key=lambda v, first=label_of[iri]: (v != first, v))),
                 re.sub(r"[\W_]+", " ", _local_name(iri)), " · ".join(sorted(set(described))),
                 iri) for iri, (labels, described) in self.found.items()]

    def passage_rows(self) -> list[tuple[str, str, int, int, str]]:
        """(sentence, source, start, end, claims as JSON) per sentence of every text."""
        return list(_passage_rows(self.texts, self.anchors, self.labels()))


def read_contents(store: ox.Store) -> Contents:
    """Everything the index of ``store``'s dataset holds."""
    return Contents(*_read(store))


def write_index(store: ox.Store, folder: Path) -> IndexReport:
    """Write the index of the dataset in ``store`` as ``folder/search/`` (replacing one
    there: an update's folder may hold a copy of the previous version's)."""
    started = time.perf_counter()
    report = write_contents(read_contents(store), folder)
    report.seconds = round(time.perf_counter() - started, 4)
    return report


def _schemas() -> tuple[tantivy.Schema, tantivy.Schema]:
    passages = tantivy.SchemaBuilder()
    passages.add_text_field("sentence", stored=True, tokenizer_name=ANALYZER)
    for name in ("source", "source_label", "claims"):  # kept, not searched: bytes
        passages.add_bytes_field(name, stored=True)
    passages.add_integer_field("start", stored=True)
    passages.add_integer_field("end", stored=True)
    resources = tantivy.SchemaBuilder()
    for name in BOOSTS:
        resources.add_text_field(name, stored=True, tokenizer_name=ANALYZER)
    resources.add_bytes_field("iri", stored=True)
    # the local name, whole and lower-cased, for the completion of a name's start
    resources.add_text_field("local", stored=False, tokenizer_name="raw",
                             index_option="basic")
    return passages.build(), resources.build()


def _new_index(schema: tantivy.Schema, folder: Path) -> tantivy.Index:
    folder.mkdir(parents=True)
    index = tantivy.Index(schema, path=str(folder))
    index.register_tokenizer(ANALYZER, _analyzer())
    return index


def _fill(index: tantivy.Index, documents: Iterable[dict]) -> None:
    writer = index.writer(heap_size=64_000_000, num_threads=1)
    for document in documents:
        writer.add_document(tantivy.Document(**document))
    writer.commit()
    writer.wait_merging_threads()


def write_contents(contents: Contents, folder: Path) -> IndexReport:
    """Write ``contents`` as ``folder/search/``, whole or not at all."""
    started = time.perf_counter()
    final = Path(folder) / INDEX_DIR
    work = final.with_name(INDEX_DIR + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    report = IndexReport()
    try:
        passage_schema, resource_schema = _schemas()
        label_of = contents.labels()
        sources = {s: label_of.get(s) or _local_name(s) for s in contents.texts}
        # shortest first: equal scores keep this order (see _ranked)
        passages = sorted(contents.passage_rows(), key=lambda p: len(p[0]))
        _fill(_new_index(passage_schema, work / "passages"), (
            {"sentence": sentence, "source": source.encode(),
             "source_label": sources[source].encode(), "start": start, "end": end,
             "claims": claims.encode()}
            for sentence, source, start, end, claims in passages))
        resources = sorted(contents.resource_rows(),
                           key=lambda r: len(r[0].split(" · ")[0] or r[1]))
        _fill(_new_index(resource_schema, work / "resources"), (
            {"label": label, "name": name, "description": description, "iri": iri.encode(),
             "local": _local_name(iri).lower()}
            for label, name, description, iri in resources))
        report.passages, report.resources = len(passages), len(resources)
        (work / "meta.json").write_text(json.dumps(
            {"layout": LAYOUT, "passages": report.passages, "resources": report.resources}))
        shutil.rmtree(final, ignore_errors=True)
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    report.bytes = sum(p.stat().st_size for p in final.rglob("*") if p.is_file())
    report.seconds = round(time.perf_counter() - started, 4)
    return report


def _passage_rows(texts: dict[str, str], anchors: dict[str, list[tuple[int, int, str]]],
                  label_of: dict[str, str]) -> Iterator[tuple[str, str, int, int, str]]:
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
            claims = sorted(claims_at[i].items(), key=lambda kv: (kv[1] or kv[0], kv[0]))
            yield (_CONTROL.sub(" ", text[start:end]), source, start, end,
                   json.dumps(claims, ensure_ascii=False, separators=(",", ":")))


# -- reading -----------------------------------------------------------------------------


class TextIndex:
    """The index of one version (a folder), opened at its first question and kept open
    by whoever keeps this object: a version's index never changes once published."""

    def __init__(self, folder: Path | str) -> None:
        #: the version's folder
        self.version = Path(folder)
        self.folder = self.version / INDEX_DIR
        self._opened: dict[str, tuple[tantivy.Index, tantivy.Searcher]] = {}

    @property
    def exists(self) -> bool:
        meta = self.folder / "meta.json"
        if not meta.is_file():
            return False
        try:
            return json.loads(meta.read_text()).get("layout") == LAYOUT
        except (OSError, ValueError):
            return False

    def _open(self, name: str) -> tuple[tantivy.Index, tantivy.Searcher]:
        opened = self._opened.get(name)
        if opened is None:
            index = tantivy.Index.open(str(self.folder / name))
            index.register_tokenizer(ANALYZER, _analyzer())
            opened = self._opened[name] = (index, index.searcher())
        return opened

    def passages(self, text: str, limit: int, offset: int = 0) -> list[Passage]:
        """The sentences matching ``text`` (see :func:`parse_search`), best first, with
        their matches marked."""
        terms = parse_search(text)
        index, searcher = self._open("passages")
        query = _query(index.schema, terms, {"sentence": 1.0})
        out = []
        for score, doc in _ranked(searcher, query, limit, offset):
            sentence = doc["sentence"][0]
            out.append(Passage(
                _text(doc, "source"), _text(doc, "source_label"), doc["start"][0],
                doc["end"][0], sentence, _runs(sentence, terms),
                tuple(Claim(iri, label) for iri, label in json.loads(_text(doc, "claims"))),
                score))
        return out

    def resources(self, text: str, limit: int, offset: int = 0) -> list[Resource]:
        """The resources whose labels, local names or descriptions match ``text``; a match
        in a label counts most, then the name, then a description."""
        terms = parse_search(text)
        index, searcher = self._open("resources")
        query = _query(index.schema, terms, BOOSTS)
        out = []
        for score, doc in _ranked(searcher, query, limit, offset):
            label = doc["label"][0] if doc["label"] else ""
            out.append(Resource(_text(doc, "iri"), label.split(" · ")[0], doc["description"][0]
                                if doc["description"] else "", score))
        return out

    def complete(self, prefix: str, limit: int) -> list[Resource]:
        """Resources for an editor's completion of ``prefix``: those whose local name starts
        with it first (shortest label first), then those whose label or name words start
        with its words (best first)."""
        typed = prefix.strip().lower()
        if not typed:
            raise SearchSyntax("nothing typed to complete")
        index, searcher = self._open("resources")
        schema, q = index.schema, tantivy.Query
        # every name that starts so scores alike: in the order indexed, shortest label first
        by_name = q.regex_query(schema, "local", re.escape(typed) + ".*")
        found = searcher.search(by_name, limit).hits
        out, seen = [], set()
        for _, address in found:
            out.append(self._named(searcher.doc(address)))
            seen.add(out[-1].iri)
        words = tuple(_analyzer().analyze(typed))
        if len(out) < limit and words:
            query = _query(schema, [Term(words, True)], {"label": 10.0, "name": 5.0})
            for score, address in searcher.search(query, limit).hits:
                resource = self._named(searcher.doc(address), score)
                if resource.iri not in seen and len(out) < limit:
                    seen.add(resource.iri)
                    out.append(resource)
        return out

    @staticmethod
    def _named(doc: tantivy.Document, score: float = 0.0) -> Resource:
        label = doc["label"][0] if doc["label"] else ""
        return Resource(_text(doc, "iri"), label.split(" · ")[0], "", score)

    def counts(self) -> dict[str, int]:
        """How many passages and resources the index holds."""
        meta = json.loads((self.folder / "meta.json").read_text())
        return {"passages": meta["passages"], "resources": meta["resources"]}


_TOKEN = re.compile(r"[^\W_]+")


def _text(doc: tantivy.Document, name: str) -> str:
    """A stored bytes field's text."""
    return bytes(doc[name][0]).decode()

def _ranked(searcher: tantivy.Searcher, query: tantivy.Query, limit: int, offset: int
            ) -> list[tuple[float, tantivy.Document]]:
    """The hits from ``offset`` on, best first; among equal scores (every word a prefix
    matches scores alike) in the order they were indexed: the shorter label or sentence
    first ("russ*": Russia before the treaties that name it)."""
    return [(score, searcher.doc(address))
            for score, address in searcher.search(query, limit, offset=offset).hits]


def _runs(sentence: str, terms: list[Term]) -> tuple[tuple[str, bool], ...]:
    """The sentence as runs of (text, is a match): each word a term names (a prefix: each
    word that starts so), each phrase whole, words cut and folded as the index cuts them.

    >>> _runs("Iran's drones: Shahed drones, drone parts", parse_search('"shahed dr"* iran'))
    (('Iran', True), ("'s drones: ", False), ('Shahed drones', True), (', drone parts', False))
    """
    analyzer = _analyzer()
    tokens = []
    for m in _TOKEN.finditer(sentence):
        word = m.group()
        if word.isascii() and len(word) <= 40:  # what the analyzer would make of it
            tokens.append((m.start(), m.end(), word.lower()))
            continue
        folded = analyzer.analyze(word)
        tokens.append((m.start(), m.end(), folded[0] if len(folded) == 1 else word.lower()))
    spans = []
    for term in terms:
        n = len(term.words)
        for i in range(len(tokens) - n + 1):
            last = tokens[i + n - 1][2]
            if all(tokens[i + k][2] == term.words[k] for k in range(n - 1)) and (
                    last.startswith(term.words[-1]) if term.prefix else last == term.words[-1]):
                spans.append((tokens[i][0], tokens[i + n - 1][1]))
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(spans):
        if end <= at:
            continue
        start = max(start, at)
        if start > at:
            out.append((sentence[at:start], False))
        if out and out[-1][1] and start == at:
            out[-1] = (out[-1][0] + sentence[start:end], True)
        else:
            out.append((sentence[start:end], True))
        at = end
    if at < len(sentence):
        out.append((sentence[at:], False))
    return tuple(out)
