"""``crinkkg serve --watch``: build again whenever an input is saved, while the server runs.

An ontology editor saves a file (Protégé writes Turtle, RDF/XML or OWL/XML); the watcher
sees the folder change (``watchfiles``), waits for the writes to settle, and runs
``crinkkg build`` in a process of its own, as a user would in another terminal. A build
publishes its store by swapping the store link, which the server's workers follow before
their next query: no request is dropped. The outcome goes to the log and to the build
status file (:mod:`crinkkg.build_status`) that ``/health`` and every page read: a failed
build leaves the last good store served and says why until a build succeeds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import click
from watchfiles import Change, watch

from crinkkg.build_status import write_status
from crinkkg.settings import Settings

#: how long the folder must stay quiet before a build starts (an editor saves in steps)
SETTLE_MS = 250
#: the build runs as the ``crinkkg`` command, with this interpreter and the server's environment
_BUILD = ("from crinkkg.cli.main import main; main()",)


def is_input_change(change: Change, path: str) -> bool:
    """Whether a change can alter the build: any file but an editor's hidden, backup or
    temporary files.

    >>> is_input_change(Change.modified, "/p/ontology/crink.ttl")
    True
    >>> is_input_change(Change.added, "/p/data/.crink.ttl.swp"), \\
    ...     is_input_change(Change.modified, "/p/data/crink.ttl~")
    (False, False)
    """
    name = os.path.basename(path)
    return not (name.startswith((".", "#")) or name.endswith(("~", ".tmp", ".swp", ".bak")))


def build_command(settings: Settings) -> list[str]:
    """The ``crinkkg build`` that the server's own settings describe."""
    return [sys.executable, "-c", *_BUILD, "--store", str(settings.store),
            "--ontology", str(settings.ontology_dir), "--data", str(settings.data_dir),
            "build", "--quiet"]


def rebuild(settings: Settings, log: Callable[[str], None] = lambda line: click.echo(
        line, err=True)) -> str | None:
    """Run one build; record and log its outcome; return its error (None: it succeeded)."""
    started = time.perf_counter()
    done = subprocess.run(build_command(settings), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode == 0:
        write_status(settings.store, None, seconds=seconds)
        log(f"watch: rebuilt in {seconds:.2f} s; the new store is served")
        return None
    error = (done.stderr or done.stdout).strip() or f"the build exited with {done.returncode}"
    write_status(settings.store, error, seconds=seconds)
    log(f"watch: the build failed after {seconds:.2f} s; the last good store is still "
        f"served (/health says why, and every page):\n{error}")
    return error


class Watcher:
    """The watching thread of a server: one build at a time, one more if files changed
    during it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="crinkkg-watch", daemon=True)

    def start(self, first_error: str | None) -> None:
        """Record the start-up build's outcome, then watch."""
        write_status(self.settings.store, first_error)
        self.thread.start()

    def _run(self) -> None:
        folders = [str(Path(p).absolute()) for p in (self.settings.ontology_dir,
                                                     self.settings.data_dir)]
        click.echo(f"watch: building again when a file under {' or '.join(folders)} is saved",
                   err=True)
        for _changes in watch(*folders, watch_filter=is_input_change, stop_event=self.stop,
                              debounce=SETTLE_MS, step=50, raise_interrupt=False):
            rebuild(self.settings)

    def close(self) -> None:
        self.stop.set()
