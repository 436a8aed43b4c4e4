"""The ``crinkkg`` command."""

from crinkkg.cli.main import main

__all__ = ["main"]
