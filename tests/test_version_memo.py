"""The per-version memo (crinkkg.web.versioned): a value is computed once per store version,
again after the version changes, never more values kept than its cap, and once however
many threads ask for it at the same time."""

from __future__ import annotations

import threading

import pytest

from crinkkg.web.versioned import VersionMemo


class Versions:
    """A version the test moves on by hand (what a publish does to the store's)."""

    def __init__(self) -> None:
        self.name = "v1"

    def __call__(self) -> str:
        return self.name


def counting(value: object) -> tuple[list[int], object]:
    calls = [0]

    def compute() -> object:
        calls[0] += 1
        return value

    return calls, compute


def test_a_value_is_computed_once_per_version() -> None:
    version = Versions()
    memo = VersionMemo(version)
    calls, compute = counting("labels")
    assert [memo.get("k", compute) for _ in range(5)] == ["labels"] * 5
    assert calls == [1]
    version.name = "v2"
    assert memo.get("k", compute) == "labels" and calls == [2]
    assert memo.get("k", compute) == "labels" and calls == [2]


def test_a_new_version_drops_what_the_older_one_kept() -> None:
    version = Versions()
    memo = VersionMemo(version)
    for i in range(10):
        memo.get(i, lambda i=i: i)
    assert len(memo) == 10
    version.name = "v2"
    assert memo.get("other", lambda: 0) == 0
    assert len(memo) == 1


def test_the_version_is_read_before_the_value_is_computed() -> None:
    """A value read while the version moved on is filed under the version read first: the
    requests of the new version compute their own."""
    version = Versions()
    memo = VersionMemo(version)

    def publish_while_reading() -> str:
        version.name = "v2"
        return "read during the publish"

    assert memo.get("k", publish_while_reading) == "read during the publish"
    assert memo.get("k", lambda: "v2's value") == "v2's value"


def test_the_cap_is_respected_least_recently_used_first() -> None:
    memo = VersionMemo(Versions(), max_entries=3)
    for key in "abc":
        memo.get(key, lambda key=key: key)
    memo.get("a", lambda: "not again")  # a is used again: b is the oldest now
    memo.get("d", lambda: "d")
    assert len(memo) == 3
    calls, compute = counting("b again")
    assert memo.get("b", compute) == "b again" and calls == [1]
    assert memo.get("a", lambda: "not again") == "a"
    assert len(memo) == 3


def test_the_cap_in_bytes_is_respected() -> None:
    """Values of their callers' estimated sizes: the oldest go first past ``max_bytes``."""
    memo = VersionMemo(Versions(), max_bytes=1000)
    for key in range(5):
        memo.get(key, lambda key=key: "x" * 300, size=len)
    assert memo.kept_bytes <= 1000 and len(memo) == 3
    calls, compute = counting("again")
    assert memo.get(0, compute) == "again" and calls == [1]  # dropped: computed again
    assert memo.get(4, compute) == "x" * 300 and calls == [1]  # the newest is kept
    memo.get("huge", lambda: "y" * 5000, size=len)  # larger than the cap: kept alone
    assert len(memo) == 1 and memo.get("huge", compute) == "y" * 5000


def test_many_computes_only_what_is_missing_in_one_call() -> None:
    version = Versions()
    memo = VersionMemo(version)
    asked: list[list[str]] = []

    def labels(keys: list[str]) -> dict[str, str]:
        asked.append(list(keys))
        return {k: k.upper() for k in keys if k != "nameless"}

    assert memo.many(["a", "b", "nameless"], labels, None) == \
        {"a": "A", "b": "B", "nameless": None}
    assert memo.many(["b", "c", "a", "c"], labels, None) == {"b": "B", "c": "C", "a": "A"}
    assert asked == [["a", "b", "nameless"], ["c"]]
    assert memo.many(["a"], labels, None) == {"a": "A"} and len(asked) == 2
    version.name = "v2"
    memo.many(["a"], labels, None)
    assert asked[-1] == ["a"]


def test_a_failure_is_not_kept() -> None:
    memo = VersionMemo(Versions())

    def fails() -> str:
        raise RuntimeError("the store is down")

    with pytest.raises(RuntimeError):
        memo.get("k", fails)
    with pytest.raises(RuntimeError):
        memo.many(["x"], lambda keys: fails(), None)
    assert memo.get("k", lambda: "up again") == "up again"
    assert memo.many(["x"], lambda keys: {"x": 1}, None) == {"x": 1}


def test_threads_asking_at_once_compute_the_value_once() -> None:
    memo = VersionMemo(Versions())
    started = threading.Event()
    release = threading.Event()
    calls = [0]
    lock = threading.Lock()

    def slow() -> str:
        with lock:
            calls[0] += 1
        started.set()
        release.wait(10)
        return "network"

    results: list[str] = []

    def ask() -> None:
        results.append(memo.get("overview", slow))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    threads[0].start()
    assert started.wait(10)
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(10)
    assert results == ["network"] * 16
    assert calls == [1]


def test_threads_hammering_many_keys_and_versions_stay_consistent() -> None:
    """Under concurrent use and version switches every answer is the value of its key
    for the version it was computed under, and the cap holds."""
    version = Versions()
    memo = VersionMemo(version, max_entries=50)
    errors: list[str] = []

    def work(n: int) -> None:
        for i in range(300):
            key = (n * 7 + i) % 80
            seen = version()
            got = memo.get(key, lambda key=key, seen=seen: (key, seen))
            if got[0] != key:
                errors.append(f"{key} gave {got}")
            many = memo.many([key, key + 1], lambda keys, seen=seen: {k: (k, seen) for k in keys},
                             None)
            if [v[0] for v in many.values()] != [key, key + 1]:
                errors.append(f"{key} gave {many}")
            if n == 0 and i % 50 == 0:
                version.name = f"v{i}"

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(memo) <= 50 + 8 * 2  # values being computed may pass the cap for a moment


