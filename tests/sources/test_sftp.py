"""SFTP against a real OpenSSH sshd (key logins) and paramiko's server API (password logins)."""

from __future__ import annotations

import logging
import os
import time

import pytest
from review_feed.errors import ConfigError, SourceError
from review_feed.sources import LocalSource, open_source
from review_feed.sources import remote as remote_mod

from .conftest import PASSPHRASE, PASSWORD, SMALL_FEED, copy_feed, write_feed


def one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def fetch_all(source):
    with source:
        listed = source.list()
        return listed, [source.fetch(r) for r in listed]


def assert_same_as_local(folder, listed, fetched, cache):
    local = LocalSource(folder)
    local_listed = local.list()
    assert [r.feed for r in listed] == [r.feed for r in local_listed]
    for f, r in zip(fetched, local_listed, strict=True):
        want = local.fetch(r)
        assert f.path.read_bytes() == want.path.read_bytes()
        assert (f.size, f.sha256) == (want.size, want.sha256)
        assert f.path.parent == cache  # inside the cache, never elsewhere
    assert not list(cache.glob("*.part")) and not list(cache.glob(".*.part"))


def sftp_url(server, folder, user) -> str:
    return f"sftp://{user}@127.0.0.1:{server.port}{folder}"


def key_env(client_keys, host_key, kind="ed25519"):
    key = client_keys[kind]
    env = {"private_key": key.private_text, "host_key_sha256": host_key.fingerprint}
    if key.passphrase:
        env["key_passphrase"] = key.passphrase
    return env


# --- real OpenSSH sshd --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa"])
def test_key_login_brings_the_same_files_as_the_local_folder(
    sshd, ssh_user, tmp_path, client_keys, host_key, open_remote, kind
):
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    source = open_remote(sftp_url(sshd, folder, ssh_user), **key_env(client_keys, host_key, kind))
    listed, fetched = fetch_all(source)
    assert len(listed) == 3
    assert_same_as_local(folder, listed, fetched, tmp_path / "cache" / "downloads")


def test_whole_sample_feed_over_sftp(
    sshd, ssh_user, tmp_path, sample_feed, client_keys, host_key, open_remote
):
    if not LocalSource(sample_feed).list():
        pytest.skip("sample-feed/ has no feed files yet")
    folder = copy_feed(sample_feed, tmp_path / "drop")
    source = open_remote(sftp_url(sshd, folder, ssh_user), **key_env(client_keys, host_key))
    listed, fetched = fetch_all(source)
    assert_same_as_local(folder, listed, fetched, tmp_path / "cache" / "downloads")


def test_key_file_and_known_hosts_with_port_entry(
    sshd, ssh_user, tmp_path, client_keys, host_key, open_remote
):
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    key_file = tmp_path / "id_rsa"
    key_file.write_text(client_keys["rsa"].private_text)
    known = tmp_path / "known_hosts"
    known.write_text(
        f"otherhost {client_keys['ed25519'].public_line}\n"
        f"[127.0.0.1]:{sshd.port} {host_key.public_line}\n"
    )
    source = open_remote(
        sftp_url(sshd, folder, ssh_user),
        key_file=str(key_file),
        key_passphrase=PASSPHRASE,
        known_hosts=str(known),
    )
    _listed, fetched = fetch_all(source)
    assert len(fetched) == 3


def test_known_hosts_given_as_text(sshd, ssh_user, tmp_path, client_keys, host_key, open_remote):
    """REVIEW_FEED_KNOWN_HOSTS may hold the file's text (a CI secret) instead of its path."""
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    url = sftp_url(sshd, folder, ssh_user)
    key = client_keys["ed25519"]
    good = f"# pinned\n[127.0.0.1]:{sshd.port} {host_key.public_line}\n"
    listed, _ = fetch_all(open_remote(url, private_key=key.private_text, known_hosts=good))
    assert len(listed) == 3
    bad = f"[127.0.0.1]:{sshd.port} {key.public_line}"  # one line, the wrong key
    with pytest.raises(SourceError) as err:
        fetch_all(open_remote(url, private_key=key.private_text, known_hosts=bad))
    msg = one_line(err.value)
    assert "host key CHANGED" in msg and "REVIEW_FEED_KNOWN_HOSTS (given as text)" in msg
    assert "AAAA" not in msg  # the key text is not repeated, only fingerprints


