"""The search page's and the editor's reads: the backend's full-text search, with what a
page needs to show a hit (where its links go)."""

from __future__ import annotations

from dataclasses import dataclass, field

from crinkkg.problems import Problem
from crinkkg.vocab import PREFIXES
from crinkkg.web.context import get_backend, settings
from crinkkg.web.http.urls import href
from crinkkg.web.render.rdfio import shorten

#: hits of each kind on one page (the server's --search-limit if smaller)
PAGE_HITS = 20


@dataclass
class Found:
    """What a search gave (``problem``: why it gave nothing), as the page shows it."""

    text: str
    scope: str = "all"
    offset: int = 0
    limit: int = 0
    answer: dict = field(default_factory=dict)
    problem: Problem | None = None

    @property
    def passages(self) -> list[dict]:
        return self.answer.get("passages", [])

    @property
    def resources(self) -> list[dict]:
        return self.answer.get("resources", [])

    @property
    def more(self) -> bool:
        """Whether a next page may hold more hits (this one is full)."""
        return bool(self.limit) and (len(self.passages) >= self.limit
                                     or len(self.resources) >= self.limit)


def find(text: str, *, scope: str = "all", limit: int | None = None,
         offset: int = 0) -> dict:
    """The backend's answer to a search, each IRI with the link a page gives it (``href``:
    null when this server does not serve it)."""
    answer = get_backend().search(text, scope=scope, limit=limit, offset=offset)
    for passage in answer.get("passages", []):
        passage["source_href"] = href(passage["source"])
        for claim in passage["claims"]:
            claim["href"] = href(claim["iri"])
    for resource in answer.get("resources", []):
        resource["href"] = href(resource["iri"])
    return answer


def find_for_page(text: str, *, scope: str, offset: int) -> Found:
    """A search for the page: a problem (an empty search, a search over a remote store) is
    shown on the page rather than raised."""
    limit = min(PAGE_HITS, settings().search_limit)
    found = Found(text, scope, offset, limit)
    if not text.strip():
        return found
    try:
        found.answer = find(text, scope=scope, limit=limit, offset=offset)
    except Problem as problem:
        found.problem = problem
    return found


def completions(prefix: str, limit: int | None = None) -> dict:
    """The editor's completion of ``prefix``: each resource as the editor writes it (a
    prefixed name where a predeclared prefix fits, else ``<IRI>``) with its label."""
    answer = get_backend().complete(prefix, limit=limit)
    for resource in answer["resources"]:
        name = shorten(resource["iri"], PREFIXES)
        resource["name"] = name if name != resource["iri"] else f"<{resource['iri']}>"
    return answer
