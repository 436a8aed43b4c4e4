"""The remote backend: the dataset in any SPARQL 1.1 store, read and written over HTTP.

``crinkkg --backend URL serve|query|stats|export|publish|reason`` puts a store such as
Virtuoso or Oxigraph server behind the same contract as the embedded one
(:mod:`crinkkg.backends.contract`); the web layer does not know which it talks to.

What the store holds is what ``crinkkg publish`` put there: every asserted graph, the
inferred graph, the support graph (what each derived shortcut rests on), the hidden merge
graph of the asserted ones, and a manifest graph
(:data:`MANIFEST_GRAPH`) naming them and the published version. Every query is sent with
its dataset spelt out (``default-graph-uri``/``named-graph-uri``) from the manifest, so a
store's own idea of its default graph (Virtuoso's includes its system graphs) never leaks
into an answer, and the views (all, asserted, inferred) mean what they mean locally.

Answers are fetched in one canonical format (SPARQL JSON results, N-Triples) and written
for the client by the same code the embedded workers use, so caps, formats and errors are
the same; the few rewritings a store needs to answer as the embedded engine does, both ways,
are in :mod:`crinkkg.backends.dialects`; a DESCRIBE is not sent as such, since stores
describe a resource each in their own way: the embedded engine's description is asked for
in steps (:mod:`crinkkg.backends.remote_describe`). What differs, and what replaces it:

- a remote query cannot be stopped for certain: on ``--timeout`` the client stops waiting
  and answers 503 "timeout", while the store may still run the query until its own limit
  (Virtuoso's ``MaxQueryExecutionTime``, Fuseki's ``--timeout``): set both;
- ``crinkkg explain`` reads the local store (it walks quads), not a remote one.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable

import pyoxigraph as ox
from rdflib import Graph

from crinkkg.backends.auth import Credentials
from crinkkg.backends.contract import Admission, ProcessShare, QueryHelpers, Reply
from crinkkg.backends.dialects import (
    ask_answer,
    deskolemized_ntriples,
    deskolemized_results,
    with_blank_tests,
    with_prologue,
)
from crinkkg.backends.embedded.broker import Broker, BrokerClient
from crinkkg.backends.endpoints import Endpoints
from crinkkg.backends.evaluation import (
    dataset_format,
    serialize_boolean,
    serialize_solutions,
    serialize_triples,
    unsupported,
)
from crinkkg.backends.manifest import (
    EMPTY_GRAPH,
    HELD,
    RESULTS_JSON,
    Manifest,
    clear_graph,
    read_manifest,
    read_mark,
    replace_graph,
    replace_or_clear,
    switch,
)
from crinkkg.backends.remote_describe import describe, describe_parts
from crinkkg.backends.remote_errors import RemoteStoreError
from crinkkg.backends.remote_update import DEFAULT_GRAPH, rewrite
from crinkkg.backends.sparql_client import Response, SparqlClient
from crinkkg.backends.virtuoso_paths import limit_problem, server_is_virtuoso, store_text
from crinkkg.build.conformance import check_state, load_shapes
from crinkkg.build.updates import refuse_protected
from crinkkg.errors import AnchorError, CrinkError, InconsistencyError, ValidationError
from crinkkg.formats import Override, check_format
from crinkkg.functions import check_functions
from crinkkg.problems import Problem, syntax_problem, write_refused
from crinkkg.reasoning.in_store import InStoreResult, reason_in_store
from crinkkg.reasoning.support import support_graph
from crinkkg.settings import Settings
from crinkkg.sparqltext import graph_targets, has_keyword, query_form
from crinkkg.store.oxigraph import INFERRED, MERGE, OxigraphStore
from crinkkg.views import View, check_view_and_dataset
from crinkkg.vocab import PREFIXES, SUPPORT_GRAPH_IRI

#: where an update stages the graphs it changes (``<prefix><id>:<graph>``)
STAGING_UPDATE = "urn:x-crinkkg:update:"
MERGE_GRAPH = MERGE.value
NTRIPLES = "application/n-triples"
#: more named graphs than this in a refused query: the store's limit is the likely cause
MANY_GRAPHS = 1000
#: how often a reader looks again while a switch is under way (seconds)
SWITCH_POLL = 0.05


def client_for(settings: Settings, timeout: float | None = None) -> SparqlClient:
    """The HTTP client of the store ``settings`` name (``--backend`` and companions; the
    credentials from ``CRINKKG_BACKEND_USER``/``_PASSWORD``/``_TOKEN``)."""
    endpoints = Endpoints(query=settings.backend or "", update=settings.backend_update or "",
                          graph_store=settings.backend_graph_store or None)
    credentials = Credentials(user=settings.backend_user, password=settings.backend_password,
                              token=settings.backend_token)
    return SparqlClient(endpoints, credentials, timeout=timeout or settings.timeout)


def graph_sizes(client: SparqlClient, graphs: list[str]) -> dict[str, int]:
    """Triples in each of ``graphs`` (0 for a missing one), in one query."""
    values = " ".join(f"<{g}>" for g in dict.fromkeys(graphs))
    response = client.query(f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                            "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", accept=RESULTS_JSON)
    rows = json.loads(response.body)["results"]["bindings"]
    found = {r["g"]["value"]: int(r["n"]["value"]) for r in rows}
    return {g: found.get(g, 0) for g in graphs}


def problem_of(error: RemoteStoreError, what: str = "query") -> Problem:
    """A remote store's failure as the server's answer: what, where, what to do."""
    status, kind = {
        "refused": (400, "refused-by-store"), "not_found": (404, "not-found"),
        "timeout": (503, "timeout"), "unreachable": (503, "store-unreachable"),
        "unauthorised": (502, "store-refused-credentials"),
        "store_failure": (502, "store-failed"), "configuration": (500, "backend-settings"),
    }.get(error.kind, (502, "store-failed"))
    headers = {"Retry-After": "1"} if status == 503 else {}
    return Problem(status, kind, f"the {what} failed at the SPARQL store: {error.message}",
                   hint=error.hint, headers=headers)


#: each ``--backend-dialect``: whether the store is Virtuoso (None: ask it when needed)
DIALECTS: dict[str, bool | None] = {"auto": None, "virtuoso": True, "standard": False}


def version_comment(manifest: Manifest) -> str:
    """A comment line naming the published version and its serial, put before every query
    text sent to the store: Virtuoso keeps a query's plan for every later request of the
    same text, whatever the store holds by then, and a plan made on one version can give
    another version a wrong answer (docs/remote-stores.md, "Answers that depend on the
    store's history"); a new text after each switch gets a new plan, on any store.

    >>> version_comment(Manifest(version="build-1 2", asserted=(), serial=3))
    '#crinkkg version build-1_2 serial 3\\n'
    """
    version = re.sub(r"[^\w.:-]", "_", manifest.version or "")
    return f"#crinkkg version {version} serial {manifest.serial}\n"


class RemoteBackend(QueryHelpers):
    """A SPARQL 1.1 store behind the backend contract (``--backend URL``)."""

    kind = "remote"

    def __init__(self, settings: Settings, *, manifest_ttl: float | None = None) -> None:
        """``manifest_ttl``: how long the published version is trusted before it is read
        again: 1 s on a read-only server (a publish is seen within a second), 0 when the
        server takes updates (another HTTP process's update is seen by the next request)."""
        if not settings.backend:
            raise Problem(500, "backend-settings", "no remote store is configured",
                          hint="pass --backend URL (the store's SPARQL query endpoint)")
        self.settings = settings
        self.client = client_for(settings)
        self.endpoints = self.client.endpoints
        self.manifest_ttl = manifest_ttl if manifest_ttl is not None else \
            (0.0 if settings.enable_update else 1.0)
        self._manifest: tuple[float, Manifest] | None = None
        self._update_lock = threading.Lock()
        self._shapes: Graph | None = None  # the build's shapes, read at the first update
        self._admission = Admission(settings.max_concurrent)
        self._parser = ox.Store()  # empty: parses queries as the embedded engine does
        # whether the store is Virtuoso (its paths are rewritten); None: ask it when needed
        self._virtuoso: bool | None = DIALECTS[settings.backend_dialect]
        self.peers: BrokerClient | None = None  # the metrics of sibling HTTP processes

    # -- life cycle --------------------------------------------------------------------------

    def launch(self) -> None:
        pass

    def start(self) -> None:
        """Check that the store answers and holds a published dataset."""
        self.manifest(fresh=True)

    def close(self) -> None:
        self.client.close()

    def after_fork(self) -> None:
        self.client.close()  # connections are not shared across a fork
        self.client = client_for(self.settings)

    def share(self, folder: str) -> ProcessShare:
        return RemoteShare(self, folder)

    # -- the published dataset ---------------------------------------------------------------

    def manifest(self, fresh: bool = False) -> Manifest:
        """The published dataset (re-read after ``manifest_ttl`` seconds)."""
        cached = self._manifest
        now = time.monotonic()
        if not fresh and cached is not None and now - cached[0] < self.manifest_ttl:
            return cached[1]
        try:
            found = read_manifest(self.client)
        except RemoteStoreError as exc:
            raise problem_of(exc, "reading of the published dataset") from None
        if found is None:
            raise Problem(503, "nothing-published",
                          f"the store at {self.endpoints.query} holds no crinkkg dataset",
                          hint="publish one first: crinkkg --backend URL publish")
        self._manifest = (now, found)
        return found

    def version(self) -> str:
        return self.manifest().version

    def _of_one_version(self, run: Callable[[Manifest], Response]) -> Response:
        """``run(manifest)``'s answer, read while no switch ran (crinkkg.backends.manifest):
        run with a manifest that bears no switching mark, kept when the mark read after it
        shows the same serial and no switch; run again on the new version otherwise."""
        deadline = time.monotonic() + self.settings.timeout
        fresh = False
        while True:
            manifest = self._unmarked_manifest(deadline, fresh)
            answer = run(manifest)
            if read_mark(self.client).holds(manifest):
                return answer
            fresh = True
            self._wait_for_switch(deadline, manifest)

    def _unmarked_manifest(self, deadline: float, fresh: bool = True) -> Manifest:
        """The published manifest once no switching mark is on it: what readers query and
        writers stage from, never the graphs of a switch under way or stopped half way
        (a 503 ``switching-versions`` past ``deadline``)."""
        manifest = self.manifest(fresh=fresh)
        while manifest.busy():
            self._wait_for_switch(deadline, manifest)
            manifest = self.manifest(fresh=True)
        return manifest

    def _talks_to_virtuoso(self) -> bool:
        """Whether the store is Virtuoso: as ``--backend-dialect`` says, or, left at
        ``auto``, as the store names itself, asked once. A failed question fails the query
        (as the store's failure would): sent as written, Virtuoso's own ``+`` can be wrong."""
        if self._virtuoso is None:
            try:
                self._virtuoso = server_is_virtuoso(self.client)
            except RemoteStoreError as exc:
                raise problem_of(exc) from None
        return self._virtuoso

    def _wait_for_switch(self, deadline: float, manifest: Manifest) -> None:
        if time.monotonic() >= deadline:
            held = manifest.switching is not None and manifest.switching >= HELD
            raise Problem(503, "switching-versions",
                          f"the store at {self.endpoints.query} was switching to a new "
                          f"version for longer than the timeout ({self.settings.timeout:g} s)",
                          hint="retry in a moment: a publish, update or in-store reasoning "
                               "run is replacing the published graphs; if none is running, "
                               "the last one stopped half way and its graphs are mixed: run "
                               "`crinkkg --backend URL publish` again to finish the switch"
                          if held else "retry in a moment: a publish, update or in-store "
                                       "reasoning run is replacing the published graphs",
                          headers={"Retry-After": "1"})
        time.sleep(SWITCH_POLL)

    # -- admission ---------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return self._admission.count

    @property
    def updates_enabled(self) -> bool:
        return self.settings.enable_update

    def changes(self, since: str | None = None) -> Reply:
        raise Problem(404, "no-journal",
                      "this server writes to a remote store, which keeps its own record of "
                      "changes: crinkkg journals only the writes to its embedded store",
                      hint="ask the remote store for its changes, or serve the embedded store")

    # -- queries ------------------------------------------------------------------------------

    def _parse(self, sparql: str, base_iri: str | None) -> None:
        """Refuse what the embedded engine refuses, with its messages (the store's own
        syntax errors are worded in its own way)."""
        check_functions(sparql, PREFIXES)
        if has_keyword(sparql, "SERVICE"):
            return  # parsing here could call the service: the store reports the syntax
        try:
            self._parser.query(sparql, prefixes=PREFIXES, base_iri=base_iri)
        except SyntaxError as exc:
            raise syntax_problem(exc, sparql) from None
        except RuntimeError as exc:
            raise unsupported(exc) or Problem(400, "bad-query", str(exc)) from None

    def query(self, sparql: str, *, view: View = "all", default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None, base_iri: str | None = None,
              accept: str | None = None, fmt: Override = None,
              max_rows: int | None = None) -> Reply:
        started = time.perf_counter()
        check_format(fmt)
        check_view_and_dataset(sparql, view, default_graphs, named_graphs)
        self._parse(sparql, base_iri)
        rows = max_rows or self.settings.max_rows
        form = query_form(sparql)
        reads_named = graph_targets(sparql, PREFIXES)

        def dataset(manifest: Manifest) -> tuple[list[str], list[str]]:
            if default_graphs is not None or named_graphs is not None:
                default = [DEFAULT_GRAPH if g == "default" else g for g in default_graphs or ()]
                return (default or [EMPTY_GRAPH], list(named_graphs or ()) or [EMPTY_GRAPH])
            if view == "all" and has_keyword(sparql, "FROM"):
                return ([], [])  # the query's own FROM / FROM NAMED
            return manifest.dataset(view, named=reads_named)

        text = store_text(with_prologue(with_blank_tests(sparql), base_iri),
                          self._talks_to_virtuoso)
        wanted = NTRIPLES if form in ("CONSTRUCT", "DESCRIBE") else RESULTS_JSON
        named: list[str] = []

        def run(manifest: Manifest) -> Response:
            default, named[:] = dataset(manifest)
            versioned = version_comment(manifest) + text
            if form == "DESCRIBE":  # asked in steps: stores differ on DESCRIBE
                described = describe_parts(versioned)
                if described is not None:
                    return describe(self.client, described, default_graphs=default,
                                    named_graphs=named, max_triples=rows)
            return self.client.query(versioned, accept=wanted,
                                     default_graphs=default or None,
                                     named_graphs=named or None)

        self._admission.enter()
        try:
            response = self._of_one_version(run)
        except RemoteStoreError as exc:
            if exc.kind == "refused" and len(named) > MANY_GRAPHS:
                raise Problem(400, "too-many-graphs",
                              f"the store refused a query that reads {len(named)} named "
                              f"graphs: {exc.store_message or exc.message}",
                              hint="stores limit the graphs one query may name (Virtuoso "
                                   "7.2: about 4,500): name the graphs after GRAPH, query "
                                   "the default graph, or keep fewer input files") from None
            raise limit_problem(exc) or problem_of(exc) from None
        finally:
            self._admission.leave()
        media = response.media_type
        if media in ("application/n-triples", "text/plain", "text/turtle"):
            fmt_in = ox.RdfFormat.N_TRIPLES if media != "text/turtle" else ox.RdfFormat.TURTLE
            triples = ox.parse(deskolemized_ntriples(response.body), format=fmt_in)
            content_type, body, count = serialize_triples(
                (ox.Triple(t.subject, t.predicate, t.object) for t in triples), accept, fmt,
                rows)
        else:
            answer = deskolemized_results(response.body)
            if form == "ASK":  # one shape whatever the store sends
                answer = json.dumps({"head": {}, "boolean": ask_answer(json.loads(answer))}
                                    ).encode()
            result = ox.parse_query_results(answer, format=ox.QueryResultsFormat.JSON)
            if isinstance(result, ox.QueryBoolean):
                content_type, body, count = serialize_boolean(result, accept, fmt)
            else:
                first = [result]

                def again() -> ox.QuerySolutions:  # the serialiser may read the rows twice
                    return first.pop() if first else ox.parse_query_results(
                        answer, format=ox.QueryResultsFormat.JSON)

                content_type, body, count = serialize_solutions(again, accept, fmt, rows)
        return Reply(content_type, body, count, time.perf_counter() - started)

    def read_graph(self, graph: str | None, *, accept: str | None = None,
                   fmt: Override = None) -> Reply:
        if graph is None:  # the default graph: the union of every graph
            sparql = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
            return self.query(sparql, accept=accept, fmt=fmt)
        if not self.graph_exists(graph):
            raise Problem(404, "no-such-graph", f"the store has no graph <{graph}>",
                          hint="list the graphs: SELECT DISTINCT ?g { GRAPH ?g {} }")
        sparql = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        return self.query(sparql, accept=accept, fmt=fmt)

    def read_dataset(self, *, accept: str | None = None, fmt: str | None = None) -> Reply:
        started = time.perf_counter()
        chosen = dataset_format(accept, fmt)
        quads: list[ox.Quad] = []
        for graph in self.manifest().graphs:
            reply = self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> "
                               "{ ?s ?p ?o } }", fmt="ntriples",
                               max_rows=self.settings.max_rows - len(quads))
            node = ox.NamedNode(graph)
            quads += (ox.Quad(t.subject, t.predicate, t.object, node)
                      for t in ox.parse(reply.body, format=ox.RdfFormat.N_TRIPLES))
        body = ox.serialize(quads, format=chosen.oxigraph, prefixes=PREFIXES) or b""
        return Reply(chosen.content_type, body, len(quads), time.perf_counter() - started)

    def graph_exists(self, graph: str) -> bool:
        return graph in self.manifest().graphs

    def update(self, sparql: str, *, column_shift: int = 0) -> Reply:
        """Stage, re-reason and swap (:mod:`crinkkg.backends.remote_update`); one update
        at a time, so that two never stage the same graphs."""
        if not self.settings.enable_update:
            raise Problem(403, "updates-disabled", "this server does not accept updates",
                          hint="start it with --enable-update and CRINKKG_UPDATE_TOKEN set")
        with self._update_lock:
            return self._update(sparql, column_shift)

    def _update(self, sparql: str, column_shift: int) -> Reply:
        started = time.perf_counter()
        try:
            refuse_protected(sparql)
        except CrinkError as exc:
            raise Problem(403, "update-refused", exc.message, exc.hint) from None
        try:  # on an empty scratch store: the embedded engine's syntax errors, verbatim
            ox.Store().update(sparql, prefixes=PREFIXES)
        except SyntaxError as exc:
            raise syntax_problem(exc, sparql, what="update",
                                 column_shift=column_shift) from None
        except (RuntimeError, OSError, ValueError):
            pass  # a missing graph and the like: the store decides on the real data
        # staged from a whole version: during a switch (or after one stopped half way)
        # the published graphs are a mix that an update would make the next version
        manifest = self._unmarked_manifest(time.monotonic() + self.settings.timeout)
        stage_id = uuid.uuid4().hex[:12]

        def staging(graph: str) -> str:
            return f"{STAGING_UPDATE}{stage_id}:{graph}"

        plan = rewrite(with_prologue(sparql, None), staging, list(manifest.asserted))
        touched = sorted(plan.graphs)
        inferred_stage = staging(manifest.inferred)
        merge_stage = staging(MERGE_GRAPH)
        support_stage = staging(SUPPORT_GRAPH_IRI)
        scratch = [staging(g) for g in touched] + [inferred_stage, merge_stage, support_stage]
        exists_before = set(manifest.asserted) | {DEFAULT_GRAPH}
        try:
            self.client.update(" ;\n".join(
                [f"DROP SILENT GRAPH <{g}>" for g in scratch]
                + [f"CREATE SILENT GRAPH <{staging(g)}>" for g in touched
                   if g in exists_before]
                + [f"COPY SILENT GRAPH <{g}> TO GRAPH <{staging(g)}>" for g in touched
                   if g in exists_before]))
            try:
                self.client.update(plan.text)
            except RemoteStoreError as exc:
                self._drop(scratch)
                if exc.kind == "refused":
                    raise Problem(400, "bad-update",
                                  f"the store refused the update: {exc.store_message or exc}",
                                  hint="check the update's syntax and the graphs it names"
                                  ) from None
                raise problem_of(exc, "update") from None
            state = {g: g in exists_before for g in touched}
            for event, graph in plan.events:
                state[graph] = event == "create"
            staged = graph_sizes(self.client, [staging(g) for g in touched])
            sizes = {g: staged[staging(g)] for g in touched}
            after = [g for g in touched if sizes[g] or state.get(g)]
            asserted = sorted((set(manifest.asserted) - set(touched)) | set(after))
            reading = [staging(g) if g in touched else g
                       for g in [*asserted, DEFAULT_GRAPH]]
            # the staged asserted state, read once: for the build's checks (before reasoning
            # or publishing) and for the support of the derived links
            staged_quads = read_graphs(self.client, list(zip([*asserted, DEFAULT_GRAPH],
                                                             reading, strict=True)))
            try:
                self._check_state(staged_quads)
            except (ValidationError, AnchorError) as exc:
                self._drop(scratch)
                raise write_refused(exc, "update") from None
            result = reason_in_store(ClientStore(self.client), reading, inferred_stage)
            if result.inconsistencies:
                self._drop(scratch)
                raise Problem(409, "inconsistent",
                              "the update would make the dataset inconsistent under OWL 2 RL; "
                              "nothing was changed",
                              hint="see the problems listed; change the update",
                              extra={"problems": [vars(p) for p in result.inconsistencies]})
            supported = stage_support(self.client, staged_quads, inferred_stage, support_stage)
            self._merge(reading, merge_stage)
            new = Manifest(manifest.next_version(stage_id),
                           tuple(g for g in asserted if g != DEFAULT_GRAPH),
                           manifest.inferred, MERGE_GRAPH,
                           SUPPORT_GRAPH_IRI if supported else None)
            ops = [clear_graph(g) for g in touched if g not in after]
            for g in after:
                ops += replace_or_clear(staging(g), g, bool(sizes[g]))
            ops += replace_or_clear(inferred_stage, manifest.inferred, bool(result.inferred))
            ops += replace_graph(merge_stage, MERGE_GRAPH)
            ops += replace_or_clear(support_stage, SUPPORT_GRAPH_IRI, supported)
            switch(self.client, manifest, ops, new)
            self._drop(scratch)
        except RemoteStoreError as exc:
            if not exc.switch_held:  # else the staged copies are kept
                self._drop(scratch)
            raise problem_of(exc, "update") from None
        self._manifest = None
        total = sum(self.graph_counts().values())
        body = (f"update applied; the inferred and support graphs are current ({total} quads, "
                f"{time.perf_counter() - started:.3f} s)\n").encode()
        return Reply("text/plain; charset=utf-8", body, total, time.perf_counter() - started)

    def _check_state(self, quads: list[ox.Quad]) -> None:
        """:func:`~crinkkg.build.conformance.check_state` on the asserted graphs an update
        would leave (read by :func:`read_graphs`), checked here with the shapes of the
        ontology folder."""
        if self._shapes is None:
            self._shapes = load_shapes(self.settings.ontology_dir, self.settings.data_dir)
        check_state(quads, self._shapes)

    def reason(self) -> InStoreResult:
        """Recompute the published inferred graph in the store (OWL 2 RL, to the fixpoint)
        and the support graph from it, and swap both in with a new version; an
        inconsistency changes nothing and raises
        :class:`~crinkkg.errors.InconsistencyError`."""
        with self._update_lock:
            manifest = self._unmarked_manifest(time.monotonic() + self.settings.timeout)
            stage_id = uuid.uuid4().hex[:12]
            stage = f"{STAGING_UPDATE}{stage_id}:{manifest.inferred}"
            support_stage = f"{STAGING_UPDATE}{stage_id}:{SUPPORT_GRAPH_IRI}"
            try:
                self._drop([stage, support_stage])
                reading = [*manifest.asserted, DEFAULT_GRAPH]
                result = reason_in_store(ClientStore(self.client), reading, stage)
                if result.inconsistencies:
                    raise InconsistencyError(result.inconsistencies)
                published = read_graphs(self.client, [(g, g) for g in reading])
                supported = stage_support(self.client, published, stage, support_stage)
                new = Manifest(manifest.next_version(stage_id),
                               manifest.asserted, manifest.inferred, manifest.merge,
                               SUPPORT_GRAPH_IRI if supported else None)
                switch(self.client, manifest, [
                    *replace_or_clear(stage, manifest.inferred, bool(result.inferred)),
                    *replace_or_clear(support_stage, SUPPORT_GRAPH_IRI, supported)], new)
            except RemoteStoreError as exc:
                if exc.switch_held:  # the staged copies are kept
                    stage = support_stage = ""
                raise
            finally:
                if stage:
                    self._drop([stage, support_stage])
                self._manifest = None
        return result

    def _merge(self, graphs: list[str], target: str) -> None:
        """Write the RDF merge of ``graphs`` into ``target``: the default graph queries read
        (one graph to name, however many there are; a triple two files hold counted once)."""
        values = " ".join(f"<{g}>" for g in graphs)
        self.client.update(f"INSERT {{ GRAPH <{target}> {{ ?s ?p ?o }} }} WHERE {{ "
                           f"VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")

    def _drop(self, graphs: list[str]) -> None:
        try:
            self.client.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs))
        except RemoteStoreError:
            pass  # the staging graphs are hidden; the next update drops them again

    # -- operations --------------------------------------------------------------------------

    def gauges(self) -> dict[str, tuple[str, Callable[[], float]]]:
        return {}

    def counters(self) -> dict[str, tuple[str, Callable[[], float]]]:
        return {}

    def peer_metrics(self) -> list[dict] | None:
        if self.peers is None:
            return None
        return self.peers.ask(("collect",), 10)[1]

    def health(self) -> dict:
        manifest = self.manifest(fresh=True)
        triples = self.triple_counts()
        return {"backend": self.kind, "store": self.endpoints.query,
                "version": manifest.version, "graphs": len(manifest.graphs),
                "triples": triples["all"], "inferred_triples": triples["inferred"],
                "support_triples": triples["support"],
                "asserted_triples": triples["asserted"], "http_process": os.getpid(),
                "updates_enabled": self.updates_enabled,
                **self._http_processes()}

    def _http_processes(self) -> dict:
        """Several HTTP processes: how many run, of how many (the serving process says)."""
        if self.peers is None:
            return {}
        shared = self.peers.ask(("stats",), 10)[1]
        return {"http_processes": shared["http_processes"]} \
            if "http_processes" in shared else {}  # type: ignore[operator, index]


