"""Real Pelican builds of a tiny site into a temporary folder, read back from disk."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from review_feed.model import Review
from review_feed.store import write_reviews
from sitebuild import QUIET_BUILD, REPO, BuildSite, Built


@pytest.fixture
def build_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BuildSite:
    """`build_site(reviews, pages={"name.md": text}, **settings)` -> Built (a real Pelican run)."""
    from pelican import Pelican
    from pelican.settings import read_settings

    for name in list(os.environ):
        if name.startswith("REVIEW_FEED_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    counter = iter(range(1000))

    def build(
        reviews: Iterable[Review], pages: dict[str, str] | None = None, **settings: Any
    ) -> Built:
        root = tmp_path / f"site{next(counter)}"
        (root / "content" / "pages").mkdir(parents=True)
        for name, text in (pages or {}).items():  # "x.md" is a page, "articles/x.md" an article
            path = root / "content" / (name if "/" in name else f"pages/{name}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
        write_reviews(root / "snapshot", list(reviews))
        override = {
            "PATH": str(root / "content"),
            "OUTPUT_PATH": str(root / "output"),
            "PAGE_PATHS": ["pages"],
            "ARTICLE_PATHS": ["articles"],
            "PAGE_URL": "teas/{slug}/",
            "PAGE_SAVE_AS": "teas/{slug}/index.html",
            "THEME": str(REPO / "themes" / "lumiere"),
            "PLUGIN_PATHS": [str(REPO / "plugins")],
            "PLUGINS": ["review_feed"],
            "SITENAME": "Test Tea Shop",
            "SITEURL": "",
            "RELATIVE_URLS": True,
            "TIMEZONE": "UTC",
            "DIRECT_TEMPLATES": [],
            **QUIET_BUILD,
            "REVIEW_FEED_SNAPSHOT": str(root / "snapshot"),
        }
        override.update(settings)
        Pelican(read_settings(None, override=override)).run()
        return Built(root / "output")

    return build
