"""Configuration in one place: defaults, then environment variables, then CLI flags.

Every component receives a :class:`Settings`; nothing reads the environment elsewhere.
Each setting is declared once, on its field (:func:`_setting`): its flag, help, default and
checks. The environment variable is ``CRINKKG_`` and the field's name in capitals. The CLI
options (:mod:`crinkkg.cli.options`), the reference (``docs/settings.md``, made by
:func:`reference_markdown`) and the checks (:meth:`Settings.from_env`, :func:`check_serving`)
are all read from these declarations, so none of them says a default or a rule again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, NamedTuple

from crinkkg.errors import CrinkError
from crinkkg.vocab import BASE

ENV_PREFIX = "CRINKKG_"
#: the build's reasoners (``--reasoner``)
REASONERS = ("rules", "owlrl")
#: how SPARQL is said to a remote store (``--backend-dialect``)
BACKEND_DIALECTS = ("auto", "virtuoso", "standard")
#: the HTTP servers ``crinkkg serve`` can run on (``--front``)
FRONTS = ("granian", "waitress")
#: each front's HTTP threads per process when ``--threads`` is 0
FRONT_THREADS = {"granian": 2, "waitress": 8}

#: the groups of settings, in the order the reference shows them: (title, where the flags go)
GROUPS = {
    "inputs": ("Inputs and the store", "before the command or after it (any command)"),
    "remote": ("A remote SPARQL store", "before the command: `crinkkg --backend URL query ...`"),
    "build": ("The build", "after `crinkkg build`"),
    "serve": ("The server", "after `crinkkg serve`"),
}


class CheckContext(NamedTuple):
    """What a check may look at besides the value: the other settings, and the web layer's
    test of a URL the server will answer to (this shared module may not import the web
    layer, see ``tests/test_layout.py``; :func:`check_serving` receives it)."""

    settings: Settings
    url_problem: Callable[[str], str | None] | None = None


@dataclass(frozen=True)
class Check:
    """A rule a setting's value must follow, and what to tell a user whose value does not.

    ``problem(value, context)`` says what is wrong (``None``: the value is usable); ``hint``
    says what to do, with ``{flag}``, ``{env}`` and ``{default}`` filled in; ``rule`` says
    what a usable value is, in the reference.
    """

    rule: str
    problem: Callable[[Any, CheckContext], str | None]
    hint: str


@dataclass(frozen=True)
class Setting:
    """One setting as a user meets it: declared on its :class:`Settings` field.

    ``flag`` is the command-line option (``None``: the environment only; a ``--x/--no-x``
    pair for a yes/no setting); ``group`` says which command takes it (:data:`GROUPS`);
    ``shown_default`` replaces the default where its value alone would not say what it
    means. The checks (``choices`` first) run when a server starts (:func:`check_serving`);
    with ``checked_on_read`` also whenever the settings are read (:meth:`Settings.from_env`),
    for a setting every command needs. ``name`` and ``default`` are the field's, filled in
    by :data:`SETTINGS`.
    """

    help: str
    group: str
    flag: str | None = None
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    checked_on_read: bool = False
    shown_default: str | None = None
    secret: bool = False
    name: str = ""
    default: Any = None

    @property
    def env(self) -> str:
        """The environment variable that sets it."""
        return ENV_PREFIX + self.name.upper()

    @property
    def option(self) -> str | None:
        """The flag as a user types it to set the value (the first of a ``--x/--no-x`` pair)."""
        return self.flag.split("/")[0] if self.flag else None

    @property
    def default_text(self) -> str:
        """The default as the help and the reference show it, from the declared value.

        >>> SETTING["timeout"].default_text, SETTING["cors_origins"].default_text
        ('30', '*')
        """
        if self.shown_default is not None:
            return self.shown_default
        value = self.default
        if value is None or value == ():
            return "none"
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, tuple):
            return ", ".join(value)
        return str(value)

    @property
    def all_checks(self) -> tuple[Check, ...]:
        """The declared checks, the choices' first."""
        if not self.choices:
            return self.checks
        return (_one_of(self.choices), *self.checks)

    def error(self, check: Check, problem: str) -> CrinkError:
        """``problem`` as an error that says what to do (``check``'s hint)."""
        hint = check.hint.format(flag=self.option, env=self.env, default=self.default_text)
        return CrinkError(problem, hint=hint)


