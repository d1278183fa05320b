"""A snapshot arrives through pull requests: damaged records and symbolic links in it are
one line naming the file (and line), a nonzero exit or a failed build, and nothing is
written outside the snapshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import no_traceback, product_row, run, tree, write_csv
from review_feed.errors import StoreError

REPO = Path(__file__).resolve().parents[2]
NIGHT1 = "reviews_product_acme_2026-11-20.csv"
NIGHT2 = "reviews_product_acme_2026-11-21.csv"

DAMAGES = {
    "no rating": lambda line: line.replace('"rating":5,', ""),
    "no text": lambda line: line.replace(',"text":"Très bon thé."', ""),
    "rating abc": lambda line: line.replace('"rating":5', '"rating":"abc"'),
    "date 5": lambda line: line.replace('"date":"2026-11-20T10:00:00"', '"date":5'),
    "id 5001": lambda line: line.replace('"id":"P2"', '"id":5001'),
    "replies abc": lambda line: line.replace('"rating":5', '"rating":5,"replies":"abc"'),
    "rating true": lambda line: line.replace('"rating":5', '"rating":true'),
    "text null": lambda line: line.replace('"text":"Très bon thé."', '"text":null'),
    "product_ref 7": lambda line: line.replace('"product_ref":"', '"product_ref":7,"x":"'),
}


def synced(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "src"
    write_csv(src / NIGHT1, [product_row("NEW", f"P{i}") for i in range(1, 4)])
    snap = tmp_path / "snap"
    proc = run("sync", "--source", str(src), "--snapshot", str(snap), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return src, snap


def damage(snap: Path, how: str) -> tuple[Path, int]:
    """Damage the record of P2 in its review file; returns the file and the line."""
    [path] = snap.glob("product/acme/reviews/*.json")
    lines = path.read_text("utf-8").split("\n")
    n = next(i for i, line in enumerate(lines) if '"id":"P2"' in line)
    changed = DAMAGES[how](lines[n])
    assert changed != lines[n]
    lines[n] = changed
    path.write_text("\n".join(lines), "utf-8")
    return path, n + 1


def one_line_naming(text: str, path: Path, line: int) -> None:
    hits = [x for x in text.splitlines() if str(path) in x]
    assert len(hits) == 1, text
    assert f"line {line}" in hits[0], hits[0]


@pytest.mark.parametrize("how", sorted(DAMAGES))
def test_a_damaged_record_in_export_and_sync(tmp_path, how):
    src, snap = synced(tmp_path)
    path, line = damage(snap, how)
    before = tree(snap)

    proc = run("export", "--snapshot", str(snap), cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == StoreError.exit_code
    one_line_naming(proc.stderr, path, line)

    # a night that touches the damaged file's month reads it, and stops there
    write_csv(src / NIGHT2, [product_row("UPDATE", "P3", rate="4")])
    proc = run("sync", "--source", str(src), "--snapshot", str(snap), cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == StoreError.exit_code
    one_line_naming(proc.stdout + proc.stderr, path, line)
    assert tree(snap) == before


def test_a_damaged_record_fails_the_pelican_build(tmp_path):
    _src, snap = synced(tmp_path)
    path, line = damage(snap, "rating abc")
    (tmp_path / "content").mkdir()
    (tmp_path / "conf.py").write_text(
        f"PLUGIN_PATHS = [{str(REPO / 'plugins')!r}]\nPLUGINS = ['review_feed']\n"
        f"REVIEW_FEED_SNAPSHOT = {str(snap)!r}\n",
        "utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    env["COLUMNS"] = "400"  # Pelican's console would wrap the line we look for
    proc = subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-s", "conf.py", "-o", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    no_traceback(proc)
    one_line_naming(proc.stdout + proc.stderr, path, line)


def test_a_collection_folder_that_is_a_symlink_is_never_written_through(tmp_path):
    src, snap = synced(tmp_path)
    outside = tmp_path / "outside"
    shutil.move(snap / "product" / "acme", outside)
    (snap / "product" / "acme").symlink_to(outside, target_is_directory=True)
    before, before_snap = tree(outside), tree(snap)

    write_csv(src / NIGHT2, [product_row("NEW", "P9", date="2026-10-01 10:00:00")])
    proc = run("sync", "--source", str(src), "--snapshot", str(snap), cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == StoreError.exit_code
    hits = [x for x in (proc.stdout + proc.stderr).splitlines() if "symbolic link" in x]
    assert len(hits) == 1 and str(snap / "product" / "acme") in hits[0], proc.stderr
    assert tree(outside) == before
    assert tree(snap) == before_snap
