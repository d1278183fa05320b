"""`review-feed check-output` and the build's own check: one line and exit code 8 when the
host would refuse the output, before anything is uploaded.

Large outputs are sparse files: their apparent size is what a host counts, and they
take no disk space.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.clitools import run

from .conftest import pelican_build

REPO = Path(__file__).resolve().parents[2]
MIB = 1 << 20


def sparse(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.truncate(size)
    return path


@pytest.fixture
def output(tmp_path: Path) -> Path:
    out = tmp_path / "output"
    (out / "reviews").mkdir(parents=True)
    (out / "index.html").write_text("<h1>shop</h1>\n")
    sparse(out / "media" / "tour.mp4", 26 * MIB)  # over Cloudflare's 25 MiB per file
    return out


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stdout + done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("[review-feed] error: ")
    return line


def test_over_a_limit_is_one_line_and_exit_8(output: Path, tmp_path: Path) -> None:
    done = run("check-output", str(output), "--host", "cloudflare-pages", cwd=tmp_path)
    assert done.returncode == 8 and done.stdout == ""
    line = one_error_line(done)
    assert "media/tour.mp4 is 27.3 MB, over its per-file limit of 25 MiB" in line
    assert "docs/publishing.md" in line

    sparse(output / "media" / "archive.zip", 1_000_000_000)  # the site is now past 1 GB
    done = run("check-output", str(output), "--host", "github-pages", cwd=tmp_path)
    assert done.returncode == 8
    assert "is over its site size limit of 1 GB" in one_error_line(done)


def test_within_the_limits_it_reports_and_exits_0(output: Path, tmp_path: Path) -> None:
    done = run("check-output", str(output), "--host", "github-pages", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert f"[review-feed] {output}: 2 files, 27.3 MB, largest media/tour.mp4 (27.3 MB)" in line
    assert "GitHub Pages: size limit 1 GB: 97% headroom" in line


def test_host_from_environment_then_flag(output: Path, tmp_path: Path) -> None:
    env = {"REVIEW_FEED_HOST": "cloudflare-pages"}
    assert run("check-output", str(output), cwd=tmp_path, env=env).returncode == 8
    done = run("check-output", str(output), "--host", "none", cwd=tmp_path, env=env)
    assert done.returncode == 0 and "object storage (no limit): no limit" in done.stdout
    assert run("check-output", str(output), cwd=tmp_path).returncode == 0  # default: none
    bad = run("check-output", str(output), "--host", "geocities", cwd=tmp_path)
    assert bad.returncode == 2
    assert "REVIEW_FEED_HOST from the command line ('geocities') is invalid" in one_error_line(bad)
    missing = run("check-output", str(tmp_path / "nope"), "--host", "none", cwd=tmp_path)
    assert missing.returncode == 2 and "not found" in one_error_line(missing)


# --- the Pelican build checks its own output when REVIEW_FEED_HOST is set ---------------


def pelican(site: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return pelican_build(site, "pelicanconf.py", "output", **env)


def test_a_build_over_the_hosts_limit_fails_with_one_line(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    for name in ("content", "themes", "data"):
        shutil.copytree(REPO / name, site / name)
    shutil.copy(REPO / "pelicanconf.py", site)
    (site / "plugins").symlink_to(REPO / "plugins")
    ok = pelican(site, REVIEW_FEED_HOST="cloudflare-pages")
    assert ok.returncode == 0, ok.stdout + ok.stderr

    # What the output folder already holds is published too (the build keeps it).
    sparse(site / "output" / "media" / "tour.mp4", 26 * MIB)
    done = pelican(site, REVIEW_FEED_HOST="cloudflare-pages")
    assert done.returncode == 8, done.stdout + done.stderr
    log = done.stdout + done.stderr
    assert "Traceback" not in log
    assert "would be refused by Cloudflare Pages (free plan): media/tour.mp4 is 27.3 MB" in log
    assert pelican(site).returncode == 0  # no host set: no check
    assert pelican(site, REVIEW_FEED_HOST="github-pages").returncode == 0
