"""Configuration in one place: defaults, then environment variables, then CLI flags.

Every component receives a :class:`Settings`; nothing reads the environment elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from crinkkg.vocab import BASE

ENV_PREFIX = "CRINKKG_"
#: "rules": compiled OWL 2 RL rules in Oxigraph (same closure as owlrl, 20-30x faster);
#: "owlrl": owlrl itself, the reference semantics.
REASONERS = ("rules", "owlrl")


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {value!r}")


@dataclass(frozen=True)
class Settings:
    """Everything a build or a server needs to know.

    >>> s = Settings.from_env({"CRINKKG_PORT": "9000"}, host="0.0.0.0")
    >>> (s.port, s.host)
    (9000, '0.0.0.0')
    """

    # inputs and outputs
    ontology_dir: Path = Path("ontology")
    data_dir: Path = Path("data")
    store: Path = Path(".crinkkg/store")
    base_iri: str = BASE
    reasoner: str = "rules"
    # a remote SPARQL 1.1 store instead of the local one (crinkkg.backends.remote):
    # CRINKKG_BACKEND, _BACKEND_UPDATE, _BACKEND_GRAPH_STORE; credentials only from the
    # environment: CRINKKG_BACKEND_USER/_PASSWORD (basic or digest) or _TOKEN (bearer)
    backend: str | None = None
    backend_update: str | None = None
    backend_graph_store: str | None = None
    backend_user: str | None = field(default=None, repr=False)
    backend_password: str | None = field(default=None, repr=False)
    backend_token: str | None = field(default=None, repr=False)
    # server
    host: str = "127.0.0.1"
    port: int = 8000
    # HTTP threads (per HTTP process); 0: granian 2 (more contend for the GIL: 8 cost 15%
    # of the lookups), waitress 8
    threads: int = 0
    # the HTTP server: "granian" (Rust HTTP, several processes) or "waitress" (one
    # process of threads, pure Python)
    front: str = "granian"
    # HTTP processes (granian): each answers lookups itself; all share the query workers
    http_processes: int = 2
    # granian's HTTP processes answer lookups from a memory copy of stores up to this size,
    # each its own, made in the background once it has forked (0: from the database; at
    # 50k, lookups 2.2x faster, without the SPARQL engine, for 32 MB per process)
    front_memory_quads: int = 2_000_000
    # waitress: keep the HTTP threads on one CPU (the GIL hand-over across CPUs halves
    # throughput)
    pin_cpu: bool = True
    # query execution and bounds
    timeout: float = 30.0
    query_workers: int = 2
    # query workers answer from an in-memory copy of stores up to this size (0: never)
    memory_quads: int = 2_000_000
    # one-pattern queries with answers up to this size are answered in-process (0: never)
    inline_bytes: int = 32 * 1024
    max_concurrent: int = 16
    queue_wait: float = 2.0
    max_body_bytes: int = 1_000_000
    max_rows: int = 100_000
    # brackets nested deeper than this are refused before parsing (Oxigraph's parser
    # recurses per level: ~2,200 nested groups overflow a worker's stack)
    max_nesting: int = 64
    # data memory (heap) of each query worker, in MB (0: unbounded); a query that needs
    # more is stopped and reported. 2 workers x 4 GB leave most of 24 GB to the rest
    worker_memory_mb: int = 4096
    service_allowlist: tuple[str, ...] = ()
    allow_load: bool = False
    # updates
    enable_update: bool = False
    update_timeout: float = 300.0
    update_token: str | None = field(default=None, repr=False)
    # web
    cors_origins: tuple[str, ...] = ("*",)
    # origins whose pages may send updates and graph-store writes (none by default)
    cors_write_origins: tuple[str, ...] = ()
    # the URL the base IRI maps to; without it, the request's (checked) Host
    public_url: str | None = None
    # host names answered besides loopback, --host and public_url's ("*": any valid name)
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, overridden by ``CRINKKG_*`` variables, overridden by ``overrides``.

        ``None`` values in ``overrides`` mean "not given" (as a CLI flag left unset).
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _coerce(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.reasoner not in REASONERS:
            raise ValueError(f"reasoner {settings.reasoner!r} is unknown: use "
                             + " or ".join(REASONERS))
        return settings

    @property
    def http_threads(self) -> int:
        """The HTTP threads per process: ``threads``, or the front's default."""
        if self.threads > 0:
            return self.threads
        return 2 if self.front == "granian" else 8

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


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
