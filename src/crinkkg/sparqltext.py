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
from functools import lru_cache
from typing import NamedTuple


def _name_chars(ascii_chars: str, *, digits: bool = True, middot: bool = True) -> str:
    """A regular-expression class of the name characters the tokenizer allows: the ASCII
    letters, digits (``digits``), ``ascii_chars``, U+00B7 (``middot``) and U+00C0 to
    U+EFFFF, written as its complement (the characters below U+00C0 it leaves out, and
    U+F0000 up). Both forms match the same characters; the complement compiles in a tenth
    of the time, and every process that answers queries compiles it at start-up.

    >>> bool(re.fullmatch(_name_chars("_") + "+", "Россия_2"))
    True
    >>> re.fullmatch(_name_chars("_"), "-") is None
    True
    """
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + ascii_chars)
    if digits:
        allowed |= set("0123456789")
    if middot:
        allowed.add("\u00B7")
    out, cp = [], 0
    while cp < 0xC0:
        if chr(cp) in allowed:
            cp += 1
            continue
        end = cp
        while end + 1 < 0xC0 and chr(end + 1) not in allowed:
            end += 1
        out.append(f"\\x{cp:02X}" if end == cp else f"\\x{cp:02X}-\\x{end:02X}")
        cp = end + 1
    return "[^" + "".join(out) + "\\U000F0000-\\U0010FFFF]"


_NAMES = {
    "VARNAMECHAR": _name_chars("_"),  # a variable's name
    "PREFIXSTART": _name_chars("", digits=False, middot=False),  # PN_CHARS_BASE
    "PREFIXCHAR": _name_chars("_.-"),  # the rest of a prefix, a blank node's label
    "LOCALSTART": _name_chars("_:%\\-"),  # a local name's first character
    "LOCALCHAR": _name_chars("_.:%\\-"),
    "LOCALEND": _name_chars("_:%-"),  # its last (not a dot)
}

_TOKEN = re.compile(
    re.sub("[A-Z]{8,}", lambda m: _NAMES[m.group()], r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
              |\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'
              |"(?:[^"\\\n\r]|\\.)*")
  | (?P<var>[?$]VARNAMECHAR+)
  | (?P<bnode>_:PREFIXCHAR+)
  | (?P<pname>(?:PREFIXSTART PREFIXCHAR*)?:
               (?:LOCALSTART(?:LOCALCHAR*LOCALEND)?)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|.)
    """),
    re.VERBOSE | re.DOTALL,
)


class Token(NamedTuple):
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
    # the last alternative matches any character, so the matches tile the whole text
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "ws" or kind == "comment":
            continue
        value = m.group()
        if kind == "punct" and (value == "'" or value == '"'):
            raise Unreadable(f"unterminated string at offset {m.start()}")
        out.append(Token(kind, value, m.start(), m.end()))  # type: ignore[arg-type]
    return out


def short_tokens(text: str) -> tuple[Token, ...]:
    """:func:`tokenize` for a short query, remembered: one request has its text read by
    several checks in turn (one pattern? which lookup? a LIMIT?), each of which would
    tokenize it again, and tokenizing costs more than the lookup it serves."""
    if len(text) > SHORT:
        return tuple(tokenize(text))
    return _short_tokens(text)


@lru_cache(maxsize=64)
def _short_tokens(text: str) -> tuple[Token, ...]:
    return tuple(tokenize(text))


def declared_prefixes(tokens: list[Token]) -> dict[str, str]:
    """``PREFIX p: <iri>`` declarations (anywhere: updates have one prologue per part)."""
    prefixes: dict[str, str] = {}
    for i, t in enumerate(tokens[:-2]):
        if t.is_word("PREFIX") and tokens[i + 1].kind == "pname" and tokens[i + 2].kind == "iri":
            prefixes[tokens[i + 1].value[:-1]] = tokens[i + 2].value[1:-1]
    return prefixes


def resolve(token: Token, prefixes: dict[str, str]) -> str | None:
    """The IRI a token names (an IRI or a prefixed name), None for a variable."""
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
    return _targets(text, "SERVICE", default_prefixes)


def graph_targets(text: str, default_prefixes: dict[str, str] | None = None
                  ) -> list[str | None]:
    """The graph of every ``GRAPH`` clause of a query (``None`` for a variable), so that a
    query naming its graphs is sent with those alone as its named graphs.

    >>> graph_targets("SELECT * { GRAPH <urn:g> { ?s ?p ?o } GRAPH ?h { ?s ?p ?o } }")
    ['urn:g', None]
    >>> graph_targets("SELECT * { ?s ?p 'GRAPH' }")
    []
    """
    return _targets(text, "GRAPH", default_prefixes)


def _targets(text: str, keyword: str, default_prefixes: dict[str, str] | None
             ) -> list[str | None]:
    """What follows each ``keyword`` (after an optional SILENT): an IRI, or None for a
    variable or for text that cannot be tokenized."""
    if keyword.lower() not in text.lower():
        return []
    try:
        tokens = tokenize(text)
    except Unreadable:
        return [None]
    prefixes = {**(default_prefixes or {}), **declared_prefixes(tokens)}
    targets: list[str | None] = []
    for i, t in enumerate(tokens):
        if not t.is_word(keyword):
            continue
        j = i + 1
        if j < len(tokens) and tokens[j].is_word("SILENT"):
            j += 1
        targets.append(resolve(tokens[j], prefixes) if j < len(tokens) else None)
    return targets


def has_keyword(text: str, word: str) -> bool:
    """True when ``word`` occurs as a keyword (not in a string, IRI, name or comment)."""
    if word.lower() not in text.lower():
        return False
    try:
        return any(t.is_word(word.upper()) for t in tokenize(text))
    except Unreadable:
        return True


_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


def query_form(sparql: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword outside the prologue;
    None when the text has none or cannot be read (each caller picks its own default:
    the remote backend asks the store for results, the query page shows a table).

    >>> query_form("PREFIX a: <x:> # SELECT\\nASK { ?s ?p ?o }")
    'ASK'
    >>> query_form("INSERT DATA { <a> <b> <c> }") is None, query_form('ASK { "') is None
    (True, True)
    """
    try:
        return next((t.value.upper() for t in tokenize(sparql) if t.is_word(*_FORMS)), None)
    except Unreadable:
        return None


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


