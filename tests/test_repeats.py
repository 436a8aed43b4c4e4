"""A query a worker answered quickly is answered in the HTTP process when asked again on
the same store version (crinkkg.backends.embedded.repeats), with the worker's bytes.

First the bookkeeping alone, then a real backend (worker processes, the curated build):
every bundled competency query, in each view and in three formats, is answered in the
process the second time with the same bytes as the worker's first answer; a slow query
and a query that fails are never answered there; a new store version starts again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crinkkg.backends.embedded.backend import EmbeddedBackend
from crinkkg.backends.embedded.repeats import SLOWER, Repeats
from crinkkg.problems import Problem
from crinkkg.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
QUERIES = sorted((ROOT / "src" / "crinkkg" / "queries").glob("*.rq"))
JOB = ("query", "SELECT * { ?s ?p ?o }", "all", None, None, None, None, None, 10)

# -- the bookkeeping ---------------------------------------------------------------------------


def test_only_cheap_small_answers_are_kept() -> None:
    repeats = Repeats(limit=0.005, max_bytes=100)
    repeats.worker_answered(JOB, "v1", 0.006, b"x")  # too slow
    assert repeats.cheap(JOB, "v1") is None
    repeats.worker_answered(JOB, "v1", 0.001, b"x" * 101)  # too big
    assert repeats.cheap(JOB, "v1") is None
    repeats.worker_answered(JOB, "v1", 0.001, b"x")
    assert repeats.cheap(JOB, "v1") is not None
    assert repeats.cheap(JOB, "v2") is None  # another store version
    assert repeats.cheap((*JOB[:-1], 11), "v1") is None  # another request


def test_the_first_answer_here_must_match_the_workers() -> None:
    repeats = Repeats(limit=0.005, max_bytes=100)
    store, copy = object(), object()
    repeats.worker_answered(JOB, "v1", 0.001, b"answer")
    known = repeats.cheap(JOB, "v1")
    assert known is not None
    assert repeats.answered_here(known, store, b"answer", 0.001)
    assert repeats.answered_here(known, store, b"answer", 0.001)
    assert repeats.answered == 2
    # another store (a memory copy made since) is checked again; a different answer
    # sends the request back to the workers for this version
    assert not repeats.answered_here(known, copy, b"other order", 0.001)
    assert repeats.cheap(JOB, "v1") is None
    repeats.worker_answered(JOB, "v1", 0.001, b"answer")  # what was learnt is kept
    assert repeats.cheap(JOB, "v1") is None
    repeats.worker_answered(JOB, "v2", 0.001, b"answer")  # a new version starts again
    assert repeats.cheap(JOB, "v2") is not None


def test_a_slow_answer_here_is_not_trusted() -> None:
    repeats = Repeats(limit=0.005, max_bytes=100)
    repeats.worker_answered(JOB, "v1", 0.001, b"answer")
    known = repeats.cheap(JOB, "v1")
    assert known is not None
    assert not repeats.answered_here(known, object(), b"answer", SLOWER * 0.005 + 0.001)
    assert repeats.cheap(JOB, "v1") is None


def test_the_least_recently_used_go_first() -> None:
    repeats = Repeats(limit=0.005, max_bytes=100, capacity=2)
    jobs = [(*JOB[:-1], n) for n in range(3)]
    repeats.worker_answered(jobs[0], "v1", 0.001, b"a")
    repeats.worker_answered(jobs[1], "v1", 0.001, b"b")
    assert repeats.cheap(jobs[0], "v1") is not None  # used: jobs[1] is now the oldest
    repeats.worker_answered(jobs[2], "v1", 0.001, b"c")
    assert repeats.cheap(jobs[1], "v1") is None
    assert repeats.cheap(jobs[0], "v1") is not None
    assert repeats.cheap(jobs[2], "v1") is not None


# -- a real backend ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def backend(built_store, project_settings: Settings) -> Iterator[EmbeddedBackend]:
    # a limit no bundled query misses on a loaded machine: what is checked is the bytes
    settings = project_settings.with_(query_workers=1, inline_repeat_ms=2000.0,
                                      inline_bytes=4_000_000)
    found = EmbeddedBackend(settings, local_quads=1_000_000)
    deadline = time.monotonic() + 60  # the process's memory copy, as a worker has its own
    while found.health()["in_process_answers_from"] != "memory":
        assert time.monotonic() < deadline, "the memory copy was never made"
        time.sleep(0.05)
    yield found
    found.close()


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name[:2])
def test_a_query_asked_again_gets_the_workers_bytes(backend: EmbeddedBackend,
                                                    query: Path) -> None:
    sparql = query.read_text(encoding="utf-8")
    assert backend.repeats is not None
    for view in ("all", "asserted", "inferred"):
        for accept in ("application/sparql-results+json", "text/csv",
                       "application/sparql-results+xml"):
            first = backend.query(sparql, view=view, accept=accept)
            before = backend.repeats.answered
            again = [backend.query(sparql, view=view, accept=accept) for _ in range(2)]
            assert [r.body for r in again] == [first.body] * 2, (view, accept)
            assert backend.repeats.answered == before + 2, (view, accept)


def test_a_slow_query_always_goes_to_a_worker(built_store, project_settings: Settings) -> None:
    settings = project_settings.with_(query_workers=1, inline_repeat_ms=0.001)
    found = EmbeddedBackend(settings)
    try:
        sparql = QUERIES[0].read_text(encoding="utf-8")
        for _ in range(3):
            found.query(sparql)
        assert found.repeats is not None and found.repeats.answered == 0
    finally:
        found.close()


def test_a_failed_query_is_not_kept(backend: EmbeddedBackend) -> None:
    assert backend.repeats is not None
    before = backend.repeats.answered
    for _ in range(2):
        with pytest.raises(Problem) as caught:
            backend.query("SELECT ?x WHERE { ?x ?p ?o }", max_rows=1)
        assert caught.value.kind == "too-many-results"
    assert backend.repeats.answered == before


def test_switched_off(built_store, project_settings: Settings) -> None:
    found = EmbeddedBackend(project_settings.with_(inline_repeat_ms=0), start=False)
    assert found.repeats is None
