"""Whether a store version's files are still the ones that were published.

RocksDB (through pyoxigraph) does not check the checksums of the data blocks it reads: a
damaged file can give wrong answers, allocate memory without bound, abort or panic, and
only some damage surfaces as ``RuntimeError: Corruption: ...`` (naming the server's
paths). So every published version records a CRC-32 of each of its database files in
``build.json`` (``files``), and a version is checked against that record when it is
opened by a command, when ``/health`` asks, and whenever a query dies or meets an error
that damage could explain. A damaged version is :class:`StoreDamaged` (exit status 5) on
the command line and 503 ``store-damaged`` over HTTP; neither names a path, and both say
how to repair it: ``crinkkg build --force`` (a plain build repairs it too: the build cache
does not trust a damaged version).
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from pathlib import Path

from crinkkg.errors import StoreError
from crinkkg.problems import Problem

#: the key of the file record in ``build.json``
FILES = "files"
_CHUNK = 1 << 20

REPAIR_HINT = ("rebuild the store from its inputs: `crinkkg build --force` (it replays the "
               "journal of the writes the server acknowledged)")


class StoreDamaged(StoreError):
    """A store version whose files no longer match their record, or that RocksDB reports
    corrupt."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the store is damaged: {detail}; its answers cannot be trusted",
                         hint=REPAIR_HINT)
        self.detail = detail


def crc_of(path: Path) -> str:
    """The CRC-32 of a file, as 8 hex digits (about 2 GB/s: cheap enough to check a
    version each time it is opened)."""
    crc = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return f"{crc:08x}"


def _recorded(db: Path) -> list[Path]:
    """The database files a record covers: the table files (``*.sst``), which RocksDB
    never rewrites (the manifest, logs, ``LOCK`` and ``LOG`` change whenever a writer
    opens the database, and a writer's compaction removes tables without damage)."""
    return sorted(p for p in db.iterdir() if p.suffix == ".sst" and p.is_file())


def file_record(db: Path, previous: dict | None = None, previous_db: Path | None = None
                ) -> dict[str, list]:
    """``{name: [size, crc]}`` for the files of ``db``; a file hard-linked from
    ``previous_db`` (an update's copy shares the unchanged tables) keeps the CRC recorded
    for it in ``previous`` rather than being read again.

    >>> import tempfile
    >>> db = Path(tempfile.mkdtemp()); _ = (db / "000001.sst").write_bytes(b"abc")
    >>> file_record(db)
    {'000001.sst': [3, '352441c2']}
    """
    known = (previous or {}).get(FILES) or {}
    record: dict[str, list] = {}
    for path in _recorded(db):
        stat = path.stat()
        old = known.get(path.name)
        if old and previous_db is not None and old[0] == stat.st_size:
            try:
                same = (previous_db / path.name).stat().st_ino == stat.st_ino
            except OSError:
                same = False
            if same:
                record[path.name] = [stat.st_size, old[1]]
                continue
        record[path.name] = [stat.st_size, crc_of(path)]
    return record


