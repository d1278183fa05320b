"""`review-feed nightly` in an existing Pelican site: no tasks.py, no copy of this repository.

The site is what `pelican-quickstart` makes (pelicanconf.py, publishconf.py
importing it, content/), plus review-feed in PLUGINS (installed with pip, as
the README's existing-site path does) and its snapshot folder. Each night is
the installed command, run from the site's folder as a CI job runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from taskrun import REPO, base_env, git

WEBSITE = "acme-7f3a"
NIGHT = f"reviews_product_{WEBSITE}_2026-11-25.csv"
NIGHT_CSV = (
    "action\treview_id\tproduct_review_id\tproduct_ref\tproduct_name\treview_date\trate\t"
    "review\tfirstname\tlastname\n"
    "NEW\tR2001\tPR9001\tSKU-100\tSencha Kagoshima 100 g\t2026-11-24 10:00:00\t5\t"
    "Arrived with the night\tNina\tTestard\n"
)

PELICANCONF = """AUTHOR = "Thés & Co"
SITENAME = "Thés & Co"
SITEURL = ""
PATH = "content"
TIMEZONE = "Europe/Paris"
DEFAULT_LANG = "en"
THEME = "notmyidea"

PLUGINS = ["review_feed"]
REVIEW_FEED_SNAPSHOT = "data/reviews"
# REVIEW_FEED_SOURCE and the secrets come from the environment (CI secrets)
"""
# As pelican-quickstart writes it.
PUBLISHCONF = """import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *

SITEURL = "https://shop.example"
RELATIVE_URLS = False
DELETE_OUTPUT_DIRECTORY = True
"""
PAGE = "Title: Sencha Kagoshima\nSlug: sencha\nProduct_ref: SKU-100\n\nA green tea.\n"


def aged(path: Path, content: bytes) -> None:
    """A finished file, as the vendor leaves it (older than the minimum age)."""
    path.write_bytes(content)
    t = time.time() - 3600
    os.utime(path, (t, t))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "content" / "pages").mkdir(parents=True)
    (root / "pelicanconf.py").write_text(PELICANCONF, "utf-8")
    (root / "publishconf.py").write_text(PUBLISHCONF, "utf-8")
    (root / "content" / "pages" / "sencha.md").write_text(PAGE, "utf-8")
    (root / ".gitignore").write_text("output/\n__pycache__/\n.cache/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the shop's site")
    return root


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    """The vendor's drop folder, with the sample feed's nights already in it."""
    folder = tmp_path / "drop"
    folder.mkdir()
    for f in sorted((REPO / "sample-feed").iterdir()):
        aged(folder / f.name, f.read_bytes())
    return folder


def nightly(site: Path, drop: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "review_feed.cli", "nightly", *args],
        cwd=site,
        env=base_env(REVIEW_FEED_SOURCE=str(drop)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def commits(site: Path) -> list[str]:
    return git(site, "log", "--format=%H").split()


def test_three_nights_of_an_existing_site(site: Path, drop: Path) -> None:
    # The first night: the snapshot is created, the site built with publishconf.py, committed.
    done = nightly(site, drop)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(commits(site)) == 2
    changed = git(site, "show", "--format=", "--name-only", "HEAD").split()
    assert changed and all(p.startswith("data/reviews/") for p in changed), changed
    assert git(site, "status", "--porcelain") == ""
    assert "reviews: 8 files applied" in git(site, "log", "-1", "--format=%s")
    assert "committed" in done.stderr  # the night's log says what it did
    index = (site / "output" / "reviews" / "index.html").read_text("utf-8")
    assert 'href="https://shop.example/' in index  # built by publishconf.py, not pelicanconf.py

    # The second night: nothing new on the server, nothing committed.
    done = nightly(site, drop)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(commits(site)) == 2

    # The third night: one new file, one commit of the snapshot only.
    aged(drop / NIGHT, NIGHT_CSV.encode())
    done = nightly(site, drop)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(commits(site)) == 3
    assert git(site, "log", "-1", "--format=%s").strip() == (
        "reviews: 1 file applied, 1 added, 0 updated, 0 removed"
    )
    pages = (site / "output" / "reviews" / "products").rglob("index.html")
    assert any("Arrived with the night" in p.read_text("utf-8") for p in pages)


def test_a_failed_build_commits_nothing(site: Path, drop: Path) -> None:
    (site / "content" / "pages" / "broken.md").write_text(
        "Title: Broken\nTemplate: no-such-template\n\nThe theme has no such template.\n"
    )
    done = nightly(site, drop)
    assert done.returncode == 7, done.stdout + done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("[review-feed]") and "the snapshot was not committed" in last, last
    assert "Traceback" not in done.stderr
    assert len(commits(site)) == 1


def test_an_output_the_host_would_refuse_fails_the_night(site: Path, drop: Path) -> None:
    """REVIEW_FEED_HOST in the publish settings: the build checks its output against that
    host's limits, and a night over one commits nothing (so nothing gets deployed)."""
    with (site / "publishconf.py").open("a") as f:
        f.write('REVIEW_FEED_HOST = "cloudflare-pages"\n')
    (site / "content" / "images").mkdir()
    with (site / "content" / "images" / "tour.mp4").open("wb") as f:
        f.truncate(26 << 20)  # sparse: over Cloudflare Pages' 25 MiB per file
    git(site, "add", "publishconf.py")
    git(site, "commit", "-q", "-m", "published on Cloudflare Pages")
    done = nightly(site, drop)
    log = done.stdout + done.stderr
    assert done.returncode == 7, log
    # (Pelican's log wraps the line in columns: its words, not the line, are checked)
    assert "HostLimitError: output would be refused by" in log
    assert "images/tour.mp4 is 27.3 MB, over its per-file limit" in " ".join(log.split())
    assert "failed with exit 8" in done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in log
    assert len(commits(site)) == 2


def test_settings_flag_and_a_site_without_publishconf(site: Path, drop: Path) -> None:
    """--settings picks the file; without publishconf.py the night uses pelicanconf.py."""
    done = nightly(site, drop, "--settings", "no-such-conf.py")
    assert done.returncode == 2 and "no-such-conf.py" in done.stderr, done.stderr
    assert "nothing was built or committed" in done.stderr
    (site / "publishconf.py").unlink()
    git(site, "commit", "-q", "-am", "no publish settings")
    done = nightly(site, drop)
    assert done.returncode == 0, done.stdout + done.stderr
    index = (site / "output" / "reviews" / "index.html").read_text("utf-8")
    assert "https://shop.example/" not in index


def test_outside_git_it_says_so(tmp_path: Path, drop: Path) -> None:
    (tmp_path / "pelicanconf.py").write_text(PELICANCONF, "utf-8")
    done = nightly(tmp_path, drop)
    assert done.returncode == 7 and "not a git working tree" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
