"""A local folder as a source: the bundled sample feed, a mounted drop, tests."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from ..errors import SourceError
from .base import Fetched, RemoteFile
from .names import select

logger = logging.getLogger("review_feed.sources.local")

_CHUNK = 1 << 20


def sha256_file(path: Path) -> tuple[int, str]:
    """(size, hex sha256) of a file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            size += len(chunk)
            h.update(chunk)
    return size, h.hexdigest()


class LocalSource:
    """Reads feed files in place: nothing is copied."""

    def __init__(self, folder: Path, website_ids: tuple[str, ...] = ()) -> None:
        self.folder = Path(folder)
        self.website_ids = website_ids
        self.description = str(self.folder)

    def list(self) -> list[RemoteFile]:
        try:
            entries = {p.name: p for p in self.folder.iterdir() if p.is_file()}
        except OSError as exc:
            raise SourceError(
                f"cannot list the source folder {self.folder}: {exc.strerror or exc}"
            ) from None
        picked, ignored = select(sorted(entries), self.website_ids)
        for name in ignored:
            logger.debug("[review-feed] ignored %s (not a feed name, or another website id)", name)
        out = []
        for feed in picked:
            st = entries[feed.name].stat()
            out.append(RemoteFile(feed=feed, size=st.st_size, mtime=st.st_mtime))
        return out

    def fetch(self, remote: RemoteFile) -> Fetched:
        path = self.folder / remote.feed.name
        try:
            size, digest = sha256_file(path)
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
        return Fetched(remote=remote, path=path, size=size, sha256=digest)

    def after_apply(self, remote: RemoteFile) -> None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> LocalSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
