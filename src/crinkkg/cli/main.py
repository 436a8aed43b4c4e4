"""The ``crinkkg`` command: build, validate, query, stats, export, explain, serve."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pyoxigraph as ox

from crinkkg import __version__
from crinkkg.backends.contract import ALL_ROWS, Backend
from crinkkg.backends.embedded.direct import DirectBackend
from crinkkg.cli.bounded import bound_memory, build_apart, explained
from crinkkg.cli.options import given_settings, setting_options
from crinkkg.errors import CrinkError
from crinkkg.formats import formats_for
from crinkkg.output import GRAPH_FORMATS, RESULT_FORMATS, format_statistics, render
from crinkkg.problems import Problem
from crinkkg.settings import SETTINGS, Settings
from crinkkg.store.integrity import is_corruption
from crinkkg.views import VIEWS

#: a command's answers are not capped: the caps protect a server from its clients
RESULTS_JSON = "application/sparql-results+json"
_RESULT_TYPES = tuple(f.media_type for f in formats_for("results"))

EXPORT_FORMATS = GRAPH_FORMATS




def _settings(ctx: click.Context, **overrides: object) -> Settings:
    try:
        given = {k: v for k, v in ctx.obj.items() if not k.startswith("_")}
        return Settings.from_env(**given, **overrides)
    except (TypeError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None


def _fail(exc: CrinkError, as_json: bool = False) -> None:
    if as_json:
        click.echo(json.dumps(exc.as_dict(), indent=2))
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


class _Group(click.Group):
    """Turn every :class:`CrinkError` into a readable message and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CrinkError as exc:
            _fail(exc, as_json=bool(ctx.obj and ctx.obj.get("_json")))
        except BaseException as exc:  # RocksDB's corruption errors; a panic in the engine
            damaged = explained(exc, _settings(ctx).store) if is_corruption(exc) else None
            if damaged is None:
                raise
            _fail(damaged, as_json=bool(ctx.obj and ctx.obj.get("_json")))


#: ``--store``, ``--ontology``, ``--data``: accepted before the command (the global form) and
#: after it, where users type them; the one after the command wins (:func:`_locations`)
_location_options = setting_options("inputs")
_LOCATIONS = tuple(s.name for s in SETTINGS if s.group == "inputs" and s.flag)


def _no_build_option(func):
    return click.option(
        "--no-build", "no_build", is_flag=True, default=False,
        help="Use the store as it is: do not check whether the inputs changed.")(func)


def _locations(ctx: click.Context, given: dict[str, object]) -> None:
    """Merge the location options given after the command into ``ctx.obj``."""
    for key in _LOCATIONS:
        value = given.pop(key, None)
        if value is not None:
            ctx.obj[key] = value


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="crinkkg")
@_location_options
@setting_options("remote")
@click.pass_context
def cli(ctx: click.Context, **options: object) -> None:
    """The CRINK knowledge graph: build it, query it, serve it.

    The location options (--store, --ontology, --data) may be given before the command
    or after it; --backend and its companions before it. Every setting:
    docs/settings.md.
    """
    ctx.obj = given_settings(options)


def _progress_printer(quiet: bool, *, always: bool = False):
    """Build progress on stderr: coloured on a terminal; with ``always``, plain lines
    for logs too (``serve``: a first start that builds says so)."""
    if quiet or not (always or sys.stderr.isatty()):
        # scripts and pipes get no chatter, only the result or the error
        def silent(_step: str, _msg: str) -> None:
            pass
        return silent
    styled = sys.stderr.isatty()

    def show(step: str, message: str) -> None:
        label = f"{step:>9} "
        click.echo((click.style(label, fg="cyan", bold=True) if styled else label) + message,
                   err=True)
    return show


