"""One sync: sources -> feed -> store.

Lock the snapshot, read its ledger, list the source, decide for each feed file
(apply, skip, refuse), fetch and parse the new ones, fold them in apply order
in memory, write once, then let the source tidy up the applied files. Every
`ReviewFeedError` becomes one line in the report; nothing of a broken file is
applied or recorded, so the next run tries it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from .errors import ConfigError, FeedFileError, ReviewFeedError, StoreError
from .feed import FeedOptions, read_feed
from .model import Action, FileCounts, Row, RowProblem, VendorAverage
from .settings import Settings
from .sources import open_source
from .sources.base import RemoteFile, Source
from .sources.local import sha256_file
from .sources.names import FeedName, parse_name
from .store import Changes, LedgerEntry, Snapshot
from .store.layout import DEFAULT_LAYOUT, Layout

logger = logging.getLogger("review_feed.sync")

STRICT_EXIT = 1  # rows rejected in strict mode


@dataclass(slots=True)
class AppliedFile:
    name: str
    kind: str
    website_id: str
    counts: FileCounts
    full: bool = False
    resent: bool = False  # same name, new content, re-applied on top


@dataclass(slots=True)
class SkippedFile:
    name: str
    reason: str


@dataclass(slots=True)
class FileError:
    message: str  # one line, names the file
    exit_code: int


@dataclass(slots=True)
class SyncReport:
    """What a sync did; `exit_code` is the command's exit status."""

    snapshot: Path
    source: str | None = None
    dry_run: bool = False
    strict: bool = False
    applied: list[AppliedFile] = field(default_factory=list)
    already_applied: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # rejected rows, one line each
    errors: list[FileError] = field(default_factory=list)
    changes: dict[tuple[str, str], Changes] = field(default_factory=dict)
    vendor_averages: int = 0
    files_written: int = 0

    @property
    def exit_code(self) -> int:
        codes = [e.exit_code for e in self.errors]
        if self.strict and self.problems:
            codes.append(STRICT_EXIT)
        return max(codes, default=0)

    @property
    def rows(self) -> FileCounts:
        total = FileCounts()
        for f in self.applied:
            total.new += f.counts.new
            total.update += f.counts.update
            total.delete += f.counts.delete
            total.rejected += f.counts.rejected
        return total

    @property
    def added(self) -> int:
        return self.total_changes.added

    @property
    def updated(self) -> int:
        return self.total_changes.updated

    @property
    def removed(self) -> int:
        return self.total_changes.removed

    @property
    def full(self) -> bool:
        """True when a full resync was applied."""
        return any(f.full for f in self.applied)

    @property
    def total_changes(self) -> Changes:
        total = Changes()
        for ch in self.changes.values():
            total += ch
        return total

    def summary(self) -> str:
        """One line: what was applied and what it changed (also the nightly commit message)."""
        rows = self.rows
        ch = self.total_changes
        verb = "would apply" if self.dry_run else "applied"
        if self.applied:
            parts = [
                f"{verb} {len(self.applied)} file(s)",
                f"rows: {rows.new} new, {rows.update} update, {rows.delete} delete, "
                f"{len(self.problems)} rejected",
                f"reviews: {ch.added} added, {ch.updated} updated, {ch.removed} removed",
            ]
        else:
            parts = ["no new file"]
        if self.already_applied:
            parts.append(f"{self.already_applied} already applied")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.errors:
            parts.append(f"{len(self.errors)} file error(s)")
        return "; ".join(parts)

    def lines(self) -> list[tuple[int, str]]:
        """(logging level, message) per line, in order: files, warnings, problems, errors."""
        out: list[tuple[int, str]] = []
        for f in self.applied:
            c = f.counts
            how = " (full resync)" if f.full else " (re-sent, applied again)" if f.resent else ""
            out.append(
                (
                    logging.INFO,
                    f"{f.name}{how}: {c.new} new, {c.update} update, {c.delete} delete, "
                    f"{c.rejected} rejected",
                )
            )
        out += [(logging.WARNING, f"skipped {s.name}: {s.reason}") for s in self.skipped]
        out += [(logging.WARNING, w) for w in self.warnings]
        out += [(logging.WARNING, f"rejected row: {p}") for p in self.problems]
        out += [(logging.ERROR, e.message) for e in self.errors]
        return out


@dataclass(slots=True)
class _Parsed:
    problems: list[str]
    counts: FileCounts
    averages: int


class _StrictRejected(Exception):
    """Rows were rejected in strict mode: the file's rows must not be applied."""

    def __init__(self, parsed: _Parsed) -> None:
        super().__init__()
        self.parsed = parsed


def feed_options(settings: Settings) -> FeedOptions:
    try:
        return FeedOptions.from_settings(settings)
    except ValueError as exc:
        raise ConfigError(f"REVIEW_FEED_FIELD_MAP / REVIEW_FEED_MAX_FIELD_SIZE: {exc}") from None


