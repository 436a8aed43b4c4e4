"""What every request meets first, whichever handler answers it:

- the ``Host`` header is checked before anything can use it as an IRI: a repeated,
  malformed, IDNA-invalid or unlisted host is a 400 (the allowed hosts: loopback names, the
  ``--host`` the server listens on, the host of ``--public-url`` and ``--allowed-host``);
- a request body sent with ``Content-Encoding: gzip`` is decoded (within the body limit,
  413 beyond it); any other content coding is a 415, never read as plain text;
- every response says ``X-Content-Type-Options: nosniff`` and a ``Referrer-Policy``, and
  every page a ``Content-Security-Policy`` without inline script or style that no other
  site may frame.
"""

from __future__ import annotations

import io
import ipaddress
import re
import zlib
from functools import lru_cache
from urllib.parse import urlsplit

import idna

from crinkkg.problems import Problem
from crinkkg.settings import Settings
from crinkkg.web.http.safety import read_body, too_large

LOOPBACK = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("", "0.0.0.0", "::", "*")
#: Pages load their script, style and images from this server only.
#: The two fixed style sheets that YASGUI's table column resizer (static/vendor/yasgui) puts
#: in a <style> element: allowed by their hashes, so no 'unsafe-inline' is needed (tested
#: against the vendored bundle in tests/test_vendored.py).
YASGUI_STYLE_HASHES = ("'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk='",
                       "'sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg='")
CSP = ("default-src 'self'; script-src 'self'; "
       f"style-src 'self' {' '.join(YASGUI_STYLE_HASHES)}; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [("X-Content-Type-Options", "nosniff"),
                    ("Referrer-Policy", "strict-origin-when-cross-origin")]
PAGE_HEADERS = [("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY")]

_HOST = re.compile(r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._-]+))"
                   r"(?::(?P<port>[0-9]{1,5}))?")


@lru_cache(maxsize=128)  # clients repeat their Host; errors are raised, never cached
def host_name(value: str) -> str:
    """The lower-case host name of a ``Host`` header value (the port dropped); raises
    ``ValueError`` saying what is wrong with it.

    >>> host_name("Example.org:8000"), host_name("[::1]:80"), host_name("xn--bcher-kva.de")
    ('example.org', '::1', 'xn--bcher-kva.de')
    >>> host_name("a.org, b.org")
    Traceback (most recent call last):
    ValueError: 'a.org, b.org' is not one host name with an optional port
    """
    m = _HOST.fullmatch(value)
    if m is None:
        raise ValueError(f"{value!r} is not one host name with an optional port")
    if m.group("port") and int(m.group("port")) > 65535:
        raise ValueError(f"port {m.group('port')} is out of range")
    if m.group("ip6"):
        try:
            return str(ipaddress.IPv6Address(m.group("ip6")))
        except ValueError:
            raise ValueError(f"[{m.group('ip6')}] is not an IPv6 address") from None
    name = m.group("name").lower()
    name = name[:-1] if name.endswith(".") else name
    labels = name.split(".")
    if len(name) > 253 or any(not 0 < len(label) <= 63 for label in labels):
        raise ValueError(f"{value!r} has an empty or too long label")
    for label in labels:
        if label.startswith("-") or label.endswith("-"):
            raise ValueError(f"the label {label!r} starts or ends with a hyphen")
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError) as exc:
                raise ValueError(f"the label {label!r} is not valid IDNA: {exc}") from None
    return name


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The host names this server answers to; ``None`` when any valid name will do."""
    extra = {h.strip().lower() for h in settings.allowed_hosts if h.strip()}
    if "*" in extra:
        return None
    hosts = {*LOOPBACK, *extra}
    if settings.host not in WILDCARDS:
        hosts.add(settings.host.strip("[]").lower())
    if settings.public_url:
        public = urlsplit(settings.public_url).hostname
        if public:
            hosts.add(public.lower())
    return frozenset(hosts)


def check_public_url(url: str) -> str | None:
    """What is wrong with a ``--public-url`` value, or ``None`` when it is usable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "it must be an absolute http:// or https:// URL"
    if parts.query or parts.fragment or any(c in url for c in ' <>"{}|\\^`'):
        return "it must not hold a query, a fragment, spaces or <>\"{}|\\^` characters"
    try:
        host_name(parts.netloc.rpartition("@")[2])
    except ValueError as exc:
        return str(exc)
    return None


class RequestGuard:
    """The checks every request meets first, whichever handler answers it (see the module
    docstring); the pipeline answers the :class:`Problem` they raise."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.hosts = allowed_hosts(settings)

    def check(self, environ: dict) -> None:
        """Raise the :class:`Problem` this request earns before anything reads it; decode
        a gzip-compressed body in place."""
        self.check_host(environ)
        if environ.get("HTTP_CONTENT_ENCODING") is not None:
            self._decode_body(environ)

    def check_host(self, environ: dict) -> None:
        """Raise the 400 a request with an unusable or unknown ``Host`` earns."""
        raw = environ.get("HTTP_HOST")
        if raw is None:  # HTTP/1.0 without Host: the address the server listens on
            return
        try:
            name = host_name(raw)
        except ValueError as exc:
            raise Problem(400, "bad-host", f"the Host header is not usable: {exc}",
                          hint="send one Host header holding a host name or address and an "
                               "optional port") from None
        if self.hosts is not None and name not in self.hosts:
            raise Problem(400, "unknown-host", f"this server does not answer to the host "
                          f"{name!r}", hint="use one of " + ", ".join(sorted(self.hosts)) +
                          "; the operator can add it with --allowed-host (or set "
                          "--public-url)")

    def _decode_body(self, environ: dict) -> None:
        codings = [c.strip().lower() for c in environ["HTTP_CONTENT_ENCODING"].split(",")]
        codings = [c for c in codings if c and c != "identity"]
        del environ["HTTP_CONTENT_ENCODING"]
        if not codings:
            return
        if codings not in (["gzip"], ["x-gzip"]):
            raise Problem(415, "unsupported-content-encoding",
                          f"the body is sent with Content-Encoding: {', '.join(codings)}, "
                          "which this server does not decode",
                          hint="send the body uncompressed, or gzip-compressed with "
                               "Content-Encoding: gzip",
                          headers={"Accept-Encoding": "gzip, identity"})
        limit = self.settings.max_body_bytes
        data = read_body(environ, limit)
        out = b""
        if data:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                out = inflater.decompress(data, limit + 1)
            except zlib.error as exc:
                raise Problem(400, "bad-gzip", f"the body is not valid gzip data: {exc}",
                              hint="compress the body with gzip, or send it uncompressed "
                                   "without Content-Encoding") from None
            if len(out) > limit or inflater.unconsumed_tail:
                raise too_large(limit)
            if not inflater.eof:
                raise Problem(400, "bad-gzip", "the gzip body is truncated",
                              hint="send the whole compressed body")
        environ["wsgi.input"] = io.BytesIO(out)
        environ["CONTENT_LENGTH"] = str(len(out))