# -- over real HTTP: a new store version is seen at once --------------------------------------

TOKEN = "version-memo-token-0123456789"
BROWSER = "text/html"
NEW_STATE = "https://w3id.org/crinkkg/graph/data/testland"


def test_pages_show_the_new_version_at_once(tmp_path) -> None:
    """Pages made from what the memo keeps (labels, the support graph, the overview and
    its layout, stored texts) follow an update at once, in every HTTP process: nothing
    of the older version is served (no answer is kept, so every page is made)."""
    import requests
    from servers import start_server

    def page(srv, path: str) -> str:
        r = requests.get(srv.url + path, headers={"Accept": BROWSER}, timeout=60)
        assert r.status_code == 200, (path, r.status_code)
        return r.text

    def select(srv, query: str) -> list[dict]:
        r = requests.get(srv.sparql, params={"query": query}, timeout=60,
                         headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200, r.text
        return r.json()["results"]["bindings"]

    with start_server(tmp_path / "store", "--enable-update", "--answer-cache-mb", "0",
                      env={"CRINKKG_UPDATE_TOKEN": TOKEN}, timeout=120) as srv:
        claim = select(srv, "PREFIX oa: <http://www.w3.org/ns/oa#> SELECT ?x WHERE { "
                            "?x crink:statedIn/oa:hasSource id:source-crink-article ; "
                            "a crink:ArmsTransfer ; crink:recipient id:russia } ORDER BY ?x "
                            "LIMIT 1")[0]["x"]["value"]
        claim_path = "/" + claim.split("/crinkkg/", 1)[1]
        paths = ["/", "/?min-fact-sources=1", "/id/russia", claim_path,
                 "/id/source-crink-article"]
        for _ in range(4):  # every page made, and kept in the memo of each HTTP process
            for path in paths:
                assert "Iran (renamed)" not in page(srv, path)
                assert "A renamed claim" not in page(srv, path)
        assert 'href="/id/testland"' not in page(srv, "/")
        r = requests.post(srv.sparql, timeout=120, headers={
            "Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}, data={
            "update": f"""
DELETE {{ GRAPH ?g {{ id:iran rdfs:label ?l }} }}
INSERT {{ GRAPH ?g {{ id:iran rdfs:label "Iran (renamed)"@en }} }}
WHERE {{ GRAPH ?g {{ id:iran rdfs:label ?l }} }} ;
DELETE {{ GRAPH ?g {{ <{claim}> rdfs:label ?l }} }}
INSERT {{ GRAPH ?g {{ <{claim}> rdfs:label "A renamed claim"@en }} }}
WHERE {{ GRAPH ?g {{ <{claim}> rdfs:label ?l }} }} ;
INSERT DATA {{ GRAPH <{NEW_STATE}> {{ id:testland a crink:State ;
    rdfs:label "Testland"@en ;
    skos:exactMatch <http://www.wikidata.org/entity/Q999999999> }} }}"""})
        assert r.status_code == 200, r.text
        for _ in range(4):
            overview = page(srv, "/")
            # the network's labels and nodes, its layout and interactive view
            assert "Iran (renamed)" in overview and 'href="/id/testland"' in overview
            assert '"label": "Iran (renamed)"' in overview
            assert "Iran (renamed)" in page(srv, "/?min-fact-sources=1")
            # labels read through the memo: the states Russia is compared with, the
            # derived links' support, the claims behind inferred links
            russia = page(srv, "/id/russia")
            assert "Iran (renamed)" in russia
            assert ">Iran<" not in russia
            assert "Iran (renamed)" in page(srv, claim_path)
            # the claims anchored in a stored text, by their labels
            assert "A renamed claim" in page(srv, "/id/source-crink-article")


def test_pages_over_a_remote_store_follow_its_published_version(oxigraph, tmp_path) -> None:
    """Over a remote store the memo follows the published version (its manifest): a
    label renamed by a write is on the next page made, in every HTTP process."""
    import requests
    from servers import backend_args, empty_project, publish, start_server

    ontology, data, store = empty_project(tmp_path)
    (data / "facts.ttl").write_text(
        "<https://w3id.org/crinkkg/id/a> <http://www.w3.org/2000/01/rdf-schema#label> \"A\" .\n"
        "<https://w3id.org/crinkkg/id/b> <https://w3id.org/crinkkg/ontology#near> "
        "<https://w3id.org/crinkkg/id/a> .\n")
    publish(oxigraph, store, ontology, data)
    with start_server(store, "--enable-update", "--answer-cache-mb", "0", ontology=ontology,
                      data=data, global_args=backend_args(oxigraph),
                      env={"CRINKKG_UPDATE_TOKEN": TOKEN}) as srv:
        def page(path: str) -> str:
            r = requests.get(srv.url + path, headers={"Accept": BROWSER}, timeout=60)
            assert r.status_code == 200, (path, r.status_code)
            return r.text

        for _ in range(4):
            assert ">A<" in page("/id/b") and "A, renamed" not in page("/id/b")
        r = requests.post(srv.sparql, timeout=120, headers={
            "Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}, data={
            "update": "DELETE { GRAPH ?g { id:a rdfs:label ?l } } "
                      'INSERT { GRAPH ?g { id:a rdfs:label "A, renamed" } } '
                      "WHERE { GRAPH ?g { id:a rdfs:label ?l } }"})
        assert r.status_code == 200, r.text
        for _ in range(4):
            assert "A, renamed" in page("/id/b") and "A, renamed" in page("/id/a")