def _one_of(choices: tuple[str, ...]) -> Check:
    return Check(" or ".join(choices),
                 lambda value, _: None if value in choices else f"{value!r} is unknown",
                 "use " + " or ".join(choices))


def _at_least(minimum: int) -> Check:
    return Check(f"at least {minimum}",
                 lambda value, _: None if value >= minimum else f"must be at least {minimum}",
                 "e.g. {flag} {default}")


def _positive() -> Check:
    return Check("positive", lambda value, _: None if value > 0 else "must be positive",
                 "e.g. {flag} {default}")


def _worker_memory(value: int, _: CheckContext) -> str | None:
    if 0 < value < 256:
        return f"{value} is too small: a query worker needs about 200 MB to open the store"
    return None


def _usable_url(value: str | None, context: CheckContext) -> str | None:
    if not value or context.url_problem is None:
        return None
    wrong = context.url_problem(value)
    return f"{value!r} is not usable: {wrong}" if wrong else None


def _watch_alone(value: bool, context: CheckContext) -> str | None:
    if value and context.settings.enable_update:
        return "is on together with --enable-update"
    if value and context.settings.backend:
        return "is on together with --backend: a remote store is published, not built"
    return None


def _token_set(value: str | None, context: CheckContext) -> str | None:
    if context.settings.enable_update and not value:
        return "updates are enabled but no token is set"
    return None


def _token_long(value: str | None, context: CheckContext) -> str | None:
    if context.settings.enable_update and len(value or "") < 8:
        return "the update token is too short (fewer than 8 characters)"
    return None


def _setting(default: Any, help: str, group: str, **declared: Any) -> Any:
    """A :class:`Settings` field declared with its :class:`Setting` (see there)."""
    spec = Setting(help=help, group=group, **declared)
    return field(default=default, repr=not spec.secret, metadata={"setting": spec})


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {value!r}")


_THREADS = ", ".join(f"{front} {n}" for front, n in FRONT_THREADS.items())


