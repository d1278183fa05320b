"""What a sync did: the files applied, skipped and refused, as lines for the user.

`SyncReport.exit_code` is the command's exit status (see `errors` and the
docs/cli.md, "Exit codes"); `summary()` is also the nightly commit message's subject.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from .model import FileCounts
from .store import Changes

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
