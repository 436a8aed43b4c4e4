"""The journal of writes: every acknowledged update, kept beside the store as an RDF Patch
log, so that a rebuild from the input files can replay it.

``STORE.journal`` (beside the store link ``STORE``, outside the versions, which a rebuild
replaces) is a sequence of patches in the RDF Patch text format (as Apache Jena's RDF
Delta writes them): each patch is headed by ``H id``, ``H prev`` (the patch before it)
and ``H created``, then one transaction of ``D`` (delete) and ``A`` (add) rows, one quad
a row in N-Quads syntax. A patch is appended and forced to disk before the update that
made it is published and answered; a patch cut short by a crash (no ``TC``) was never
acknowledged and is dropped by the next append. Blank nodes keep their store labels, as
RDF Patch requires, so a later patch can delete what an earlier one added. RDF Patch
records triples, not graphs: the named graphs a write created or dropped (``CREATE
GRAPH``, ``DROP GRAPH``: a graph exists empty) go in two headers of crinkkg's own,
``H graphsCreated "<iri> …"`` and ``H graphsDropped "<iri> …"``, which other RDF Patch
readers skip as they skip any header they do not know.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from crinkkg.errors import CrinkError

#: the media type RDF Delta serves patches as
MEDIA_TYPE = "application/rdf-patch"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
_HEADER = re.compile(r'^H\s+(\S+)\s+(<[^>]*>|"[^"]*"(?:\^\^<[^>]*>)?)\s*\.\s*$')


class JournalDamaged(CrinkError):
    """The journal file cannot be read as RDF Patch: nothing is replayed from it."""

    exit_code = 8


@dataclass(frozen=True)
class Patch:
    """One acknowledged write: what it removed and added, in the asserted graphs."""

    id: str
    prev: str | None
    created: str  # xsd:dateTime, UTC
    deletes: tuple[ox.Quad, ...]
    adds: tuple[ox.Quad, ...]
    graphs_created: tuple[str, ...] = ()
    graphs_dropped: tuple[str, ...] = ()

    def text(self) -> str:
        """The patch in RDF Patch syntax (one row a line, each ending in ``.``)."""
        rows = [f"H id <{self.id}> ."]
        if self.prev:
            rows.append(f"H prev <{self.prev}> .")
        rows.append(f'H created "{self.created}"^^<{XSD_DATETIME}> .')
        for key, graphs in (("graphsCreated", self.graphs_created),
                            ("graphsDropped", self.graphs_dropped)):
            if graphs:
                rows.append(f'H {key} "{" ".join(f"<{g}>" for g in graphs)}" .')
        rows.append("TX .")
        rows += [f"D {_row(q)} ." for q in self.deletes]
        rows += [f"A {_row(q)} ." for q in self.adds]
        rows.append("TC .")
        return "\n".join(rows) + "\n"

    @property
    def name(self) -> str:
        """How a message names the patch: its id and when it was written."""
        return f"<{self.id}> (written {self.created})"


def _row(quad: ox.Quad) -> str:
    if isinstance(quad.graph_name, ox.DefaultGraph):
        return f"{quad.subject} {quad.predicate} {quad.object}"
    return f"{quad.subject} {quad.predicate} {quad.object} {quad.graph_name}"


def journal_path(link: Path) -> Path:
    """Where the journal of the store at ``link`` lives."""
    return link.with_name(link.name + ".journal")


class Journal:
    """The journal of the store whose link is ``link``. Writers hold the store's writer
    lock (:meth:`~crinkkg.store.layout.StoreLayout.writer_lock`) while appending."""

    def __init__(self, link: Path) -> None:
        self.path = journal_path(Path(link))

    def patches(self) -> list[Patch]:
        """Every complete patch, oldest first (``[]`` when there is no journal)."""
        return self._read()[0]

    def ids(self) -> list[str]:
        """The ids of the complete patches, oldest first (their rows are not read)."""
        return [patch.id for patch in self._read(rows=False)[0]]

    def head(self) -> str | None:
        """The id of the newest patch: a store version that includes it is current."""
        ids = self.ids()
        return ids[-1] if ids else None

    def since(self, ref: str, patches: list[Patch] | None = None) -> list[Patch]:
        """The patches (of ``patches``, else of the journal) after ``ref``: a patch id, or
        a date or date-time (UTC) before which patches are left out. :class:`KeyError`
        when ``ref`` names no patch."""
        if patches is None:
            patches = self.patches()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+Z?)?", ref):
            start = ref if "T" in ref else ref + "T00:00:00"
            start = start.replace(" ", "T").removesuffix("Z")
            return [p for p in patches if p.created.removesuffix("Z") >= start]
        ref = ref.removeprefix("<").removesuffix(">")
        for i, patch in enumerate(patches):
            if patch.id == ref:
                return patches[i + 1:]
        raise KeyError(ref)

    def published(self, record: dict, since: str | None = None
                  ) -> tuple[list[Patch], list[str]]:
        """The writes the store acknowledged (all, or those after ``since``), read once,
        and the ids of those journalled but never published (see :func:`unpublished`),
        which are left out."""
        patches = self.patches()
        never = set(unpublished([p.id for p in patches], record))
        listed = patches if since is None else self.since(since, patches)
        return [p for p in listed if p.id not in never], sorted(never)

    def append(self, deletes: Iterable[ox.Quad], adds: Iterable[ox.Quad],
               graphs_created: Iterable[str] = (),
               graphs_dropped: Iterable[str] = ()) -> tuple[Patch, int]:
        """Write one patch and force it to disk; return it and the journal's size before
        it (to :meth:`truncate` to if the write it records cannot be published)."""
        patches, complete = self._read(rows=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        patch = Patch(id=f"urn:uuid:{uuid.uuid4()}", prev=patches[-1].id if patches else None,
                      created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      deletes=tuple(sorted(deletes, key=str)),
                      adds=tuple(sorted(adds, key=str)),
                      graphs_created=tuple(sorted(graphs_created)),
                      graphs_dropped=tuple(sorted(graphs_dropped)))
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.ftruncate(fd, complete)  # a patch cut short by a crash was never acknowledged
            os.lseek(fd, complete, os.SEEK_SET)
            data = patch.text().encode("utf-8")
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        except BaseException:
            os.ftruncate(fd, complete)
            raise
        finally:
            os.close(fd)
        if created:
            _sync_dir(self.path.parent)
        return patch, complete

    def drop_unpublished(self, record: dict) -> list[str]:
        """Take out the :func:`unpublished` patches, durably; return their ids. The caller
        holds the store's writer lock."""
        patches, ends = self._scan(rows=False)
        dropped = unpublished([p.id for p in patches], record)
        if dropped:
            keep = len(patches) - len(dropped)
            self.truncate(ends[keep - 1] if keep else 0)
        return dropped

    def truncate(self, size: int) -> None:
        """Take back what was appended after ``size`` bytes (a write that was not
        published), durably."""
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        finally:
            os.close(fd)

    def replace(self, patches: Sequence[Patch]) -> None:
        """Make the journal hold exactly ``patches`` (written whole beside it, then
        renamed over it): used when the operator folds or discards it."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            for patch in patches:
                handle.write(patch.text())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        _sync_dir(self.path.parent)

    def _read(self, rows: bool = True) -> tuple[list[Patch], int]:
        """The complete patches and the byte offset where the last of them ends (without
        ``rows``, the patches' headers only: what a write needs to append one)."""
        patches, ends = self._scan(rows)
        return patches, ends[-1] if ends else 0

    def _scan(self, rows: bool) -> tuple[list[Patch], list[int]]:
        """The complete patches and the byte offset where each ends. What follows the last
        ``TC`` row and cannot be read is a patch cut short by a crash: left out, not an
        error."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], []
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if b"\nTC ." not in data[exc.start:]:  # a row cut inside a character
                text = data[:data.rfind(b"\n", 0, exc.start) + 1].decode("utf-8", "replace")
            else:
                raise self._damaged(data[:exc.start].count(b"\n") + 1, "not UTF-8") from None
        patches: list[Patch] = []
        ends: list[int] = []
        headers: dict[str, str] = {}
        changes: dict[str, list[str]] = {"A": [], "D": []}
        in_tx = False
        offset = position = 0  # in bytes (to truncate at), in characters (to look ahead)
        # rows end at "\n" only: a literal may hold U+2028 or U+0085, which str.splitlines
        # would take for line ends
        lines = text.split("\n")
        for number, line in enumerate(lines, start=1):
            start = position
            offset += len(line.encode("utf-8")) + (number < len(lines))
            position += len(line) + 1
            row = line.strip(" \t\r")
            if not row or row.startswith("#"):
                continue
            code = row.split(None, 1)[0]
            header = _HEADER.match(row) if code == "H" and not in_tx else None
            if header is not None:
                headers[header.group(1)] = header.group(2)
            elif code == "TX" and not in_tx:
                in_tx = True
            elif code in ("A", "D") and in_tx and row.endswith("."):
                if rows:
                    changes[code].append(row[1:].strip(" \t"))
            elif row == "TC ." and in_tx:
                patches.append(self._patch(headers, changes, number))
                ends.append(offset)
                headers, changes, in_tx = {}, {"A": [], "D": []}, False
            elif row == "TA ." and in_tx:  # an aborted transaction changes nothing
                headers, changes, in_tx = {}, {"A": [], "D": []}, False
            elif not re.search(r"^TC \.", text[start:], re.MULTILINE):
                break  # the tail of a patch cut short: nothing after it was committed
            else:
                raise self._damaged(number, f"unexpected row {row[:60]!r}")
        return patches, ends

    def _patch(self, headers: dict[str, str], rows: dict[str, list[str]], line: int) -> Patch:
        if "id" not in headers or "created" not in headers:
            raise self._damaged(line, "a patch without its `H id` and `H created` headers")
        try:
            deletes = tuple(ox.parse("\n".join(rows["D"]), format=ox.RdfFormat.N_QUADS))
            adds = tuple(ox.parse("\n".join(rows["A"]), format=ox.RdfFormat.N_QUADS))
        except SyntaxError as exc:
            raise self._damaged(line, f"a row is not a quad ({exc})") from None
        prev = headers.get("prev")
        return Patch(id=headers["id"][1:-1], prev=prev[1:-1] if prev else None,
                     created=headers["created"].split('"')[1], deletes=deletes, adds=adds,
                     graphs_created=_graphs(headers.get("graphsCreated")),
                     graphs_dropped=_graphs(headers.get("graphsDropped")))

    def _damaged(self, line: int, why: str) -> JournalDamaged:
        return JournalDamaged(
            f"the journal of writes {self.path.name} cannot be read at line {line}: {why}",
            hint=f"nothing was replayed or changed; repair the line or move {self.path.name} "
                 "aside (its writes are then not replayed), then build again")


def unpublished(ids: Sequence[str], record: dict) -> list[str]:
    """Of the journal's patch ``ids``, those after the newest one the store's version
    ``record`` says it holds: their writes were never published, so never answered as
    applied (a worker killed between journalling and publishing, e.g. at its timeout,
    which its client was told stopped the update). None when the record does not say (no
    record, or one made before the journal) or names a patch the journal does not hold (a
    folded or discarded journal): then a rebuild replays everything."""
    if "journal" not in record:
        return []
    published = record["journal"]
    if published is None:
        return list(ids)
    if published not in ids:
        return []
    return list(ids[list(ids).index(published) + 1:])


def _graphs(header: str | None) -> tuple[str, ...]:
    """The IRIs of a ``graphsCreated``/``graphsDropped`` header (a string of ``<iri>``s)."""
    return tuple(re.findall(r"<([^>]*)>", header.split('"')[1])) if header else ()


def _sync_dir(folder: Path) -> None:
    """Make a new or renamed file's name durable too."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
