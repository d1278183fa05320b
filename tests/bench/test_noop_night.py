"""bench/noop_night.py keeps working: at a tiny ledger it runs, and the night is a no-op.

Its speed is measured by running the script itself (figures in docs/performance.md), not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_noop_night_runs_and_applies_nothing():
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "noop_night.py"), "--ledger", "40", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    res = json.loads(proc.stdout)
    assert res["ours"]["exit"] == 0, proc.stderr
    assert res["ledger_files"] == 40 and res["ours"]["sync_s"] >= 0
    assert res["ours"]["summary"] == "no new file; 40 already applied"
    assert res["ours"]["files_written"] == 0