def test_no_pinned_host_key_is_refused_with_the_fingerprint_to_pin(
    sshd, ssh_user, tmp_path, client_keys, host_key, open_remote
):
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    source = open_remote(
        sftp_url(sshd, folder, ssh_user), private_key=client_keys["ed25519"].private_text
    )
    with pytest.raises(SourceError) as err:
        fetch_all(source)
    msg = one_line(err.value)
    assert "never trusted on first use" in msg
    assert f"REVIEW_FEED_HOST_KEY_SHA256={host_key.fingerprint}" in msg
    assert not (tmp_path / "cache" / "downloads").exists()


def test_wrong_pinned_host_key_is_refused(
    sshd, ssh_user, tmp_path, client_keys, host_key, open_remote
):
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    env = key_env(client_keys, host_key)
    env["host_key_sha256"] = client_keys["ed25519"].fingerprint  # some other key
    source = open_remote(sftp_url(sshd, folder, ssh_user), **env)
    t0 = time.monotonic()
    with pytest.raises(SourceError) as err:
        fetch_all(source)
    msg = one_line(err.value)
    assert "host key refused" in msg
    assert f"server presented {host_key.fingerprint} (ssh-ed25519)" in msg
    assert client_keys["ed25519"].fingerprint in msg  # what was pinned
    assert f"sftp://{ssh_user}@127.0.0.1:{sshd.port}{folder}" in msg
    assert time.monotonic() - t0 < 3  # not retried


def test_changed_host_key_in_known_hosts_is_refused(
    sshd, ssh_user, tmp_path, client_keys, host_key, open_remote
):
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {client_keys['ed25519'].public_line}\n")
    source = open_remote(
        sftp_url(sshd, folder, ssh_user),
        private_key=client_keys["ed25519"].private_text,
        known_hosts=str(known),
    )
    with pytest.raises(SourceError) as err:
        fetch_all(source)
    msg = one_line(err.value)
    assert "host key CHANGED" in msg and host_key.fingerprint in msg
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1" in msg


def test_unknown_host_is_refused(sshd, ssh_user, tmp_path, client_keys, host_key, open_remote):
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    known = tmp_path / "known_hosts"
    # the right key, but for port 22 and another host: neither is this server
    known.write_text(f"127.0.0.1 {host_key.public_line}\nexample.org {host_key.public_line}\n")
    source = open_remote(
        sftp_url(sshd, folder, ssh_user),
        private_key=client_keys["ed25519"].private_text,
        known_hosts=str(known),
    )
    with pytest.raises(SourceError) as err:
        fetch_all(source)
    msg = one_line(err.value)
    assert "unknown host key" in msg and f"[127.0.0.1]:{sshd.port} is not in" in msg
    assert f"`ssh-keyscan -p {sshd.port} 127.0.0.1 >> {known}`" in msg
    assert host_key.fingerprint in msg


def test_wrong_key_is_refused_without_retry(sshd, ssh_user, tmp_path, host_key, open_remote):
    from .servers import make_key

    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    stranger = make_key("ed25519")
    source = open_remote(
        sftp_url(sshd, folder, ssh_user),
        private_key=stranger.private_text,
        host_key_sha256=host_key.fingerprint,
        retries="3",
    )
    source.backoff = 5  # a retry would blow the time limit below
    t0 = time.monotonic()
    with pytest.raises(SourceError) as err:
        fetch_all(source)
    msg = one_line(err.value)
    assert msg.startswith(f"login refused by sftp://{ssh_user}@127.0.0.1:{sshd.port}")
    assert "rejected the key" in msg and "authorized_keys" in msg
    assert time.monotonic() - t0 < 4


def test_missing_folder_is_one_clear_line(
    sshd, ssh_user, tmp_path, client_keys, host_key, open_remote
):
    source = open_remote(
        sftp_url(sshd, tmp_path / "nope", ssh_user), **key_env(client_keys, host_key)
    )
    with pytest.raises(SourceError) as err:
        fetch_all(source)
    assert "no such file or folder on the server" in one_line(err.value)


