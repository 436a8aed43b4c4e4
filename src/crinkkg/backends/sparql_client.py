"""A typed HTTP client for a remote SPARQL 1.1 store: Protocol, Update and Graph Store.

The remote backend sits on this module, so that crinkkg can serve over Virtuoso, an
Oxigraph server, Fuseki, GraphDB... It speaks only the W3C protocols, over ``requests``.
:class:`SparqlClient` has ``query``, ``update``, ``get_graph``, ``put_graph``,
``post_graph``, ``delete_graph``, ``graph_exists``, and ``query_stream`` and
``get_graph_stream`` that read a large answer as it arrives. It is given the store's
:class:`~crinkkg.backends.endpoints.Endpoints` and
:class:`~crinkkg.backends.auth.Credentials`; every failure is a
:class:`~crinkkg.backends.remote_errors.RemoteStoreError` that says what, where and what to
do, with a ``kind``.

Threads: a ``requests.Session`` is not documented as thread-safe (its cookie jar and
adapters are shared mutable state), so each thread that uses a client gets a session of its
own (``threading.local``), each with its own pool of keep-alive connections. A lock around
one shared session would serialise every request behind the slowest one
(``bench/client_sessions.py`` measures the two).

Authentication may ask for a request to be sent twice (a digest challenge to basic
credentials, :class:`~crinkkg.backends.auth.Authenticator`): a body that cannot be replayed
(an iterable of chunks) is spooled (memory up to 8 MiB, then a temporary file) while a retry
may still be needed, and streamed as it comes once the scheme is known.
"""

from __future__ import annotations

import http.client
import io
import logging
import re
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import urlsplit

import requests
import urllib3

from crinkkg.backends.auth import ENV_PASSWORD, ENV_TOKEN, ENV_USER, Authenticator, Credentials
from crinkkg.backends.endpoints import Endpoints, redact
from crinkkg.backends.remote_errors import Kind, RemoteStoreError

__all__ = ["Response", "SparqlClient", "StreamedResponse"]

log = logging.getLogger(__name__)

#: a body up to this size is spooled in memory, beyond it in a temporary file
_SPOOL_IN_MEMORY = 8 * 1024 * 1024
#: how much of a store's own error message goes into ours
_STORE_MESSAGE_CHARS = 400

# Virtuoso echoes every default-graph-uri and named-graph-uri of a query back as a response
# header (X-SPARQL-default-graph, X-SPARQL-named-graph), and http.client refuses a response
# with more than 100 headers ("got more than 100 headers": the connection is dropped), so a
# published dataset of ~50 graphs or more could not be read (a large build has one graph
# per stored text). The limit guards against a hostile server; the stores we talk to are configured.
http.client._MAXHEADERS = max(http.client._MAXHEADERS, 100_000)  # type: ignore[attr-defined]

Body = bytes | Iterable[bytes]


@dataclass(frozen=True)
class Response:
    """A store's answer: status, Content-Type (as sent, with parameters), body and headers.

    >>> r = Response(200, "text/plain; charset=utf-8", "é".encode())
    >>> (r.media_type, r.text())
    ('text/plain', 'é')
    """

    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def media_type(self) -> str:
        """The Content-Type without its parameters, lower case."""
        return self.content_type.split(";", 1)[0].strip().lower()

    def text(self) -> str:
        """The body decoded with the charset the store declared (UTF-8 otherwise)."""
        match = re.search(r"charset=\"?([\w.:-]+)", self.content_type, re.IGNORECASE)
        return self.body.decode(match.group(1) if match else "utf-8", errors="replace")


