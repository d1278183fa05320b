"""A local folder as a source: the bundled sample feed, a mounted drop, tests."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
from pathlib import Path

from ..errors import FeedFileError, SourceError
from .base import Fetched, Refused, RemoteFile
from .names import refusal, select

logger = logging.getLogger("review_feed.sources.local")

_CHUNK = 1 << 20


def sha256_file(path: Path, *, follow_symlinks: bool = True) -> tuple[int, str]:
    """(size, hex sha256) of a file, read in chunks.

    With `follow_symlinks=False` a symlink or any non-regular file (a FIFO, a
    device) raises OSError instead of being read.
    """
    flags = os.O_RDONLY if follow_symlinks else os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    h = hashlib.sha256()
    size = 0
    with os.fdopen(os.open(path, flags), "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        while chunk := fh.read(_CHUNK):
            size += len(chunk)
            h.update(chunk)
    return size, h.hexdigest()


def _kind(entry: os.DirEntry) -> str:
    """What a folder entry is, never following a symlink."""
    if entry.is_symlink():
        return "a symbolic link"
    if entry.is_dir(follow_symlinks=False):
        return "a folder"
    return "a file" if entry.is_file(follow_symlinks=False) else "not a regular file"


class LocalSource:
    """Reads feed files in place: nothing is copied.

    Only regular files are read: a symlink or a FIFO named like a feed file is
    refused by name, never opened (its target's text must not reach a message).
    """

    def __init__(self, folder: Path, website_ids: tuple[str, ...] = ()) -> None:
        self.folder = Path(folder)
        self.website_ids = website_ids
        self.description = str(self.folder)
        self.refused: list[Refused] = []

    def list(self) -> list[RemoteFile]:
        try:
            with os.scandir(self.folder) as it:
                kinds = {e.name: _kind(e) for e in it}
        except OSError as exc:
            raise SourceError(
                f"cannot list the source folder {self.folder}: {exc.strerror or exc}"
            ) from None
        files = sorted(name for name, kind in kinds.items() if kind == "a file")
        picked, ignored = select(files, self.website_ids)
        self.refused = [
            Refused(FeedFileError(why))
            for name in ignored
            if (why := refusal(name, self.website_ids))
        ]
        for name in ignored:
            logger.debug("[review-feed] ignored %s (not a feed name, or another website id)", name)
        others, _ = select(sorted(n for n, k in kinds.items() if k != "a file"), self.website_ids)
        self.refused += [
            Refused(
                FeedFileError(
                    f"refused {f.name} in {self.folder}: {kinds[f.name]}, not a regular file "
                    "(feed files must be plain files; it is not read)"
                ),
                f,
            )
            for f in others
        ]
        out = []
        for feed in picked:
            try:
                st = (self.folder / feed.name).stat(follow_symlinks=False)
            except OSError:
                continue  # gone since the listing: the next run sees it again, or not
            out.append(RemoteFile(feed=feed, size=st.st_size, mtime=st.st_mtime))
        return out

    def fetch(self, remote: RemoteFile) -> Fetched:
        path = self.folder / remote.feed.name
        try:
            size, digest = sha256_file(path, follow_symlinks=False)
        except OSError as exc:
            why = "not a regular file" if exc.errno in (errno.EINVAL, errno.ELOOP) else exc.strerror
            raise SourceError(f"cannot read {path}: {why or exc}") from None
        return Fetched(remote=remote, path=path, size=size, sha256=digest)

    def after_apply(self, remote: RemoteFile) -> None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> LocalSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
