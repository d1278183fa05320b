"""review_feed.nightly without the invoke layer: what is committed, and when nothing is."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from review_feed.nightly import NightlyError, commit_message, run_nightly
from review_feed.settings import load_settings
from review_feed.sync import run_sync
from taskrun import GIT_ENV, REPO, git

NIGHT = "reviews_site_acme-7f3a_2026-11-25.csv"
NIGHT_CSV = (
    "action\treview_id\treview_date\trate\treview\tfirstname\tlastname\n"
    "NEW\tR7001\t2026-11-24 10:00:00\t5\tA fine night\tAda\tLovelace\n"
    "NEW\tR7002\t2026-11-24 11:00:00\t4\tAnother one\tAlan\tTuring\n"
)


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A site repository: the sample snapshot and a content page, committed."""
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    (root / "content" / "page.md").write_text("Title: A page\n\nHello.\n")
    settings = load_settings(
        {}, {}, {"source": str(REPO / "sample-feed"), "snapshot": "data/reviews"}
    )
    run_sync(settings, base=root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "site")
    return root


def night_source(tmp_path: Path) -> Path:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / NIGHT).write_text(NIGHT_CSV)
    old = time.time() - 3600
    os.utime(drop / NIGHT, (old, old))
    return drop


def settings_for(drop: Path):
    return load_settings({}, {}, {"source": str(drop), "snapshot": "data/reviews"})


def test_commits_only_the_snapshot_whatever_else_is_staged(repo: Path, tmp_path: Path) -> None:
    before = git(repo, "rev-parse", "HEAD").strip()
    (repo / "content" / "page.md").write_text("Title: A page\n\nWork in progress.\n")
    git(repo, "add", "content/page.md")  # someone's staged change
    (repo / "notes.txt").write_text("untracked\n")
    built = []

    result = run_nightly(settings_for(night_source(tmp_path)), repo, build=lambda: built.append(1))

    assert built == [1]
    assert result.commit == git(repo, "rev-parse", "HEAD").strip() != before
    files = git(repo, "show", "--format=", "--name-only", "HEAD").split()
    assert files and all(f.startswith("data/reviews/") for f in files)
    assert git(repo, "diff", "--cached", "--name-only").split() == ["content/page.md"]
    assert "?? notes.txt" in git(repo, "status", "--porcelain")
    assert result.message.splitlines()[0] == (
        "reviews: 1 file applied, 2 added, 0 updated, 0 removed"
    )
    assert f"- {NIGHT}: 2 NEW, 0 UPDATE, 0 DELETE" in result.message
    assert "Lovelace" not in result.message and "A fine night" not in result.message

    again = run_nightly(settings_for(tmp_path / "drop"), repo, build=lambda: None)
    assert again.commit is None and git(repo, "rev-parse", "HEAD").strip() == result.commit


def test_a_failed_build_commits_nothing(repo: Path, tmp_path: Path) -> None:
    before = git(repo, "rev-parse", "HEAD").strip()

    def broken_build() -> None:
        raise NightlyError("[review-feed] nightly: the publish build failed")

    with pytest.raises(NightlyError, match="publish build failed"):
        run_nightly(settings_for(night_source(tmp_path)), repo, build=broken_build)
    assert git(repo, "rev-parse", "HEAD").strip() == before


def test_a_failed_sync_neither_builds_nor_commits(repo: Path, tmp_path: Path) -> None:
    drop = night_source(tmp_path)
    (drop / "reviews_product_acme-7f3a_2026-11-25.xml").write_text("<reviews><review>")
    before = git(repo, "rev-parse", "HEAD").strip()
    built = []
    with pytest.raises(NightlyError) as err:
        run_nightly(settings_for(drop), repo, build=lambda: built.append(1))
    assert err.value.exit_code == 3  # the sync's own code: a broken feed file
    assert "nothing was built or committed" in str(err.value)
    assert built == [] and git(repo, "rev-parse", "HEAD").strip() == before


def test_snapshot_outside_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    settings = load_settings(
        {}, {}, {"source": str(night_source(tmp_path)), "snapshot": str(tmp_path / "elsewhere")}
    )
    with pytest.raises(NightlyError, match="outside the site repository"):
        run_nightly(settings, repo, build=lambda: None)


def test_message_names_a_full_resync_and_rejected_rows() -> None:
    from review_feed.model import FileCounts
    from review_feed.store import Changes
    from review_feed.sync import AppliedFile, SyncReport

    report = SyncReport(snapshot=Path("data/reviews"))
    report.applied.append(
        AppliedFile(
            "reviews_product_x_2026-11-25.csv", "product", "x", FileCounts(3, 0, 0, 1), full=True
        )
    )
    report.changes[("product", "x")] = Changes(added=1, updated=2, removed=5)
    report.problems.append("reviews_product_x_2026-11-25.csv, line 4, field rate: expected 1 to 5")
    msg = commit_message(report)
    assert msg.splitlines()[0] == "reviews: 1 file applied, 1 added, 2 updated, 5 removed"
    assert "(full resync): 3 NEW, 0 UPDATE, 0 DELETE, 1 rejected" in msg
    assert "1 row rejected (never applied)" in msg
    assert "line 4" not in msg  # counted, never quoted: feed text stays out of git history


def test_the_build_gets_no_secret_and_no_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from review_feed.nightly import pelican_build

    (tmp_path / "content").mkdir()
    # A settings file is Python: this one records what the build's environment holds.
    (tmp_path / "spyconf.py").write_text(
        "import json, os\n"
        "open('env.json', 'w').write(json.dumps(\n"
        "    {k: v for k, v in os.environ.items() if k.startswith('REVIEW_FEED_')}))\n"
        "PATH = 'content'\nOUTPUT_PATH = 'out'\n"
    )
    monkeypatch.delenv("REVIEW_FEED_CACHE")  # (the tests' own): only what is set here
    monkeypatch.setenv("REVIEW_FEED_PASSWORD", "hunter2")
    monkeypatch.setenv("REVIEW_FEED_PRIVATE_KEY", "-----BEGIN OPENSSH PRIVATE KEY-----")
    monkeypatch.setenv("REVIEW_FEED_SOURCE", "sftp://u@h/drop")
    monkeypatch.setenv("REVIEW_FEED_SYNC", "true")
    pelican_build(tmp_path, "spyconf.py")

    seen = json.loads((tmp_path / "env.json").read_text())
    assert seen == {"REVIEW_FEED_SOURCE": "sftp://u@h/drop", "REVIEW_FEED_SYNC": "false"}


def test_a_failing_build_is_one_line(tmp_path: Path) -> None:
    from review_feed.nightly import pelican_build

    (tmp_path / "badconf.py").write_text("raise SystemExit(3)\n")
    with pytest.raises(NightlyError, match=r"the publish build .* failed with exit"):
        pelican_build(tmp_path, "badconf.py")
