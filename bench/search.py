"""Full-text search: SQLite FTS5 (what crinkkg uses) against tantivy, on one built store's
stored texts (sentence by sentence) and its resources' labels, descriptions and names.

Both indexes are made from the same rows (read once from the store with
:func:`crinkkg.store.textindex._read`), asked the same queries (single words, several
words, phrases, word prefixes; drawn from the texts and labels themselves, seeded), and
give the same answer: the best 20 sentences with their matches marked and the best 20
resources. FTS5 is measured through :func:`crinkkg.backends.search.search`, the very call
the server makes (it opens the version's index per search); tantivy with one searcher kept
open, its best case. Then the editor's completion (FTS5 only: the server's call). One
client, in-process, warm (every query is run once before the timed rounds)::

    python -m bench.search --store /tmp/synth-500k/store --out bench/results/search-500k.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from crinkkg.backends import search as server_search
from crinkkg.store import textindex
from crinkkg.store.layout import StoreLayout

LIMIT = 20


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95, p99 and the largest, in milliseconds."""
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    return {"n": len(ordered), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "max_ms": round(ordered[-1] * 1000, 3),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 3)}


def draw_queries(texts: dict[str, str], labels: list[str], n: int, seed: int
                 ) -> dict[str, list[str]]:
    """``n`` queries of each kind, drawn from the texts' sentences and the labels."""
    rng = random.Random(seed)
    sources = sorted(texts)
    words_of = re.compile(r"[A-Za-z][A-Za-z]{2,}")
    out: dict[str, list[str]] = {"word": [], "words": [], "phrase": [], "prefix": [],
                                 "label prefix": []}
    while min(len(v) for k, v in out.items() if k != "label prefix") < n:
        text = texts[rng.choice(sources)]
        spans = list(textindex.sentences(text))
        s, e = rng.choice(spans)
        words = words_of.findall(text[s:e])
        if len(words) < 3:
            continue
        i = rng.randrange(len(words) - 2)
        if len(out["word"]) < n:
            out["word"].append(words[i])
        if len(out["words"]) < n:
            out["words"].append(f"{words[i]} {words[-1]}")
        if len(out["phrase"]) < n:
            out["phrase"].append(f'"{words[i]} {words[i + 1]} {words[i + 2]}"')
        if len(out["prefix"]) < n and len(words[i + 1]) >= 4:
            out["prefix"].append(words[i + 1][:rng.randint(3, 4)] + "*")
    for _ in range(n):
        label = rng.choice(labels)
        first = (words_of.findall(label) or ["state"])[0]
        out["label prefix"].append(first[:rng.randint(3, len(first))] + "*")
    return out


# -- tantivy --------------------------------------------------------------------------------


class Tantivy:
    """The same two indexes in tantivy: passages and resources, as FTS5 has them."""

    def __init__(self, folder: Path, passages: list[tuple], resources: list[tuple]) -> None:
        import tantivy

        self.t = tantivy
        pb = tantivy.SchemaBuilder()
        pb.add_text_field("sentence", stored=True)
        pb.add_text_field("source", stored=True, tokenizer_name="raw")
        pb.add_integer_field("start", stored=True)
        pb.add_integer_field("end", stored=True)
        pb.add_text_field("claims", stored=True, tokenizer_name="raw")
        self.pschema = pb.build()
        rb = tantivy.SchemaBuilder()
        for name in ("label", "name", "description"):
            rb.add_text_field(name, stored=True)
        rb.add_text_field("iri", stored=True, tokenizer_name="raw")
        self.rschema = rb.build()
        (folder / "p").mkdir()
        (folder / "r").mkdir()
        self.pindex = tantivy.Index(self.pschema, path=str(folder / "p"))
        self.rindex = tantivy.Index(self.rschema, path=str(folder / "r"))
        writer = self.pindex.writer(heap_size=200_000_000, num_threads=1)
        for sentence, source, start, end, claims in passages:
            writer.add_document(tantivy.Document(sentence=sentence, source=source,
                                                 start=start, end=end, claims=claims))
        writer.commit()
        writer.wait_merging_threads()
        writer = self.rindex.writer(heap_size=200_000_000, num_threads=1)
        for label, name, description, iri in resources:
            writer.add_document(tantivy.Document(label=label, name=name,
                                                 description=description, iri=iri))
        writer.commit()
        writer.wait_merging_threads()
        self.pindex.reload()
        self.rindex.reload()
        self.psearcher = self.pindex.searcher()
        self.rsearcher = self.rindex.searcher()

    def _query(self, schema, fields: list[str], text: str):
        """The same meaning as :func:`crinkkg.store.textindex.fts_query`: every term must
        occur (in any of ``fields``); a phrase; a prefix."""
        t = self.t
        must = []
        for m in re.finditer(r'"([^"]*)"(\*?)|(\S+)', text):
            phrase, star, word = m.group(1), m.group(2), m.group(3)
            if word is not None:
                star, phrase = ("*" if word.endswith("*") else ""), word.rstrip("*")
            words = re.findall(r"\w+", phrase.lower())
            if not words:
                continue
            alternatives = []
            for f in fields:
                if star and len(words) == 1:
                    alternatives.append(t.Query.regex_query(schema, f, re.escape(words[0]) +
                                                            ".*"))
                elif star:
                    alternatives.append(t.Query.phrase_prefix_query(schema, f, words))
                elif len(words) == 1:
                    alternatives.append(t.Query.term_query(schema, f, words[0]))
                else:
                    alternatives.append(t.Query.phrase_query(schema, f, words))
            must.append((t.Occur.Must, t.Query.boolean_query(
                [(t.Occur.Should, q) for q in alternatives])))
        return t.Query.boolean_query(must)

    def search(self, text: str) -> dict:
        query = self._query(self.pschema, ["sentence"], text)
        hits = self.psearcher.search(query, LIMIT).hits
        snippets = self.t.SnippetGenerator.create(self.psearcher, query, self.pschema,
                                                  "sentence")
        passages = []
        for score, address in hits:
            doc = self.psearcher.doc(address)
            passages.append((doc["source"][0], doc["start"][0], doc["end"][0],
                             snippets.snippet_from_doc(doc).to_html(),
                             json.loads(doc["claims"][0]), score))
        query = self._query(self.rschema, ["label", "name", "description"], text)
        resources = [(self.rsearcher.doc(a)["iri"][0], s)
                     for s, a in self.rsearcher.search(query, LIMIT).hits]
        return {"passages": passages, "resources": resources}


