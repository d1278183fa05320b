"""A feed server that lies: listings smaller than the file, size facts and SIZE answers that
are not numbers. Real servers on 127.0.0.1 (pyftpdlib, OpenSSH sshd); each lie is one line
naming the file, exit 4, the honest files applied, nothing written outside snapshot and cache."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from review_feed.errors import SourceError
from review_feed.sources.remote import SIZE_MARGIN

from .conftest import OLD, PASSWORD, write_feed
from .test_sftp import key_env, one_line, sftp_url
from .test_sync_e2e import cli, remote_env

SITE_HEADER = "action\treview_id\treview_date\trate\treview\tfirstname\tlastname\n"
BIG = 8 * 1024 * 1024  # served for a listed 64 bytes


def site_csv(review_id: str) -> bytes:
    return (
        SITE_HEADER + f"NEW\t{review_id}\t2026-11-20 10:00:00\t4\tBien\tEva\tGarnier\n"
    ).encode()


def snapshot_ids(snap: Path) -> list[str]:
    return sorted(
        r["id"] for p in snap.rglob("reviews/**/*.json") for r in json.loads(p.read_text())
    )


def files_of(root: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def sync_ftp(server, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    env = remote_env(tmp_path, password=PASSWORD)
    url = f"ftp://vendor@127.0.0.1:{server.port}/"
    return cli("sync", "--source", url, "--snapshot", "snap", cwd=work, env=env), work


def stopped_after(line: str) -> int:
    return int(re.search(r"stopped after (\d+) bytes", line)[1])


def test_ftp_download_larger_than_its_listing_is_cut_off(lying_ftpd, ftp_root, tmp_path):
    big = "reviews_product_acme_2026-11-02.csv"
    write_feed(ftp_root, {"reviews_site_acme_2026-11-01.csv": site_csv("S1"), big: b"x" * BIG})
    served = files_of(ftp_root)
    r, work = sync_ftp(lying_ftpd(mlsd_sizes={big: "64"}), tmp_path)
    assert "Traceback" not in r.stderr + r.stdout and PASSWORD not in r.stderr + r.stdout
    assert r.returncode == 4, r.stderr
    [line] = [x for x in r.stderr.splitlines() if big in x]
    assert "larger than its listing (64 bytes)" in line
    assert stopped_after(line) <= 64 + SIZE_MARGIN
    assert snapshot_ids(work / "snap") == ["S1"]  # the honest file is applied
    downloads = tmp_path / "remote-cache" / "downloads"
    assert sorted(p.name for p in downloads.iterdir()) == ["reviews_site_acme_2026-11-01.csv"]
    assert files_of(ftp_root) == served and sorted(os.listdir(work)) == ["snap"]
    # plain FTP says so at the default log level, once
    assert r.stderr.count("unencrypted") == 1


def test_ftp_size_facts_and_answers_that_are_not_numbers(lying_ftpd, ftp_root, tmp_path):
    fallback = "reviews_site_acme_2026-11-01.csv"  # MLSD size=²: SIZE is asked instead
    no_size = "reviews_product_acme_2026-11-01.csv"  # MLSD size=² and SIZE "213 abc"
    bad_restat = "reviews_site_other_2026-11-01.csv"  # honest MLSD, SIZE "213 abc"
    write_feed(
        ftp_root, {fallback: site_csv("S1"), no_size: site_csv("P1"), bad_restat: site_csv("O1")}
    )
    server = lying_ftpd(
        mlsd_sizes={fallback: "²", no_size: "²"},
        size_replies={no_size: "213 abc", bad_restat: "213 abc"},
    )
    r, work = sync_ftp(server, tmp_path)
    assert "Traceback" not in r.stderr + r.stdout
    assert r.returncode == 4, r.stderr
    [line] = [x for x in r.stderr.splitlines() if no_size in x]
    assert "cannot read the size" in line and "'213 abc'" in line
    [line] = [x for x in r.stderr.splitlines() if bad_restat in x]
    assert "cannot download" in line and "'213 abc'" in line
    assert snapshot_ids(work / "snap") == ["S1"]


def test_ftp_without_mlsd_a_bad_size_answer_refuses_that_file_only(lying_ftpd, ftp_root, tmp_path):
    bad = "reviews_product_acme_2026-11-01.csv"
    later = "reviews_product_acme_2026-11-02.csv"
    write_feed(
        ftp_root,
        {"reviews_site_acme_2026-11-01.csv": site_csv("S1"), bad: site_csv("P1"), later: b"x"},
    )
    r, work = sync_ftp(lying_ftpd(mlsd=False, size_replies={bad: "213 1e9"}), tmp_path)
    assert "Traceback" not in r.stderr + r.stdout
    assert r.returncode == 4, r.stderr
    [line] = [x for x in r.stderr.splitlines() if bad in x and "waits" not in x]
    assert "cannot read the size" in line and "'213 1e9'" in line
    assert f"skipped {later}: waits for {bad}" in r.stderr  # apply order kept
    assert snapshot_ids(work / "snap") == ["S1"]


def test_sftp_download_larger_than_its_listing_is_cut_off(
    sshd, ssh_user, tmp_path, client_keys, host_key, open_remote
):
    name = "reviews_site_acme_2026-11-01.csv"
    folder = write_feed(tmp_path / "drop", {name: b"x" * 64})
    source = open_remote(sftp_url(sshd, folder, ssh_user), **key_env(client_keys, host_key))
    with source:
        [listed] = source.list()
        assert listed.size == 64
        (folder / name).write_bytes(b"y" * BIG)  # the server now sends far more than listed
        os.utime(folder / name, (OLD, OLD))
        with pytest.raises(SourceError) as err:
            source.fetch(listed)
    line = one_line(err.value)
    assert name in line and "larger than its listing (64 bytes)" in line
    assert stopped_after(line) <= 64 + SIZE_MARGIN
    assert list((tmp_path / "cache" / "downloads").iterdir()) == []


def test_sftp_lying_listing_end_to_end(paramiko_sftpd, host_key, tmp_path):
    big = "reviews_product_acme_2026-11-02.csv"
    write_feed(
        paramiko_sftpd.root / "feed",
        {"reviews_site_acme_2026-11-01.csv": site_csv("S1"), big: b"x" * (2 * 1024 * 1024)},
    )
    paramiko_sftpd.listed_sizes[big] = 64
    work = tmp_path / "work"
    work.mkdir()
    env = remote_env(tmp_path, password=PASSWORD, host_key_sha256=host_key.fingerprint)
    url = f"sftp://vendor@127.0.0.1:{paramiko_sftpd.port}/~/feed"
    r = cli("sync", "--source", url, "--snapshot", "snap", cwd=work, env=env)
    assert "Traceback" not in r.stderr + r.stdout and PASSWORD not in r.stderr + r.stdout
    assert r.returncode == 4, r.stderr
    [line] = [x for x in r.stderr.splitlines() if big in x]
    assert "larger than its listing (64 bytes)" in line
    assert stopped_after(line) <= 64 + SIZE_MARGIN
    assert snapshot_ids(work / "snap") == ["S1"]
    downloads = tmp_path / "remote-cache" / "downloads"
    assert sorted(p.name for p in downloads.iterdir()) == ["reviews_site_acme_2026-11-01.csv"]
