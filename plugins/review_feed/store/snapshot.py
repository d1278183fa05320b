"""The committed snapshot: reviews per collection, sharded by month, plus the ledger.

A `Snapshot` is opened with its lock held, folds actions in memory (loading
only the months and the index it needs) and writes once in `commit()`: the
review files, then the index, then the ledger, each only when its bytes change.
A crash at any instant leaves every file either old or new; since the ledger
is written last, the next run re-applies the unrecorded files, and because
every action writes a whole state the result is byte-identical.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from ..errors import SnapshotLocked, StoreError
from ..model import KINDS, Action, Review, Row
from . import jsonfile
from .index import Index
from .jsonfile import TEMP_SUFFIX, fsync_dirs, load, replace_if_changed, write_many
from .layout import DEFAULT_LAYOUT, REVIEWS_DIR, Layout, month_files, month_of
from .ledger import LEDGER_FILE, LedgerEntry, read_ledger, render_ledger

logger = logging.getLogger("review_feed.store")

Collection = tuple[str, str]


def line_record(review: Review, keep_order_ref: bool = False) -> dict[str, Any]:
    """The per-line record: the export record without kind/website_id (the path says them),
    nulls and an empty reply list left out (shorter lines, easier diffs; restored on read)."""
    r = review
    rec: dict[str, Any] = {
        "author": r.author,
        "date": r.date,
        "id": r.id,
        "rating": r.rating,
        "text": r.text,
    }
    if r.review_id is not None:
        rec["review_id"] = r.review_id
    if r.product_ref is not None:
        rec["product_ref"] = r.product_ref
    if r.product_name is not None:
        rec["product_name"] = r.product_name
    if r.order_date is not None:
        rec["order_date"] = r.order_date
    if r.replies:
        rec["replies"] = [{"date": x.date, "origin": x.origin, "text": x.text} for x in r.replies]
    if keep_order_ref and r.order_ref is not None:
        rec["order_ref"] = r.order_ref
    return rec


def _review(kind: str, website_id: str, rec: dict[str, Any]) -> Review:
    return Review.from_record({**rec, "kind": kind, "website_id": website_id})


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


class _Collection:
    """One (kind, website_id): its index and the months loaded so far."""

    def __init__(self, root: Path, kind: str, website_id: str, layout: Layout) -> None:
        check_collection(kind, website_id)
        self.kind = kind
        self.website_id = website_id
        self.dir = root / kind / website_id
        self.layout = layout
        self.index = Index(self.dir, layout)
        self.months: dict[str, dict[str, dict[str, Any]]] = {}
        self.dirty: set[str] = set()
        self.original: dict[str, dict[str, Any] | None] = {}  # id -> record before this run

    # --- reading
    def month_paths(self, month: str) -> list[Path]:
        out = []
        single = self.dir / REVIEWS_DIR / f"{month}.json"
        if single.is_file():
            out.append(single)
        split = self.dir / REVIEWS_DIR / month
        if split.is_dir():
            out.extend(sorted(p for p in split.rglob("*.json") if not p.name.startswith(".")))
        return out

    def months_on_disk(self) -> set[str]:
        base = self.dir / REVIEWS_DIR
        if not base.is_dir():
            return set()
        out = set()
        for p in base.iterdir():
            if p.name.startswith("."):
                continue
            if p.is_dir():
                out.add(p.name)
            elif p.suffix == ".json":
                out.add(p.stem)
        return out

    def month(self, month: str) -> dict[str, dict[str, Any]]:
        got = self.months.get(month)
        if got is not None:
            return got
        recs: dict[str, dict[str, Any]] = {}
        for p in self.month_paths(month):
            data = load(p)
            if not isinstance(data, list):
                raise StoreError(f"snapshot file {p} is not a JSON array; restore it from git")
            try:
                for rec in data:
                    recs[rec["id"]] = rec
            except (TypeError, KeyError):
                raise StoreError(
                    f"snapshot file {p} holds a review without an id; restore it from git"
                ) from None
        self.months[month] = recs
        return recs

    def get(self, review_id: str) -> dict[str, Any] | None:
        m = self.index.get(review_id)
        return None if m is None else self.month(m).get(review_id)

    def count(self) -> int:
        return len(self.index)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record, straight from the review files (no index needed)."""
        seen: dict[str, dict[str, Any]] = {}
        for m in sorted(self.months_on_disk() | set(self.months)):
            if m in self.months:
                seen.update(self.months[m])
                continue
            for p in self.month_paths(m):
                for rec in load(p):
                    seen[rec["id"]] = rec
        for i in sorted(seen):
            yield seen[i]

    # --- folding actions
    def apply(self, rows: Iterable[Row], keep_order_ref: bool) -> None:
        """NEW/UPDATE replace the whole review (moving it when its month changes),
        DELETE removes it; an unknown id is a no-op. Tolerates what a crash can
        leave: an index entry whose month lacks the id."""
        index = self.index
        months = self.months
        month = self.month
        original = self.original
        dirty = self.dirty
        plain = index.mapping()
        if plain is not None:  # one index.json: plain dict operations, no method calls
            index.changed = True
            index_get = plain.get
            index_set = plain.__setitem__
            index_pop = plain.pop
        else:
            index_get = index.get
            index_set = index.set
            index_pop = index.pop
        for row in rows:
            rid = row.id
            old_m = index_get(rid)
            if rid not in original:
                original[rid] = None if old_m is None else month(old_m).get(rid)
            review = row.review
            if row.action is Action.DELETE or review is None:
                if old_m is not None:
                    index_pop(rid)
                    month(old_m).pop(rid, None)
                    dirty.add(old_m)
                continue
            rec = line_record(review, keep_order_ref)
            new_m = month_of(review.date)
            if old_m != new_m:
                if old_m is not None:
                    month(old_m).pop(rid, None)
                    dirty.add(old_m)
                index_set(rid, new_m)
            recs = months.get(new_m)
            if recs is None:
                recs = month(new_m)
            recs[rid] = rec
            dirty.add(new_m)

    def clear(self) -> None:
        """Empty the collection (full resync); what it held is remembered for the changes."""
        for m in self.months_on_disk():
            self.month(m)
        for m, recs in self.months.items():
            for i, rec in recs.items():
                self.original.setdefault(i, rec)
            self.months[m] = {}
            self.dirty.add(m)
        self.index.clear()

    def changes(self) -> Changes:
        ch = Changes()
        for i, before in self.original.items():
            after = self.get(i)
            if before is None:
                if after is not None:
                    ch.added += 1
            elif after is None:
                ch.removed += 1
            elif before != after:
                ch.updated += 1
        return ch

    # --- writing
    def plan_months(self) -> tuple[dict[Path, bytes], list[Path]]:
        """The review files to write and the ones to remove (after the writes are durable)."""
        writes: dict[Path, bytes] = {}
        removes: list[Path] = []
        for m in sorted(self.dirty):
            targets = month_files(m, self.months[m], self.layout)
            for rel, data in targets.items():
                writes[self.dir / rel] = data
            for p in self.month_paths(m):
                if p.relative_to(self.dir).as_posix() not in targets:
                    removes.append(p)
        self.dirty.clear()
        return writes, removes

    def write_index(self, synced: set[Path]) -> int:
        return self.index.write(self.dir.parent.parent, synced)


