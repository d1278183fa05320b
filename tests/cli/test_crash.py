"""kill -9 at random instants of a real sync, then sync again: byte-identical to no crash."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clitools import command, mtimes, product_row, tree, write_csv

NAME = "reviews_product_big_{}.csv"
# The same sync through the API with tiny thresholds, so the kills also hit day
# files, hash-bucketed days and a chunked index (manifest + chunks).
DRIVER = """
import sys
from review_feed.settings import load_settings
from review_feed.store import Layout
from review_feed.sync import run_sync
s = load_settings({}, {}, {"source": sys.argv[1], "snapshot": sys.argv[2]})
layout = Layout(max_file_bytes=40_000, index_max=1_000)
sys.exit(run_sync(s, layout=layout).exit_code)
"""
LAYOUTS = {"default": None, "small": DRIVER}
SEED = int(os.environ.get("CRASH_SEED", "0")) or random.randrange(1, 10**6)


def _generate(src_first: Path, src_all: Path) -> None:
    """Night 1: 40,000 reviews over two years; nights 2-3: updates that move reviews across
    months, deletions and new reviews: every kind of write (new months, removed files)."""
    rnd = random.Random(7)

    def date(rnd: random.Random) -> str:
        return (
            f"{rnd.choice([2025, 2026])}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} 10:00:00"
        )

    night1 = [
        product_row("NEW", f"P{i:06d}", date=date(rnd), text=f"Avis n°{i} « thé » " * 3)
        for i in range(40_000)
    ]
    night2 = [
        product_row("UPDATE", f"P{rnd.randrange(40_000):06d}", date=date(rnd), rate="2")
        for _ in range(15_000)
    ]
    night2 += [product_row("DELETE", f"P{rnd.randrange(40_000):06d}") for _ in range(4_000)]
    night3 = [product_row("NEW", f"Q{i:06d}", date="2027-01-15 10:00:00") for i in range(15_000)]
    night3 += [product_row("DELETE", f"P{rnd.randrange(40_000):06d}") for _ in range(4_000)]
    write_csv(src_first / NAME.format("2026-12-01"), night1)
    for folder in (src_all,):
        shutil.copy(src_first / NAME.format("2026-12-01"), folder / NAME.format("2026-12-01"))
        write_csv(folder / NAME.format("2026-12-02"), night2)
        write_csv(folder / NAME.format("2026-12-03"), night3)


def _cmd(layout: str | None, source: Path, snap: Path) -> list[str]:
    if layout is None:
        return [*command(), "sync", "-q", "--source", str(source), "--snapshot", str(snap)]
    return [sys.executable, "-c", layout, str(source), str(snap)]


def _sync(layout: str | None, source: Path, snap: Path, cwd: Path):
    return subprocess.run(_cmd(layout, source, snap), cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def feeds(request, tmp_path_factory):
    layout = LAYOUTS[request.param]
    root = tmp_path_factory.mktemp("crash")
    first, full = root / "first", root / "all"
    first.mkdir()
    full.mkdir()
    _generate(first, full)
    base = root / "base"
    proc = _sync(layout, first, base, root)
    assert proc.returncode == 0, proc.stderr
    ref = root / "ref"
    shutil.copytree(base, ref)
    started = time.monotonic()
    proc = _sync(layout, full, ref, root)
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    if request.param == "small":
        names = set(tree(ref))
        assert any("/index/months.json" in n for n in names)
        assert any(n.count("/") == 5 for n in names)  # hash-bucketed day files
    return root, full, base, tree(ref), took, layout


def _first_write(snap: Path, proc: subprocess.Popen, before: dict[str, int]) -> float | None:
    """Seconds until the sync first touches the snapshot (None if it ended first)."""
    t0 = time.monotonic()
    while proc.poll() is None:
        try:
            if mtimes(snap) != before:
                return time.monotonic() - t0
        except FileNotFoundError:  # a file vanished while we looked: that is a write
            return time.monotonic() - t0
        time.sleep(0.001)
    return None


def _start(layout: str | None, full: Path, snap: Path, root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        _cmd(layout, full, snap),
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_kill_9_then_rerun_is_byte_identical(feeds, tmp_path):
    root, full, base, expected, took, layout = feeds
    assert took > 0.5, f"the sync must take long enough to be killed mid-way ({took:.2f}s)"
    rnd = random.Random(SEED)
    # How long the write phase lasts, seen from outside on a probe run.
    probe = tmp_path / "probe"
    shutil.copytree(base, probe)
    proc = _start(layout, full, probe, root)
    t0 = time.monotonic()
    first = _first_write(probe, proc, mtimes(probe))
    proc.wait()
    assert first is not None
    window = max(0.005, time.monotonic() - t0 - first)
    # Kills at random instants of the whole run, and as many inside the write phase.
    plans = [("any", took * (k + rnd.random()) / 4) for k in range(4)]
    plans += [("write", 0.0)] + [("write", rnd.uniform(0, window / 2)) for _ in range(3)]
    # a few spare kills right at the first write, used only while none landed mid-way
    spare = [("write", 0.0)] * 4
    killed_mid_way = 0
    n = 0
    while plans or (spare and not killed_mid_way):
        when, delay = plans.pop(0) if plans else spare.pop()
        n += 1
        snap = tmp_path / f"snap{n}"
        shutil.copytree(base, snap)
        before = tree(snap)
        proc = _start(layout, full, snap, root)
        if when == "write":
            _first_write(snap, proc, mtimes(snap))
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        state = tree(snap)
        if state != before and state != expected:
            killed_mid_way += 1
        again = _sync(layout, full, snap, root)
        assert again.returncode == 0, (SEED, when, delay, again.stderr)
        assert tree(snap) == expected, f"CRASH_SEED={SEED}, killed at {when} +{delay:.3f}s"
    print(
        f"CRASH_SEED={SEED}: write phase ~{window:.3f}s; "
        f"{killed_mid_way}/{n} kills left a half-written snapshot"
    )
    assert killed_mid_way, "no kill landed in the write phase: the test proved nothing"
