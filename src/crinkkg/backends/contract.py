"""What the web layer and the command line may ask of a dataset: the backend contract.

Two implementations stand behind it, chosen by one setting (``--backend URL``):

- :class:`crinkkg.backends.embedded.backend.EmbeddedBackend`: the built Oxigraph store on
  this machine, queried by killable worker processes (the default);
- :class:`crinkkg.backends.remote.RemoteBackend`: any SPARQL 1.1 store reached over the
  SPARQL 1.1 Protocol and the Graph Store HTTP Protocol (Virtuoso, Oxigraph server, ...).

Answers cross the seam already serialised for the client (a :class:`Reply`: media type,
bytes, row count), so that caps, formats and errors are the same whichever store answers;
failures cross it as :class:`~crinkkg.problems.Problem` values (status, kind, hint).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import pyoxigraph as ox

from crinkkg.formats import Override
from crinkkg.problems import Problem
from crinkkg.views import View
from crinkkg.vocab import INFERRED_GRAPH_IRI, SUPPORT_GRAPH_IRI

#: ``fmt=`` names for graph answers, by the pyoxigraph format a caller asks for
GRAPH_FORMAT_NAMES = {"text/turtle": "turtle", "application/n-triples": "ntriples",
                      "application/n-quads": "nquads", "application/trig": "trig",
                      "application/ld+json": "jsonld", "application/rdf+xml": "rdfxml"}


@dataclass
class Reply:
    """A successful answer: ``body`` in ``content_type``, ``count`` rows or triples."""

    content_type: str
    body: bytes
    count: int
    seconds: float


@runtime_checkable
class Backend(Protocol):
    """A dataset the server reads and updates.

    Every method raises :class:`~crinkkg.problems.Problem` for what the client can act on
    (syntax, format, timeout, saturation, a store that is down) and nothing else.
    """

    #: ``"embedded"`` or ``"remote"``: shown on ``/health`` and in the log
    kind: str

    def launch(self) -> None:
        """Begin starting (worker processes, connections) without waiting."""

    def start(self) -> None:
        """Be ready to answer; raises a Problem when the store cannot be opened."""

    def close(self) -> None:
        """Stop everything this backend started."""

    def after_fork(self) -> None:
        """In a forked HTTP process: drop what must not be shared across a fork."""

    def query(self, sparql: str, *, view: View = "all", default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None, base_iri: str | None = None,
              accept: str | None = None, fmt: Override = None,
              max_rows: int | None = None) -> Reply:
        """Evaluate a query; serialise its result for this ``Accept`` or ``fmt``."""

    def read_graph(self, graph: str | None, *, accept: str | None = None,
                   fmt: Override = None) -> Reply:
        """One named graph (``None``: the default graph, the union of all)."""

    def read_dataset(self, *, accept: str | None = None, fmt: str | None = None) -> Reply:
        """Every graph of the dataset (TriG or N-Quads)."""

    def graph_exists(self, graph: str) -> bool:
        """Whether the dataset lists the named graph ``graph``, empty or not."""

    def update(self, sparql: str, *, column_shift: int = 0) -> Reply:
        """Apply an update; return once the inferred graph is current and published."""

    def changes(self, since: str | None = None) -> Reply:
        """The writes this store acknowledged (all, or those after ``since``: an id or a
        date), in RDF Patch: the change feed; a Problem (404 ``no-journal``) when the store
        keeps no journal."""

    @property
    def updates_enabled(self) -> bool:
        """Whether :meth:`update` may succeed (else it answers 403)."""

    @property
    def in_flight(self) -> int:
        """Queries admitted and not yet answered."""

    def version(self) -> str:
        """An opaque string that changes whenever the dataset does (HTTP validators)."""

    def graph_counts(self) -> dict[str, int]:
        """Triples per graph; ``""`` is the store's own default graph when not empty."""

    def triple_counts(self) -> dict[str, int]:
        """Distinct triples: ``asserted``, ``inferred`` and ``all``."""

    def statistics(self) -> Statistics:
        """Triples per graph, asserted and inferred, instances per class, properties."""

    def health(self) -> dict:
        """What ``/health`` shows about the store."""

    def gauges(self) -> dict[str, tuple[str, Callable[[], float]]]:
        """The backend's own Prometheus gauges: name -> (help text, reader)."""

    def counters(self) -> dict[str, tuple[str, Callable[[], float]]]:
        """The backend's own Prometheus counters of this process (added up over the HTTP
        processes): name -> (help text, reader)."""

    def peer_metrics(self) -> list[dict] | None:
        """Every HTTP process's metrics snapshot when several serve (else None)."""

    def share(self, folder: str) -> ProcessShare:
        """Prepare to serve several HTTP processes forked from this one."""

    def select_json(self, sparql: str, view: View = "all") -> dict:
        """SELECT results as parsed SPARQL 1.1 JSON."""

    def search(self, text: str, *, scope: str = "all", limit: int | None = None,
               offset: int = 0) -> dict:
        """Full-text search of the version served: ``passages`` (sentences of the stored
        texts, with their claims) and ``resources`` (by label, description, local name),
        best first (``scope``: ``all``, ``passages`` or ``resources``)."""

    def complete(self, prefix: str, *, limit: int | None = None) -> dict:
        """Resources whose local name or label words start with ``prefix``: the query
        editor's completion."""

    def ask(self, sparql: str, view: View = "all") -> bool:
        """The boolean of an ASK query."""

    def construct(self, sparql: str, fmt: ox.RdfFormat, view: View = "all") -> bytes:
        """CONSTRUCT/DESCRIBE results serialised in ``fmt``."""


