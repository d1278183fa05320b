"""The simulated night: a new feed file on a real OpenSSH SFTP server, then `invoke nightly`.

Done when: exactly one new commit holding only the snapshot change, and a
second `invoke nightly` with no new file makes no commit. A failed sync fails
the task with one clear line and builds and commits nothing.
"""

from __future__ import annotations

import getpass
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from taskrun import REPO, base_env, git, init_repo, ok, require, run_invoke

SSHD = Path("/usr/sbin/sshd")
WEBSITE = "acme-7f3a"  # the sample feed's website id
NIGHT = f"reviews_product_{WEBSITE}_2026-11-25.csv"
# One night: one new review, one update of a sample review, one deletion of a sample review.
NIGHT_CSV = (
    "action\treview_id\tproduct_review_id\tproduct_ref\tproduct_name\treview_date\trate\t"
    "review\tfirstname\tlastname\n"
    "NEW\tR2001\tPR9001\tSKU-100\tSencha Kagoshima 100 g\t2026-11-24 10:00:00\t5\t"
    "Nightly test review: arrived over SFTP\tNina\tTestard\n"
    "UPDATE\tR1002\tPR5004\tMATCHA-30\tMatcha cérémonie 30 g\t2026-11-18 11:06:21\t4\t"
    "Better with water at 70 °C.\tOliver\tBrennan\n"
    "DELETE\t\tPR5028\t\t\t\t\t\t\t\n"
)


def _servers():
    """The source tests' server helpers (tests/sources/servers.py), loaded by path."""
    spec = importlib.util.spec_from_file_location(
        "review_feed_test_servers", REPO / "tests" / "sources" / "servers.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sftp(tmp_path: Path):
    """A real OpenSSH sshd on 127.0.0.1 (internal-sftp), its drop folder and client settings."""
    require(SSHD.exists(), "OpenSSH sshd (/usr/sbin/sshd) is not installed")
    servers = _servers()
    folder = tmp_path / "sshd"
    folder.mkdir()
    user = getpass.getuser()
    server = servers.Sshd(folder, user, servers.make_key(), servers.make_key())
    server.start()
    drop = tmp_path / "drop"
    drop.mkdir()
    key_file = servers.write_private(folder / "client_key", server.client_key.private_text)
    known_hosts = folder / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{server.port} {server.host_key.public_line}\n")
    env = {
        "REVIEW_FEED_SOURCE": f"sftp://{user}@127.0.0.1:{server.port}{drop}",
        "REVIEW_FEED_KEY_FILE": str(key_file),
        "REVIEW_FEED_KNOWN_HOSTS": str(known_hosts),
    }
    try:
        yield drop, env, server
    finally:
        server.stop()


def drop_file(folder: Path, name: str, content: bytes, age: float = 3600) -> None:
    """A finished file, as the vendor leaves it: written, then untouched for `age` seconds."""
    path = folder / name
    path.write_bytes(content)
    t = time.time() - age
    os.utime(path, (t, t))


def sync_sample_and_commit(site: Path) -> None:
    """Yesterday's state: the sample feed applied to the committed snapshot."""
    subprocess.run(
        [sys.executable, "-m", "review_feed.cli", "sync", "--source", "sample-feed", "-q"],
        cwd=site,
        env=base_env(),
        check=True,
    )
    init_repo(site)


def head(site: Path) -> str:
    return git(site, "rev-parse", "HEAD").strip()


@pytest.mark.slow
def test_simulated_night_commits_only_the_snapshot_once(site: Path, sftp) -> None:
    drop, sftp_env, _ = sftp
    sync_sample_and_commit(site)
    for f in sorted((REPO / "sample-feed").iterdir()):  # the files of the nights before
        drop_file(drop, f.name, f.read_bytes())
    before = head(site)

    # The night: the vendor drops a new file.
    drop_file(drop, NIGHT, NIGHT_CSV.encode())
    done = ok(run_invoke(site, "nightly", env=base_env(**sftp_env)))

    log = git(site, "log", "--format=%H", f"{before}..HEAD").split()
    assert len(log) == 1, done.stdout + done.stderr
    changed = git(site, "show", "--stat", "--format=", "--name-only", "HEAD").split()
    assert changed and all(p.startswith("data/reviews/") for p in changed), changed
    assert git(site, "status", "--porcelain") == ""  # nothing else left over (output/ ignored)
    message = git(site, "log", "-1", "--format=%B")
    subject = message.splitlines()[0]
    assert subject == "reviews: 1 file applied, 1 added, 1 updated, 1 removed", message
    assert f"- {NIGHT}: 1 NEW, 1 UPDATE, 1 DELETE" in message
    # the publish build ran on the new snapshot
    brand = (site / "output" / "reviews" / "products").rglob("index.html")
    assert any("Nightly test review: arrived over SFTP" in p.read_text() for p in brand)

    # The next night: nothing new on the server, so no commit.
    ok(run_invoke(site, "nightly", env=base_env(**sftp_env)))
    assert git(site, "log", "--format=%H", f"{before}..HEAD").split() == log


@pytest.mark.slow
def test_refused_host_key_fails_the_night_without_build_or_commit(site: Path, sftp) -> None:
    drop, sftp_env, _server = sftp
    sync_sample_and_commit(site)
    drop_file(drop, NIGHT, NIGHT_CSV.encode())
    before = head(site)
    servers = _servers()
    env = dict(sftp_env)
    del env["REVIEW_FEED_KNOWN_HOSTS"]
    env["REVIEW_FEED_HOST_KEY_SHA256"] = servers.make_key().fingerprint  # not the server's key
    shutil.rmtree(site / "output", ignore_errors=True)

    done = run_invoke(site, "nightly", env=base_env(**env))

    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("[review-feed]") and "host key" in last.lower(), done.stderr
    assert "Traceback" not in done.stderr
    assert head(site) == before
    assert git(site, "status", "--porcelain") == ""
    assert not (site / "output").exists()


def test_a_half_applied_night_is_neither_built_nor_committed(site: Path, tmp_path: Path) -> None:
    """One good file and one broken file: the sync fails, so no build and no commit."""
    sync_sample_and_commit(site)
    drop = tmp_path / "drop"
    drop.mkdir()
    drop_file(drop, NIGHT, NIGHT_CSV.encode())
    drop_file(drop, f"reviews_site_{WEBSITE}_2026-11-25.xml", b"<reviews><review>broken")
    before = head(site)
    shutil.rmtree(site / "output", ignore_errors=True)

    done = run_invoke(site, "nightly", env=base_env(REVIEW_FEED_SOURCE=str(drop)))

    assert done.returncode != 0, done.stdout + done.stderr
    assert "reviews_site_acme-7f3a_2026-11-25.xml" in done.stderr  # the file is named
    assert "nothing was built or committed" in done.stderr
    assert "Traceback" not in done.stderr
    assert head(site) == before
    assert not (site / "output").exists()


def test_nightly_outside_git_says_so(site: Path) -> None:
    done = run_invoke(site, "nightly")
    assert done.returncode != 0
    assert "not a git working tree" in done.stderr
    assert "Traceback" not in done.stderr
