"""Sample a running server with py-spy while it is under load, and summarise where the time
goes (by area and by function). Optional: skipped when py-spy is not installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

AREAS = [
    ("waiting (locks, queues, select)", ("threading.py", "selectors.py", "queue.py")),
    ("IPC with query workers (pipes, sockets, pickle)", ("multiprocessing/",
                                                         "crinkkg/backends/embedded/channel.py",
                                                         "pickle",
                                                         "crinkkg/backends/embedded/broker.py",
                                                         "crinkkg/backends/embedded/pool.py")),
    ("query evaluation in pyoxigraph (crinkkg.store.oxigraph)",
     ("crinkkg/store/oxigraph.py", "crinkkg/backends/evaluation.py")),
    ("HTTP server (waitress)", ("waitress/",)),
    ("HTTP server (granian)", ("granian/",)),
    ("HTTP server (gunicorn)", ("gunicorn/",)),
    ("Flask / Werkzeug", ("flask/", "werkzeug/")),
    ("query evaluation + serialisation (worker)", ("crinkkg/backends/embedded/worker.py",)),
    ("crinkkg web layer", ("crinkkg/",)),
    ("json", ("json/",)),
    ("logging / streams", ("logging/",)),
]


def py_spy() -> str | None:
    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


def start(pid: int, seconds: float) -> tuple[subprocess.Popen, Path] | None:
    exe = py_spy()
    if exe is None:
        return None
    out = Path(tempfile.mkdtemp()) / "profile.txt"
    proc = subprocess.Popen([exe, "record", "--pid", str(pid), "--subprocesses", "--duration",
                             str(max(1, round(seconds))), "--format", "raw", "--rate", "200",
                             "--nonblocking", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, out


def finish(handle: tuple[subprocess.Popen, Path], timeout: float = 30) -> dict | None:
    proc, out = handle
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    if not out.exists():
        return None
    summary = summarise(out.read_text())
    shutil.rmtree(out.parent, ignore_errors=True)
    return summary


def _area(frame: str) -> str:
    if frame.startswith("process "):  # a process with no Python frame running (its path
        return "idle or native code (no Python frame)"  # may well hold "crinkkg/")
    for name, needles in AREAS:
        if any(n in frame for n in needles):
            return name
    return "other (pyoxigraph calls, interpreter)"


def summarise(raw: str, top: int = 12) -> dict:
    total = 0
    areas: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    procs: Counter[str] = Counter()
    for line in raw.splitlines():
        if not line.strip() or " " not in line:
            continue
        stack, _, n = line.rpartition(" ")
        try:
            count = int(n)
        except ValueError:
            continue
        frames = stack.split(";")
        total += count
        # subprocess frames nest under their parent's: the innermost "process" frame is it
        proc = [f for f in frames if f.startswith("process ")][-1:] or [""]
        worker = "crinkkg.backends.embedded.worker" in proc[0]
        procs["query worker" if worker else "HTTP server process"] += count
        areas[_area(frames[-1])] += count
        leaf[frames[-1]] += count
    if not total:
        return {"samples": 0}
    pct = lambda n: round(100 * n / total, 1)  # noqa: E731
    return {"samples": total,
            "processes": {k: pct(v) for k, v in procs.most_common()},
            "areas": {k: pct(v) for k, v in areas.most_common()},
            "top_functions": [[f, pct(v)] for f, v in leaf.most_common(top)]}
