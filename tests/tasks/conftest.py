"""Fixtures of the task tests: a temporary copy of the site, as files or as a git repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from taskrun import copy_site, init_repo


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the site repository's files (no git repository)."""
    return copy_site(tmp_path / "site")


@pytest.fixture
def git_site(site: Path) -> Path:
    """The copy as a git repository with one commit."""
    init_repo(site)
    return site
