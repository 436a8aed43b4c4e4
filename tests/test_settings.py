"""Configuration: defaults < environment < flags, with errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from crinkkg.errors import CrinkError
from crinkkg.examples import find, parse_example
from crinkkg.settings import SETTING, Settings, check_serving


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


def test_the_reasoner_is_checked_whenever_the_settings_are_read() -> None:
    with pytest.raises(ValueError,
                       match="CRINKKG_REASONER 'hermit' is unknown: use rules or owlrl"):
        Settings.from_env({"CRINKKG_REASONER": "hermit"})
    with pytest.raises(ValueError, match="--reasoner 'hermit' is unknown"):
        Settings.from_env({}, reasoner="hermit")


def test_the_server_checks_wait_for_a_server() -> None:
    """A value only a server minds does not stop a build or a query (as before)."""
    s = Settings.from_env({"CRINKKG_FRONT": "nginx", "CRINKKG_ENABLE_UPDATE": "1",
                           "CRINKKG_HTTP_PROCESSES": "0"})
    assert (s.front, s.enable_update, s.http_processes) == ("nginx", True, 0)


@pytest.mark.parametrize(("changes", "message", "hint"), [
    ({"enable_update": True}, "updates are enabled but no token is set",
     "export CRINKKG_UPDATE_TOKEN="),
    ({"enable_update": True, "update_token": "short"}, "the update token is too short",
     "secrets.token_urlsafe"),
    ({"worker_memory_mb": 100}, "--worker-memory-mb 100 is too small", "at least 256"),
    ({"max_nesting": 0}, "--max-nesting must be at least 1", "e.g. --max-nesting 64"),
    ({"front": "nginx"}, "--front 'nginx' is unknown", "use granian or waitress"),
    ({"http_processes": 0}, "--http-processes must be at least 1", "e.g. --http-processes 2"),
    ({"timeout": 0.0}, "--timeout must be positive", "e.g. --timeout 30"),
    ({"public_url": "ftp://x/"}, "--public-url 'ftp://x/' is not usable: not http",
     "e.g. --public-url https://kg.example.org/"),
])
def test_settings_that_would_break_a_server_are_refused_saying_what_to_do(
        changes: dict, message: str, hint: str) -> None:
    def url_problem(url: str) -> str | None:
        return None if url.startswith("http") else "not http"

    check_serving(Settings(update_token="long-enough-token"), url_problem=url_problem)
    with pytest.raises(CrinkError) as refused:
        check_serving(Settings().with_(**changes), url_problem=url_problem)
    assert refused.value.message.startswith(message) and hint in (refused.value.hint or "")


def test_help_and_reference_show_the_declared_defaults() -> None:
    assert SETTING["threads"].default_text == "0 (granian 2, waitress 8)"
    assert SETTING["pin_cpu"].default_text == "on" and SETTING["store"].default_text \
        == ".crinkkg/store"
    assert SETTING["update_token"].env == "CRINKKG_UPDATE_TOKEN"
