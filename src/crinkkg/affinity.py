"""Keep the server's HTTP threads on one CPU, and the query workers on all of them.

Python threads of one process take turns holding the GIL; spread over several CPUs they
wake each other across CPUs on every hand-over, and a waitress server answering small
queries spends much of its time in the kernel doing so (bench/README.md, "One CPU for
waitress's threads"). Query evaluation that needs CPUs runs in worker processes, which are
released to every CPU again.
"""

from __future__ import annotations

import os

_ENV = "CRINKKG_WORKER_CPUS"


def pin_server() -> int | None:
    """Confine this process (and the threads and processes it starts later) to one of its
    CPUs; remember all of them for the workers. Returns the CPU, or None when there is
    only one or the platform cannot do it."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None
    cpu = allowed[-1]
    os.environ[_ENV] = ",".join(map(str, allowed))
    os.sched_setaffinity(0, {cpu})
    return cpu


def release_worker() -> None:
    """In a worker started by a pinned server: run on every CPU the server had."""
    cpus = os.environ.get(_ENV)
    if cpus and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
        except (OSError, ValueError):
            pass  # the CPUs changed under us: keep what we have
