"""Where a built store lives on disk, and the one way a new version of it is published.

``STORE`` is a symbolic link to ``STORE.d/<version>/``, which holds the Oxigraph database
(``db/``) and its record (``build.json``). A writer (a build, or an update through the
server) fills ``STORE.d/<kind>-<time>-<pid>.partial/``, then :meth:`StoreLayout.publish_version`
writes the record, renames the folder and swaps the link, all under one lock across
processes, so a reader never sees half a store and a record always belongs to its version.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from crinkkg.errors import StoreError
from crinkkg.store.integrity import FILES, file_record


@dataclass(frozen=True)
class StoreLayout:
    """Where a store's parts live on disk."""

    link: Path

    @property
    def versions(self) -> Path:
        return self.link.with_name(self.link.name + ".d")

    def current(self) -> Path | None:
        """The build directory the link points at, if any."""
        if self.link.is_symlink() or self.link.is_dir():
            target = self.link.resolve()
            if (target / "db").is_dir():
                return target
        return None

    def db(self) -> Path:
        current = self.current()
        if current is None:
            raise StoreError(
                f"no built store at {self.link}",
                hint="run `crinkkg build` first (or pass --store to point at one)",
            )
        return current / "db"

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """One writer (a build's publish, or an update) at a time, across processes;
        released by the kernel if the holder dies."""
        self.versions.mkdir(parents=True, exist_ok=True)
        with open(self.versions / ".writer.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def publish(self, target: Path) -> None:
        """Point the link at ``target`` atomically (hold :meth:`writer_lock`; writers use
        :meth:`publish_version`).

        One previous version is kept: readers still on it finish their queries (RocksDB
        opens its files lazily, so removing it at once could break them); older ones go.
        """
        link = self.link
        if link.exists() and not link.is_symlink():
            raise StoreError(f"{link} exists and is not a store link made by `crinkkg build`",
                             hint="move it away or choose another --store")
        tmp = link.with_name(f".{link.name}.{os.getpid()}.link")
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(os.path.relpath(target, link.parent))
        os.replace(tmp, link)
        versions = sorted((p for p in self.versions.iterdir()
                           if p.is_dir() and not p.name.endswith(".partial")
                           and p.resolve() != target.resolve()),
                          key=lambda p: p.stat().st_mtime)
        for old in versions[:-1]:
            shutil.rmtree(old, ignore_errors=True)

    def work_dir(self, kind: str) -> Path:
        """A new, empty ``.partial`` folder for a version being written (``kind``: build or
        update); :meth:`remove_abandoned` removes it if its writer dies."""
        self.versions.mkdir(parents=True, exist_ok=True)
        self.remove_abandoned()
        work = self.versions / f"{kind}-{int(time.time() * 1000)}-{os.getpid()}.partial"
        work.mkdir()
        return work

    def publish_version(self, work: Path, record: Callable[[dict], dict], *,
                        locked: bool = False) -> Path:
        """Publish the version written in ``work``: under the writer lock (``locked``: the
        caller holds it already), write ``record(current record)`` beside it, give the folder
        its final name and point the link at it. On failure the old version stays served
        and ``work`` is removed."""
        if not locked:
            with self.writer_lock():
                return self.publish_version(work, record, locked=True)
        final = work.with_name(work.name.removesuffix(".partial"))
        try:
            try:
                previous = self.build_record()
            except StoreError:  # unreadable: the new version's record replaces it
                previous = {}
            current = self.current()
            # what the version's files are as published: a damaged file is found later
            # (crinkkg.store.integrity), since RocksDB does not check what it reads
            files = file_record(work / "db", previous,
                                current / "db" if current is not None else None)
            write_record(work, {**record(previous), FILES: files})
            work.rename(final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        try:
            self.publish(final)
        except BaseException:  # e.g. no space for the new link: the old version stays
            if self.current() != final.resolve():
                shutil.rmtree(final, ignore_errors=True)
            raise
        return final

    def remove_abandoned(self) -> None:
        """Partial builds or updates left by a killed process (kill -9 cleans nothing)."""
        for partial in self.versions.glob("*.partial"):
            pid = partial.name.rsplit("-", 1)[-1].removesuffix(".partial")
            if not pid.isdigit() or not _alive(int(pid)):
                shutil.rmtree(partial, ignore_errors=True)

    def build_record(self) -> dict:
        """The record the build (and each update) wrote beside the database; ``{}`` if none.

        A record that cannot be read is a :class:`StoreError` with a hint, not a traceback.
        """
        current = self.current()
        if current is None or not (current / "build.json").is_file():
            return {}
        path = current / "build.json"
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise StoreError(f"the store's build record {path} is unreadable ({exc})",
                             hint="rebuild the store from its inputs: `crinkkg build --force`"
                             ) from None
        if not isinstance(record, dict):
            raise StoreError(f"the store's build record {path} is not a JSON object",
                             hint="rebuild the store from its inputs: `crinkkg build --force`")
        return record


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True



def write_record(build_dir: Path, record: dict) -> None:
    tmp = build_dir / "build.json.tmp"
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
    os.replace(tmp, build_dir / "build.json")
