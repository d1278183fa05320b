"""One sync: sources -> feed -> store.

Lock the snapshot, read its ledger, list the source, plan each feed file from
the ledger (`plan`: apply, skip, refuse), fetch and read the new ones and apply
them in order in memory, write once, then let the source tidy up the applied
files. Every `ReviewFeedError` becomes one line in the report (`report`); nothing
of a broken file is applied or recorded, so the next run tries it again.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from .checksums import ChecksumCache, checksum_cache
from .errors import ConfigError, FeedFileError, ReviewFeedError, StoreError
from .feed import FeedOptions, read_feed, read_lines
from .model import Action, FileCounts, LineRow, Row, RowProblem, VendorAverage
from .plan import Decision, Step, plan
from .report import STRICT_EXIT, AppliedFile, FileError, SkippedFile, SyncReport
from .settings import Settings
from .sources import open_source
from .sources.base import RemoteFile, Source
from .sources.local import sha256_file
from .sources.names import FeedName, parse_name
from .store import LedgerEntry, Snapshot
from .store.layout import DEFAULT_LAYOUT, Layout

__all__ = ["SyncReport", "plan_files", "run_sync"]

logger = logging.getLogger("review_feed.sync")


@dataclass(slots=True)
class _Parsed:
    rows: list[Row]
    problems: list[str]
    counts: FileCounts
    averages: int


def feed_options(settings: Settings) -> FeedOptions:
    try:
        return FeedOptions.from_settings(settings)
    except ValueError as exc:
        raise ConfigError(f"REVIEW_FEED_FIELD_MAP / REVIEW_FEED_MAX_FIELD_SIZE: {exc}") from None


def _rows(path: Path, name: FeedName, options: FeedOptions, parsed: _Parsed) -> Iterator[Row]:
    """The file's valid rows; problems, per-action counts and vendor averages go to `parsed`."""
    counts = parsed.counts
    for item in read_feed(path, name, options):
        if isinstance(item, RowProblem):
            parsed.problems.append(str(item))
            counts.rejected += 1
        elif isinstance(item, VendorAverage):
            parsed.averages += 1
        else:
            if item.action is Action.NEW:
                counts.new += 1
            elif item.action is Action.UPDATE:
                counts.update += 1
            else:
                counts.delete += 1
            yield item


def _tally(parsed: _Parsed, batch: list) -> list[LineRow]:
    """A batch of `read_lines`: its LineRows; problems, counts and averages go to `parsed`."""
    rows = batch
    if not all(x.__class__ is tuple for x in batch):
        rows = []
        for item in batch:
            if item.__class__ is tuple:
                rows.append(item)
            elif isinstance(item, RowProblem):
                parsed.problems.append(str(item))
                parsed.counts.rejected += 1
            else:
                parsed.averages += 1
    by_action = Counter(map(itemgetter(0), rows))
    parsed.counts.new += by_action[Action.NEW]
    parsed.counts.update += by_action[Action.UPDATE]
    parsed.counts.delete += by_action[Action.DELETE]
    return rows


def parse_file(path: Path, name: FeedName, options: FeedOptions) -> _Parsed:
    """Every item of a file, buffered: a FeedFileError (even after rows) means nothing applies."""
    parsed = _Parsed([], [], FileCounts(), 0)
    parsed.rows.extend(_rows(path, name, options, parsed))
    return parsed


def stream_file(snap: Snapshot, path: Path, name: FeedName, options: FeedOptions) -> _Parsed:
    """Apply a file's rows while reading it, into a collection that is empty and untouched
    (see `Snapshot.empty_and_untouched`): no buffer of every row (a full load of a million
    reviews), and the rows come encoded (`model.LineRow`), the store's fastest fold. If the
    file turns out broken, the collection is discarded (nothing is written before commit),
    so as with `parse_file`, nothing of it applies."""
    parsed = _Parsed([], [], FileCounts(), 0)
    kind, website_id = name.kind, name.website_id
    try:
        for batch in read_lines(path, name, options):
            snap.apply_lines(kind, website_id, _tally(parsed, batch))
    except BaseException:
        snap.discard(kind, website_id)
        raise
    return parsed


