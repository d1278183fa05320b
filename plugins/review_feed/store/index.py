"""The id index of a collection: review id -> the day it is filed under.

Small collections (up to `Layout.index_max` reviews) keep one `index.json`.
Large ones keep one index file per month of review dates,
`index/<YYYY-MM>-<hash>.json` (named by a hash of its bytes), listed by the
manifest `index/months.json` (month, file, count). A month file is a JSON
object, one `"id": "day"` per line, the lines sorted bytewise, so it is read
as a list of lines and edited by bisection, never parsed entry by entry nor
re-sorted.

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

import bisect
import hashlib
from pathlib import Path

import orjson

from ..errors import StoreError
from .jsonfile import (
    fsync_dirs,
    load,
    remove,
    render_list,
    render_map,
    replace_if_changed,
    write_many,
)
from .layout import INDEX_DIR, INDEX_FILE, UNDATED, Layout

MANIFEST = "months.json"
LEGACY_MANIFEST = "chunks.json"  # the content-defined chunks of earlier versions: read, replaced


def _prefix(review_id: str) -> bytes:
    return b"  " + orjson.dumps(review_id) + b": "


def _month(day: str) -> str:
    return UNDATED if day == UNDATED else day[:7]


def lines_of(entries: dict[str, str]) -> list[bytes]:
    """The sorted lines (each ending with a comma) of a month file holding `entries`."""
    if not entries:
        return []
    data = orjson.dumps(entries, option=orjson.OPT_INDENT_2)  # {\n  "a": "b",\n  ...\n}
    lines = data[2:-2].split(b"\n")
    lines[-1] += b","
    lines.sort()
    return lines


def render_lines(lines: list[bytes]) -> bytes:
    if not lines:
        return b"{}\n"
    return b"{\n" + b"\n".join(lines)[:-1] + b"\n}\n"


def parse_lines(data: bytes, path: Path) -> list[bytes]:
    if data == b"{}\n":
        return []
    if not (data.startswith(b'{\n  "') and data.endswith(b"\n}\n")):
        raise StoreError(f"snapshot index {path} is not an index file; restore it from git")
    lines = data[2:-3].split(b"\n")
    lines[-1] += b","
    return lines


def _file_name(month: str, data: bytes) -> str:
    return f"{month}-{hashlib.sha256(data).hexdigest()[:12]}.json"


class Index:
    """Loaded lazily (all month files at the first lookup); `write()` rewrites what changed."""

    def __init__(self, folder: Path, layout: Layout) -> None:
        self.dir = folder
        self.layout = layout
        self.changed = False
        # dict mode: the whole index as a dict (one index.json, a legacy chunked index, or
        # one rebuilt from scratch); None in month mode
        self._all: dict[str, str] | None = None
        # month mode: the manifest, and the months' lines once loaded
        self.files: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.months: dict[str, list[bytes]] | None = None
        self.dirty: set[str] = set()
        self.split = False
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
        elif (index_dir / LEGACY_MANIFEST).is_file():
            self._all = self._read_legacy(index_dir)

    # --- reading
    @staticmethod
    def _read_legacy(folder: Path) -> dict[str, str]:
        manifest = folder / LEGACY_MANIFEST
        rows = load(manifest)
        try:
            files = [row["file"] for row in rows]
        except (TypeError, KeyError):
            raise StoreError(
                f"snapshot index {manifest} has an unexpected shape; restore it from git"
            ) from None
        out: dict[str, str] = {}
        for name in files:
            data = load(folder / name)
            if not isinstance(data, dict):
                raise StoreError(f"snapshot index {folder / name} is not a JSON object")
            out.update(data)
        return out

    def _single(self) -> dict[str, str]:
        if self._all is None:
            if self.split:  # month mode: gather every month
                out: dict[str, str] = {}
                for lines in self._months().values():
                    if lines:
                        out.update(orjson.loads(render_lines(lines)))
                self._all = out
                self.months = None
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

    def _months(self) -> dict[str, list[bytes]]:
        if self.months is None:
            out = {}
            for month, name in self.files.items():
                path = self.dir / INDEX_DIR / name
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise StoreError(
                        f"cannot read snapshot file {path}: {exc.strerror or exc}; "
                        "restore it from git"
                    ) from None
                out[month] = parse_lines(data, path)
            self.months = out
        return self.months

    def _find(self, review_id: str) -> tuple[str | None, int, bytes]:
        """(month, position) of the id's line, or (None, 0, prefix)."""
        p = _prefix(review_id)
        left = bisect.bisect_left
        for month, lines in self._months().items():
            i = left(lines, p)
            if i < len(lines) and lines[i].startswith(p):
                return month, i, p
        return None, 0, p

    def _day(self, month: str, i: int, p: bytes) -> str:
        line = self._months()[month][i]
        try:
            day = orjson.loads(line[len(p) : -1])
        except orjson.JSONDecodeError:
            day = None
        if not isinstance(day, str):
            raise StoreError(f"snapshot index line {line[:80]!r} is damaged; restore it from git")
        return day

    def get(self, review_id: str) -> str | None:
        if not self.split:
            return self._single().get(review_id)
        month, i, p = self._find(review_id)
        return None if month is None else self._day(month, i, p)

    def mapping(self) -> dict[str, str] | None:
        """The whole index as a plain dict when it is held as one (the fast path), else None.
        A caller that changes it must set `changed`."""
        return None if self.split else self._single()

    def __len__(self) -> int:
        if not self.split:
            return len(self._single())
        if self.months is None:
            return sum(self.counts.values())
        return sum(len(x) for x in self.months.values())

    def all(self) -> dict[str, str]:
        """Every entry (reads every month file)."""
        return self._single()

    # --- changing
    def set(self, review_id: str, day: str) -> None:
        self.changed = True
        if not self.split:
            self._single()[review_id] = day
            return
        month, i, p = self._find(review_id)
        months = self._months()
        new_month = _month(day)
        line = p + orjson.dumps(day) + b","
        if month == new_month:
            months[month][i] = line
        else:
            if month is not None:
                del months[month][i]
                self.dirty.add(month)
            lines = months.setdefault(new_month, [])
            lines.insert(bisect.bisect_left(lines, p), line)
        self.dirty.add(new_month)

    def pop(self, review_id: str) -> str | None:
        if not self.split:
            got = self._single().pop(review_id, None)
        else:
            month, i, p = self._find(review_id)
            got = None if month is None else self._day(month, i, p)
            if month is not None:
                del self._months()[month][i]
                self.dirty.add(month)
        if got is not None:
            self.changed = True
        return got

    def clear(self) -> None:
        self._single().clear()
        self.changed = True

    # --- writing
    def write(self, stop: Path, synced: set[Path]) -> int:
        """Write the index if it changed; returns the files touched."""
        if not self.changed:
            return 0
        folder = self.dir / INDEX_DIR
        touched = 0
        if len(self) > self.layout.index_max:
            if self.split:  # month mode: the months changed
                months = self._months()
                todo = {m: months[m] for m in self.dirty}
                files, counts = dict(self.files), {m: len(x) for m, x in months.items()}
            else:  # from a dict: every month
                by_month: dict[str, dict[str, str]] = {}
                for i, day in self._single().items():
                    m = UNDATED if day == UNDATED else day[:7]
                    got = by_month.get(m)
                    if got is None:
                        got = by_month[m] = {}
                    got[i] = day
                todo = {m: lines_of(e) for m, e in by_month.items()}
                files, counts = {}, {m: len(e) for m, e in by_month.items()}
            new: dict[Path, bytes] = {}
            for m, lines in todo.items():
                if not lines:
                    files.pop(m, None)
                    continue
                data = render_lines(lines)
                files[m] = _file_name(m, data)
                new[folder / files[m]] = data
            counts = {m: c for m, c in counts.items() if c}
            touched += write_many(new, synced)
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
            self.months = None
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
        for name in (MANIFEST, LEGACY_MANIFEST):  # the manifest first: it makes the files count
            if (folder / name).exists():
                remove(folder / name, stop)
                touched += 1
        for p in sorted(folder.glob("*.json")):
            remove(p, stop)
            touched += 1
        return touched
