"""Whether the store was built from exactly the current inputs: the build's cache key.

Kept apart from :mod:`crinkkg.build.pipeline` so that ``crinkkg serve`` on a current
store never imports the build (rdflib, owlrl, pySHACL): what the serving process imports,
every HTTP process forked from it holds too, and rdflib alone would be counted once per
process in the server's memory.
"""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path

from crinkkg import __version__
from crinkkg.errors import StoreError
from crinkkg.inputs import anchors
from crinkkg.inputs.loading import discover, file_digest
from crinkkg.settings import Settings
from crinkkg.store.integrity import known_damage
from crinkkg.store.journal import Journal, unpublished
from crinkkg.store.layout import StoreLayout

#: 2: a merge graph when files share triples (store.asserted_merge); 3: the shapes kept with
#: each version (build.conformance.SHAPES_FILE); 4: the full-text index beside the database
#: (store.textindex.INDEX_DIR)
STORE_LAYOUT = 4


def cache_key(settings: Settings) -> str:
    """A digest of every input file's content, the package version and the settings that
    change the output: equal keys mean an equal store. Files are named by their resolved
    paths, so that the same inputs named another way (relative or absolute, from another
    folder) are the same inputs."""
    h = hashlib.sha256()
    h.update(f"crinkkg {__version__}\nlayout {STORE_LAYOUT}\nbase {settings.base_iri}\n"
             f"reasoner {settings.reasoner}\n".encode())
    resolved = Resolved()
    for path, role in discover(settings.ontology_dir, settings.data_dir):
        h.update(f"{role} {path.name} {resolved(path)} {file_digest(path)}\n".encode())
    for path in anchors.text_paths(settings.data_dir):
        h.update(f"text {resolved(path)} {file_digest(path)}\n".encode())
    return h.hexdigest()


class Resolved:
    """A file's resolved path, as ``path.resolve().as_posix()`` gives it, with each folder
    resolved once: resolving every file of a large input (1,437 files at 500k) took longer
    than hashing their contents, on the start-up path of ``crinkkg serve``."""

    def __init__(self) -> None:
        self._folders: dict[Path, str] = {}

    def __call__(self, path: Path) -> str:
        if path.is_symlink():  # the file itself is a link: where it points
            return path.resolve().as_posix()
        folder = self._folders.get(path.parent)
        if folder is None:
            folder = self._folders[path.parent] = path.parent.resolve().as_posix()
        return posixpath.join(folder, path.name)


def build_record(layout: StoreLayout) -> dict:
    """The current build record; ``{}`` (build again) when it is missing or unreadable, or
    when the version's files no longer match it (a damaged store is rebuilt, not kept)."""
    try:
        record = layout.build_record()
    except StoreError:
        return {}
    current = layout.current()
    if record and current is not None and known_damage(current, record=record) is not None:
        return {}
    return record


def is_current(settings: Settings) -> bool:
    """True when the store was built from exactly these inputs and holds every write of
    its journal."""
    return why_rebuild(settings) is None


def why_rebuild(settings: Settings) -> str | None:
    """Why the store must be built again (``None``: it is current), in words for the
    operator: a rebuild replays the journal, so none of these loses a write."""
    layout = StoreLayout(settings.store)
    current = layout.current()
    if current is None:
        return "never built, or the store link or its version folder is missing"
    try:
        record = layout.build_record()
    except StoreError:
        return "the store's build record is unreadable"
    if not record:
        return "the store's build record is missing"
    if known_damage(current, record=record) is not None:
        return "the store's files are damaged"
    if record.get("key") != cache_key(settings):
        return "the inputs changed"
    ids = Journal(settings.store).ids()
    # writes never published are taken out by the build, not replayed: the record names the
    # newest published one
    if not unpublished(ids, record) and record.get("journal") != (ids[-1] if ids else None):
        return "the journal holds writes this store version does not"
    if record.get("discarded"):
        return "the journal was discarded: this store version still holds its writes"
    return None