def damage(version: Path, *, record: dict | None = None) -> str | None:
    """What is wrong with the files of a published version (``STORE.d/<version>``), in
    words without paths; None when they match their record (or there is no record: a
    version published before records were kept is trusted).

    ``record``: its ``build.json``, if already read.
    """
    if record is None:
        try:
            record = json.loads((version / "build.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # no record, or an unreadable one: StoreLayout.build_record says so
    files = record.get(FILES) if isinstance(record, dict) else None
    if not isinstance(files, dict) or not files:
        return None
    db = version / "db"
    wrong: list[str] = []
    for name, (size, crc) in sorted(files.items()):
        path = db / name
        try:
            if path.stat().st_size != size:
                wrong.append(f"{name} (its size changed)")
            elif crc_of(path) != crc:
                wrong.append(f"{name} (its contents changed)")
        except FileNotFoundError:
            continue  # compacted away by a writer (one the database still needs fails it)
        except OSError as exc:
            wrong.append(f"{name} (unreadable: {exc.strerror or type(exc).__name__})")
    if not wrong:
        return None
    shown = ", ".join(wrong[:5]) + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
    return f"{len(wrong)} of its {len(files)} database files no longer match the " \
           f"record written when it was published: {shown}"


def _signature(version: Path) -> tuple:
    """The sizes and modification times of a version's database files: what changes when
    a file is written to (the verdict of :func:`damage` is kept until it does)."""
    db = version / "db"
    try:
        stats = [(p.name, p.stat()) for p in _recorded(db)]
    except OSError:
        return ()
    return tuple((name, s.st_size, s.st_mtime_ns) for name, s in stats)


_verdicts: dict[str, tuple[tuple, str | None]] = {}
_verdicts_lock = threading.Lock()


def known_damage(version: Path | str, *, record: dict | None = None,
                 again: bool = False) -> str | None:
    """:func:`damage`, remembered for this process until one of the version's files is
    written to; ``again``: check the contents now whatever was found before (a query died
    or met an error that damage could explain).

    A process forked after the check inherits its verdict: ``crinkkg serve`` checks the
    version once before granian forks its HTTP processes, instead of once in each (reading
    every database file again delayed the first answer of a large store).
    """
    key = os.path.realpath(version)
    version = Path(key)
    signature = _signature(version)
    with _verdicts_lock:
        seen = _verdicts.get(key)
    if seen is not None and seen[0] == signature and not (again and seen[1] is None):
        return seen[1]
    found = damage(version, record=record)
    with _verdicts_lock:
        if found is not None or seen is None or seen[0] != signature or again:
            _verdicts[key] = (signature, found)
    return found


def is_corruption(exc: BaseException) -> bool:
    """Whether an error from pyoxigraph may come from damaged files: RocksDB reporting
    corruption, or a panic inside the engine (which garbage read from a damaged file can
    cause: :func:`explains` tells by checking the files).

    >>> is_corruption(RuntimeError("Corruption: block checksum mismatch in /x/000010.sst"))
    True
    >>> is_corruption(RuntimeError("IO error: No space left on device"))
    False
    """
    return "Corruption:" in str(exc) or type(exc).__name__ == "PanicException"


def explains(exc: BaseException, version: Path | str) -> str | None:
    """What is wrong with ``version`` when that explains the error ``exc`` (the files are
    checked again now); None when the store is not to blame (then ``exc`` is what it is)."""
    if not is_corruption(exc):
        return None
    found = known_damage(version, again=True)
    if found is not None:
        return found
    return reported_corruption(exc) if "Corruption:" in str(exc) else None


def reported_corruption(exc: BaseException) -> str:
    """RocksDB's words for the damage, without the paths it names.

    >>> reported_corruption(RuntimeError("Corruption: block checksum mismatch: stored = 1, "
    ...     "computed = 2  in /srv/STORE.d/b-1/db/000010.sst offset 75 size 10"))
    'the database reports block checksum mismatch in 000010.sst'
    """
    text = str(exc)
    detail = text.split("Corruption:", 1)[-1].strip()
    detail = detail.split(":", 1)[0].split("  ")[0].strip() or "corruption"
    files = sorted({os.path.basename(w) for w in text.split()
                    if w.endswith((".sst", ".log")) or "MANIFEST-" in w})
    where = f" in {', '.join(files[:3])}" if files else ""
    return f"the database reports {detail}{where}"


def damaged_problem(detail: str) -> Problem:
    """The HTTP answer for a damaged store: 503 ``store-damaged``, no server paths."""
    return Problem(503, "store-damaged",
                   f"the store is damaged: {detail}; its answers cannot be trusted, so "
                   "queries are refused until it is rebuilt",
                   hint="the operator must rebuild the store from its inputs: "
                        "`crinkkg build --force` (the server switches to the new version "
                        "by itself; the rebuild replays the journal of the writes the server "
                        "acknowledged)")
