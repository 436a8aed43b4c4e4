"""Updates through the server over a remote store: staged, re-reasoned, then swapped in.

An update must leave the inferred graph current and must change nothing when it is refused
(inconsistent under OWL 2 RL, or a syntax error), as it does locally. Over a remote store:

1. every graph the update names is copied to a staging name, and the update is rewritten
   onto those names (:func:`rewrite`): the store's unnamed default graph becomes the
   hidden graph :data:`DEFAULT_GRAPH`, ``ALL``/``NAMED`` the published graphs;
2. the store runs the rewritten update (its syntax errors come back as 400s, and nothing
   public has changed);
3. the OWL 2 RL closure of the candidate dataset (the untouched asserted graphs and the
   staged ones) is computed in the store into a staged inferred graph
   (:mod:`crinkkg.reasoning.in_store`), with the consistency checks: an inconsistency
   drops the staged graphs and is answered 409;
4. one update request moves the staged graphs onto their names and rewrites the manifest:
   readers see the old dataset or the new one.

An update with ``GRAPH ?g`` stages every asserted graph (``?g`` ranges over the staged
copies, as it ranges over the asserted graphs locally): correct, and as costly as copying
the dataset. Not supported over a remote store (refused with 501, so nothing is
half-applied): ``LOAD`` (the server fetches nothing itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from crinkkg.problems import Problem
from crinkkg.sparqltext import Token, Unreadable, declared_prefixes, resolve, tokenize
from crinkkg.vocab import PREFIXES

#: where the store keeps what an update writes without naming a graph
DEFAULT_GRAPH = "urn:x-crinkkg:default"
#: the suffix of the variable that ranges over staged graphs in place of ``GRAPH ?g``
_STAGED = "__staged"
#: graph operations: the word that starts them, and whether they take ``TO``
_GRAPH_OPS = {"CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "LOAD"}
_DATA_OPS = {"DATA", "WHERE"}


@dataclass
class Rewrite:
    """An update onto staging names: its text, every graph it names (the real names,
    :data:`DEFAULT_GRAPH` for the unnamed one), and the graphs it creates or drops, in
    order (``("create", g)``, ``("drop", g)``)."""

    text: str
    graphs: set[str] = field(default_factory=set)
    events: list[tuple[str, str]] = field(default_factory=list)


class _Writer:
    """Copies the text, replacing some tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []
        self.pos = 0

    def replace(self, start: int, end: int, new: str) -> None:
        self.out.append(self.text[self.pos:start])
        self.out.append(new)
        self.pos = end

    def insert(self, at: int, new: str) -> None:
        self.replace(at, at, new)

    def done(self) -> str:
        return "".join(self.out) + self.text[self.pos:]


