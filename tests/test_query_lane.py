"""The query lane answers exactly what the whole WSGI stack answers.

For every kind of request a client sends to ``/sparql`` (lookups in each result format,
with and without CORS, gzip, conditional headers, unknown hosts, volatile queries, other
parameters, other methods, errors), the server's WSGI callable (``serving_app``: the lane
in front of the access-logged app) and the app behind its access log alone must give the
same status, headers (``Server-Timing`` aside: it is a measurement) and body, and log the
same line. And the lane must really answer the lookups itself: the test counts what it
hands to the stack.
"""

from __future__ import annotations

import gzip
import io
import re
import time
from urllib.parse import urlencode

import pytest
from werkzeug.test import EnvironBuilder

from crinkkg.backends.embedded.engine import EmbeddedBackend
from crinkkg.web import create_app, serving_app
from crinkkg.web.http.access_log import AccessLog

ID = "https://w3id.org/crinkkg/id/"
LOOKUP = f"SELECT ?p ?o WHERE {{ <{ID}china> ?p ?o }}"
SMALL = f"ASK {{ <{ID}china> ?p ?o }}"
PREFIXED = "PREFIX id: <https://w3id.org/crinkkg/id/>\nSELECT ?p ?o WHERE { id:russia ?p ?o }"
UNDECLARED = "SELECT ?o WHERE { id:iran rdfs:label ?o }"  # the server's own prefixes
JOIN = f"SELECT ?p ?q WHERE {{ <{ID}china> ?p ?o . ?o ?q ?r }} LIMIT 5"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def servers(built_store, project_settings):
    """The two WSGI callables over one app and one backend, each with its own log."""
    settings = project_settings.with_(query_workers=1)
    backend = EmbeddedBackend(settings, local_quads=1_000_000)
    deadline = time.monotonic() + 60  # compare in a steady state: the copy answers both
    while backend.health()["in_process_answers_from"] != "memory":
        assert time.monotonic() < deadline, "the memory copy was never made"
        time.sleep(0.05)
    app = create_app(settings, backend)
    lane_log, stack_log = io.StringIO(), io.StringIO()
    lane = serving_app(app, lane_log)
    handed: list[str] = []
    inner = lane.stack.app

    def counting(environ, start_response):
        handed.append(environ.get("QUERY_STRING", ""))
        return inner(environ, start_response)

    lane.stack.app = counting
    yield lane, AccessLog(app, stack_log), lane_log, stack_log, handed
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


ANSWERED = [  # the lane answers these itself
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
]
HANDED = [  # the stack answers these, through the lane
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
]


@pytest.mark.parametrize(("query", "headers"), ANSWERED + HANDED)
def test_the_lane_answers_as_the_stack(servers, query, headers) -> None:
    lane, stack, lane_log, stack_log, handed = servers
    handed.clear()
    status, lane_headers, lane_body = call(lane, query=query, **headers)
    expected_status, stack_headers, stack_body = call(stack, query=query, **headers)
    assert status == expected_status
    assert comparable(lane_headers) == comparable(stack_headers)
    if dict(lane_headers).get("Content-Encoding") == "gzip":  # same bytes once decoded
        lane_body, stack_body = gzip.decompress(lane_body), gzip.decompress(stack_body)
    if dict(lane_headers).get("Content-Type", "").startswith("text/html"):
        # the page says how long the query took: the one part two answers may differ in
        lane_body, stack_body = (re.sub(rb"\nin \d+ ms\.", b"\nin * ms.", body)
                                 for body in (lane_body, stack_body))
    assert lane_body == stack_body
    assert last_line(lane_log) == last_line(stack_log)
    assert handed == ([] if (query, headers) in ANSWERED else [urlencode(query)])


def test_head_and_post_go_to_the_stack(servers) -> None:
    lane, stack, _, _, handed = servers
    for method in ("HEAD", "POST"):
        handed.clear()
        status, headers, body = call(lane, method, {"query": LOOKUP}, Accept=JSON)
        assert (status, comparable(headers), body) == \
            (lambda s, h, b: (s, comparable(h), b))(*call(stack, method, {"query": LOOKUP},
                                                         Accept=JSON))
        assert len(handed) == 1


def test_lookup_answers_are_counted(servers) -> None:
    lane, _, _, _, _ = servers
    metrics = lane.metrics
    before = metrics.queries["ok"]
    requests_before = sum(n for key, n in metrics.requests.items()
                          if dict(key)["endpoint"] == "/sparql")
    call(lane, query={"query": LOOKUP}, Accept=JSON)
    assert metrics.queries["ok"] == before + 1
    assert sum(n for key, n in metrics.requests.items()
               if dict(key)["endpoint"] == "/sparql") == requests_before + 1
