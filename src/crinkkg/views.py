"""The three views of the dataset, and the one rule about choosing them.

A query reads the asserted graphs, the inferred graph, or both (``all``, the default):
``view=`` on the protocol, ``--view`` on the command line. Every layer imports the names
and the check from here, so that the views mean the same everywhere.
"""

from __future__ import annotations

from typing import Literal

from crinkkg.problems import Problem
from crinkkg.sparqltext import Unreadable, tokenize
from crinkkg.vocab import INFERRED_GRAPH_IRI

View = Literal["all", "asserted", "inferred"]
VIEWS: tuple[View, ...] = ("all", "asserted", "inferred")


def check_view_and_dataset(sparql: str, view: str, default_graphs: list[str] | None,
                           named_graphs: list[str] | None) -> None:
    """Refuse ``view=asserted``/``inferred`` together with a dataset (FROM, FROM NAMED,
    default-graph-uri, named-graph-uri): both say which graphs the query reads, and no
    choice between them is what every client means, so the client says which (400).

    >>> check_view_and_dataset("SELECT * FROM <urn:g> { ?s ?p ?o }", "all", None, None)
    >>> check_view_and_dataset("SELECT * FROM <urn:g> { ?s ?p ?o }", "asserted", None, None)
    Traceback (most recent call last):
    crinkkg.problems.Problem: view=asserted and the query's FROM/FROM NAMED both choose ...
    """
    if view == "all":
        return
    if default_graphs is not None or named_graphs is not None:
        given = "default-graph-uri/named-graph-uri"
    else:
        try:
            if not any(t.is_word("FROM") for t in tokenize(sparql)):
                return
        except Unreadable:
            return  # evaluation reports the syntax error
        given = "FROM/FROM NAMED"
    raise Problem(400, "view-and-dataset",
                  f"view={view} and the query's {given} both choose the graphs to query",
                  hint=f"drop view= to query the graphs {given} names (the inferred graph is "
                       f"<{INFERRED_GRAPH_IRI}>), or drop {given} to query the {view} view")


def parse_view(value: str | None) -> View:
    """The view a ``view=`` parameter names (absent: ``all``); 400 for anything else.

    >>> parse_view(None), parse_view("inferred")
    ('all', 'inferred')
    """
    view = value or "all"
    if view not in VIEWS:
        raise Problem(400, "bad-view", f"view={view} is not a view of this dataset",
                      hint="use view=all (default), view=asserted or view=inferred")
    return view  # type: ignore[return-value]
