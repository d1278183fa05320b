"""Where feed files come from: a local folder, SFTP, FTP or FTPS, behind one interface."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..settings import Settings
from .base import Fetched, RemoteFile, Source
from .local import LocalSource
from .names import FeedName, parse_name, select

__all__ = [
    "FeedName",
    "Fetched",
    "LocalSource",
    "RemoteFile",
    "Source",
    "open_source",
    "parse_name",
    "select",
]


def open_source(settings: Settings, base: Path | None = None) -> Source:
    """The source named by REVIEW_FEED_SOURCE (not yet connected; use it as a context manager)."""
    url = settings.source
    if not url:
        raise ConfigError("REVIEW_FEED_SOURCE is not set: give a folder or an sftp://, ftp:// URL")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("", "file") or (len(scheme) == 1 and url[1:2] == ":"):
        path = Path(parts.path if scheme == "file" else url)
        return LocalSource(settings.path(str(path), base), settings.website_ids)
    raise ConfigError(
        f"REVIEW_FEED_SOURCE has an unsupported scheme {scheme!r}: use a folder, file://, "
        "sftp://, ftp:// or ftps://"
    )
