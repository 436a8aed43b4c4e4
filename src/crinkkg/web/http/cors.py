"""Cross-origin resource sharing, configured by ``Settings.cors_origins`` (reads) and
``Settings.cors_write_origins`` (writes).

Reads are open by default (``*``) so that notebooks and web pages elsewhere can query the
endpoint and read graphs; switched off with ``--cors-origin none``, or limited to a list
of origins. Writes (updates, graph-store PUT/POST/DELETE) are never opened to another
origin unless it is named with ``--cors-write-origin``: a preflight from any other origin
allows neither ``PUT``/``DELETE`` nor the ``Authorization`` header every write needs, and
a write's response carries no ``Access-Control-Allow-Origin`` for it.
"""

from __future__ import annotations

from flask import Response, request

from crinkkg.settings import Settings

ALLOWED_METHODS = "GET, POST, PUT, DELETE, HEAD, OPTIONS"
READ_METHODS = "GET, POST, HEAD, OPTIONS"  # POST: queries by form or sparql-query body
READ_HEADERS = "Accept, Content-Type"
WRITE_HEADERS = "Accept, Authorization, Content-Type, Content-Encoding"
EXPOSED_HEADERS = "Content-Type, Retry-After, Server-Timing, Location, ETag, Last-Modified"


def allowed_origin(settings: Settings, origin: str | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for reads from ``origin``, or ``None``."""
    return _allow(settings.cors_origins, origin)


def write_origin(settings: Settings, origin: str | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for writes from ``origin``, or ``None``
    (the default: no other origin may write)."""
    return _allow(settings.cors_write_origins, origin)


def _allow(origins: tuple[str, ...], origin: str | None) -> str | None:
    if not origin or not origins:
        return None
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


#: the WSGI environ key that marks a request as a write
WRITE = "crinkkg.write"


def mark_write(environ: dict) -> None:
    """Say that this request is a write (its answer opens only to write origins)."""
    environ[WRITE] = True


def answer_headers(settings: Settings, environ: dict) -> tuple[tuple[str, str], ...]:
    """The CORS headers of any answer to this request: a read's for reads, a write's for
    writes (:func:`mark_write`); none for an origin that is not allowed.

    >>> answer_headers(Settings(), {"HTTP_ORIGIN": "https://a.example"})[0]
    ('Access-Control-Allow-Origin', '*')
    >>> answer_headers(Settings(), {"HTTP_ORIGIN": "https://a.example", WRITE: True})
    ()
    """
    origin = environ.get("HTTP_ORIGIN")
    allowed = write_origin(settings, origin) if environ.get(WRITE) \
        else allowed_origin(settings, origin)
    if allowed is None:
        return ()
    headers = (("Access-Control-Allow-Origin", allowed),
               ("Access-Control-Expose-Headers", EXPOSED_HEADERS))
    return headers if allowed == "*" else (*headers, ("Vary", "Origin"))


def preflight_headers(settings: Settings, origin: str | None) -> list[tuple[str, str]]:
    """The headers of the ``204`` answer to an ``OPTIONS`` preflight (or a plain
    ``OPTIONS``) from ``origin``; the pipeline adds the allowed origin."""
    headers = [("Allow", ALLOWED_METHODS)]
    if write_origin(settings, origin):
        headers += [("Access-Control-Allow-Methods", ALLOWED_METHODS),
                    ("Access-Control-Allow-Headers", WRITE_HEADERS),
                    ("Access-Control-Max-Age", "600")]
    elif allowed_origin(settings, origin):
        headers += [("Access-Control-Allow-Methods", READ_METHODS),
                    ("Access-Control-Allow-Headers", READ_HEADERS),
                    ("Access-Control-Max-Age", "600")]
    return headers


def preflight(settings: Settings) -> Response:
    """The answer to an ``OPTIONS`` preflight, for Flask routes."""
    return Response(status=204, headers=preflight_headers(settings, request.headers.get("Origin")))
