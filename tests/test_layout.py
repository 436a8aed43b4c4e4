"""The code's layout by layer: data flows files -> build -> store -> backend -> web, and the
imports say so.

Read from the source with :mod:`ast`, every import counts, those inside functions too: a
function-level import cannot hide a cycle or a layer crossed the wrong way.
"""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "crinkkg"

#: the shared, pure modules every layer may use
SHARED = {"crinkkg", "crinkkg.errors", "crinkkg.settings", "crinkkg.vocab", "crinkkg.formats",
          "crinkkg.sparqltext", "crinkkg.views", "crinkkg.problems", "crinkkg.terms",
          "crinkkg.datatypes", "crinkkg.output", "crinkkg.affinity", "crinkkg.examples",
          "crinkkg.lifeline", "crinkkg.functions", "crinkkg.build_status"}

#: each layer (a sub-package) and the layers it may import besides itself and SHARED
MAY_IMPORT = {
    "inputs": set(),
    "reasoning": {"inputs"},
    "store": set(),
    "build": {"inputs", "reasoning", "store"},
    "backends": {"store", "build", "reasoning"},
    "web": {"backends.contract"},
    "cli": {"inputs", "reasoning", "build", "store", "backends", "web"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every crinkkg module ``path`` imports, at any depth of the code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            if isinstance(node, ast.ImportFrom) and node.level:
                raise AssertionError(f"{path}: relative import; write crinkkg.… in full")
            continue
        found.update(n for n in names if n in known)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {m: imports_of(p, known) - {m} for m, p in mods.items()}


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in MAY_IMPORT else None


def allowed(src: str, dst: str) -> bool:
    if dst in SHARED:
        return True
    src_layer, dst_layer = layer(src), layer(dst)
    if src_layer is None:  # a shared module imports only shared ones
        return False
    if src_layer == dst_layer:
        return True
    return any(dst == f"crinkkg.{a}" or dst.startswith(f"crinkkg.{a}.")
               for a in MAY_IMPORT[src_layer])


def test_every_module_sits_in_a_layer_or_is_shared() -> None:
    stray = [m for m in modules() if layer(m) is None and m not in SHARED
             and not m.startswith("crinkkg.queries")]
    assert stray == [], "add these to a layer folder, or to SHARED if pure and shared"


def test_imports_follow_the_layers() -> None:
    wrong = sorted(f"{src} -> {dst}" for src, dsts in graph().items() for dst in dsts
                   if not allowed(src, dst))
    assert wrong == []


def test_the_web_sees_only_the_backend_contract() -> None:
    crossing = sorted(f"{src} -> {dst}" for src, dsts in graph().items() for dst in dsts
                      if src.startswith("crinkkg.web") and dst.startswith("crinkkg.backends")
                      and dst not in {"crinkkg.backends.contract"})
    assert crossing == []


def test_no_import_cycles_even_through_function_level_imports() -> None:
    edges = graph()
    # a package's __init__ importing its own submodules is not a cycle of the code
    for m in edges:
        edges[m] = {d for d in edges[m] if not d.startswith(m + ".")}
    seen: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        seen[m] = 1
        for d in sorted(edges.get(m, ())):
            if seen.get(d) == 1:
                cycles.append(path[path.index(d):] + [d] if d in path else [m, d])
            elif d not in seen:
                visit(d, path + [d])
        seen[m] = 2

    for m in sorted(edges):
        if m not in seen:
            visit(m, [m])
    assert cycles == []


def test_the_checks_above_can_fail() -> None:
    """The layer rule refuses a web -> embedded import and a store -> build import."""
    assert not allowed("crinkkg.web.routes.sparql", "crinkkg.backends.embedded.backend")
    assert not allowed("crinkkg.store.oxigraph", "crinkkg.build.updates")
    assert not allowed("crinkkg.vocab", "crinkkg.store.oxigraph")
    assert allowed("crinkkg.web.routes.sparql", "crinkkg.backends.contract")
    tree = ast.parse("def f():\n    from crinkkg.build import updates\n")
    hidden = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert hidden and hidden[0].module == "crinkkg.build"


#: modules whose examples need a live store: their own tests run them against one
LIVE_EXAMPLES = {"crinkkg.backends.sparql_client"}


@pytest.mark.parametrize("name", sorted(m for m in modules() if m not in LIVE_EXAMPLES))
def test_docstring_examples_run(name: str) -> None:
    """Every example in a docstring is a doctest that runs (as pyoxigraph's are)."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