def test_server_down(tmp_path, host_key, client_keys, open_remote):
    from .servers import free_port

    port = free_port()  # nothing listens there
    source = open_remote(
        f"sftp://bob@127.0.0.1:{port}/feed", retries="2", **key_env(client_keys, host_key)
    )
    with pytest.raises(SourceError) as err:
        fetch_all(source)
    msg = one_line(err.value)
    assert msg == (
        f"cannot list sftp://bob@127.0.0.1:{port}/feed: connection refused (after 3 attempts); "
        f"check that the server is running and listening on 127.0.0.1 port {port}, "
        "and the host and port in REVIEW_FEED_SOURCE"
    )


def test_server_killed_during_download_then_next_run_completes(
    own_sshd, ssh_user, tmp_path, client_keys, host_key, open_remote, monkeypatch
):
    big = os.urandom(6 << 20)
    folder = write_feed(tmp_path / "drop", {"reviews_product_acme_2026-11-05.csv": big})
    url = sftp_url(own_sshd, folder, ssh_user)
    cache = tmp_path / "cache" / "downloads"
    real_write = remote_mod.Sink.write

    def write_then_crash(self, data):
        real_write(self, data)
        if own_sshd.proc is not None and self.size >= 1 << 20:
            own_sshd.kill()

    monkeypatch.setattr(remote_mod.Sink, "write", write_then_crash)
    source = open_remote(url, retries="1", **key_env(client_keys, host_key))
    with pytest.raises(SourceError) as err, source:
        (remote,) = source.list()
        source.fetch(remote)
    msg = one_line(err.value)
    assert msg.startswith("cannot download reviews_product_acme_2026-11-05.csv from sftp://")
    assert list(cache.iterdir()) == []  # no partial file, no final file

    monkeypatch.setattr(remote_mod.Sink, "write", real_write)
    own_sshd.start()  # same port, same host key
    _listed, fetched = fetch_all(open_remote(url, **key_env(client_keys, host_key)))
    assert fetched[0].path.read_bytes() == big
    assert [p.name for p in cache.iterdir()] == ["reviews_product_acme_2026-11-05.csv"]


def test_file_still_being_written_is_left_for_the_next_run(
    sshd, ssh_user, tmp_path, client_keys, host_key, open_remote, caplog
):
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    write_feed(folder, {"reviews_site_acme_2026-11-04.csv": b"action\n"}, mtime=time.time())
    write_feed(folder, {"reviews_site_acme_2026-11-05.csv": b"action\n"})  # after it: waits too
    write_feed(folder, {"reviews_site_other_2026-11-05.csv": b"action\n"})  # other collection
    source = open_remote(sftp_url(sshd, folder, ssh_user), **key_env(client_keys, host_key))
    with caplog.at_level(logging.INFO, logger="review_feed"), source:
        names = [r.feed.name for r in source.list()]
    assert names == [
        "reviews_site_acme_2026-11-01.csv",
        "reviews_product_acme_20261102.xml",
        "reviews_site_acme_2026-11-03.csv",
        "reviews_site_other_2026-11-05.csv",
    ]
    text = caplog.text
    assert "reviews_site_acme_2026-11-04.csv" in text and "left for the next run" in text
    assert "REVIEW_FEED_MIN_AGE is 600 s" in text
    assert "reviews_site_acme_2026-11-05.csv" in text  # said why it waits too

    source = open_remote(
        sftp_url(sshd, folder, ssh_user), min_age="0", **key_env(client_keys, host_key)
    )
    with source:
        assert len(source.list()) == 6


@pytest.mark.parametrize("mode", ["move", "delete"])
def test_after_apply(sshd, ssh_user, tmp_path, client_keys, host_key, open_remote, mode):
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    env = key_env(client_keys, host_key) | {"remote_after_apply": mode}
    if mode == "move":
        env["remote_archive_dir"] = "applied"
    source = open_remote(sftp_url(sshd, folder, ssh_user), **env)
    with source:
        first = source.list()[0]
        source.fetch(first)
        source.after_apply(first)
    assert not (folder / first.feed.name).exists()
    assert (folder / "applied" / first.feed.name).exists() == (mode == "move")


def test_keep_is_the_default(sshd, ssh_user, tmp_path, client_keys, host_key, open_remote):
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    with open_remote(sftp_url(sshd, folder, ssh_user), **key_env(client_keys, host_key)) as s:
        for r in s.list():
            s.after_apply(r)
    assert sorted(p.name for p in folder.iterdir()) == sorted(SMALL_FEED)


