"""Where feed files come from: a local folder, SFTP, FTP or FTPS, behind one interface."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import ConfigError
from ..settings import Settings
from .base import Fetched, RemoteFile, Source
from .local import LocalSource
from .names import FeedName, parse_name, select
from .url import RemoteURL, parse_remote_url

__all__ = [
    "FeedName",
    "Fetched",
    "LocalSource",
    "RemoteFile",
    "RemoteURL",
    "Source",
    "open_source",
    "parse_name",
    "parse_remote_url",
    "select",
]


def open_source(settings: Settings, base: Path | None = None) -> Source:
    """The source named by REVIEW_FEED_SOURCE (not yet connected; use it as a context manager).

    A local path or file:// URL gives a LocalSource; sftp://, ftp:// and ftps://
    give remote sources, which connect on first use and download into
    `<REVIEW_FEED_CACHE>/downloads`. Relative paths resolve against `base`.
    Raises ConfigError for a setting that cannot work (never echoing a secret).
    """
    url = settings.source
    if not url:
        raise ConfigError("REVIEW_FEED_SOURCE is not set: give a folder or an sftp://, ftp:// URL")
    m = _SCHEME.match(url)
    scheme = m[1].lower() if m else ""
    if scheme in ("sftp", "ftp", "ftps"):
        return _open_remote(settings, parse_remote_url(url), base)
    if scheme not in ("", "file"):
        raise ConfigError(
            f"REVIEW_FEED_SOURCE has an unsupported scheme {scheme!r}: use a folder, file://, "
            "sftp://, ftp:// or ftps://"
        )
    if not scheme and _MISTYPED_URL.search(url):
        # Never repeat it: a mistyped URL may hold a password.
        raise ConfigError(
            "REVIEW_FEED_SOURCE looks like a mistyped URL, not a folder (it is not repeated "
            "here: it may hold a password); write sftp://user@host/path, ftp:// or ftps://, "
            "or a plain folder path"
        )
    path = unquote(urlsplit(url).path) if scheme == "file" else url
    return LocalSource(settings.path(path, base), settings.website_ids)


# `name://` at the start: a URL (anything else is a local path, `C:\\...` included).
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+)://")
# `sftp//host`, `sftp:/host`, `ftp:host`, or `user:secret@` anywhere: not a folder.
_MISTYPED_URL = re.compile(r"^(?:s?ftps?|file|ssh|scp)(?::|//)|:[^/@]*@", re.IGNORECASE)


def _open_remote(settings: Settings, url: RemoteURL, base: Path | None) -> Source:
    # Imported here so that a local-only site never loads paramiko.
    from .remote import RemoteSource

    if settings.remote_after_apply == "move" and not settings.remote_archive_dir:
        raise ConfigError(
            "REVIEW_FEED_REMOTE_AFTER_APPLY=move needs REVIEW_FEED_REMOTE_ARCHIVE_DIR "
            "(a folder on the server, relative to the source folder or absolute)"
        )
    common = dict(
        cache=settings.path(settings.cache, base) / "downloads",
        website_ids=settings.website_ids,
        min_age=settings.min_age,
        timeout=settings.timeout,
        retries=settings.retries,
        after_apply=settings.remote_after_apply,
        archive_dir=settings.remote_archive_dir,
    )
    source: RemoteSource
    if url.scheme == "sftp":
        from .sftp import SFTPSource
        from .sshkeys import HostKeyCheck, load_private_key, looks_like_known_hosts

        known_hosts = settings.known_hosts  # a file, or the file's text (a CI secret)
        if known_hosts and not looks_like_known_hosts(known_hosts):
            known_hosts = str(settings.path(known_hosts, base))
        source = SFTPSource(
            url,
            hostkeys=HostKeyCheck(url.host, url.port, known_hosts, settings.host_key_sha256),
            pkey=load_private_key(settings.private_key, settings.key_file, settings.key_passphrase),
            password=settings.password,
            **common,
        )
    else:
        from .ftp import FTPSource

        ca_bundle = str(settings.path(settings.ca_bundle, base)) if settings.ca_bundle else None
        source = FTPSource(url, password=settings.password, ca_bundle=ca_bundle, **common)
    return source
