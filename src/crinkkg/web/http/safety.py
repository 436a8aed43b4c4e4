"""Safety rules: what a request may make the server do, and who may write.

- ``SERVICE`` only to allow-listed endpoints (none by default): pyoxigraph would otherwise
  make the HTTP request itself, a server-side request forgery hole.
- ``LOAD`` only when enabled (``--allow-load``).
- ``FROM`` / ``FROM NAMED`` / protocol graph IRIs select graphs of the store: Oxigraph
  never fetches them (``tests/test_safety.py`` proves it with a listener).
- Updates only with updates enabled and the bearer token (compared in constant time).
- Request bodies bounded; RDF/XML from clients parsed without DTDs or entities.
"""

from __future__ import annotations

import hmac

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from crinkkg.backends.contract import search_unavailable
from crinkkg.problems import Problem
from crinkkg.settings import Settings
from crinkkg.sparqltext import (
    deepest_nesting,
    has_keyword,
    line_column,
    operator_count,
    service_targets,
)
from crinkkg.vocab import PREFIXES, SEARCH_SERVICE


def check_services(text: str, settings: Settings, *, what: str = "query") -> None:
    """Refuse ``SERVICE`` clauses whose endpoint is not on the allow-list. The full-text
    search (``SERVICE <urn:x-crinkkg:search>``) is no outside endpoint: the embedded store
    answers it from its index, and over a remote store, which has none, it is a 501 (not
    a request the remote store would fail in its own words)."""
    allowed = set(settings.service_allowlist)
    for target in service_targets(text, PREFIXES):
        if target == SEARCH_SERVICE:
            if what != "query":
                raise Problem(403, "service-refused",
                              f"the {what} calls SERVICE <{SEARCH_SERVICE}>: the full-text "
                              "index is searched by queries only",
                              hint="search in a query, then write what it found with "
                                   "INSERT DATA")
            if settings.backend:
                raise search_unavailable()
            continue
        if target is None:
            raise Problem(403, "service-refused",
                          f"the {what} calls SERVICE with a variable endpoint",
                          hint="name the endpoint with an IRI; only allow-listed endpoints "
                               "may be called")
        if target not in allowed:
            listed = ", ".join(sorted(allowed)) or "none"
            raise Problem(403, "service-refused",
                          f"the {what} calls SERVICE <{target}>, which is not allow-listed "
                          f"(allowed: {listed})",
                          hint="the operator can allow it with --service-allow "
                               f"{target} (env CRINKKG_SERVICE_ALLOWLIST)")


def check_nesting(text: str, settings: Settings, *, what: str = "query") -> None:
    """400 for a query or update nested deeper than ``max_nesting``, before any parser
    sees it (deep nesting crashes or stalls Oxigraph's recursive parser)."""
    found = deepest_nesting(text, settings.max_nesting)
    if found is None:
        return
    depth, offset = found
    line, column = line_column(text, offset)
    source = text.splitlines()[line - 1] if text.splitlines() else ""
    shown = source if len(source) <= 120 else source[max(0, column - 60):column + 60]
    caret = column - 1 if len(source) <= 120 else min(column - 1, 59)
    raise Problem(400, "too-deeply-nested",
                  f"the {what} nests groups, brackets or parentheses {depth} deep; the limit "
                  f"is {settings.max_nesting} (passed at line {line}, column {column})"
                  f"\n    {shown}\n    {' ' * caret}^",
                  hint="flatten it (UNION, VALUES or a property path instead of nested "
                       "groups), or ask the operator for a larger --max-nesting",
                  extra={"max_nesting": settings.max_nesting, "depth": depth, "line": line,
                         "column": column})


def check_operators(text: str, settings: Settings, *, what: str = "query") -> None:
    """400 for a query or update holding more operators than ``max_operators``, before any
    parser sees it (a flat chain of them overflows the stack of a worker that evaluates
    it, as deep nesting does)."""
    found = operator_count(text, settings.max_operators)
    if found is None:
        return
    count, offset = found
    line, column = line_column(text, offset)
    raise Problem(400, "too-many-operators",
                  f"the {what} holds {count} operators (UNION, MINUS, OPTIONAL, FILTER, BIND, "
                  f"||, &&, path steps, arithmetic, comparisons, pattern separators); the limit "
                  f"is {settings.max_operators} (passed at line {line}, column {column})",
                  hint="split it into several requests, or use VALUES or IN lists instead of "
                       "long chains of UNION or ||; or ask the operator for a larger "
                       "--max-operators",
                  extra={"max_operators": settings.max_operators, "operators": count,
                         "line": line, "column": column})


def check_query(text: str, settings: Settings) -> None:
    """Every rule a query must pass before it is evaluated."""
    check_nesting(text, settings)
    check_operators(text, settings)
    check_services(text, settings)


def check_update(text: str, settings: Settings) -> None:
    """Every rule an update must pass before it is applied."""
    check_nesting(text, settings, what="update")
    check_operators(text, settings, what="update")
    check_services(text, settings, what="update")
    if not settings.allow_load and has_keyword(text, "LOAD"):
        _check_update_syntax(text)  # a malformed update is a 400 whatever it holds
        raise Problem(403, "load-refused", "LOAD is switched off on this server: it would make "
                      "the server fetch a URL", hint="send the data with INSERT DATA or the "
                      "Graph Store Protocol, or start the server with --allow-load")


def _check_update_syntax(text: str) -> None:
    """400 for an update that does not parse, checked without running it (Oxigraph has no
    parse-only call, and running LOAD would fetch): rdflib's SPARQL 1.1 Update grammar."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        parseUpdate(text)
    except ParseException as exc:
        raise Problem(400, "syntax-error", f"the update does not parse: {exc}",
                      hint="check the SPARQL syntax at that position") from None


def check_update_allowed(settings: Settings, authorization: str | None) -> None:
    """403 when updates are off; 401 unless ``Authorization: Bearer <token>`` matches."""
    if not settings.enable_update:
        raise Problem(403, "updates-disabled",
                      "this server is read-only: updates and graph-store writes are switched "
                      "off", hint="the operator can start it with --enable-update and a token "
                                  "in CRINKKG_UPDATE_TOKEN")
    token = settings.update_token or ""
    scheme, _, given = (authorization or "").partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="crinkkg", error="invalid_token"'}
    if scheme.lower() != "bearer" or not given.strip():
        raise Problem(401, "unauthorized", "writes need an Authorization: Bearer <token> header",
                      hint="send the token the server was started with (CRINKKG_UPDATE_TOKEN)",
                      headers={"WWW-Authenticate": 'Bearer realm="crinkkg"'})
    if not token or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Problem(401, "unauthorized", "the bearer token is not the server's update token",
                      hint="check CRINKKG_UPDATE_TOKEN", headers=challenge)


def too_large(limit: int, length: int | None = None) -> Problem:
    """The 413 a body beyond ``limit`` bytes earns (``length``: its size, when known)."""
    said = f"has {length} bytes; the limit is {limit}" if length is not None \
        else f"is larger than the server's limit of {limit} bytes"
    return Problem(413, "too-large", f"the request body {said}",
                   hint="send less at once, or ask the operator for a larger --max-body-bytes",
                   extra={"max_body_bytes": limit})


def check_body_size(length: int | None, settings: Settings) -> None:
    """413 for a body larger than ``max_body_bytes``."""
    if length is not None and length > settings.max_body_bytes:
        raise too_large(settings.max_body_bytes, length)


def read_body(environ: dict, limit: int) -> bytes:
    """The request body as sent: ``Content-Length`` bytes, or a chunked body to its end;
    the 413 of :func:`too_large` beyond ``limit`` bytes, unread."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Problem(400, "bad-content-length", "the Content-Length header is not a number",
                      hint="send the body's length in bytes") from None
    stream = environ["wsgi.input"]
    if length:
        if length > limit:
            raise too_large(limit, length)
        return stream.read(length)
    if environ.get("wsgi.input_terminated"):  # chunked: read to the end, up to the limit
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise too_large(limit)
        return body
    return b""


def check_rdfxml(body: bytes) -> None:
    """Refuse RDF/XML with a DTD or entity declarations (no external entities, no
    expansion bombs), and XML that is not well-formed."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise Problem(400, "xml-dtd-refused",
                      "RDF/XML with a DOCTYPE or entity declarations is not accepted",
                      hint="expand the entities (write full IRIs) or send Turtle")
    try:
        defused_fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Problem(400, "xml-dtd-refused", f"the RDF/XML was refused: {exc}",
                      hint="expand the entities (write full IRIs) or send Turtle") from None
    except Exception as exc:  # noqa: BLE001 (ParseError and friends)
        raise Problem(400, "syntax-error", f"the RDF/XML is not well-formed XML: {exc}",
                      hint="check the XML") from None