def test_big_file_over_sftp(sshd, ssh_user, tmp_path, client_keys, host_key, open_remote):
    """Tens of MB arrive intact; the speed is printed (bench script: tests/sources/bench.py)."""
    big = os.urandom(32 << 20)
    folder = write_feed(tmp_path / "drop", {"reviews_product_big_2026-11-05.csv": big})
    source = open_remote(sftp_url(sshd, folder, ssh_user), **key_env(client_keys, host_key))
    with source:
        (remote,) = source.list()
        t0 = time.perf_counter()
        fetched = source.fetch(remote)
        spent = time.perf_counter() - t0
    import hashlib

    assert fetched.size == len(big) and fetched.sha256 == hashlib.sha256(big).hexdigest()
    print(f"sftp: {len(big) / spent / 1e6:.1f} MB/s")


# --- paramiko server: password logins, the home folder, hostile names ---------------------------


def pw_url(server, path="/~/feed") -> str:
    return f"sftp://vendor@127.0.0.1:{server.port}{path}"


def test_password_login_and_home_relative_path(paramiko_sftpd, host_key, tmp_path, open_remote):
    folder = write_feed(paramiko_sftpd.root / "feed", SMALL_FEED)
    source = open_remote(
        pw_url(paramiko_sftpd), password=PASSWORD, host_key_sha256=host_key.fingerprint
    )
    assert source.description == f"sftp://vendor@127.0.0.1:{paramiko_sftpd.port}/~/feed"
    listed, fetched = fetch_all(source)
    assert_same_as_local(folder, listed, fetched, tmp_path / "cache" / "downloads")


def test_wrong_password(paramiko_sftpd, host_key, open_remote):
    write_feed(paramiko_sftpd.root / "feed", SMALL_FEED)
    source = open_remote(
        pw_url(paramiko_sftpd), password="not-it", host_key_sha256=host_key.fingerprint
    )
    with pytest.raises(SourceError) as err:
        fetch_all(source)
    msg = one_line(err.value)
    assert "rejected the password for user 'vendor'" in msg and "not-it" not in msg


def test_hostile_names_are_ignored_and_nothing_leaves_the_cache(
    paramiko_sftpd, host_key, tmp_path, open_remote, caplog
):
    write_feed(paramiko_sftpd.root / "feed", {"reviews_site_acme_2026-11-01.csv": b"ok\n"})
    paramiko_sftpd.fake_names.extend(
        [
            "../reviews_site_acme_2026-11-02.csv",
            "../../etc/reviews_site_acme_2026-11-02.csv",
            "sub/reviews_site_acme_2026-11-02.csv",
            "reviews_site_.._2026-11-02.csv",
            "reviews_site_a\\..\\b_2026-11-02.csv",
            "reviews_site_a/../b_2026-11-02.csv",
            "reviews_site_acme\n_2026-11-02.csv",
        ]
    )
    source = open_remote(
        pw_url(paramiko_sftpd), password=PASSWORD, host_key_sha256=host_key.fingerprint
    )
    with caplog.at_level(logging.WARNING, logger="review_feed"):
        listed, _fetched = fetch_all(source)
    assert [r.feed.name for r in listed] == ["reviews_site_acme_2026-11-01.csv"]
    assert "lists a name that is a path" in caplog.text
    cache = tmp_path / "cache" / "downloads"
    assert [p.name for p in cache.iterdir()] == ["reviews_site_acme_2026-11-01.csv"]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["downloads"]


