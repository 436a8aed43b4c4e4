"""Start the real ``crinkkg serve`` as a subprocess, for tests over real HTTP.

    from servers import start_server
    with start_server(store_dir, "--timeout", "2") as server:
        requests.get(server.sparql, params={"query": "ASK {}"})

The server picks a free port itself (``--port 0``) and prints it; the helper waits for
``/health`` to answer 200 before returning.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CRINKKG = str(Path(sys.executable).with_name("crinkkg"))
_SERVING = re.compile(r"serving (http://[^/\s]+)/sparql")


@dataclass
class ServerHandle:
    """A running server: ``url`` (no trailing slash), ``sparql``, ``store``, ``stop()``."""

    process: subprocess.Popen
    url: str
    log_path: Path
    args: list[str] = field(default_factory=list)

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"

    @property
    def store(self) -> str:
        return self.url + "/store"

    def log(self) -> str:
        """Everything the server wrote to stderr/stdout so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit within 10 s (workers too)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        try:  # workers left behind by a crash share the process group
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_server(store_dir: str | os.PathLike, *extra_args: str, env: dict | None = None,
                 ontology: str | os.PathLike | None = None,
                 data: str | os.PathLike | None = None, timeout: float = 60.0,
                 wrapper: list[str] | None = None,
                 global_args: list[str] | None = None) -> ServerHandle:
    """Launch ``crinkkg --store STORE serve --port 0 EXTRA...`` and wait until healthy.

    ``ontology``/``data`` default to the project's folders (so a store built from them is
    current and not rebuilt). ``env`` adds to (and overrides) the current environment;
    ``CRINKKG_*`` variables of the calling environment are dropped first. ``wrapper``
    goes before the command (it must ``exec`` it, so that the server keeps its pid).
    ``global_args`` go before ``serve`` (``--backend URL`` for a remote store).
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CRINKKG_")}
    environment.update(env or {})
    args = [CRINKKG, "--store", str(store_dir),
            "--ontology", str(ontology or ROOT / "ontology"),
            "--data", str(data or ROOT / "data"), *(global_args or []),
            "serve", "--host", "127.0.0.1", "--port", "0", *extra_args]
    args = [*(wrapper or []), *args]
    log_file = tempfile.NamedTemporaryFile(prefix="crinkkg-server-", suffix=".log",
                                           delete=False)
    process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT,
                               env=environment, start_new_session=True)
    log_path = Path(log_file.name)
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"crinkkg serve exited with {process.returncode}:\n"
                               f"{log_path.read_text(errors='replace')}")
        if url is None:
            m = _SERVING.search(log_path.read_text(errors="replace"))
            if m:
                url = m.group(1)
        if url is not None:
            try:
                if requests.get(url + "/health", timeout=5).status_code == 200:
                    return ServerHandle(process, url, log_path, args)
            except requests.ConnectionError:
                pass
        time.sleep(0.05)
    handle = ServerHandle(process, url or "", log_path, args)
    handle.stop()
    raise RuntimeError(f"crinkkg serve did not become healthy in {timeout} s:\n"
                       f"{log_path.read_text(errors='replace')}")


def empty_project(root: Path) -> tuple[Path, Path, Path]:
    """Empty ontology and data folders and a store location under ``root``."""
    (root / "ontology").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(parents=True, exist_ok=True)
    return root / "ontology", root / "data", root / "store"


def generated_project(root: Path, n: int = 300) -> tuple[Path, Path, Path]:
    """A project with ``n`` plain triples: enough for a cross product that runs for
    minutes (n**4 rows), small enough to build in a second."""
    ontology, data, store = empty_project(root)
    lines = [f"<http://example.org/s{i}> <http://example.org/p> {i} ." for i in range(n)]
    (data / "generated.ttl").write_text("\n".join(lines) + "\n")
    return ontology, data, store


_shared: dict[str, ServerHandle] = {}


def shared_server(name: str, store_dir: Path, *extra_args: str, **kwargs) -> ServerHandle:
    """One server per name for the whole test session (stopped at exit)."""
    import atexit

    handle = _shared.get(name)
    if handle is None or handle.process.poll() is not None:
        handle = start_server(store_dir, *extra_args, **kwargs)
        _shared[name] = handle
        atexit.register(handle.stop)
    return handle


def project_server(tmp_root: Path) -> ServerHandle:
    """The curated project graph (ontology/ and data/), read-only, default settings."""
    return shared_server("project", tmp_root / "project-store")


def backend_args(remote) -> list[str]:
    """The global options that point crinkkg at a remote store of ``remote_stores``."""
    return ["--backend", remote.query_url, "--backend-update", remote.update_url,
            "--backend-graph-store", remote.graph_store_url]


def run_crinkkg(*args: str, env: dict | None = None, timeout: float = 600
                ) -> subprocess.CompletedProcess:
    """``crinkkg ARGS`` in the project folder, its CRINKKG_* environment dropped."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CRINKKG_")}
    environment.update(env or {})
    return subprocess.run([CRINKKG, *args], capture_output=True, text=True, cwd=ROOT,
                          env=environment, timeout=timeout)


def publish(remote, store_dir: Path, ontology: Path | None = None, data: Path | None = None,
            *extra: str) -> subprocess.CompletedProcess:
    """Build (cached) and publish a project into ``remote``; fails the test if it fails."""
    done = run_crinkkg("--store", str(store_dir), "--ontology", str(ontology or ROOT / "ontology"),
                       "--data", str(data or ROOT / "data"), *backend_args(remote),
                       "publish", "--quiet", *extra)
    assert done.returncode == 0, done.stderr + done.stdout
    return done
