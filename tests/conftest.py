"""Fixtures every test folder shares."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, why: str) -> None:
    """Skip locally when a real server/browser is missing; in CI that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {why}: .ci/run must install it", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sample_feed() -> Path:
    return REPO / "sample-feed"
