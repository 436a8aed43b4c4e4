"""Where an IRI of the graph lives on this server: the base maps onto the server's root.

Every IRI under ``Settings.base_iri`` (by default ``https://w3id.org/crinkkg/``) is served
at the same path below this server's root, so ``https://w3id.org/crinkkg/id/russia`` is
``/id/russia`` here, and the ontology's ``#Term`` IRIs land on ``/ontology#Term``.
Documents keep the canonical IRIs; only links in pages point at this server.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from flask import request
from werkzeug.wsgi import get_host

from crinkkg.settings import Settings
from crinkkg.web.context import settings


def base_iri() -> str:
    """The configured base, always ending with ``/``."""
    base = settings().base_iri
    return base if base.endswith("/") else base + "/"


def root_url() -> str:
    """This server's root as clients see it (``--public-url`` when given), ending in ``/``."""
    public = settings().public_url
    if public:
        return public.rstrip("/") + "/"
    return request.host_url.rstrip("/") + request.script_root + "/"


def endpoint_url(settings: Settings, environ: dict) -> str:
    """The SPARQL endpoint's URL as this request names it (``--public-url`` when given): the
    base IRI of its queries and updates; its host as :func:`root_url`'s (werkzeug's
    ``get_host``: a scheme's default port left out).

    >>> endpoint_url(Settings(), {"HTTP_HOST": "example.org:8000", "wsgi.url_scheme": "https",
    ...                           "SCRIPT_NAME": "/kg"})
    'https://example.org:8000/kg/sparql'
    """
    if settings.public_url:
        return settings.public_url.rstrip("/") + "/sparql"
    get = environ.get
    return _endpoint(get("wsgi.url_scheme", "http"), get("HTTP_HOST"), get("SERVER_NAME"),
                     get("SERVER_PORT"), get("SCRIPT_NAME", ""))


@lru_cache(maxsize=256)  # a server is named by a handful of hosts: one get_host each
def _endpoint(scheme: str, host: str | None, server_name: str | None,
              server_port: str | None, script_name: str) -> str:
    environ = {"wsgi.url_scheme": scheme, "SERVER_NAME": server_name,
               "SERVER_PORT": server_port}
    if host is not None:
        environ["HTTP_HOST"] = host
    return f"{scheme}://{get_host(environ)}{script_name}/sparql"


def local_path(iri: str) -> str | None:
    """The path on this server that serves ``iri``, or ``None`` for an outside IRI."""
    base = base_iri()
    if not iri.startswith(base):
        return None
    rest = iri[len(base):]
    path, hash_, fragment = rest.partition("#")
    return (request.script_root + "/" + quote(path, safe="/:@!$&'()*+,;=-._~%")
            + (hash_ + fragment if hash_ else ""))


#: The only schemes that become links in pages: a ``javascript:`` or ``data:`` IRI in the
#: data is shown as text, never made clickable.
LINK_SCHEMES = ("http:", "https:", "mailto:")


#: the WSGI environ key of a request's links made so far (a page links the same
#: properties, sources and states many times)
_HREFS = "crinkkg.hrefs"


def href(iri: str) -> str | None:
    """Where a link to ``iri`` should go: here for the graph's IRIs, else the IRI itself
    when it is an http(s) or mailto IRI; ``None`` (no link) for any other scheme."""
    environ = request.environ
    made = environ.get(_HREFS)
    if made is None:
        made = environ[_HREFS] = {}
    elif iri in made:
        return made[iri]
    local = local_path(iri)
    if local is None and iri[:7].lower().startswith(LINK_SCHEMES):
        local = iri
    made[iri] = local
    return local


def iri_for(path: str) -> str:
    """The canonical IRI of a path on this server (the inverse of :func:`local_path`)."""
    return base_iri() + path.lstrip("/")