_NODE = ("iri", "pname")


def _term_end(tokens: list[Token], i: int, *, position: str) -> int:
    """Where one term of a triple pattern ends (-1 if ``tokens[i]`` is not a plain term).

    Accepted: IRIs, prefixed names, variables; ``a`` as predicate; as object, a literal
    (a string, optionally ``^^`` a datatype; a number; true/false). Blank nodes, lists,
    language tags and anything else are left to the general path.
    """
    if i >= len(tokens):
        return -1
    t = tokens[i]
    if t.kind in _NODE or t.kind == "var":
        return i + 1
    if position == "p" and t.kind == "word" and t.value == "a":
        return i + 1
    if position == "o":
        if t.kind == "number" or t.is_word("TRUE", "FALSE"):
            return i + 1
        if t.kind == "string":
            if i + 2 < len(tokens) and tokens[i + 1].value == "^^" and \
                    tokens[i + 2].kind in _NODE:
                return i + 3
            if i + 1 < len(tokens) and tokens[i + 1].value == "@":
                return -1
            return i + 1
    return -1


def _one_pattern(tokens: list[Token], i: int) -> int:
    """``{ s p o [.] }`` with distinct variables at ``tokens[i]``: the index after it, or -1."""
    if i >= len(tokens) or tokens[i].value != "{":
        return -1
    start = i + 1
    j = start
    for position in ("s", "p", "o"):
        j = _term_end(tokens, j, position=position)
        if j < 0:
            return -1
    names = [t.value[1:] for t in tokens[start:j] if t.kind == "var"]
    if len(names) != len(set(names)):
        return -1  # ?x ?p ?x scans everything to keep a few: not bounded by its output
    if j < len(tokens) and tokens[j].value == ".":
        j += 1
    if j >= len(tokens) or tokens[j].value != "}":
        return -1
    return j + 1


SHORT = 4096  # longest text single_pattern looks at: lookups are short, and its cache small


