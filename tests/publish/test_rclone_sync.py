"""The object-storage upload, for real: `rclone sync --checksum` to `rclone serve s3`.

A night's upload must send only the files whose bytes changed and delete the
files the build removed. A rebuild rewrites unchanged files with the same bytes
(and a new modification time): `--checksum` is what keeps them from being sent
again. The counts are read from rclone's own JSON log (its final stats and one
line per file copied or deleted), never inferred from the bucket.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import SECRET_KEY, S3Endpoint, pelican_build

REPO = Path(__file__).resolve().parents[2]
WEBSITE = "acme-7f3a"
NIGHT_CSV = (
    "action\treview_id\tproduct_review_id\tproduct_ref\tproduct_name\treview_date\t"
    "order_date\trate\treview\tfirstname\tlastname\temail\torder_ref\tmoderation\n"
    "NEW\tR3001\tPR9001\tSKU-100\tSencha Kagoshima 100 g\t2026-11-30 09:00:00\t"
    "2026-11-25 17:00:00\t5\tArrived with the night.\tNina\tTestard\tn.t@example.fr\tCMD-1\t\n"
)


@dataclass(frozen=True)
class Upload:
    transfers: int
    deletes: int
    checks: int
    copied: frozenset[str]
    deleted: frozenset[str]
    touched: frozenset[str]  # not sent, but a request each to update the stored time
    log: str


def upload(s3: S3Endpoint, folder: Path, bucket: str) -> Upload:
    """The workflow's command: `rclone sync --checksum FOLDER REMOTE:BUCKET`."""
    done = subprocess.run(
        [
            s3.exe,
            "sync",
            "--checksum",
            "--use-json-log",
            "--log-level",
            "INFO",  # one line per file copied or deleted
            "--stats-log-level",  # the final stats (and any periodic ones) as a JSON record
            "NOTICE",
            str(folder),
            f"BUCKET:{bucket}",
        ],
        env=s3.env("BUCKET"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert SECRET_KEY not in log
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    stats = [r["stats"] for r in records if "stats" in r][-1]  # the last: the whole run
    copied = {r["object"] for r in records if r.get("msg", "").startswith("Copied")}
    deleted = {r["object"] for r in records if r.get("msg", "") == "Deleted"}
    touched = {r["object"] for r in records if "modification time" in r.get("msg", "")}
    return Upload(
        transfers=stats["transfers"],
        deletes=stats["deletes"],
        checks=stats["checks"],
        copied=frozenset(copied),
        deleted=frozenset(deleted),
        touched=frozenset(touched),
        log=log,
    )


def hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_bucket_equals(bucket: Path, folder: Path) -> None:
    assert hashes(bucket) == hashes(folder)


# --- the site: a real Pelican build of this repository's demo shop ---------------------


def build(site: Path, snapshot: Path, output: Path) -> None:
    """The nightly's publish build into `output`, as the workflow runs it (the folder is
    kept between nights; the settings decide whether it is rebuilt whole)."""
    done = pelican_build(site, "publishconf.py", str(output), REVIEW_FEED_SNAPSHOT=str(snapshot))
    assert done.returncode == 0, done.stdout + done.stderr


def apply_night(snapshot: Path, feed: Path) -> None:
    feed.mkdir()
    night = feed / f"reviews_product_{WEBSITE}_2026-12-01.csv"
    night.write_text(NIGHT_CSV, "utf-8")
    old = time.time() - 3600
    os.utime(night, (old, old))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    cmd = [sys.executable, "-m", "review_feed.cli", "sync", "--source", str(feed)]
    done = subprocess.run(
        [*cmd, "--snapshot", str(snapshot)],
        cwd=feed.parent,  # its download cache there, not in the repository
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the demo site (content, theme, settings), its snapshot apart."""
    site = tmp_path / "site"
    site.mkdir()
    for name in ("content", "themes"):
        shutil.copytree(REPO / name, site / name)
    for name in ("pelicanconf.py", "publishconf.py"):
        shutil.copy(REPO / name, site / name)
    (site / "plugins").symlink_to(REPO / "plugins")
    shutil.copytree(REPO / "data" / "reviews", tmp_path / "snapshot")
    return site


# --- the tests --------------------------------------------------------------------------


def test_second_night_uploads_only_changed_files_and_deletes_removed_ones(
    s3: S3Endpoint, site: Path, tmp_path: Path
) -> None:
    output = tmp_path / "output"
    build(site, tmp_path / "snapshot", output)
    bucket = s3.bucket("night-edits")
    first = upload(s3, output, "night-edits")
    files = sorted(hashes(output))
    assert first.transfers == len(files) == len(first.copied) and first.deletes == 0
    assert_bucket_equals(bucket, output)

    # A night, by hand: what a build does to the files it rewrites, adds and removes.
    later = time.time() + 60
    changed, same, removed = files[:3], files[3:7], files[7:9]
    for name in changed:
        path = output / name
        path.write_bytes(path.read_bytes() + b"\n<!-- a new review -->\n")
    for name in same:  # rewritten with identical bytes and a new modification time
        path = output / name
        data = path.read_bytes()
        path.unlink()
        path.write_bytes(data)
        os.utime(path, (later, later))
    added = ["reviews/products/new-tea/index.html", "widgets/new-tea.json"]
    for name in added:
        (output / name).parent.mkdir(parents=True, exist_ok=True)
        (output / name).write_text(f"<p>{name}</p>\n")
    for name in removed:
        (output / name).unlink()

    second = upload(s3, output, "night-edits")
    assert second.copied == {*changed, *added}, second.log
    assert second.deleted == set(removed), second.log
    assert (second.transfers, second.deletes) == (5, 2)
    # Without --checksum, rclone compares modification times: every file rewritten with the
    # same bytes costs a request (a metadata update) on every night.
    assert second.touched == frozenset(), second.log
    assert_bucket_equals(bucket, output)

    third = upload(s3, output, "night-edits")  # nothing changed: nothing sent
    assert (third.transfers, third.deletes, third.copied) == (0, 0, frozenset())


def test_a_real_rebuild_uploads_what_the_night_changed(
    s3: S3Endpoint, site: Path, tmp_path: Path
) -> None:
    """The nightly: build, upload; apply a feed file, build into the same folder, upload."""
    output, snapshot = tmp_path / "output", tmp_path / "snapshot"
    build(site, snapshot, output)
    bucket = s3.bucket("rebuild")
    before = hashes(output)
    first = upload(s3, output, "rebuild")
    assert first.transfers == len(before)

    apply_night(snapshot, tmp_path / "feed")
    build(site, snapshot, output)
    after = hashes(output)
    rewritten = {name for name, md5 in after.items() if before.get(name) != md5}
    gone = set(before) - set(after)
    second = upload(s3, output, "rebuild")
    assert second.copied == rewritten and second.transfers == len(rewritten), second.log
    assert second.deleted == gone and second.deletes == len(gone), second.log
    assert second.touched == frozenset(), second.log
    assert_bucket_equals(bucket, output)
    # The night changed one product: its pages and widget files, and the lists showing it,
    # were uploaded; the rest of the site was rebuilt with the same bytes and was not.
    assert any("sku-100" in name.lower() or "sencha" in name for name in rewritten), rewritten
    assert 0 < len(rewritten) < len(after) // 2, sorted(rewritten)
