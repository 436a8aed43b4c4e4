"""A SPARQL tokenizer, just enough to inspect requests safely and rewrite updates.

Comments, strings and IRIs are recognised exactly as the SPARQL 1.1 grammar's terminals
define them, so text inside them can never be mistaken for a keyword: a ``SERVICE`` in a
comment or a string is not a ``SERVICE`` clause.

>>> [t.value for t in tokenize('SELECT * { ?s <p> "SERVICE" } # SERVICE')]
['SELECT', '*', '{', '?s', '<p>', '"SERVICE"', '}']
>>> service_targets('SELECT * { SERVICE SILENT ex:ep { ?s ?p ?o } }',
...                 {"ex": "http://example.org/"})
['http://example.org/ep']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
              |\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'
              |"(?:[^"\\\n\r]|\\.)*")
  | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\U000EFFFF]+)
  | (?P<bnode>_:[A-Za-z0-9_.\-\u00B7\u00C0-\U000EFFFF]+)
  | (?P<pname>(?:[A-Za-z\u00C0-\U000EFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\U000EFFFF]*)?:
               (?:[A-Za-z0-9_:%\\\-\u00B7\u00C0-\U000EFFFF]
                  (?:[A-Za-z0-9_.:%\\\-\u00B7\u00C0-\U000EFFFF]*[A-Za-z0-9_:%\-\u00B7\u00C0-\U000EFFFF])?)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # iri, string, var, bnode, pname, word, number, punct
    value: str
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        """True for a bare keyword equal (case-insensitively) to one of ``words``."""
        return self.kind == "word" and self.value.upper() in words


class Unreadable(ValueError):
    """The text has an unterminated string or IRI: the parser will reject it anyway."""


def tokenize(text: str) -> list[Token]:
    """Every significant token of ``text`` (whitespace and comments dropped)."""
    out: list[Token] = []
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:  # cannot happen: the last alternative matches any character
            raise Unreadable(f"cannot read the text at offset {pos}")
        kind = m.lastgroup or "punct"
        if kind not in ("ws", "comment"):
            value = m.group()
            if kind == "punct" and value in "'\"":
                raise Unreadable(f"unterminated string at offset {pos}")
            out.append(Token(kind, value, m.start(), m.end()))
        pos = m.end()
    return out


def declared_prefixes(tokens: list[Token]) -> dict[str, str]:
    """``PREFIX p: <iri>`` declarations (anywhere: updates have one prologue per part)."""
    prefixes: dict[str, str] = {}
    for i, t in enumerate(tokens[:-2]):
        if t.is_word("PREFIX") and tokens[i + 1].kind == "pname" and tokens[i + 2].kind == "iri":
            prefixes[tokens[i + 1].value[:-1]] = tokens[i + 2].value[1:-1]
    return prefixes


def _resolve(token: Token, prefixes: dict[str, str]) -> str | None:
    if token.kind == "iri":
        return token.value[1:-1]
    if token.kind == "pname":
        prefix, _, local = token.value.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
        return token.value
    return None  # a variable: the endpoint is only known at evaluation time


def service_targets(text: str, default_prefixes: dict[str, str] | None = None
                    ) -> list[str | None]:
    """The endpoint of every ``SERVICE`` clause (``None`` for a variable endpoint).

    A fast path skips texts that do not contain the letters "service" at all. Text that
    cannot be tokenized but mentions "service" counts as one unknown endpoint.
    """
    if "service" not in text.lower():
        return []
    try:
        tokens = tokenize(text)
    except Unreadable:
        return [None]
    prefixes = {**(default_prefixes or {}), **declared_prefixes(tokens)}
    targets: list[str | None] = []
    for i, t in enumerate(tokens):
        if not t.is_word("SERVICE"):
            continue
        j = i + 1
        if j < len(tokens) and tokens[j].is_word("SILENT"):
            j += 1
        targets.append(_resolve(tokens[j], prefixes) if j < len(tokens) else None)
    return targets


def has_keyword(text: str, word: str) -> bool:
    """True when ``word`` occurs as a keyword (not in a string, IRI, name or comment)."""
    if word.lower() not in text.lower():
        return False
    try:
        return any(t.is_word(word.upper()) for t in tokenize(text))
    except Unreadable:
        return True


def _operations(tokens: list[Token]) -> list[list[Token]]:
    """Split an update request into its operations (``;`` at brace depth 0)."""
    ops: list[list[Token]] = [[]]
    depth = 0
    for t in tokens:
        if t.value in ("{", "(", "["):
            depth += 1
        elif t.value in ("}", ")", "]"):
            depth -= 1
        if depth == 0 and t.value == ";":
            ops.append([])
            continue
        ops[-1].append(t)
    return [op for op in ops if op]


class DatasetConflict(ValueError):
    """The protocol names a dataset and the update text does too (USING or WITH)."""


def add_using(text: str, using: list[str], using_named: list[str]) -> str:
    """Apply the protocol's ``using-graph-uri`` / ``using-named-graph-uri`` to an update.

    They mean a ``USING`` / ``USING NAMED`` clause in each DELETE/INSERT ... WHERE
    operation. An operation that already has ``USING`` or ``WITH`` is a conflict
    (SPARQL 1.1 Protocol, section 2.2.3).

    >>> add_using("INSERT { ?s a <C> } WHERE { ?s a <D> }", ["http://g"], [])
    'INSERT { ?s a <C> } USING <http://g> WHERE { ?s a <D> }'
    """
    if not using and not using_named:
        return text
    clause = "".join(f"USING <{g}> " for g in using) + \
        "".join(f"USING NAMED <{g}> " for g in using_named)
    inserts: list[int] = []
    for op in _operations(tokenize(text)):
        depth = 0
        where_at: Token | None = None
        previous: Token | None = None
        conflict = False
        for t in op:
            if t.value in ("{", "(", "["):
                depth += 1
            elif t.value in ("}", ")", "]"):
                depth -= 1
            elif depth == 0 and t.is_word("USING", "WITH"):
                conflict = True
            elif depth == 0 and t.is_word("WHERE") and where_at is None:
                if previous is not None and previous.is_word("DELETE"):
                    break  # DELETE WHERE {...}: the shorthand takes no USING
                where_at = t
            previous = t
        if where_at is None:
            continue
        if conflict:
            raise DatasetConflict(
                "the update names its dataset with USING or WITH, and the request names one "
                "with using-graph-uri / using-named-graph-uri")
        inserts.append(where_at.start)
    for offset in reversed(inserts):
        text = text[:offset] + clause + text[offset:]
    return text