class StreamedResponse:
    """A store's answer read as it arrives: status, Content-Type, headers, then chunks.

    Iterate :meth:`chunks` once (e.g. hand it to a WSGI response): the connection goes back
    to the pool when the iteration ends or is closed, or on :meth:`close`; a failure while
    reading (the client's timeout, a connection cut) is a :class:`RemoteStoreError`.
    """

    def __init__(self, response: requests.Response, fail: Callable[[BaseException],
                 RemoteStoreError]) -> None:
        self._response = response
        self._fail = fail
        self.status: int = response.status_code
        self.content_type: str = response.headers.get("Content-Type", "")
        self.headers: Mapping[str, str] = response.headers

    def __repr__(self) -> str:
        return f"StreamedResponse(status={self.status}, content_type={self.content_type!r})"

    @property
    def media_type(self) -> str:
        """The Content-Type without its parameters, lower case."""
        return self.content_type.split(";", 1)[0].strip().lower()

    def chunks(self, size: int = 65536) -> Iterator[bytes]:
        """The body in chunks of at most ``size`` bytes, as the store sends it."""
        try:
            for chunk in self._response.iter_content(size):
                if chunk:
                    yield chunk
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError,
                OSError) as error:
            raise self._fail(error) from error
        finally:
            self._response.close()

    def read(self) -> bytes:
        """The whole body."""
        return b"".join(self.chunks())

    def close(self) -> None:
        """Give up the rest of the body and the connection."""
        self._response.close()

    def __enter__(self) -> StreamedResponse:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _spool(chunks: Iterable[bytes]) -> IO[bytes]:
    """Collect chunks into a seekable file, so a digest challenge can replay the body."""
    buffer: IO[bytes] = io.BytesIO()
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > _SPOOL_IN_MEMORY and isinstance(buffer, io.BytesIO):
            on_disk = tempfile.TemporaryFile()  # closed by the caller
            on_disk.write(buffer.getvalue())
            buffer = on_disk
        buffer.write(chunk)
    buffer.seek(0)
    return buffer


def _store_message(response: requests.Response) -> str:
    """The store's own error text, without markup, on one line, trimmed."""
    text = response.text or ""
    if "html" in response.headers.get("Content-Type", "").lower():
        text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
        text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    if len(text) > _STORE_MESSAGE_CHARS:
        text = text[:_STORE_MESSAGE_CHARS - 1] + "…"
    return text


def _cut_short(operation: str, method: str, url: str) -> RemoteStoreError:
    return RemoteStoreError(
        "store_failure", operation, method, redact(url), "the store's answer was cut short",
        hint="the store may have crashed or hit one of its limits: see its log")