def _rows(
    path: Path, name: FeedName, options: FeedOptions, parsed: _Parsed, strict: bool
) -> Iterator[Row]:
    """The file's valid rows; problems, per-action counts and vendor averages go to `parsed`.
    In strict mode a rejected row raises _StrictRejected at the end (so nothing applies)."""
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
    if strict and parsed.problems:
        raise _StrictRejected(parsed)


def apply_file(
    snap: Snapshot, path: Path, name: FeedName, options: FeedOptions, *, strict: bool, full: bool
) -> _Parsed:
    """Apply a file's rows (all or nothing: a FeedFileError, even after rows, applies none).
    `full`: the file is the complete truth of its collection (a full resync). What the file
    held is in the returned `_Parsed` (and in _StrictRejected)."""
    parsed = _Parsed([], FileCounts(), 0)
    rows = _rows(path, name, options, parsed, strict)
    snap.apply(rows, replace=name.collection if full else None)
    return parsed


def _apply_key(feed: FeedName) -> tuple[str, str]:
    return (feed.date, feed.name)


@dataclass(slots=True)
class Decision:
    # "apply", "verify" (same name and size as an applied file: compare checksums),
    # "resend", "already", "superseded", "late", "conflict"
    action: str
    reason: str = ""


CHECKED_FILE = "checked-files.json"


class Checked:
    """Files whose checksum was verified, by source, name, size and mtime (download cache).

    Lets a nightly run skip re-downloading files already applied, while a file
    re-sent with the same size but new content is still caught whenever its
    modification time changed (or the server gives none, or the cache is gone).
    Not part of the snapshot: it holds timestamps.
    """

    def __init__(self, path: Path | None, source: str) -> None:
        self.path = path
        self.source = source
        self.data: dict[str, dict[str, list]] = {}
        if path is not None and path.is_file():
            try:
                loaded = orjson.loads(path.read_bytes())
                if isinstance(loaded, dict):
                    self.data = loaded
            except (OSError, orjson.JSONDecodeError):
                self.data = {}  # only a cache: rebuilt by checking again
        self.dirty = False

    def sha256(self, remote: RemoteFile) -> str | None:
        if remote.mtime is None:
            return None
        got = self.data.get(self.source, {}).get(remote.feed.name)
        if got and got[0] == remote.size and got[1] == remote.mtime:
            return got[2]
        return None

    def remember(self, remote: RemoteFile, sha: str) -> None:
        if remote.mtime is not None:
            self.data.setdefault(self.source, {})[remote.feed.name] = [
                remote.size,
                remote.mtime,
                sha,
            ]
            self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_bytes(orjson.dumps(self.data, option=orjson.OPT_SORT_KEYS))
            tmp.replace(self.path)
        except OSError as exc:
            logger.warning("[review-feed] cannot write %s: %s", self.path, exc.strerror or exc)


def decide(snap: Snapshot, remote: RemoteFile, checked: Checked | None = None) -> Decision:
    """What to do with a listed file, given the ledger (no download needed)."""
    feed = remote.feed
    key = _apply_key(feed)
    mine = [e for e in snap.ledger if e.collection == feed.collection]
    full = max((e for e in mine if e.full), key=lambda e: e.key, default=None)
    if full is not None and key <= full.key:
        if feed.name == full.name and remote.size != full.size:
            return Decision(
                "late",
                "differs from the file of that name applied as a full resync; to use it, "
                "run review-feed sync --full with it",
            )
        if feed.name != full.name:
            return Decision("superseded", f"covered by the full resync {full.name}")
    entry = snap.ledger_entry(feed.name)
    newer = [e for e in mine if e.key > key]
    if entry is not None:
        if entry.size == remote.size:
            known = checked.sha256(remote) if checked is not None else None
            if known == entry.sha256:
                return Decision("already")
            return Decision("verify")
        return _changed(feed, newer, entry)
    if newer:
        return Decision(
            "late",
            f"dated before {newer[-1].name}, already applied; applying it now would "
            "regress newer reviews, so it is left for a full resync (review-feed sync --full FILE)",
        )
    return Decision("apply")


