"""The manifest of a remote store: what is published there, and the switch to a new version
that readers see whole or not at all.

``crinkkg publish``, a remote update and ``reason --in-store`` each end by replacing
published graphs in place: their names are the public ones users query (``GRAPH ?g``,
``FROM <…>``, filters on graph names), so they cannot move to versioned names. A store that
runs a request as one transaction is not enough for readers: Virtuoso 7.2 reads at READ
COMMITTED, so one query can read the manifest before a swap commits and the graphs after it
(measured: 3 mixed answers in 3,917 reads over 34 swaps; ``DefaultIsolation = 4`` turns the
swaps into deadlocks instead). The switch therefore works the same on every store, whatever
its isolation:

1. the manifest gets a *switching* mark (a deadline: until then, readers wait);
2. the mark is *held* (a deadline that never comes), the graphs are swapped by several
   requests, one graph operation each (:func:`replace_graph`, :func:`clear_graph`), and the
   new manifest is written, serial increased, with a deadline mark again;
3. the mark is removed.

A reader (:class:`~crinkkg.backends.remote.RemoteBackend`) queries only with a manifest that
bears no mark, then reads the manifest's :class:`Mark` again: the answer stands only when the
serial is the same and no mark has appeared; otherwise the switch ran meanwhile and the query
is sent again on the new version. Each phase starts after the previous one's answer, so a
query that overlaps any request of phase 2 always sees the mark or the new serial: the swap
need not be one transaction, and is not, since Oxigraph server's cost of one update request
grows faster than the quads it writes (docs/remote-stores.md). A mark left by a publisher
that died in phase 1 is obeyed until its deadline, then ignored (nothing was changed); one
that died in phase 2 left some graphs swapped, so its held mark stays until the next switch
(running the publish again completes it). Clients that read the store without crinkkg see
the graphs change one by one in phase 2 unless they obey the mark as crinkkg does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from crinkkg.backends.remote_errors import RemoteStoreError
from crinkkg.backends.remote_update import DEFAULT_GRAPH
from crinkkg.backends.sparql_client import SparqlClient
from crinkkg.views import View
from crinkkg.vocab import INFERRED_GRAPH_IRI

#: the graph that says what is published: the version and the graphs of each role
MANIFEST_GRAPH = "urn:x-crinkkg:manifest"
#: the manifest's own terms (never shown: the manifest graph is outside every view)
MANIFEST = "urn:x-crinkkg:manifest#"
#: a graph that never holds anything: the protocol cannot name an empty default graph
EMPTY_GRAPH = "urn:x-crinkkg:empty"
RESULTS_JSON = "application/sparql-results+json"
XSD = "http://www.w3.org/2001/XMLSchema#"
#: seconds a switch may take beyond the publisher's own wait for the swap's answer
SWITCH_MARGIN = 30.0
#: the deadline of a held mark (year 3000): phase 2 changed graphs, readers wait for phase 3
HELD = 32503680000.0


@dataclass(frozen=True)
class Manifest:
    """What a publish left in the store: ``version``, the asserted graphs, the inferred
    graph, the merge graph (the RDF merge of the asserted graphs, which queries read as
    their default graph), the support graph, the ``serial`` of this manifest (one more at
    each switch) and ``switching``, the deadline (seconds since the epoch) of a switch in
    progress, if any."""

    version: str
    asserted: tuple[str, ...]
    inferred: str = INFERRED_GRAPH_IRI
    merge: str | None = None
    support: str | None = None
    serial: int = 0
    switching: float | None = None

    @property
    def graphs(self) -> list[str]:
        """The named graphs users see (asserted, inferred and support)."""
        return [*self.asserted, self.inferred, *([self.support] if self.support else [])]

    def dataset(self, view: View, *, named: list[str | None] | None = None
                ) -> tuple[list[str], list[str]]:
        """``default-graph-uri`` and ``named-graph-uri`` values for one view (the same
        datasets as :meth:`crinkkg.store.oxigraph.OxigraphStore.dataset_for`).

        A store limits how many graphs one query may name (Virtuoso 7.2 refuses about 4,500,
        and spends time on each), so the default graph names the merge graph rather than
        every asserted graph, and the named graphs are only those the query can read:
        ``named`` is what follows each ``GRAPH`` of the query
        (:func:`crinkkg.sparqltext.graph_targets`: an IRI, or None for a variable, which
        reads them all); none at all for a query without ``GRAPH``.

        >>> m = Manifest("v", ("urn:a", "urn:b"), "urn:i", "urn:m")
        >>> m.dataset("asserted", named=["urn:b", "urn:other"])
        (['urn:m'], ['urn:b'])
        >>> m.dataset("all", named=[None])[1], m.dataset("inferred", named=["urn:other"])
        (['urn:a', 'urn:b', 'urn:i'], (['urn:i'], ['urn:x-crinkkg:empty']))
        """
        asserted = [self.merge] if self.merge else [*self.asserted, DEFAULT_GRAPH]
        support = [self.support] if self.support else []
        default = {"all": [*asserted, self.inferred, *support], "asserted": asserted,
                   "inferred": [self.inferred]}[view]
        if named is None:
            graphs = self.graphs
        elif not named:
            graphs = []  # no GRAPH in the query: its answer does not depend on them
        elif None in named or any(":" not in g for g in named if g):
            graphs = self.graphs  # a variable, or an IRI relative to the base
        else:
            graphs = [g for g in self.graphs if g in named] or [EMPTY_GRAPH]
        return default or [EMPTY_GRAPH], graphs

    def busy(self, now: float | None = None) -> bool:
        """True while a switch is under way (its deadline not yet passed)."""
        return self.switching is not None and (now or time.time()) < self.switching

    def next_version(self, change: str) -> str:
        """The version after an update or an in-store reasoning run ``change`` made:
        the published build's version, then the change.

        >>> Manifest("b1+u1", ()).next_version("u2")
        'b1+u2'
        """
        return f"{self.version.split('+')[0]}+{change}"

    def triples(self) -> str:
        """The manifest as N-Triples."""
        s = f"<{MANIFEST_GRAPH}>"
        lines = [f'{s} <{MANIFEST}version> {json.dumps(self.version)} .',
                 f'{s} <{MANIFEST}serial> "{self.serial}"^^<{XSD}integer> .',
                 f"{s} <{MANIFEST}inferred> <{self.inferred}> ."]
        if self.switching is not None:
            lines.append(_switching_triple(self.switching))
        lines += [f"{s} <{MANIFEST}asserted> <{g}> ." for g in self.asserted]
        if self.merge:
            lines.append(f"{s} <{MANIFEST}merge> <{self.merge}> .")
        if self.support:
            lines.append(f"{s} <{MANIFEST}support> <{self.support}> .")
        return "\n".join(lines) + "\n"

    def inserts(self, per: int = 1000) -> list[str]:
        """The manifest as ``INSERT DATA`` operations of at most ``per`` triples each, to send
        in one request: Virtuoso's SPARQL parser runs out of memory on one ``INSERT DATA``
        of 14,000 triples, which the manifest of a build of many files reaches.

        >>> len(Manifest("v", tuple(f"urn:g{i}" for i in range(2500))).inserts())
        3
        """
        lines = self.triples().splitlines()
        return [f"INSERT DATA {{ GRAPH <{MANIFEST_GRAPH}> {{\n"
                + "\n".join(lines[i:i + per]) + "\n} }" for i in range(0, len(lines), per)]


def _switching_triple(deadline: float) -> str:
    return (f'<{MANIFEST_GRAPH}> <{MANIFEST}switching> '
            f'"{deadline:.3f}"^^<{XSD}decimal> .')


def read_manifest(client: SparqlClient) -> Manifest | None:
    """The manifest in the store, or None when nothing was published there."""
    response = client.query(
        f"SELECT ?p ?o WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> ?p ?o }} }}",
        accept=RESULTS_JSON)
    rows = json.loads(response.body)["results"]["bindings"]
    by: dict[str, list[str]] = {}
    for row in rows:
        by.setdefault(row["p"]["value"].removeprefix(MANIFEST), []).append(row["o"]["value"])
    if "version" not in by:
        return None
    return Manifest(version=by["version"][0], asserted=tuple(sorted(by.get("asserted", ()))),
                    inferred=by.get("inferred", [INFERRED_GRAPH_IRI])[0],
                    merge=(by.get("merge") or [None])[0],
                    support=(by.get("support") or [None])[0],
                    serial=int(float((by.get("serial") or ["0"])[0])),
                    switching=max(map(float, by["switching"])) if "switching" in by else None)


@dataclass(frozen=True)
class Mark:
    """What a reader checks after its query: the manifest's version, serial and switch."""

    version: str | None
    serial: int
    switching: float | None

    def holds(self, manifest: Manifest, now: float | None = None) -> bool:
        """True when nothing was switched since ``manifest`` was read: an answer read
        with ``manifest``'s dataset is of one version."""
        busy = self.switching is not None and (now or time.time()) < self.switching
        return (self.version, self.serial) == (manifest.version, manifest.serial) \
            and not busy


