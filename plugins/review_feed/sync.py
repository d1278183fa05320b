"""One sync: sources -> feed -> store.

Lock the snapshot, read its ledger, list the source, plan each feed file from
the ledger (`plan`: apply, skip, refuse), fetch and read the new ones and apply
them in order in memory, write once, then let the source tidy up the applied
files. Every `ReviewFeedError` becomes one line in the report (`report`); nothing
of a broken file is applied or recorded, so the next run tries it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, closing
from itertools import chain
from pathlib import Path

from .checksums import ChecksumCache, checksum_cache
from .errors import ConfigError, FeedFileError, ReviewFeedError, StoreError
from .feed import FeedOptions
from .model import FileCounts
from .parallel import read_staged
from .plan import Decision, Step, apply_key, plan
from .report import STRICT_EXIT, AppliedFile, FileError, SkippedFile, SyncReport
from .settings import Settings
from .sources import open_source
from .sources.base import RemoteFile, Source
from .sources.local import sha256_file
from .sources.names import FeedName, parse_name
from .staging import Tally
from .store import LedgerEntry, Snapshot, Staged
from .store.layout import DEFAULT_LAYOUT, Layout

__all__ = ["SyncReport", "plan_files", "run_sync"]

logger = logging.getLogger("review_feed.sync")


class _StrictRejected(Exception):
    """Rows were rejected in strict mode: the file's rows must not be applied."""

    def __init__(self, tally: Tally) -> None:
        super().__init__()
        self.tally = tally

    def refuse(self, report: SyncReport, name: str, advice: str = "") -> None:
        """Record file `name` as not applied: its rejected rows, and one error line."""
        report.problems += self.tally.problems
        n = len(self.tally.problems)
        what = f"{name}: not applied, {n} row(s) rejected in strict mode{advice}"
        report.errors.append(FileError(what, STRICT_EXIT))


def feed_options(settings: Settings) -> FeedOptions:
    try:
        return FeedOptions.from_settings(settings)
    except ValueError as exc:
        raise ConfigError(f"REVIEW_FEED_FIELD_MAP / REVIEW_FEED_MAX_FIELD_SIZE: {exc}") from None


def _strict_end(tally: Tally, strict: bool) -> Iterator[Staged]:
    """Nothing; at the end of a file's rows, in strict mode, a rejected row stops it all."""
    if strict and tally.problems:
        raise _StrictRejected(tally)
    yield from ()


def apply_file(
    snap: Snapshot, path: Path, name: FeedName, options: FeedOptions, *, strict: bool, full: bool
) -> Tally:
    """Apply a file's rows (all or nothing: a FeedFileError, even after rows, applies none).
    `full`: the file is the complete truth of its collection (a full resync). What the file
    held is in the returned `Tally` (and in _StrictRejected)."""
    tally = Tally()
    with closing(read_staged(path, name, options, snap.keep_order_ref, tally)) as rows:
        snap.apply_staged(name.collection, chain(rows, _strict_end(tally, strict)), replace=full)
    return tally


def _entry(feed: FeedName, size: int, sha: str, counts: FileCounts, full: bool) -> LedgerEntry:
    return LedgerEntry(
        name=feed.name,
        kind=feed.kind,
        website_id=feed.website_id,
        date=feed.date,
        size=size,
        sha256=sha,
        counts=counts,
        full=full,
    )


def _full_resync(snap: Snapshot, path: Path, options: FeedOptions, report: SyncReport) -> bool:
    """Make the file the complete truth of its collection. False when it could not be used."""
    feed = parse_name(path.name)
    if feed is None:
        raise ConfigError(
            f"--full {path}: not a feed file name "
            "(expected reviews_<site|product>_<websiteId>_<date>.csv|xml)"
        )
    if not path.is_file():
        raise ConfigError(f"--full {path}: no such file")
    try:
        size, sha = sha256_file(path)
        tally = apply_file(snap, path, feed, options, strict=report.strict, full=True)
    except OSError as exc:
        raise ConfigError(f"--full {path}: cannot read it: {exc.strerror or exc}") from None
    except FeedFileError as exc:
        report.errors.append(FileError(str(exc), exc.exit_code))
        return False
    except _StrictRejected as exc:
        exc.refuse(report, feed.name)
        return False
    report.problems += tally.problems
    report.vendor_averages += tally.averages
    entry = _entry(feed, size, sha, tally.counts, full=True)
    for gone in snap.forget(feed.collection):
        if gone.key > entry.key:
            report.warnings.append(
                f"{gone.name} is dated after the full file {feed.name}: dropped from the "
                "ledger, it is applied again from the source when the source still has it"
            )
    snap.record(entry)
    report.applied.append(
        AppliedFile(feed.name, feed.kind, feed.website_id, tally.counts, full=True)
    )
    return True