def single_pattern(text: str) -> str | None:
    """The form (SELECT, ASK, CONSTRUCT, DESCRIBE) of a query whose whole work is one
    triple-pattern scan, streamed; None for any other query.

    Such a query costs time in proportion to the size of its answer (Oxigraph reads the
    matching index range lazily), so a cap on the answer's size bounds its cost: the
    server may run it in its own process instead of a killable worker. Accepted: a
    prologue, then ``SELECT vars|* [WHERE] { s p o }`` or ``CONSTRUCT WHERE { s p o }``
    (each with an optional LIMIT), ``ASK [WHERE] { s p o }``, or ``DESCRIBE`` of IRIs.
    Anything else (FILTER, joins, DISTINCT, ORDER BY, OFFSET, FROM, ...) is not.

    >>> single_pattern("PREFIX ex: <http://ex/> SELECT ?p ?o WHERE { ex:a ?p ?o } LIMIT 9")
    'SELECT'
    >>> single_pattern("DESCRIBE <http://ex/a>"), single_pattern("ASK { ?s a <C> }")
    ('DESCRIBE', 'ASK')
    >>> single_pattern("SELECT * { ?s ?p ?o . ?o ?q ?r }") is None
    True
    >>> single_pattern("SELECT * { ?s ?p ?s }"), single_pattern("SELECT * { ?s ?p ?o } OFFSET 9")
    (None, None)
    """
    return _single_pattern(text) if len(text) <= SHORT else None


_SPACE = r"[ \t\r\n]"
_IRIREF = r"""<[^<>"{}|^`\\\x00-\x20]*>"""
#: the usual lookup, ``PREFIX …* SELECT ?a ?b [WHERE] { <iri> ?a ?b [.] }``, spelled in a
#: way its tokens cannot be misread (ASCII names, plain spaces, no comment): a subset of
#: what the tokenizer accepts, read in one match instead of a list of tokens
_LOOKUP_SHAPE = re.compile(
    rf"""(?P<prologue>(?:{_SPACE}*PREFIX{_SPACE}+(?:[A-Za-z][A-Za-z0-9_-]*)?:{_SPACE}*{_IRIREF})*)
    {_SPACE}*SELECT{_SPACE}+\?(?P<v1>[A-Za-z0-9_]+){_SPACE}+\?(?P<v2>[A-Za-z0-9_]+){_SPACE}+
    (?:WHERE{_SPACE}*)?\{{{_SPACE}*<(?P<s>[^<>"{{}}|^`\\\x00-\x20]*)>{_SPACE}+
    \?(?P<p>[A-Za-z0-9_]+){_SPACE}+\?(?P<o>[A-Za-z0-9_]+){_SPACE}*(?:\.{_SPACE}*)?\}}{_SPACE}*""",
    re.VERBOSE | re.IGNORECASE | re.ASCII)  # ASCII: "ſelect" is no keyword to the tokenizer
_PROLOGUE_NAME = re.compile(rf"PREFIX{_SPACE}+([A-Za-z0-9_-]*):", re.IGNORECASE | re.ASCII)


@lru_cache(maxsize=64)
def lookup_shape(text: str) -> tuple[str, str, str, str, str] | None:
    """The usual lookup, read without tokenizing: (subject IRI, predicate variable, object
    variable, first column, second column); None for any other text, the usual lookup
    written otherwise included (:func:`single_pattern` and the lookup planner then read
    it token by token, to the same result: a property test checks it).

    >>> lookup_shape("PREFIX ex: <http://ex/> SELECT ?o ?p WHERE { <http://ex/a> ?p ?o }")
    ('http://ex/a', 'p', 'o', 'o', 'p')
    >>> lookup_shape("SELECT ?p ?o WHERE { <http://ex/a> ?p ?o } LIMIT 1") is None
    True
    """
    m = _LOOKUP_SHAPE.fullmatch(text)
    if m is None:
        return None
    v1, v2, p, o = m.group("v1", "v2", "p", "o")
    if p == o or {v1, v2} != {p, o}:
        return None
    names = _PROLOGUE_NAME.findall(m.group("prologue"))
    if len(set(names)) != len(names):
        return None  # a prefix declared twice: the planner refuses it
    return m.group("s"), p, o, v1, v2


@lru_cache(maxsize=512)  # clients repeat their queries; the answer depends on the text only
def _single_pattern(text: str) -> str | None:
    if lookup_shape(text) is not None:
        return "SELECT"
    return single_pattern_of_tokens(text)


def single_pattern_of_tokens(text: str) -> str | None:
    """:func:`single_pattern` from the text's tokens (for any text)."""
    try:
        tokens = short_tokens(text)
    except Unreadable:
        return None
    i, n = 0, len(tokens)
    while i < n and tokens[i].is_word("PREFIX", "BASE"):
        if tokens[i].is_word("BASE"):
            if i + 1 >= n or tokens[i + 1].kind != "iri":
                return None
            i += 2
        else:
            if i + 2 >= n or tokens[i + 1].kind != "pname" or tokens[i + 2].kind != "iri":
                return None
            i += 3
    if i >= n:
        return None
    form = tokens[i].value.upper() if tokens[i].kind == "word" else ""
    i += 1
    if form == "DESCRIBE":
        rest = tokens[i:]
        return form if rest and all(t.kind in _NODE for t in rest) else None
    if form == "SELECT":
        if i < n and tokens[i].value == "*":
            i += 1
        else:
            first = i
            while i < n and tokens[i].kind == "var":
                i += 1
            if i == first:
                return None
    elif form == "CONSTRUCT":
        if i >= n or not tokens[i].is_word("WHERE"):
            return None
    elif form != "ASK":
        return None
    if i < n and tokens[i].is_word("WHERE"):
        i += 1
    i = _one_pattern(tokens, i)
    if i < 0:
        return None
    if form != "ASK" and i + 1 < n and tokens[i].is_word("LIMIT") and \
            tokens[i + 1].kind == "number" and tokens[i + 1].value.isdigit():
        i += 2
    return form if i == n else None


@lru_cache(maxsize=512)
def with_limit(text: str, limit: int) -> str:
    """A :func:`single_pattern` SELECT or CONSTRUCT with at most ``limit`` results.

    >>> with_limit("SELECT * { ?s ?p ?o } LIMIT 10", 3)
    'SELECT * { ?s ?p ?o } LIMIT 3'
    >>> with_limit("SELECT * { ?s ?p ?o } # all", 3)
    'SELECT * { ?s ?p ?o } # all\\nLIMIT 3'
    """
    tokens = short_tokens(text)
    if len(tokens) >= 2 and tokens[-2].is_word("LIMIT"):
        number = tokens[-1]
        return text[:number.start] + str(min(int(number.value), limit)) + text[number.end:]
    return f"{text}\nLIMIT {limit}"


def transitive_path(text: str) -> bool:
    """True when the query has a ``+`` or ``*`` property path (a transitive closure).

    Oxigraph's in-memory store answers such paths more slowly than its on-disk one, while
    it answers scans, joins and aggregates faster (bench/README.md measures both); the
    query workers keep both and ask this. Arithmetic after ``)`` also counts: it only
    changes which copy of the same data answers.

    >>> transitive_path("SELECT * { ?a crink:alliedWith/crink:suppliesArmsTo+ ?b }")
    True
    >>> transitive_path("SELECT (COUNT(*) AS ?n) { ?s ?p ?o . FILTER(?o * 2 > 3) }")
    False
    """
    if "+" not in text and "*" not in text:
        return False
    try:
        tokens = tokenize(text)
    except Unreadable:
        return False
    return any(t.value in ("+", "*") and (prev.kind in _NODE or prev.value in (")", "a"))
               for prev, t in zip(tokens, tokens[1:], strict=False))


_OPENING = "{(["
_CLOSING = "})]"


