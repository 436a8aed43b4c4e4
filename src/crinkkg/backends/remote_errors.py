"""What goes wrong with a remote SPARQL store, as one error that says what, where and what
to do, with a ``kind`` a caller reacts to without parsing the message.

The client (:mod:`crinkkg.backends.sparql_client`), the endpoints
(:mod:`crinkkg.backends.endpoints`) and the credentials (:mod:`crinkkg.backends.auth`) all
fail with it, so a caller catches one type whatever went wrong.
"""

from __future__ import annotations

from typing import Literal

from crinkkg.errors import CrinkError

__all__ = ["Kind", "RemoteStoreError"]

Kind = Literal["configuration", "unreachable", "timeout", "unauthorised", "refused",
               "not_found", "store_failure"]


class RemoteStoreError(CrinkError):
    """A remote SPARQL store could not do what was asked: what, where, what to do.

    ``kind`` tells the caller how to react without parsing the message:

    - ``configuration``: an endpoint URL is not usable as given;
    - ``unreachable``: no connection (refused, unknown host, TLS failure, connect timeout);
    - ``timeout``: connected, but no answer within the client's timeout;
    - ``unauthorised``: HTTP 401 or 403;
    - ``refused``: another 4xx (a query or data the store rejects, 406, 413, 415...);
    - ``not_found``: HTTP 404 (a graph that does not exist, or a wrong endpoint path);
    - ``store_failure``: 5xx, a redirect, or an answer cut short.

    >>> e = RemoteStoreError("refused", "query", "POST", "http://h/sparql", "bad query",
    ...                      status=400, hint="fix the query")
    >>> print(e)
    query: bad query (POST http://h/sparql)
      hint: fix the query
    >>> e.as_dict()["kind"], e.exit_code
    ('refused', 7)
    """

    exit_code = 7

    def __init__(self, kind: Kind, operation: str, method: str, url: str, what: str, *,
                 hint: str, status: int | None = None, store_message: str | None = None
                 ) -> None:
        super().__init__(f"{operation}: {what} ({method} {url})", hint=hint)
        self.kind: Kind = kind
        self.operation = operation
        self.method = method
        self.url = url
        self.status = status
        self.store_message = store_message
        #: raised by a version switch that stopped half-way: its mark stays held, and the
        #: staged copies are kept for the publish that completes it
        self.switch_held = False

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "kind": self.kind, "operation": self.operation,
                "method": self.method, "url": self.url, "status": self.status,
                "store_message": self.store_message}
