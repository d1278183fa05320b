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
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

import orjson

from ..errors import SnapshotLocked, StoreError
from ..model import KINDS, Action, LineRow, Review, Row, encode_line, stored_record
from . import jsonfile
from .index import Index
from .jsonfile import TEMP_SUFFIX, fsync_dirs, load, no_cyclic_gc, replace_if_changed, write_many
from .layout import (
    DEFAULT_LAYOUT,
    REVIEWS_DIR,
    Layout,
    day_files,
    day_of,
    month_files_by_day,
    month_of_day,
    render_day,
)
from .ledger import LEDGER_FILE, LedgerEntry, read_ledger, render_ledger

logger = logging.getLogger("review_feed.store")

Collection = tuple[str, str]

_WRITE_AT_ONCE = 64 * 1024 * 1024  # rendered review bytes held before they are written


def line_record(review: Review, keep_order_ref: bool = False) -> dict[str, Any]:
    """The per-line record of a review (see `model.stored_record`)."""
    r = review
    return stored_record(
        r.id,
        r.review_id,
        r.product_ref,
        r.product_name,
        r.rating,
        r.text,
        r.author,
        r.date,
        r.order_date,
        r.replies,
        r.order_ref if keep_order_ref else None,
    )


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


# The id of each line of a canonical review file: every record's keys are sorted, so "id"
# follows "author" and "date"; inside a JSON string a quote is always escaped, so `","id":"`
# only occurs as that key. An id holding an escape does not match (the file is then parsed).
_ID_RE = re.compile(rb'","id":"([^"\\\\]*)"')


def _as_record(rec: Any) -> dict[str, Any] | None:
    """A record held as its canonical line (bytes) or as a dict -> the dict."""
    return orjson.loads(rec) if type(rec) is bytes else rec


class _Forget(dict):
    """An `original` for a collection that was empty: nothing to remember."""

    def __contains__(self, key: object) -> bool:
        return True


