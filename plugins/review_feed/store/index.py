"""The id index of a collection: review id -> the day it is filed under.

Small collections (up to `Layout.index_max` reviews) keep one `index.json`.
Large ones keep `index/<xx>.json`, one file per fixed hash bucket
(`crc32(id) % Layout.index_buckets`), plus the manifest `index/buckets.json`
(ids per bucket). A bucket file is a JSON object, one `"id": "day"` per line,
the lines sorted bytewise: a night edits the buckets it touches as lists of
lines (find by bisection, insert, delete, join) without parsing a million
entries or re-sorting them, and a bucket's name never changes.

Crash safety: review files are durable before any index file changes, and each
bucket is replaced atomically, so after a crash every entry is either its old
or its new state; re-applying the unrecorded files (the ledger is written last)
fixes both. The manifest is the switch between the layouts: buckets.json
present means buckets, else `index.json` (written first when shrinking back).
"""

from __future__ import annotations

import bisect
import zlib
from pathlib import Path

import orjson

from ..errors import StoreError
from .jsonfile import fsync_dirs, load, remove, render_map, replace_if_changed, write_many
from .layout import INDEX_DIR, INDEX_FILE, Layout

MANIFEST = "buckets.json"
LEGACY_MANIFEST = "chunks.json"  # the content-defined chunks of earlier versions: read, replaced


def bucket_of(review_id: str, buckets: int) -> int:
    return zlib.crc32(review_id.encode("utf-8")) % buckets


def bucket_name(n: int, buckets: int) -> str:
    width = len(format(max(buckets - 1, 0), "x"))
    return format(n, f"0{width}x") + ".json"


def _prefix(review_id: str) -> bytes:
    return b"  " + orjson.dumps(review_id) + b": "


def lines_of(entries: dict[str, str]) -> list[bytes]:
    """The sorted lines (each ending with a comma) of a bucket holding `entries`."""
    if not entries:
        return []
    data = orjson.dumps(entries, option=orjson.OPT_INDENT_2)  # {\n  "a": "b",\n  ...\n}
    lines = data[2:-2].split(b"\n")
    lines[-1] += b","
    lines.sort()
    return lines


def render_bucket(lines: list[bytes]) -> bytes:
    if not lines:
        return b"{}\n"
    return b"{\n" + b"\n".join(lines)[:-1] + b"\n}\n"


def parse_bucket(data: bytes, path: Path) -> list[bytes]:
    if data == b"{}\n":
        return []
    if not (data.startswith(b'{\n  "') and data.endswith(b"\n}\n")):
        raise StoreError(f"snapshot index {path} is not an index bucket; restore it from git")
    lines = data[2:-3].split(b"\n")
    lines[-1] += b","
    return lines


