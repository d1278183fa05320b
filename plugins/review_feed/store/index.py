"""The id index of a collection: review id -> the month it is filed under.

Small collections (up to `Layout.index_max` reviews) keep one `index.json`.
Large ones keep `index/chunks.json` (the manifest) and chunk files
`index/<hash>.json`: the ids, sorted, are cut before every id whose crc32 is a
multiple of `Layout.index_chunk` (content-defined chunking, so the cut points
depend only on the ids, never on history). A night's changes therefore rewrite
only the chunks holding the ids they touch (new ids from a growing counter all
land in the last chunk), and only those chunks are read.

Chunk files are named by the hash of their bytes and the manifest lists them:
replacing the manifest switches the whole index at once, so a crash can never
leave half an index (unlisted chunk files are removed by the next write).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import zlib
from pathlib import Path

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
from .layout import INDEX_DIR, INDEX_FILE, Layout

MANIFEST = "chunks.json"


def _is_cut(review_id: str, every: int) -> bool:
    return zlib.crc32(review_id.encode("utf-8")) % every == 0


def _chunk_name(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20] + ".json"


def chunk_ids(ids: list[str], every: int) -> list[list[str]]:
    """Sorted ids cut before each cut id (the first piece may start anywhere)."""
    out: list[list[str]] = []
    cur: list[str] = []
    for i in ids:
        if cur and _is_cut(i, every):
            out.append(cur)
            cur = []
        cur.append(i)
    if cur:
        out.append(cur)
    return out


class Index:
    """Loaded lazily, chunk by chunk; `write()` rewrites only what changed."""

    def __init__(self, folder: Path, layout: Layout) -> None:
        self.dir = folder
        self.layout = layout
        self.changed = False
        manifest = folder / INDEX_DIR / MANIFEST
        self.chunked = manifest.is_file()
        # single mode
        self._all: dict[str, str] | None = None
        # chunked mode: parallel lists, one item per chunk, in id order
        self.firsts: list[str] = []
        self.files: list[str] = []
        self.counts: list[int] = []
        self.loaded: dict[int, dict[str, str]] = {}
        self.dirty: set[int] = set()
        self.added: dict[int, set[str]] = {}  # ids added to each chunk this run
        if self.chunked:
            rows = load(manifest)
            try:
                for row in rows:
                    self.firsts.append(row["first"])
                    self.files.append(row["file"])
                    self.counts.append(int(row["count"]))
            except (TypeError, KeyError, ValueError):
                raise StoreError(
                    f"snapshot index {manifest} has an unexpected shape; restore it from git"
                ) from None

    # --- reading
    def _single(self) -> dict[str, str]:
        if self._all is None:
            path = self.dir / INDEX_FILE
            data = load(path) if path.is_file() else {}
            if not isinstance(data, dict):
                raise StoreError(f"snapshot index {path} is not a JSON object; restore it from git")
            self._all = data
        return self._all

    def _chunk(self, n: int) -> dict[str, str]:
        got = self.loaded.get(n)
        if got is None:
            path = self.dir / INDEX_DIR / self.files[n]
            data = load(path)
            if not isinstance(data, dict):
                raise StoreError(f"snapshot index {path} is not a JSON object; restore it from git")
            got = self.loaded[n] = data
        return got

    def _where(self, review_id: str) -> int:
        return max(0, bisect.bisect_right(self.firsts, review_id) - 1)

    def get(self, review_id: str) -> str | None:
        if not self.chunked:
            return self._single().get(review_id)
        if not self.firsts:
            return None
        return self._chunk(self._where(review_id)).get(review_id)

    def mapping(self) -> dict[str, str] | None:
        """The whole index as a plain dict when it is one file (the fast path), else None.
        A caller that changes it must set `changed`."""
        return None if self.chunked else self._single()

    def __len__(self) -> int:
        if not self.chunked:
            return len(self._single())
        return sum(
            len(self.loaded[n]) if n in self.loaded else c for n, c in enumerate(self.counts)
        )

    def all(self) -> dict[str, str]:
        """Every entry (loads every chunk)."""
        if not self.chunked:
            return self._single()
        out: dict[str, str] = {}
        for n in range(len(self.files)):
            out.update(self._chunk(n))
        return out

    # --- changing
    def set(self, review_id: str, month: str) -> None:
        self.changed = True
        if not self.chunked:
            self._single()[review_id] = month
            return
        if not self.firsts:  # an empty chunked index: start one chunk
            self.firsts, self.files, self.counts = [review_id], [""], [0]
            self.loaded[0] = {}
        n = self._where(review_id)
        chunk = self._chunk(n)
        if review_id not in chunk:
            self.added.setdefault(n, set()).add(review_id)
        chunk[review_id] = month
        self.dirty.add(n)

    def pop(self, review_id: str) -> str | None:
        if not self.chunked:
            got = self._single().pop(review_id, None)
        elif not self.firsts:
            return None
        else:
            n = self._where(review_id)
            got = self._chunk(n).pop(review_id, None)
            if got is not None:
                self.dirty.add(n)
        if got is not None:
            self.changed = True
        return got

    def clear(self) -> None:
        for n in range(len(self.files)):
            self._chunk(n).clear()
            self.dirty.add(n)
        if not self.chunked:
            self._single().clear()
        self.changed = True

    # --- writing
    def write(self, stop: Path, synced: set[Path]) -> int:
        """Write the index if it changed; returns the files touched."""
        if not self.changed:
            return 0
        total = len(self)
        if total > self.layout.index_max:
            return self._write_chunked(stop, synced)
        entries = self.all()
        touched = 0
        single = self.dir / INDEX_FILE
        if entries:
            touched += replace_if_changed(single, render_map(entries), synced)
        elif single.exists():
            remove(single, stop)
            touched += 1
        touched += self._remove_chunk_dir(stop)
        self.chunked = False
        self._all = entries
        self.changed = False
        return touched

    def _remove_chunk_dir(self, stop: Path) -> int:
        folder = self.dir / INDEX_DIR
        if not folder.is_dir():
            return 0
        touched = 0
        manifest = folder / MANIFEST
        if manifest.exists():  # the manifest first: it is what makes the chunks count
            remove(manifest, stop)
            touched += 1
        for p in sorted(folder.glob("*.json")):
            remove(p, stop)
            touched += 1
        return touched

    def _write_chunked(self, stop: Path, synced: set[Path]) -> int:
        every = self.layout.index_chunk
        folder = self.dir / INDEX_DIR
        if not self.chunked:
            # from one index.json to chunks: cut everything
            # No sort of a million ids: find the few cut ids, then bisect each id
            # into its piece (the chunk files sort their keys when rendered).
            entries = self._single()
            crc = zlib.crc32
            cuts = sorted(i for i in entries if crc(i.encode("utf-8")) % every == 0)
            slots: list[dict[str, str]] = [{} for _ in range(len(cuts) + 1)]
            where = bisect.bisect_right
            for i, day in entries.items():
                slots[where(cuts, i)][i] = day
            pieces = [p for p in slots if p]
            firsts: list[str] = []
            files: list[str] = []
            counts: list[int] = []
            new_files: dict[str, bytes] = {}
            for p in pieces:
                data = render_map(p)
                firsts.append(min(p))
                files.append(_chunk_name(data))
                counts.append(len(p))
                new_files[files[-1]] = data
        else:
            firsts, files, counts, new_files = self._rechunk(every)
        touched = write_many({folder / n: d for n, d in new_files.items()}, synced)
        manifest = render_list(
            {"count": c, "file": f, "first": i}
            for i, f, c in zip(firsts, files, counts, strict=True)
        )
        fsync_dirs(synced)  # the chunks must be durable before the manifest names them
        touched += replace_if_changed(folder / MANIFEST, manifest, synced)
        single = self.dir / INDEX_FILE
        if single.exists():
            remove(single, stop)
            touched += 1
        keep = set(files) | {MANIFEST}
        for p in sorted(folder.glob("*.json")):
            if p.name not in keep:
                remove(p, stop, synced)
                touched += 1
        self.chunked = True
        self._all = None
        self.firsts, self.files, self.counts = firsts, files, counts
        self.loaded = {}
        self.dirty = set()
        self.added = {}
        self.changed = False
        return touched

    def _rechunk(self, every: int):
        """Re-cut only the dirty chunks.

        Invariant (from `chunk_ids`): in a chunk only the first id may be a cut
        id, and every chunk but the first starts with one. So a dirty chunk needs
        cutting only at the cut ids added this run, and a chunk that lost its
        first id joins the chunk before it.
        """
        dirty = set(self.dirty)
        changed = True
        while changed:  # a chunk that no longer starts with a cut id joins its predecessor
            changed = False
            for n in sorted(dirty):
                chunk = self._chunk(n)
                if n > 0 and n - 1 not in dirty and (not chunk or not _is_cut(min(chunk), every)):
                    dirty.add(n - 1)
                    changed = True
        # (first id, entries or None when clean and kept as is, n of the clean chunk)
        out: list[tuple[str, dict[str, str] | None, int]] = []
        for n in range(len(self.files)):
            if n not in dirty:
                out.append((self.firsts[n], None, n))
                continue
            chunk = self._chunk(n)
            if not chunk:
                continue
            # new cut ids, and the old first id if an id added before it left it inside
            lowest = min(chunk)
            candidates = set(self.added.get(n, ()))
            if self.firsts[n] != lowest:
                candidates.add(self.firsts[n])
            cuts = sorted(i for i in candidates if i != lowest and i in chunk and _is_cut(i, every))
            if cuts:
                ids = sorted(chunk)
                bounds = [0, *(bisect.bisect_left(ids, c) for c in cuts), len(ids)]
                pieces = [
                    {i: chunk[i] for i in ids[a:b]} for a, b in itertools.pairwise(bounds) if b > a
                ]
            else:
                pieces = [chunk]
            for k, piece in enumerate(pieces):
                first = min(piece)
                if k == 0 and out and not _is_cut(first, every):
                    prev_first, prev, _ = out[-1]
                    assert prev is not None  # made dirty by the loop above
                    out[-1] = (prev_first, {**prev, **piece}, -1)
                else:
                    out.append((first, piece, -1))
        firsts: list[str] = []
        files: list[str] = []
        counts: list[int] = []
        new_files: dict[str, bytes] = {}
        for first, entries, n in out:
            firsts.append(first)
            if entries is None:
                files.append(self.files[n])
                counts.append(self.counts[n])
                continue
            data = render_map(entries)
            files.append(_chunk_name(data))
            counts.append(len(entries))
            new_files[files[-1]] = data
        return firsts, files, counts, new_files
