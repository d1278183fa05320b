"""Helpers to drive `invoke <task>` as a user does: a subprocess in a temporary copy of the site.

The copy holds the repository's files (tracked and not ignored), so a build
writes into the copy's own output/ and a nightly commits into the copy's own
git repository, never into the real one.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

try:
    from tests.conftest import require
except ModuleNotFoundError:  # bare `pytest` (not `python -m pytest`): repo root not on sys.path
    sys.path.insert(0, str(REPO))
    from tests.conftest import require  # noqa: F401  (re-exported for the tests)

# A fixed identity, and nothing of the user's git or ssh configuration.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "nightly test",
    "GIT_AUTHOR_EMAIL": "nightly@example.invalid",
    "GIT_COMMITTER_NAME": "nightly test",
    "GIT_COMMITTER_EMAIL": "nightly@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def base_env(**extra: str) -> dict[str, str]:
    """The environment of a task run: no REVIEW_FEED_* from the caller, a fixed git identity."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    env.update(GIT_ENV)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def repo_files(root: Path) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout
    return [p for p in out.decode().split("\0") if p]


def copy_site(dest: Path) -> Path:
    for rel in repo_files(REPO):
        src = REPO / rel
        if not src.is_file() or rel.startswith(("tests/", "bench/results/")):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True, env=base_env()
    ).stdout


def init_repo(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the site")


def run_invoke(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=root,
        env=env or base_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, timeout: float = 5) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # loopback only
        return resp.status, resp.read().decode("utf-8", "replace")


@dataclass
class Served:
    proc: subprocess.Popen[str]
    url: str
    log: Path


@contextmanager
def serving(
    root: Path,
    *args: str,
    url: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Iterator[Served]:
    """Start `invoke <args>`, wait until it serves (the URL it prints, or `url`), stop it.

    Output goes to a file (a pipe nobody reads could fill and block the server).
    """
    log = root / f".serve-{args[0]}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "invoke", *args],
            cwd=root,
            env=env or base_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: stop it and its children
        )
    try:
        deadline = time.monotonic() + timeout
        found = url
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"invoke {args[0]} exited {proc.returncode}:\n{log.read_text()}"
                )
            if found is None:
                m = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read_text())
                found = m and f"http://127.0.0.1:{m[1]}/"
            if found:
                try:
                    fetch(found, timeout=2)
                    break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"invoke {args[0]} did not serve in {timeout}s:\n{log.read_text()}"
                )
            time.sleep(0.2)
        yield Served(proc, found, log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def wait_for(predicate, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.25)
