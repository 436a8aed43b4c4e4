"""Fold the journal of writes into the input files, or discard it: the operator's two ways
to end a journal (``crinkkg journal fold|discard``).

Folding appends each added triple to the Turtle or N-Triples file whose graph it was
added to, as N-Triples lines under a comment naming the writes (the file's own text,
comments included, is left as it is). What cannot be written so stays in the journal, so
that nothing is lost: deletions (taking a triple out of hand-written Turtle is the
editor's call: they are listed), triples of graphs no file holds, and triples with blank
nodes (a file's blank nodes are renamed when it is read). The journal before either step
is kept beside it, renamed, and the next build replays what remains.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from crinkkg.errors import StoreError
from crinkkg.inputs.loading import discover
from crinkkg.settings import Settings
from crinkkg.store.journal import Journal, Patch
from crinkkg.store.layout import StoreLayout, write_record
from crinkkg.vocab import graph_iri_for

T = TypeVar("T")

#: the files folding appends to: their syntax takes N-Triples lines as they are
_APPENDABLE = (".ttl", ".nt")


@dataclass
class Folded:
    """What a fold did: triples written per file, what stayed in the journal, and where
    the journal as it was is kept."""

    written: dict[str, int] = field(default_factory=dict)
    kept_deletes: list[str] = field(default_factory=list)
    kept_adds: list[str] = field(default_factory=list)
    patches: int = 0
    archive: str | None = None


def net_change(patches: list[Patch]) -> tuple[set[ox.Quad], set[ox.Quad]]:
    """What the patches remove and add, taken together (an addition undone by a later
    deletion is neither)."""
    return _net([(p.deletes, p.adds) for p in patches])


def net_graphs(patches: list[Patch]) -> tuple[set[str], set[str]]:
    """The graphs the patches create and drop, taken together (as :func:`net_change`)."""
    dropped, created = _net([(p.graphs_dropped, p.graphs_created) for p in patches])
    return created, dropped


def _net(steps: list[tuple[Iterable[T], Iterable[T]]]) -> tuple[set[T], set[T]]:
    removed: set[T] = set()
    added: set[T] = set()
    for deletes, adds in steps:
        for quad in deletes:
            if quad in added:
                added.discard(quad)
            else:
                removed.add(quad)
        for quad in adds:
            if quad in removed:
                removed.discard(quad)
            else:
                added.add(quad)
    return removed, added


def file_graphs(settings: Settings, root: Path) -> dict[str, Path]:
    """The input file that holds each graph, for the files folding can append to."""
    found: dict[str, Path] = {}
    for path, role in discover(settings.ontology_dir, settings.data_dir):
        if role == "shapes" or path.suffix.lower() not in _APPENDABLE:
            continue
        try:
            relative = path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            relative = path.name
        found[graph_iri_for(relative)] = path
    return found


def fold(settings: Settings, root: Path | None = None) -> Folded:
    """Append the journal's additions to the input files and keep the rest in the journal
    (under the store's writer lock: no update is journalled meanwhile)."""
    root = root or Path.cwd()
    layout = StoreLayout(settings.store)
    journal = Journal(settings.store)
    outcome = Folded()
    with layout.writer_lock():
        patches = journal.patches()
        outcome.patches = len(patches)
        if not patches:
            return outcome
        removed, added = net_change(patches)
        created, dropped = net_graphs(patches)
        files = file_graphs(settings, root)
        per_file: dict[Path, list[ox.Quad]] = {}
        kept_adds: list[ox.Quad] = []
        for quad in sorted(added, key=str):
            path = files.get(quad.graph_name.value) \
                if isinstance(quad.graph_name, ox.NamedNode) else None
            if path is None or isinstance(quad.subject, ox.BlankNode) \
                    or isinstance(quad.object, ox.BlankNode):
                kept_adds.append(quad)
            else:
                per_file.setdefault(path, []).append(quad)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        outcome.archive = _archive(journal, "folded", stamp)
        names = ", ".join(f"<{p.id}>" for p in patches)
        for path, quads in per_file.items():
            block = (f"\n# --- folded from the journal of writes on {stamp}: {len(quads)} "
                     f"triple(s) added by {names}\n"
                     + "".join(f"{q.triple} .\n" for q in quads))
            _append(path, block)
            outcome.written[str(path)] = len(quads)
        rest = []
        if removed or kept_adds or created or dropped:
            rest = [Patch(id=f"urn:uuid:{uuid.uuid4()}", prev=None, created=stamp,
                          deletes=tuple(sorted(removed, key=str)), adds=tuple(kept_adds),
                          graphs_created=tuple(sorted(created)),
                          graphs_dropped=tuple(sorted(dropped)))]
        journal.replace(rest)
        outcome.kept_deletes = [str(q) for q in sorted(removed, key=str)]
        outcome.kept_adds = [str(q) for q in kept_adds]
    return outcome


def discard(settings: Settings) -> tuple[int, str | None]:
    """Stop replaying the journal: it is renamed beside the store (kept, not deleted).
    Returns how many writes it held and where it is now."""
    layout = StoreLayout(settings.store)
    journal = Journal(settings.store)
    with layout.writer_lock():
        patches = journal.patches()
        if not patches:
            return 0, None
        archive = _archive(journal, "discarded",
                           time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        journal.replace([])
        current = layout.current()
        if current is not None:  # the version served holds the writes: rebuild it
            try:
                record = layout.build_record()
            except StoreError:
                record = {}  # unreadable: the next build rebuilds it anyway
            if record:
                write_record(current, {**record, "discarded": True})
        return len(patches), archive


def _archive(journal: Journal, why: str, stamp: str) -> str:
    """Keep the journal as it is now under another name; return that name."""
    name = f"{journal.path.name}.{why}-{stamp.replace(':', '')}"
    target = journal.path.with_name(name)
    n = 1
    while target.exists():  # two in one second: neither overwrites the other
        target, n = journal.path.with_name(f"{name}-{n}"), n + 1
    target.write_bytes(journal.path.read_bytes())
    return str(target)


def _append(path: Path, block: str) -> None:
    """Append ``block`` to ``path`` whole or not at all (written beside it, then renamed)."""
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    tmp = path.with_name(f".{path.name}.fold")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text + block)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)

