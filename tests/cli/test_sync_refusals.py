"""Hostile input on the source side, through the real `review-feed` command: each one a
one-line refusal naming the file or setting, the right exit code, the valid rest applied,
nothing written outside the snapshot and the cache, and no secret echoed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clitools import no_traceback, product_row, run, tree, write_csv

PRODUCT = "reviews_product_shop1_{}.csv"
SECRET = "pw-Zq8!sEcReT-91"


def _sync(tmp_path: Path, *extra: str, source: str = "src"):
    env = {"REVIEW_FEED_CACHE": str(tmp_path / "cache")}
    return run("sync", "--source", source, "--snapshot", "snap", *extra, cwd=tmp_path, env=env)


def _ids(snapshot: Path) -> list[str]:
    return sorted(
        rec["id"] for p in snapshot.rglob("reviews/**/*.json") for rec in json.loads(p.read_bytes())
    )


def _outside(tmp_path: Path) -> dict[str, tuple[int, int]]:
    """Every file outside the snapshot and the cache, with its size and mtime."""
    out = {}
    for p in sorted(tmp_path.rglob("*")):
        rel = p.relative_to(tmp_path).as_posix()
        if rel.split("/")[0] in ("snap", "cache") or p.is_symlink() or not p.is_file():
            continue
        st = p.stat()
        out[rel] = (st.st_size, st.st_mtime_ns)
    return out


def _errors(proc) -> list[str]:
    return [x for x in proc.stderr.splitlines() if "error" in x or "refused" in x]


def test_a_bad_feed_name_is_refused_by_name_and_the_others_are_applied(tmp_path):
    src = tmp_path / "src"
    write_csv(src / PRODUCT.format("2026-11-20"), [product_row("NEW", "P1")])
    bad = write_csv(src / "reviews_site_.git_2026-01-01.csv", [product_row("NEW", "G1")])
    write_csv(src / "reviews_product_shop2_2026-11-21.csv", [product_row("NEW", "Q1")])
    before = _outside(tmp_path)
    for run_no in (1, 2):  # refused again on every run, never blocking the others
        proc = _sync(tmp_path)
        no_traceback(proc)
        assert proc.returncode == 3, proc.stderr
        [line] = [x for x in proc.stderr.splitlines() if bad.name in x]
        assert "refused" in line and "not a usable feed file name" in line
        assert _ids(tmp_path / "snap") == ["P1", "Q1"], run_no
    assert not list((tmp_path / "snap").rglob(".git*"))
    assert _outside(tmp_path) == before
    proc = run("status", "--source", "src", "--snapshot", "snap", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 3 and "0 pending" in proc.stdout
    assert [x for x in proc.stderr.splitlines() if bad.name in x], proc.stderr


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_local_feed_file_that_is_not_a_regular_file_is_refused_unread(tmp_path, kind):
    src = tmp_path / "src"
    write_csv(src / PRODUCT.format("2026-11-20"), [product_row("NEW", "P1")])
    secret = tmp_path / "private.txt"
    secret.write_text(f"root:{SECRET}:19000:0:99999:7:::\n")
    odd = src / "reviews_site_shop1_2026-11-20.csv"
    if kind == "symlink":
        odd.symlink_to(secret)
    else:
        os.mkfifo(odd)  # reading it would block the sync forever
    later = write_csv(src / "reviews_site_shop1_2026-11-21.csv", [product_row("NEW", "S2")])
    before = _outside(tmp_path)
    proc = _sync(tmp_path)
    no_traceback(proc)
    assert proc.returncode == 3, proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if odd.name in x and "waits" not in x]
    assert "not a regular file" in line
    # the later file of its collection waits for it (files apply in date order)
    [line] = [x for x in proc.stderr.splitlines() if later.name in x]
    assert f"skipped {later.name}: waits for {odd.name}" in line
    assert "root:" not in proc.stderr + proc.stdout and SECRET not in proc.stderr + proc.stdout
    assert _ids(tmp_path / "snap") == ["P1"]
    assert _outside(tmp_path) == before


def test_a_symlink_at_the_cache_temp_file_is_not_written_through(tmp_path):
    src = tmp_path / "src"
    write_csv(src / PRODUCT.format("2026-11-20"), [product_row("NEW", "P1")])
    victim = tmp_path / "victim.txt"
    victim.write_text("must stay as it is\n")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache/checked-files.json.tmp").symlink_to(victim)
    proc = _sync(tmp_path)
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "must stay as it is\n"
    cache = tmp_path / "cache/checked-files.json"
    assert not cache.is_symlink() and PRODUCT.format("2026-11-20") in cache.read_text()
    # a symlink planted at the cache itself is replaced, not followed
    cache.unlink()
    cache.symlink_to(victim)
    write_csv(src / PRODUCT.format("2026-11-21"), [product_row("NEW", "P2")])
    assert _sync(tmp_path).returncode == 0
    assert victim.read_text() == "must stay as it is\n" and not cache.is_symlink()


@pytest.mark.parametrize(
    "source",
    [
        f"sftp//vendor:{SECRET}@shop.example.com/drop",  # "://" mistyped
        f"sftp:/vendor:{SECRET}@shop.example.com/drop",
        f"ftp://vendor%3A{SECRET}@shop.example.com/drop",  # a percent-encoded password
        f"ftp://vendor:{SECRET}@shop.example.com/drop",
        "sftp://vendor@[::1/drop",  # a malformed URL (unclosed IPv6 bracket)
    ],
)
def test_a_bad_source_url_is_a_config_error_that_never_echoes_it(tmp_path, source):
    (tmp_path / "src").mkdir()
    proc = _sync(tmp_path, source=source)
    no_traceback(proc)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "REVIEW_FEED_SOURCE" in proc.stderr
    out = proc.stdout + proc.stderr
    assert SECRET not in out and SECRET.replace("!", "%21") not in out
    assert "vendor" not in out and "shop.example.com" not in out
    assert not (tmp_path / "snap").exists() and tree(tmp_path / "src") == {}
