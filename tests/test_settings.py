"""Configuration: defaults < environment < flags, with errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from crinkkg.examples import find, parse_example
from crinkkg.settings import Settings


def test_precedence_defaults_env_flags() -> None:
    assert Settings.from_env({}).port == 8000
    env = {"CRINKKG_PORT": "9001", "CRINKKG_STORE": "/tmp/s", "CRINKKG_ENABLE_UPDATE": "yes",
           "CRINKKG_SERVICE_ALLOWLIST": "http://a/sparql, http://b/sparql",
           "CRINKKG_TIMEOUT": "2.5"}
    s = Settings.from_env(env)
    assert (s.port, s.store, s.enable_update, s.timeout) == (9001, Path("/tmp/s"), True, 2.5)
    assert s.service_allowlist == ("http://a/sparql", "http://b/sparql")
    assert Settings.from_env(env, port=7000, store=None).port == 7000
    assert Settings.from_env(env, port=7000, store=None).store == Path("/tmp/s")


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ValueError, match="CRINKKG_PORT"):
        Settings.from_env({"CRINKKG_PORT": "eighty"})
    with pytest.raises(ValueError, match="CRINKKG_ENABLE_UPDATE"):
        Settings.from_env({"CRINKKG_ENABLE_UPDATE": "perhaps"})


def test_token_is_not_printed() -> None:
    assert "s3cret" not in repr(Settings(update_token="s3cret"))


def test_example_header_parsing_and_lookup() -> None:
    e = parse_example("07-x", "# title: T\n# description: D\n# inferred: false\n\nSELECT * {}")
    assert (e.title, e.description, e.inferred) == ("T", "D", False)
    assert find("nonexistent-query-name") is None
