"""`review-feed sync --source sftp://|ftp://|ftps://` end to end: the same snapshot bytes as
the local folder source with the same files, one clear line when the server fails us, and
the next run completing after a crash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from review_feed.settings import load_settings
from review_feed.sources import LocalSource
from review_feed.sources import remote as remote_mod
from review_feed.sync import run_sync

from .conftest import PASSPHRASE, PASSWORD, copy_feed


def cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The real command, in a clean environment (no REVIEW_FEED_* of the caller)."""
    exe = shutil.which("review-feed")
    cmd = [exe] if exe else [sys.executable, "-m", "review_feed.cli"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    return subprocess.run(
        [*cmd, *args], cwd=cwd, env=clean | env, capture_output=True, text=True, timeout=120
    )


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def feed(sample_feed, tmp_path) -> Path:
    if not LocalSource(sample_feed).list():
        pytest.skip("sample-feed/ has no feed files yet")
    return sample_feed


@pytest.fixture
def local_snapshot(feed, tmp_path) -> dict[str, bytes]:
    """The snapshot the local folder source makes from the sample feed."""
    work = tmp_path / "local"
    work.mkdir()
    env = {"REVIEW_FEED_CACHE": str(work / "cache")}
    r = cli("sync", "--source", str(feed), "--snapshot", str(work / "snap"), cwd=work, env=env)
    assert r.returncode == 0, r.stderr
    snap = tree(work / "snap")
    assert any(name.endswith(".json") for name in snap)
    return snap


def remote_env(tmp_path: Path, **secrets: str) -> dict[str, str]:
    env = {
        "REVIEW_FEED_CACHE": str(tmp_path / "remote-cache"),
        "REVIEW_FEED_TIMEOUT": "3",
        "REVIEW_FEED_RETRIES": "0",
    }
    env.update({f"REVIEW_FEED_{k.upper()}": v for k, v in secrets.items()})
    return env


def sync_remote(url: str, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    work = tmp_path / "remote"
    work.mkdir(exist_ok=True)
    return cli("sync", "--source", url, "--snapshot", str(work / "snap"), cwd=work, env=env)


def assert_clean(r: subprocess.CompletedProcess, *secrets: str) -> None:
    both = r.stdout + r.stderr
    assert "Traceback" not in both
    for s in secrets:
        assert s not in both


# --- the same snapshot over every protocol ---------------------------------------------------


def test_sftp_with_key_gives_the_local_snapshot(
    sshd, ssh_user, feed, local_snapshot, tmp_path, client_keys, host_key
):
    drop = copy_feed(feed, tmp_path / "drop")
    key = client_keys["ecdsa"]
    env = remote_env(
        tmp_path,
        private_key=key.private_text,
        key_passphrase=PASSPHRASE,
        host_key_sha256=host_key.fingerprint,
    )
    url = f"sftp://{ssh_user}@127.0.0.1:{sshd.port}{drop}"
    r = sync_remote(url, tmp_path, env)
    assert r.returncode == 0, r.stderr
    assert_clean(r, PASSPHRASE, key.private_text.splitlines()[1])
    assert tree(tmp_path / "remote" / "snap") == local_snapshot
    again = sync_remote(url, tmp_path, env)  # nothing new: nothing changes
    assert again.returncode == 0 and "no new file" in again.stdout
    assert tree(tmp_path / "remote" / "snap") == local_snapshot


def test_sftp_with_password_gives_the_local_snapshot(
    paramiko_sftpd, feed, local_snapshot, tmp_path, host_key
):
    copy_feed(feed, paramiko_sftpd.root / "feed")
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{paramiko_sftpd.port} {host_key.public_line}\n")
    env = remote_env(tmp_path, password=PASSWORD, known_hosts=str(known))
    r = sync_remote(f"sftp://vendor@127.0.0.1:{paramiko_sftpd.port}/~/feed", tmp_path, env)
    assert r.returncode == 0, r.stderr
    assert_clean(r, PASSWORD)
    assert tree(tmp_path / "remote" / "snap") == local_snapshot


@pytest.mark.parametrize("scheme", ["ftp", "ftps"])
def test_ftp_and_ftps_give_the_local_snapshot(
    feed, local_snapshot, tmp_path, ftp_root, tls_cert, scheme
):
    from .servers import Ftpd

    copy_feed(feed, ftp_root)
    server = Ftpd(ftp_root, "vendor", PASSWORD, tls=tls_cert if scheme == "ftps" else None)
    server.start()
    try:
        env = remote_env(tmp_path, password=PASSWORD, ca_bundle=str(tls_cert[0]))
        r = sync_remote(f"{scheme}://vendor@127.0.0.1:{server.port}/", tmp_path, env)
    finally:
        server.stop()
    assert r.returncode == 0, r.stderr
    assert_clean(r, PASSWORD)
    assert tree(tmp_path / "remote" / "snap") == local_snapshot


# --- failures leave the snapshot as it was ----------------------------------------------------


def test_failures_are_one_line_exit_4_and_leave_the_snapshot_alone(
    sshd, ssh_user, paramiko_sftpd, feed, tmp_path, client_keys, host_key, request
):
    from .servers import NotSsh, free_port, make_key

    drop = copy_feed(feed, tmp_path / "drop")
    # a snapshot made earlier from the first files only
    first = copy_feed(feed, tmp_path / "first")
    for p in sorted(first.iterdir())[4:]:
        p.unlink()
    work = tmp_path / "remote"
    work.mkdir()
    r = cli("sync", "--source", str(first), "--snapshot", str(work / "snap"), cwd=work, env={})
    assert r.returncode == 0, r.stderr
    before = tree(work / "snap")

    not_ssh = NotSsh()
    request.addfinalizer(not_ssh.stop)
    url = f"sftp://{ssh_user}@127.0.0.1:{sshd.port}{drop}"
    key = {"private_key": client_keys["ed25519"].private_text}
    cases = [
        (url, key | {"host_key_sha256": client_keys["rsa"].fingerprint}, "host key refused"),
        (url, key, "host key not verified"),
        (
            url,
            {"private_key": make_key().private_text, "host_key_sha256": host_key.fingerprint},
            "login refused",
        ),
        (
            f"sftp://vendor@127.0.0.1:{paramiko_sftpd.port}/~/feed",
            {"password": PASSWORD + "-wrong", "host_key_sha256": host_key.fingerprint},
            "login refused",
        ),
        (
            f"sftp://vendor@127.0.0.1:{free_port()}/feed",
            {"password": PASSWORD, "host_key_sha256": host_key.fingerprint},
            "connection refused",
        ),
        (
            f"ftp://vendor@127.0.0.1:{free_port()}/feed",
            {"password": PASSWORD},
            "connection refused",
        ),
        (
            f"sftp://vendor@127.0.0.1:{not_ssh.port}/feed",  # paramiko logs a traceback here
            {"password": PASSWORD, "host_key_sha256": host_key.fingerprint},
            "SSH error (Error reading SSH protocol banner",
        ),
    ]
    for url_, secrets, expect in cases:
        r = sync_remote(url_, tmp_path, remote_env(tmp_path, **secrets))
        assert r.returncode == 4, (url_, r.stdout, r.stderr)
        # plain ftp:// also warns, on its own line, that it travels unencrypted
        lines = [x for x in r.stderr.strip().splitlines() if "unencrypted" not in x]
        assert len(lines) == 1 and lines[0].startswith("[review-feed] "), r.stderr
        assert expect in lines[0]
        assert_clean(r, PASSWORD, client_keys["ed25519"].private_text.splitlines()[1])
        assert tree(work / "snap") == before


def test_server_killed_during_a_sync_then_the_next_sync_completes(
    own_sshd, ssh_user, feed, local_snapshot, tmp_path, client_keys, host_key, monkeypatch
):
    drop = copy_feed(feed, tmp_path / "drop")
    environ = remote_env(
        tmp_path,
        source=f"sftp://{ssh_user}@127.0.0.1:{own_sshd.port}{drop}",
        snapshot=str(tmp_path / "snap"),
        private_key=client_keys["ed25519"].private_text,
        host_key_sha256=host_key.fingerprint,
        retries="1",
    )
    real_write = remote_mod.Sink.write
    fetches: list[Path] = []

    def crash_on_third_file(self, data):
        if self.path not in fetches:
            fetches.append(self.path)
        if len(fetches) == 3 and own_sshd.proc is not None:
            own_sshd.kill()  # mid-transfer: the first bytes of the third file are not written
            raise ConnectionResetError("killed")  # what the socket says a moment later
        real_write(self, data)

    monkeypatch.setattr(remote_mod.Sink, "write", crash_on_third_file)
    report = run_sync(load_settings(environ=environ))
    assert report.exit_code == 4
    assert report.errors[0].message.startswith("cannot download ")
    assert "connection" in report.errors[0].message
    assert 0 < len(report.applied) < len(LocalSource(feed).list())
    cache = tmp_path / "remote-cache" / "downloads"
    assert not [p for p in cache.iterdir() if p.name.endswith(".part")]

    monkeypatch.setattr(remote_mod.Sink, "write", real_write)
    own_sshd.start()
    report = run_sync(load_settings(environ=environ))
    assert report.exit_code == 0, [e.message for e in report.errors]
    assert tree(tmp_path / "snap") == local_snapshot


def test_verbose_run_prints_no_secret(
    paramiko_sftpd, sshd, ssh_user, feed, tmp_path, host_key, client_keys
):
    """Even `-v` (debug logs, paramiko's included) never shows a password, passphrase or key."""
    copy_feed(feed, paramiko_sftpd.root / "feed")
    drop = copy_feed(feed, tmp_path / "drop")
    key = client_keys["rsa"]
    key_lines = [ln for ln in key.private_text.splitlines() if len(ln) > 40]
    work = tmp_path / "remote"
    work.mkdir()
    runs = [
        (f"sftp://vendor@127.0.0.1:{paramiko_sftpd.port}/~/feed", {"password": PASSWORD}),
        (f"sftp://vendor@127.0.0.1:{paramiko_sftpd.port}/~/feed", {"password": PASSWORD + "!"}),
        (
            f"sftp://{ssh_user}@127.0.0.1:{sshd.port}{drop}",
            {"private_key": key.private_text, "key_passphrase": PASSPHRASE, "password": PASSWORD},
        ),
    ]
    codes = []
    for i, (url, secrets) in enumerate(runs):
        env = remote_env(tmp_path, host_key_sha256=host_key.fingerprint, **secrets)
        r = cli(
            "-v", "sync", "--source", url, "--snapshot", str(work / f"snap{i}"), cwd=work, env=env
        )
        if r.returncode == 2 and "unrecognized arguments" in r.stderr:  # -v after the command
            r = cli(
                "sync",
                "-v",
                "--source",
                url,
                "--snapshot",
                str(work / f"snap{i}"),
                cwd=work,
                env=env,
            )
        codes.append(r.returncode)
        if r.returncode == 0:
            assert "ignored 'README.txt'" in r.stderr  # debug logs are on
        assert_clean(r, PASSWORD, PASSPHRASE, *key_lines)
    assert codes == [0, 4, 0]


def test_the_machines_own_keys_and_agent_are_never_used(
    sshd, ssh_user, feed, tmp_path, client_keys, host_key, monkeypatch
):
    """An authorized key in ~/.ssh and an agent socket in the environment are ignored."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text(client_keys["ed25519"].private_text)
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    drop = copy_feed(feed, tmp_path / "drop")
    env = remote_env(tmp_path, host_key_sha256=host_key.fingerprint) | {
        "HOME": str(home),
        "SSH_AUTH_SOCK": str(tmp_path / "agent.sock"),
    }
    work = tmp_path / "remote"
    work.mkdir()
    url = f"sftp://{ssh_user}@127.0.0.1:{sshd.port}{drop}"
    r = cli("sync", "--source", url, "--snapshot", str(work / "snap"), cwd=work, env=env)
    assert r.returncode == 4
    assert "no credentials for sftp://" in r.stderr
    assert not (work / "snap").exists() or not list((work / "snap").rglob("*.json"))
