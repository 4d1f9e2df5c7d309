"""Shared fixtures. The real seed documents live outside the repo in ../shared; tests that
need them skip with a reason when it is absent, and fail when CI=true (CI must see them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CM_SHARED_DIR", REPO.parent / "shared"))
SEEDS_DIR = SHARED / "seeds"
GOLD_FILE = SHARED / "gold" / "seeds.jsonl"


def _require_shared() -> None:
    if SEEDS_DIR.is_dir() and GOLD_FILE.is_file():
        return
    msg = f"seed documents not found at {SEEDS_DIR} (the ../shared folder beside the repo)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {msg}")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    _require_shared()
    return SEEDS_DIR


@pytest.fixture(scope="session")
def gold_file() -> Path:
    _require_shared()
    return GOLD_FILE


@pytest.fixture(scope="session")
def seed_paths(seeds_dir: Path) -> list[Path]:
    paths = sorted(seeds_dir.glob("*.txt"))
    assert len(paths) == 5, f"expected 5 seed documents in {seeds_dir}, found {len(paths)}"
    return paths


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory):
    """One temporary Prefect server for every test that needs one (it costs ~9 s to start)."""
    import importlib

    # sets Prefect's offline defaults before prefect is imported
    importlib.import_module("commune_metrics.flows")
    from prefect.settings import PREFECT_RESULTS_LOCAL_STORAGE_PATH, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    storage = tmp_path_factory.mktemp("prefect-results")
    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings({PREFECT_RESULTS_LOCAL_STORAGE_PATH: storage}),
    ):
        yield
