"""Errors an HTTP client can act on: a status, what went wrong, where, and what to do.

A :class:`Problem` travels from wherever it is raised (the protocol parser, a safety rule,
a query worker) to the error handler, which writes it as JSON or text. This module does not
import Flask: query workers build problems too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from crinkkg.errors import AnchorError, ValidationError
from crinkkg.sparqltext import Unreadable, declared_prefixes, tokenize
from crinkkg.vocab import PREFIXES

_POSITION = re.compile(r"error at (\d+):(\d+):?\s*")
_CHAR_CLASS = re.compile(r",?\s*\[[^\]]*\]")


@dataclass(eq=False)
class Problem(Exception):
    """An error response: ``status``, a machine-readable ``kind``, a sentence, a hint."""

    status: int
    kind: str
    message: str
    hint: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, object]:
        """The JSON body of the response."""
        body: dict[str, object] = {"error": self.kind, "status": self.status,
                                   "message": self.message}
        if self.hint:
            body["hint"] = self.hint
        body.update(self.extra)
        return body

    def as_text(self) -> str:
        """The plain-text body of the response."""
        text = f"{self.status} {self.kind}: {self.message}\n"
        if self.hint:
            text += f"hint: {self.hint}\n"
        return text

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"

    def to_wire(self) -> tuple:
        """A picklable tuple (for the pipe between a worker and the server)."""
        return ("error", self.status, self.kind, self.message, self.hint, self.extra,
                self.headers)

    @classmethod
    def from_wire(cls, reply: tuple) -> Problem:
        _, status, kind, message, hint, extra, headers = reply
        return cls(status, kind, message, hint, dict(extra), dict(headers))


_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])(?:/[^\s/'\"<>():,;]+){2,}")


def without_paths(text: str, roots: list | tuple = ()) -> str:
    """``text`` with the server's file paths cut to what a client may see: a path under
    one of ``roots`` (absolute folders: the inputs, the store) from that folder's name on,
    any other absolute path to its last part. IRIs are left alone.

    >>> without_paths("/srv/kg/data/x.ttl:3: bad; see https://w3id.org/a/b", ["/srv/kg/data"])
    'data/x.ttl:3: bad; see https://w3id.org/a/b'
    >>> without_paths("cannot read /tmp/abc/STORE.d/v1/db/000010.sst")
    'cannot read 000010.sst'
    """
    for root in sorted((str(r).rstrip("/") for r in roots), key=len, reverse=True):
        if root and root != "/":
            text = text.replace(root + "/", root.rsplit("/", 1)[-1] + "/")
    return _ABSOLUTE_PATH.sub(lambda m: m.group(0).rsplit("/", 1)[-1], text)


def wants_json(accept: str | None) -> bool:
    """JSON error bodies for clients that accept JSON; plain text for the rest."""
    return bool(accept) and "json" in accept.lower()  # type: ignore[union-attr]


def render(problem: Problem, accept: str | None) -> tuple[str, bytes]:
    """The content type and body of the error response for a client."""
    if wants_json(accept):
        return "application/json", problem.as_json().encode()
    return "text/plain; charset=utf-8", problem.as_text().encode()


def _tidy_expected(detail: str) -> str:
    """Oxigraph lists every character class it expected; keep the words a person reads."""
    detail = _CHAR_CLASS.sub("", detail).replace("\n", " ")
    detail = re.sub(r"\s+", " ", detail).strip().rstrip(",")
    return detail


def syntax_problem(exc: BaseException, text: str, *, what: str = "query",
                   column_shift: int = 0) -> Problem:
    """A 400 for a SPARQL syntax error, with line, column and the offending line marked.

    ``column_shift`` undoes text the server put in front of line 1 (an injected ``BASE``).

    >>> p = syntax_problem(SyntaxError("error at 1:6: expected one of \\"}\\", [_]"), "ASK {")
    >>> p.extra["line"], p.extra["column"]
    (1, 6)
    >>> p.message.splitlines()[0]
    'the query does not parse: line 1, column 6: expected one of "}"'
    """
    if what in ("query", "update"):
        unknown = unknown_prefix(text, column_shift)
        if unknown is not None:
            return unknown
    raw = str(exc)
    line = column = None
    m = _POSITION.search(raw)
    detail = raw
    if m:
        line, column = int(m.group(1)), int(m.group(2))
        if line == 1 and column_shift:
            column = max(1, column - column_shift)
        detail = raw[m.end():]
    detail = _tidy_expected(detail) or "unexpected input"
    where = f"line {line}, column {column}: " if line else ""
    message = f"the {what} does not parse: {where}{detail}"
    extra: dict[str, object] = {"line": line, "column": column}
    if line:
        lines = text.splitlines() or [""]
        if 1 <= line <= len(lines):
            source = lines[line - 1]
            message += f"\n    {source}\n    {' ' * max(0, (column or 1) - 1)}^"
            extra["text"] = source
    return Problem(400, "syntax-error", message,
                   hint=f"fix the SPARQL {what} at that position (the prefixes "
                        f"{_predeclared()} are predeclared)", extra=extra)


def _predeclared() -> str:

    return ", ".join(f"{p}:" for p in PREFIXES)


def unknown_prefix(text: str, column_shift: int = 0) -> Problem | None:
    """A 400 naming the first prefix used but neither declared nor predeclared, with a
    caret on it and the list of every predeclared prefix; None if there is none.

    >>> p = unknown_prefix("SELECT * WHERE { ?s foo:bar ?o }")
    >>> p.extra["prefix"], p.extra["line"], p.extra["column"]
    ('foo', 1, 21)
    >>> unknown_prefix("PREFIX ex: <http://ex/> ASK { ex:a crink:b id:c }") is None
    True
    """

    try:
        tokens = tokenize(text)
    except Unreadable:
        return None
    declared = {**PREFIXES, **declared_prefixes(tokens)}
    for i, t in enumerate(tokens):
        if t.kind != "pname" or (i > 0 and tokens[i - 1].is_word("PREFIX")):
            continue
        prefix = t.value.split(":", 1)[0]
        if prefix in declared:
            continue
        line = text.count("\n", 0, t.start) + 1
        column = t.start - (text.rfind("\n", 0, t.start) + 1) + 1
        source = text.splitlines()[line - 1]
        if line == 1 and column_shift:
            source, column = source[column_shift:], max(1, column - column_shift)
        return Problem(
            400, "unknown-prefix",
            f"the prefix {prefix}: is not declared (line {line}, column {column})"
            f"\n    {source}\n    {' ' * (column - 1)}^",
            hint=f"declare it (PREFIX {prefix}: <IRI>) or use a predeclared prefix: "
                 f"{_predeclared()}",
            extra={"prefix": prefix, "line": line, "column": column, "text": source,
                   "predeclared": list(PREFIXES)})
    return None


def write_refused(exc: ValidationError | AnchorError, what: str = "write") -> Problem:
    """A 422 for a write whose result would break the build's checks: the build's own
    report (every violation: node, property, message, value; or every drifted anchor), and
    the news that nothing was applied.

    >>> from crinkkg.errors import Violation
    >>> p = write_refused(ValidationError([Violation("id:x", "prov:wasDerivedFrom", "m")]))
    >>> p.status, p.kind, p.extra["violations"][0]["focus"]
    (422, 'shapes-violated', 'id:x')
    """
    message = f"the {what} was not applied: {exc.message}"
    if isinstance(exc, ValidationError):
        return Problem(422, "shapes-violated", message,
                       hint="change the write so that the data meets the shapes "
                            "(ontology/shapes.ttl), as `crinkkg validate` requires of a file",
                       extra={"violations": [vars(v) for v in exc.violations]})
    return Problem(422, "anchor-mismatch", message,
                   hint="fix the selectors (`crinkkg anchor SOURCE \"exact words\"` prints "
                        "correct ones)", extra={"drifts": [vars(d) for d in exc.drifts]})