class _Collection:
    """One (kind, website_id): its index (id -> day) and the days loaded so far.

    A month stored as one file is loaded whole; a month split into day files
    is loaded day by day, so a night reads and renders only the days it touches.
    """

    def __init__(self, root: Path, kind: str, website_id: str, layout: Layout) -> None:
        check_collection(kind, website_id)
        self.kind = kind
        self.website_id = website_id
        self.dir = root / kind / website_id
        self.layout = layout
        self.index = Index(self.dir, layout)
        self.days: dict[str, dict[str, dict[str, Any]]] = {}
        self.whole: set[str] = set()  # months loaded whole
        self.dirty: set[str] = set()  # days
        self.original: dict[str, dict[str, Any] | None] = {}  # id -> record before this run
        self.where: dict[str, str | None] = {}  # id -> its day now (None: gone), ids touched
        self.fresh: bool | None = None  # empty when this run first touched it

    # --- paths
    def month_paths(self, month: str) -> list[Path]:
        out = []
        single = self.dir / REVIEWS_DIR / f"{month}.json"
        if single.is_file():
            out.append(single)
        split = self.dir / REVIEWS_DIR / month
        if split.is_dir():
            out.extend(sorted(p for p in split.rglob("*.json") if not p.name.startswith(".")))
        return out

    def day_paths(self, month: str, day: str) -> list[Path]:
        split = self.dir / REVIEWS_DIR / month
        out = []
        if (split / f"{day}.json").is_file():
            out.append(split / f"{day}.json")
        if (split / day).is_dir():
            out.extend(
                sorted(p for p in (split / day).glob("*.json") if not p.name.startswith("."))
            )
        return out

    def days_on_disk(self, month: str) -> set[str]:
        split = self.dir / REVIEWS_DIR / month
        if not split.is_dir():
            return set()
        return {
            p.name if p.is_dir() else p.stem
            for p in split.iterdir()
            if not p.name.startswith(".") and (p.is_dir() or p.suffix == ".json")
        }

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

    # --- reading
    @staticmethod
    def _records(paths: list[Path]) -> Iterator[dict[str, Any]]:
        for p in paths:
            data = load(p)
            if not isinstance(data, list) or not all(
                isinstance(r, dict) and "id" in r and "date" in r for r in data
            ):
                raise StoreError(
                    f"snapshot file {p} is not a list of reviews with ids; restore it from git"
                )
            yield from data

    @classmethod
    def _lines_into(cls, path: Path, recs: dict[str, Any]) -> None:
        """A day file's records as their lines (bytes), by id, without parsing them.

        Our files are canonical: `[`, one `{"author":...,"date":...,"id":"<id>",...}` per
        line, `]`: one id per line (see `_ID_RE`). Anything else is parsed.
        """
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read snapshot file {path}: {exc.strerror or exc}") from None
        if not (data.startswith(b'[\n{"author":') and data.endswith(b"}\n]\n")):
            for rec in cls._records([path]):
                recs[rec["id"]] = rec
            return
        lines = data[2:-3].split(b",\n")
        try:
            ids = [x.decode("utf-8") for x in _ID_RE.findall(data)]
        except UnicodeDecodeError:
            ids = []
        if len(ids) != len(lines):  # an id with an escape, or a damaged file: the careful way
            for rec in cls._records([path]):
                recs[rec["id"]] = rec
            return
        recs.update(zip(ids, lines, strict=True))

    def load_month(self, month: str) -> None:
        """Every day of a month (a month file, day files, or both after a crash)."""
        if month in self.whole:
            return
        loaded = {d for d in self.days if month_of_day(d) == month}
        for rec in self._records(self.month_paths(month)):
            day = day_of(rec["date"])
            if day not in loaded:
                self.days.setdefault(day, {})[rec["id"]] = rec
        self.whole.add(month)

    def day(self, day: str) -> dict[str, dict[str, Any]]:
        got = self.days.get(day)
        if got is not None:
            return got
        month = month_of_day(day)
        if month not in self.whole:
            if (self.dir / REVIEWS_DIR / f"{month}.json").is_file():
                self.load_month(month)
            else:
                recs = self.days[day] = {}
                for p in self.day_paths(month, day):
                    self._lines_into(p, recs)
                return recs
        return self.days.setdefault(day, {})

    def get(self, review_id: str) -> dict[str, Any] | None:
        d = self.index.get(review_id)
        return None if d is None else _as_record(self.day(d).get(review_id))

    def count(self) -> int:
        return len(self.index)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record as committed, straight from the review files (no index needed)."""
        seen: dict[str, dict[str, Any]] = {}
        for m in sorted(self.months_on_disk()):
            for rec in self._records(self.month_paths(m)):
                seen[rec["id"]] = rec
        for i in sorted(seen):
            yield seen[i]

    # --- folding actions
    def apply(self, rows: Iterable[Row], keep_order_ref: bool) -> None:
        """NEW/UPDATE replace the whole review (moving it when its day changes),
        DELETE removes it; an unknown id is a no-op. Tolerates what a crash can
        leave: an index entry whose day lacks the id."""
        with no_cyclic_gc():  # records by the million, no cycles
            self._apply(rows, keep_order_ref)

    def _apply(self, rows: Iterable[Row], keep_order_ref: bool) -> None:
        index = self.index
        days = self.days
        day = self.day
        dirty = self.dirty
        if self.fresh is None:  # an empty collection: every review is new, nothing to remember
            self.fresh = len(index) == 0 and not self.months_on_disk()
        fresh = self.fresh
        original = _Forget() if fresh else self.original
        where = {} if fresh else self.where
        interned: dict[str, str] = {}  # one string per day, not one per review
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
            old_d = index_get(rid)
            if rid not in original:
                original[rid] = None if old_d is None else day(old_d).get(rid)
            review = row.review
            if row.action is Action.DELETE or review is None:
                if old_d is not None:
                    index_pop(rid)
                    day(old_d).pop(rid, None)
                    dirty.add(old_d)
                where[rid] = None
                continue
            rec = line_record(review, keep_order_ref)
            if fresh:  # nothing to compare it with: keep its line (bytes), not the dict
                # (copied: orjson's own bytes object keeps a 4 KB buffer)
                rec = bytes(memoryview(encode_line(rec)))
            date = review.date
            if (
                date[4:5] == "-"
                and date[7:8] == "-"
                and date[:4].isdigit()
                and date[8:10].isdigit()
            ):
                new_d = date[:10]  # the feed layer's ISO dates: the usual, fast case
            else:
                new_d = day_of(date)
            new_d = interned.setdefault(new_d, new_d)
            if old_d != new_d:
                if old_d is not None:
                    day(old_d).pop(rid, None)
                    dirty.add(old_d)
                index_set(rid, new_d)
            recs = days.get(new_d)
            if recs is None:
                recs = day(new_d)
            recs[rid] = rec
            dirty.add(new_d)
            where[rid] = new_d

    def apply_lines(self, rows: Iterable[LineRow]) -> None:
        """`apply` for rows already encoded (`model.LineRow`), into a collection that was
        empty and untouched (a full load): the fold without Row, Review or record objects."""
        if self.fresh is None:
            self.fresh = len(self.index) == 0 and not self.months_on_disk()
        if not self.fresh:
            raise StoreError("internal: encoded rows go only into an empty collection")
        with no_cyclic_gc():
            self._apply_lines(rows)

    def _apply_lines(self, rows: Iterable[LineRow]) -> None:
        index = self.index.mapping()
        assert index is not None  # an empty index is held as one dict
        self.index.changed = True
        index_pop = index.pop
        index_setdefault = index.setdefault
        days = self.days
        dirty = self.dirty
        # the day of a date depends on its first 10 characters only (see `day_of`):
        # one lookup per row, and one string per day, not one per review
        day_by_head: dict[str, str] = {}
        for _action, rid, date, line in rows:
            if line is None:  # DELETE
                old_d = index_pop(rid, None)
                if old_d is not None:
                    del days[old_d][rid]
                continue
            new_d = day_by_head.get(date[:10])
            if new_d is None:
                new_d = day_by_head[date[:10]] = day_of(date)
            old_d = index_setdefault(rid, new_d)  # one probe: new ids are the usual case
            if old_d is not new_d and old_d != new_d:  # seen before, under another day
                del days[old_d][rid]
                index[rid] = new_d
            recs = days.get(new_d)
            if recs is None:
                recs = days[new_d] = {}
                dirty.add(new_d)
            recs[rid] = line

    def clear(self) -> None:
        """Empty the collection (full resync); what it held is remembered for the changes."""
        self.fresh = False
        for m in self.months_on_disk():
            self.load_month(m)
        for d, recs in self.days.items():
            for i, rec in recs.items():
                self.original.setdefault(i, rec)
                self.where[i] = None
            self.days[d] = {}
            self.dirty.add(d)
        self.index.clear()

    def changes(self) -> Changes:
        ch = Changes()
        if self.fresh:
            ch.added = len(self.index)
            return ch
        where = self.where
        for i, before in self.original.items():
            before = _as_record(before)
            if i in where:  # where apply() left it: no index lookup
                d = where[i]
                after = None if d is None else _as_record(self.day(d).get(i))
            else:
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
    def _disk_len(self, month: str, day: str) -> int:
        """The length a clean day's records have as one file, from its files' sizes."""
        sizes = [p.stat().st_size for p in self.day_paths(month, day)]
        return 5 + sum(x - 5 for x in sizes) + 2 * (len(sizes) - 1) if sizes else 0

    def plan_months(self) -> Iterator[tuple[dict[Path, bytes], list[Path]]]:
        """Per month, the review files to write and the ones to remove (after every write is
        durable). A month's records are dropped once rendered (read again from disk if needed):
        a full load never holds every rendered file at once."""
        by_month: dict[str, set[str]] = {}
        for d in self.dirty:
            by_month.setdefault(month_of_day(d), set()).add(d)
        self.dirty.clear()
        for m in sorted(by_month):
            writes: dict[Path, bytes] = {}
            removes: list[Path] = []
            split_only = (
                m not in self.whole
                and not (self.dir / REVIEWS_DIR / f"{m}.json").exists()
                and (self.dir / REVIEWS_DIR / m).is_dir()
            )
            if split_only:
                # Split on disk: render the dirty days, size the clean ones from disk.
                rendered = {d: render_day(self.days[d]) for d in by_month[m]}
                lens = [len(x) for x in rendered.values() if x]
                lens += [self._disk_len(m, d) for d in self.days_on_disk(m) - rendered.keys()]
                lens = [x for x in lens if x]
                month_len = 5 + sum(x - 5 for x in lens) + 2 * (len(lens) - 1)
                if month_len > self.layout.max_file_bytes:
                    for d in sorted(rendered):
                        targets = day_files(m, d, self.days[d], rendered[d], self.layout)
                        for rel, data in targets.items():
                            writes[self.dir / rel] = data
                        for p in self.day_paths(m, d):
                            if p.relative_to(self.dir).as_posix() not in targets:
                                removes.append(p)
                    for d in rendered:
                        del self.days[d]
                    yield writes, removes
                    continue
                self.load_month(m)  # it shrank back to one file
            by_day = {d: r for d, r in self.days.items() if month_of_day(d) == m}
            targets = month_files_by_day(m, by_day, self.layout)
            for rel, data in targets.items():
                writes[self.dir / rel] = data
            for p in self.month_paths(m):
                if p.relative_to(self.dir).as_posix() not in targets:
                    removes.append(p)
            for d in by_day:
                del self.days[d]
            self.whole.discard(m)
            yield writes, removes

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

    def locate(self, rows: Iterable[Row]) -> None:
        """Look up where the reviews these rows touch are filed, all in one pass over each
        collection's index (before `apply`: a night's 5,000 ids, a million indexed)."""
        ids: dict[Collection, list[str]] = {}
        for r in rows:
            ids.setdefault((r.kind, r.website_id), []).append(r.id)
        for key, found in ids.items():
            self.collection(*key).index.locate(found)

    def apply_lines(self, kind: str, website_id: str, rows: Iterable[LineRow]) -> None:
        """Fold encoded rows of one collection that `empty_and_untouched` said is empty."""
        self.collection(kind, website_id).apply_lines(rows)

    def upsert(self, review: Review) -> None:
        row = Row(Action.NEW, review.kind, review.website_id, review.id, review, "")
        self.collection(review.kind, review.website_id).apply([row], self.keep_order_ref)

    def clear(self, kind: str, website_id: str) -> None:
        self.collection(kind, website_id).clear()

    def empty_and_untouched(self, kind: str, website_id: str) -> bool:
        """True when the collection holds no review and nothing was applied to it in this run:
        a file can then be applied while it is read (`discard` undoes it if it breaks)."""
        col = self._collections.get((kind, website_id))
        if col is not None and (col.fresh is not None or col.dirty or col.index.changed):
            return False
        col = self.collection(kind, website_id)
        return len(col.index) == 0 and not col.months_on_disk()

    def discard(self, kind: str, website_id: str) -> None:
        """Forget what this run applied to a collection (nothing is written before commit)."""
        self._collections.pop((kind, website_id), None)

    def changes(self) -> dict[Collection, Changes]:
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
                for writes, r in c.plan_months():
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