def run_sync(
    settings: Settings,
    *,
    dry_run: bool = False,
    full: Path | None = None,
    base: Path | None = None,
    source: Source | None = None,
    layout: Layout = DEFAULT_LAYOUT,
) -> SyncReport:
    """Apply every new feed file of the source to the snapshot (see the module docstring).

    Raises ReviewFeedError only when nothing could be done at all (bad setting,
    source unreachable, snapshot locked or damaged); per-file trouble goes in
    the report.
    """
    root = settings.path(settings.snapshot, base)
    report = SyncReport(snapshot=root, dry_run=dry_run, strict=settings.strict)
    options = feed_options(settings)
    read_only = dry_run and not root.exists()
    with ExitStack() as stack:
        if source is None and (settings.source or full is None):  # a bad URL: before any write
            source = stack.enter_context(open_source(settings, base))
        snap = stack.enter_context(
            Snapshot(root, layout, keep_order_ref=settings.store_order_ref, read_only=read_only)
        )
        if full is not None:
            _full_resync(snap, Path(full), options, report)
        applied: list[RemoteFile] = []
        cache: ChecksumCache | None = None
        if source is not None:
            report.source = source.description
            cache = checksum_cache(settings, base, source)
            applied = _apply_source(snap, source, settings, options, report, cache)
        report.changes = snap.changes()
        if not dry_run:
            report.files_written = snap.commit()
            if cache is not None:
                cache.save()
            _after_apply(source, applied, report)
    for _level, line in report.lines():  # the caller prints the report; debug keeps a trace
        logger.debug("[review-feed] %s", line)
    return report


def _after_apply(source: Source | None, applied: list[RemoteFile], report: SyncReport) -> None:
    for remote in applied:
        try:
            source.after_apply(remote)  # type: ignore[union-attr]
        except ReviewFeedError as exc:
            report.warnings.append(str(exc))


def plan_files(snap: Snapshot, remotes: Iterable[RemoteFile], cache: ChecksumCache) -> list[Step]:
    """The plan for the listed files, given the ledger and the download-checksum cache."""
    remotes = list(remotes)
    verified = {r.feed.name: sha for r in remotes if (sha := cache.sha256(r)) is not None}
    return plan(snap.ledger, remotes, verified)


def _apply_source(
    snap: Snapshot,
    source: Source,
    settings: Settings,
    options: FeedOptions,
    report: SyncReport,
    cache: ChecksumCache,
) -> list[RemoteFile]:
    wanted = set(settings.website_ids)
    remotes = [r for r in source.list() if not wanted or r.feed.website_id in wanted]
    # collection -> the first file that could not be applied: the later ones wait for it
    blocked: dict[tuple[str, str], FeedName] = {}
    for refused in source.refused:
        report.errors.append(FileError(str(refused.error), refused.error.exit_code))
        if refused.feed is not None:
            _block(blocked, refused.feed)
    applied: list[RemoteFile] = []
    for step in plan_files(snap, remotes, cache):
        feed = step.remote.feed
        waits_for = blocked.get(feed.collection)
        if waits_for is not None and apply_key(waits_for) < apply_key(feed):
            report.skipped.append(
                SkippedFile(
                    feed.name,
                    f"waits for {waits_for.name}, which could not be applied "
                    "(files of a collection apply in date order)",
                )
            )
        elif not _not_applied(step, report):
            outcome = _apply_one(snap, source, step, options, report, cache)
            if outcome is True:
                applied.append(step.remote)
            elif outcome is False:
                _block(blocked, feed)
    return applied


def _block(blocked: dict[tuple[str, str], FeedName], feed: FeedName) -> None:
    old = blocked.get(feed.collection)
    if old is None or apply_key(feed) < apply_key(old):
        blocked[feed.collection] = feed


def _not_applied(step: Step, report: SyncReport) -> bool:
    """Report a step that applies nothing (already applied, superseded, late, conflict)."""
    name = step.remote.feed.name
    match step.decision:
        case Decision.ALREADY:
            report.already_applied += 1
        case Decision.SUPERSEDED:
            logger.debug("[review-feed] %s: %s", name, step.reason)
        case Decision.LATE:
            report.skipped.append(SkippedFile(name, step.reason))
        case Decision.CONFLICT:
            report.errors.append(FileError(step.reason, StoreError.exit_code))
        case _:
            return False
    return True


def _apply_one(
    snap: Snapshot,
    source: Source,
    step: Step,
    options: FeedOptions,
    report: SyncReport,
    cache: ChecksumCache,
) -> bool | None:
    """True when applied, False when it failed (later files of its collection wait), None
    when there was nothing to do."""
    remote = step.remote
    feed = remote.feed
    try:
        fetched = source.fetch(remote)
    except ReviewFeedError as exc:
        report.errors.append(FileError(str(exc), exc.exit_code))
        return False
    cache.remember(remote, fetched.sha256)
    if step.decision is Decision.VERIFY:
        if fetched.sha256 == step.applied_sha256:
            report.already_applied += 1
            return None
        assert step.if_changed is not None  # planned with every VERIFY
        step = step.if_changed
        if _not_applied(step, report):
            return None
    try:
        tally = apply_file(snap, fetched.path, feed, options, strict=report.strict, full=False)
    except ReviewFeedError as exc:
        report.errors.append(FileError(str(exc), exc.exit_code))
        return False
    except _StrictRejected as exc:
        exc.refuse(report, feed.name, "; fix the file or run without --strict")
        return False
    report.problems += tally.problems
    report.vendor_averages += tally.averages
    resend = step.decision is Decision.RESEND
    if resend:
        report.warnings.append(
            f"{feed.name} was re-sent with different content: applied again on top of the "
            "first version (reviews only the first version held stay; a full resync removes them)"
        )
    snap.record(_entry(feed, fetched.size, fetched.sha256, tally.counts, full=False))
    report.applied.append(
        AppliedFile(feed.name, feed.kind, feed.website_id, tally.counts, resent=resend)
    )
    return True