@dataclass(frozen=True)
class Settings:
    """Everything a build or a server needs to know.

    >>> s = Settings.from_env({"CRINKKG_PORT": "9000"}, host="0.0.0.0")
    >>> (s.port, s.host)
    (9000, '0.0.0.0')
    """

    # inputs and outputs
    ontology_dir: Path = _setting(
        Path("ontology"), "The ontology folder: OWL and SHACL files in Turtle", "inputs",
        flag="--ontology")
    data_dir: Path = _setting(
        Path("data"), "The data folder: the facts and their sources", "inputs", flag="--data")
    store: Path = _setting(
        Path(".crinkkg/store"), "Where the build writes the store and every command reads it",
        "inputs", flag="--store")
    base_iri: str = _setting(
        BASE, "The IRI the graph's own names start with; the server answers for it "
              "(see --public-url)", "inputs")
    reasoner: str = _setting(
        "rules", "How the build derives the inferred graph: rules (the OWL 2 RL rules "
                 "compiled to SPARQL updates run in Oxigraph, the fast way) or owlrl (owlrl "
                 "itself, the reference semantics)", "build",
        flag="--reasoner", choices=REASONERS, checked_on_read=True)
    # a remote SPARQL 1.1 store instead of the local one (crinkkg.backends.remote)
    backend: str | None = _setting(
        None, "Read (and publish to) a remote SPARQL 1.1 store: its query endpoint. "
              "Credentials come from the environment only: CRINKKG_BACKEND_USER and "
              "CRINKKG_BACKEND_PASSWORD, or CRINKKG_BACKEND_TOKEN", "remote",
        flag="--backend", metavar="URL", shown_default="none: the local store")
    backend_update: str | None = _setting(
        None, "The remote store's SPARQL update endpoint", "remote",
        flag="--backend-update", metavar="URL", shown_default="the query endpoint")
    backend_graph_store: str | None = _setting(
        None, "The remote store's Graph Store Protocol endpoint (for publish)", "remote",
        flag="--backend-graph-store", metavar="URL")
    backend_dialect: str = _setting(
        "auto", "How SPARQL is said to the remote store: virtuoso (its transitive paths "
                "rewritten so that Virtuoso 7 answers them as SPARQL 1.1 does), standard (as "
                "written), or auto (virtuoso when the store's Server header names Virtuoso; "
                "set it when a proxy hides or changes that header)", "remote",
        flag="--backend-dialect", choices=BACKEND_DIALECTS,
        checked_on_read=True)
    backend_user: str | None = _setting(
        None, "The user name for the remote store (basic or digest authentication)",
        "remote", secret=True)
    backend_password: str | None = _setting(
        None, "The password of CRINKKG_BACKEND_USER", "remote", secret=True)
    backend_token: str | None = _setting(
        None, "A bearer token for the remote store, instead of a user and password",
        "remote", secret=True)
    # server
    host: str = _setting("127.0.0.1", "The interface to listen on", "serve", flag="--host")
    port: int = _setting(8000, "The port to listen on", "serve", flag="--port")
    threads: int = _setting(
        0, "HTTP threads per HTTP process; 0: the front's default (more threads contend "
           "for the GIL, see bench/README.md)", "serve",
        flag="--threads", shown_default=f"0 ({_THREADS})")
    front: str = _setting(
        "granian", "The HTTP server: granian (Rust HTTP, several processes) or waitress "
                   "(one process of threads, pure Python)", "serve",
        flag="--front", choices=FRONTS)
    http_processes: int = _setting(
        2, "granian's HTTP processes: each answers lookups itself; all share the query "
           "workers", "serve", flag="--http-processes", checks=(_at_least(1),))
    http_connections: int = _setting(
        4096, "Connections each granian HTTP process holds open at once, idle keep-alive "
              "ones included; more wait in the listen queue (the open-file limit is raised "
              "to fit)", "serve", flag="--http-connections", checks=(_at_least(1),))
    header_timeout: float = _setting(
        10.0, "Seconds a client has to send a request's headers on granian, and the "
              "longest a connection may stay idle between requests; then it is closed",
        "serve", flag="--header-timeout", checks=(_positive(),))
    front_memory_quads: int = _setting(
        2_000_000, "granian's HTTP processes answer lookups from a memory copy of stores up "
                   "to this many quads, each its own, made in the background once it has "
                   "forked; 0: from the database (what it saves and costs: bench/README.md)",
        "serve", flag="--front-memory-quads")
    pin_cpu: bool = _setting(
        True, "waitress: keep the HTTP threads on one CPU, the query workers on all (the "
              "GIL handed over across CPUs costs throughput)", "serve",
        flag="--pin-cpu/--no-pin-cpu")
    # query execution and bounds
    timeout: float = _setting(
        30.0, "Query timeout, in seconds (a query worker past it is killed)", "serve",
        flag="--timeout", checks=(_positive(),))
    query_workers: int = _setting(
        2, "Processes that evaluate queries (killed on timeout)", "serve",
        flag="--query-workers")
    memory_quads: int = _setting(
        2_000_000, "The server and its query workers copy stores of up to this many quads "
                   "into memory, where joins run faster; 0: never", "serve",
        flag="--memory-quads")
    inline_bytes: int = _setting(
        32 * 1024, "One-pattern queries with answers up to this many bytes are answered in "
                   "the server process, without a query worker; 0: never", "serve")
    inline_repeat_ms: float = _setting(
        2.0, "A query a worker answered within this many milliseconds is answered in the "
             "HTTP process when the same request comes again for the same store version "
             "(the first such answer checked against the worker's bytes); 0: never",
        "serve", flag="--inline-repeat-ms", checks=(_at_least(0),))
    max_concurrent: int = _setting(
        16, "Queries at once (the whole server, every HTTP process); one more gets a 503 with "
        "Retry-After",
        "serve", flag="--max-concurrent")
    queue_wait: float = _setting(
        2.0, "Seconds a query waits for an idle query worker before a 503", "serve")
    max_body_bytes: int = _setting(
        1_000_000, "The largest request body, in bytes", "serve", flag="--max-body-bytes")
    max_rows: int = _setting(
        100_000, "The largest result, in rows", "serve", flag="--max-rows")
    search_limit: int = _setting(
        100, "The most hits one full-text search gives: on /search (passages and resources "
             "each), in the query editor's completion, and in each SERVICE "
             "<urn:x-crinkkg:search> pattern of a query", "serve", flag="--search-limit",
        checks=(_at_least(1),))
    answer_cache_mb: int = _setting(
        16, "Megabytes of pages and linked-data answers each HTTP process keeps per store "
            "version, so that a repeated request is not made again; 0: none kept", "serve",
        flag="--answer-cache-mb", checks=(_at_least(0),))
    max_nesting: int = _setting(
        64, "The deepest nesting of { } ( ) [ ] in a query or update, refused before "
            "parsing (Oxigraph's parser recurses per level: deep nesting would overflow a "
            "worker's stack)", "serve", flag="--max-nesting", checks=(_at_least(1),))
    max_operators: int = _setting(
        1000, "The most operators (UNION, MINUS, OPTIONAL, FILTER, BIND, ||, &&, path steps, "
              "arithmetic, comparisons, pattern separators; not counted in INSERT DATA or "
              "DELETE DATA) in a query or update, refused before parsing (Oxigraph's query "
              "tree is one level deeper per operator of a flat chain: 2,600 MINUS or 6,500 "
              "UNIONs overflowed a worker's stack)", "serve", flag="--max-operators",
        checks=(_at_least(1),))
    worker_memory_mb: int = _setting(
        1536, "The data memory (heap and private maps, RLIMIT_DATA) of each query worker, "
              "and of a command's query, in MB; a query that needs more is stopped and "
              "reported; 0: unbounded (the figures behind the default: "
              "docs/updates-and-safety.md)", "serve",
        flag="--worker-memory-mb",
        checks=(Check("0 or at least 256", _worker_memory,
                      "give at least 256 (MB), or 0 for no limit"),))
    service_allowlist: tuple[str, ...] = _setting(
        (), "An endpoint SERVICE may call (repeat the option)", "serve",
        flag="--service-allow", metavar="URL")
    allow_load: bool = _setting(False, "Accept LOAD in updates", "serve", flag="--allow-load")
    # updates
    enable_update: bool = _setting(
        False, "Accept SPARQL updates and graph-store writes (needs CRINKKG_UPDATE_TOKEN)",
        "serve", flag="--enable-update")
    watch: bool = _setting(
        False, "Build again whenever a file under the ontology or data folder is saved (as "
               "an editor such as Protégé saves it: Turtle, RDF/XML or OWL/XML) and serve the "
               "new store; a build that fails is reported on /health, in the log and on every "
               "page while the last good store is served", "serve", flag="--watch",
        checks=(Check("not with --enable-update or --backend", _watch_alone,
                      "serve with --watch to edit the files, or with --enable-update to "
                      "write through the endpoint (a rebuild from the files while writes "
                      "arrive could pass over a write); publish to a remote store with "
                      "crinkkg publish"),))
    update_timeout: float = _setting(
        300.0, "Update timeout, in seconds (also publish's, at least 60)", "serve")
    update_token: str | None = _setting(
        None, "The bearer token every update and graph-store write must send "
              "(Authorization: Bearer <token>)", "serve", secret=True,
        checks=(Check("set when updates are enabled", _token_set,
                      "export CRINKKG_UPDATE_TOKEN=<a long random string> (every update "
                      "must send it as Authorization: Bearer <token>)"),
                Check("at least 8 characters", _token_long,
                      "use a long random string, e.g. "
                      "python -c 'import secrets; print(secrets.token_urlsafe())'")))
    # web
    cors_origins: tuple[str, ...] = _setting(
        ("*",), "Origins allowed by CORS (repeat the option; 'none' switches CORS off)",
        "serve", flag="--cors-origin", metavar="ORIGIN")
    cors_write_origins: tuple[str, ...] = _setting(
        (), "An origin whose pages may send updates and graph-store writes (repeat the "
            "option)", "serve", flag="--cors-write-origin", metavar="ORIGIN")
    public_url: str | None = _setting(
        None, "The URL the base IRI maps to", "serve", flag="--public-url", metavar="URL",
        shown_default="the request's checked Host",
        checks=(Check("an absolute http:// or https:// URL without a query or fragment",
                      _usable_url, "e.g. {flag} https://kg.example.org/"),))
    allowed_hosts: tuple[str, ...] = _setting(
        (), "A host name the server answers to besides loopback, --host and --public-url's "
            "(repeat the option; '*': any valid name)", "serve",
        flag="--allowed-host", metavar="NAME")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, overridden by ``CRINKKG_*`` variables, overridden by ``overrides``.

        ``None`` values in ``overrides`` mean "not given" (as a CLI flag left unset). A value
        that cannot be read raises ``ValueError`` naming where it came from.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        source: dict[str, str] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _coerce(f.name, f.type, raw)
            source[f.name] = ENV_PREFIX + f.name.upper()
        for name, value in overrides.items():
            if value is not None:
                values[name] = value
                source[name] = (SETTING[name].option or name) if name in SETTING else name
        settings = cls(**values)  # type: ignore[arg-type]
        for spec in SETTINGS:
            for check in spec.all_checks if spec.checked_on_read else ():
                wrong = check.problem(getattr(settings, spec.name), CheckContext(settings))
                if wrong:
                    error = spec.error(check, f"{source.get(spec.name, spec.name)} {wrong}")
                    raise ValueError(f"{error.message}: {error.hint}")
        return settings

    @property
    def http_threads(self) -> int:
        """The HTTP threads per process: ``threads``, or the front's default."""
        if self.threads > 0:
            return self.threads
        return FRONT_THREADS.get(self.front, FRONT_THREADS["waitress"])

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