def read_mark(client: SparqlClient) -> Mark:
    """The manifest's version, serial and switch deadline, in one small query."""
    m = f"<{MANIFEST_GRAPH}>"
    response = client.query(
        f"SELECT ?v ?n ?until WHERE {{ OPTIONAL {{ GRAPH {m} {{ {m} <{MANIFEST}version> ?v }} }}"
        f" OPTIONAL {{ GRAPH {m} {{ {m} <{MANIFEST}serial> ?n }} }}"
        f" OPTIONAL {{ GRAPH {m} {{ {m} <{MANIFEST}switching> ?until }} }} }}",
        accept=RESULTS_JSON)
    rows = json.loads(response.body)["results"]["bindings"]
    versions = {r["v"]["value"] for r in rows if "v" in r}
    serials = {int(float(r["n"]["value"])) for r in rows if "n" in r}
    until = [float(r["until"]["value"]) for r in rows if "until" in r]
    # two versions or serials at once: a manifest being rewritten, read as a switch
    if len(versions) > 1 or len(serials) > 1:
        return Mark(None, -1, float("inf"))
    return Mark(next(iter(versions), None), next(iter(serials), 0),
                max(until) if until else None)


def clear_graph(graph: str) -> str:
    """An update that empties ``graph``. Not ``DROP``: Oxigraph server 0.5 takes time
    that grows with the square of the graph's size to drop it, not to delete its triples
    by a pattern (docs/remote-stores.md)."""
    return (f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{graph}> "
            f"{{ ?s ?p ?o }} }}")