class Snapshot:
    """An open snapshot folder. Use as a context manager: it holds the lock.

    `read_only=True` takes no lock and never writes (status, dry runs on a
    folder that does not exist yet).
    """

    def __init__(
        self,
        root: Path,
        layout: Layout = DEFAULT_LAYOUT,
        *,
        keep_order_ref: bool = False,
        read_only: bool = False,
    ) -> None:
        self.root = Path(root)
        self.layout = layout
        self.keep_order_ref = keep_order_ref
        self.read_only = read_only
        self._fd: int | None = None
        self._collections: dict[Collection, _Collection] = {}
        self._ledger: dict[str, LedgerEntry] | None = None
        self._ledger_dirty = False

    # --- lock
    def __enter__(self) -> Snapshot:
        if not self.read_only:
            self.lock()
        return self

    def __exit__(self, *exc: object) -> None:
        self.unlock()

    def lock(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"snapshot {self.root} exists but is not a folder")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise StoreError(
                f"cannot open the snapshot folder {self.root}: {exc.strerror or exc}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SnapshotLocked(
                f"another review-feed sync is updating the snapshot {self.root}; "
                "wait for it to finish, then run again"
            ) from None
        self._fd = fd
        self._remove_temp_files()

    def unlock(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def _remove_temp_files(self) -> None:
        for p in self.root.rglob(f".*{TEMP_SUFFIX}"):
            logger.info("[review-feed] removed %s left by an interrupted sync", p)
            p.unlink(missing_ok=True)

    # --- ledger
    @property
    def ledger(self) -> list[LedgerEntry]:
        """Applied files in apply order (date, then name)."""
        if self._ledger is None:
            self._ledger = {e.name: e for e in read_ledger(self.root)}
        return sorted(self._ledger.values(), key=lambda e: e.key)

    def ledger_entry(self, name: str) -> LedgerEntry | None:
        self.ledger  # noqa: B018 -- loads it
        assert self._ledger is not None
        return self._ledger.get(name)

    def record(self, entry: LedgerEntry) -> None:
        """Add (or replace, by name) a ledger entry."""
        self.ledger  # noqa: B018
        assert self._ledger is not None
        self._ledger[entry.name] = entry
        self._ledger_dirty = True

    def forget(self, collection: Collection) -> list[LedgerEntry]:
        """Drop every ledger entry of a collection (full resync); returns them."""
        self.ledger  # noqa: B018
        assert self._ledger is not None
        gone = [e for e in self._ledger.values() if e.collection == collection]
        for e in gone:
            del self._ledger[e.name]
        self._ledger_dirty = self._ledger_dirty or bool(gone)
        return gone

    def clear_ledger(self) -> None:
        self._ledger = {}
        self._ledger_dirty = True

    # --- collections
    def collections(self) -> list[Collection]:
        """Collections on disk or touched in this run, sorted (kind, website_id)."""
        found = set(self._collections)
        for kind in KINDS:
            d = self.root / kind
            if d.is_dir():
                found.update((kind, p.name) for p in d.iterdir() if p.is_dir())
        return sorted(found)

    def collection(self, kind: str, website_id: str) -> _Collection:
        key = (kind, website_id)
        col = self._collections.get(key)
        if col is None:
            col = self._collections[key] = _Collection(self.root, kind, website_id, self.layout)
        return col

    def count(self, kind: str, website_id: str) -> int:
        return self.collection(kind, website_id).count()

    def reviews(self, kind: str, website_id: str) -> Iterator[Review]:
        for rec in self.collection(kind, website_id).records():
            yield _review(kind, website_id, rec)

    # --- folding
    def apply(self, rows: Iterable[Row]) -> None:
        """Fold rows in order: NEW/UPDATE replace the whole review, DELETE removes it."""
        for key, group in groupby(rows, key=lambda r: (r.kind, r.website_id)):
            self.collection(*key).apply(group, self.keep_order_ref)

    def upsert(self, review: Review) -> None:
        row = Row(Action.NEW, review.kind, review.website_id, review.id, review, "")
        self.collection(review.kind, review.website_id).apply([row], self.keep_order_ref)

    def clear(self, kind: str, website_id: str) -> None:
        self.collection(kind, website_id).clear()

    def changes(self) -> dict[Collection, Changes]:
        out = {}
        for key in sorted(self._collections):
            ch = self._collections[key].changes()
            if ch.total:
                out[key] = ch
        return out

    # --- writing
    def commit(self) -> int:
        """Write what changed: review files, then indexes, then the ledger; count files touched."""
        if self.read_only:
            raise StoreError("internal: commit on a read-only snapshot")
        if self._fd is None:
            raise StoreError("internal: commit without the snapshot lock")
        cols = [self._collections[k] for k in sorted(self._collections)]
        synced: set[Path] = set()
        writes: dict[Path, bytes] = {}
        removes: list[Path] = []
        for c in cols:
            w, r = c.plan_months()
            writes.update(w)
            removes += r
        touched = write_many(writes, synced)
        fsync_dirs(synced)  # new review files are durable before any old one goes
        for p in removes:
            jsonfile.remove(p, self.root, synced)
            touched += 1
        # every review file is durable before the index changes ...
        touched += sum(c.write_index(synced) for c in cols)
        fsync_dirs(synced)  # ... and the index before the ledger
        if not (self.root / LEDGER_FILE).exists():
            self.ledger  # noqa: B018 -- a fresh snapshot gets its (empty) ledger
            self._ledger_dirty = True
        if self._ledger_dirty:
            assert self._ledger is not None
            path = self.root / LEDGER_FILE
            touched += replace_if_changed(path, render_ledger(list(self._ledger.values())))
            self._ledger_dirty = False
        return touched


def read_reviews(snapshot_dir: Path) -> Iterator[Review]:
    """Every review of the snapshot, sorted by (kind, website_id, id). No lock needed."""
    snap = Snapshot(Path(snapshot_dir), read_only=True)
    for kind, website_id in snap.collections():
        yield from snap.reviews(kind, website_id)


def write_reviews(
    snapshot_dir: Path, reviews: Iterable[Review], layout: Layout = DEFAULT_LAYOUT
) -> None:
    """Make the snapshot hold exactly `reviews`, with an empty ledger (test fixtures)."""
    with Snapshot(Path(snapshot_dir), layout, keep_order_ref=True) as snap:
        for kind, website_id in snap.collections():
            snap.clear(kind, website_id)
        for r in reviews:
            snap.upsert(r)
        snap.clear_ledger()
        snap.commit()