class SparqlClient:
    """A client of one remote SPARQL 1.1 store, safe to share between threads.

    ``timeout`` (seconds) bounds the wait for each answer (between bytes, as ``requests``
    does); connecting is bounded by the smaller of it and 10 s. Use it as a context manager
    or call :meth:`close` to release the connections. Examples below run against the test
    suite's Oxigraph server (``tests/test_sparql_client.py`` runs them), where ``client`` is
    ``SparqlClient(Endpoints(URL + "/query", URL + "/update", URL + "/store"))``.
    """

    def __init__(self, endpoints: Endpoints, credentials: Credentials | None = None,
                 timeout: float = 60.0) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        self.endpoints = endpoints
        self.credentials = credentials or Credentials()
        self.timeout = timeout
        self._local = threading.local()
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._sessions_lock = threading.Lock()
        self._closed = False
        self._authenticator = Authenticator(
            self.credentials, [endpoints.query, endpoints.update, endpoints.graph_store or ""])

    def __repr__(self) -> str:
        return (f"SparqlClient({self.endpoints!r}, {self.credentials!r}, "
                f"timeout={self.timeout!r})")

    def __enter__(self) -> SparqlClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every thread's session and its connections."""
        self._closed = True
        with self._sessions_lock:
            sessions = list(self._sessions)
            self._sessions.clear()
        for session in sessions:
            session.close()

    # -- SPARQL 1.1 Protocol -------------------------------------------------------------

    def query(self, sparql: str, *, accept: str,
              default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None) -> Response:
        """Run a query; the body is the store's serialisation in the negotiated format.

        Sent as a form POST, so a query of any length fits; ``default_graphs`` and
        ``named_graphs`` become repeated ``default-graph-uri``/``named-graph-uri``.

        >>> r = client.query("ASK { }", accept="application/sparql-results+json")
        >>> (r.status, r.media_type, r.body)
        (200, 'application/sparql-results+json', b'{"head":{},"boolean":true}')
        """
        form = [("query", sparql)]
        form += [("default-graph-uri", g) for g in default_graphs or ()]
        form += [("named-graph-uri", g) for g in named_graphs or ()]
        response = self._send("query", "POST", self.endpoints.query, data=form,
                              headers={"Accept": accept})
        return _response(response)

    def update(self, sparql: str, *, using_graphs: Sequence[str] | None = None,
               using_named_graphs: Sequence[str] | None = None) -> None:
        """Run an update; returns when the store has applied it.

        >>> client.update("INSERT DATA { GRAPH <urn:ex:update> { <urn:a> <urn:b> 1 } }")
        >>> client.graph_exists("urn:ex:update")
        True
        """
        form = [("update", sparql)]
        form += [("using-graph-uri", g) for g in using_graphs or ()]
        form += [("using-named-graph-uri", g) for g in using_named_graphs or ()]
        self._send("update", "POST", self.endpoints.update, data=form)

    def query_stream(self, sparql: str, *, accept: str,
                     default_graphs: Sequence[str] | None = None,
                     named_graphs: Sequence[str] | None = None) -> StreamedResponse:
        """:meth:`query`, with the body read as it arrives (large results, proxying).

        >>> with client.query_stream("SELECT ?x WHERE { VALUES ?x { 1 2 } }",
        ...                          accept="text/tab-separated-values") as answer:
        ...     (answer.status, answer.read())
        (200, b'?x\\n1\\n2\\n')
        """
        form = [("query", sparql)]
        form += [("default-graph-uri", g) for g in default_graphs or ()]
        form += [("named-graph-uri", g) for g in named_graphs or ()]
        return self._stream("query", "POST", self.endpoints.query, data=form,
                            headers={"Accept": accept})

    # -- SPARQL 1.1 Graph Store HTTP Protocol --------------------------------------------

    def get_graph(self, iri: str | None, accept: str) -> Response:
        """A graph's triples (``None``: the default graph) in the format ``accept`` asks.

        A graph the store does not have raises :class:`RemoteStoreError` of kind
        ``not_found``.

        >>> _ = client.put_graph("urn:ex:get", b"<urn:a> <urn:b> <urn:c> .", "text/turtle")
        >>> client.get_graph("urn:ex:get", "application/n-triples").body
        b'<urn:a> <urn:b> <urn:c> .\\n'
        """
        url = self._graph_url(iri)
        return _response(self._send("get graph", "GET", url, headers={"Accept": accept}))

    def get_graph_stream(self, iri: str | None, accept: str) -> StreamedResponse:
        """:meth:`get_graph`, with the body read as it arrives.

        >>> _ = client.put_graph("urn:ex:get", b"<urn:a> <urn:b> <urn:c> .", "text/turtle")
        >>> b"".join(client.get_graph_stream("urn:ex:get", "application/n-triples").chunks())
        b'<urn:a> <urn:b> <urn:c> .\\n'
        """
        return self._stream("get graph", "GET", self._graph_url(iri),
                            headers={"Accept": accept})

    def put_graph(self, iri: str | None, data: Body, content_type: str) -> bool:
        """Replace a graph with ``data`` (bytes, or an iterable of byte chunks streamed).

        Returns True when the store created the graph (201), False when it replaced one.

        >>> client.put_graph("urn:ex:put", b"<urn:a> <urn:b> <urn:c> .", "text/turtle")
        True
        >>> client.put_graph("urn:ex:put", b"<urn:a> <urn:b> <urn:d> .", "text/turtle")
        False
        """
        response = self._send("put graph", "PUT", self._graph_url(iri), data=_body(data),
                              headers={"Content-Type": content_type})
        return response.status_code == 201

    def post_graph(self, iri: str | None, data: Body, content_type: str) -> bool:
        """Add ``data`` to a graph (created if need be). True when the store said 201.

        >>> client.post_graph("urn:ex:post", [b"<urn:a> <urn:b> ", b"<urn:c> .\\n"],
        ...                   "application/n-triples")
        True
        >>> client.post_graph("urn:ex:post", iter([b"<urn:a> <urn:b> <urn:d> ."]),
        ...                   "application/n-triples")
        False
        >>> len(client.get_graph("urn:ex:post", "application/n-triples").body.splitlines())
        2
        """
        response = self._send("post graph", "POST", self._graph_url(iri), data=_body(data),
                              headers={"Content-Type": content_type})
        return response.status_code == 201

    def delete_graph(self, iri: str | None, *, missing_ok: bool = False) -> bool:
        """Drop a graph. True if it was dropped; False if missing and ``missing_ok``.

        >>> _ = client.put_graph("urn:ex:delete", b"<urn:a> <urn:b> 1 .", "text/turtle")
        >>> client.delete_graph("urn:ex:delete")
        True
        >>> client.delete_graph("urn:ex:delete", missing_ok=True)
        False
        """
        accept = {404} if missing_ok else set()
        response = self._send("delete graph", "DELETE", self._graph_url(iri), accept=accept)
        return response.status_code != 404

    def graph_exists(self, iri: str | None) -> bool:
        """Whether the store has the graph: a HEAD, or a GET when HEAD is not allowed.

        >>> client.graph_exists("urn:ex:never-written")
        False
        """
        url = self._graph_url(iri)
        response = self._send("graph exists", "HEAD", url, accept={404, 405, 501})
        if response.status_code in (405, 501):
            response = self._send("graph exists", "GET", url, accept={404}, stream=True)
            response.close()
        return response.status_code != 404

    # -- plumbing ------------------------------------------------------------------------

    def _graph_url(self, iri: str | None) -> str:
        """The Graph Store URL for a graph: ``?graph=IRI`` (or ``graph-uri``), ``?default``."""
        base = self.endpoints.graph_store
        if base is None:
            raise RemoteStoreError(
                "configuration", "graph store", "-", self.endpoints.query,
                "no Graph Store URL is configured for this store",
                hint="give the store's Graph Store Protocol URL (Oxigraph: /store, "
                     "Fuseki: /DATASET/data, Virtuoso: /sparql-graph-crud)")
        if iri is None:
            return base + ("&" if urlsplit(base).query else "?") + "default"
        prepared = requests.PreparedRequest()
        prepared.prepare_url(base, {self.endpoints.graph_param: iri})
        return str(prepared.url)

    def _session(self) -> requests.Session:
        """This thread's session (created on first use), so no two threads share one."""
        if self._closed:
            raise RuntimeError("this SparqlClient is closed: make a new one")
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = "crinkkg-sparql-client"
            self._local.session = session
            with self._sessions_lock:
                self._sessions.add(session)
        return session

    def _replayable(self, data: Any) -> Any:
        """A body a retry can send again, unless no retry can happen with these credentials."""
        if data is None or isinstance(data, (bytes, bytearray, list, str)):
            return data
        if not self._authenticator.may_retry:
            return data  # stream it: nothing will ask for it twice
        return _spool(data)

    def _send(self, operation: str, method: str, url: str, *, data: Any = None,
              headers: Mapping[str, str] | None = None, accept: set[int] | None = None,
              stream: bool = False) -> requests.Response:
        """One exchange, the digest retry, and every failure turned into RemoteStoreError."""
        body = self._replayable(data)
        try:
            response = self._exchange(operation, method, url, body, headers, stream)
            if self._authenticator.answered(response):
                log.info("%s asks for digest authentication: switching to it", redact(url))
                # a stream already sent cannot be sent again: its 401 is the answer
                if body is None or isinstance(body, (bytes, list)) or hasattr(body, "seek"):
                    if hasattr(body, "seek"):
                        body.seek(0)
                    response.close()
                    response = self._exchange(operation, method, url, body, headers, stream)
        finally:
            if hasattr(body, "close") and body is not data:
                body.close()
        if 200 <= response.status_code < 300 or response.status_code in (accept or ()):
            return response
        raise self._status_error(operation, method, url, response)

    def _stream(self, operation: str, method: str, url: str, *, data: Any = None,
                headers: Mapping[str, str] | None = None) -> StreamedResponse:
        response = self._send(operation, method, url, data=data, headers=headers,
                              stream=True)

        def fail(error: BaseException) -> RemoteStoreError:
            if isinstance(error, requests.exceptions.ConnectionError):
                return self._connection_error(operation, method, url, error)
            if isinstance(error, urllib3.exceptions.ReadTimeoutError):
                return self._timeout(operation, method, url)
            return _cut_short(operation, method, url)

        return StreamedResponse(response, fail)

    def _exchange(self, operation: str, method: str, url: str, body: Any,
                  headers: Mapping[str, str] | None, stream: bool) -> requests.Response:
        connect = min(self.timeout, 10.0)
        try:
            response = self._session().request(
                method, url, data=body, headers=dict(headers or {}),
                auth=self._authenticator.auth(), timeout=(connect, self.timeout),
                allow_redirects=False, stream=stream)
        except requests.exceptions.ConnectTimeout as error:
            raise self._unreachable(operation, method, url,
                                    f"no connection within {connect:g} s") from error
        except requests.exceptions.ReadTimeout as error:
            raise self._timeout(operation, method, url) from error
        except requests.exceptions.SSLError as error:
            raise self._unreachable(operation, method, url,
                                    f"TLS failed: {error}") from error
        except requests.exceptions.ConnectionError as error:
            raise self._connection_error(operation, method, url, error) from error
        except requests.exceptions.ChunkedEncodingError as error:
            raise _cut_short(operation, method, url) from error
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as error:
            raise RemoteStoreError(
                "configuration", operation, method, redact(url), f"bad URL: {error}",
                hint="fix the store's endpoint URL") from error
        log.debug("%s %s %s -> %s", operation, method, redact(url), response.status_code)
        return response

    def _unreachable(self, operation: str, method: str, url: str, what: str
                     ) -> RemoteStoreError:
        return RemoteStoreError(
            "unreachable", operation, method, redact(url), f"cannot reach the store: {what}",
            hint="check the endpoint URL (host, port, http or https) and that the store "
                 "is running and reachable from this machine")

    def _timeout(self, operation: str, method: str, url: str) -> RemoteStoreError:
        return RemoteStoreError(
            "timeout", operation, method, redact(url),
            f"no answer within the client's timeout of {self.timeout:g} s",
            hint="the remote query may still be running on the store: only the store's "
                 "own limit (e.g. Virtuoso's MaxQueryExecutionTime, Fuseki's --timeout) "
                 "stops it; simplify the query, or raise the client timeout if the store "
                 "is just slow")

    def _connection_error(self, operation: str, method: str, url: str,
                          error: requests.exceptions.ConnectionError) -> RemoteStoreError:
        """Tell apart: no such host, nothing listening, no answer in time, a broken line."""
        cause = error.args[0] if error.args else None
        if isinstance(cause, urllib3.exceptions.MaxRetryError):
            cause = cause.reason
        if isinstance(cause, urllib3.exceptions.NameResolutionError):
            host = urlsplit(url).hostname
            return self._unreachable(operation, method, url,
                                     f"the host name {host!r} does not resolve")
        if isinstance(cause, urllib3.exceptions.NewConnectionError):
            return self._unreachable(operation, method, url,
                                     "nothing answers at that address (connection refused "
                                     "or no route)")
        if isinstance(cause, urllib3.exceptions.ReadTimeoutError):
            return self._timeout(operation, method, url)
        return RemoteStoreError(
            "store_failure", operation, method, redact(url),
            "the connection broke before the store answered",
            hint="the store may have crashed, restarted or refused the request's size: "
                 "see its log")

    def _status_error(self, operation: str, method: str, url: str,
                      response: requests.Response) -> RemoteStoreError:
        status = response.status_code
        message = _store_message(response)
        said = f": {message}" if message else ""
        where = redact(url)
        kind: Kind
        if status in (401, 403):
            kind = "unauthorised"
            if self.credentials:
                hint = (f"check {ENV_USER}/{ENV_PASSWORD} or {ENV_TOKEN}, and that this "
                        "account may use this endpoint on the store")
            else:
                hint = (f"the store wants credentials: set {ENV_USER} and "
                        f"{ENV_PASSWORD}, or {ENV_TOKEN}")
            what = f"the store refused access (HTTP {status}){said}"
        elif status == 404:
            kind = "not_found"
            what = f"not found (HTTP 404){said}"
            hint = ("the graph does not exist on the store" if "graph" in operation
                    else "check the endpoint URL's path")
        elif 400 <= status < 500:
            kind = "refused"
            what = f"the store refused the request (HTTP {status}){said}"
            hint = {
                400: "the store's message says what it rejects: fix the query or data",
                406: "ask for a format the store can write",
                413: "the request is larger than the store accepts: send it in parts or "
                     "raise the store's limit",
                415: "send the data in a format the store can read",
                429: "the store is rate-limiting: retry later",
            }.get(status, "see the store's message and its documentation")
        elif 300 <= status < 400:
            kind = "store_failure"
            location = response.headers.get("Location", "(no Location)")
            what = f"the store redirects (HTTP {status}) to {redact(location)}"
            hint = "configure the URL it redirects to (requests are not re-sent there)"
        else:
            kind = "store_failure"
            what = f"the store failed (HTTP {status}){said}"
            hint = ("the store failed or hit one of its limits (memory, query time, "
                    "result size): see its log and settings")
        response.close()
        return RemoteStoreError(kind, operation, method, where, what,
                                hint=hint, status=status, store_message=message or None)


def _body(data: Body) -> bytes | Iterator[bytes]:
    """Bytes as they are; any other iterable as an iterator of chunks (never form data)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    return iter(data)


def _response(response: requests.Response) -> Response:
    return Response(status=response.status_code,
                    content_type=response.headers.get("Content-Type", ""),
                    body=response.content, headers=response.headers)
