"""One collection (kind, website_id) in memory: loading what a run needs, the fold, the changes.

Every review is held as its canonical line (bytes, see `records.py`), whether it
was read from disk or comes from the feed: what a night did not touch is written
back byte for byte, and a change is a bytes comparison.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..model import KINDS, Row
from .files import CollectionFiles
from .index import Index
from .layout import Layout, day_of, month_of_day
from .records import read_records, review_line

# A row as the fold takes it: (id, day, line); day and line None for a DELETE.
Staged = tuple[str, str | None, bytes | None]


class Stager:
    """A row as the fold takes it (`Staged`). Pure, so the rows of a file can be staged
    wherever they are read; one per reading, as it keeps one string per day."""

    def __init__(self, keep_order_ref: bool = False) -> None:
        self.keep_order_ref = keep_order_ref
        self.days: dict[str, str] = {}  # a date's first 10 characters -> its day

    def __call__(self, row: Row) -> Staged:
        review = row.review
        if review is None:  # a DELETE
            return (row.id, None, None)
        # a day depends on a date's first 10 characters: one day_of per distinct prefix,
        # and one string per day, not one per review
        day = self.days.get(review.date[:10])
        if day is None:
            day = self.days[review.date[:10]] = day_of(review.date)
        return (row.id, day, review_line(review, self.keep_order_ref))


def check_collection(kind: str, website_id: str) -> None:
    if kind not in KINDS:
        raise StoreError(f"unknown review kind {kind!r} (expected site or product)")
    if (
        not website_id
        or website_id in (".", "..")
        or any(c in website_id for c in "/\\\x00")
        or website_id.startswith(".")
    ):
        raise StoreError(f"website id {website_id!r} cannot be a snapshot folder name")


@dataclass(slots=True)
class Changes:
    """What a run changed in the snapshot (for the summary and the nightly commit message)."""

    added: int = 0
    updated: int = 0
    removed: int = 0

    def __iadd__(self, other: Changes) -> Changes:
        self.added += other.added
        self.updated += other.updated
        self.removed += other.removed
        return self

    @property
    def total(self) -> int:
        return self.added + self.updated + self.removed


class Collection:
    """Its index (id -> day) and the days loaded so far (day -> id -> line).

    A month stored as one file is loaded whole; a month split into day files
    is loaded day by day, so a night reads and renders only the days it touches.
    """

    def __init__(self, root: Path, kind: str, website_id: str, layout: Layout) -> None:
        check_collection(kind, website_id)
        self.kind = kind
        self.website_id = website_id
        self.dir = root / kind / website_id
        self.files = CollectionFiles(root, self.dir)
        self.layout = layout
        self.index = Index(self.dir, layout)
        self.days: dict[str, dict[str, bytes]] = {}
        self.whole: set[str] = set()  # months loaded whole
        self.dirty: set[str] = set()  # days
        self.original: dict[str, bytes | None] = {}  # id -> line before this run
        self.where: dict[str, str | None] = {}  # id -> its day now (None: gone), ids touched
        self.fresh: bool | None = None  # empty when this run first touched it

    # --- reading
    def _load(self, paths: list[Path], into: dict[str, dict[str, bytes]], day: str | None) -> None:
        """Records of these files into day -> id -> line (all under `day` when given)."""
        for path in paths:
            for rec, line in read_records(path):
                d = day or day_of(rec["date"])
                into.setdefault(d, {})[rec["id"]] = line

    def load_month(self, month: str) -> None:
        """Every day of a month not loaded yet (a month file, day files, or both)."""
        if month in self.whole:
            return
        found: dict[str, dict[str, bytes]] = {}
        self._load(self.files.month_paths(month), found, None)
        for d, recs in found.items():
            self.days.setdefault(d, recs)
        self.whole.add(month)

    def day(self, day: str) -> dict[str, bytes]:
        got = self.days.get(day)
        if got is not None:
            return got
        month = month_of_day(day)
        if month not in self.whole and self.files.is_split(month):
            found: dict[str, dict[str, bytes]] = {day: {}}
            self._load(self.files.day_paths(month, day), found, day)
            self.days[day] = found[day]
            return found[day]
        self.load_month(month)
        return self.days.setdefault(day, {})

    def count(self) -> int:
        return len(self.index)

    def records(self) -> Iterator[tuple[dict[str, Any], bytes]]:
        """Every record as committed, checked, with its line, as it is read: newest files
        first, nothing held but the ids seen (no index needed). An id in two files (what
        a crash between writing them leaves) is taken from the later one, as the next
        sync leaves it."""
        seen: set[str] = set()
        for path in self.paths_newest_first():
            for rec, line in read_records(path):
                if rec["id"] not in seen:
                    seen.add(rec["id"])
                    yield rec, line

    def paths_newest_first(self) -> list[Path]:
        """Every review file on disk in the order `records` reads them."""
        return [
            path
            for m in sorted(self.files.months_on_disk(), reverse=True)
            for path in reversed(self.files.month_paths(m))
        ]

    def is_empty(self) -> bool:
        return len(self.index) == 0 and not self.files.months_on_disk()

    def untouched_and_empty(self) -> bool:
        """Nothing applied in this run, nothing on disk."""
        return self.fresh is None and not self.days and not self.dirty and self.is_empty()

    # --- folding
    def apply(self, staged: list[Staged | None]) -> None:
        """NEW/UPDATE replace the whole review (moving it when its day changes), DELETE
        removes it; an unknown id is a no-op. Each item is let go of once folded. Tolerates
        what a crash can leave: an index entry whose day lacks the id."""
        if self.fresh is None:  # an empty collection: every review is new, nothing to remember
            self.fresh = self.is_empty()
        if not self.fresh:
            self.index.locate(item[0] for item in staged if item is not None)
        for n, item in enumerate(staged):
            staged[n] = None
            assert item is not None
            self.fold(item)

    def fold(self, item: Staged) -> None:
        """One row (see `Staged`) into the collection."""
        rid, new_d, line = item
        if self.fresh is None:
            self.fresh = self.is_empty()
        old_d = self.index.pop(rid) if new_d is None else self.index.put(rid, new_d)
        if not self.fresh:
            if rid not in self.original:
                self.original[rid] = None if old_d is None else self.day(old_d).get(rid)
            self.where[rid] = new_d
        if old_d is not None and old_d != new_d:
            self.day(old_d).pop(rid, None)
            self.dirty.add(old_d)
        if new_d is None or line is None:
            return
        recs = self.days.get(new_d)
        if recs is None:
            recs = self.day(new_d)
        recs[rid] = line
        self.dirty.add(new_d)

    def clear(self) -> None:
        """Empty the collection (full resync); what it held is remembered for the changes."""
        self.fresh = False
        for m in self.files.months_on_disk():
            self.load_month(m)
        for d, recs in self.days.items():
            for i, line in recs.items():
                self.original.setdefault(i, line)
                self.where[i] = None
            self.days[d] = {}
            self.dirty.add(d)
        self.index.clear()

    def changes(self) -> Changes:
        ch = Changes()
        if self.fresh:
            ch.added = len(self.index)
            return ch
        for i, before in self.original.items():
            d = self.where[i] if i in self.where else self.index.get(i)
            after = None if d is None else self.day(d).get(i)
            if before is None:
                ch.added += after is not None
            elif after is None:
                ch.removed += 1
            elif before != after:
                ch.updated += 1
        return ch