class Index:
    """Loaded lazily, bucket by bucket; `write()` rewrites only what changed."""

    def __init__(self, folder: Path, layout: Layout) -> None:
        self.dir = folder
        self.layout = layout
        self.n = layout.index_buckets
        self.changed = False
        # dict mode: the whole index as a dict (one index.json, a legacy or re-sized bucketed
        # index, or one being rebuilt); None in bucket mode
        self._all: dict[str, str] | None = None
        self.counts: list[int] = []  # bucket mode: ids per bucket, from the manifest
        self.lines: dict[int, list[bytes]] = {}  # bucket mode: the buckets loaded
        folder_ = folder / INDEX_DIR
        manifest = folder_ / MANIFEST
        if manifest.is_file():
            data = load(manifest)
            names = [bucket_name(n, self.n) for n in range(self.n)]
            if not isinstance(data, dict) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in data.values()
            ):
                raise StoreError(
                    f"snapshot index {manifest} has an unexpected shape; restore it from git"
                )
            if sorted(data) == names:
                self.counts = [data[k] for k in names]
            else:  # another bucket count: read it all, write it anew
                self._all = self._read_buckets(folder_, sorted(data))
        elif (folder_ / LEGACY_MANIFEST).is_file():
            self._all = self._read_legacy(folder_)

    # --- reading
    @staticmethod
    def _read_buckets(folder: Path, names: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in names:
            p = folder / name
            if p.is_file():
                data = load(p)
                if not isinstance(data, dict):
                    raise StoreError(f"snapshot index {p} is not a JSON object; restore from git")
                out.update(data)
        return out

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
        return Index._read_buckets(folder, files)

    def _single(self) -> dict[str, str]:
        if self._all is None:
            if self.counts:  # bucket mode: gather every bucket
                out: dict[str, str] = {}
                for n in range(self.n):
                    lines = self._bucket(n)
                    if lines:
                        out.update(orjson.loads(render_bucket(lines)))
                self._all = out
                self.counts, self.lines = [], {}
            else:
                path = self.dir / INDEX_FILE
                data = load(path) if path.is_file() else {}
                if not isinstance(data, dict):
                    raise StoreError(
                        f"snapshot index {path} is not a JSON object; restore it from git"
                    )
                self._all = data
        return self._all

    def _bucket(self, n: int) -> list[bytes]:
        got = self.lines.get(n)
        if got is None:
            path = self.dir / INDEX_DIR / bucket_name(n, self.n)
            if self.counts[n] == 0 and not path.exists():
                got = []
            else:
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise StoreError(
                        f"cannot read snapshot file {path}: {exc.strerror or exc}; "
                        "restore it from git"
                    ) from None
                got = parse_bucket(data, path)
            self.lines[n] = got
        return got

    def _find(self, review_id: str) -> tuple[list[bytes], int, bytes, bool]:
        lines = self._bucket(bucket_of(review_id, self.n))
        p = _prefix(review_id)
        i = bisect.bisect_left(lines, p)
        return lines, i, p, i < len(lines) and lines[i].startswith(p)

    @staticmethod
    def _day(line: bytes, p: bytes) -> str:
        try:
            day = orjson.loads(line[len(p) : -1])
        except orjson.JSONDecodeError:
            day = None
        if not isinstance(day, str):
            raise StoreError(f"snapshot index line {line[:80]!r} is damaged; restore it from git")
        return day

    def get(self, review_id: str) -> str | None:
        if not self.counts:
            return self._single().get(review_id)
        lines, i, p, found = self._find(review_id)
        return self._day(lines[i], p) if found else None

    def mapping(self) -> dict[str, str] | None:
        """The whole index as a plain dict when it is held as one (the fast path), else None.
        A caller that changes it must set `changed`."""
        return None if self.counts else self._single()

    def __len__(self) -> int:
        if not self.counts:
            return len(self._single())
        return sum(len(self.lines[n]) if n in self.lines else c for n, c in enumerate(self.counts))

    def all(self) -> dict[str, str]:
        """Every entry (reads every bucket)."""
        return self._single()

    # --- changing
    def set(self, review_id: str, day: str) -> None:
        self.changed = True
        if not self.counts:
            self._single()[review_id] = day
            return
        lines, i, p, found = self._find(review_id)
        line = p + orjson.dumps(day) + b","
        if found:
            lines[i] = line
        else:
            lines.insert(i, line)

    def pop(self, review_id: str) -> str | None:
        if not self.counts:
            got = self._single().pop(review_id, None)
        else:
            lines, i, p, found = self._find(review_id)
            got = self._day(lines[i], p) if found else None
            if found:
                del lines[i]
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
            if self.counts:  # bucket mode: the buckets loaded (unchanged ones are not written)
                loaded, name = self.lines, bucket_name
                files = {folder / name(n, self.n): render_bucket(x) for n, x in loaded.items()}
                counts = [len(loaded[n]) if n in loaded else c for n, c in enumerate(self.counts)]
                full = False
            else:  # from a dict: every bucket
                entries = self._single()
                parts: list[dict[str, str]] = [{} for _ in range(self.n)]
                crc = zlib.crc32
                n = self.n
                for i, day in entries.items():
                    parts[crc(i.encode("utf-8")) % n][i] = day
                files = {}
                counts = []
                for k, part in enumerate(parts):
                    counts.append(len(part))
                    if part:
                        files[folder / bucket_name(k, n)] = render_bucket(lines_of(part))
                full = True
            touched += write_many(files, synced)
            fsync_dirs(synced)  # the buckets are durable before the manifest names them
            manifest = render_map({bucket_name(k, self.n): c for k, c in enumerate(counts)})
            touched += replace_if_changed(folder / MANIFEST, manifest, synced)
            if full:  # whatever else lies in the folder (an old layout, a crash's leftovers)
                keep = {p.name for p in files} | {MANIFEST}
                for p in sorted(folder.glob("*.json")):
                    if p.name not in keep:
                        remove(p, stop, synced)
                        touched += 1
                single = self.dir / INDEX_FILE
                if single.exists():
                    remove(single, stop, synced)
                    touched += 1
                # from now on, bucket mode
                self._all = None
                self.lines = {}
            self.counts = counts
            self.changed = False
            return touched
        entries = self._single()
        single = self.dir / INDEX_FILE
        if entries:
            touched += replace_if_changed(single, render_map(entries), synced)
        elif single.exists():
            remove(single, stop)
            touched += 1
        touched += self._remove_bucket_dir(stop)
        self.changed = False
        return touched

    def _remove_bucket_dir(self, stop: Path) -> int:
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
