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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from ..errors import SnapshotLocked, StoreError
from ..model import KINDS, Action, Review, Row
from . import jsonfile
from .collection import Changes, Collection, Staged, Stager
from .files import refuse_links
from .jsonfile import TEMP_SUFFIX, fsync_dirs, no_cyclic_gc, replace_if_changed, write_many
from .layout import DEFAULT_LAYOUT, INDEX_DIR, Layout
from .ledger import LEDGER_FILE, LedgerEntry, read_ledger, render_ledger
from .plan import plan_months
from .records import StoredReview, to_review

logger = logging.getLogger("review_feed.store")

CollectionKey = tuple[str, str]

_WRITE_AT_ONCE = 16 * 1024 * 1024  # rendered review bytes held before they are written


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
        self._collections: dict[CollectionKey, Collection] = {}
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

    def forget(self, collection: CollectionKey) -> list[LedgerEntry]:
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
    def collections(self) -> list[CollectionKey]:
        """Collections on disk or touched in this run, sorted (kind, website_id)."""
        found = set(self._collections)
        for kind in KINDS:
            d = self.root / kind
            if d.is_dir():
                found.update((kind, p.name) for p in d.iterdir() if p.is_dir())
        return sorted(found)

    def collection(self, kind: str, website_id: str) -> Collection:
        key = (kind, website_id)
        col = self._collections.get(key)
        if col is None:
            col = self._collections[key] = Collection(self.root, kind, website_id, self.layout)
        return col

    def count(self, kind: str, website_id: str) -> int:
        return self.collection(kind, website_id).count()

    def reviews(self, kind: str, website_id: str) -> Iterator[Review]:
        """The collection's reviews, sorted by id."""
        records = sorted(self.collection(kind, website_id).records(), key=lambda r: r[0]["id"])
        for rec, _line in records:
            yield to_review(kind, website_id, rec)

    def stored(self, kind: str, website_id: str) -> Iterator[tuple[dict[str, Any], StoredReview]]:
        for rec, line in self.collection(kind, website_id).records():
            yield rec, StoredReview(kind, website_id, line)

    # --- folding
    def apply(self, rows: Iterable[Row], *, replace: CollectionKey | None = None) -> None:
        """Fold rows in order: NEW/UPDATE replace the whole review, DELETE removes it.

        All or nothing: when `rows` raises (a feed file found broken half-way), nothing
        of them stays applied. `replace`: a collection the rows are the complete truth
        of (a full resync), emptied once they are all in."""
        stage = Stager(self.keep_order_ref)
        self._fold(
            ((key, map(stage, group)) for key, group in groupby(rows, _collection_of)), replace
        )

    def apply_staged(
        self, key: CollectionKey, items: Iterable[Staged], *, replace: bool = False
    ) -> None:
        """`apply` for the rows of one collection already staged (see `Stager`)."""
        self._fold([(key, items)], key if replace else None)

    def _fold(
        self,
        groups: Iterable[tuple[CollectionKey, Iterable[Staged]]],
        replace: CollectionKey | None,
    ) -> None:
        """Rows for a collection that held nothing before are folded as they come (on a
        failure, it is simply empty again: a full load holds no second copy of a million
        reviews); rows for any other are taken in (as the lines the snapshot holds) and
        folded once all are in."""
        staged: dict[CollectionKey, list[Staged | None]] = {}
        direct: list[CollectionKey] = []  # collections that held nothing before
        if replace is not None:
            self.collection(*replace)
            staged[replace] = []
        try:
            with no_cyclic_gc():  # lines by the million, no reference cycles
                for key, items in groups:
                    take = None
                    for item in items:
                        if take is None:
                            take = self._taker(key, staged, direct)
                        take(item)
        except BaseException:
            for gone in direct:
                del self._collections[gone]
            raise
        if replace is not None:
            self.collection(*replace).clear()
        with no_cyclic_gc():
            for k, items in staged.items():
                self.collection(*k).apply(items)

    def _taker(self, key: CollectionKey, staged: dict, direct: list) -> Callable[[Staged], None]:
        """Where a collection's rows go: folded at once, or staged."""
        if key in staged:
            return staged[key].append
        col = self.collection(*key)  # a bad collection name fails before any fold
        if key in direct or col.untouched_and_empty():
            if key not in direct:
                direct.append(key)
            return col.fold
        staged[key] = []
        return staged[key].append

    def upsert(self, review: Review) -> None:
        self.apply([Row(Action.NEW, review.kind, review.website_id, review.id, review, "")])

    def clear(self, kind: str, website_id: str) -> None:
        self.collection(kind, website_id).clear()

    def changes(self) -> dict[CollectionKey, Changes]:
        out = {}
        for key in sorted(self._collections):
            ch = self._collections[key].changes()
            if ch.total:
                out[key] = ch
        return out

    # --- writing
    def commit(self) -> int:
        """Write what changed: review files, then indexes, then the ledger; count files touched.

        A write that fails (a full disk) is one StoreError: the ledger is written last,
        so nothing is recorded as applied and the next sync applies the files again."""
        if self.read_only:
            raise StoreError("internal: commit on a read-only snapshot")
        if self._fd is None:
            raise StoreError("internal: commit without the snapshot lock")
        try:
            return self._commit()
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise StoreError(
                f"cannot write the snapshot {self.root}: {exc.strerror or exc}{where}; "
                "nothing was recorded as applied, run sync again once it is fixed"
            ) from None

    def _commit(self) -> int:
        cols = [self._collections[k] for k in sorted(self._collections)]
        synced: set[Path] = set()
        removes: list[Path] = []
        touched = 0
        pending: dict[Path, bytes] = {}
        size = 0
        # A full load writes as it renders: a batch is written (and fsynced) by a thread
        # while the next one is rendered; one batch in flight keeps memory flat.
        with ThreadPoolExecutor(max_workers=1) as writer:
            inflight: Future[int] | None = None
            for c in cols:
                for writes, r in plan_months(c):
                    for p in writes:
                        refuse_links(self.root, p)
                    pending.update(writes)
                    removes += r
                    size += sum(map(len, writes.values()))
                    if size > _WRITE_AT_ONCE:
                        if inflight is not None:
                            touched += inflight.result()
                        inflight = writer.submit(write_many, pending, synced)
                        pending, size = {}, 0
            if inflight is not None:
                for c in cols:  # while the last batch is written
                    c.index.render()
                touched += inflight.result()
        touched += write_many(pending, synced)  # a night: its few files in one batch
        fsync_dirs(synced)  # new review files are durable before any old one goes
        for p in removes:
            jsonfile.remove(p, self.root, synced)
            touched += 1
        # every review file is durable before the index changes ...
        for c in cols:
            refuse_links(self.root, c.index.dir / INDEX_DIR)
        touched += sum(c.index.write(self.root, synced) for c in cols)
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