def read_graphs(client: SparqlClient, graphs: list[tuple[str, str]]) -> list[ox.Quad]:
    """The quads of a remote store's graphs, each ``(name, where it is read)``: the triples
    read at ``where`` (a staging graph, or the graph itself) under the name ``name``
    (:data:`DEFAULT_GRAPH` as the default graph). Read as N-Triples graph by graph, so that
    blank nodes come back as the store publishes them (Virtuoso names them "nodeID://…" in
    JSON results, which no RDF parser accepts)."""
    quads: list[ox.Quad] = []
    for name, where in graphs:
        body = client.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{where}> "
                            "{ ?s ?p ?o } }", accept=NTRIPLES).body
        node = ox.DefaultGraph() if name == DEFAULT_GRAPH else ox.NamedNode(name)
        quads += (ox.Quad(t.subject, t.predicate, t.object, node)
                  for t in ox.parse(deskolemized_ntriples(body), format=ox.RdfFormat.N_TRIPLES))
    return quads


def stage_support(client: SparqlClient, asserted: list[ox.Quad], inferred: str, target: str,
                  per: int = 2000) -> bool:
    """Compute the support graph of a remote state (its asserted quads, already read, and
    the inferred graph ``inferred``, read here) from the same derivations the embedded store
    follows, and write it into ``target``; False when there is nothing to write. Computed
    here, not in the store: the derivations are the rule instances of
    :mod:`crinkkg.reasoning.explain`, which walk quads, and one copy of the rules is
    enough."""
    copy = ox.Store()
    copy.bulk_extend(asserted)
    copy.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, INFERRED)
                     for q in read_graphs(client, [(inferred, inferred)]))
    triples = support_graph(OxigraphStore(copy, read_only=True))
    ops = [f"INSERT DATA {{ GRAPH <{target}> {{\n"
           + (ox.serialize(triples[i:i + per], format=ox.RdfFormat.N_TRIPLES) or b"").decode()
           + "} }" for i in range(0, len(triples), per)]
    if ops:
        client.update(f"DROP SILENT GRAPH <{target}> ;\n" + " ;\n".join(ops))
    return bool(ops)