def replace_graph(staged: str, graph: str) -> list[str]:
    """The requests (one operation each) that replace ``graph``'s triples by ``staged``'s,
    which stays as it is (dropped by the caller once the switch is over): a ``MOVE`` in one
    request deletes and inserts in one transaction, which Oxigraph server runs in a time
    that grows with the square of the quads it writes."""
    return [clear_graph(graph), f"ADD SILENT GRAPH <{staged}> TO GRAPH <{graph}>"]


def replace_or_clear(staged: str, graph: str, filled: bool) -> list[str]:
    """:func:`replace_graph` when the staged copy ``filled`` has triples, else
    :func:`clear_graph` (an empty graph is not staged)."""
    return replace_graph(staged, graph) if filled else [clear_graph(graph)]


def _retried(client: SparqlClient, request: str, tries: int = 3) -> None:
    """One request of a swap, sent again (after 1 s, then 2 s) when it fails: each is one
    graph operation that gives the same store when run twice, and a swap stopped half-way
    keeps readers waiting."""
    for attempt in range(tries):
        try:
            client.update(request)
            return
        except RemoteStoreError as exc:
            if attempt == tries - 1 or exc.kind in ("refused", "unauthorised", "configuration"):
                raise
            time.sleep(1.0 + attempt)


def switch(client: SparqlClient, old: Manifest | None, requests: list[str], new: Manifest,
           *, log: Callable[[str], None] | None = None) -> Manifest:
    """Run ``requests`` (the swap of graphs: each its own update request, in order) and
    write ``new`` as the manifest, in the three phases of this module's docstring; returns
    the manifest as published (its serial one more than ``old``'s). When a request of the
    swap fails, the error is raised (its ``switch_held`` True) and the held mark stays:
    readers and writers wait until a publish completes a switch."""
    deadline = time.time() + client.timeout + SWITCH_MARGIN
    unmark = (f"DELETE WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ "
              f"<{MANIFEST_GRAPH}> <{MANIFEST}switching> ?t }} }}")
    published = replace(new, serial=(old.serial if old else 0) + 1, switching=None)
    client.update(f"{unmark} ;\nINSERT DATA {{ GRAPH <{MANIFEST_GRAPH}> {{ "
                  f"{_switching_triple(deadline)} }} }}")
    # held before the first graph changes: a publisher that dies from here on leaves a
    # mixed store, which readers must not read. Inserted, not replacing the first mark: a
    # reader at READ COMMITTED sees one mark or both, never none
    try:
        client.update(f"INSERT DATA {{ GRAPH <{MANIFEST_GRAPH}> {{ "
                      f"{_switching_triple(HELD)} }} }}")
    except RemoteStoreError:
        try:
            client.update(unmark)
        except RemoteStoreError:
            if log:
                log("the switch's mark could not be removed: readers wait until its deadline")
        raise
    try:
        for request in requests:
            _retried(client, request)
        # the store holds the new version whole: the manifest's mark is a deadline again,
        # so that readers read it even if the mark cannot be removed
        client.update(" ;\n".join([f"DROP SILENT GRAPH <{MANIFEST_GRAPH}>", *replace(
            published, switching=time.time() + client.timeout + SWITCH_MARGIN).inserts()]))
    except RemoteStoreError as exc:
        exc.switch_held = True
        exc.hint = ((exc.hint + "; ") if exc.hint else "") + (
            "the switch stopped half-way: readers, updates and reasoning runs wait (its "
            "mark is held) until a publish completes a switch: run `crinkkg --backend URL "
            "publish` again")
        raise
    try:
        client.update(unmark)
    except RemoteStoreError:
        if log:  # the swap is in: readers wait for the mark's deadline, then read it
            log("the switch's mark could not be removed: readers wait until its deadline")
    return published
