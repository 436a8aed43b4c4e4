"""A bounded load generator for loopback HTTP: ``wrk`` when installed, else Python threads.

Each run sends one fixed request (a SPARQL query by GET) from ``clients`` concurrent
keep-alive connections for ``duration`` seconds, and reports throughput (successful answers
per second), latency percentiles (p50, p99, in ms) and errors (non-2xx answers, socket
errors, timeouts). Only 127.0.0.1 / localhost URLs are accepted: the benchmark never sends
load anywhere else.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class LoadResult:
    tool: str
    clients: int
    duration_s: float
    requests: int  # successful (2xx) answers
    errors: int  # non-2xx, socket errors, timeouts
    rps: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    bytes_per_answer: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _check_loopback(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in LOOPBACK:
        raise ValueError(f"refusing to send load to {parts.hostname}: loopback only")
    return parts


def request_url(endpoint: str, query: str) -> str:
    return f"{endpoint}?{urllib.parse.urlencode({'query': query})}"


def wrk_path() -> str | None:
    return shutil.which("wrk")


_LUA = r"""
wrk.headers["Accept"] = "%s"
done = function(summary, latency, requests)
  local errors = summary.errors
  local out = io.open("%s", "w")
  out:write(string.format(
    '{"requests":%%d,"duration_us":%%d,"bytes":%%d,"connect":%%d,"read":%%d,"write":%%d,' ..
    '"status":%%d,"timeout":%%d,"p50":%%d,"p90":%%d,"p99":%%d,"max":%%d}',
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read,
    errors.write, errors.status, errors.timeout, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
  out:close()
end
"""


_MIX_LUA = r"""
local paths = { %s }
local accepts = { %s }
local i = 0
request = function()
  i = i + 1
  local k = (i %% #paths) + 1
  return wrk.format("GET", paths[k], { ["Accept"] = accepts[k] })
end
"""


def _lua_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(url: str | list[tuple[str, str]], accept: str, clients: int, duration: float,
            timeout: float = 10.0) -> LoadResult:
    """``url`` is one URL, or a list of (url, accept) pairs sent in turn (a query mix)."""
    mix = None
    if isinstance(url, list):
        mix = url
        for u, _ in mix:
            _check_loopback(u)
        parts = urllib.parse.urlsplit(mix[0][0])
        url = f"{parts.scheme}://{parts.netloc}/"
    _check_loopback(url)
    threads = max(1, min(clients, 2))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        script = Path(tmp) / "s.lua"
        lua = _LUA % (accept, out)
        if mix:
            paths = []
            for u, _ in mix:
                p = urllib.parse.urlsplit(u)
                paths.append(_lua_str(p.path + ("?" + p.query if p.query else "")))
            lua += _MIX_LUA % (", ".join(paths), ", ".join(_lua_str(a) for _, a in mix))
        script.write_text(lua)
        dur = max(1, round(duration))
        cmd = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{dur}s",
               "--timeout", f"{max(1, round(timeout))}s", "-s", str(script), url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=dur + timeout + 30)
        if not out.exists():
            raise RuntimeError(f"wrk failed: {proc.stderr.strip() or proc.stdout.strip()}")
        r = json.loads(out.read_text())
    seconds = r["duration_us"] / 1e6
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    ok = max(0, r["requests"] - r["status"])
    ms = (lambda us: round(us / 1000, 3)) if ok else (lambda us: None)
    return LoadResult("wrk", clients, round(seconds, 3), ok, errors,
                      round(ok / seconds, 2) if seconds else 0.0,
                      ms(r["p50"]), ms(r["p90"]), ms(r["p99"]), ms(r["max"]),
                      round(r["bytes"] / r["requests"], 1) if r["requests"] else None)


def _percentile(sorted_values: list[float], pct: float) -> float | None:
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(pct / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def run_python(url: str | list[tuple[str, str]], accept: str, clients: int, duration: float,
               timeout: float = 10.0, max_requests: int | None = None) -> LoadResult:
    """Python threads, one keep-alive ``http.client`` connection each (GIL-bound: above a
    few thousand requests/s it measures the client, not the server). ``url`` may be a list
    of (url, accept) pairs, sent in turn."""
    mix = url if isinstance(url, list) else [(url, accept)]
    reqs = []
    for u, a in mix:
        p = _check_loopback(u)
        reqs.append((p.path + ("?" + p.query if p.query else ""),
                     {"Accept": a, "Connection": "keep-alive"}))
    parts = _check_loopback(mix[0][0])
    lat: list[list[float]] = [[] for _ in range(clients)]
    errs = [0] * clients
    nbytes = [0] * clients
    start_barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]
    budget = [max_requests if max_requests is not None else float("inf")]
    lock = threading.Lock()

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        start_barrier.wait()
        n = i
        while time.perf_counter() < stop_at[0]:
            target, headers = reqs[n % len(reqs)]
            n += 1
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                dt = time.perf_counter() - t0
                if 200 <= resp.status < 300:
                    lat[i].append(dt)
                    nbytes[i] += len(body)
                else:
                    errs[i] += 1
                if resp.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection(parts.hostname, parts.port,
                                                      timeout=timeout)
            except (OSError, http.client.HTTPException):
                errs[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    stop_at[0] = t0 + duration
    start_barrier.wait()
    for t in threads:
        t.join(duration + timeout + 5)
    elapsed = time.perf_counter() - t0
    values = sorted(v for per in lat for v in per)
    ok = len(values)

    def ms(v):
        return None if v is None else round(v * 1000, 3)

    return LoadResult("python", clients, round(elapsed, 3), ok, sum(errs),
                      round(ok / elapsed, 2) if elapsed else 0.0,
                      ms(_percentile(values, 50)), ms(_percentile(values, 90)),
                      ms(_percentile(values, 99)), ms(values[-1] if values else None),
                      round(sum(nbytes) / ok, 1) if ok else None)


def run(url: str | list[tuple[str, str]], accept: str, clients: int, duration: float, *,
        tool: str = "auto", timeout: float = 10.0) -> LoadResult:
    """One bounded load run with ``wrk`` (``tool='wrk'`` or auto when installed) or Python."""
    use_wrk = tool == "wrk" or (tool == "auto" and wrk_path() is not None)
    if use_wrk and duration >= 1:
        return run_wrk(url, accept, clients, duration, timeout)
    return run_python(url, accept, clients, duration, timeout)


def fetch(url: str, accept: str, timeout: float = 60.0) -> tuple[int, bytes, str, float]:
    """One request: (status, body, content type, seconds)."""
    parts = _check_loopback(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    t0 = time.perf_counter()
    try:
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""),
                     headers={"Accept": accept})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, resp.getheader("content-type", ""), time.perf_counter() - t0
    finally:
        conn.close()
