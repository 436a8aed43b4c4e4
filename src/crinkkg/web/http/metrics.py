"""Counters and latency histograms, written in the Prometheus text exposition format.

One :class:`Metrics` per app (its :class:`~crinkkg.web.context.WebContext`); thread-safe.

>>> m = Metrics()
>>> m.observe_request("/sparql", "GET", 200, 0.004)
>>> m.count_error("syntax-error")
>>> text = m.render()
>>> 'crinkkg_http_requests_total{endpoint="/sparql",method="GET",status="200"} 1' in text
True
>>> 'crinkkg_errors_total{kind="syntax-error"} 1' in text
True
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
           60.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class _Histogram:
    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS)
        self.total = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.total += 1
        self.sum += seconds
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1
                break


class Metrics:
    """Requests, latencies, query outcomes, timeouts and errors by kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = time.time()
        self.requests: dict[tuple, int] = defaultdict(int)
        self.latency: dict[tuple, _Histogram] = defaultdict(_Histogram)
        self.errors: dict[str, int] = defaultdict(int)
        self.queries: dict[str, int] = defaultdict(int)
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}
        #: counters kept elsewhere in this process (the backend's), read at scrape time
        self.counters: dict[str, tuple[str, Callable[[], float]]] = {}

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one HTTP request and its latency."""
        key = (("endpoint", endpoint), ("method", method), ("status", str(status)))
        with self._lock:
            self.requests[key] += 1
            self.latency[(("endpoint", endpoint),)].observe(seconds)

    def count_error(self, kind: str) -> None:
        """Count an error response by its kind (syntax-error, timeout, ...)."""
        with self._lock:
            self.errors[kind] += 1

    def count_query(self, outcome: str) -> None:
        """Count a query or update by outcome (ok, error, timeout, rejected, update)."""
        with self._lock:
            self.queries[outcome] += 1

    def snapshot(self) -> dict:
        """This process's counters as plain data (picklable), for :meth:`merged`."""
        with self._lock:
            return {"requests": dict(self.requests), "errors": dict(self.errors),
                    "queries": dict(self.queries),
                    "counters": {name: float(read())
                                 for name, (_, read) in self.counters.items()},
                    "latency": {k: (list(h.counts), h.total, h.sum)
                                for k, h in self.latency.items()}}

    def merged(self, snapshots: list[dict]) -> Metrics:
        """A Metrics adding up ``snapshots`` (several HTTP processes' counters), with this
        one's gauges and start time: one server's figures, as Prometheus expects them.

        >>> a, b = Metrics(), Metrics()
        >>> a.observe_request("/sparql", "GET", 200, 0.004)
        >>> b.observe_request("/sparql", "GET", 200, 0.2)
        >>> m = a.merged([a.snapshot(), b.snapshot()])
        >>> line = 'crinkkg_http_requests_total{endpoint="/sparql",method="GET",status="200"} 2'
        >>> line in m.render()
        True
        """
        total = Metrics()
        total.started = self.started
        total.gauges = dict(self.gauges)
        sums = dict.fromkeys(self.counters, 0.0)
        for snap in snapshots:
            for key, n in snap["requests"].items():
                total.requests[key] += n
            for kind, n in snap["errors"].items():
                total.errors[kind] += n
            for outcome, n in snap["queries"].items():
                total.queries[outcome] += n
            for name, value in snap.get("counters", {}).items():
                if name in sums:
                    sums[name] += value
            for key, (counts, count, seconds) in snap["latency"].items():
                h = total.latency[key]
                h.counts = [a + b for a, b in zip(h.counts, counts, strict=True)]
                h.total += count
                h.sum += seconds
        total.counters = {name: (help_text, lambda v=sums[name]: v)
                          for name, (help_text, _) in self.counters.items()}
        return total

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """Register a value read at scrape time."""
        self.gauges[name] = (help_text, read)

    def counter(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """Register a count kept elsewhere in this process, read at scrape time and added
        up over the HTTP processes.

        >>> a, b = Metrics(), Metrics()
        >>> a.counter("x_total", "Things.", lambda: 2)
        >>> b.counter("x_total", "Things.", lambda: 3)
        >>> "x_total 5" in a.merged([a.snapshot(), b.snapshot()]).render()
        True
        """
        self.counters[name] = (help_text, read)

    def render(self) -> str:
        """The Prometheus text exposition (version 0.0.4)."""
        out: list[str] = []
        with self._lock:
            out += ["# HELP crinkkg_http_requests_total HTTP requests by endpoint, method "
                    "and status.", "# TYPE crinkkg_http_requests_total counter"]
            for key, n in sorted(self.requests.items()):
                out.append(f"crinkkg_http_requests_total{_labels(key)} {n}")
            out += ["# HELP crinkkg_http_request_duration_seconds Time to answer a request.",
                    "# TYPE crinkkg_http_request_duration_seconds histogram"]
            for key, h in sorted(self.latency.items()):
                cumulative = 0
                for bound, c in zip(BUCKETS, h.counts, strict=True):
                    cumulative += c
                    labels = _labels((*key, ("le", repr(bound))))
                    out.append(f"crinkkg_http_request_duration_seconds_bucket{labels} "
                               f"{cumulative}")
                out.append(f"crinkkg_http_request_duration_seconds_bucket"
                           f"{_labels((*key, ('le', '+Inf')))} {h.total}")
                out.append(f"crinkkg_http_request_duration_seconds_sum{_labels(key)} "
                           f"{h.sum:.6f}")
                out.append(f"crinkkg_http_request_duration_seconds_count{_labels(key)} "
                           f"{h.total}")
            out += ["# HELP crinkkg_queries_total Queries and updates by outcome.",
                    "# TYPE crinkkg_queries_total counter"]
            for outcome in sorted({"ok", "error", "timeout", "rejected", *self.queries}):
                out.append(f'crinkkg_queries_total{{outcome="{outcome}"}} '
                           f"{self.queries.get(outcome, 0)}")
            out += ["# HELP crinkkg_query_timeouts_total Queries stopped by the timeout.",
                    "# TYPE crinkkg_query_timeouts_total counter",
                    f"crinkkg_query_timeouts_total {self.queries.get('timeout', 0)}"]
            out += ["# HELP crinkkg_errors_total Error responses by kind.",
                    "# TYPE crinkkg_errors_total counter"]
            for kind, n in sorted(self.errors.items()):
                out.append(f'crinkkg_errors_total{{kind="{_escape(kind)}"}} {n}')
        for kind, values in (("gauge", self.gauges), ("counter", self.counters)):
            for name, (help_text, read) in sorted(values.items()):
                try:
                    value = float(read())
                except Exception:  # noqa: BLE001 (a scrape must not fail on one value)
                    continue
                shown = f"{value:.0f}" if value.is_integer() else repr(value)  # every digit
                out += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}",
                        f"{name} {shown}"]
        out += ["# HELP crinkkg_uptime_seconds Seconds since the app started.",
                "# TYPE crinkkg_uptime_seconds gauge",
                f"crinkkg_uptime_seconds {time.time() - self.started:.1f}"]
        return "\n".join(out) + "\n"
