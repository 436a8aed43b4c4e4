"""Shared fixtures: a store built once per session from the real ontology and data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crinkkg.build.pipeline import build
from crinkkg.settings import Settings
from crinkkg.store.oxigraph import OxigraphStore

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() == "true"
pytest_plugins = ["remote_stores"]  # Virtuoso and Oxigraph server fixtures


def require(condition: bool, reason: str) -> None:
    """Skip locally when a system dependency is missing; under CI that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: .ci/run must install it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def project_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    store = tmp_path_factory.mktemp("store") / "store"
    return Settings(ontology_dir=ROOT / "ontology", data_dir=ROOT / "data", store=store)


@pytest.fixture(scope="session")
def built_store(project_settings: Settings) -> OxigraphStore:
    """The curated graph, built and reasoned; ``.query(sparql, view=...)``."""
    build(project_settings, root=ROOT)
    return OxigraphStore.open(project_settings.store)