def _drain(rows: list[Row]) -> Iterator[Row]:
    """The rows in order, each let go of once applied (their reviews are freed as they go)."""
    for i in range(len(rows)):
        row = rows[i]
        rows[i] = None  # type: ignore[call-overload]
        yield row


def apply_file(
    snap: Snapshot, path: Path, feed: FeedName, options: FeedOptions, *, strict: bool, full: bool
) -> _Parsed:
    """Read one feed file and apply its valid rows to the snapshot, all or nothing.

    A FeedFileError (even after rows) leaves the collection as it was, and so do
    rejected rows in strict mode (the caller sees them in the result's problems).
    `full` makes the file the whole collection (a full resync).
    """
    kind, website_id = feed.kind, feed.website_id
    streamed = not full and snap.empty_and_untouched(kind, website_id)
    parsed = stream_file(snap, path, feed, options) if streamed else parse_file(path, feed, options)
    if strict and parsed.problems:
        if streamed:
            snap.discard(kind, website_id)
        return parsed
    if full:
        snap.clear(kind, website_id)
    elif not streamed:
        snap.locate(parsed.rows)
    if not streamed:
        snap.apply(_drain(parsed.rows))
    return parsed


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
        parsed = apply_file(snap, path, feed, options, strict=report.strict, full=True)
    except OSError as exc:
        raise ConfigError(f"--full {path}: cannot read it: {exc.strerror or exc}") from None
    except FeedFileError as exc:
        report.errors.append(FileError(str(exc), exc.exit_code))
        return False
    report.problems += parsed.problems
    report.vendor_averages += parsed.averages
    if report.strict and parsed.problems:
        report.errors.append(
            FileError(
                f"{feed.name}: not applied, {len(parsed.problems)} row(s) rejected in strict mode",
                STRICT_EXIT,
            )
        )
        return False
    entry = _entry(feed, size, sha, parsed.counts, full=True)
    for gone in snap.forget(feed.collection):
        if gone.key > entry.key:
            report.warnings.append(
                f"{gone.name} is dated after the full file {feed.name}: dropped from the "
                "ledger, it is applied again from the source when the source still has it"
            )
    snap.record(entry)
    report.applied.append(
        AppliedFile(feed.name, feed.kind, feed.website_id, parsed.counts, full=True)
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
    report.errors += [FileError(str(exc), exc.exit_code) for exc in source.refused]
    blocked: dict[tuple[str, str], str] = {}  # collection -> the failed file holding it back
    applied: list[RemoteFile] = []
    for step in plan_files(snap, remotes, cache):
        feed = step.remote.feed
        if feed.collection in blocked:
            report.skipped.append(
                SkippedFile(
                    feed.name,
                    f"waits for {blocked[feed.collection]}, which could not be applied "
                    "(files of a collection apply in date order)",
                )
            )
        elif not _not_applied(step, report):
            outcome = _apply_one(snap, source, step, options, report, cache)
            if outcome is True:
                applied.append(step.remote)
            elif outcome is False:
                blocked[feed.collection] = feed.name
    return applied


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
        parsed = apply_file(snap, fetched.path, feed, options, strict=report.strict, full=False)
    except ReviewFeedError as exc:
        report.errors.append(FileError(str(exc), exc.exit_code))
        return False
    report.problems += parsed.problems
    report.vendor_averages += parsed.averages
    if report.strict and parsed.problems:
        report.errors.append(
            FileError(
                f"{feed.name}: not applied, {len(parsed.problems)} row(s) rejected in strict "
                "mode; fix the file or run without --strict",
                STRICT_EXIT,
            )
        )
        return False
    resend = step.decision is Decision.RESEND
    if resend:
        report.warnings.append(
            f"{feed.name} was re-sent with different content: applied again on top of the "
            "first version (reviews only the first version held stay; a full resync removes them)"
        )
    snap.record(_entry(feed, fetched.size, fetched.sha256, parsed.counts, full=False))
    report.applied.append(
        AppliedFile(feed.name, feed.kind, feed.website_id, parsed.counts, resent=resend)
    )
    return True
