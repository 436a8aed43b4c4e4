"""The command-line options of the settings, made from their declarations
(:data:`crinkkg.settings.SETTINGS`): flag, help, default and choices are said there once.

Every option defaults to ``None``, "not given", so that :meth:`Settings.from_env` lets the
environment and then the declared default decide; the help shows that default and the
variable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import click

from crinkkg.settings import SETTINGS, Setting, Settings

F = TypeVar("F", bound=Callable[..., Any])
#: each setting's type, as written on its field ("int", "tuple[str, ...]", ...)
_TYPES = {f.name: str(f.type) for f in fields(Settings)}


def _option(spec: Setting) -> Callable[[F], F]:
    """The click option of one setting (which has a flag)."""
    kind = _TYPES[spec.name]
    help = f"{spec.help}  [default: {spec.default_text}; env var: {spec.env}]"
    extra: dict[str, Any] = {}
    if spec.choices:
        extra["type"] = click.Choice(list(spec.choices))
    elif "Path" in kind:
        extra["type"] = click.Path(path_type=Path)
    elif kind in ("int", "float"):
        extra["type"] = int if kind == "int" else float
    if kind == "bool" and "/" not in (spec.flag or ""):
        extra["is_flag"] = True
    if kind.startswith("tuple"):
        extra["multiple"] = True
    if spec.metavar:
        extra["metavar"] = spec.metavar
    return click.option(spec.flag, spec.name, default=None, help=help, **extra)


def setting_options(group: str) -> Callable[[F], F]:
    """A decorator adding the options of the settings of ``group``, in declaration order."""
    options = [_option(s) for s in SETTINGS if s.group == group and s.flag]

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func
    return decorate


def given_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The settings among a command's ``options``, as :meth:`Settings.from_env` takes them:
    a repeatable option given no time is "not given" (``None``), as any other left unset."""
    names = {s.name for s in SETTINGS}
    return {k: (tuple(v) or None) if isinstance(v, (tuple, list)) else v
            for k, v in options.items() if k in names}

