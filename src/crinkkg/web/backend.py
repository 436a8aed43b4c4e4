"""The current app's backend, for routes and services (Flask's ``get_db`` pattern)."""

from __future__ import annotations

from flask import current_app

from crinkkg.backends.contract import Backend

EXTENSION = "crinkkg.backend"


def get_backend() -> Backend:
    """The backend of the app handling this request."""
    return current_app.extensions[EXTENSION]
