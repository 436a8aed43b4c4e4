"""Full-text search: tantivy (what crinkkg uses) against SQLite FTS5, on one built store's
stored texts (sentence by sentence) and its resources' labels, descriptions and names.

Both indexes are made from the same rows (read once from the store with
:func:`crinkkg.store.textindex.read_contents`), asked the same queries (single words,
several words, phrases, word prefixes; drawn from the texts and labels themselves, seeded,
parsed once by :func:`crinkkg.store.textindex.parse_search`), and give the same answer:
the best 20 sentences with their matches marked and the best 20 resources. tantivy is
measured through :func:`crinkkg.backends.search.search`, the very call a query worker
makes, with the version's index kept open between searches as a worker keeps it; FTS5
opening its file per search (what an SQLite connection costs: well under a millisecond).
Then the editor's completion (the server's call). One client, in-process, warm (every
query is run once before the timed rounds)::

    python -m bench.search --store /tmp/synth-500k/store --out bench/results/search-500k.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sqlite3
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


# -- SQLite FTS5, the other candidate ---------------------------------------------------------


def fts_query(terms: list[textindex.Term]) -> str:
    """The FTS5 query with the meaning of :func:`crinkkg.store.textindex.parse_search`."""
    return " ".join('"' + " ".join(t.words) + '"' + ("*" if t.prefix else "") for t in terms)


class Fts5:
    """The same two indexes in SQLite FTS5 (unicode61 folding case and accents, prefix
    indexes for 2 to 4 characters, the resources' fields weighted 10, 5 and 1 as tantivy's
    are boosted), ranked by BM25 on the index alone and read for the best hits only."""

    def __init__(self, path: Path, contents: textindex.Contents) -> None:
        self.path = path
        db = sqlite3.connect(path)
        db.executescript("""
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE VIRTUAL TABLE passages USING fts5(sentence, source UNINDEXED,
                start UNINDEXED, "end" UNINDEXED, claims UNINDEXED,
                tokenize='unicode61 remove_diacritics 2', prefix='2 3 4');
            CREATE VIRTUAL TABLE resources USING fts5(label, name, description,
                iri UNINDEXED, tokenize='unicode61 remove_diacritics 2', prefix='2 3 4');
            INSERT INTO resources(resources, rank) VALUES ('rank', 'bm25(10.0, 5.0, 1.0)');
        """)
        db.executemany('INSERT INTO passages VALUES (?,?,?,?,?)', contents.passage_rows())
        db.executemany("INSERT INTO resources VALUES (?,?,?,?)", contents.resource_rows())
        for table in ("passages", "resources"):
            db.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
        db.commit()
        db.close()

    def search(self, text: str) -> dict:
        # opened per search, as the server opens its index per question
        db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True)
        try:
            q = fts_query(textindex.parse_search(text))
            passages = db.execute(
                """WITH top(id, score) AS (SELECT rowid, rank FROM passages
                     WHERE passages MATCH :q ORDER BY rank LIMIT :n)
                   SELECT highlight(passages, 0, '[', ']'), source, start, "end", claims,
                          top.score FROM top JOIN passages ON passages.rowid = top.id
                   WHERE passages MATCH :q ORDER BY top.score""",
                {"q": q, "n": LIMIT}).fetchall()
            resources = db.execute(
                """WITH top(id, score) AS (SELECT rowid, rank FROM resources
                     WHERE resources MATCH :q ORDER BY rank LIMIT :n)
                   SELECT iri, label, top.score FROM top
                   JOIN resources ON resources.rowid = top.id ORDER BY top.score""",
                {"q": q, "n": LIMIT}).fetchall()
        finally:
            db.close()
        return {"passages": passages, "resources": resources}


# -- the run --------------------------------------------------------------------------------


def _hits(run: Callable[[str], dict], queries: list[str]) -> int:
    """How many hits the queries give in all (the same for both indexes when they mean the
    same)."""
    total = 0
    for q in queries:
        found = run(q)
        total += len(found["passages"]) + len(found["resources"])
    return total


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
    ap.add_argument("--no-fts5", action="store_true", help="measure tantivy alone")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    version = StoreLayout(args.store.absolute()).current()
    assert version is not None, f"no built store at {args.store}"
    store = ox.Store.read_only(str(version / "db"))
    work = Path(tempfile.mkdtemp(prefix="crinkkg-search-bench-"))
    result: dict = {"store": str(args.store), "quads": len(store), "limit": LIMIT}
    try:
        started = time.perf_counter()
        contents = textindex.read_contents(store)
        read = time.perf_counter() - started
        passages, resources = contents.passage_rows(), contents.resource_rows()
        texts = contents.texts
        result["rows"] = {"texts": len(texts), "text_chars": sum(map(len, texts.values())),
                          "passages": len(passages), "resources": len(resources),
                          "read_from_store_s": round(read, 2)}
        print(json.dumps(result["rows"]))

        started = time.perf_counter()
        written = textindex.write_contents(contents, work)
        result["tantivy"] = {"build_s": round(time.perf_counter() - started, 2),
                             "bytes": written.bytes}
        queries = draw_queries(texts, [r[0] for r in resources if r[0]], args.queries,
                               args.seed)
        result["queries"] = {k: v[:5] for k, v in queries.items()}
        every = [q for v in queries.values() for q in v]

        served_index = server_search.Indexes().of(work)  # as a query worker keeps it

        def served(q: str) -> dict:
            return server_search.search(served_index, q, limit=LIMIT)

        result["tantivy"]["search"] = {k: percentiles(timed(served, v, args.rounds))
                                       for k, v in queries.items()}
        result["tantivy"]["search"]["all"] = percentiles(timed(served, every, args.rounds))
        result["tantivy"]["hits"] = _hits(served, every)
        names = [textindex._local_name(r[3])[:n] for r in resources[:: max(1, len(resources)
                                                                          // 300)]
                 for n in (3, 6)]
        result["tantivy"]["complete"] = percentiles(timed(
            lambda p: server_search.complete(served_index, p, limit=LIMIT), names,
            args.rounds))
        print("tantivy", json.dumps(result["tantivy"]))

        if not args.no_fts5:
            started = time.perf_counter()
            fts = Fts5(work / "fts5.sqlite", contents)
            result["fts5"] = {"build_s": round(time.perf_counter() - started, 2),
                              "bytes": (work / "fts5.sqlite").stat().st_size}
            result["fts5"]["search"] = {k: percentiles(timed(fts.search, v, args.rounds))
                                        for k, v in queries.items()}
            result["fts5"]["search"]["all"] = percentiles(timed(fts.search, every,
                                                                args.rounds))
            result["fts5"]["hits"] = _hits(fts.search, every)
            print("fts5", json.dumps(result["fts5"]))
    finally:
        del store
        shutil.rmtree(work, ignore_errors=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