class ClientStore:
    """The SPARQL store in-store reasoning talks to, over this backend's client."""

    def __init__(self, client: SparqlClient) -> None:
        self.client = client

    def select(self, sparql: str) -> list[dict]:
        response = self.client.query(sparql, accept=RESULTS_JSON)
        return json.loads(response.body)["results"]["bindings"]

    def ask(self, sparql: str) -> bool:
        response = self.client.query(sparql, accept=RESULTS_JSON)
        return ask_answer(json.loads(response.body))

    def update(self, sparql: str) -> None:
        self.client.update(sparql)


class RemoteShare:
    """Several HTTP processes over one remote store: each opens its own connections to the
    store; a metrics broker in the serving process adds up their counters for ``/metrics``."""

    def __init__(self, backend: RemoteBackend, folder: str) -> None:
        self.front = backend
        self.broker = Broker(None, os.path.join(folder, "metrics.sock"))
        backend.peers = BrokerClient(self.broker.path)

    def start(self) -> None:
        self.broker.start()

    def report_processes(self, census: Callable[[], dict]) -> None:
        self.broker.census = census

    def in_child(self, snapshot: Callable[[], dict]) -> None:
        self.front.after_fork()
        assert self.front.peers is not None
        self.front.peers.listen(snapshot)

    def close(self) -> None:
        self.broker.close()
