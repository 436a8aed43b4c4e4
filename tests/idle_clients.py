"""Clients that hold connections and send little or nothing, and a probe that measures
what the server's other clients see meanwhile (issue 23: about 128 idle connections used
to block every other client).

    python tests/idle_clients.py [--processes 2]   # the three cases, against a fresh server

Used by ``tests/test_processes.py``; the figures in the issue and the report come from
running this file before and after a change.
"""

from __future__ import annotations

import contextlib
import resource
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

REQUEST = b"GET /nothing-here HTTP/1.1\r\nHost: localhost\r\n\r\n"


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def raise_file_limit(need: int) -> None:
    """Room for ``need`` more sockets in this process (the soft limit up to the hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need + 1024), hard))


def _open(url: str, n: int) -> list[socket.socket]:
    raise_file_limit(n)
    address = _address(url)
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(address)
        except OSError:
            s.close()
            continue
        socks.append(s)
    return socks


@contextlib.contextmanager
def silent_sockets(url: str, n: int = 140) -> Iterator[list[socket.socket]]:
    """``n`` connections that send nothing at all."""
    socks = _open(url, n)
    try:
        yield socks
    finally:
        for s in socks:
            s.close()


@contextlib.contextmanager
def slowloris(url: str, n: int = 200, every: float = 1.0) -> Iterator[list[socket.socket]]:
    """``n`` connections that start a request and send one more header line every
    ``every`` seconds, never finishing it."""
    socks = _open(url, n)
    stop = threading.Event()
    for s in socks:
        try:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        except OSError:
            pass

    def drip() -> None:
        i = 0
        while not stop.wait(every):
            i += 1
            for s in socks:
                try:
                    s.sendall(b"X-Slow-%d: y\r\n" % i)
                except OSError:
                    pass

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        yield socks
    finally:
        stop.set()
        thread.join(timeout=5)
        for s in socks:
            s.close()


@dataclass
class KeptAlive:
    """Connections that each made one request and stay open, idle."""

    socks: list[socket.socket]
    answered: int = 0


def _read_answers(socks: list[socket.socket], deadline: float) -> int:
    """How many of ``socks`` got the head of an answer before ``deadline``."""
    selector = selectors.DefaultSelector()
    buffers: dict[socket.socket, bytes] = {}
    for s in socks:
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
        buffers[s] = b""
    answered = 0
    while buffers and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=max(0.0, min(0.5, deadline - time.monotonic()))):
            s = key.fileobj  # type: ignore[assignment]
            try:
                data = s.recv(65536)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            buffers[s] += data  # type: ignore[index]
            if b"\r\n\r\n" in buffers[s] or not data:  # type: ignore[index]
                if data:
                    answered += 1
                selector.unregister(s)
                del buffers[s]  # type: ignore[arg-type]
    selector.close()
    return answered


@contextlib.contextmanager
def kept_alive(url: str, n: int = 1000, wait: float = 20.0) -> Iterator[KeptAlive]:
    """``n`` keep-alive connections: each sends one request, reads its answer (waiting
    at most ``wait`` s for all of them), then stays open and idle."""
    socks = _open(url, n)
    for s in socks:
        try:
            s.sendall(REQUEST)
        except OSError:
            pass
    kept = KeptAlive(socks, _read_answers(socks, time.monotonic() + wait))
    try:
        yield kept
    finally:
        for s in socks:
            s.close()


@dataclass
class Probe:
    """What one client saw: each request's seconds (``timeout`` for none)."""

    timeout: float
    seconds: list[float] = field(default_factory=list)
    failures: int = 0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    def __str__(self) -> str:
        return (f"{len(self.seconds)} requests, p50 {self.quantile(0.5) * 1000:.0f} ms, "
                f"p99 {self.quantile(0.99) * 1000:.0f} ms, max {max(self.seconds) * 1000:.0f}"
                f" ms, {self.failures} failed or timed out")


def probe(url: str, seconds: float = 8.0, pause: float = 0.05, timeout: float = 10.0,
          path: str = "/health") -> Probe:
    """GET ``path`` on a new connection each time, for ``seconds``: what a new client of a
    busy server waits."""
    address = _address(url)
    result = Probe(timeout)
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            with socket.create_connection(address, timeout=timeout) as s:
                s.sendall(request)
                head = b""
                while b"\r\n\r\n" not in head:
                    s.settimeout(max(0.001, timeout - (time.monotonic() - started)))
                    chunk = s.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed before an answer")
                    head += chunk
                if not head.startswith(b"HTTP/1.1 200"):
                    raise ConnectionError(head[:40].decode(errors="replace"))
            result.seconds.append(time.monotonic() - started)
        except OSError:
            result.failures += 1
            result.seconds.append(timeout)
        time.sleep(pause)
    return result


def measure(url: str) -> dict[str, str]:
    """The probe alone, then during each of the three cases."""
    figures = {"alone": str(probe(url, 4))}
    with slowloris(url, 200):
        figures["slowloris (200 connections)"] = str(probe(url))
    with silent_sockets(url, 140):
        figures["140 silent sockets"] = str(probe(url))
    with kept_alive(url, 1000) as kept:
        figures[f"1,000 idle keep-alives ({kept.answered} answered)"] = str(probe(url))
    return figures


if __name__ == "__main__":
    import argparse
    import sys
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from servers import generated_project, start_server

    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", default="2")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ontology, data, store = generated_project(Path(tmp), 50)
        with start_server(store, "--http-processes", options.processes, ontology=ontology,
                          data=data) as server:
            for case, figure in measure(server.url).items():
                print(f"{case}: {figure}", flush=True)
