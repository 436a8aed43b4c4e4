"""Transitive property paths said so that Virtuoso 7.2 answers them as SPARQL 1.1 does.

Virtuoso compiles every ``p+``, ``p*`` (and ``p{n,m}``) path into a transitive triple with
its ``T_NO_CYCLES`` option (``spar_gp_add_ppath_triples`` in its ``sparql_core.c``), which
enumerates the simple paths from the start: exponential on a graph with cycles, where it
fails with "Exceeded 1000000000 bytes in transitive temp memory". SPARQL 1.1 only asks
for the set of nodes reached (its ALP function). Virtuoso's own triple option
``T_DISTINCT`` walks that set; with it, Virtuoso still never gives the start node back
for ``+``, even when the start lies on a cycle (its own ``ASK { :a :p+ :a }`` is false
on ``:a :p :b . :b :p :a``), while ``T_MIN(0)`` does give the start once, also a start
that is in no triple; ``T_DIRECTION`` is always given (1: walk from the subject, 2: from
the object), from the end that is bound, since the walk from both ends, which Virtuoso's
optimiser may choose when both are bound, gave a row per meeting point. So, for a query
sent to Virtuoso only (:func:`store_text`), each triple of the forms below is rewritten,
every other byte of the text kept (``T`` stands for ``TRANSITIVE, T_DISTINCT, T_MIN(0),
T_DIRECTION d``):

- ``X p* Y`` with X or Y a constant: ``X p Y OPTION (T)``;
- ``X p+ Y`` with X or Y a variable, as ``p/p*`` with set semantics:
  ``{ SELECT DISTINCT ?X ?Y WHERE { X p ?m . ?m p Y OPTION (T) } }``;
- ``^p+``, ``^p*``, ``(p)``, ``(^p)``: the same, X and Y swapped for ``^``;
- a sequence ``X e1/e2/…/en Y`` whose steps are ``iri``, ``^iri``, ``a`` or any of the
  above: one triple or sub-``SELECT`` per step, joined on fresh variables, all inside
  ``{ SELECT ?X ?Y WHERE { … } }`` (so no fresh variable shows in a ``SELECT *``).

What is left as written (Virtuoso then does what it does; :func:`limit_problem` turns its
memory failure into a clear answer): a ``*`` step whose two ends are both variables the
query names (SPARQL then ranges over every term of the graph), or both fresh variables
between ``*`` steps; a ``+`` step with both ends constant or both the same variable; a
sequence between two constants; a path with ``|``, ``?``, ``!``, ``{n,m}`` or brackets
around more than one IRI; a triple that shares its subject (``;``) or its predicate
(``,``) with another, or whose subject or object is a blank node, a list or a literal;
paths inside ``GRAPH``, ``SERVICE`` or a construct template.

>>> print(rewrite_paths("SELECT ?x { <s> <p>+ ?x }"))  # doctest: +ELLIPSIS
SELECT ?x { { SELECT DISTINCT ?x WHERE { <s> <p> ?vp_m1 . ?vp_m1 <p> ?x OPTION (...) } } }
>>> print(rewrite_paths("SELECT ?x { ?x ^<p>* <s> . }"))
SELECT ?x { <s> <p> ?x OPTION (TRANSITIVE, T_DISTINCT, T_MIN(0), T_DIRECTION 1) . }
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from crinkkg.backends.manifest import RESULTS_JSON
from crinkkg.backends.remote_errors import RemoteStoreError
from crinkkg.problems import Problem
from crinkkg.sparqltext import Token, Unreadable, tokenize, transitive_path

__all__ = ["is_virtuoso", "limit_problem", "rewrite_paths", "server_is_virtuoso", "store_text"]

_SERVER = re.compile(r"\s*virtuoso/", re.IGNORECASE)
_TERM = ("var", "iri", "pname")  # what a rewritten path may start or end at
_NODE = ("iri", "pname")
#: what may follow the object of a rewritten triple: the end of its triples block
_AFTER_WORDS = ("FILTER", "OPTIONAL", "BIND", "MINUS", "VALUES", "GRAPH", "SERVICE")
_MEMORY = "transitive temp memory"


def is_virtuoso(server: str | None) -> bool:
    """Whether a ``Server`` response header names Virtuoso.

    >>> is_virtuoso("Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu  "), is_virtuoso(None)
    (True, False)
    """
    return bool(server and _SERVER.match(server))


def server_is_virtuoso(client) -> bool:
    """Whether ``client``'s store names itself Virtuoso in the ``Server`` header of its
    answer to ``ASK {}`` (a :class:`RemoteStoreError` when the store does not answer)."""
    response = client.query("ASK {}", accept=RESULTS_JSON)
    return is_virtuoso(response.headers.get("Server"))


def store_text(text: str, talks_to_virtuoso: Callable[[], bool]) -> str:
    """``text`` as sent to the store: its transitive paths rewritten when the store is
    Virtuoso (:func:`rewrite_paths`), as it is otherwise. ``talks_to_virtuoso`` is asked
    only when the text has a ``+`` or ``*`` path, so most queries never ask the store
    what it is.

    >>> store_text("SELECT ?x { <s> <p> ?x }", lambda: 1 / 0)
    'SELECT ?x { <s> <p> ?x }'
    >>> store_text("SELECT ?x { <s> <p>+ ?x }", lambda: False)
    'SELECT ?x { <s> <p>+ ?x }'
    """
    if not transitive_path(text) or not talks_to_virtuoso():
        return text
    return rewrite_paths(text)


def limit_problem(error: RemoteStoreError) -> Problem | None:
    """The Problem for Virtuoso's failure on a transitive path that it walks path by path
    ("Exceeded … bytes in transitive temp memory"); None for any other failure."""
    said = f"{error.store_message or ''} {error.message}"
    if _MEMORY not in said:
        return None
    return Problem(
        400, "store-limit",
        "the SPARQL store (Virtuoso) ran out of its memory for transitive paths: it walks "
        "every path without a repeated node from the start of a `+` or `*` path, "
        "exponentially many on data with cycles, where SPARQL only needs the nodes reached",
        hint="crinkkg rewrites `X p+ Y` (X or Y a variable), `X p* Y` (X or Y a constant), "
             "their inverse `^p` "
             "forms and sequences of such steps with plain IRIs (`X a/b+/c Y`) so that "
             "Virtuoso walks the nodes reached instead; write the path in one of these "
             "shapes: one triple ended by `.` or `}`, IRIs as steps (no `|`, `?`, `!`, "
             "`{n,m}`), a constant at one end of a `*` step, not inside GRAPH or SERVICE",
        extra={"store_message": (error.store_message or "")[:500]})


# -- the rewrite -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    inverse: bool
    predicate: str  # as written: an IRI, a prefixed name or ``a``
    repeat: str  # "", "+" or "*"


def _fresh_prefix(tokens: list[Token]) -> str:
    """A prefix no variable of the query starts with (case aside: Virtuoso may fold it)."""
    names = [t.value[1:].lower() for t in tokens if t.kind == "var"]
    prefix = "vp_"
    while any(n.startswith(prefix) for n in names):
        prefix += "_"
    return prefix


def _brace_kinds(tokens: list[Token]) -> list[bool]:
    """For each token, whether a triple there may be rewritten: inside a group graph
    pattern, not inside GRAPH, SERVICE, a construct template or a data block."""
    ok: list[bool] = []
    stack: list[bool] = []  # per open brace: may rewrite inside
    for i, t in enumerate(tokens):
        if t.kind == "punct" and t.value == "{":
            before = tokens[i - 1] if i else None
            before2 = tokens[i - 2] if i > 1 else None
            closed = before is not None and before.kind == "punct" and before.value == ")"
            barred = before is not None and (
                before.is_word("CONSTRUCT", "DATA")  # a template, INSERT/DELETE DATA
                or (before.is_word("WHERE") and before2 is not None
                    and before2.is_word("CONSTRUCT"))  # CONSTRUCT WHERE { template }
                or (before2 is not None and before2.is_word("GRAPH", "SERVICE", "SILENT"))
                or (before.kind == "var" and before2 is not None
                    and before2.is_word("VALUES"))
                or (closed and _opened_by(tokens, i - 1) == "VALUES"))
            stack.append(not barred and (not stack or stack[-1]))
        elif t.kind == "punct" and t.value == "}" and stack:
            stack.pop()
        ok.append(bool(stack) and stack[-1])
    return ok


def _opened_by(tokens: list[Token], close: int) -> str:
    """The word before the ``(`` that the ``)`` at ``close`` matches ("" for none): the
    keyword or function whose arguments it closes."""
    depth = 0
    for j in range(close, -1, -1):
        value = tokens[j].value
        if value == ")":
            depth += 1
        elif value == "(":
            depth -= 1
            if depth == 0:
                if j == 0:
                    return ""
                before = tokens[j - 1]
                if before.kind == "word":
                    if j > 1 and tokens[j - 2].is_word("FILTER"):
                        return "FILTER"
                    return before.value.upper()
                return "" if before.kind != "pname" else (
                    "FILTER" if j > 1 and tokens[j - 2].is_word("FILTER") else "")
    return ""


def _starts_triple(tokens: list[Token], i: int) -> bool:
    """Whether ``tokens[i]`` begins a triple: after ``{``, ``.``, ``}`` or the ``)`` of a
    FILTER or BIND."""
    if i == 0:
        return False
    before = tokens[i - 1]
    if before.kind != "punct":
        return False
    if before.value in ("{", ".", "}"):
        return True
    return before.value == ")" and _opened_by(tokens, i - 1) in ("FILTER", "BIND")


def _read_path(tokens: list[Token], j: int) -> tuple[list[_Step], int] | None:
    """The steps of a path at ``tokens[j]`` and the index after it; None when the path has
    anything but ``^``, IRIs, ``a`` (alone or in brackets), ``+``, ``*`` and ``/``."""
    steps: list[_Step] = []
    n = len(tokens)
    while True:
        inverse = j < n and tokens[j].value == "^" and tokens[j].kind == "punct"
        if inverse:
            j += 1
        bracket = j + 3 < n and tokens[j].kind == "punct" and tokens[j].value == "("
        if bracket:  # `(iri)`, `(^iri)`: one IRI in brackets
            j += 1
            if tokens[j].kind == "punct" and tokens[j].value == "^":
                inverse, j = not inverse, j + 1
        if j >= n:
            return None
        t = tokens[j]
        if not (t.kind in _NODE or (t.kind == "word" and t.value == "a")):
            return None
        j += 1
        if bracket:
            if j >= n or tokens[j].kind != "punct" or tokens[j].value != ")":
                return None
            j += 1
        repeat = ""
        if j < n and tokens[j].kind == "punct" and tokens[j].value in ("+", "*"):
            repeat = tokens[j].value
            j += 1
        steps.append(_Step(inverse, t.value, repeat))
        if j < n and tokens[j].kind == "punct" and tokens[j].value == "/":
            j += 1
            continue
        return steps, j


def _ends_triple(tokens: list[Token], k: int) -> bool:
    """Whether the triple ends before ``tokens[k]`` (its block goes on or closes)."""
    if k >= len(tokens):
        return False
    t = tokens[k]
    return (t.kind == "punct" and t.value in (".", "}", "{")) or t.is_word(*_AFTER_WORDS)


class _Refused(Exception):
    """This path cannot be rewritten exactly: it is left as written."""


def _option(direction: int) -> str:
    """Virtuoso's transitive option, walking from the subject (1) or the object (2): left
    to its optimiser (``T_DIRECTION 3`` when both ends are bound), the walk from both ends
    gave a row per meeting point (3 rows for ``:a0 :p :a1`` on a 3-clique)."""
    return f"OPTION (TRANSITIVE, T_DISTINCT, T_MIN(0), T_DIRECTION {direction})"


def _triple(a: str, step: _Step, b: str, from_a: bool, fresh) -> str:
    """One step from ``a`` to ``b`` (each a constant or a variable); ``from_a``: walk a
    ``*`` step from ``a`` (bound there) rather than from ``b``."""
    if step.inverse:
        a, b, from_a = b, a, not from_a
    if step.repeat == "":
        return f"{a} {step.predicate} {b}"
    if step.repeat == "*":
        return f"{a} {step.predicate} {b} {_option(1 if from_a else 2)}"
    names = list(dict.fromkeys(x for x in (a, b) if x.startswith(("?", "$"))))
    if not names or a == b:
        raise _Refused  # no variable to project, or ?x p+ ?x
    middle = fresh("m")
    # from the middle node (bound by the first triple), or from a constant end b
    backward = a.startswith(("?", "$")) and not b.startswith(("?", "$"))
    return (f"{{ SELECT DISTINCT {' '.join(names)} WHERE {{ {a} {step.predicate} {middle} . "
            f"{middle} {step.predicate} {b} {_option(2 if backward else 1)} }} }}")


def _rewrite_one(subject: Token, steps: list[_Step], obj: Token, fresh) -> str:
    nodes = [subject.value] + [fresh("s") for _ in steps[1:]] + [obj.value]
    kinds = [subject.kind] + ["fresh"] * (len(steps) - 1) + [obj.kind]
    parts = []
    for i, step in enumerate(steps):
        # where a walk can start: a constant, or a fresh variable that the step beside it
        # binds (a plain step, or a `+` step's sub-SELECT)
        left = kinds[i] in _NODE or (kinds[i] == "fresh" and steps[i - 1].repeat != "*")
        right = kinds[i + 1] in _NODE or \
            (kinds[i + 1] == "fresh" and steps[i + 1].repeat != "*")
        if step.repeat == "*" and not (left or right):
            raise _Refused  # SPARQL ranges over every term of the graph here
        parts.append(_triple(nodes[i], step, nodes[i + 1], left, fresh))
    if len(parts) == 1:
        return parts[0]
    outer = list(dict.fromkeys(t.value for t in (subject, obj) if t.kind == "var"))
    if not outer:
        raise _Refused  # a sequence between two constants: its duplicates need a variable
    return f"{{ SELECT {' '.join(outer)} WHERE {{ {' . '.join(parts)} }} }}"


def rewrite_paths(text: str) -> str:
    """``text`` with each transitive path triple that Virtuoso can be told to walk as a set
    rewritten (see the module's documentation); the rest of the text kept byte for byte,
    and the whole text unchanged when it has no such triple or cannot be read.

    >>> rewrite_paths("SELECT * { ?s <p>* ?o }")  # both ends variables: every term
    'SELECT * { ?s <p>* ?o }'
    >>> rewrite_paths("SELECT * { ?s <p>|<q>+ ?o }")
    'SELECT * { ?s <p>|<q>+ ?o }'
    >>> print(rewrite_paths("SELECT ?x { <a> <b>/^<c>* ?x }"))  # doctest: +ELLIPSIS
    SELECT ?x { { SELECT ?x WHERE { <a> <b> ?vp_s1 . ?x <c> ?vp_s1 OPTION (...) } } }
    """
    try:
        tokens = tokenize(text)
    except Unreadable:
        return text
    allowed = _brace_kinds(tokens)
    prefix = _fresh_prefix(tokens)
    counter = [0]

    def fresh(role: str) -> str:
        counter[0] += 1
        return f"?{prefix}{role}{counter[0]}"

    out: list[str] = []
    pos = 0
    i = 0
    n = len(tokens)
    while i < n:
        t = tokens[i]
        if not (t.kind in _TERM and allowed[i] and _starts_triple(tokens, i)):
            i += 1
            continue
        read = _read_path(tokens, i + 1)
        if read is None:
            i += 1
            continue
        steps, k = read
        if not any(s.repeat for s in steps) or k >= n or tokens[k].kind not in _TERM \
                or not _ends_triple(tokens, k + 1):
            i += 1
            continue
        try:
            replacement = _rewrite_one(t, steps, tokens[k], fresh)
        except _Refused:
            i = k + 1
            continue
        out.append(text[pos:t.start])
        out.append(replacement)
        pos = tokens[k].end
        i = k + 1
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)
