"""The usual lookup read in one regular-expression match (``lookup_shape``) is read as its
tokens are: for every text near that shape (cases, spaces, prefixes, variables, IRIs,
comments, limits), ``single_pattern`` and the lookup planner give what they give from the
tokens alone."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crinkkg.backends.lookup import plan, plan_of_tokens
from crinkkg.sparqltext import lookup_shape, single_pattern, single_pattern_of_tokens

# mostly the usual spelling, now and then one thing otherwise: both sides of the shape
SPACES = [" "] * 120 + ["\t", "\n", "\r\n", "  ", "", "\u00a0", "\u2003"]
KEYWORD_CASES = ["{}"] * 40 + ["lower", "title", "ſ"]
VARS = ["p", "o"] * 10 + ["s", "x", "p1", "_", "K", "é", "ο"]
IRIS = ["<http://ex/a>"] * 8 + ["<https://w3id.org/crinkkg/id/x#y>", "<http://ex/a b>",
        "<http://ex/../a>", "<rel>", "<>", "<http://ex/a\u00e9>", "ex:a", "?s", "<http://ex/{a}>"]
PREFIX_NAMES = ["", "ex", "crink", "ex", "a-b", "a.b", "é"]


def keyword(draw, word: str) -> str:
    how = draw(st.sampled_from(KEYWORD_CASES))
    if how == "lower":
        return word.lower()
    if how == "title":
        return word.title()
    if how == "ſ" and "S" in word:
        return word.replace("S", "ſ", 1)
    return word


@st.composite
def texts(draw) -> str:
    sp = lambda: draw(st.sampled_from(SPACES))  # noqa: E731
    out = ""
    names = draw(st.sampled_from([[], [], ["ex"], ["crink", "ex"], ["", "a-b", "ex"]]))
    if draw(st.integers(0, 4)) == 0:
        names = draw(st.lists(st.sampled_from(PREFIX_NAMES), max_size=3))
    for name in names:
        out += (sp() + keyword(draw, "PREFIX") + sp() + name
                + ":" + sp() + draw(st.sampled_from(IRIS[:4] + ["<x>"])) + sp())
    mark = lambda: draw(st.sampled_from(["?"] * 12 + ["$"]))  # noqa: E731
    p, o = draw(st.sampled_from([("p", "o")] * 10 + [("o", "p"), ("s", "x")]
                                + [(a, b) for a in VARS[-7:] for b in ("o", "p")]))
    if draw(st.integers(0, 9)) == 0:
        p, o = draw(st.sampled_from(VARS)), draw(st.sampled_from(VARS))
    columns = draw(st.sampled_from([[p, o]] * 4 + [[o, p]] * 4 + [[p], [p, o, "z"], [p, "z"]]))
    out += keyword(draw, "SELECT") + sp()
    out += " ".join(mark() + v for v in columns) + sp()
    if draw(st.booleans()):
        out += keyword(draw, "WHERE") + sp()
    out += ("{" + sp() + draw(st.sampled_from(IRIS)) + sp() + mark() + p + sp() + mark() + o
            + sp())
    out += draw(st.sampled_from([""] * 6 + [".", " .", ". ", "#c\n"])) + "}" + sp()
    out += draw(st.sampled_from([""] * 12 + ["LIMIT 5", "# done", "OFFSET 1", "."]))
    return out


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=texts())
def test_the_shape_reads_as_the_tokens(text: str) -> None:
    event(f"read in one match: {lookup_shape(text) is not None}")
    assert single_pattern(text) == single_pattern_of_tokens(text), text
    assert plan(text) == plan_of_tokens(text), text


def test_the_usual_lookups_are_read_in_one_match() -> None:
    usual = ("PREFIX crink: <https://w3id.org/crinkkg/ontology#>\n"
             "PREFIX id: <https://w3id.org/crinkkg/id/>\n"
             "SELECT ?p ?o WHERE { <https://w3id.org/crinkkg/id/china> ?p ?o }")
    assert lookup_shape(usual) == ("https://w3id.org/crinkkg/id/china", "p", "o", "p", "o")
    assert plan(usual) == plan_of_tokens(usual) and plan(usual) is not None
    for other in ("SELECT ?p ?o WHERE { <http://ex/a> ?p ?o } LIMIT 3",
                  "PREFIX a: <x> PREFIX a: <y> SELECT ?p ?o { <http://ex/a> ?p ?o }",
                  "ſELECT ?p ?o { <http://ex/a> ?p ?o }",
                  "SELECT ?p ?p { <http://ex/a> ?p ?p }",
                  "SELECT ?p ?x { <http://ex/a> ?p ?o }"):
        assert lookup_shape(other) is None, other


def test_the_tokenizers_name_classes_match_the_grammars_ranges_on_every_code_point() -> None:
    """The tokenizer writes its name classes as complements (they compile faster); each
    matches exactly the characters of the class as the grammar's ranges spell it."""
    import re

    from crinkkg.sparqltext import _NAMES

    spelled = {
        "VARNAMECHAR": r"[A-Za-z0-9_\u00B7\u00C0-\U000EFFFF]",
        "PREFIXSTART": r"[A-Za-z\u00C0-\U000EFFFF]",
        "PREFIXCHAR": r"[A-Za-z0-9_.\-\u00B7\u00C0-\U000EFFFF]",
        "LOCALSTART": r"[A-Za-z0-9_:%\\\-\u00B7\u00C0-\U000EFFFF]",
        "LOCALCHAR": r"[A-Za-z0-9_.:%\\\-\u00B7\u00C0-\U000EFFFF]",
        "LOCALEND": r"[A-Za-z0-9_:%\-\u00B7\u00C0-\U000EFFFF]",
    }
    assert spelled.keys() == _NAMES.keys()
    every = "".join(map(chr, range(0x110000)))
    for name, ranges in spelled.items():
        assert re.sub(ranges, "", every) == re.sub(_NAMES[name], "", every), name
