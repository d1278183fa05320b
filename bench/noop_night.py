#!/usr/bin/env python3
"""A no-op night with a long ledger: `review-feed sync` when every listed file is applied.

    python bench/noop_night.py --ledger 5000 --baseline main

The ledger holds N files (a site and a product file a night, N/2 nights), the
local source lists the same N files, and the download-checksum cache knows
them all: the sync has nothing to fetch, parse or write. What it costs is the
planning over the ledger. Each case is a fresh process running `run_sync`
(wall and CPU time from outside, import and sync time from inside), ours and
the code at `--baseline` (a git ref, extracted with `git archive`) side by
side in one run. The budget: the sync under 0.5 s at 5,000 ledger entries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BUDGET_S = 0.5


def make_night(work: Path, n: int) -> tuple[Path, Path, Path]:
    """(source folder, snapshot, cache) with `n` applied files and a warm checksum cache."""
    from review_feed.model import FileCounts
    from review_feed.store import LedgerEntry, Snapshot

    src, snap_dir, cache = work / "drop", work / "snapshot", work / "cache"
    src.mkdir(parents=True)
    cache.mkdir()
    first = dt.date(2026, 12, 1) - dt.timedelta(days=n // 2)
    entries, checked = [], {}
    for i in range(n):
        kind = ("site", "product")[i % 2]
        date = (first + dt.timedelta(days=i // 2)).isoformat()
        name = f"reviews_{kind}_acme_{date}.csv"
        data = f"action\treview_id\trate\nNEW\t{kind}-{i}\t5\n".encode()
        p = src / name
        p.write_bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        st = p.stat()
        checked[name] = [st.st_size, st.st_mtime, sha]
        entries.append(LedgerEntry(name, kind, "acme", date, len(data), sha, FileCounts(new=1)))
    with Snapshot(snap_dir) as snap:
        for e in entries:
            snap.record(e)
        snap.commit()
    (cache / "checked-files.json").write_text(json.dumps({str(src): checked}))
    return src, snap_dir, cache


# The sync through the API in a fresh process: import time and the sync's own time apart.
DRIVER = """
import json, sys, time
t0 = time.perf_counter()
from review_feed.settings import load_settings
from review_feed.sync import run_sync
t1 = time.perf_counter()
settings = load_settings({}, {"REVIEW_FEED_CACHE": sys.argv[3]},
                         {"source": sys.argv[1], "snapshot": sys.argv[2]})
report = run_sync(settings)
t2 = time.perf_counter()
print(json.dumps({"import_s": round(t1 - t0, 3), "sync_s": round(t2 - t1, 3),
                  "exit": report.exit_code, "summary": report.summary(),
                  "files_written": report.files_written}))
"""


def run_once(src: Path, snap: Path, cache: Path, pythonpath: str | None) -> dict:
    """One no-op sync in a fresh process: its wall time and CPU from outside, and the
    import and sync times from inside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    cmd = [sys.executable, "-c", DRIVER, str(src), str(snap), str(cache)]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=src.parent, env=env, stdout=subprocess.PIPE)
    out = p.stdout.read().decode() if p.stdout else ""
    _pid, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    return {
        "process_seconds": round(wall, 3),
        "cpu_seconds": round(ru.ru_utime + ru.ru_stime, 3),
        "process_exit": os.waitstatus_to_exitcode(status),
        **json.loads(out.strip().splitlines()[-1]),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ledger", type=int, default=5000, help="files in the ledger")
    ap.add_argument("--baseline", default=None, help="a git ref to measure beside ours")
    ap.add_argument("--repeat", type=int, default=3, help="runs of ours (the best is kept)")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="noop-night-") as tmp:
        work = Path(tmp)
        src, snap, cache = make_night(work, a.ledger)
        res: dict = {"ledger_files": a.ledger, "load": os.getloadavg()[0]}
        ours = [run_once(src, snap, cache, None) for _ in range(a.repeat)]
        res["ours"] = min(ours, key=lambda r: r["sync_s"])
        if a.baseline:
            base = work / "baseline"
            base.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", a.baseline, "plugins/review_feed"],
                check=True,
                capture_output=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
            res["baseline_ref"] = a.baseline
            res["baseline"] = run_once(src, snap, cache, str(base / "plugins"))
            res["ratio"] = round(res["baseline"]["sync_s"] / max(res["ours"]["sync_s"], 1e-3), 1)
        res["budget_s"] = BUDGET_S
        ours = res["ours"]
        noop = "no new file" in ours["summary"] and ours["files_written"] == 0
        res["pass"] = ours["sync_s"] < BUDGET_S and ours["exit"] == 0 and noop
    print(json.dumps(res, indent=2))
    return 0 if res["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