#: every setting, in the order of the fields
SETTINGS: tuple[Setting, ...] = tuple(
    replace(f.metadata["setting"], name=f.name, default=f.default) for f in fields(Settings))
#: the settings by name
SETTING: dict[str, Setting] = {s.name: s for s in SETTINGS}


def check_serving(settings: Settings, *,
                  url_problem: Callable[[str], str | None] | None = None) -> None:
    """Refuse settings that would make an unsafe or broken server: raises the first
    :class:`CrinkError` found, in the order of the fields, saying what to do.

    ``url_problem``: what is wrong with a URL the server will answer to (the web layer's
    test, ``crinkkg.web.http.guard.check_public_url``), for ``--public-url`` (not checked
    without it).

    >>> check_serving(Settings(http_processes=0))
    Traceback (most recent call last):
    crinkkg.errors.CrinkError: --http-processes must be at least 1
      hint: e.g. --http-processes 2
    """
    context = CheckContext(settings, url_problem)
    for spec in SETTINGS:
        for check in spec.all_checks:
            wrong = check.problem(getattr(settings, spec.name), context)
            if wrong:  # named by its flag; a setting without one (the token) says its name
                raise spec.error(check, f"{spec.option} {wrong}" if spec.option else wrong)


def reference_markdown() -> str:
    """The settings reference (``docs/settings.md``), written from the declarations.

    Regenerate it with ``python -m crinkkg.settings > docs/settings.md``;
    ``tests/test_settings_docs.py`` fails when the file and the declarations differ.
    """
    lines = [
        "# Settings reference",
        "",
        "<!-- Generated from the declarations in src/crinkkg/settings.py by",
        "     `python -m crinkkg.settings > docs/settings.md`; do not edit by hand:",
        "     tests/test_settings_docs.py fails when this file and the declarations differ. -->",
        "",
        "Every setting has a default, an environment variable (`CRINKKG_` and the setting's "
        "name in capitals) and, most of them, a command-line flag. A flag beats the "
        "variable, the variable beats the default. A list is given by repeating its flag, "
        "or in its variable with commas between the items; a yes/no variable takes "
        "`true`/`false` (or `yes`/`no`, `on`/`off`, `1`/`0`). Secrets (passwords, tokens) "
        "are read from the environment only.",
        "",
        "A value that cannot be read (a port that is not a number) stops every command; the "
        "rules under *Checked* are checked when `crinkkg serve` starts (the reasoner's "
        "whenever the settings are read), and a value that breaks one is refused with what "
        "to do instead.",
    ]
    for group, (title, where) in GROUPS.items():
        lines += ["", f"## {title}", "", f"Flags: {where}.", "",
                  "| Setting | Flag | Environment variable | Default | What it does |",
                  "|---|---|---|---|---|"]
        for spec in SETTINGS:
            if spec.group != group:
                continue
            flag = f"`{spec.flag}`" if spec.flag else "(environment only)"
            what = spec.help + "."
            rules = [c.rule for c in spec.all_checks]
            if rules:
                what += " Checked: " + "; ".join(rules) + "."
            cells = [f"`{spec.name}`", flag, f"`{spec.env}`", spec.default_text, what]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _coerce(name: str, type_: object, raw: str) -> object:
    kind = str(type_)
    try:
        if "Path" in kind:
            return Path(raw)
        if "tuple" in kind:
            return _split(raw)
        if kind == "bool":
            return _bool(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}: {exc}") from exc
    return raw


if __name__ == "__main__":
    print(reference_markdown(), end="")
