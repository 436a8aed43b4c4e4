"""The remote-store client against a real Oxigraph server process, and its authentication
against a small real HTTP server that checks basic, bearer and digest credentials."""

from __future__ import annotations

import base64
import doctest
import hashlib
import json
import logging
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from crinkkg.backends import sparql_client
from crinkkg.backends.auth import Credentials, credentials_from_env
from crinkkg.backends.endpoints import Endpoints
from crinkkg.backends.remote_errors import RemoteStoreError
from crinkkg.backends.sparql_client import SparqlClient

JSON = "application/sparql-results+json"
NT = "application/n-triples"
#: a query that counts 10^7 rows: about a second on an idle machine, so always longer
#: than the 0.2 s client timeout of the timeout test
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(
    f"VALUES ?v{i} {{ 1 2 3 4 5 6 7 8 9 10 }}" for i in range(7)) + " }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _oxigraph() -> str:
    found = Path(sys.executable).with_name("oxigraph")
    if found.exists():
        return str(found)
    path = shutil.which("oxigraph")
    if path is None:
        pytest.fail("the oxigraph server is not installed: pip install -e '.[test]'")
    return path


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``oxigraph serve`` on a free port; yields its base URL."""
    location = tmp_path_factory.mktemp("oxigraph")
    log_path = location.parent / "oxigraph.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [_oxigraph(), "serve", "--location", str(location / "db"),
             "--bind", f"127.0.0.1:{port}"], stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url + "/query", params={"query": "ASK {}"}, timeout=2)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"oxigraph serve did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def endpoints(oxigraph: str) -> Endpoints:
    return Endpoints(oxigraph + "/query", oxigraph + "/update", oxigraph + "/store")


@pytest.fixture(scope="module")
def client(endpoints: Endpoints) -> Iterator[SparqlClient]:
    with SparqlClient(endpoints, timeout=30) as c:
        yield c


def _rows(client: SparqlClient, sparql: str, **kw: object) -> list[dict[str, str]]:
    response = client.query(sparql, accept=JSON, **kw)
    assert response.status == 200 and response.media_type == JSON
    return [{k: v["value"] for k, v in b.items()}
            for b in json.loads(response.body)["results"]["bindings"]]


# -- what the methods do -------------------------------------------------------------------

def test_docstring_examples_run_against_the_server(client: SparqlClient) -> None:
    result = doctest.testmod(sparql_client, extraglobs={"client": client},
                             optionflags=doctest.ELLIPSIS)
    # (the examples of endpoints, auth and remote_errors need no store: test_layout runs them)
    assert result.attempted >= 20
    assert result.failed == 0


def test_query_dataset_parameters_choose_the_graphs(client: SparqlClient) -> None:
    client.update("INSERT DATA { GRAPH <urn:t:g1> { <urn:s> <urn:p> 1 } "
                  "GRAPH <urn:t:g2> { <urn:s> <urn:p> 2 } }")
    select = "SELECT ?o WHERE { ?s <urn:p> ?o } ORDER BY ?o"
    assert _rows(client, select, default_graphs=["urn:t:g2"]) == [{"o": "2"}]
    both = _rows(client, select, default_graphs=["urn:t:g1", "urn:t:g2"])
    assert both == [{"o": "1"}, {"o": "2"}]
    named = _rows(client, "SELECT ?g WHERE { GRAPH ?g { ?s <urn:p> ?o } }",
                  named_graphs=["urn:t:g1"])
    assert named == [{"g": "urn:t:g1"}]


def test_a_long_query_goes_through_the_form_post(client: SparqlClient) -> None:
    values = " ".join(f"<urn:item:{i}>" for i in range(3000))
    sparql = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?x {{ {values} }} }}"
    assert len(sparql) > 40_000  # far beyond what a GET URL carries
    assert _rows(client, sparql) == [{"n": "3000"}]


def test_query_other_formats(client: SparqlClient) -> None:
    client.put_graph("urn:t:fmt", b"<urn:a> <urn:b> <urn:c> .", "text/turtle")
    csv = client.query("SELECT ?o WHERE { GRAPH <urn:t:fmt> { ?s ?p ?o } }",
                       accept="text/csv")
    assert csv.media_type == "text/csv" and csv.text().split() == ["o", "urn:c"]
    construct = client.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <urn:t:fmt> { ?s ?p ?o } }",
                             accept=NT)
    assert construct.body == b"<urn:a> <urn:b> <urn:c> .\n"


def test_update_using_graphs(client: SparqlClient) -> None:
    client.update("INSERT DATA { GRAPH <urn:u:a> { <urn:s> <urn:q> 'a' } "
                  "GRAPH <urn:u:b> { <urn:s> <urn:q> 'b' } }")
    client.update("INSERT { GRAPH <urn:u:copy> { ?s ?p ?o } } WHERE { ?s <urn:q> ?o . "
                  "?s ?p ?o }", using_graphs=["urn:u:b"])
    assert client.get_graph("urn:u:copy", NT).body == b'<urn:s> <urn:q> "b" .\n'
    client.update("INSERT { GRAPH <urn:u:names> { <urn:r> <urn:from> ?g } } "
                  "WHERE { GRAPH ?g { ?s <urn:q> ?o } }", using_named_graphs=["urn:u:a"])
    assert client.get_graph("urn:u:names", NT).body == b"<urn:r> <urn:from> <urn:u:a> .\n"


def test_graph_store_round_trip(client: SparqlClient) -> None:
    iri = "urn:t:gsp"
    assert not client.graph_exists(iri)
    assert client.put_graph(iri, b"<urn:a> <urn:b> <urn:c> .", "text/turtle") is True
    assert client.graph_exists(iri)
    assert client.put_graph(iri, b"<urn:a> <urn:b> <urn:d> .", "text/turtle") is False
    assert client.post_graph(iri, b"<urn:a> <urn:b> <urn:e> .", NT) is False
    got = client.get_graph(iri, NT)
    assert (got.status, got.media_type) == (200, NT)
    assert sorted(got.body.splitlines()) == [b"<urn:a> <urn:b> <urn:d> .",
                                              b"<urn:a> <urn:b> <urn:e> ."]
    assert client.delete_graph(iri) is True
    assert not client.graph_exists(iri)


def test_default_graph(client: SparqlClient) -> None:
    client.put_graph(None, b"<urn:dflt> <urn:b> <urn:c> .", "text/turtle")
    assert client.graph_exists(None)
    assert client.get_graph(None, NT).body == b"<urn:dflt> <urn:b> <urn:c> .\n"
    assert _rows(client, "SELECT ?s WHERE { ?s <urn:b> <urn:c> }") == [{"s": "urn:dflt"}]
    assert client.delete_graph(None) is True
    assert client.get_graph(None, NT).body == b""


def test_a_large_graph_streams_in_chunks(client: SparqlClient) -> None:
    def chunks() -> Iterator[bytes]:
        for start in range(0, 20_000, 1000):
            yield "".join(f"<urn:n:{i}> <urn:v> \"{i}\" .\n"
                          for i in range(start, start + 1000)).encode()

    assert client.put_graph("urn:t:big", chunks(), NT) is True
    count = _rows(client, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:t:big> { ?s ?p ?o } }")
    assert count == [{"n": "20000"}]


def test_threads_share_one_client(client: SparqlClient) -> None:
    """Eight threads query through one client at once; each answer is its own."""
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(15):
                rows = _rows(client, f"SELECT ?x WHERE {{ BIND({n * 100 + i} AS ?x) }}")
                assert rows == [{"x": str(n * 100 + i)}]
        except BaseException as error:  # reported below, with the thread's number
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_closed_client_says_so(endpoints: Endpoints) -> None:
    c = SparqlClient(endpoints)
    c.query("ASK {}", accept=JSON)
    c.close()
    with pytest.raises(RuntimeError, match="closed"):
        c.query("ASK {}", accept=JSON)


def test_non_ascii_query_text(client: SparqlClient) -> None:
    name = "Ким Чен Ын, 金正恩, آیت‌الله"
    assert _rows(client, f'SELECT ?x WHERE {{ BIND("{name}"@und AS ?x) }}') == [{"x": name}]


def test_streamed_answers(client: SparqlClient) -> None:
    sparql = "SELECT ?i WHERE { " + " ".join(
        f"VALUES ?v{i} {{ 0 1 2 3 4 5 6 7 8 9 }}" for i in range(4)) + \
        " BIND(?v0 * 1000 + ?v1 * 100 + ?v2 * 10 + ?v3 AS ?i) } ORDER BY ?i"
    with client.query_stream(sparql, accept="text/csv") as answer:
        assert (answer.status, answer.media_type) == (200, "text/csv")
        chunks = list(answer.chunks(size=4096))
    assert len(chunks) > 1 and all(len(c) <= 4096 for c in chunks)
    assert b"".join(chunks).split() == [b"i"] + [str(i).encode() for i in range(10_000)]
    with pytest.raises(RemoteStoreError) as e:
        client.query_stream("SELEC", accept=JSON)
    assert e.value.kind == "refused"
    with pytest.raises(RemoteStoreError) as e:
        client.get_graph_stream("urn:t:never", NT)
    assert e.value.kind == "not_found"


# -- every kind of failure -----------------------------------------------------------------

def test_unreachable_port() -> None:
    url = f"http://127.0.0.1:{_free_port()}/query"
    with SparqlClient(Endpoints(url), timeout=5) as c, pytest.raises(RemoteStoreError) as e:
        c.query("ASK {}", accept=JSON)
    assert e.value.kind == "unreachable"
    assert url in str(e.value) and "query" in str(e.value)
    assert "check the endpoint URL" in str(e.value.hint)


def test_unknown_host() -> None:
    with SparqlClient(Endpoints("http://crinkkg-test.invalid/sparql"), timeout=5) as c, \
            pytest.raises(RemoteStoreError) as e:
        c.update("CLEAR ALL")
    assert e.value.kind == "unreachable"
    assert "'crinkkg-test.invalid' does not resolve" in str(e.value)


def test_timeout_says_the_query_may_still_run(endpoints: Endpoints) -> None:
    with SparqlClient(endpoints, timeout=0.2) as c, pytest.raises(RemoteStoreError) as e:
        c.query(SLOW_QUERY, accept=JSON)
    assert e.value.kind == "timeout"
    assert "0.2 s" in str(e.value)
    assert "may still be running on the store" in str(e.value.hint)


def test_bad_query_is_refused_with_the_stores_message(client: SparqlClient) -> None:
    with pytest.raises(RemoteStoreError) as e:
        client.query("SELEC ?x WHERE {}", accept=JSON)
    assert (e.value.kind, e.value.status, e.value.operation) == ("refused", 400, "query")
    assert e.value.store_message and "error at 1:1" in e.value.store_message
    assert "HTTP 400" in str(e.value) and "fix the query" in str(e.value.hint)
    with pytest.raises(RemoteStoreError) as e:
        client.update("INSERT DATA { <urn:a> }")
    assert (e.value.kind, e.value.status, e.value.operation) == ("refused", 400, "update")


def test_bad_data_and_formats_are_refused(client: SparqlClient) -> None:
    with pytest.raises(RemoteStoreError) as e:
        client.put_graph("urn:t:bad", b"garbage <", "text/turtle")
    assert (e.value.kind, e.value.status) == ("refused", 400)
    assert "garbage" in str(e.value.store_message)
    with pytest.raises(RemoteStoreError) as e:
        client.put_graph("urn:t:bad", b"x", "application/x-unknown")
    assert (e.value.kind, e.value.status) == ("refused", 415)
    assert "format the store can read" in str(e.value.hint)
    with pytest.raises(RemoteStoreError) as e:
        client.query("ASK {}", accept="application/x-unknown")
    assert (e.value.kind, e.value.status) == ("refused", 406)


def test_missing_graph_is_not_found(client: SparqlClient) -> None:
    with pytest.raises(RemoteStoreError) as e:
        client.get_graph("urn:t:never", NT)
    assert (e.value.kind, e.value.status, e.value.operation) == ("not_found", 404, "get graph")
    assert "graph=urn%3At%3Anever" in e.value.url
    with pytest.raises(RemoteStoreError) as e:
        client.delete_graph("urn:t:never")
    assert e.value.kind == "not_found" and "does not exist" in str(e.value.hint)
    assert client.delete_graph("urn:t:never", missing_ok=True) is False


def test_no_graph_store_url(oxigraph: str) -> None:
    with SparqlClient(Endpoints(oxigraph + "/query")) as c, \
            pytest.raises(RemoteStoreError) as e:
        c.get_graph("urn:x", NT)
    assert e.value.kind == "configuration" and "Graph Store" in str(e.value)


# -- endpoints and credentials -------------------------------------------------------------

def test_virtuoso_graph_crud_is_detected() -> None:
    for path in ("/sparql-graph-crud", "/sparql-graph-crud-auth"):
        e = Endpoints("http://h:8890/sparql", graph_store="http://h:8890" + path)
        assert e.graph_param == "graph-uri"
    c = SparqlClient(Endpoints("http://h:8890/sparql",
                               graph_store="http://h:8890/sparql-graph-crud"))
    assert c._graph_url("urn:g") == "http://h:8890/sparql-graph-crud?graph-uri=urn%3Ag"
    assert c._graph_url(None) == "http://h:8890/sparql-graph-crud?default"
    assert Endpoints("http://h/q", graph_store="http://h/store").graph_param == "graph"
    assert Endpoints("http://h/q", graph_param="g").graph_param == "g"


def test_urls_with_passwords_are_refused() -> None:
    with pytest.raises(RemoteStoreError) as e:
        Endpoints("http://dba:s3cret@h:8890/sparql")
    assert "s3cret" not in str(e.value) and "CRINKKG_BACKEND_USER" in str(e.value.hint)


def test_credentials_from_env() -> None:
    assert credentials_from_env({}) == Credentials()
    assert not credentials_from_env({"CRINKKG_BACKEND_USER": "", "CRINKKG_BACKEND_TOKEN": ""})
    both = credentials_from_env({"CRINKKG_BACKEND_USER": "u",
                                 "CRINKKG_BACKEND_PASSWORD": "p"})
    assert (both.user, both.password, both.token) == ("u", "p", None)
    with pytest.raises(RemoteStoreError, match="keep one"):
        credentials_from_env({"CRINKKG_BACKEND_USER": "u", "CRINKKG_BACKEND_PASSWORD": "p",
                              "CRINKKG_BACKEND_TOKEN": "t"})
    with pytest.raises(RemoteStoreError, match="set CRINKKG_BACKEND_USER too"):
        credentials_from_env({"CRINKKG_BACKEND_PASSWORD": "p"})


# -- authentication, against a real HTTP server that checks the header ---------------------

USER, PASSWORD, TOKEN, REALM = "alice", "pa55-w0rd", "t0ken-xyz", "crinkkg-test"


class _AuthServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _AuthHandler)
        self.seen: list[tuple[str, str, str, bytes]] = []  # method, path, scheme, body
        self.lock = threading.Lock()
        self.release = threading.Event()  # ends the pause of /slow

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class _AuthHandler(BaseHTTPRequestHandler):
    """``/basic/*``, ``/bearer/*``, ``/digest/*`` check that scheme; ``/fail`` is a 500."""

    server: _AuthServer

    def log_message(self, *_args: object) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                data += self.rfile.read(size)
                self.rfile.readline()
                if size == 0:
                    return data
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain",
                extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _digest_ok(self, header: str) -> bool:
        if not header.startswith("Digest "):
            return False
        fields = dict(part.strip().split("=", 1) for part in header[7:].split(","))
        f = {k: v.strip('"') for k, v in fields.items()}
        ha1 = _md5(f"{USER}:{REALM}:{PASSWORD}")
        ha2 = _md5(f"{self.command}:{f['uri']}")
        expected = _md5(f"{ha1}:{f['nonce']}:{f['nc']}:{f['cnonce']}:{f['qop']}:{ha2}")
        return f["username"] == USER and f["nonce"] == "n0nce" and f["response"] == expected

    def _handle(self) -> None:
        body = self._body()
        header = self.headers.get("Authorization", "")
        scheme = header.split(" ", 1)[0] if header else "none"
        with self.server.lock:
            self.server.seen.append((self.command, self.path, scheme, body))
        section = self.path.split("/")[1]
        if section == "fail":
            self._answer(500, b"<html><body><h1>Internal error</h1><p>disk full</p>"
                              b"</body></html>", "text/html")
            return
        if section == "drop":  # no answer at all: the connection just closes
            self.close_connection = True
            return
        if section in ("slow", "cut"):  # a first part, then a pause or the end of the line
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"x\n1\n")
            self.wfile.flush()
            if section == "slow":
                self.server.release.wait(10)
            self.close_connection = True
            return
        if section == "nohead":  # a Graph Store that allows GET only
            status = 405 if self.command == "HEAD" else (
                200 if self.path.endswith("graph=urn%3Ayes") else 404)
            self._answer(status, b"")
            return
        if section == "moved":
            self._answer(302, b"", extra={"Location": "https://elsewhere.example/sparql"})
            return
        good = {
            "basic": header == "Basic " + base64.b64encode(
                f"{USER}:{PASSWORD}".encode()).decode(),
            "bearer": header == f"Bearer {TOKEN}",
            "digest": self._digest_ok(header),
        }[section]
        if not good:
            challenge = {"basic": f'Basic realm="{REALM}"', "bearer": "Bearer",
                         "digest": f'Digest realm="{REALM}", nonce="n0nce", qop="auth", '
                                   'algorithm=MD5'}[section]
            self._answer(401, b"authentication required",
                         extra={"WWW-Authenticate": challenge})
            return
        if self.command in ("PUT", "POST") and "/store" in self.path:
            self._answer(201, b"")
        else:
            self._answer(200, b'{"head":{},"boolean":true}', JSON)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


@pytest.fixture()
def auth_server() -> Iterator[_AuthServer]:
    server = _AuthServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def _endpoints(server: _AuthServer, section: str) -> Endpoints:
    base = f"{server.url}/{section}"
    return Endpoints(base + "/sparql", graph_store=base + "/store")


def test_basic_credentials(auth_server: _AuthServer) -> None:
    creds = Credentials(user=USER, password=PASSWORD)
    with SparqlClient(_endpoints(auth_server, "basic"), creds) as c:
        assert c.query("ASK {}", accept=JSON).status == 200
        assert c.put_graph("urn:g", iter([b"<urn:a> ", b"<urn:b> <urn:c> ."]), NT)
    assert [s[2] for s in auth_server.seen] == ["Basic", "Basic"]
    assert auth_server.seen[1][3] == b"<urn:a> <urn:b> <urn:c> ."


def test_bearer_token(auth_server: _AuthServer) -> None:
    with SparqlClient(_endpoints(auth_server, "bearer"), Credentials(token=TOKEN)) as c:
        assert c.query("ASK {}", accept=JSON).status == 200
        assert c.graph_exists("urn:g")
    assert [s[2] for s in auth_server.seen] == ["Bearer", "Bearer"]


def test_digest_is_used_when_the_store_asks(auth_server: _AuthServer) -> None:
    """Basic first, a Digest challenge, then digest: a streamed body arrives whole."""
    creds = Credentials(user=USER, password=PASSWORD)
    chunks = (part for part in [b"<urn:a> <urn:b> ", b"<urn:c> ."])
    with SparqlClient(_endpoints(auth_server, "digest"), creds) as c:
        assert c.put_graph("urn:g", chunks, NT) is True
        assert c.query("ASK {}", accept=JSON).status == 200
    seen = [(method, scheme, body) for method, _path, scheme, body in auth_server.seen]
    assert seen[0] == ("PUT", "Basic", b"<urn:a> <urn:b> <urn:c> .")
    assert seen[1][:2] == ("PUT", "none")  # requests' digest asks for the challenge
    assert seen[2] == ("PUT", "Digest", b"<urn:a> <urn:b> <urn:c> .")
    assert seen[-1][:2] == ("POST", "Digest")  # the next request sends digest at once
    assert all(s[1] != "Basic" for s in seen[1:])


def test_virtuoso_auth_endpoints_start_with_digest(auth_server: _AuthServer) -> None:
    creds = Credentials(user=USER, password=PASSWORD)
    endpoints = Endpoints(f"{auth_server.url}/digest/sparql-auth")
    with SparqlClient(endpoints, creds) as c:
        assert c.query("ASK {}", accept=JSON).status == 200
    assert "Basic" not in [s[2] for s in auth_server.seen]


def test_wrong_credentials_are_unauthorised_and_never_shown(
        auth_server: _AuthServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for section, creds in [("basic", Credentials(user=USER, password="wrong-secret")),
                           ("digest", Credentials(user=USER, password="wrong-secret")),
                           ("bearer", Credentials(token="wrong-secret"))]:
        with SparqlClient(_endpoints(auth_server, section), creds) as c:
            with pytest.raises(RemoteStoreError) as e:
                c.query("ASK {}", accept=JSON)
            assert (e.value.kind, e.value.status) == ("unauthorised", 401)
            assert "CRINKKG_BACKEND_" in str(e.value.hint)
            for shown in (str(e.value), repr(c), repr(creds), json.dumps(e.value.as_dict()),
                          caplog.text):
                assert "wrong-secret" not in shown
    with SparqlClient(_endpoints(auth_server, "basic")) as c, \
            pytest.raises(RemoteStoreError) as e:
        c.query("ASK {}", accept=JSON)
    assert e.value.kind == "unauthorised" and "wants credentials" in str(e.value.hint)


def test_store_failure_and_redirect(auth_server: _AuthServer) -> None:
    with SparqlClient(Endpoints(auth_server.url + "/fail/sparql")) as c, \
            pytest.raises(RemoteStoreError) as e:
        c.query("ASK {}", accept=JSON)
    assert (e.value.kind, e.value.status) == ("store_failure", 500)
    assert e.value.store_message == "Internal error disk full"
    assert "see its log" in str(e.value.hint)
    with SparqlClient(Endpoints(auth_server.url + "/moved/sparql")) as c, \
            pytest.raises(RemoteStoreError) as e:
        c.query("ASK {}", accept=JSON)
    assert e.value.kind == "store_failure"
    assert "https://elsewhere.example/sparql" in str(e.value)
    assert [s[1] for s in auth_server.seen] == ["/fail/sparql", "/moved/sparql"]


def test_no_answer_is_a_store_failure(auth_server: _AuthServer) -> None:
    with SparqlClient(Endpoints(auth_server.url + "/drop/sparql")) as c, \
            pytest.raises(RemoteStoreError) as e:
        c.query("ASK {}", accept=JSON)
    assert e.value.kind == "store_failure"
    assert "connection broke before the store answered" in str(e.value)


def test_a_stream_that_stalls_or_is_cut(auth_server: _AuthServer) -> None:
    with SparqlClient(Endpoints(auth_server.url + "/slow/sparql"), timeout=0.3) as c:
        answer = c.query_stream("SELECT * {}", accept="text/csv")
        assert answer.status == 200
        with pytest.raises(RemoteStoreError) as e:
            answer.read()
    assert e.value.kind == "timeout" and "may still be running" in str(e.value.hint)
    with SparqlClient(Endpoints(auth_server.url + "/cut/sparql"), timeout=5) as c:
        with pytest.raises(RemoteStoreError) as e:
            c.query_stream("SELECT * {}", accept="text/csv").read()
        assert e.value.kind == "store_failure" and "cut short" in str(e.value)
        with pytest.raises(RemoteStoreError) as e:
            c.query("SELECT * {}", accept="text/csv")
        assert e.value.kind == "store_failure" and "cut short" in str(e.value)


def test_graph_exists_falls_back_to_get(auth_server: _AuthServer) -> None:
    with SparqlClient(_endpoints(auth_server, "nohead")) as c:
        assert c.graph_exists("urn:yes") is True
        assert c.graph_exists("urn:no") is False
    assert [s[0] for s in auth_server.seen] == ["HEAD", "GET", "HEAD", "GET"]
