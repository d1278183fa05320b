"""The snapshot as the last build read it, so a build parses only what changed.

Every build needs each product's fingerprint, name and rating counts (the products
index lists them all; an unchanged product keeps its pages by its fingerprint),
but the reviews themselves only of the products it renders. A million-review
snapshot takes seconds to parse and check, and a night changes a few thousand of
its lines. The read cache (`snapshot-read.json` in the REVIEW_FEED_CACHE folder)
records:

- per snapshot file: the SHA-256 of its bytes and, per line, the review's id,
  its product ref and a hash of the line; which lines a newer file of the
  collection shadows (an id in two files counts from the newer, as
  `read_stored` reads it);
- per product: its `Summary` (fingerprint, feed name, rating counts).

A file whose bytes hash as recorded holds the lines that were read and checked
then, and is not parsed again. A file that changed is parsed, and its lines are
compared with the recorded ones by id: the products of the lines that changed,
appeared or went (and of any line sharing such an id) are read again, from all
their lines; every other product is taken from its summary, and its lines are
read only if the build renders it after all (a template changed). The brand's
reviews are always read.

A missing, damaged (its first line is the SHA-256 of the rest) or foreign cache
(another plugin version) means every file is read as new, which writes a fresh
one. The result never depends on it: the same data as reading the whole snapshot.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..errors import StoreError
from ..store import (
    SnapshotFile,
    StoredReview,
    checked_line,
    records_of,
    snapshot_bytes,
    split_lines,
)
from .data import ReviewData, Summary, gather, owner, review_data
from .incremental import code_key, regular_file

log = logging.getLogger("review_feed.site.readcache")

CACHE_FILE = "snapshot-read.json"  # in the REVIEW_FEED_CACHE folder
FORMAT = 1

Record = tuple[dict[str, Any], StoredReview]


@dataclass(frozen=True, slots=True)
class FileLines:
    """What the cache knows of one snapshot file (line k is file line k + 2)."""

    sha256: str
    ids: list[str]  # each line's review id
    refs: list[str | None]  # each line's product ref (None: a site review, or no ref)
    hashes: list[str]  # each line's `line_hash`
    shadowed: list[int]  # lines whose id a newer file of the collection holds

    def by_id(self) -> dict[str, tuple[str | None, str]]:
        return {i: (r, h) for i, r, h in zip(self.ids, self.refs, self.hashes, strict=True)}


@dataclass(slots=True)
class ReadCache:
    files: dict[str, FileLines] = field(default_factory=dict)  # by name in the snapshot
    products: dict[str, Summary] = field(default_factory=dict)  # by ref


def line_count(data: bytes) -> int | None:
    """How many record lines a file in our one-record-per-line layout has (see
    `split_lines`: `[`, the lines, `]`), without splitting it; None for another layout."""
    if not (data.startswith(b"[\n") and data.endswith(b"\n]\n")):
        return None
    return data.count(b"\n") - 2


def line_hash(line: bytes) -> str:
    return hashlib.blake2b(line, digest_size=8).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SnapshotRead:
    """One build's reading of the snapshot's files (in `snapshot_files` order) against
    the cache of the previous build (empty: read every file)."""

    def __init__(self, files: list[SnapshotFile], previous: ReadCache) -> None:
        self.files = files
        self.previous = previous
        self.cache = ReadCache()
        self.parsed: dict[str, list[bytes]] = {}  # changed files' lines (checked), until gathered
        self.data: dict[str, bytes] = {}  # unchanged files' bytes, until gathered
        self.changed_ids: set[str] = set()  # lines changed, new or gone, by id
        self.dirty_refs: set[str] = set()  # products read again
        self.unread: dict[str, list[StoredReview]] | None = None  # see `lines`
        self.read_as_new = 0  # files parsed: changed, new, or not in the cache

    def run(self) -> ReviewData:
        self.sort_files()
        self.find_changes()
        brand, by_ref = gather(self.gathered())
        self.data.clear()  # (what the gathering skipped)
        products = self.cache.products
        kept = self.previous.products.items()
        products.update((r, s) for r, s in kept if r not in self.dirty_refs)
        products.update((ref, Summary.of(got)) for ref, got in by_ref.items())
        stored = {ref: got.stored for ref, got in by_ref.items()}
        return review_data(brand, products, stored, self.lines)

    def sort_files(self) -> None:
        """Hash every file; parse and check those the cache does not hold as they are."""
        for f in self.files:
            data = snapshot_bytes(f.path)
            digest = sha256(data)
            old = self.previous.files.get(f.name)
            if old is not None and old.sha256 == digest and line_count(data) == len(old.ids):
                self.data[f.name] = data
                self.cache.files[f.name] = old
                continue
            entry = self.cache.files[f.name] = FileLines(digest, [], [], [], [])
            lines = self.parsed[f.name] = []
            for rec, line in records_of(f.path, data):
                entry.ids.append(rec["id"])
                entry.refs.append(owner(f.kind, rec))
                entry.hashes.append(line_hash(line))
                lines.append(line)
            self.read_as_new += 1

    def find_changes(self) -> None:
        """The ids whose line changed, appeared or went in a file read as new; the
        products of those lines, before and after, and of any line sharing such an id
        (which of the two counts may change)."""
        for name in self.previous.files.keys() | self.parsed.keys():
            if name in self.data:
                continue
            old = self.previous.files.get(name)
            new = self.cache.files.get(name) if name in self.parsed else None
            before = old.by_id() if old is not None else {}
            after = new.by_id() if new is not None else {}
            if old is not None and len(before) < len(old.ids):  # an id twice in a file
                self.changed_ids.update(old.ids)
            if new is not None and len(after) < len(new.ids):
                self.changed_ids.update(new.ids)
            for rid in before.keys() | after.keys():
                was, now = before.get(rid), after.get(rid)
                if was != now:
                    self.changed_ids.add(rid)
                    self.dirty_refs.update(x[0] for x in (was, now) if x and x[0] is not None)
        if not self.changed_ids:
            return
        for entry in self.cache.files.values():
            if not self.changed_ids.isdisjoint(entry.ids):
                self.dirty_refs.update(
                    ref
                    for rid, ref in zip(entry.ids, entry.refs, strict=True)
                    if ref is not None and rid in self.changed_ids
                )

    def gathered(self) -> Iterator[Record]:
        """The records of the brand and of the products read again, in reading order,
        each id once (from the newest file of its collection)."""
        seen: set[str] = set()  # the changed ids met so far in the collection
        collection: tuple[str, str] | None = None
        for f in self.files:
            if (f.kind, f.website_id) != collection:
                collection, seen = (f.kind, f.website_id), set()
            yield from self.file_records(f, seen)

    def file_records(self, f: SnapshotFile, seen: set[str]) -> Iterator[Record]:
        entry = self.cache.files[f.name]
        lines = self.parsed.pop(f.name, None)
        if (
            lines is None
            and f.kind != "site"
            and self.dirty_refs.isdisjoint(entry.refs)
            and self.changed_ids.isdisjoint(entry.ids)
        ):
            return
        old = self.previous.files.get(f.name)
        changed = lines is not None
        if lines is None:  # unchanged: the recorded shadowing stands for unchanged ids
            lines = split_lines(self.data.pop(f.name)) or []
            if f.kind != "site" and self.changed_ids.isdisjoint(entry.ids):
                # (the usual case: only the lines of the products read again)
                skip = set(entry.shadowed)
                for n, ref in enumerate(entry.refs):
                    if ref in self.dirty_refs and n not in skip:
                        yield (
                            checked_line(f.path, n + 2, lines[n]),
                            StoredReview(f.kind, f.website_id, lines[n]),
                        )
                return
            was_shadowed = {entry.ids[n] for n in entry.shadowed}
        else:
            was_shadowed = {old.ids[n] for n in old.shadowed} if old is not None else set()
        shadowed: list[int] = []
        for n, (rid, ref) in enumerate(zip(entry.ids, entry.refs, strict=True)):
            if rid in self.changed_ids:  # decided again, in reading order
                if rid in seen:
                    shadowed.append(n)
                    continue
                seen.add(rid)
            elif rid in was_shadowed:
                shadowed.append(n)
                continue
            if f.kind == "site" or ref in self.dirty_refs:
                # a changed file's lines were checked as it was read; an unchanged
                # file's are checked here (the cache vouches for their hash only)
                rec = orjson.loads(lines[n]) if changed else checked_line(f.path, n + 2, lines[n])
                yield rec, StoredReview(f.kind, f.website_id, lines[n])
        if shadowed != entry.shadowed:
            self.cache.files[f.name] = FileLines(
                entry.sha256, entry.ids, entry.refs, entry.hashes, shadowed
            )

    def lines(self, ref: str) -> list[StoredReview]:
        """The lines of a product taken from its summary, for a build that renders it
        after all: the first call reads those of every such product, in one pass."""
        if self.unread is None:
            self.unread = self.read_unread()
        return self.unread.pop(ref, [])

    def read_unread(self) -> dict[str, list[StoredReview]]:
        """Every line of the products `run` did not read, checked, by ref."""
        out: dict[str, list[StoredReview]] = {}
        for f in self.files:
            entry = self.cache.files[f.name]
            if f.kind == "site":
                continue
            data = snapshot_bytes(f.path)
            lines = split_lines(data)
            if sha256(data) != entry.sha256 or lines is None:
                raise StoreError(f"snapshot file {f.path} changed during the build: build again")
            shadowed = set(entry.shadowed)
            for n, ref in enumerate(entry.refs):
                if ref is not None and ref not in self.dirty_refs and n not in shadowed:
                    checked_line(f.path, n + 2, lines[n])
                    out.setdefault(ref, []).append(StoredReview(f.kind, f.website_id, lines[n]))
        return out


# --- the cache file


def load_cache(path: Path) -> ReadCache:
    """The previous build's read cache (empty when missing, damaged or foreign)."""
    if regular_file(path.parent, path.name) is None:
        return ReadCache()
    try:
        checksum, _, raw = path.read_bytes().partition(b"\n")
        if checksum != sha256(raw).encode():
            return ReadCache()
        body = orjson.loads(raw)
        if body["format"] != FORMAT or body["code"] != code_key():
            return ReadCache()
        return ReadCache(
            {str(n): parse_file(raw) for n, raw in body["files"].items()},
            {str(r): parse_summary(raw) for r, raw in body["products"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ReadCache()


def strings(raw: Any, *, nullable: bool = False) -> list[Any]:
    allowed = {str, type(None)} if nullable else {str}
    if type(raw) is not list or not set(map(type, raw)) <= allowed:
        raise ValueError("expected a list of strings")
    return raw


def parse_file(raw: Any) -> FileLines:
    digest, ids, refs, hashes, shadowed = raw
    ids, refs, hashes = strings(ids), strings(refs, nullable=True), strings(hashes)
    if not len(ids) == len(refs) == len(hashes):
        raise ValueError("lines out of step")
    if not all(type(n) is int and 0 <= n < len(ids) for n in shadowed):
        raise ValueError("a shadowed line out of range")
    return FileLines(str(digest), ids, refs, hashes, list(shadowed))


def parse_summary(raw: Any) -> Summary:
    fingerprint, name, ratings = raw
    pairs = tuple((r, n) for r, n in ratings)
    if not all(type(r) in (int, float) and 1 <= r <= 5 and type(n) is int for r, n in pairs):
        raise ValueError("a rating count out of range")
    return Summary(str(fingerprint), None if name is None else str(name), pairs)


def write_cache(path: Path, cache: ReadCache) -> None:
    """The cache as its checksum (SHA-256, a line) and its JSON body, written whole."""
    body = {
        "format": FORMAT,
        "code": code_key(),
        "files": {
            n: [e.sha256, e.ids, e.refs, e.hashes, e.shadowed]
            for n, e in sorted(cache.files.items())
        },
        "products": {
            r: [s.fingerprint, s.name, s.ratings] for r, s in sorted(cache.products.items())
        },
    }
    raw = orjson.dumps(body)
    doc = sha256(raw).encode() + b"\n" + raw
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(doc)
    os.replace(tmp, path)


def read_snapshot(files: list[SnapshotFile], cache_path: Path) -> tuple[ReviewData, int]:
    """The build's data from these snapshot files, with the read cache at `cache_path`
    (rewritten when a file changed). Returns the data and how many files were read
    as new."""
    previous = load_cache(cache_path)
    read = SnapshotRead(files, previous)
    data = read.run()
    if read.read_as_new or read.cache.files.keys() != previous.files.keys():
        try:
            write_cache(cache_path, read.cache)
        except OSError as exc:  # a cache: the next build reads every file again
            log.warning("[review-feed] cannot write the read cache %s: %s", cache_path, exc)
    return data, read.read_as_new
