"""How crinkkg's SPARQL is said to a remote store, and the store's answers read back.

A query or update the embedded engine runs as written needs a few changes before any SPARQL
1.1 store gives the same answer, and the answers a few changes back:

- the predeclared prefixes (and the endpoint as base) are written into the text, since a
  remote store knows neither (:func:`with_prologue`);
- the store holds blank nodes as skolem IRIs under :data:`GENID` (``crinkkg publish``
  sends them so, to keep a node shared by two graphs or batches one node in the store):
  ``isBlank``/``isIRI``/``isURI`` are
  rewritten to answer for them as for blank nodes (:func:`with_blank_tests`), and the
  answers turn them back into blank nodes (:func:`deskolemized_results`,
  :func:`deskolemized_ntriples`);
- an ASK answer is read in whichever shape the store sends (:func:`ask_answer`).
"""

from __future__ import annotations

import json
import re

from crinkkg.sparqltext import Unreadable, declared_prefixes, has_keyword, tokenize
from crinkkg.vocab import BASE, PREFIXES

#: the RDF 1.1 skolem IRIs that stand for blank nodes in the store (see publish)
GENID = BASE + ".well-known/genid/"
_GENID_NT = re.compile(rb"<" + re.escape(GENID.encode()) + rb"([A-Za-z0-9_-]+)>")


def with_prologue(sparql: str, base_iri: str | None) -> str:
    """The query with the predeclared prefixes it uses but does not declare (and the
    endpoint as its base), since a remote store knows neither.

    >>> with_prologue("ASK { id:iran ?p ?o }", None).splitlines()[0]
    'PREFIX id: <https://w3id.org/crinkkg/id/>'
    >>> with_prologue("BASE <http://h/> INSERT DATA { id:a id:b 1 }", None).splitlines()[:2]
    ['BASE <http://h/>', 'PREFIX id: <https://w3id.org/crinkkg/id/>']
    """
    try:
        tokens = tokenize(sparql)
    except Unreadable:
        return sparql
    declared = declared_prefixes(tokens)
    used = {m.group(1) for m in re.finditer(r"(?<![\w<])([A-Za-z][\w.-]*|):[^\s/]", sparql)}
    lines = [f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items()
             if p in used and p not in declared]
    if base_iri and not has_keyword(sparql, "BASE"):
        lines.insert(0, f"BASE <{base_iri}>")
    if not lines:
        return sparql
    # after a leading BASE (the server's, before an update): Virtuoso refuses a BASE that
    # follows a PREFIX, which SPARQL allows
    head = 0
    if len(tokens) > 1 and tokens[0].is_word("BASE") and tokens[1].kind == "iri":
        head = tokens[1].end
    return "\n".join([sparql[:head], *lines, sparql[head:]]) if head else \
        "\n".join([*lines, sparql])


def deskolemized_results(body: bytes) -> bytes:
    """SPARQL JSON results with each skolem IRI turned back into its blank node.

    >>> body = deskolemized_results(b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":'
    ...     b'{"type":"uri","value":"https://w3id.org/crinkkg/.well-known/genid/v-b1"}}]}}')
    >>> json.loads(body)["results"]["bindings"]
    [{'x': {'type': 'bnode', 'value': 'v-b1'}}]
    """
    if GENID.encode() not in body:
        return body
    data = json.loads(body)
    for row in data.get("results", {}).get("bindings", ()):
        for term in row.values():
            if term.get("type") == "uri" and term["value"].startswith(GENID):
                term["type"], term["value"] = "bnode", term["value"][len(GENID):]
    return json.dumps(data).encode()


def deskolemized_ntriples(body: bytes) -> bytes:
    """N-Triples with each skolem IRI turned back into its blank node.

    >>> deskolemized_ntriples(b"<https://w3id.org/crinkkg/.well-known/genid/v-b1> <urn:p> 1 .")
    b'_:v-b1 <urn:p> 1 .'
    """
    return _GENID_NT.sub(rb"_:\1", body)


_TESTS = {"isblank": "(isBlank({0}) || STRSTARTS(STR({0}), {1}))",
          "isiri": "(isIRI({0}) && !STRSTARTS(STR({0}), {1}))",
          "isuri": "(isIRI({0}) && !STRSTARTS(STR({0}), {1}))"}


def with_blank_tests(sparql: str) -> str:
    """The query with ``isBlank``/``isIRI``/``isURI`` answering for the skolem IRIs as
    they would for the blank nodes they stand for.

    >>> with_blank_tests("ASK { ?s ?p ?o FILTER(isBlank(?o)) }")  # doctest: +ELLIPSIS
    'ASK { ?s ?p ?o FILTER((isBlank(?o) || STRSTARTS(STR(?o), "https://...genid/"))) }'
    """
    try:
        tokens = tokenize(sparql)
    except Unreadable:
        return sparql
    out: list[str] = []
    pos = 0
    for i, t in enumerate(tokens):
        template = _TESTS.get(t.value.lower()) if t.kind == "word" else None
        if template is None or i + 1 >= len(tokens) or tokens[i + 1].value != "(":
            continue
        depth, j = 0, i + 1
        while j < len(tokens):
            depth += {"(": 1, ")": -1}.get(tokens[j].value, 0)
            if depth == 0:
                break
            j += 1
        if j >= len(tokens) or t.start < pos:
            continue
        argument = sparql[tokens[i + 1].end:tokens[j].start]
        out.append(sparql[pos:t.start])
        out.append(template.format(argument, json.dumps(GENID)))
        pos = tokens[j].end
    out.append(sparql[pos:])
    return "".join(out)


def ask_answer(doc: dict) -> bool:
    """The boolean of an ASK answer in SPARQL JSON; Virtuoso 7.2 sends a one-row result
    (``__ask_retval`` 1) or no row instead of ``{"boolean": ...}``.

    >>> ask_answer({"boolean": True}), ask_answer({"head": {"vars": ["__ask_retval"]},
    ...     "results": {"bindings": [{"__ask_retval": {"type": "literal", "value": "0"}}]}})
    (True, False)
    """
    if "boolean" in doc:
        return doc["boolean"] in (True, 1, "1", "true")
    rows = doc.get("results", {}).get("bindings", [])
    return any(v.get("value") not in ("0", "false") for row in rows for v in row.values())
