"""The one object a request's code reaches everything through: the app's context.

Flask's ``current_app`` gives the app handling a request; the app is a :class:`CrinkApp`,
whose :attr:`~CrinkApp.context` holds the settings, the backend and the per-app services
(metrics, validators, the request guard, the per-version memo), typed, made once by
:func:`crinkkg.web.create_app`. Nothing is looked up by a string key, and nothing lives in
a module global.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask, current_app

from crinkkg.backends.contract import Backend
from crinkkg.build_status import BuildStatus
from crinkkg.settings import Settings
from crinkkg.web.versioned import VersionMemo

if TYPE_CHECKING:
    from crinkkg.web.http.caching import Validators
    from crinkkg.web.http.guard import RequestGuard
    from crinkkg.web.http.metrics import Metrics


@dataclass(frozen=True)
class WebContext:
    """What the web layer shares across requests, per app."""

    settings: Settings
    backend: Backend
    metrics: Metrics
    validators: Validators
    guard: RequestGuard
    #: whether the last build failed and the store is an earlier one (``/health`` and every
    #: page say so)
    build_status: BuildStatus = field(default_factory=lambda: BuildStatus.fixed(None))
    #: what pages read that depends only on the store version, kept per version
    memo: VersionMemo = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.memo is None:  # one per app, following the backend's version
            object.__setattr__(self, "memo", VersionMemo(self.backend.version))


class CrinkApp(Flask):
    """A Flask app that carries its :class:`WebContext`."""

    context: WebContext


def context() -> WebContext:
    """The context of the app handling this request."""
    return current_app.context  # type: ignore[attr-defined]


def get_backend() -> Backend:
    """The backend of the app handling this request (Flask's ``get_db`` pattern)."""
    return current_app.context.backend  # type: ignore[attr-defined]


def memo() -> VersionMemo:
    """The per-version memo of the app handling this request."""
    return current_app.context.memo  # type: ignore[attr-defined]


def settings() -> Settings:
    """The settings of the app handling this request."""
    return current_app.context.settings  # type: ignore[attr-defined]
