"""The ``/sparql`` handler's remembered plans answer exactly what a fresh plan answers.

Every request to ``/sparql`` takes one pipeline (``crinkkg.web.pipeline``): the guard, the
validators, the one handler, whose first step is the plan it remembers for a repeated
``GET`` (the operation, its checks, the base IRI, page or results), then the one function
that adds the shared headers. For every kind of request a client sends (lookups in each
result format, with and without CORS, gzip, conditional headers, unknown hosts, volatile
queries, other parameters, errors, pages), a request answered from a remembered plan must
give the same status, headers (``Server-Timing`` aside: it is a measurement), body and
log line as the same request planned afresh; a browser's request must reach the query
page's Flask route; a POST must answer as the GET it equals.
"""

from __future__ import annotations

import gzip
import io
import re
import time
from urllib.parse import urlencode

import pytest
from werkzeug.test import EnvironBuilder

from crinkkg.backends.embedded.backend import EmbeddedBackend
from crinkkg.web import create_app

ID = "https://w3id.org/crinkkg/id/"
LOOKUP = f"SELECT ?p ?o WHERE {{ <{ID}china> ?p ?o }}"
SMALL = f"ASK {{ <{ID}china> ?p ?o }}"
PREFIXED = "PREFIX id: <https://w3id.org/crinkkg/id/>\nSELECT ?p ?o WHERE { id:russia ?p ?o }"
UNDECLARED = "SELECT ?o WHERE { id:iran rdfs:label ?o }"  # the server's own prefixes
JOIN = f"SELECT ?p ?q WHERE {{ <{ID}china> ?p ?o . ?o ?q ?r }} LIMIT 5"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def served(built_store, project_settings):
    """One app over one backend, with its access log."""
    settings = project_settings.with_(query_workers=1)
    backend = EmbeddedBackend(settings, local_quads=1_000_000)
    deadline = time.monotonic() + 60  # compare in a steady state: the copy answers both
    while backend.health()["in_process_answers_from"] != "memory":
        assert time.monotonic() < deadline, "the memory copy was never made"
        time.sleep(0.05)
    log = io.StringIO()
    app = create_app(settings, backend, access_log=log)
    yield app, log
    backend.close()


def call(wsgi, method: str = "GET", query: dict | None = None, **headers: str):
    environ = EnvironBuilder(path="/sparql", method=method, query_string=urlencode(query or {}),
                             headers={"Host": "localhost:8000", **headers}).get_environ()
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, list(response_headers)

    body = wsgi(environ, start_response)
    data = b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return seen["status"], seen["headers"], data


def comparable(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, re.sub(r"dur=[\d.]+", "dur=*", v) if k == "Server-Timing" else v)
            for k, v in headers]


def last_line(log: io.StringIO) -> str:
    return re.sub(r" [\d.]+ms$", " *ms", log.getvalue().splitlines()[-1])


CASES = [
    ({"query": LOOKUP}, {"Accept": JSON}),
    ({"query": LOOKUP}, {"Accept": "application/sparql-results+xml"}),
    ({"query": LOOKUP}, {"Accept": "text/csv"}),
    ({"query": LOOKUP}, {"Accept": "text/tab-separated-values"}),
    ({"query": LOOKUP}, {}),
    ({"query": LOOKUP}, {"Accept": "*/*"}),
    ({"query": LOOKUP}, {"Accept": JSON, "Accept-Encoding": "gzip, deflate"}),
    ({"query": LOOKUP}, {"Accept": JSON, "Origin": "https://elsewhere.example"}),
    ({"query": SMALL}, {"Accept": JSON, "Accept-Encoding": "gzip"}),
    ({"query": PREFIXED}, {"Accept": JSON}),
    ({"query": UNDECLARED}, {"Accept": JSON}),
    ({"query": LOOKUP}, {"Accept": JSON, "If-None-Match": 'W/"nothing"'}),
    ({"query": LOOKUP}, {"Accept": "text/html"}),
    ({"query": LOOKUP}, {"Accept": JSON, "Host": "evil.example"}),
    ({"query": LOOKUP, "view": "asserted"}, {"Accept": JSON}),
    ({"query": LOOKUP, "format": "json"}, {}),
    ({"query": JOIN}, {"Accept": JSON}),
    # volatile (NOW), with an answer of a fixed size
    ({"query": f"SELECT ?p (YEAR(NOW()) > 2000 AS ?t) WHERE {{ <{ID}china> ?p ?o }}"},
     {"Accept": JSON}),
    ({"query": f"SELECT ?p WHERE {{ <{ID}china ?p ?o }}"}, {"Accept": JSON}),
    ({"query": LOOKUP}, {"Accept": "image/png"}),
    ({"query": f"SELECT * WHERE {{ <{ID}china> ?p ?o . SERVICE <http://x.example/> {{}} }}"},
     {"Accept": JSON}),
    ({"update": "CLEAR ALL"}, {}),
    ({}, {"Accept": "text/turtle"}),
    ({}, {"Accept": "text/html"}),
]


def plans(app) -> dict:
    return app.wsgi_app.sparql._plans


def answer(app, log, *args, **headers):
    status, response_headers, body = call(app, *args, **headers)
    if dict(response_headers).get("Content-Encoding") == "gzip":  # compare what was sent
        body = gzip.decompress(body)
    if dict(response_headers).get("Content-Type", "").startswith("text/html"):
        # the page says how long the query took: the one part two answers may differ in
        body = re.sub(rb"\nin \d+ ms\.", b"\nin * ms.", body)
    return status, comparable(response_headers), body, last_line(log)


