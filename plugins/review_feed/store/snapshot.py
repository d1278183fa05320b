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
from pathlib import Path
from typing import Any

import orjson

from ..errors import SnapshotLocked, StoreError
from ..model import KINDS, Action, Review, Row
from . import jsonfile
from .jsonfile import TEMP_SUFFIX, load, replace_if_changed
from .layout import (
    DEFAULT_LAYOUT,
    INDEX_DIR,
    INDEX_FILE,
    REVIEWS_DIR,
    Layout,
    index_files,
    month_files,
    month_of,
)
from .ledger import LEDGER_FILE, LedgerEntry, read_ledger, render_ledger

logger = logging.getLogger("review_feed.store")

_SORT = orjson.OPT_SORT_KEYS
Collection = tuple[str, str]


def line_record(review: Review, keep_order_ref: bool = False) -> dict[str, Any]:
    """The per-line record: the export record without kind/website_id (the path says them),
    nulls and empty reply lists left out (shorter lines, easier diffs; restored on read)."""
    rec = review.to_record()
    del rec["kind"], rec["website_id"]
    if not keep_order_ref:
        rec.pop("order_ref", None)
    return {k: v for k, v in rec.items() if v is not None and v != []}


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
        self._index: dict[str, str] | None = None
        self.months: dict[str, dict[str, dict[str, Any]]] = {}
        self.dirty: set[str] = set()
        self.index_dirty = False
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

    def index_paths(self) -> list[Path]:
        out = []
        if (self.dir / INDEX_FILE).is_file():
            out.append(self.dir / INDEX_FILE)
        if (self.dir / INDEX_DIR).is_dir():
            parts = (self.dir / INDEX_DIR).glob("*.json")
            out.extend(sorted(p for p in parts if not p.name.startswith(".")))
        return out

    @property
    def index(self) -> dict[str, str]:
        if self._index is None:
            index: dict[str, str] = {}
            for p in self.index_paths():
                data = load(p)
                if not isinstance(data, dict):
                    raise StoreError(
                        f"snapshot index {p} is not a JSON object; restore it from git"
                    )
                index.update(data)
            self._index = index
        return self._index

    def month(self, month: str) -> dict[str, dict[str, Any]]:
        got = self.months.get(month)
        if got is not None:
            return got
        recs: dict[str, dict[str, Any]] = {}
        for p in self.month_paths(month):
            data = load(p)
            if not isinstance(data, list):
                raise StoreError(f"snapshot file {p} is not a JSON array; restore it from git")
            for rec in data:
                recs[rec["id"]] = rec
        index = self.index
        for i in recs:
            # A crash between the review files and the index can leave an id
            # the index lacks: adopt it, so it can be found and replaced.
            if i not in index:
                index[i] = month
                self.index_dirty = True
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
    def _remember(self, review_id: str) -> None:
        if review_id not in self.original:
            self.original[review_id] = self.get(review_id)

    def upsert(self, review_id: str, rec: dict[str, Any]) -> None:
        self._remember(review_id)
        new_m = month_of(rec["date"])
        old_m = self.index.get(review_id)
        if old_m is not None and old_m != new_m:
            self.month(old_m).pop(review_id, None)
            self.dirty.add(old_m)
        self.month(new_m)[review_id] = rec
        self.dirty.add(new_m)
        if old_m != new_m:
            self.index[review_id] = new_m
            self.index_dirty = True

    def delete(self, review_id: str) -> bool:
        """Remove a review; False when it was not there (a no-op)."""
        self._remember(review_id)
        m = self.index.pop(review_id, None)
        if m is None:
            return False
        self.index_dirty = True
        self.dirty.add(m)
        return self.month(m).pop(review_id, None) is not None

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
        self.index_dirty = True

    def changes(self) -> Changes:
        ch = Changes()
        for i, before in self.original.items():
            after = self.get(i)
            if before is None and after is not None:
                ch.added += 1
            elif before is not None and after is None:
                ch.removed += 1
            elif before is not None and before != after:
                ch.updated += 1
        return ch

    # --- writing
    def write_months(self) -> int:
        written = 0
        for m in sorted(self.dirty):
            recs = self.months[m]
            lines = {i: orjson.dumps(r, option=_SORT) for i, r in recs.items()}
            dates = {i: r["date"] for i, r in recs.items()}
            targets = month_files(m, lines, dates, self.layout)
            for rel in sorted(targets):
                written += replace_if_changed(self.dir / rel, targets[rel])
            for p in self.month_paths(m):
                if p.relative_to(self.dir).as_posix() not in targets:
                    jsonfile.remove(p, self.dir.parent.parent)
                    written += 1
        return written

    def write_index(self) -> int:
        if not self.index_dirty:
            return 0
        written = 0
        targets = index_files(self.index, self.layout)
        for rel in sorted(targets):
            written += replace_if_changed(self.dir / rel, targets[rel])
        for p in self.index_paths():
            if p.relative_to(self.dir).as_posix() not in targets:
                jsonfile.remove(p, self.dir.parent.parent)
                written += 1
        return written


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
        for row in rows:
            col = self.collection(row.kind, row.website_id)
            if row.action is Action.DELETE or row.review is None:
                col.delete(row.id)
            else:
                col.upsert(row.id, line_record(row.review, self.keep_order_ref))

    def upsert(self, review: Review) -> None:
        col = self.collection(review.kind, review.website_id)
        col.upsert(review.id, line_record(review, self.keep_order_ref))

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
        touched = sum(c.write_months() for c in cols)
        touched += sum(c.write_index() for c in cols)
        if not (self.root / LEDGER_FILE).exists():
            self.ledger  # noqa: B018 -- a fresh snapshot gets its (empty) ledger
            self._ledger_dirty = True
        if self._ledger_dirty:
            assert self._ledger is not None
            path = self.root / LEDGER_FILE
            touched += replace_if_changed(path, render_ledger(list(self._ledger.values())))
            self._ledger_dirty = False
        for c in cols:
            c.dirty.clear()
            c.index_dirty = False
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
