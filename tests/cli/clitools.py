"""Helpers for CLI tests: run the real `review-feed` command, write small feed files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PRODUCT_HEADER = [
    "action",
    "review_id",
    "product_review_id",
    "product_ref",
    "product_name",
    "review_date",
    "order_date",
    "rate",
    "review",
    "firstname",
    "lastname",
    "email",
    "order_ref",
    "moderation",
]


def command() -> list[str]:
    exe = shutil.which("review-feed")
    return [exe] if exe else [sys.executable, "-m", "review_feed.cli"]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120):
    """The real command in a clean environment (no REVIEW_FEED_* leaking in)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    base.update(env or {})
    return subprocess.run(
        [*command(), *args],
        cwd=cwd,
        env=base,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def product_row(
    action: str,
    pid: str,
    *,
    date: str = "2026-11-20 10:00:00",
    rate: str = "5",
    text: str = "Très bon thé.",
    first: str = "Camille",
    last: str = "Roussel",
    ref: str = "SKU-100",
) -> list[str]:
    return [
        action,
        "R" + pid,
        pid,
        ref,
        "Sencha",
        date,
        "",
        rate,
        text,
        first,
        last,
        f"{first.lower()}.{last.lower()}@example.fr",
        "CMD-" + pid,
        "",
    ]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = PRODUCT_HEADER) -> Path:
    def cell(v: str) -> str:
        if any(c in v for c in '\t\n"'):
            return '"' + v.replace('"', '""') + '"'
        return v

    lines = ["\t".join(cell(c) for c in r) for r in [header, *rows]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def mtimes(root: Path) -> dict[str, int]:
    return {
        p.relative_to(root).as_posix(): p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
