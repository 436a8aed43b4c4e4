"""The CLI turns every user mistake into a message and an exit code, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

from test_build import make_project, run_cli


def test_impossible_output_format_is_a_usage_error(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = run_cli(tmp_path, "query", "SELECT * WHERE { ?s ?p ?o }", "--format", "turtle")
    assert result.returncode == 2 and "cannot be written as turtle" in result.stderr
    assert "Traceback" not in result.stderr


def test_busy_port_is_reported_clearly(tmp_path: Path) -> None:
    make_project(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(tmp_path, "serve", "--port", str(port))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_setting_that_would_break_the_server_is_refused_with_what_to_do(
        tmp_path: Path) -> None:
    make_project(tmp_path)
    result = run_cli(tmp_path, "serve", "--no-build", "--max-nesting", "0")
    assert result.returncode == 1
    assert "--max-nesting must be at least 1" in result.stderr
    assert "hint: e.g. --max-nesting 64" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_flag_of_the_wrong_type_is_a_usage_error(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = run_cli(tmp_path, "serve", "--port", "eighty")
    assert result.returncode == 2 and "--port" in result.stderr
    assert "Traceback" not in result.stderr