# -- the run --------------------------------------------------------------------------------


def timed(run: Callable[[str], object], queries: list[str], rounds: int) -> list[float]:
    for q in queries:  # warm: the OS cache, the interpreter's
        run(q)
    samples = []
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            run(q)
            samples.append(time.perf_counter() - started)
    return samples


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, required=True, help="a built store (its link)")
    ap.add_argument("--queries", type=int, default=100, help="queries of each kind")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-tantivy", action="store_true")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    version = StoreLayout(args.store.absolute()).current()
    assert version is not None, f"no built store at {args.store}"
    store = ox.Store.read_only(str(version / "db"))
    work = Path(tempfile.mkdtemp(prefix="crinkkg-search-bench-"))
    result: dict = {"store": str(args.store), "quads": len(store), "limit": LIMIT}
    try:
        started = time.perf_counter()
        found, texts, anchors = textindex._read(store)
        read = time.perf_counter() - started
        label_of = {iri: textindex._first(labels) for iri, (labels, _) in found.items()}
        report = textindex.IndexReport()
        passages = list(textindex._passage_rows(texts, anchors, label_of, report))
        resources = [(" · ".join(sorted({v[0] for v in labels})),
                      re.sub(r"[\W_]+", " ", textindex._local_name(iri)),
                      " · ".join(sorted(set(d))), iri) for iri, (labels, d) in found.items()]
        result["rows"] = {"texts": len(texts), "text_chars": sum(map(len, texts.values())),
                          "passages": len(passages), "resources": len(resources),
                          "read_from_store_s": round(read, 2)}
        print(json.dumps(result["rows"]))

        (work / "fts5").mkdir()
        started = time.perf_counter()
        written = textindex.write_index(store, work / "fts5")
        fts_build = time.perf_counter() - started - read  # write_index reads again
        result["fts5"] = {"build_s": round(fts_build, 2),
                          "bytes": written.bytes}
        queries = draw_queries(texts, [r[0] for r in resources if r[0]], args.queries,
                               args.seed)
        result["queries"] = {k: v[:5] for k, v in queries.items()}
        folder = work / "fts5"

        def fts(q: str) -> dict:
            return server_search.search(folder, q, limit=LIMIT)

        result["fts5"]["search"] = {k: percentiles(timed(fts, v, args.rounds))
                                    for k, v in queries.items()}
        every = [q for v in queries.values() for q in v]
        result["fts5"]["search"]["all"] = percentiles(timed(fts, every, args.rounds))
        result["fts5"]["hits"] = sum(len(fts(q)["passages"]) + len(fts(q)["resources"])
                                     for q in every)
        names = [textindex._local_name(r[3])[:n] for r in resources[:: max(1, len(resources)
                                                                          // 300)]
                 for n in (3, 6)]
        result["fts5"]["complete"] = percentiles(timed(
            lambda p: server_search.complete(folder, p, limit=LIMIT), names, args.rounds))
        print("fts5", json.dumps(result["fts5"]))

        if not args.no_tantivy:
            (work / "tantivy").mkdir()
            started = time.perf_counter()
            tv = Tantivy(work / "tantivy", passages, resources)
            result["tantivy"] = {"build_s": round(time.perf_counter() - started, 2),
                                 "bytes": _size(work / "tantivy")}
            result["tantivy"]["search"] = {k: percentiles(timed(tv.search, v, args.rounds))
                                           for k, v in queries.items()}
            result["tantivy"]["search"]["all"] = percentiles(timed(tv.search, every,
                                                                   args.rounds))
            result["tantivy"]["hits"] = sum(len(tv.search(q)["passages"]) +
                                            len(tv.search(q)["resources"]) for q in every)
            print("tantivy", json.dumps(result["tantivy"]))
    finally:
        del store
        shutil.rmtree(work, ignore_errors=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
