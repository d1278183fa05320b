"""The id index of a collection: review id -> the day it is filed under.

Small collections (up to `Layout.index_max` reviews) keep one `index.json`.
Large ones keep one index file per month of review dates,
`index/<YYYY-MM>-<hash>.json` (named by a hash of its bytes), listed by the
manifest `index/months.json` (month, file, count). A month file is a JSON
object day -> the sorted ids filed under it, one id per line: cheap to parse
(a million short strings, no million-entry dict) and to render (orjson).

Why by month: a night's new reviews are recent and its updates and deletions
mostly are too, so it rewrites the index of a few months only, however random
the ids (hash buckets of random ids would all change every night). Finding an
id whose month is unknown (a DELETE, a NEW whose id may exist elsewhere) reads
every month file: reading is cheap, rewriting (and fsync) is what costs.

New month files get new names and the manifest is replaced last, so the whole
index switches from old to new at once: a crash never leaves an id listed
twice (unlisted files are removed by the next write).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import orjson

from ..errors import StoreError
from .jsonfile import (
    fsync_dirs,
    load,
    no_cyclic_gc,
    remove,
    render_list,
    render_map,
    replace_if_changed,
    write_many,
)
from .layout import INDEX_DIR, INDEX_FILE, Layout, month_of_day

MANIFEST = "months.json"


_OPT = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def render_month(days: dict[str, list[str]]) -> bytes:
    """A month file: day -> its ids, sorted, one per line."""
    return orjson.dumps({d: sorted(ids) for d, ids in days.items() if ids}, option=_OPT)


def _file_name(month: str, data: bytes) -> str:
    return f"{month}-{hashlib.sha256(data).hexdigest()[:12]}.json"


class Index:
    """Loaded lazily (all month files at the first lookup); `write()` rewrites what changed."""

    def __init__(self, folder: Path, layout: Layout) -> None:
        self.dir = folder
        self.layout = layout
        self.changed = False
        # dict mode: the whole index as a dict (one index.json, or one rebuilt from
        # scratch); None in month mode
        self._all: dict[str, str] | None = None
        # month mode: the manifest, and the months once loaded
        self.files: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.months: dict[str, dict[str, list[str]]] | None = None  # month -> day -> ids
        # month mode: id -> day of the ids located so far (`known`; every id when `complete`)
        self.where: dict[str, str] = {}
        self.known: set[str] = set()
        self.complete = False
        self.dirty: set[str] = set()
        self.split = False
        self._plan: tuple[dict[str, bytes], dict[str, str], dict[str, int]] | None = None
        index_dir = folder / INDEX_DIR
        manifest = index_dir / MANIFEST
        if manifest.is_file():
            rows = load(manifest)
            try:
                for row in rows:
                    self.files[row["month"]] = row["file"]
                    self.counts[row["month"]] = int(row["count"])
            except (TypeError, KeyError, ValueError):
                raise StoreError(
                    f"snapshot index {manifest} has an unexpected shape; restore it from git"
                ) from None
            self.split = True

    # --- reading
    def _single(self) -> dict[str, str]:
        if self._all is None:
            if self.split:  # month mode: gather every month
                out: dict[str, str] = {}
                for days in self._months().values():
                    for d, ids in days.items():
                        out.update(dict.fromkeys(ids, d))
                self._all = out
                self._forget_months()
                self.split = False  # written anew from the dict
            else:
                path = self.dir / INDEX_FILE
                data = load(path) if path.is_file() else {}
                if not isinstance(data, dict):
                    raise StoreError(
                        f"snapshot index {path} is not a JSON object; restore it from git"
                    )
                self._all = data
        return self._all

    def _months(self) -> dict[str, dict[str, list[str]]]:
        """Every month file (day -> ids), read once."""
        if self.months is None:
            with no_cyclic_gc():
                self._load_months()
        assert self.months is not None
        return self.months

    def _load_months(self) -> None:
        out = {}
        for month, name in self.files.items():
            path = self.dir / INDEX_DIR / name
            data = load(path)
            if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
                raise StoreError(
                    f"snapshot index {path} is not a JSON object of id lists; restore it from git"
                )
            out[month] = data
        self.months = out

    def locate(self, ids: Iterable[str]) -> None:
        """Find the days of these ids in one pass over the month files: a set intersection
        per day (C speed), not an id -> day entry for each of a million indexed ids. A night
        locates its file's ids before applying it; other ids are looked up the slow way."""
        if not self.split:
            return
        wanted = {i for i in ids if i not in self.known}
        if not wanted or self.complete:
            return
        where = self.where
        for days in self._months().values():
            for d, listed in days.items():
                for i in wanted.intersection(listed):
                    where[i] = d
        self.known |= wanted

    def _forget_months(self) -> None:
        self.months, self.where, self.known, self.complete = None, {}, set(), False

    def _where(self, review_id: str) -> tuple[str | None, str | None]:
        """(month, day) of the id, or (None, None)."""
        day = self.where.get(review_id)
        if day is None and not self.complete and review_id not in self.known:
            self._locate_all()
            day = self.where.get(review_id)
        return (None, None) if day is None else (month_of_day(day), day)

    def _locate_all(self) -> None:
        """id -> day for every indexed id (an id nobody located beforehand)."""
        with no_cyclic_gc():
            where = self.where
            for days in self._months().values():
                for d, ids in days.items():
                    where.update(dict.fromkeys(ids, d))
        self.complete = True

    def get(self, review_id: str) -> str | None:
        if not self.split:
            return self._single().get(review_id)
        return self._where(review_id)[1]

    def __len__(self) -> int:
        if not self.split:
            return len(self._single())
        if self.months is None:
            return sum(self.counts.values())
        return sum(len(ids) for days in self.months.values() for ids in days.values())

    # --- changing
    def _remove(self, review_id: str, month: str, day: str) -> None:
        assert self.months is not None
        self.months[month][day].remove(review_id)
        del self.where[review_id]
        self.dirty.add(month)

    def put(self, review_id: str, day: str) -> str | None:
        """File the id under `day`; returns the day it was filed under before (or None)."""
        if not self.split:
            index = self._single()
            old = index.get(review_id)
            if old != day:
                index[review_id] = day
                self.changed = True
            return old
        month, old = self._where(review_id)
        if old == day:
            return old
        self.changed = True
        if month is not None and old is not None:
            self._remove(review_id, month, old)
        assert self.months is not None
        new_month = month_of_day(day)
        self.months.setdefault(new_month, {}).setdefault(day, []).append(review_id)
        self.where[review_id] = day
        self.known.add(review_id)
        self.dirty.add(new_month)
        return old

    def pop(self, review_id: str) -> str | None:
        if not self.split:
            got = self._single().pop(review_id, None)
        else:
            month, got = self._where(review_id)
            if month is not None and got is not None:
                self._remove(review_id, month, got)
        if got is not None:
            self.changed = True
        return got

    def clear(self) -> None:
        self._single().clear()
        self.changed = True

    # --- writing
    def render(self) -> None:
        """Render the month files a split index will write (CPU only: a commit does it while
        the review files are still being written); `write` renders what this did not."""
        if not self.changed or self._plan is not None or len(self) <= self.layout.index_max:
            return
        if self.split:  # month mode: the months changed
            months = self._months()
            todo = {m: months[m] for m in self.dirty}
            files = dict(self.files)
            counts = {m: sum(map(len, x.values())) for m, x in months.items()}
        else:  # from a dict: every month
            by_day: defaultdict[str, list[str]] = defaultdict(list)
            for i, day in self._single().items():
                by_day[day].append(i)
            todo = {}
            for day, ids in by_day.items():
                todo.setdefault(month_of_day(day), {})[day] = ids
            files, counts = {}, {m: sum(map(len, x.values())) for m, x in todo.items()}
        new: dict[str, bytes] = {}
        for m, days in todo.items():
            if not any(days.values()):
                files.pop(m, None)
                continue
            data = render_month(days)
            files[m] = _file_name(m, data)
            new[files[m]] = data
        counts = {m: c for m, c in counts.items() if c}
        self._plan = (new, files, counts)

    def write(self, stop: Path, synced: set[Path]) -> int:
        """Write the index if it changed; returns the files touched."""
        if not self.changed:
            return 0
        folder = self.dir / INDEX_DIR
        touched = 0
        if len(self) > self.layout.index_max:
            self.render()
            assert self._plan is not None
            new, files, counts = self._plan
            self._plan = None
            touched += write_many({folder / name: data for name, data in new.items()}, synced)
            fsync_dirs(synced)  # the month files are durable before the manifest names them
            manifest = render_list(
                {"count": counts[m], "file": files[m], "month": m} for m in sorted(files)
            )
            touched += replace_if_changed(folder / MANIFEST, manifest, synced)
            fsync_dirs(synced)  # ... and the manifest before anything it replaced goes
            keep = set(files.values()) | {MANIFEST}
            for p in sorted(folder.glob("*.json")):
                if p.name not in keep:
                    remove(p, stop, synced)
                    touched += 1
            single = self.dir / INDEX_FILE
            if single.exists():
                remove(single, stop, synced)
                touched += 1
            self._all = None
            self.split = True
            self.files, self.counts = files, counts
            self._forget_months()
            self.dirty = set()
            self.changed = False
            return touched
        entries = self._single()
        single = self.dir / INDEX_FILE
        if entries:
            touched += replace_if_changed(single, render_map(entries), synced)
        elif single.exists():
            remove(single, stop)
            touched += 1
        touched += self._remove_index_dir(stop)
        self.changed = False
        return touched

    def _remove_index_dir(self, stop: Path) -> int:
        folder = self.dir / INDEX_DIR
        if not folder.is_dir():
            return 0
        touched = 0
        if (folder / MANIFEST).exists():  # the manifest first: it makes the files count
            remove(folder / MANIFEST, stop)
            touched += 1
        for p in sorted(folder.glob("*.json")):
            remove(p, stop)
            touched += 1
        return touched
