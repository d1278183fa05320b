"""The download-checksum cache: `<REVIEW_FEED_CACHE>/checked-files.json`.

Files whose checksum was verified, by source, name, size and modification time.
It lets a nightly run skip re-downloading files already applied, while a file
re-sent with the same size but new content is still caught whenever its
modification time changed (or the server gives none, or the cache is gone).
Not part of the snapshot: it holds timestamps. Only a cache: a damaged one is
rebuilt by checking again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from pathlib import Path

import orjson

from .settings import Settings
from .sources.base import RemoteFile, Source

logger = logging.getLogger("review_feed.checksums")

CHECKED_FILE = "checked-files.json"


def _read_no_follow(path: Path) -> bytes | None:
    """The file's bytes; None when it is missing, a symlink or not a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return fh.read()


class ChecksumCache:
    """Verified checksums of listed files (see the module docstring)."""

    def __init__(self, path: Path | None, source: str) -> None:
        self.path = path
        self.source = source
        self.data: dict[str, dict[str, list]] = {}
        raw = _read_no_follow(path) if path is not None else None
        if raw is not None:
            with contextlib.suppress(orjson.JSONDecodeError):
                loaded = orjson.loads(raw)
                if isinstance(loaded, dict):
                    self.data = loaded
        self.dirty = False

    def sha256(self, remote: RemoteFile) -> str | None:
        """The checksum verified earlier for this very listing (name, size, mtime), if any."""
        if remote.mtime is None:
            return None
        mine = self.data.get(self.source)
        got = mine.get(remote.feed.name) if isinstance(mine, dict) else None
        if isinstance(got, list) and len(got) == 3 and got[:2] == [remote.size, remote.mtime]:
            return got[2] if isinstance(got[2], str) else None
        return None

    def remember(self, remote: RemoteFile, sha: str) -> None:
        if remote.mtime is not None:
            mine = self.data.get(self.source)
            if not isinstance(mine, dict):
                mine = self.data[self.source] = {}
            mine[remote.feed.name] = [remote.size, remote.mtime, sha]
            self.dirty = True

    def save(self) -> None:
        """Write the cache through a fresh temporary file (never through a planted symlink)."""
        if self.path is None or not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(orjson.dumps(self.data, option=orjson.OPT_SORT_KEYS))
                os.replace(tmp, self.path)  # replaces a symlink itself, never its target
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            logger.warning("[review-feed] cannot write %s: %s", self.path, exc.strerror or exc)


def checksum_cache(settings: Settings, base: Path | None, source: Source) -> ChecksumCache:
    return ChecksumCache(settings.path(settings.cache, base) / CHECKED_FILE, source.description)
