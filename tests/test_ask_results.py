"""ASK answers never reach a client in a form it misreads: CSV and TSV have no standard
boolean (rdflib reads Jena's ``_askResult`` table holding false as true, and a bare
``true`` as false), so the endpoint answers in JSON or XML whenever the client takes one,
and refuses with 406 naming them when it takes only CSV/TSV. Tested with rdflib's
SPARQLStore (a real client, over HTTP) and a reader that works as Jena's does."""

from __future__ import annotations

import csv
import io
import json
from urllib.error import HTTPError

import pytest
import requests
from rdflib import Graph
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from rdflib.query import Result
from servers import project_server

TRUE = "ASK { ?s ?p ?o }"
FALSE = "ASK { <urn:nothing> <urn:nothing> <urn:nothing> }"
# what Jena's QueryExecutionHTTP sends for ASK by default, then clients that ask for less
ACCEPTS = [
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
    "text/tab-separated-values;q=0.7, text/csv;q=0.5, application/json;q=0.2, "
    "application/xml;q=0.2, */*;q=0.1",
    "text/csv, application/sparql-results+xml;q=0.1",
    "text/tab-separated-values, */*;q=0.1",
    "text/csv", "text/tab-separated-values",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


def jena_style_boolean(content_type: str, body: bytes) -> bool:
    """Read an ASK answer as Jena's ResultsReader does: JSON/XML by the standard, CSV/TSV
    only as a one-column ``_askResult`` table (anything else is not an ASK answer)."""
    media = content_type.split(";")[0].strip()
    if media in ("application/sparql-results+json", "application/json"):
        return json.loads(body)["boolean"]
    if media in ("application/sparql-results+xml", "application/xml"):
        return Result.parse(io.BytesIO(body), format="xml").askAnswer
    delimiter = "," if media == "text/csv" else "\t"
    rows = list(csv.reader(io.StringIO(body.decode()), delimiter=delimiter))
    if len(rows) != 2 or rows[0] != ["_askResult"] or rows[1][0] not in ("true", "false"):
        raise ValueError(f"not an ASK result: {body!r}")
    return rows[1][0] == "true"


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query,answer", [(TRUE, True), (FALSE, False)])
def test_jena_style_reader_reads_the_right_answer_or_gets_406(server, accept, query,
                                                              answer) -> None:
    r = requests.get(server.sparql, params={"query": query}, headers={"Accept": accept},
                     timeout=30)
    if accept in ("text/csv", "text/tab-separated-values"):  # takes nothing else
        assert r.status_code == 406
        assert "CSV or TSV" in r.text and "application/sparql-results+json" in r.text
        return
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] in ("application/sparql-results+json",
                                                       "application/sparql-results+xml")
    assert jena_style_boolean(r.headers["Content-Type"], r.content) is answer


def test_only_csv_or_tsv_is_406(server) -> None:
    for accept in ("text/csv", "text/tab-separated-values"):
        r = requests.get(server.sparql, params={"query": TRUE}, headers={"Accept": accept},
                         timeout=30)
        assert r.status_code == 406, r.text
    for fmt in ("csv", "tsv", "text/csv"):
        r = requests.get(server.sparql, params={"query": TRUE, "format": fmt}, timeout=30)
        assert r.status_code == 406 and "format=xml" in r.text, r.text
    # SELECT in CSV is unaffected
    r = requests.get(server.sparql, params={"query": "SELECT * { ?s ?p ?o } LIMIT 1"},
                     headers={"Accept": "text/csv"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize("return_format", ["xml", "json", "csv", "tsv"])
def test_rdflib_sparqlstore_never_reads_the_wrong_answer(server, return_format) -> None:
    graph = Graph(store=SPARQLStore(server.sparql, returnFormat=return_format,
                                    method="GET"))
    for query, answer in ((TRUE, True), (FALSE, False)):
        try:
            result = graph.query(query)
        except ValueError as exc:  # refused (rdflib wraps the HTTP error), never misread
            cause = exc.__context__
            assert return_format in ("csv", "tsv")
            assert isinstance(cause, HTTPError) and cause.code == 406
            continue
        assert return_format in ("xml", "json")
        assert result.type == "ASK" and result.askAnswer is answer and bool(result) is answer


def test_rdflib_reads_the_csv_forms_wrongly() -> None:
    """Why CSV/TSV are refused: rdflib's CSV parser turns both forms in use into a SELECT
    result whose truth is its row count, not the answer."""
    jena_false = Result.parse(io.BytesIO(b"_askResult\r\nfalse\r\n"), format="csv")
    bare_true = Result.parse(io.BytesIO(b"true\r\n"), format="csv")
    assert bool(jena_false) is True and bool(bare_true) is False
