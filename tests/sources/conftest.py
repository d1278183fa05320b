"""Fixtures for the remote source tests: real servers on 127.0.0.1, temporary keys, feed folders."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_feed.settings import load_settings
from review_feed.sources import open_source

from tests.conftest import require

from .servers import SSHD, Ftpd, KeyPair, ParamikoSftpd, Sshd, make_cert, make_key

OLD = time.time() - 3600  # an hour-old file: finished, older than min_age
PASSWORD = "pw-Zq8!sEcReT-91"  # appears in no message, log or output (asserted)
PASSPHRASE = "pp-Kx3#pHrAsE-27"


def write_feed(folder: Path, files: dict[str, bytes], mtime: float = OLD) -> Path:
    """Files in `folder` with an old modification time (a finished drop)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        p = folder / name
        p.write_bytes(data)
        os.utime(p, (mtime, mtime))
    return folder


def copy_feed(src: Path, dst: Path, mtime: float = OLD) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for p in sorted(src.iterdir()):
        if p.is_file():
            shutil.copyfile(p, dst / p.name)
            os.utime(dst / p.name, (mtime, mtime))
    return dst


SMALL_FEED = {
    "reviews_site_acme_2026-11-01.csv": b"action\treview_id\trate\nNEW\tR1\t5\n",
    "reviews_product_acme_20261102.xml": b"<reviews><review action='NEW'/></reviews>\n",
    "reviews_site_acme_2026-11-03.csv": "action\treview\nNEW\tTr\u00e8s bien\n".encode(),
    "README.txt": b"not a feed file\n",
    "reviews_site_acme_2026-11-04.csv.part": b"half",
}


@pytest.fixture
def make_settings(tmp_path):
    """Settings for a remote URL as the environment would give them (small timeouts)."""

    def make(url: str, **env: str):
        environ = {
            "REVIEW_FEED_SOURCE": url,
            "REVIEW_FEED_CACHE": str(tmp_path / "cache"),
            "REVIEW_FEED_TIMEOUT": "3",
            "REVIEW_FEED_RETRIES": "0",
        }
        environ.update({f"REVIEW_FEED_{k.upper()}": v for k, v in env.items()})
        return load_settings(environ=environ)

    return make


@pytest.fixture
def open_remote(make_settings):
    """open_source() for a URL, with a short retry backoff so the suite stays fast."""

    def make(url: str, **env: str):
        source = open_source(make_settings(url, **env))
        source.backoff = 0.05
        return source

    return make


# --- keys shared by the servers (generated once per session) -------------------------------


@pytest.fixture(scope="session")
def host_key() -> KeyPair:
    return make_key("ed25519")


@pytest.fixture(scope="session")
def client_keys() -> dict[str, KeyPair]:
    """Authorized client keys: a plain Ed25519 key, encrypted ECDSA and RSA keys."""
    return {
        "ed25519": make_key("ed25519"),
        "ecdsa": make_key("ecdsa", PASSPHRASE),
        "rsa": make_key("rsa", PASSPHRASE),
    }


def _need_sshd() -> None:
    require(SSHD.exists(), f"{SSHD} (Debian package openssh-server) is not installed")


def _start_sshd(folder: Path, host_key: KeyPair, client_keys: dict[str, KeyPair]) -> Sshd:
    _need_sshd()
    folder.mkdir(parents=True, exist_ok=True)
    server = Sshd(folder, os.environ.get("USER") or "root", host_key, client_keys["ed25519"])
    server.start()
    auth = folder / "authorized_keys"  # every client key may log in
    auth.write_text("".join(k.public_line + "\n" for k in client_keys.values()))
    return server


@pytest.fixture(scope="module")
def sshd(tmp_path_factory, host_key, client_keys) -> Iterator[Sshd]:
    """A real OpenSSH sshd on 127.0.0.1 (shared by a test module)."""
    server = _start_sshd(tmp_path_factory.mktemp("sshd"), host_key, client_keys)
    yield server
    server.stop()


@pytest.fixture
def own_sshd(tmp_path, host_key, client_keys) -> Iterator[Sshd]:
    """An sshd only this test uses (to kill it)."""
    server = _start_sshd(tmp_path / "sshd", host_key, client_keys)
    yield server
    server.stop()


@pytest.fixture
def ssh_user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


@pytest.fixture
def paramiko_sftpd(tmp_path, host_key) -> Iterator[ParamikoSftpd]:
    """An in-process SSH server accepting user `vendor` with PASSWORD; it serves tmp/home."""
    root = tmp_path / "home"
    root.mkdir()
    server = ParamikoSftpd(root, "vendor", PASSWORD, host_key)
    server.start()
    yield server
    server.stop()


# --- FTP and FTPS ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def ftp_root(tmp_path) -> Path:
    root = tmp_path / "ftproot"
    root.mkdir()
    return root


def _ftpd(root: Path, **kw) -> Ftpd:
    server = Ftpd(root, "vendor", PASSWORD, **kw)
    server.start()
    return server


@pytest.fixture
def ftpd(ftp_root) -> Iterator[Ftpd]:
    server = _ftpd(ftp_root)
    yield server
    server.stop()


@pytest.fixture
def ftpsd(ftp_root, tls_cert) -> Iterator[Ftpd]:
    server = _ftpd(ftp_root, tls=tls_cert)
    yield server
    server.stop()


@pytest.fixture
def lying_ftpd(ftp_root) -> Iterator:
    """`lying_ftpd(mlsd_sizes={name: fact}, size_replies={name: text})`: a pyftpdlib server
    whose MLSD size facts and SIZE answers lie for the named files."""
    servers: list[Ftpd] = []

    def start(**kw) -> Ftpd:
        servers.append(_ftpd(ftp_root, **kw))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def ftpd_no_mlsd(ftp_root) -> Iterator[Ftpd]:
    server = _ftpd(ftp_root, mlsd=False)
    yield server
    server.stop()
