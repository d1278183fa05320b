"""Real headless Chromium (Debian's) against a real Pelican build served on 127.0.0.1.

One demo build per session: the committed snapshot (or, while it is empty, a
small generated one) plus hostile reviews, built with the repository's
`pelicanconf.py` into a temporary folder and served by `http.server` in a
thread. The "shop" is a second server on another port (another origin) that
serves plain HTML pages embedding the widget.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_harness import Served, hostile_reviews, serve, shop_html

try:
    from tests.conftest import REPO
except ModuleNotFoundError:  # bare `pytest` (not `python -m pytest`): repo root not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.conftest import REPO

# --- the demo build ------------------------------------------------------------


@dataclass
class Site:
    output: Path
    snapshot: Path
    refs: list[str]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """`pelican content -s pelicanconf.py` over the demo snapshot + hostile reviews."""
    from review_feed.site.data import build_data
    from review_feed.store import read_reviews, read_stored, write_reviews

    base = tmp_path_factory.mktemp("browser-site")
    reviews = list(read_reviews(REPO / "data" / "reviews"))
    assert reviews, "the committed demo snapshot (data/reviews) is empty"
    reviews += hostile_reviews()
    snapshot = base / "snapshot"
    write_reviews(snapshot, reviews)
    output = base / "output"
    env = {**os.environ, "REVIEW_FEED_SNAPSHOT": str(snapshot), "REVIEW_FEED_SYNC": "false"}
    env["REVIEW_FEED_CACHE"] = str(base / "cache")  # not the repository's
    cmd = [sys.executable, "-m", "pelican", str(REPO / "content"), "-o", str(output)]
    cmd += ["-s", str(REPO / "pelicanconf.py"), "-q"]
    run = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, f"pelican build failed:\n{run.stdout}\n{run.stderr}"
    return Site(output, snapshot, list(build_data(read_stored(snapshot)).products))


@pytest.fixture(scope="session")
def site_server(site: Site) -> Iterator[Served]:
    served = serve(site.output)
    yield served
    served.close()


@dataclass
class Shop:
    """Plain HTML pages on the shop's origin; `page()` writes one and returns its URL."""

    root: Path
    server: Served
    site_url: str

    def page(self, name: str, title: str, body: str, script: str = "") -> str:
        (self.root / name).write_text(shop_html(title, body, script), encoding="utf-8")
        return self.server.url + name


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory, site_server: Served) -> Iterator[Shop]:
    """Another origin (another port) with no CORS headers of its own."""
    root = tmp_path_factory.mktemp("shop")
    served = serve(root, cors_prefix="/\0never")
    assert served.url != site_server.url
    yield Shop(root, served, site_server.url)
    served.close()
