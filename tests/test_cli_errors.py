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
