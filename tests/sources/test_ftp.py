"""FTP and FTPS against a real pyftpdlib server (a subprocess on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import logging
import os
import time

import pytest
from review_feed.errors import SourceError
from review_feed.sources import LocalSource
from review_feed.sources import ftp as ftp_mod
from review_feed.sources import remote as remote_mod
from review_feed.sources.ftp import parse_ftp_time, parse_list_line

from .conftest import OLD, PASSWORD, SMALL_FEED, copy_feed, write_feed
from .test_sftp import assert_same_as_local, fetch_all, one_line


def url(server, scheme="ftp", path="/") -> str:
    return f"{scheme}://vendor@127.0.0.1:{server.port}{path}"


def ftps_env(tls_cert) -> dict[str, str]:
    return {"password": PASSWORD, "ca_bundle": str(tls_cert[0])}


def test_ftp_brings_the_same_files_as_the_local_folder(ftpd, ftp_root, tmp_path, open_remote):
    write_feed(ftp_root, SMALL_FEED)
    listed, fetched = fetch_all(open_remote(url(ftpd), password=PASSWORD))
    assert len(listed) == 3
    assert_same_as_local(ftp_root, listed, fetched, tmp_path / "cache" / "downloads")


def test_ftp_sub_folder_and_home_relative_path(ftpd, ftp_root, tmp_path, open_remote):
    write_feed(ftp_root / "in", SMALL_FEED)
    for path in ("/in", "/~/in"):
        listed, fetched = fetch_all(open_remote(url(ftpd, path=path), password=PASSWORD))
        assert_same_as_local(ftp_root / "in", listed, fetched, tmp_path / "cache" / "downloads")


def test_ftps_brings_the_same_files_and_reuses_the_tls_session(
    ftpsd, ftp_root, tmp_path, tls_cert, open_remote, monkeypatch
):
    write_feed(ftp_root, SMALL_FEED)
    reused = []
    real = ftp_mod.ReuseSessionFTP_TLS.ntransfercmd

    def spy(self, cmd, rest=None):
        conn, size = real(self, cmd, rest)
        reused.append((type(conn).__name__, conn.session_reused))
        return conn, size

    monkeypatch.setattr(ftp_mod.ReuseSessionFTP_TLS, "ntransfercmd", spy)
    listed, fetched = fetch_all(open_remote(url(ftpsd, "ftps"), **ftps_env(tls_cert)))
    assert_same_as_local(ftp_root, listed, fetched, tmp_path / "cache" / "downloads")
    # every data connection (MLSD, each RETR) is TLS and resumed the control session
    assert reused == [("SSLSocket", True)] * (1 + len(fetched))


def test_whole_sample_feed_over_ftp_and_ftps(
    ftpsd, ftp_root, tmp_path, tls_cert, sample_feed, open_remote
):
    if not LocalSource(sample_feed).list():
        pytest.skip("sample-feed/ has no feed files yet")
    copy_feed(sample_feed, ftp_root)
    listed, fetched = fetch_all(open_remote(url(ftpsd, "ftps"), **ftps_env(tls_cert)))
    assert_same_as_local(ftp_root, listed, fetched, tmp_path / "cache" / "downloads")


def test_ftps_refuses_an_untrusted_certificate(ftpsd, ftp_root, open_remote):
    write_feed(ftp_root, SMALL_FEED)
    source = open_remote(url(ftpsd, "ftps"), password=PASSWORD, retries="2")
    source.backoff = 5  # not retried: a retry would blow the time limit
    t0 = time.monotonic()
    with pytest.raises(SourceError) as err:
        fetch_all(source)
    msg = one_line(err.value)
    assert "TLS certificate was refused" in msg and "REVIEW_FEED_CA_BUNDLE" in msg
    assert time.monotonic() - t0 < 4


def test_ftps_against_a_plain_ftp_server(ftpd, ftp_root, tls_cert, open_remote):
    source = open_remote(url(ftpd, "ftps"), **ftps_env(tls_cert))
    with pytest.raises(SourceError) as err:
        fetch_all(source)
    assert "does not offer explicit TLS" in one_line(err.value)


def test_list_fallback_without_mlsd(ftpd_no_mlsd, ftp_root, tmp_path, open_remote, caplog):
    write_feed(ftp_root, SMALL_FEED)
    write_feed(ftp_root, {"reviews_site_acme_2026-11-09.csv": b"fresh"}, mtime=time.time())
    with caplog.at_level(logging.INFO, logger="review_feed"):
        listed, fetched = fetch_all(open_remote(url(ftpd_no_mlsd), password=PASSWORD))
    assert "reviews_site_acme_2026-11-09.csv" in caplog.text  # MDTM said: too young
    # the fresh file is not listed: assert_same_as_local compares with the local source
    (ftp_root / "reviews_site_acme_2026-11-09.csv").unlink()
    assert_same_as_local(ftp_root, listed, fetched, tmp_path / "cache" / "downloads")
    assert all(r.mtime and abs(r.mtime - OLD) < 2 for r in listed)  # from MDTM


def test_wrong_password(ftpd, ftp_root, open_remote):
    write_feed(ftp_root, SMALL_FEED)
    source = open_remote(url(ftpd), password="not-it", retries="2")
    source.backoff = 5
    t0 = time.monotonic()
    with pytest.raises(SourceError) as err:
        fetch_all(source)
    msg = one_line(err.value)
    assert msg.startswith(f"cannot list ftp://vendor@127.0.0.1:{ftpd.port}/: login refused")
    assert "REVIEW_FEED_PASSWORD" in msg and "not-it" not in msg
    assert time.monotonic() - t0 < 4


def test_missing_folder(ftpd, open_remote):
    with pytest.raises(SourceError) as err:
        fetch_all(open_remote(url(ftpd, path="/nope"), password=PASSWORD))
    assert "cannot open the folder /nope" in one_line(err.value)


def test_server_down(open_remote):
    from .servers import free_port

    port = free_port()
    with pytest.raises(SourceError) as err:
        fetch_all(open_remote(f"ftp://vendor@127.0.0.1:{port}/", password=PASSWORD, retries="1"))
    msg = one_line(err.value)
    assert "connection refused (after 2 attempts)" in msg and f"port {port}" in msg


@pytest.mark.parametrize("tls", [False, True])
def test_server_killed_during_download_then_next_run_completes(
    ftp_root, tmp_path, tls_cert, open_remote, monkeypatch, tls
):
    from .servers import Ftpd

    big = os.urandom(6 << 20)
    write_feed(ftp_root, {"reviews_product_acme_2026-11-05.csv": big})
    server = Ftpd(ftp_root, "vendor", PASSWORD, tls=tls_cert if tls else None)
    server.start()
    scheme = "ftps" if tls else "ftp"
    env = ftps_env(tls_cert)
    cache = tmp_path / "cache" / "downloads"
    real_write = remote_mod.Sink.write

    def write_then_crash(self, data):
        real_write(self, data)
        if server.proc is not None and self.size >= 1 << 20:
            server.kill()

    monkeypatch.setattr(remote_mod.Sink, "write", write_then_crash)
    try:
        source = open_remote(url(server, scheme), retries="1", **env)
        with pytest.raises(SourceError) as err, source:
            (remote,) = source.list()
            source.fetch(remote)
        assert one_line(err.value).startswith("cannot download reviews_product_acme_2026-11-05")
        assert list(cache.iterdir()) == []
        monkeypatch.setattr(remote_mod.Sink, "write", real_write)
        server.start()  # same port
        _, fetched = fetch_all(open_remote(url(server, scheme), **env))
        assert fetched[0].path.read_bytes() == big
        assert [p.name for p in cache.iterdir()] == ["reviews_product_acme_2026-11-05.csv"]
    finally:
        server.stop()


def test_file_still_being_written(ftpd, ftp_root, open_remote, caplog):
    write_feed(ftp_root, SMALL_FEED)
    write_feed(ftp_root, {"reviews_product_acme_2026-11-09.csv": b"x"}, mtime=time.time() - 30)
    with caplog.at_level(logging.INFO, logger="review_feed"):
        listed, _ = fetch_all(open_remote(url(ftpd), password=PASSWORD))
    assert "reviews_product_acme_2026-11-09.csv" not in [r.feed.name for r in listed]
    assert "reviews_product_acme_2026-11-09.csv on ftp://" in caplog.text
    assert "left for the next run" in caplog.text


@pytest.mark.parametrize("mode", ["move", "delete"])
def test_after_apply(ftpd, ftp_root, open_remote, mode):
    write_feed(ftp_root / "in", SMALL_FEED)
    env = {"password": PASSWORD, "remote_after_apply": mode, "remote_archive_dir": "done"}
    with open_remote(url(ftpd, path="/in"), **env) as source:
        listed = source.list()
        for r in listed:
            source.fetch(r)
            source.after_apply(r)
    left = sorted(p.name for p in (ftp_root / "in").iterdir() if p.is_file())
    assert left == ["README.txt", "reviews_site_acme_2026-11-04.csv.part"]
    archived = ftp_root / "in" / "done"
    assert (sorted(p.name for p in archived.iterdir()) if archived.exists() else []) == (
        sorted(r.feed.name for r in listed) if mode == "move" else []
    )


@pytest.mark.parametrize("tls", [False, True])
def test_big_file(ftp_root, tls_cert, open_remote, tls):
    """Tens of MB arrive intact; the speed is printed (bench script: tests/sources/bench.py)."""
    from .servers import Ftpd

    big = os.urandom(32 << 20)
    write_feed(ftp_root, {"reviews_product_big_2026-11-05.csv": big})
    server = Ftpd(ftp_root, "vendor", PASSWORD, tls=tls_cert if tls else None)
    server.start()
    try:
        scheme = "ftps" if tls else "ftp"
        with open_remote(url(server, scheme), **ftps_env(tls_cert)) as source:
            (remote,) = source.list()
            t0 = time.perf_counter()
            fetched = source.fetch(remote)
            spent = time.perf_counter() - t0
    finally:
        server.stop()
    assert fetched.sha256 == hashlib.sha256(big).hexdigest()
    print(f"{scheme}: {len(big) / spent / 1e6:.1f} MB/s")


def test_no_secret_in_output(ftpsd, ftp_root, tls_cert, open_remote, caplog, capfd):
    write_feed(ftp_root, SMALL_FEED)
    caplog.set_level(logging.DEBUG)
    messages = []
    for pw in (PASSWORD, PASSWORD + "x"):
        try:
            source = open_remote(url(ftpsd, "ftps"), password=pw, ca_bundle=str(tls_cert[0]))
            messages += [repr(source), source.description]
            fetch_all(source)
        except SourceError as exc:
            messages.append(str(exc))
    out, err = capfd.readouterr()
    everything = "\n".join([*messages, caplog.text, out, err])
    assert "login refused" in everything
    assert PASSWORD not in everything


# --- pure parsing ---------------------------------------------------------------------------


def test_parse_list_lines():
    e = parse_list_line(
        "-rw-r--r--    1 ftp      ftp          1234 Nov 27 03:00 reviews_site_a_2026-11-27.csv"
    )
    assert (e.name, e.size, e.is_file) == ("reviews_site_a_2026-11-27.csv", 1234, True)
    e = parse_list_line("drwxr-xr-x    2 ftp ftp 4096 Jan  1  2025 archive")
    assert (e.name, e.is_file) == ("archive", False)
    e = parse_list_line("lrwxrwxrwx 1 u g 9 Nov 27 03:00 reviews_site_a_20261127.xml -> x.xml")
    assert (e.name, e.is_file) == ("reviews_site_a_20261127.xml", True)
    e = parse_list_line("11-27-26  03:00AM                 4321 reviews_product_b_20261127.csv")
    assert (e.name, e.size, e.is_file) == ("reviews_product_b_20261127.csv", 4321, True)
    e = parse_list_line("11-27-26  03:00AM       <DIR>          old")
    assert (e.name, e.is_file) == ("old", False)
    assert parse_list_line("total 12") is None
    # a hostile name is returned as listed: list() refuses it, it never becomes a path
    e = parse_list_line("-rw-r--r-- 1 u g 1 Nov 27 03:00 ../reviews_site_a_2026-11-27.csv")
    assert remote_mod.unsafe_name(e.name)


def test_parse_ftp_time():
    assert parse_ftp_time("20261127030000") == 1795748400.0
    assert parse_ftp_time("20261127030000.5") == 1795748400.5
    assert parse_ftp_time("2026112703") is None
    assert parse_ftp_time("20261327030000") is None
