"""What a sync does with each listed feed file, decided from the ledger alone (no download).

`plan()` is pure: it reads the ledger once into two facts per collection (its
newest applied file and its newest full resync) plus an entry per name, then
decides each listed file in constant time, so a night costs time in the number
of files, not its square. Apply order is (date, name), the ledger's own order.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .sources.base import RemoteFile
from .sources.names import FeedName
from .store import LedgerEntry


class Decision(enum.Enum):
    """One listed file's fate; the value is how `review-feed status` names it."""

    APPLY = "new"
    VERIFY = "verify"  # same name and size as an applied file: compare checksums once fetched
    RESEND = "re-sent"  # same name, new content, nothing newer applied: applied on top
    ALREADY = "already applied"
    SUPERSEDED = "superseded"  # dated before a full resync of its collection
    LATE = "late"  # applying it would regress newer reviews: left for a full resync
    CONFLICT = "conflict"  # re-sent with new content after newer files: needs a full resync

    @property
    def pending(self) -> bool:
        """Shown as pending by `status` (VERIFY is most likely already applied)."""
        return self in (Decision.APPLY, Decision.RESEND, Decision.LATE, Decision.CONFLICT)


@dataclass(frozen=True, slots=True)
class Step:
    """The decision for one listed file, with what a VERIFY becomes if the content differs."""

    remote: RemoteFile
    decision: Decision
    reason: str = ""
    applied_sha256: str = ""  # VERIFY: the checksum in the ledger
    if_changed: Step | None = None  # VERIFY: the step when the checksums differ


def apply_key(feed: FeedName) -> tuple[str, str]:
    """The apply order of files, the same as `LedgerEntry.key`."""
    return (feed.date, feed.name)


@dataclass(slots=True)
class _Ledger:
    """The ledger as the planner needs it, built in one pass."""

    by_name: dict[str, LedgerEntry]
    newest: dict[tuple[str, str], LedgerEntry]  # per collection
    newest_full: dict[tuple[str, str], LedgerEntry]  # per collection

    @classmethod
    def of(cls, entries: Iterable[LedgerEntry]) -> _Ledger:
        led = cls({}, {}, {})
        for e in entries:
            led.by_name[e.name] = e
            _keep_newest(led.newest, e)
            if e.full:
                _keep_newest(led.newest_full, e)
        return led


def _keep_newest(newest: dict[tuple[str, str], LedgerEntry], e: LedgerEntry) -> None:
    old = newest.get(e.collection)
    if old is None or e.key > old.key:
        newest[e.collection] = e


def plan(
    ledger: Iterable[LedgerEntry],
    remotes: Iterable[RemoteFile],
    verified: Mapping[str, str] | None = None,
) -> list[Step]:
    """A step per listed file, in apply order.

    `verified` maps a file name to the checksum already verified for this very
    listing (the download-checksum cache): such a file of the ledger's size and
    checksum is ALREADY applied without a download.
    """
    led = _Ledger.of(ledger)
    known = verified or {}
    return [
        _decide(r, led, known.get(r.feed.name))
        for r in sorted(remotes, key=lambda r: apply_key(r.feed))
    ]


_LATE_FULL = (
    "differs from the file of that name applied as a full resync; to use it, "
    "run review-feed sync --full with it"
)


def _decide(remote: RemoteFile, led: _Ledger, known_sha: str | None) -> Step:
    feed = remote.feed
    key = apply_key(feed)
    full = led.newest_full.get(feed.collection)
    if full is not None and key <= full.key:
        if feed.name == full.name and remote.size != full.size:
            return Step(remote, Decision.LATE, _LATE_FULL)
        if feed.name != full.name:
            return Step(remote, Decision.SUPERSEDED, f"covered by the full resync {full.name}")
    tip = led.newest.get(feed.collection)
    newer = tip if tip is not None and tip.key > key else None
    entry = led.by_name.get(feed.name)
    if entry is None:
        if newer is not None:
            return Step(
                remote,
                Decision.LATE,
                f"dated before {newer.name}, already applied; applying it now would regress "
                "newer reviews, so it is left for a full resync (review-feed sync --full FILE)",
            )
        return Step(remote, Decision.APPLY)
    changed = _changed(remote, newer, entry)
    if entry.size != remote.size:
        return changed
    if known_sha == entry.sha256:
        return Step(remote, Decision.ALREADY)
    return Step(remote, Decision.VERIFY, applied_sha256=entry.sha256, if_changed=changed)


def _changed(remote: RemoteFile, newer: LedgerEntry | None, entry: LedgerEntry) -> Step:
    """The step for a file of the ledger whose content differs from what was applied."""
    feed = remote.feed
    if entry.full:
        return Step(remote, Decision.LATE, _LATE_FULL)
    if newer is not None:
        return Step(
            remote,
            Decision.CONFLICT,
            f"{feed.name} was applied before with different content and newer files of "
            f"{feed.kind}/{feed.website_id} followed it ({newer.name}); not applied: "
            "a full resync (review-feed sync --full FILE) fixes it",
        )
    return Step(remote, Decision.RESEND, f"{feed.name} was re-sent with different content")
