"""The one small interface every source implements (local folder, SFTP, FTP/FTPS)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..errors import ReviewFeedError
from .names import FeedName

logger = logging.getLogger("review_feed.sources")


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """A feed file as listed by a source."""

    feed: FeedName
    size: int
    mtime: float | None  # seconds since the epoch, None when the server does not say


@dataclass(frozen=True, slots=True)
class Fetched:
    """A feed file's bytes on the local disk, with their checksum."""

    remote: RemoteFile
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Refused:
    """A listed file the source will not hand over, and why (one line)."""

    error: ReviewFeedError
    feed: FeedName | None = None  # when its name parsed: later files of its collection wait


@runtime_checkable
class Source(Protocol):
    """List feed files, fetch one, optionally tidy up after it was applied.

    `description` is safe to print: it never holds a password or a key.
    `refused` holds each file the last `list()` refused by its name, type or size
    (feed-shaped but unusable, a symlink in a local folder, a size the server
    cannot tell): the sync reports each in one line and applies the others, the
    later files of a refused file's collection excepted (apply order).
    A source is a context manager and always closes its connection.
    """

    description: str
    refused: list[Refused]

    def list(self) -> list[RemoteFile]:
        """Feed files ready to be applied, in apply order (ignored names logged at debug)."""
        ...

    def fetch(self, remote: RemoteFile) -> Fetched:
        """The file's complete bytes on local disk, size-checked and checksummed."""
        ...

    def after_apply(self, remote: RemoteFile) -> None:
        """Move or delete the applied file on the server, as configured (default: nothing)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Source: ...

    def __exit__(self, *exc: object) -> None: ...
