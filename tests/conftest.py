"""Fixtures every test folder shares."""

from __future__ import annotations

import os
import sys
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


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own REVIEW_FEED_CACHE (a build keeps its read of the snapshot
    there): nothing carried from one test to the next, nothing written in the repo."""
    monkeypatch.setenv("REVIEW_FEED_CACHE", str(tmp_path / "review-feed-cache"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sample_feed() -> Path:
    return REPO / "sample-feed"


# One Chromium for the whole session: Playwright's sync API cannot run two at once, and
# both tests/browser and tests/themes use it.
sys.path.insert(0, str(REPO / "tests" / "browser"))
from browser_fixtures import axe_js, browser, open_page  # noqa: E402, F401  (fixtures)