def deepest_nesting(text: str, limit: int) -> tuple[int, int] | None:
    """How deep ``{ } ( ) [ ]`` nest in ``text`` (outside strings, IRIs and comments)
    when that is deeper than ``limit``: ``(depth, offset)`` with the offset of the first
    bracket past the limit; None when the text stays within it.

    Oxigraph's SPARQL parser recurses once per level: deep enough nesting overflows a
    worker's stack, and nested lists or blank nodes take time growing with the fourth
    power of their depth, so this is checked before any parsing.

    >>> deepest_nesting("SELECT * { { ?s ?p ?o } }", 1)
    (2, 11)
    >>> deepest_nesting('ASK { FILTER("((((((((" != "x") }', 2) is None
    True
    """
    if sum(text.count(c) for c in _OPENING) <= limit:
        return None  # fast path: not enough brackets to go deeper
    try:
        marks = [(t.value, t.start) for t in tokenize(text) if t.kind == "punct"]
    except Unreadable:  # an unterminated string: the parser refuses it; count every bracket
        marks = [(c, i) for i, c in enumerate(text) if c in _OPENING or c in _CLOSING]
    depth = deepest = 0
    first: int | None = None
    for value, offset in marks:
        if value in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
            if depth > limit and first is None:
                first = offset
        elif value in _CLOSING:
            depth = max(0, depth - 1)
    return None if first is None else (deepest, first)


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``.

    >>> line_column("a\\nbc", 3)
    (2, 2)
    """
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _after_values(tokens: list, i: int) -> bool:
    """Whether the ``{`` at ``i`` opens the data block of ``VALUES ?x`` or
    ``VALUES (?a ?b)``."""
    j = i - 1
    if j >= 0 and tokens[j].value == ")":
        while j >= 0 and tokens[j].value != "(":
            j -= 1
    return j >= 1 and tokens[j - 1].is_word("VALUES")


#: the keywords and symbols each of which adds a level to Oxigraph's query tree when
#: they follow one another in a flat chain (a chain of N unions is a tree N deep)
_CHAIN_WORDS = frozenset({"UNION", "MINUS", "OPTIONAL", "FILTER", "BIND", "SERVICE", "GRAPH"})
_CHAIN_SYMBOLS = frozenset({"||", "&&", "/", "|", "+", "-", "*", ".", ";", "=", "!=", "<",
                            ">", "<=", ">=", "^"})
_CHAIN_CHARS = "/|&+-*.;=<>^"
_ROUGH_WORDS = ("UNION", "MINUS", "OPTIONAL", "FILTER", "BIND", "SERVICE", "GRAPH")


def operator_count(text: str, limit: int) -> tuple[int, int] | None:
    """How many chain-forming operators ``text`` holds (UNION, MINUS, OPTIONAL, FILTER,
    BIND, ``||``, ``&&``, path steps, arithmetic, comparisons, pattern separators; outside
    strings, IRIs, comments and the data blocks of ``INSERT DATA``/``DELETE DATA`` and
``VALUES``, whose signed numbers are data too) when
    there are more than ``limit``: ``(count, offset)`` with the offset of the first one
    past the limit; None when the text stays within it.

    Oxigraph builds one level of its query tree per operator of a flat chain and walks it
    recursively: 10,000 UNIONs (about 6,500 suffice), 2,600 MINUS or BIND, 9,300 ``||``
    overflow a worker's stack however shallow the brackets nest, so this is checked, as
    nesting is, before any parsing.

    >>> operator_count("SELECT * { {?s ?p 1} UNION {?s ?p 2} UNION {?s ?p 3} }", 1)
    (3, 21)
    >>> operator_count('INSERT DATA { <a> <b> 1 . <a> <b> 2 . <a> <b> "x.y" }', 0) is None
    True
    >>> operator_count("SELECT ?x { VALUES ?x { -1.5 -2 +3 } }", 0) is None
    True
    """
    rough = sum(map(text.count, _CHAIN_CHARS)) + sum(map(text.upper().count, _ROUGH_WORDS))
    if rough <= limit:
        return None  # fast path: too few candidates to pass the limit
    try:
        tokens = tokenize(text)
    except Unreadable:
        return None  # the parser refuses it before building any tree
    count = 0
    first: int | None = None
    data_depth = 0  # inside INSERT DATA { ... } / DELETE DATA { ... }: facts, no tree
    for i, t in enumerate(tokens):
        if data_depth:
            if t.value == "{":
                data_depth += 1
            elif t.value == "}":
                data_depth -= 1
            continue
        if t.value == "{" and i > 0 and (tokens[i - 1].is_word("DATA") or _after_values(
                tokens, i)):
            data_depth = 1
            continue
        if (t.kind == "punct" and t.value in _CHAIN_SYMBOLS) or \
                (t.kind == "word" and t.value.upper() in _CHAIN_WORDS):
            count += 1
            if count > limit and first is None:
                first = t.start
    return None if first is None else (count, first)
