"""view=asserted/inferred and a dataset given by the query (FROM, FROM NAMED) or the
request (default-graph-uri, named-graph-uri) both choose the graphs to query: the
endpoint refuses the combination with a 400 that says so; view=all (the default) honours
the dataset. The command line does the same."""

from __future__ import annotations

import subprocess

import pytest
import requests
from servers import CRINKKG, ROOT, project_server

INFERRED = "https://w3id.org/crinkkg/graph/inferred"
CHINA = "https://w3id.org/crinkkg/graph/data/china"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


def ask(server, query: str, **params) -> requests.Response:
    return requests.get(server.sparql, params={"query": query, **params},
                        headers={"Accept": "application/sparql-results+json"}, timeout=30)


@pytest.mark.parametrize("view", ["asserted", "inferred"])
@pytest.mark.parametrize("query,params", [
    (f"ASK FROM <{INFERRED}> {{ ?s ?p ?o }}", {}),
    (f"ASK FROM NAMED <{INFERRED}> {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
    ("ASK { ?s ?p ?o }", {"default-graph-uri": INFERRED}),
    ("ASK { GRAPH ?g { ?s ?p ?o } }", {"named-graph-uri": INFERRED}),
])
def test_view_with_a_dataset_is_a_400_that_says_why(server, view, query, params) -> None:
    r = ask(server, query, view=view, **params)
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["error"] == "view-and-dataset"
    assert f"view={view}" in problem["message"] and "drop view=" in problem["hint"]


def test_the_default_view_honours_the_dataset(server) -> None:
    def boolean(query: str, **params) -> bool:
        r = ask(server, query, **params)
        assert r.status_code == 200, r.text
        return r.json()["boolean"]

    supplies = "{ ?a crink:supplies ?b }"  # only ever inferred
    assert boolean(f"ASK FROM <{INFERRED}> {supplies}")
    assert not boolean(f"ASK FROM <{CHINA}> {supplies}")
    assert boolean(f"ASK {supplies}", **{"default-graph-uri": INFERRED})
    assert not boolean(f"ASK FROM NAMED <{CHINA}> {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }} }}")
    # view=all written out is the default, and so honours FROM too
    assert not boolean(f"ASK FROM <{CHINA}> {supplies}", view="all")
    # a FROM inside a string is not a dataset clause
    assert boolean('ASK { ?a crink:supplies ?b FILTER("FROM" != "x") }', view="inferred")


def test_the_command_line_refuses_the_same_and_honours_from(tmp_path) -> None:
    base = [CRINKKG, "--store", str(tmp_path / "store"), "--ontology", str(ROOT / "ontology"),
            "--data", str(ROOT / "data"), "query"]
    refused = subprocess.run([*base, f"ASK FROM <{CHINA}> {{ ?s ?p ?o }}", "--inferred"],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "FROM/FROM NAMED" in refused.stderr
    honoured = subprocess.run([*base, f"ASK FROM <{CHINA}> {{ ?a crink:supplies ?b }}",
                               "--format", "json"], capture_output=True, text=True, check=True)
    assert '"boolean":false' in honoured.stdout.replace(" ", "")
