"""Pages and linked-data answers kept per store version (``--answer-cache-mb``): a repeated
request gets the same answer (headers, body, metrics), and a write is seen at once
because a new store version gives every request a new tag."""

from __future__ import annotations

import pytest
import requests
from servers import start_server
from test_build import make_project

TOKEN = "answer-cache-token-0123456789"
FACTS = "https://w3id.org/crinkkg/graph/data/facts"
PAGE = "/id/t1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("answers")
    make_project(root)
    with start_server(root / ".crinkkg" / "store", "--enable-update",
                      ontology=root / "ontology", data=root / "data",
                      env={"CRINKKG_UPDATE_TOKEN": TOKEN}) as handle:
        yield handle


def get(server, path: str, accept: str = "text/html", **headers: str) -> requests.Response:
    return requests.get(server.url + path, headers={"Accept": accept, **headers}, timeout=30)


def test_a_repeated_request_gets_the_same_answer(server) -> None:
    for accept in ("text/html", "text/turtle", "application/ld+json"):
        first, second = get(server, PAGE, accept), get(server, PAGE, accept)
        assert first.status_code == second.status_code == 200
        assert first.content == second.content
        assert first.headers["ETag"] == second.headers["ETag"]
        for name in ("Content-Type", "Cache-Control", "Vary", "X-Content-Type-Options"):
            assert first.headers.get(name) == second.headers.get(name), name
    gzipped = get(server, PAGE, **{"Accept-Encoding": "gzip"})
    plain = get(server, PAGE, **{"Accept-Encoding": "identity"})
    assert gzipped.content == plain.content  # requests decodes: the same page either way
    head = requests.head(server.url + PAGE, headers={"Accept": "text/html"}, timeout=30)
    assert head.status_code == 200 and head.content == b""
    cors = get(server, PAGE, Origin="https://example.org")
    assert cors.headers.get("Access-Control-Allow-Origin")  # added per request, after


def test_a_write_is_seen_at_once(server) -> None:
    before = get(server, PAGE)
    assert "renamed transfer" not in before.text
    r = requests.post(server.sparql, timeout=120, headers={
        "Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}, data={
        "update": f'INSERT DATA {{ GRAPH <{FACTS}> {{ id:t1 rdfs:label "renamed transfer" }} }}'})
    assert r.status_code == 200, r.text
    after = get(server, PAGE)
    assert "renamed transfer" in after.text
    assert after.headers["ETag"] != before.headers["ETag"]


def test_answers_from_the_kept_store_are_counted_as_their_route(server) -> None:
    def count() -> float:
        text = requests.get(server.url + "/metrics", timeout=30).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("crinkkg_http_requests_total")
                   and 'endpoint="/id/<path:name>"' in line and 'status="200"' in line)

    get(server, PAGE)
    before = count()
    for _ in range(3):
        assert get(server, PAGE).status_code == 200
    assert count() == before + 3


@pytest.mark.parametrize("megabytes,queries_again", [(16, False), (0, True)])
def test_a_kept_answer_runs_no_query(tmp_path, megabytes, queries_again) -> None:
    from crinkkg.backends.embedded.direct import DirectBackend
    from crinkkg.build.pipeline import build
    from crinkkg.web import create_app

    settings = make_project(tmp_path).with_(answer_cache_mb=megabytes)
    build(settings, root=tmp_path)
    backend = DirectBackend(settings)
    backend.start()
    asked: list[str] = []
    query = backend.query

    def counted(sparql: str, **options):
        asked.append(sparql)
        return query(sparql, **options)

    backend.query = counted  # type: ignore[method-assign]
    client = create_app(settings, backend).test_client()
    first = client.get(PAGE, headers={"Accept": "text/html"})
    made = len(asked)
    assert first.status_code == 200 and made > 0
    again = client.get(PAGE, headers={"Accept": "text/html"})
    assert again.data == first.data
    assert (len(asked) > made) is queries_again