class ProcessShare(Protocol):
    """A backend shared by HTTP processes forked after :meth:`start`.

    ``front`` is the backend each HTTP process uses; memory and worker processes belong to
    the serving process, so they are not multiplied by the number of HTTP processes.
    """

    front: Backend

    def start(self) -> None:
        """Start what the HTTP processes will reach (before the fork)."""

    def in_child(self, snapshot: Callable[[], dict]) -> None:
        """In each HTTP process, just after the fork; ``snapshot`` gives its metrics."""

    def report_processes(self, census: Callable[[], dict]) -> None:
        """``census()``: the HTTP processes that run, of how many, for every process's
        ``/health`` (before :meth:`start`)."""

    def close(self) -> None:
        """Stop what :meth:`start` started."""


class Admission:
    """At most ``limit`` queries at once in this process; one more is a 503 ``saturated``
    with ``Retry-After`` (the client retries; the server never queues without bound).

    >>> a = Admission(1)
    >>> a.enter(); a.count
    1
    >>> a.enter()
    Traceback (most recent call last):
    crinkkg.problems.Problem: the server is already running 1 queries, its limit
    >>> a.leave(); a.count
    0
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            if self.count >= self.limit:
                raise Problem(503, "saturated",
                              f"the server is already running {self.count} queries, its limit",
                              hint="retry in a moment", headers={"Retry-After": "1"})
            self.count += 1

    def leave(self) -> None:
        with self._lock:
            self.count -= 1


@dataclass(frozen=True)
class Statistics:
    """Figures about the dataset, computed by SPARQL so that any store answers them.

    ``graphs``: triples per graph (``""``: the store's own default graph, when not empty;
    a triple held by two graphs counts in each); ``asserted``: distinct triples of the
    asserted graphs' merge; ``inferred``: triples of the inferred graph; ``support``:
    triples of the support graph; ``classes`` and ``properties``: instances per class and
    uses per property over the whole dataset.
    """

    graphs: dict[str, int]
    asserted: int
    inferred: int
    classes: dict[str, int]
    properties: dict[str, int]
    support: int = 0

    @property
    def triples(self) -> int:
        """Asserted, inferred and support triples: the default graph (the three share no
        triple)."""
        return self.asserted + self.inferred + self.support

    def as_dict(self) -> dict:
        return {"graphs": self.graphs, "asserted_triples": self.asserted,
                "inferred_triples": self.inferred, "support_triples": self.support,
                "triples": self.triples,
                "instances_per_class": self.classes, "properties_used": self.properties}


def bounded_limit(asked: int | None, limit: int) -> int:
    """How many hits to give: what the client asked for, within the server's limit.

    >>> bounded_limit(None, 100), bounded_limit(5, 100), bounded_limit(500, 100)
    (100, 5, 100)
    """
    return limit if asked is None or asked <= 0 else min(asked, limit)


def search_unavailable() -> Problem:
    """501 for a full-text search asked of a store that has no index beside it (a remote
    SPARQL store)."""
    return Problem(501, "search-not-available",
                   "full-text search reads the index `crinkkg build` writes beside the "
                   "embedded store; this server answers from a remote SPARQL store, which has "
                   "no such index",
                   hint="serve the embedded store (without --backend) to search it, or use "
                        "the remote store's own text search (e.g. Virtuoso's bif:contains)")


#: a ``max_rows`` that lifts the row limit: every row of a statistics query, or of a
#: command-line query, whatever the server's limit for its clients
ALL_ROWS = 2**31


class QueryHelpers:
    """What every backend derives from :meth:`Backend.query`: parsed answers for pages and
    services, and the dataset's figures (cached per :meth:`Backend.version`). A backend
    inherits them and implements ``query`` and ``version``."""

    _figures: tuple[str, tuple[dict[str, int], int]] | None = None
    _statistics: tuple[str, Statistics] | None = None

    def select_json(self: Backend, sparql: str, view: View = "all") -> dict:
        """SELECT results as parsed SPARQL 1.1 JSON."""
        return json.loads(self.query(sparql, view=view, fmt="json").body)

    def ask(self: Backend, sparql: str, view: View = "all") -> bool:
        """The boolean of an ASK query."""
        return bool(json.loads(self.query(sparql, view=view, fmt="json").body)["boolean"])

    def construct(self: Backend, sparql: str, fmt: ox.RdfFormat, view: View = "all") -> bytes:
        """CONSTRUCT/DESCRIBE results serialised in ``fmt``."""
        return self.query(sparql, view=view, fmt=GRAPH_FORMAT_NAMES[fmt.media_type]).body

    def search(self, text: str, *, scope: str = "all", limit: int | None = None,
               offset: int = 0) -> dict:
        """No index here unless the backend has one (the embedded store)."""
        raise search_unavailable()

    def complete(self, prefix: str, *, limit: int | None = None) -> dict:
        """No index here unless the backend has one (the embedded store)."""
        raise search_unavailable()

    def _rows(self: Backend, sparql: str, **dataset: object) -> list[dict]:
        reply = self.query(sparql, fmt="json", max_rows=ALL_ROWS, **dataset)  # type: ignore
        return json.loads(reply.body)["results"]["bindings"]

    def _counts(self) -> tuple[dict[str, int], int]:
        """Triples per graph and in the asserted graphs' merge, for this version."""
        version = self.version()  # type: ignore[attr-defined]
        cached = self._figures
        if cached is not None and cached[0] == version:
            return cached[1]
        counts = {row["g"]["value"]: int(row["n"]["value"]) for row in self._rows(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
        own = self._rows("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                         default_graphs=["default"])  # the store's own default graph
        n = int(own[0]["n"]["value"]) if own else 0
        if n:
            counts[""] = n
        merged = self._rows("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", view="asserted")
        figures = (counts, int(merged[0]["n"]["value"]))
        self._figures = (version, figures)
        return figures

    def graph_counts(self) -> dict[str, int]:
        """Triples per graph (``""`` is the store's own default graph); a triple held by
        two graphs is counted in each."""
        return dict(self._counts()[0])

    def triple_counts(self) -> dict[str, int]:
        """Distinct triples: ``asserted`` (the merge of the asserted graphs), ``inferred``,
        ``support`` and ``all`` (the default graph: the three share no triple); every count
        the server shows comes from here."""
        counts, asserted = self._counts()
        inferred = counts.get(INFERRED_GRAPH_IRI, 0)
        support = counts.get(SUPPORT_GRAPH_IRI, 0)
        return {"asserted": asserted, "inferred": inferred, "support": support,
                "all": asserted + inferred + support}

    def statistics(self) -> Statistics:
        """The dataset's figures, for ``crinkkg stats`` and the service description."""
        version = self.version()  # type: ignore[attr-defined]
        cached = self._statistics
        if cached is not None and cached[0] == version:
            return cached[1]

        def pairs(sparql: str, key: str) -> dict[str, int]:
            rows = self._rows(sparql)
            found = sorted(((r[key]["value"], int(r["n"]["value"])) for r in rows
                            if r.get(key, {}).get("type") == "uri"),
                           key=lambda kv: (-kv[1], kv[0]))
            return dict(found)

        counts = self.triple_counts()
        stats = Statistics(
            graphs=dict(sorted(self.graph_counts().items())),
            asserted=counts["asserted"], inferred=counts["inferred"],
            support=counts["support"],
            classes=pairs("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c",
                          "c"),
            properties=pairs("SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p", "p"))
        self._statistics = (version, stats)
        return stats