def _changed(feed: FeedName, newer: list[LedgerEntry], entry: LedgerEntry) -> Decision:
    if entry.full:
        return Decision(
            "late",
            "differs from the file of that name applied as a full resync; "
            "to use it instead, run review-feed sync --full with it",
        )
    if newer:
        return Decision(
            "conflict",
            f"{feed.name} was applied before with different content and newer files of "
            f"{feed.kind}/{feed.website_id} followed it ({newer[-1].name}); not applied: "
            "a full resync (review-feed sync --full FILE) fixes it",
        )
    return Decision("resend", f"{feed.name} was re-sent with different content")


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
    except _StrictRejected as exc:
        report.problems += exc.parsed.problems
        report.errors.append(
            FileError(
                f"{feed.name}: not applied, {len(exc.parsed.problems)} row(s) rejected "
                "in strict mode",
                STRICT_EXIT,
            )
        )
        return False
    report.problems += parsed.problems
    report.vendor_averages += parsed.averages
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
        snap = stack.enter_context(
            Snapshot(root, layout, keep_order_ref=settings.store_order_ref, read_only=read_only)
        )
        if full is not None:
            _full_resync(snap, Path(full), options, report)
        if source is None and (settings.source or full is None):
            source = stack.enter_context(open_source(settings, base))
        applied_remotes: list[RemoteFile] = []
        if source is not None:
            report.source = source.description
            checked = checked_files(settings, base, source)
            applied_remotes = _apply_source(snap, source, settings, options, report, checked)
        report.changes = snap.changes()
        if not dry_run:
            report.files_written = snap.commit()
            if source is not None:
                checked.save()
            for remote in applied_remotes:
                try:
                    source.after_apply(remote)  # type: ignore[union-attr]
                except ReviewFeedError as exc:
                    report.warnings.append(str(exc))
    for _level, line in report.lines():  # the caller prints the report; debug keeps a trace
        logger.debug("[review-feed] %s", line)
    return report


def _apply_source(
    snap: Snapshot,
    source: Source,
    settings: Settings,
    options: FeedOptions,
    report: SyncReport,
    checked: Checked,
) -> list[RemoteFile]:
    wanted = set(settings.website_ids)
    remotes = [r for r in source.list() if not wanted or r.feed.website_id in wanted]
    remotes.sort(key=lambda r: _apply_key(r.feed))
    blocked: dict[tuple[str, str], str] = {}  # collection -> the failed file holding it back
    applied: list[RemoteFile] = []
    for remote in remotes:
        feed = remote.feed
        if feed.collection in blocked:
            report.skipped.append(
                SkippedFile(
                    feed.name,
                    f"waits for {blocked[feed.collection]}, which could not be applied "
                    "(files of a collection apply in date order)",
                )
            )
            continue
        decision = decide(snap, remote, checked)
        if decision.action == "already":
            report.already_applied += 1
            continue
        if decision.action == "superseded":
            logger.debug("[review-feed] %s: %s", feed.name, decision.reason)
            continue
        if decision.action == "late":
            report.skipped.append(SkippedFile(feed.name, decision.reason))
            continue
        if decision.action == "conflict":
            report.errors.append(FileError(decision.reason, StoreError.exit_code))
            continue
        outcome = _apply_one(snap, source, remote, options, report, decision, checked)
        if outcome is True:
            applied.append(remote)
        elif outcome is False:
            blocked[feed.collection] = feed.name
    return applied


def _apply_one(
    snap: Snapshot,
    source: Source,
    remote: RemoteFile,
    options: FeedOptions,
    report: SyncReport,
    decision: Decision,
    checked: Checked,
) -> bool | None:
    """True when applied, False when it failed (later files of its collection wait), None
    when there was nothing to do."""
    feed = remote.feed
    try:
        fetched = source.fetch(remote)
    except ReviewFeedError as exc:
        report.errors.append(FileError(str(exc), exc.exit_code))
        return False
    checked.remember(remote, fetched.sha256)
    if decision.action == "verify":
        old = snap.ledger_entry(feed.name)
        assert old is not None  # "verify" is only decided for a file in the ledger
        if old.sha256 == fetched.sha256:
            report.already_applied += 1
            return None
        mine = [e for e in snap.ledger if e.collection == feed.collection]
        decision = _changed(feed, [e for e in mine if e.key > _apply_key(feed)], old)
        if decision.action == "conflict":
            report.errors.append(FileError(decision.reason, StoreError.exit_code))
            return None
        if decision.action == "late":
            report.skipped.append(SkippedFile(feed.name, decision.reason))
            return None
    try:
        parsed = apply_file(snap, fetched.path, feed, options, strict=report.strict, full=False)
    except ReviewFeedError as exc:
        report.errors.append(FileError(str(exc), exc.exit_code))
        return False
    except _StrictRejected as exc:
        report.problems += exc.parsed.problems
        report.errors.append(
            FileError(
                f"{feed.name}: not applied, {len(exc.parsed.problems)} row(s) rejected in strict "
                "mode; fix the file or run without --strict",
                STRICT_EXIT,
            )
        )
        return False
    report.problems += parsed.problems
    report.vendor_averages += parsed.averages
    resend = decision.action == "resend"
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


def pending(
    snap: Snapshot, remotes: Iterable[RemoteFile], checked: Checked | None = None
) -> list[tuple[RemoteFile, Decision]]:
    """What a sync would do with each listed file (for `status`), without downloading."""
    out = []
    for r in sorted(remotes, key=lambda r: _apply_key(r.feed)):
        d = decide(snap, r, checked)
        if d.action not in ("already", "superseded", "verify"):
            out.append((r, d))
    return out


def checked_files(settings: Settings, base: Path | None, source: Source) -> Checked:
    return Checked(settings.path(settings.cache, base) / CHECKED_FILE, source.description)