@cli.command()
@click.option("--force", is_flag=True, help="Rebuild even when the inputs are unchanged.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@click.option("--memory", is_flag=True, help="Measure peak Python memory (slower).")
@setting_options("build")
@_location_options
@click.pass_context
def build(ctx: click.Context, force: bool, quiet: bool, as_json: bool, memory: bool,
          reasoner: str | None, **locations: Path | None) -> None:
    """Load, validate, reason and write the store (atomic; a no-op when nothing changed)."""
    from crinkkg.build.pipeline import build as run_build

    _locations(ctx, locations)
    ctx.obj["_json"] = as_json
    settings = _settings(ctx, reasoner=reasoner)
    report = run_build(settings, force=force, progress=_progress_printer(quiet or as_json),
                       measure_memory=memory)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    elif not quiet:
        state = "up to date" if report.cached else "built"
        click.echo(f"{state}: {report.asserted_triples} asserted + {report.inferred_triples} "
                   f"inferred triples in {report.store} ({report.seconds:.2f} s)")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@_location_options
@click.pass_context
def validate(ctx: click.Context, as_json: bool, **locations: Path | None) -> None:
    """Parse every input and check it against the SHACL shapes (no reasoning, no store)."""
    from crinkkg.build.pipeline import _graphs, validate_sources
    from crinkkg.inputs.loading import load_inputs

    _locations(ctx, locations)
    ctx.obj["_json"] = as_json
    settings = _settings(ctx)
    sources = load_inputs(settings.ontology_dir, settings.data_dir, base_iri=settings.base_iri)
    asserted, shapes, _ontology = _graphs(sources)
    warnings = validate_sources(sources, asserted, shapes)
    if as_json:
        click.echo(json.dumps({"conforms": True, "files": len(sources),
                               "triples": len(asserted), "warnings": [str(w) for w in warnings]},
                              indent=2))
    else:
        for w in warnings:
            click.echo(str(w), err=True)
        click.echo(f"valid: {len(sources)} files, {len(asserted)} triples conform to the shapes")


def _build_or_stale(settings: Settings, progress=None) -> str | None:
    """Build when the inputs changed (cached: a no-op otherwise).

    A broken input never takes the store away: when the build fails and an earlier
    build exists, say so on stderr and return the error (the caller answers from the
    last good store); with no store at all, the build error is the answer.
    """
    from crinkkg.build.pipeline import build as run_build
    from crinkkg.store.layout import StoreLayout

    try:
        run_build(settings, **({"progress": progress} if progress else {}))
        return None
    except (CrinkError, OSError) as exc:
        if StoreLayout(settings.store).current() is None:
            raise
        error = str(exc) if isinstance(exc, CrinkError) else f"{type(exc).__name__}: {exc}"
        click.echo(f"warning: the build failed; answering from the last good store in "
                   f"{settings.store}, which does not reflect the inputs as they are now "
                   f"(fix them and run `crinkkg build`):\n{error}", err=True)
        return error


def _backend(settings: Settings, no_build: bool = False) -> Backend:
    """The dataset a command reads: the remote store (``--backend``), or the local store
    (built first unless ``--no-build``), answered in this process."""
    if settings.backend:
        from crinkkg.backends import open_backend

        return _answer(lambda: open_backend(settings.with_(max_rows=ALL_ROWS)))
    return _local_backend(settings, no_build)


def _local_backend(settings: Settings, no_build: bool = False) -> DirectBackend:
    """The local store, built first unless ``no_build``, read in this process."""
    if not no_build:  # not under the bound of a query: a build needs more (bounded.py)
        build_apart(settings.worker_memory_mb, lambda: _build_or_stale(settings))
    # what follows runs in a child under the workers' memory bound
    bound_memory(settings.worker_memory_mb, settings.store)
    backend = DirectBackend(settings, max_rows=ALL_ROWS)
    backend.start()
    return backend


def _answer(call):
    """Run a backend call; its problems become the command's errors (what, hint)."""
    try:
        return call()
    except Problem as problem:
        raise CrinkError(problem.message, hint=problem.hint) from None


@cli.command()
@click.argument("query", required=False)
@click.option("-f", "--file", "query_file", type=click.File("r"),
              help="Read the query from a file.")
@click.option("--format", "fmt", default=None,
              type=click.Choice(["table", *RESULT_FORMATS, *GRAPH_FORMATS]),
              help="Output format (default: table for SELECT/ASK, turtle for CONSTRUCT/DESCRIBE).")
@click.option("--asserted", "view", flag_value="asserted", help="Query asserted graphs only.")
@click.option("--inferred", "view", flag_value="inferred", help="Query the inferred graph only.")
@_location_options
@_no_build_option
@click.pass_context
def query(ctx: click.Context, query: str | None, query_file, fmt: str | None,
          view: str | None, no_build: bool, **locations: Path | None) -> None:
    """Run a SPARQL query: inline, from -f FILE, or by a bundled example's name (e.g. 03)."""
    from crinkkg.examples import examples, find

    _locations(ctx, locations)
    if query_file is not None:
        text = query_file.read()
    elif query is None:
        names = "\n".join(f"  {e.name}: {e.title}" for e in examples())
        raise click.UsageError(f"give a query, -f FILE, or an example name:\n{names}")
    else:
        example = find(query)
        text = example.sparql if example else query
    from crinkkg.sparqltext import has_keyword

    if has_keyword(text, "FROM") and view:  # the query's own FROM / FROM NAMED
        raise click.UsageError(f"--{view} and the query's FROM/FROM NAMED both choose the "
                               f"graphs to query: drop one of them")
    backend = _backend(_settings(ctx), no_build)
    table = fmt in (None, "table")
    # a table is drawn from JSON results; a graph comes as Turtle unless --format says
    reply = _answer(lambda: backend.query(
        text, view=view or "all", max_rows=ALL_ROWS,
        fmt=("json", "turtle") if table else fmt))
    result_kind = reply.content_type.split(";")[0] in (RESULTS_JSON, *_RESULT_TYPES)
    if fmt is not None and fmt != "table" and fmt not in (RESULT_FORMATS if result_kind
                                                          else GRAPH_FORMATS):
        kind = "SELECT/ASK results" if result_kind else "a graph"
        names = ", ".join(RESULT_FORMATS if result_kind else GRAPH_FORMATS)
        raise click.UsageError(f"{kind} cannot be written as {fmt}: use "
                               + ("table, " if result_kind else "") + names)
    if table and reply.content_type.startswith(RESULTS_JSON):
        data = render(ox.parse_query_results(reply.body, format=ox.QueryResultsFormat.JSON),
                      "table")
    else:
        data = reply.body
    sys.stdout.buffer.write(data)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@_location_options
@_no_build_option
@click.pass_context
def stats(ctx: click.Context, as_json: bool, no_build: bool, **locations: Path | None) -> None:
    """Triples per graph, asserted vs inferred, instances per class, properties used."""
    _locations(ctx, locations)
    backend = _backend(_settings(ctx), no_build)
    figures = _answer(backend.statistics)
    click.echo(json.dumps(figures.as_dict(), indent=2) if as_json
               else format_statistics(figures.as_dict()))


@cli.command()
@click.option("--format", "fmt", default="trig", type=click.Choice(list(EXPORT_FORMATS)),
              help="trig or nquads for the whole dataset; any format for one view.")
@click.option("--view", type=click.Choice(VIEWS), default=None,
              help="Export one view as a single graph instead of the whole dataset.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to a file (default: standard output).")
@_location_options
@_no_build_option
@click.pass_context
def export(ctx: click.Context, fmt: str, view: str | None, output: Path | None,
           no_build: bool, **locations: Path | None) -> None:
    """Export the dataset (TriG, N-Quads) or one view (Turtle, N-Triples, JSON-LD, RDF/XML)."""
    _locations(ctx, locations)
    backend = _backend(_settings(ctx), no_build)
    rdf_format = EXPORT_FORMATS[fmt]
    if view is None:
        if not rdf_format.supports_datasets:
            raise click.UsageError(f"{fmt} holds one graph: add --view all|asserted|inferred, "
                                   "or use --format trig / nquads for the whole dataset")
        data = _answer(lambda: backend.read_dataset(fmt=fmt)).body
    else:
        data = _answer(lambda: backend.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                             view=view, fmt=fmt, max_rows=ALL_ROWS)).body
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(output)