def _collection_of(row: Row) -> CollectionKey:
    return (row.kind, row.website_id)


def read_reviews(snapshot_dir: Path) -> Iterator[Review]:
    """Every review of the snapshot, sorted by (kind, website_id, id). No lock needed."""
    snap = Snapshot(Path(snapshot_dir), read_only=True)
    for kind, website_id in snap.collections():
        yield from snap.reviews(kind, website_id)


def read_stored(snapshot_dir: Path) -> Iterator[tuple[dict[str, Any], StoredReview]]:
    """Every review of the snapshot as its checked record and as stored, a collection
    at a time, as read (newest files first): a reader that keeps only some reviews
    whole, or only a hash of their lines, builds no Review for the others and holds
    no record. No lock needed."""
    snap = Snapshot(Path(snapshot_dir), read_only=True)
    for kind, website_id in snap.collections():
        yield from snap.stored(kind, website_id)


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    """One review file: its collection, its path, and its name under the snapshot."""

    kind: str
    website_id: str
    path: Path
    name: str  # relative to the snapshot folder, with "/"


def snapshot_files(snapshot_dir: Path) -> list[SnapshotFile]:
    """Every review file of the snapshot, a collection at a time, newest files first:
    the order `read_stored` reads them in (an id in two files counts from the first)."""
    root = Path(snapshot_dir)
    snap = Snapshot(root, read_only=True)
    return [
        SnapshotFile(kind, website_id, path, path.relative_to(root).as_posix())
        for kind, website_id in snap.collections()
        for path in snap.collection(kind, website_id).paths_newest_first()
    ]


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