def test_no_secret_in_any_output(
    paramiko_sftpd, sshd, ssh_user, host_key, client_keys, tmp_path, open_remote, caplog, capfd
):
    """Password, passphrase and key text never reach a message, a log line or the terminal."""
    write_feed(paramiko_sftpd.root / "feed", SMALL_FEED)
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    key = client_keys["rsa"]
    key_lines = [ln for ln in key.private_text.splitlines() if len(ln) > 40]  # the base64 body
    secrets = [PASSWORD, PASSPHRASE, *key_lines]
    messages = []
    caplog.set_level(logging.DEBUG)  # paramiko's own loggers included
    runs = [
        (pw_url(paramiko_sftpd), {"password": PASSWORD}),
        (pw_url(paramiko_sftpd), {"password": PASSWORD + "x"}),  # wrong password
        (sftp_url(sshd, folder, ssh_user), {"private_key": key.private_text}),  # no passphrase
        (
            sftp_url(sshd, folder, ssh_user),
            {"private_key": key.private_text, "key_passphrase": PASSPHRASE + "x"},
        ),
        (
            sftp_url(sshd, folder, ssh_user),
            {"private_key": key.private_text, "key_passphrase": PASSPHRASE, "password": PASSWORD},
        ),
        (f"sftp://vendor:{PASSWORD}@127.0.0.1:{paramiko_sftpd.port}/~/feed", {}),
    ]
    for url, env in runs:
        try:
            source = open_remote(url, host_key_sha256=host_key.fingerprint, **env)
            messages.append(repr(source))
            messages.append(source.description)
            fetch_all(source)
        except (SourceError, ConfigError) as exc:
            messages.append(str(exc))
    out, err = capfd.readouterr()
    everything = "\n".join([*messages, caplog.text, out, err])
    assert "login refused" in everything and "REVIEW_FEED_KEY_PASSPHRASE" in everything
    for s in secrets:
        assert s not in everything


def test_settings_repr_hides_secrets(make_settings):
    s = make_settings("sftp://u@h/x", password=PASSWORD, key_passphrase=PASSPHRASE)
    assert PASSWORD not in repr(s) and PASSPHRASE not in repr(s)


def test_open_source_checks_configuration(make_settings, client_keys):
    bad = [
        ("sftp://u@h/x", {"host_key_sha256": "MD5:aa:bb"}, "REVIEW_FEED_HOST_KEY_SHA256"),
        ("sftp://u@h/x", {"private_key": "garbage"}, "REVIEW_FEED_PRIVATE_KEY is not a readable"),
        (
            "sftp://u@h/x",
            {"private_key": client_keys["rsa"].private_text},
            "encrypted key: set REVIEW_FEED_KEY_PASSPHRASE",
        ),
        ("sftp://u@h/x", {"key_file": "/nonexistent/id"}, "REVIEW_FEED_KEY_FILE: cannot read"),
        ("sftp://u@h/x", {"known_hosts": "/nonexistent/kh"}, "REVIEW_FEED_KNOWN_HOSTS"),
        ("sftp://u@h/x", {"remote_after_apply": "move"}, "REVIEW_FEED_REMOTE_ARCHIVE_DIR"),
        ("ftps://u@h/x", {"ca_bundle": "/nonexistent.pem"}, "REVIEW_FEED_CA_BUNDLE"),
    ]
    for url, env, expect in bad:
        with pytest.raises(ConfigError) as err:
            open_source(make_settings(url, **env))
        assert expect in one_line(err.value)


def test_key_text_with_escaped_newlines(
    sshd, ssh_user, tmp_path, client_keys, host_key, open_remote
):
    """A key pasted into a CI secret as one line with literal \\n still works."""
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    env = key_env(client_keys, host_key)
    env["private_key"] = env["private_key"].strip().replace("\n", "\\n")
    _, fetched = fetch_all(open_remote(sftp_url(sshd, folder, ssh_user), **env))
    assert len(fetched) == 3


def test_the_documented_pinning_commands_work(
    sshd, ssh_user, tmp_path, client_keys, host_key, open_remote
):
    """`ssh-keyscan -H -p PORT host > known_hosts` and `ssh-keygen -lf` as the README says."""
    import shutil
    import subprocess

    from tests.conftest import require

    require(shutil.which("ssh-keyscan") is not None, "ssh-keyscan (openssh-client) is missing")
    folder = write_feed(tmp_path / "drop", SMALL_FEED)
    scan = subprocess.run(
        ["ssh-keyscan", "-H", "-t", "ed25519", "-p", str(sshd.port), "127.0.0.1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    known = tmp_path / "known_hosts"
    known.write_text(scan.stdout)
    assert scan.stdout.startswith("|1|")  # hashed host names are understood too
    listed, _ = fetch_all(
        open_remote(
            sftp_url(sshd, folder, ssh_user),
            private_key=client_keys["ed25519"].private_text,
            known_hosts=str(known),
        )
    )
    assert len(listed) == 3
    printed = subprocess.run(
        ["ssh-keygen", "-lf", str(known)], capture_output=True, text=True, check=True
    ).stdout
    assert printed.split()[1] == host_key.fingerprint  # the form REVIEW_FEED_HOST_KEY_SHA256 takes
