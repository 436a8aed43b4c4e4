"""Who crinkkg is to a remote SPARQL store: the credentials, and how each request carries
them.

:class:`Credentials` are HTTP basic or digest (user and password) or a bearer token, read
from the environment by :func:`credentials_from_env`; never logged, never in a repr.

:class:`Authenticator` chooses the scheme. User and password are sent as basic credentials
first (most stores behind a proxy use basic) unless a URL is one of Virtuoso's ``...-auth``
endpoints, which use digest. When a store answers 401 with a ``WWW-Authenticate: Digest``
challenge the client switches to digest for good and retries that request once; so while
basic has not yet been accepted, a request body must be one that can be sent twice
(:attr:`Authenticator.may_retry`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from crinkkg.backends.remote_errors import RemoteStoreError

__all__ = ["ENV_PASSWORD", "ENV_TOKEN", "ENV_USER", "Authenticator", "Credentials",
           "credentials_from_env"]

ENV_USER = "CRINKKG_BACKEND_USER"
ENV_PASSWORD = "CRINKKG_BACKEND_PASSWORD"
ENV_TOKEN = "CRINKKG_BACKEND_TOKEN"

#: Virtuoso's authenticated endpoints (``/sparql-auth``, ``/sparql-graph-crud-auth``) use
#: digest: starting with it never sends the password in clear as basic would.
_VIRTUOSO_AUTH = re.compile(r"/sparql(-graph-crud)?-auth/?$")
_DIGEST_CHALLENGE = re.compile(r"(^|,)\s*digest\s", re.IGNORECASE)


@dataclass(frozen=True)
class Credentials:
    """How to authenticate: user and password (basic or digest), a bearer token, or none.

    The secrets never show in a repr, a log line or an error message:

    >>> Credentials(user="dba", password="s3cret")
    Credentials(user='dba', password=***)
    >>> Credentials(token="abc")
    Credentials(token=***)
    >>> bool(Credentials())
    False
    """

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.user is None) != (self.password is None):
            missing = ENV_PASSWORD if self.password is None else ENV_USER
            raise RemoteStoreError(
                "configuration", "credentials", "-", "(environment)",
                "a user name and a password go together, one is missing",
                hint=f"set {missing} too, or unset both {ENV_USER} and {ENV_PASSWORD}")
        if self.token is not None and self.user is not None:
            raise RemoteStoreError(
                "configuration", "credentials", "-", "(environment)",
                "both a bearer token and a user name and password are set",
                hint=f"keep one: {ENV_TOKEN}, or {ENV_USER} and {ENV_PASSWORD}")

    def __bool__(self) -> bool:
        return self.user is not None or self.token is not None

    def __repr__(self) -> str:
        if self.token is not None:
            return "Credentials(token=***)"
        if self.user is not None:
            return f"Credentials(user={self.user!r}, password=***)"
        return "Credentials()"


def credentials_from_env(environ: Mapping[str, str]) -> Credentials:
    """Read ``CRINKKG_BACKEND_USER``/``_PASSWORD`` or ``CRINKKG_BACKEND_TOKEN``.

    Takes the environment as an argument, so that only the settings layer reads
    ``os.environ``. Empty values count as unset.

    >>> credentials_from_env({"CRINKKG_BACKEND_TOKEN": "t0k"})
    Credentials(token=***)
    >>> credentials_from_env({"CRINKKG_BACKEND_USER": "dba"})
    Traceback (most recent call last):
    ...
    crinkkg.backends.remote_errors.RemoteStoreError: credentials: a user name and a \
password go together, one is missing (- (environment))
      hint: set CRINKKG_BACKEND_PASSWORD too, or unset both CRINKKG_BACKEND_USER and \
CRINKKG_BACKEND_PASSWORD
    """
    def get(name: str) -> str | None:
        return environ.get(name) or None

    return Credentials(user=get(ENV_USER), password=get(ENV_PASSWORD), token=get(ENV_TOKEN))


class _BearerAuth(AuthBase):
    """``Authorization: Bearer TOKEN``; its repr hides the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(***)"


class Authenticator:
    """The ``requests`` auth each request to one store carries, learnt from its answers.

    ``urls`` are the store's endpoints: one of Virtuoso's ``...-auth`` among them starts
    with digest; the scheme, once learnt, holds for every later request.

    >>> a = Authenticator(Credentials(user="dba", password="pw"), ["http://h/sparql"])
    >>> (type(a.auth()).__name__, a.may_retry)
    ('HTTPBasicAuth', True)
    >>> a = Authenticator(Credentials(user="dba", password="pw"), ["http://h/sparql-auth"])
    >>> (type(a.auth()).__name__, a.may_retry)
    ('HTTPDigestAuth', True)
    >>> Authenticator(Credentials(token="t"), []).auth(), Authenticator(Credentials(), []).auth()
    (_BearerAuth(***), None)
    """

    def __init__(self, credentials: Credentials, urls: Iterable[str]) -> None:
        self._basic: AuthBase | None = None
        self._digest: AuthBase | None = None
        self._bearer: AuthBase | None = None
        # "digest" once a store asked for it; "basic" proven once a store accepted it
        self._scheme: str | None = None
        if credentials.token is not None:
            self._bearer = _BearerAuth(credentials.token)
        elif credentials.user is not None and credentials.password is not None:
            self._basic = HTTPBasicAuth(credentials.user, credentials.password)
            self._digest = HTTPDigestAuth(credentials.user, credentials.password)
            if any(_VIRTUOSO_AUTH.search(urlsplit(u).path) for u in urls):
                self._scheme = "digest"

    def auth(self) -> AuthBase | None:
        """What the next request carries (None: no credentials)."""
        if self._bearer is not None:
            return self._bearer
        if self._basic is None:
            return None
        return self._digest if self._scheme == "digest" else self._basic

    @property
    def may_retry(self) -> bool:
        """Whether an answer may still ask for a request to be sent again (user and
        password, and basic not yet accepted): its body must then be replayable."""
        return self._basic is not None and self._scheme != "basic"

    def answered(self, response: requests.Response) -> bool:
        """Learn from a store's answer; True when it is a digest challenge to credentials
        not yet sent as digest: digest is used from now on, and the request may be sent
        again."""
        if self._basic is None:
            return False
        if (response.status_code == 401 and self._scheme != "digest"
                and _DIGEST_CHALLENGE.search(
                    response.headers.get("WWW-Authenticate", "") + " ")):
            self._scheme = "digest"
            return True
        if 200 <= response.status_code < 300 and self._scheme is None:
            self._scheme = "basic"
        return False
