"""Compression of answers: gzip when the client takes it and the body is worth it.

A body of at least :data:`MIN_SIZE` bytes in a text-like type is sent gzip-compressed when
``Accept-Encoding`` allows it, with ``Vary: Accept-Encoding``; :meth:`Pipeline.finish
<crinkkg.web.pipeline.Pipeline.finish>` applies it to every answer. Header parsing is
werkzeug's (``parse_accept_header``), gzip the standard library's. flask-compress cannot be
used: it is a Flask ``after_request`` hook, and the busiest answers (queries at
``/sparql``) never pass through Flask.
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache

from werkzeug.datastructures import Accept
from werkzeug.http import parse_accept_header

#: Smaller bodies are sent as they are (gzip's header and the CPU cost outweigh the gain).
MIN_SIZE = 1024
_COMPRESSIBLE = re.compile(r"text/|application/(?:[\w.+-]*(?:json|xml|turtle|trig|triples|"
                           r"quads|javascript|sparql[\w.+-]*))|image/svg\+xml")


@lru_cache(maxsize=64)  # clients repeat their Accept-Encoding
def accepts_gzip(header: str | None) -> bool:
    """True when ``Accept-Encoding`` allows gzip (``gzip``, ``x-gzip`` or ``*``, q > 0)."""
    if not header or "gzip" not in header and "*" not in header:
        return False
    accepted = parse_accept_header(header, Accept)  # "*" matches gzip too
    return max(accepted["gzip"], accepted["x-gzip"]) > 0


def compressible(content_type: str, length: int | None) -> bool:
    """Whether an answer of this type and length is worth gzip (``None``: length unknown).

    >>> compressible("application/sparql-results+json", 4096), compressible("image/png", 4096)
    (True, False)
    """
    return (length is None or length >= MIN_SIZE) and _compressible_type(content_type)


@lru_cache(maxsize=64)  # a server answers in a handful of types
def _compressible_type(content_type: str) -> bool:
    return bool(_COMPRESSIBLE.match(content_type))


def gzipped(headers: list[tuple[str, str]], data: bytes) -> bytes:
    """``data`` gzip-compressed, its ``Content-Length`` and ``Content-Encoding`` set."""
    data = gzip.compress(data, compresslevel=5, mtime=0)
    headers[:] = [(k, v) for k, v in headers if k.lower() != "content-length"]
    headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(data)))]
    return data