def _prefixes() -> dict[str, str]:
    from crinkkg.vocab import PREFIXES

    return PREFIXES


def _curie(iri: str) -> str:
    """``iri`` as a prefixed name when a known prefix fits it (id:x), else ``<iri>``."""
    for prefix, namespace in _prefixes().items():
        local = iri.removeprefix(namespace)
        if namespace and local != iri and local.replace("-", "").replace("_", "").isalnum():
            return f"{prefix}:{local}"
    return f"<{iri}>"


@cli.command()
@click.option("--batch", type=click.IntRange(min=1), default=50_000, show_default=True,
              help="Triples per request to the store.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_location_options
@_no_build_option
@click.pass_context
def publish(ctx: click.Context, batch: int, quiet: bool, as_json: bool, no_build: bool,
            **locations: Path | None) -> None:
    """Build (cached), then push every graph into the remote store (--backend), atomically.

    What is sent meets the shapes and anchors (checked again on the store, as every write
    is); a build that fails publishes nothing. Readers see the old version until the new one
    is complete; a failed publish resumes where it stopped when run again.
    """
    from crinkkg.backends.publish import publish as run_publish
    from crinkkg.backends.publish import version_of
    from crinkkg.backends.remote import client_for
    from crinkkg.store.layout import StoreLayout

    _locations(ctx, locations)
    ctx.obj["_json"] = as_json
    settings = _settings(ctx)
    if not settings.backend:
        raise click.UsageError("publish needs a remote store: crinkkg --backend URL "
                               "[--backend-graph-store URL] publish")
    if not no_build:  # a build that fails stops the publish: no stale store is sent
        from crinkkg.build.pipeline import build as run_build

        build_apart(settings.worker_memory_mb, lambda: run_build(settings))
    bound_memory(settings.worker_memory_mb, settings.store)
    local = _local_backend(settings, no_build=True)
    layout = StoreLayout(settings.store)
    version = version_of(layout.build_record(), str(layout.current()))
    client = client_for(settings, timeout=max(settings.update_timeout, 60))
    bar: list = []

    def start(total: int) -> None:
        if not quiet and not as_json:
            bar.append(click.progressbar(length=total, label="publishing", file=sys.stderr,
                                         show_pos=True))
            bar[0].__enter__()

    def advance(_graph: str, n: int) -> None:
        if bar:
            bar[0].update(n)

    try:
        report = run_publish(client, local.store, version, batch=batch, progress=advance,
                             on_start=start)
    finally:
        if bar:
            bar[0].__exit__(None, None, None)
        client.close()
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    elif report.already_published:
        click.echo(f"version {version} is already published at {settings.backend}")
    else:
        click.echo(f"published version {version} to {settings.backend}: "
                   f"{len(report.graphs)} graphs, {sum(report.graphs.values())} triples "
                   f"({len(report.sent)} sent, {len(report.resumed)} already staged) "
                   f"in {report.seconds} s")


@cli.command()
@click.option("--in-store", "in_store", is_flag=True,
              help="Reason inside the remote store (--backend): the only mode so far.")
@click.option("--graph", "graphs", multiple=True, metavar="IRI",
              help="An asserted graph (repeat): reason over these into --inferred, for a "
                   "store crinkkg did not publish. Default: the published dataset, swapped "
                   "in atomically under a new version.")
@click.option("--inferred", default=None, metavar="IRI",
              help="The graph that receives the closure with --graph (replaced; default the "
                   "crinkkg inferred graph).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def reason(ctx: click.Context, in_store: bool, graphs: tuple[str, ...], inferred: str | None,
           as_json: bool) -> None:
    """OWL 2 RL closure computed inside a remote SPARQL store, with the consistency checks.

    The compiled rules run as SPARQL updates to the fixpoint in the store, so a graph too
    large for this process gets the closure a local build would; an inconsistency is an
    error (exit status 4) and changes nothing published.
    """
    from crinkkg.backends.remote import ClientStore, RemoteBackend
    from crinkkg.errors import InconsistencyError
    from crinkkg.reasoning.in_store import reason_in_store
    from crinkkg.vocab import INFERRED_GRAPH_IRI

    ctx.obj["_json"] = as_json
    settings = _settings(ctx)
    if not in_store or not settings.backend:
        raise click.UsageError("reasoning runs in a remote store: crinkkg --backend URL "
                               "[--backend-update URL] reason --in-store (a local build "
                               "reasons with `crinkkg build`)")
    backend = _answer(lambda: RemoteBackend(settings.with_(timeout=max(settings.timeout,
                                                                        3600.0))))
    target = inferred or INFERRED_GRAPH_IRI
    if graphs:
        result = reason_in_store(ClientStore(backend.client), list(graphs), target)
        if result.inconsistencies:
            raise InconsistencyError(result.inconsistencies)
    else:
        result = _answer(backend.reason)  # a store's failure is a CrinkError already
    if as_json:
        click.echo(json.dumps({"inferred": result.inferred, "removed": dict(result.removed),
                               "updates": result.updates, "seconds": round(result.seconds, 3)}))
    else:
        click.echo(f"{result.inferred} inferred triples in <{target}> "
                   f"({result.updates} rule updates, {result.seconds:.1f} s)")


@cli.command()
@click.argument("subject")
@click.argument("predicate")
@click.argument("object")
@click.option("--json", "as_json", is_flag=True, help="Print the derivation as JSON.")
@_location_options
@_no_build_option
@click.pass_context
def explain(ctx: click.Context, subject: str, predicate: str, object: str,
            as_json: bool, no_build: bool, **locations: Path | None) -> None:
    """Why a triple holds: its source if asserted, its OWL 2 RL derivation if inferred;
    for a derived shortcut (crink:supplies, crink:alliedWith, ...) also its support: the
    claims of every derivation, their sources and the weakest modality.

    Terms are IRIs in <...>, prefixed names (crink:supplies, id:iran) or literals ("...").
    """
    from crinkkg.output import short
    from crinkkg.reasoning.explain import explain_triple, format_derivation
    from crinkkg.reasoning.support import format_support, read_support

    _locations(ctx, locations)
    ctx.obj["_json"] = as_json
    store = _local_backend(_settings(ctx), no_build).store  # walks the local store
    derivation = explain_triple(store, subject, predicate, object)
    support = read_support(store, *derivation.triple)
    if as_json:
        click.echo(json.dumps({**derivation.as_dict(), "support": support}, indent=2))
    else:
        click.echo(format_derivation(derivation)
                   + (f"\n\n{format_support(support, short)}" if support else ""))


@cli.command()
@click.argument("source")
@click.argument("exact")
@click.option("--occurrence", type=click.IntRange(min=1), default=1, show_default=True,
              help="Which appearance of the words to anchor, when they appear more than once.")
@click.pass_context
def anchor(ctx: click.Context, source: str, exact: str, occurrence: int) -> None:
    """Print the crink:statedIn passage (Web Annotation selectors) for EXACT words of SOURCE.

    SOURCE is the source's IRI or prefixed name (id:source-crink-article); its stored text
    (crink:storedText in the data) is searched for EXACT, byte for byte. Paste the output
    after `crink:statedIn` in the claim's node; the build checks it.
    """
    from crinkkg.inputs.anchors import document_parts, part_of, selectors_for, stored_texts
    from crinkkg.inputs.loading import load_inputs

    settings = _settings(ctx)
    iri = _prefixes().get(source.split(":", 1)[0], "") + source.split(":", 1)[1] \
        if ":" in source and not source.startswith(("http:", "https:", "<")) \
        else source.strip("<>")
    files = [(s.relative, s.triples) for s in load_inputs(
        settings.ontology_dir, settings.data_dir, base_iri=settings.base_iri) if s.role == "data"]
    texts = {t.source: t for t in stored_texts(files, settings.data_dir)}
    if iri not in texts:
        raise CrinkError(f"{source} has no stored text (crink:storedText) in {settings.data_dir}",
                         hint="sources with a stored text: " + (", ".join(sorted(texts)) or
                                                                 "none"))
    text = texts[iri].path.read_text(encoding="utf-8")
    name = source if not source.startswith(("http:", "https:", "<")) else f"<{iri}>"
    selectors = selectors_for(text, exact, occurrence)
    parts = [p for p in document_parts(files) if p.source == iri]
    part = part_of(parts, iri, selectors.start, selectors.end)
    if parts and part is None:
        raise CrinkError(f"the passage {selectors.start}-{selectors.end} lies in no single "
                         f"document part of {source}",
                         hint="anchor words within one part (title, subtitle, body, ...): "
                              "split the passage at the part's boundary")
    click.echo(selectors.turtle(name, indent="    ", part=part and _curie(part.iri)))



@cli.group()
def journal() -> None:
    """The journal of acknowledged writes, replayed on every rebuild: show, fold, discard.

    Every write the server answers as applied (a SPARQL update, a graph store write) is
    recorded in STORE.journal (RDF Patch) before it is answered; a build from the input
    files replays it. Fold it into the files, or discard it, to end it.
    """


@journal.command("show")
@click.option("--since", default=None, metavar="ID|DATE",
              help="Only the writes after this one (its id), or since this date (UTC).")
@click.option("--rdf-patch", "as_patch", is_flag=True,
              help="Print the writes themselves, in RDF Patch.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@_location_options
@click.pass_context
def journal_show(ctx: click.Context, since: str | None, as_patch: bool, as_json: bool,
                 **locations: Path | None) -> None:
    """List the journalled writes, oldest first, and whether the store holds them yet."""
    from crinkkg.store.journal import Journal
    from crinkkg.store.layout import StoreLayout

    _locations(ctx, locations)
    settings = _settings(ctx)
    log = Journal(settings.store)
    try:
        record = StoreLayout(settings.store).build_record()
    except CrinkError:
        record = {}
    every, never = log.published(record)
    try:
        patches = every if since is None else log.since(since, every)
    except KeyError:
        raise CrinkError(f"no journalled write has the id <{since}>",
                         hint="give an id that `crinkkg journal show` lists, or a date "
                              "such as 2026-11-29") from None
    if as_patch:
        click.echo("".join(p.text() for p in patches), nl=False)
        return
    stored = record.get("journal")
    ids = [p.id for p in every]
    held = set(ids[:ids.index(stored) + 1]) if stored in ids else set()
    rows = [{"id": p.id, "created": p.created, "deletes": len(p.deletes), "adds": len(p.adds),
             "in_store": p.id in held} for p in patches]
    if as_json:
        click.echo(json.dumps({"journal": str(log.path), "writes": rows,
                               "never_published": never}, indent=2))
        return
    if never:
        click.echo(f"{len(never)} write(s) journalled but never published (their update was "
                   "stopped): taken out at the next write or build", err=True)
    if not rows:
        click.echo(f"no journalled writes{' after ' + since if since else ''} "
                   f"({log.path.name})")
        return
    for row in rows:
        where = "in the store" if row["in_store"] else "replayed at the next build"
        click.echo(f"<{row['id']}>  {row['created']}  -{row['deletes']} +{row['adds']}  "
                   f"{where}")


@journal.command("fold")
@_location_options
@click.pass_context
def journal_fold(ctx: click.Context, **locations: Path | None) -> None:
    """Append the journal's added triples to the input files they belong to.

    What cannot be appended stays in the journal (deletions, graphs no file holds, blank
    nodes) and is listed; the journal as it was is kept beside it.
    """
    from crinkkg.build.fold import fold

    _locations(ctx, locations)
    outcome = fold(_settings(ctx))
    if not outcome.patches:
        click.echo("no journalled writes: nothing to fold")
        return
    for path, count in outcome.written.items():
        click.echo(f"{count} triple(s) appended to {path}")
    for quad in outcome.kept_deletes:
        click.echo(f"kept in the journal (remove it from its file by hand): D {quad}")
    for quad in outcome.kept_adds:
        click.echo(f"kept in the journal (no input file holds its graph, or a blank node): "
                   f"A {quad}")
    click.echo(f"the journal of {outcome.patches} write(s) is kept as {outcome.archive}; "
               "the next build (`crinkkg build`) reads the files and replays what is left")


@journal.command("discard")
@click.option("--yes", is_flag=True, help="Confirm: the next build will not replay the writes.")
@_location_options
@click.pass_context
def journal_discard(ctx: click.Context, yes: bool, **locations: Path | None) -> None:
    """Stop replaying the journalled writes: the next build holds the input files only."""
    from crinkkg.build.fold import discard

    _locations(ctx, locations)
    if not yes:
        raise click.UsageError("discarding drops the journalled writes from the next build: "
                               "add --yes to confirm (`crinkkg journal show` lists them)")
    count, archive = discard(_settings(ctx))
    if not count:
        click.echo("no journalled writes: nothing to discard")
        return
    click.echo(f"{count} journalled write(s) discarded (kept as {archive}); the store still "
               "holds them until it is rebuilt: run `crinkkg build`")

@cli.command()
@setting_options("serve")
@_location_options
@_no_build_option
@click.pass_context
def serve(ctx: click.Context, no_build: bool, **options: object) -> None:
    """Build if needed (cached), then serve SPARQL, linked data and pages over HTTP.

    When the build fails and an earlier store exists, that store is served, and the
    start-up message and /health say it is stale and why.
    """
    from crinkkg.backends import open_backend
    from crinkkg.build.cache import why_rebuild  # not the build: see crinkkg.build.cache

    _locations(ctx, options)  # type: ignore[arg-type]
    options = given_settings(options)
    if options["cors_origins"] == ("none",):
        options["cors_origins"] = ()
    settings = _settings(ctx, **options)
    from crinkkg.settings import check_serving
    from crinkkg.web.http.guard import check_public_url

    check_serving(settings, url_problem=check_public_url)  # before a build that takes time
    build_error = None
    if not no_build and not settings.backend:  # a remote store is published, not built
        why = _reason(why_rebuild, settings)
        if why is not None:
            click.echo(f"building the store in {settings.store} from {settings.ontology_dir}/ "
                       f"and {settings.data_dir}/ ({why}), then replaying the journal of "
                       "writes; the server starts when it is done", err=True)
            build_error = _build_or_stale(settings, _progress_printer(False, always=True))
    watcher = None
    if settings.watch:
        from crinkkg.cli.watch import Watcher

        watcher = Watcher(settings)
        watcher.start(build_error)
    backend = open_backend(settings, start=False)
    if settings.front == "granian":  # waitress pins its CPU before any worker starts
        backend.launch()  # the workers boot while the web app is imported and made
    from crinkkg.web.server import serve as run_server

    try:
        run_server(settings, backend, build_error=build_error)
    except BaseException:
        backend.close()  # the workers launched above, when the server could not start
        raise
    finally:
        if watcher is not None:
            watcher.close()


def _reason(check, settings: Settings) -> str | None:
    """``check(settings)``: why to build, or ``None``; when it cannot tell (a missing folder,
    an unreadable journal), the build says why."""
    try:
        return check(settings)
    except (CrinkError, OSError, ValueError) as exc:
        return str(exc.message if isinstance(exc, CrinkError) else exc)


def main() -> None:
    cli(prog_name="crinkkg")


if __name__ == "__main__":
    main()
