"""What every remote source shares: listing rules, safe downloads, retries, one-line errors.

A protocol (SFTP, FTP/FTPS) only says how to connect, list, download, stat,
rename and delete. Everything that decides what is safe lives here:

- only documented feed names are picked (`names.select`), local paths are
  built from the parsed parts, never from the remote name;
- a file younger than `min_age` (still being written) is left for the next
  run, and so are the later files of the same collection (apply order);
- downloads go to a temporary name in the cache folder, are size-checked
  against the listing and against a fresh remote stat, then renamed;
- transient network errors are retried with backoff; login and host-key
  failures are not; every failure is ONE line without a secret.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..errors import FeedFileError, SourceError
from .base import Fetched, Refused, RemoteFile
from .failures import Failure, network_failure, short
from .names import FeedName, refusal, select
from .url import RemoteURL

logger = logging.getLogger("review_feed.sources.remote")

T = TypeVar("T")
_MAX_BACKOFF = 30.0
# How many bytes past the listed size a download may run before it is cut off:
# enough to tell "larger than listed" from "exactly as listed".
SIZE_MARGIN = 1 << 16
_RAW_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}")


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a remote listing, before any name is trusted."""

    name: str
    size: int | None
    mtime: float | None
    is_file: bool


class TooLarge(Exception):
    """The server sent more bytes than the listing said (and the margin allows)."""


class Sink:
    """Where downloaded bytes go: the temporary file, hashed as they arrive.

    It takes at most `limit` bytes: a server that sends more than it listed is
    cut off there, so a lying listing cannot fill the disk.
    """

    def __init__(self, fh, path: Path, limit: int) -> None:
        self.fh = fh
        self.path = path
        self.limit = limit
        self.size = 0
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> None:
        if self.size + len(data) > self.limit:
            raise TooLarge
        try:
            self.fh.write(data)
        except OSError as exc:
            raise SourceError(
                f"cannot write the download cache {self.path.parent}: {exc.strerror or exc}; "
                "check free space and REVIEW_FEED_CACHE"
            ) from None
        self._hash.update(data)
        self.size += len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def local_name(feed: FeedName) -> str:
    """The cache file name, rebuilt from the parsed parts (never the remote string itself)."""
    raw_date = feed.name.rsplit("_", 1)[-1].rsplit(".", 1)[0]
    if not _RAW_DATE.fullmatch(raw_date):  # cannot happen for a parsed name; be strict anyway
        raw_date = feed.date
    name = f"reviews_{feed.kind}_{feed.website_id}_{raw_date}.{feed.ext}"
    if "/" in name or "\\" in name or "\x00" in name or name in (".", ".."):
        raise SourceError(f"refused remote file name {feed.name!r}: not a plain file name")
    return name


def unsafe_name(name: str) -> bool:
    """A remote name that must never be used (a path, a parent reference, control characters)."""
    return (
        "/" in name
        or "\\" in name
        or ".." in name
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    )


