"""The bundled example queries (one per competency question), read from package data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Example:
    """A query with the metadata its header comments carry (``# title:`` and so on)."""

    name: str
    title: str
    description: str
    inferred: bool
    sparql: str


def parse_example(name: str, text: str) -> Example:
    """Read the ``# key: value`` header of a ``.rq`` file.

    >>> e = parse_example("01-x", "# title: T\\n# description: D\\n# inferred: true\\nASK {}")
    >>> (e.title, e.inferred)
    ('T', True)
    """
    meta: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        key, sep, value = line.lstrip("# ").partition(":")
        if sep and key.strip().isidentifier():
            meta[key.strip().lower()] = value.strip()
    return Example(
        name=name,
        title=meta.get("title", name),
        description=meta.get("description", ""),
        inferred=meta.get("inferred", "false").lower() == "true",
        sparql=text,
    )


@cache
def examples() -> tuple[Example, ...]:
    """Every bundled example, in file-name order."""
    folder = resources.files("crinkkg") / "queries"
    found = [parse_example(f.name.removesuffix(".rq"), f.read_text(encoding="utf-8"))
             for f in folder.iterdir() if f.name.endswith(".rq")]
    return tuple(sorted(found, key=lambda e: e.name))


def find(name: str) -> Example | None:
    """An example by file stem (``01-crink-members``) or number (``1`` or ``01``)."""
    for e in examples():
        number = e.name.split("-", 1)[0]
        if name in (e.name, number) or (name.isdigit() and number.isdigit()
                                        and int(name) == int(number)):
            return e
    return None