def _close(tokens: list[Token], i: int) -> int:
    """The index of the brace that closes the one at ``i``."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].value == "{":
            depth += 1
        elif tokens[j].value == "}":
            depth -= 1
            if depth == 0:
                return j
    raise Problem(400, "bad-update", "the update has an unclosed '{'",
                  hint="check the braces of the update")


def rewrite(text: str, staging: Callable[[str], str], published: list[str]) -> Rewrite:
    """``text`` with every graph it names replaced by ``staging(graph)``.

    ``published``: the asserted graphs, which ``ALL`` and ``NAMED`` mean.

    >>> r = rewrite("INSERT DATA { <urn:a> <urn:b> 1 . GRAPH <urn:g> { <urn:a> <urn:b> 2 } }",
    ...             lambda g: "urn:s:" + g, [])
    >>> r.text.split(" GRAPH")  # doctest: +NORMALIZE_WHITESPACE
    ['INSERT DATA {', ' <urn:s:urn:x-crinkkg:default> { <urn:a> <urn:b> 1 . }',
     ' <urn:s:urn:g> { <urn:a> <urn:b> 2 } }']
    >>> sorted(r.graphs)
    ['urn:g', 'urn:x-crinkkg:default']
    >>> rewrite("CLEAR DEFAULT", lambda g: "urn:s:" + g, []).text
    'CLEAR GRAPH <urn:s:urn:x-crinkkg:default>'
    >>> rewrite("DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", lambda g: "s:" + g, []).text
    'WITH <s:urn:x-crinkkg:default> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }'
    """
    try:
        tokens = tokenize(text)
        # GRAPH ?g reads and writes the staged copies through ?g__staged, while ?g keeps
        # the graph's own name for every other use (BIND, templates, results)
        for i in reversed(range(len(tokens) - 1)):
            if tokens[i].is_word("GRAPH") and tokens[i + 1].kind == "var":
                v = tokens[i + 1]
                text = f"{text[:v.start]}{v.value}{_STAGED}{text[v.end:]}"
        tokens = tokenize(text)
    except Unreadable as exc:
        raise Problem(400, "bad-update", f"the update cannot be read: {exc}",
                      hint="check the quotes and IRIs of the update") from None
    prefixes = {**PREFIXES, **declared_prefixes(tokens)}
    out = _Writer(text)
    result = Rewrite(text="")
    # GRAPH ?g reads or writes any graph: every asserted graph is staged, and ?g ranges
    # over the staged copies (as it ranges over the asserted graphs locally)
    everything = [*published, DEFAULT_GRAPH]
    staged_values = "\x00STAGED\x00"  # every graph the request names, known at its end

    graph, rename = _renamers(out, result, staging, prefixes)

    # split into operations at ';' outside braces
    ops: list[list[int]] = [[]]
    depth = 0
    for i, t in enumerate(tokens):
        depth += {"{": 1, "}": -1}.get(t.value, 0)
        if depth == 0 and t.value == ";":
            ops.append([])
        else:
            ops[-1].append(i)
    for op in ops:
        body = [i for i in op if not tokens[i].is_word("PREFIX", "BASE")]
        # drop the prologue: PREFIX p: <iri> and BASE <iri>
        skip: set[int] = set()
        for i in op:
            if tokens[i].is_word("PREFIX"):
                skip |= {i, i + 1, i + 2}
            elif tokens[i].is_word("BASE"):
                skip |= {i, i + 1}
        body = [i for i in op if i not in skip]
        if not body:
            continue
        first = tokens[body[0]]
        variables = sorted({tokens[i + 1].value for i in body[:-1] if tokens[i].is_word("GRAPH")
                            and tokens[i + 1].kind == "var"})
        values = " ".join(f"VALUES ({v} {v.removesuffix(_STAGED)}) {{ {staged_values} }}"
                          for v in variables)
        if variables:
            result.graphs.update(everything)
        if first.is_word(*_GRAPH_OPS):
            _graph_operation(tokens, body, out, result, rename, graph, published)
        elif variables and first.is_word("DELETE") and tokens[body[1]].is_word("WHERE"):
            # DELETE WHERE { Q } is DELETE { Q } WHERE { Q }: spelt out, to bind ?g
            brace = body[2]
            end = _close(tokens, brace)
            block = _rewritten_block(text[tokens[brace].start:tokens[end].end], staging,
                                     result, prefixes)
            out.replace(first.start, tokens[end].end,
                        f"DELETE {block} WHERE {{ {values} {block[1:-1]} }}")
        else:
            _quad_operation(tokens, body, out, rename, graph, values)
    result.text = out.done().replace(
        staged_values, " ".join(f"(<{staging(g)}> <{g}>)" for g in sorted(result.graphs)
                                if g != DEFAULT_GRAPH))  # not a named graph
    return result


def _renamers(out: _Writer, result: Rewrite, staging: Callable[[str], str],
              prefixes: dict[str, str]) -> tuple[Callable[[str], str], Callable[[Token], str]]:
    """``graph(iri)``: the staged name, recorded; ``rename(token)``: the same, written in
    place of the token."""

    def graph(iri: str) -> str:
        result.graphs.add(iri)
        return f"<{staging(iri)}>"

    def rename(t: Token) -> str:
        iri = resolve(t, prefixes)
        if iri is None:
            raise Problem(501, "not-supported-remotely",
                          f"the update names a graph by {t.value}, which a remote store "
                          "cannot stage", hint="name the graph by its IRI")
        out.replace(t.start, t.end, graph(iri))
        return iri

    return graph, rename


def _rewritten_block(block: str, staging: Callable[[str], str], result: Rewrite,
                     prefixes: dict[str, str]) -> str:
    """A quads block ``{ ... }`` with its default-graph triples wrapped and its graphs
    renamed (``GRAPH ?g`` left as it is)."""
    tokens = tokenize(block)
    out = _Writer(block)
    graph, rename = _renamers(out, result, staging, prefixes)
    _wrap_default(tokens, 0, len(tokens) - 1, out, rename, graph, allow_variables=True)
    return out.done()


def _graph_operation(tokens: list[Token], body: list[int], out: _Writer, result: Rewrite,
                     rename, graph, published: list[str]) -> None:
    word = tokens[body[0]].value.upper()
    if word == "LOAD":
        raise Problem(501, "not-supported-remotely",
                      "LOAD is not run through this server over a remote store",
                      hint="load the data into the input files and publish")
    rest = [i for i in body[1:] if not tokens[i].is_word("SILENT")]
    targets: list[str] = []
    k = 0
    while k < len(rest):
        t = tokens[rest[k]]
        if t.is_word("GRAPH"):
            k += 1
            continue
        if t.is_word("TO"):
            k += 1
            continue
        if t.is_word("DEFAULT"):
            out.replace(t.start, t.end, f"GRAPH {graph(DEFAULT_GRAPH)}")
            targets.append(DEFAULT_GRAPH)
        elif t.is_word("ALL", "NAMED"):
            names = list(published) + ([DEFAULT_GRAPH] if t.is_word("ALL") else [])
            # CLEAR/DROP ALL: one operation per graph, in place of this one
            start, end = tokens[body[0]].start, tokens[body[-1]].end
            # ALL and NAMED never fail on a graph that is missing or empty
            parts = [f"{word} SILENT GRAPH {graph(g)}" for g in names]
            out.replace(start, end, " ;\n".join(parts) if parts
                        else f"CLEAR SILENT GRAPH {graph(DEFAULT_GRAPH)}")
            if word == "DROP":
                result.events += [("drop", g) for g in names]
            return
        elif t.kind in ("iri", "pname"):
            targets.append(rename(t))
        k += 1
    if word == "CREATE":
        result.events += [("create", g) for g in targets]
    elif word == "DROP":
        result.events += [("drop", g) for g in targets]
    elif word == "MOVE" and len(targets) == 2 and targets[0] != targets[1]:
        result.events += [("drop", targets[0]), ("create", targets[1])]
    elif word in ("ADD", "COPY") and len(targets) == 2:
        result.events.append(("create", targets[1]))


def _quad_operation(tokens: list[Token], body: list[int], out: _Writer, rename,
                    graph, values: str = "") -> None:
    """INSERT/DELETE DATA, DELETE WHERE, and DELETE/INSERT ... WHERE."""
    words = [tokens[i] for i in body[:2]]
    short = len(words) == 2 and words[0].is_word("INSERT", "DELETE") \
        and words[1].is_word(*_DATA_OPS)
    if short:  # the quads are the one block that follows
        brace = next(i for i in body if tokens[i].value == "{")
        _wrap_default(tokens, brace, _close(tokens, brace), out, rename, graph)
        return
    has_with = tokens[body[0]].is_word("WITH")
    if has_with:
        rename(tokens[body[1]])
    else:
        out.insert(tokens[body[0]].start, f"WITH {graph(DEFAULT_GRAPH)} ")
    i = 0
    while i < len(body):
        t = tokens[body[i]]
        if t.is_word("USING"):
            j = body[i + 1]
            if tokens[j].is_word("NAMED"):
                j = body[i + 2]
                i += 1
            rename(tokens[j])
            i += 2
            continue
        if t.is_word("DELETE", "INSERT") and i + 1 < len(body) \
                and tokens[body[i + 1]].value == "{":
            brace = body[i + 1]
            end = _close(tokens, brace)
            _graphs_in(tokens, brace, end, out, rename, template=True)
            i = body.index(end) + 1
            continue
        if t.is_word("WHERE"):
            brace = body[i + 1]
            if values:  # for the templates: ?g bound anywhere in the WHERE
                out.insert(tokens[brace].end, f" {values} ")
            _graphs_in(tokens, brace, _close(tokens, brace), out, rename, values=values)
            return
        i += 1


def _graphs_in(tokens: list[Token], start: int, end: int, out: _Writer, rename, *,
               template: bool = False, values: str = "") -> None:
    """Rename every ``GRAPH <iri>`` in tokens ``start..end``; a template's ``GRAPH ?g``
    cannot be staged (the graphs it writes are known only when it runs)."""
    for i in range(start, end):
        if tokens[i].is_word("GRAPH"):
            nxt = tokens[i + 1]
            if nxt.kind == "var":
                if values:  # in the GRAPH pattern's own group, where BIND sees ?g
                    out.insert(tokens[i].start, f"{values} ")
                continue
            rename(nxt)


def _wrap_default(tokens: list[Token], start: int, end: int, out: _Writer, rename,
                  graph, *, allow_variables: bool = False) -> None:
    """Inside the quads block ``start..end``: rename the named graphs and put the triples
    outside any ``GRAPH`` into the staged default graph."""
    i = start + 1
    run_start: int | None = None

    def flush(upto: int) -> None:
        nonlocal run_start
        if run_start is not None:
            out.insert(tokens[run_start].start, f"GRAPH {graph(DEFAULT_GRAPH)} {{ ")
            out.insert(tokens[upto - 1].end, " }")
            run_start = None

    while i < end:
        t = tokens[i]
        if t.is_word("GRAPH"):
            flush(i)
            if tokens[i + 1].kind == "var":
                if not allow_variables:
                    raise Problem(501, "not-supported-remotely",
                                  "GRAPH with a variable in the data of an update cannot be "
                                  "staged on a remote store", hint="name the graph by its IRI")
            else:
                rename(tokens[i + 1])
            i = _close(tokens, i + 2) + 1
            continue
        if run_start is None and t.value != ".":
            run_start = i
        i += 1
    flush(end)
