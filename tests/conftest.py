"""Fixtures shared by the whole suite: a fresh isdas home, paths to optional reference data."""

from __future__ import annotations

from pathlib import Path

import pytest

from isdas.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an empty isdas home in a temporary directory."""
    return Settings(home=tmp_path / "home")


@pytest.fixture
def shared_dir() -> Path:
    """../shared (reference data); skips the test when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED
