"""Where a remote SPARQL store answers: its query, update and Graph Store URLs.

The URLs are checked before any request, so that a wrong setting is named at start-up
rather than found by the first query; a URL never carries credentials (they come from the
environment, :mod:`crinkkg.backends.auth`), and :func:`redact` keeps any that slipped in
out of messages and logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from crinkkg.backends.auth import ENV_PASSWORD, ENV_USER
from crinkkg.backends.remote_errors import RemoteStoreError

__all__ = ["Endpoints", "redact"]

#: Virtuoso's Graph Store endpoint names its graph ``graph-uri``; the W3C protocol ``graph``.
_VIRTUOSO_GRAPH_CRUD = re.compile(r"/sparql-graph-crud(-auth)?/?$")


def _check_url(name: str, url: str) -> None:
    """Refuse a URL that cannot work, before any request, naming the setting to fix."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteStoreError(
            "configuration", "endpoints", "-", url or "(empty)",
            f"the {name} URL is not an http(s) URL with a host",
            hint=f"give the {name} URL in full, like http://localhost:7878/query")
    if parts.username is not None or parts.password is not None:
        raise RemoteStoreError(
            "configuration", "endpoints", "-", redact(url),
            f"the {name} URL holds a user name or password",
            hint=f"remove them from the URL and set {ENV_USER} and {ENV_PASSWORD} "
                 "instead, so they are never logged")


def redact(url: str) -> str:
    """The URL without any user information, for messages and logs.

    >>> redact("http://dba:s3cret@localhost:8890/sparql")
    'http://***@localhost:8890/sparql'
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc="***@" + host).geturl()


@dataclass(frozen=True)
class Endpoints:
    """Where a remote store answers: query, update and (optionally) Graph Store URLs.

    ``update`` defaults to ``query`` (one URL for both, as Virtuoso and Fuseki's
    ``/dataset`` do); ``graph_param`` is the Graph Store's graph parameter: ``graph``
    (the W3C name) unless the Graph Store URL is Virtuoso's ``/sparql-graph-crud[-auth]``,
    which calls it ``graph-uri``. Empty strings mean "derive it", and are filled in.

    >>> Endpoints("http://localhost:7878/query", "http://localhost:7878/update",
    ...           "http://localhost:7878/store").graph_param
    'graph'
    >>> e = Endpoints("http://localhost:8890/sparql",
    ...               graph_store="http://localhost:8890/sparql-graph-crud")
    >>> (e.update, e.graph_param)
    ('http://localhost:8890/sparql', 'graph-uri')
    >>> Endpoints("localhost:7878/query")
    Traceback (most recent call last):
    ...
    crinkkg.backends.remote_errors.RemoteStoreError: endpoints: the query URL is not an \
http(s) URL with a host (- localhost:7878/query)
      hint: give the query URL in full, like http://localhost:7878/query
    """

    query: str
    update: str = ""
    graph_store: str | None = None
    graph_param: str = ""

    def __post_init__(self) -> None:
        _check_url("query", self.query)
        if not self.update:
            object.__setattr__(self, "update", self.query)
        _check_url("update", self.update)
        if self.graph_store is not None:
            _check_url("Graph Store", self.graph_store)
        if not self.graph_param:
            virtuoso = (self.graph_store is not None
                        and _VIRTUOSO_GRAPH_CRUD.search(urlsplit(self.graph_store).path))
            object.__setattr__(self, "graph_param", "graph-uri" if virtuoso else "graph")