@pytest.mark.parametrize(("query", "headers"), CASES)
def test_a_remembered_plan_answers_as_a_fresh_one(served, query, headers) -> None:
    app, log = served
    plans(app).clear()
    fresh = answer(app, log, query=query, **headers)
    remembered = answer(app, log, query=query, **headers)
    assert remembered == fresh
    assert fresh[0].startswith(("200", "400", "403", "405", "406"))


def test_only_get_and_head_plans_are_remembered(served) -> None:
    app, log = served
    plans(app).clear()
    call(app, "GET", {"query": LOOKUP}, Accept=JSON)
    call(app, "HEAD", {"query": LOOKUP}, Accept=JSON)
    call(app, "POST", {"query": LOOKUP}, Accept=JSON)
    assert sorted(key[0] for key in plans(app)) == ["GET", "HEAD"]


def test_the_base_iri_follows_the_host(served) -> None:
    app, _ = served
    query = {"query": "SELECT ?x WHERE { BIND(<here> AS ?x) }"}
    _, _, one = call(app, query=query, Accept="text/csv")
    _, _, other = call(app, query=query, Accept="text/csv", Host="127.0.0.1:8000")
    assert b"http://localhost:8000/here" in one
    assert b"http://127.0.0.1:8000/here" in other


def test_post_answers_as_get_and_head_as_get_without_a_body(served) -> None:
    app, _ = served
    status, headers, body = call(app, "GET", {"query": LOOKUP}, Accept=JSON)
    assert status.startswith("200") and body
    environ = EnvironBuilder(path="/sparql", method="POST", data=LOOKUP.encode(),
                             content_type="application/sparql-query",
                             headers={"Host": "localhost:8000", "Accept": JSON}).get_environ()
    seen = {}
    posted = b"".join(app(environ, lambda s, h, e=None: seen.update(status=s, headers=h)))
    assert seen["status"].startswith("200") and posted == body
    head_status, head_headers, head_body = call(app, "HEAD", {"query": LOOKUP}, Accept=JSON)
    assert head_status == status and head_body == b""
    assert dict(head_headers)["Content-Length"] == str(len(body))
    assert dict(head_headers)["ETag"] == dict(headers)["ETag"]


def test_a_browser_gets_the_query_page_from_its_route(served) -> None:
    app, _ = served
    status, headers, body = call(app, query={"query": LOOKUP}, Accept="text/html")
    assert status.startswith("200")
    assert dict(headers)["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" in dict(headers)
    assert b"<textarea" in body and b"china" in body


def test_answers_are_counted(served) -> None:
    app, _ = served
    metrics = app.context.metrics

    def sparql_requests() -> int:
        return sum(n for key, n in metrics.requests.items()
                   if dict(key)["endpoint"] == "/sparql")

    before, requests_before = metrics.queries["ok"], sparql_requests()
    call(app, query={"query": LOOKUP}, Accept=JSON)
    call(app, query={"query": LOOKUP}, Accept="text/html")  # the page's route: /sparql too
    assert metrics.queries["ok"] >= before + 1
    assert sparql_requests() == requests_before + 2


def test_a_refused_write_is_not_opened_to_read_origins(served) -> None:
    app, _ = served
    origin = "https://elsewhere.example"
    status, headers, _ = call(app, "POST", {"query": LOOKUP}, Origin=origin,
                              **{"Content-Encoding": "br"})
    assert status.startswith("415")
    assert "Access-Control-Allow-Origin" not in dict(headers)
    status, headers, _ = call(app, "GET", {"query": LOOKUP}, Origin=origin,
                              Host="evil.example")
    assert status.startswith("400")  # a read: readable by the pages of other origins
    assert dict(headers)["Access-Control-Allow-Origin"] == "*"
    counted = app.context.metrics.requests
    assert any(dict(key)["endpoint"] == "refused" for key in counted)


def test_a_chunked_gzip_body_is_read_to_its_end(served) -> None:
    app, _ = served
    body = gzip.compress(LOOKUP.encode())
    environ = EnvironBuilder(path="/sparql", method="POST", input_stream=io.BytesIO(body),
                             headers={"Host": "localhost:8000", "Accept": JSON,
                                      "Content-Type": "application/sparql-query",
                                      "Content-Encoding": "gzip",
                                      "Transfer-Encoding": "chunked"}).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input_terminated"] = True
    seen = {}
    data = b"".join(app(environ, lambda s, h, e=None: seen.update(status=s)))
    assert seen["status"].startswith("200"), data
    _, _, expected = call(app, "GET", {"query": LOOKUP}, Accept=JSON)
    assert data == expected


def test_a_default_port_is_left_out_of_the_base_iri(served) -> None:
    app, _ = served
    query = {"query": "SELECT ?x WHERE { BIND(<here> AS ?x) }"}
    _, _, body = call(app, query=query, Accept="text/csv", Host="localhost:80")
    assert b"http://localhost/here" in body


def test_the_paths_flask_routes_to_the_endpoint_reach_its_handler(served) -> None:
    app, _ = served
    update = {"update": "CLEAR ALL"}
    status, _, body = call(app, "GET", update, Accept="application/json")
    for path in ("//sparql", "///sparql"):
        environ = EnvironBuilder(path="/", method="GET", query_string=urlencode(update),
                                 headers={"Host": "localhost:8000",
                                          "Accept": "application/json"}).get_environ()
        environ["PATH_INFO"] = path
        seen: dict = {}
        data = b"".join(app(environ, lambda s, h, e=None, seen=seen: seen.update(status=s)))
        assert (seen["status"], data) == (status, body), path
