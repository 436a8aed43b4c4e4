"""Each setting is declared once (``crinkkg.settings``); its reference, its CLI option and its
help are made from that declaration, and these tests fail when one of them drifts: a setting
missing from the docs, a documented one that does not exist, a flag absent from ``--help``
(as Datasette's ``tests/test_docs.py`` does for its settings)."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from crinkkg.cli.main import cli
from crinkkg.settings import GROUPS, SETTING, SETTINGS, Settings, reference_markdown

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "settings.md"
#: the command whose ``--help`` lists each group's flags
HELP_OF = {"inputs": ("build", "--help"), "remote": ("--help",), "build": ("build", "--help"),
           "serve": ("serve", "--help")}


def _help(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), prog_name="crinkkg", env={})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # the words, whatever click's wrapping


def test_every_field_is_declared_as_a_setting() -> None:
    assert [s.name for s in SETTINGS] == [f.name for f in fields(Settings)]
    assert all(s.group in GROUPS and s.help for s in SETTINGS)


def test_the_reference_is_the_one_the_declarations_make() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == reference_markdown(), \
        "docs/settings.md is stale: python -m crinkkg.settings > docs/settings.md"


def test_every_setting_is_documented_and_every_documented_one_exists() -> None:
    rows = re.findall(r"^\| `(\w+)` \| (.*?) \| `(CRINKKG_\w+)` \|",
                      REFERENCE.read_text(encoding="utf-8"), re.MULTILINE)
    assert sorted(name for name, _, _ in rows) == sorted(SETTING)
    for name, flag, env in rows:
        assert env == SETTING[name].env
        assert flag == (f"`{SETTING[name].flag}`" if SETTING[name].flag
                        else "(environment only)")


def test_every_variable_the_docs_and_help_name_is_a_setting() -> None:
    texts = [p.read_text(encoding="utf-8") for p in [ROOT / "README.md",
                                                      *(ROOT / "docs").rglob("*.md")]]
    texts += [s.help for s in SETTINGS]
    named = {v for text in texts for v in re.findall(r"\bCRINKKG_[A-Z0-9_]*[A-Z0-9]", text)}
    assert named - {s.env for s in SETTINGS} == set()


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_help_shows_each_flag_with_its_default_and_variable(group: str) -> None:
    shown = _help(*HELP_OF[group])
    for spec in SETTINGS:
        if spec.group == group and spec.flag:
            assert spec.flag.replace("/", " / ") in shown
            assert f"[default: {spec.default_text}; env var: {spec.env}]" in shown


def test_each_option_sets_the_setting_of_its_name() -> None:
    options = {p.name: p for c in [cli, *cli.commands.values()] for p in c.params}
    for spec in SETTINGS:
        if spec.flag:
            assert spec.option in options[spec.name].opts
            assert options[spec.name].default is None  # the environment decides, then the default
        else:
            assert spec.name not in options