class RemoteSource:
    """Base of SFTPSource and FTPSource: see the module docstring."""

    def __init__(
        self,
        url: RemoteURL,
        *,
        cache: Path,
        website_ids: tuple[str, ...] = (),
        min_age: float = 600,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 1.0,
        after_apply: str = "keep",
        archive_dir: str | None = None,
    ) -> None:
        self.url = url
        self.description = str(url)
        self.cache = Path(cache)
        self.website_ids = website_ids
        self.min_age = min_age
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.after_apply_mode = after_apply
        self.archive_dir = archive_dir
        self.refused: list[Refused] = []
        self._connected = False
        self._unreachable: Failure | None = None  # connecting failed for good in this run

    # --- what a protocol implements
    def _connect(self) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        raise NotImplementedError

    def _list_entries(self) -> list[Entry]:
        raise NotImplementedError

    def _download(self, name: str, sink: Sink, size: int) -> None:
        raise NotImplementedError

    def _stat(self, name: str) -> tuple[int | None, float | None]:
        raise NotImplementedError

    def _remove(self, name: str) -> None:
        raise NotImplementedError

    def _move(self, name: str, folder: str) -> None:
        raise NotImplementedError

    def _failure(self, exc: BaseException) -> Failure | None:
        """How `exc` reads to the user; None for an unexpected error (a bug: let it show)."""
        return network_failure(exc, self.url, self.timeout)

    # --- the Source interface
    def list(self) -> list[RemoteFile]:
        entries = self._call("cannot list", self._list_entries)
        files: dict[str, Entry] = {}
        for e in entries:
            if unsafe_name(e.name):
                logger.warning(
                    "[review-feed] %s lists a name that is a path, not a file name: %r (ignored)",
                    self.description,
                    short(e.name, 120),
                )
            elif e.is_file:
                files[e.name] = e
        picked, ignored = select(sorted(files), self.website_ids)
        self.refused = [
            Refused(FeedFileError(why))
            for name in ignored
            if (why := refusal(name, self.website_ids))
        ]
        for name in ignored:
            logger.debug("[review-feed] ignored %r (not a feed name, or another website id)", name)
        return self._ready(picked, files)

    def _size_and_mtime(self, feed: FeedName, e: Entry) -> tuple[int, float | None]:
        """The listed size and time, asked for separately when the listing lacks them."""
        size, mtime = e.size, e.mtime
        if size is None or mtime is None:
            s2, m2 = self._call(f"cannot read the size of {feed.name} on", self._stat, e.name)
            size = size if size is not None else s2
            mtime = mtime if mtime is not None else m2
        if size is None:
            raise SourceError(
                f"cannot read the size of {feed.name} on {self.description}: the server "
                "does not say; check that it supports MLSD or SIZE"
            )
        return size, mtime

    def _ready(self, picked: list[FeedName], files: dict[str, Entry]) -> list[RemoteFile]:
        """The picked files old enough to be complete, in apply order."""
        now = time.time()
        waiting: set[tuple[str, str]] = set()
        ready: list[RemoteFile] = []
        for feed in picked:
            try:
                size, mtime = self._size_and_mtime(feed, files[feed.name])
            except SourceError as exc:  # refused; the sync holds back its collection's later files
                self.refused.append(Refused(exc, feed))
                continue
            if feed.collection in waiting:
                logger.info(
                    "[review-feed] %s on %s: left for the next run (an earlier file of the "
                    "same collection is still being written)",
                    feed.name,
                    self.description,
                )
                continue
            if mtime is None:
                logger.info(
                    "[review-feed] %s on %s: the server gives no modification time, so "
                    "REVIEW_FEED_MIN_AGE cannot be checked; the size is re-checked after download",
                    feed.name,
                    self.description,
                )
            elif now - mtime < self.min_age:
                logger.info(
                    "[review-feed] %s on %s was modified %d s ago (REVIEW_FEED_MIN_AGE is %d s): "
                    "it may still be being written, left for the next run",
                    feed.name,
                    self.description,
                    max(0, int(now - mtime)),
                    self.min_age,
                )
                waiting.add(feed.collection)
                continue
            ready.append(RemoteFile(feed=feed, size=size, mtime=mtime))
        return ready

    def fetch(self, remote: RemoteFile) -> Fetched:
        feed = remote.feed
        final = self.cache / local_name(feed)
        try:
            self.cache.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SourceError(
                f"cannot create the download cache {self.cache}: {exc.strerror or exc}; "
                "check REVIEW_FEED_CACHE"
            ) from None

        def attempt() -> Fetched:
            try:
                fd, tmp_name = tempfile.mkstemp(
                    dir=self.cache, prefix=f".{final.name}.", suffix=".part"
                )
            except OSError as exc:
                raise SourceError(
                    f"cannot write the download cache {self.cache}: {exc.strerror or exc}; "
                    "check REVIEW_FEED_CACHE"
                ) from None
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as fh:
                    sink = Sink(fh, tmp, remote.size + SIZE_MARGIN)
                    try:
                        self._download(feed.name, sink, remote.size)
                    except TooLarge:
                        raise SourceError(
                            f"{feed.name} on {self.description} is larger than its listing "
                            f"({remote.size} bytes): the download was stopped after "
                            f"{sink.size} bytes; it is still being written or the server lies, "
                            "and it is fetched again next run"
                        ) from None
                if sink.size != remote.size:
                    raise SourceError(
                        f"incomplete download of {feed.name} from {self.description}: got "
                        f"{sink.size} bytes, the listing said {remote.size}; it is fetched "
                        "again next run"
                    )
                size_after, mtime_after = self._stat(feed.name)
                if size_after != remote.size or (
                    mtime_after is not None
                    and remote.mtime is not None
                    and abs(mtime_after - remote.mtime) > 1
                ):
                    raise SourceError(
                        f"{feed.name} changed on {self.description} while it was downloaded "
                        f"(size {remote.size} -> {size_after}); it is still being written, "
                        "and is fetched again next run (check REVIEW_FEED_MIN_AGE)"
                    )
                os.replace(tmp, final)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return Fetched(remote=remote, path=final, size=sink.size, sha256=sink.hexdigest())

        t0 = time.monotonic()
        fetched = self._call(f"cannot download {feed.name} from", attempt)
        spent = max(time.monotonic() - t0, 1e-6)
        logger.info(
            "[review-feed] fetched %s from %s (%d bytes, %.1f MB/s)",
            feed.name,
            self.description,
            fetched.size,
            fetched.size / spent / 1e6,
        )
        return fetched

    def after_apply(self, remote: RemoteFile) -> None:
        name = remote.feed.name
        if self.after_apply_mode == "delete":
            self._call(f"cannot delete {name} (already applied) on", self._remove, name)
            logger.info("[review-feed] deleted %s on %s", name, self.description)
        elif self.after_apply_mode == "move":
            folder = self.archive_dir or ""
            self._call(
                f"cannot move {name} (already applied) to {folder} on", self._move, name, folder
            )
            logger.info("[review-feed] moved %s to %s on %s", name, folder, self.description)

    def close(self) -> None:
        if self._connected:
            self._connected = False
            self._disconnect()

    def __enter__(self) -> RemoteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connection, retries and messages
    def _call(self, what: str, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` on a live connection, reconnecting and retrying transient failures."""
        if self._unreachable is not None:  # do not wait for a dead server once per file
            f = self._unreachable
            raise SourceError(
                f"{what} {self.description}: {f.why} (earlier in this run); {f.check}"
            )
        attempt = 0
        while True:
            connecting = not self._connected
            try:
                if connecting:
                    self._connected = True  # so close() tidies a half-open connection
                    self._connect()
                    connecting = False
                return fn(*args)
            except SourceError:
                self.close()
                raise
            except Exception as exc:
                failure = self._failure(exc)
                self.close()
                if failure is None:
                    raise
                if not failure.transient or attempt >= self.retries:
                    if connecting and failure.transient:
                        self._unreachable = failure
                    tries = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise SourceError(
                        f"{what} {self.description}: {failure.why}{tries}; {failure.check}"
                    ) from None
                delay = min(self.backoff * 2**attempt, _MAX_BACKOFF)
                attempt += 1
                logger.warning(
                    "[review-feed] %s %s: %s; retry %d of %d in %.1f s",
                    what,
                    self.description,
                    failure.why,
                    attempt,
                    self.retries,
                    delay,
                )
                time.sleep(delay)
