"""The read cache: a build that reads only the snapshot files that changed gets the same
data as one that reads every file, whatever the night did to them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from review_feed.errors import StoreError
from review_feed.model import Review
from review_feed.site.data import ReviewData, build_data
from review_feed.site.readcache import read_snapshot
from review_feed.store import read_stored, snapshot_files, write_reviews
from review_feed.store.records import review_line
from sitebuild import product_review, site_review


def catalogue() -> list[Review]:
    """Brand and product reviews over three months (three files a collection)."""
    out = [site_review(i, 1 + i % 5, date=f"2026-0{7 + i % 3}-10T00:00:00") for i in range(6)]
    for i in range(40):
        month = 7 + i % 3
        ref = f"TEA-{'ABCDE'[i % 5]}"
        out.append(
            product_review(
                i,
                ref,
                1 + i % 5 if i % 7 else 4.5,
                product_name=f"Tea {ref} v{i}",
                date=f"2026-{month:02d}-{1 + i % 28:02d}T00:00:00",
            )
        )
    return out


def everything(data: ReviewData) -> dict[str, Any]:
    """All a build takes from the data, each product's reviews read (lazily or not)."""
    return {
        "brand": (data.brand, data.brand_aggregate, data.brand_fingerprint),
        "products": {
            ref: (p.slug, p.name, p.aggregate, p.fingerprint, p.reviews)
            for ref, p in data.products.items()
        },
    }


class Reader:
    """A snapshot folder read with a read cache, and read whole for comparison."""

    def __init__(self, root: Path) -> None:
        self.snapshot = root / "snapshot"
        self.cache = root / "cache" / "snapshot-read.json"

    def write(self, reviews: list[Review]) -> int:
        """Make the snapshot hold `reviews`; returns how many files changed (new or
        rewritten with other bytes; files that went are not counted)."""
        before = self.files()
        write_reviews(self.snapshot, reviews)
        return sum(1 for name, data in self.files().items() if before.get(name) != data)

    def files(self) -> dict[str, bytes]:
        return {f.name: f.path.read_bytes() for f in snapshot_files(self.snapshot)}

    def read(self) -> tuple[ReviewData, int]:
        return read_snapshot(snapshot_files(self.snapshot), self.cache)

    def check(self) -> int:
        """Read with the cache; the same as reading every file. Returns how many files
        were read as new."""
        data, changed = self.read()
        assert everything(data) == everything(build_data(read_stored(self.snapshot)))
        return changed

    def cache_body(self) -> dict[str, Any]:
        """The cache's JSON body (after its checksum line)."""
        return orjson.loads(self.cache.read_bytes().partition(b"\n")[2])

    def write_cache_body(self, body: dict[str, Any]) -> None:
        """Replace the cache with this body, under its right checksum."""
        raw = orjson.dumps(body)
        self.cache.write_bytes(hashlib.sha256(raw).hexdigest().encode() + b"\n" + raw)

    def file(self, name: str) -> Path:
        (path,) = [f.path for f in snapshot_files(self.snapshot) if f.name == name]
        return path


@pytest.fixture
def reader(tmp_path: Path) -> Reader:
    r = Reader(tmp_path)
    r.write(catalogue())
    assert r.check() == 6  # no cache yet: every file (3 brand, 3 product months)
    assert r.check() == 0  # nothing changed: nothing parsed
    return r


def appended(data: bytes, line: bytes) -> bytes:
    """A review file's bytes with one more record line at its end."""
    return data[:-3] + b",\n" + line + b"\n]\n"


def append_line(path: Path, line: bytes) -> None:
    path.write_bytes(appended(path.read_bytes(), line))


NIGHTS: dict[str, Callable[[list[Review]], list[Review]]] = {
    "a new review": lambda rs: [*rs, product_review(90, "TEA-A", 1, date="2026-09-20T00:00:00")],
    "a new product": lambda rs: [*rs, product_review(91, "TEA-Z", 5, date="2026-07-02T00:00:00")],
    "an update": lambda rs: [r._replace(text="Edited") if r.id == "P007" else r for r in rs],
    "a delete": lambda rs: [r for r in rs if r.id != "P012"],
    "a product's last review deleted": lambda rs: [r for r in rs if r.product_ref != "TEA-E"],
    "a review moved to another month": lambda rs: [
        r._replace(date="2026-09-27T00:00:00") if r.id == "P003" else r for r in rs
    ],
    "a review moved to another product": lambda rs: [
        r._replace(product_ref="TEA-B") if r.id == "P000" else r for r in rs
    ],
    "the newest name anonymised": lambda rs: [
        r._replace(product_name="Anonymous") if r.id == "P039" else r for r in rs
    ],
    "a brand review": lambda rs: [*rs, site_review(50, 2, date="2026-09-01T00:00:00")],
    "a month emptied": lambda rs: [r for r in rs if not r.date.startswith("2026-08")],
}


@pytest.mark.parametrize("night", list(NIGHTS))
def test_a_night_read_from_the_cache_is_the_whole_snapshot_read(reader: Reader, night: str) -> None:
    touched = reader.write(NIGHTS[night](catalogue()))
    assert reader.check() == touched  # the files the night touched, no more
    assert reader.check() == 0


def test_only_the_products_a_night_changed_are_read(reader: Reader) -> None:
    reader.write(NIGHTS["an update"](catalogue()))  # P007: TEA-C, in the September file
    data, _changed = reader.read()
    read = {ref for ref, p in data.products.items() if p.stored is not None}
    assert read == {"TEA-C"}  # not the other products of that file
    # the others are read when asked for (a template edit renders them all)
    assert (
        data.products["TEA-A"].reviews
        == build_data(read_stored(reader.snapshot)).products["TEA-A"].reviews
    )


def test_a_review_a_crash_left_in_two_files(reader: Reader) -> None:
    """The later file's copy counts, with or without the cache, when the copy appears,
    changes and goes."""
    older, newer = (
        reader.file("product/w1/reviews/2026-07.json"),
        reader.file("product/w1/reviews/2026-09.json"),
    )
    original = newer.read_bytes()
    line = older.read_bytes().split(b"\n")[1].rstrip(b",")  # the oldest month's first review
    copy = orjson.loads(line) | {"text": "The copy in the later file", "product_ref": "TEA-D"}

    def with_copy(rec: dict[str, Any]) -> bytes:
        return appended(original, orjson.dumps(rec, option=orjson.OPT_SORT_KEYS))

    newer.write_bytes(with_copy(copy))
    assert reader.check() == 1
    # the older copy's product read again for another reason: the copy still counts
    other = reader.file("product/w1/reviews/2026-08.json")
    other.write_bytes(other.read_bytes().replace(b"Product review number 10", b"Edited", 1))
    assert reader.check() == 1
    # ... or the older file itself changed for another review: its copy still does not
    older.write_bytes(older.read_bytes().replace(b"Product review number 3", b"Edited", 1))
    assert reader.check() == 1
    newer.write_bytes(with_copy(copy | {"rating": 1}))
    assert reader.check() == 1
    newer.write_bytes(original)
    assert reader.check() == 1


def test_an_id_twice_in_one_file(reader: Reader) -> None:
    """A hand edit that puts a changed copy of a review just before it in its own file,
    then takes it out again: the first of the two counts, with or without the cache."""
    path = reader.file("product/w1/reviews/2026-08.json")
    original = path.read_bytes()
    first = original.split(b"\n")[1]  # "{...}," the file's first review
    copy = orjson.loads(first.rstrip(b",")) | {"text": "The copy", "product_ref": "TEA-E"}
    line = orjson.dumps(copy, option=orjson.OPT_SORT_KEYS) + b",\n"
    path.write_bytes(original.replace(first, line + first, 1))
    assert reader.check() == 1
    path.write_bytes(original)
    assert reader.check() == 1


def test_a_damaged_or_foreign_cache_is_not_used(reader: Reader) -> None:
    body = reader.cache_body()
    reader.cache.write_bytes(reader.cache.read_bytes().replace(b"TEA-A", b"TEA-X"))
    assert reader.check() == 6  # the checksum no longer matches
    reader.write_cache_body(body | {"format": 0})
    assert reader.check() == 6
    reader.write_cache_body(body | {"code": "another version"})
    assert reader.check() == 6
    body["files"]["product/w1/reviews/2026-08.json"][1][0] = 7  # an id that is no string
    reader.write_cache_body(body)
    assert reader.check() == 6
    reader.cache.write_bytes(b"not json")
    assert reader.check() == 6
    assert reader.check() == 0  # and a good one was written again


def test_a_snapshot_file_broken_after_it_was_cached_is_named(reader: Reader) -> None:
    path = reader.file("product/w1/reviews/2026-08.json")
    path.write_bytes(path.read_bytes().replace(b'"rating":', b'"rating":"x",', 1))
    with pytest.raises(StoreError, match=r"2026-08\.json, line 2: "):
        reader.read()


def test_lines_a_forged_cache_vouches_for_are_still_checked(reader: Reader) -> None:
    """A cache recording a broken file's hash as read: the file's lines are checked
    when they are read, and the one broken is named."""
    path = reader.file("product/w1/reviews/2026-08.json")
    broken = path.read_bytes().replace(b'"rating":', b'"rating":"x","was":', 1)
    path.write_bytes(broken)
    body = reader.cache_body()
    body["files"]["product/w1/reviews/2026-08.json"][0] = hashlib.sha256(broken).hexdigest()
    reader.write_cache_body(body)
    data, changed = reader.read()
    assert changed == 0
    ref = orjson.loads(broken.split(b"\n")[1].rstrip(b","))["product_ref"]
    with pytest.raises(StoreError, match=r"2026-08\.json, line 2: field rating"):
        data.products[ref].reviews  # noqa: B018 -- reads its lines
    # the product read again because another of its reviews changed: the same line
    other = reader.file("product/w1/reviews/2026-07.json")
    line = next(x for x in other.read_bytes().split(b"\n") if f'"{ref}"'.encode() in x)
    other.write_bytes(other.read_bytes().replace(line, line.replace(b'"text":"', b'"text":"!')))
    with pytest.raises(StoreError, match=r"2026-08\.json, line 2: field rating"):
        reader.read()


# --- any sequence of nights, crash copies included


Night = list[tuple[str, int, int]]  # (what, which review, a value)

nights = st.lists(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["new", "text", "rating", "move", "product", "name", "delete", "copy", "uncopy"]
            ),
            st.integers(0, 59),
            st.integers(0, 9),
        ),
        min_size=1,
        max_size=6,
    ),
    min_size=1,
    max_size=4,
)


def apply_night(
    reader: Reader, reviews: dict[str, Review], copies: dict[str, tuple[int, bytes]], night: Night
) -> None:
    """The night's actions on `reviews` (by id), written as a sync would; then the
    crash copies (`copies`: id -> line, kept from night to night until "uncopy")
    written into the files as a crash would leave them, each in the file its value
    picks, which may be the review's own."""
    for what, k, v in night:
        rid = f"P{k:03d}"
        r = reviews.get(rid)
        if what == "uncopy":
            copies.pop(rid, None)
        elif what == "new" or r is None:
            month = 7 + v % 3
            ref = f"TEA-{'ABCDE'[v % 5]}"
            date = f"2026-{month:02d}-{1 + k % 28:02d}T00:00:00"
            reviews[rid] = product_review(k, ref, 1 + v % 5, product_name=f"Tea {ref}", date=date)
        elif what == "delete":
            del reviews[rid]
        elif what == "copy":
            rec = orjson.loads(review_line(r, keep_order_ref=True))
            rec |= {"text": f"Copy {v}", "product_ref": f"TEA-{'ABCDE'[v % 5]}"}
            copies[rid] = (v, orjson.dumps(rec, option=orjson.OPT_SORT_KEYS))
        else:
            change = {
                "text": {"text": f"Edited {v}"},
                "rating": {"rating": 1 + v % 5},
                "move": {"date": f"2026-{7 + v % 3:02d}-{1 + v:02d}T00:00:00"},
                "product": {"product_ref": f"TEA-{'ABCDE'[v % 5]}"},
                "name": {"product_name": "Anonymous" if v % 2 else f"Tea {v}"},
            }[what]
            reviews[rid] = r._replace(**change)
    reader.write(sorted(reviews.values(), key=lambda r: r.id))
    files = [f.path for f in snapshot_files(reader.snapshot) if f.kind == "product"]
    for rid in sorted(copies):
        v, line = copies[rid]
        append_line(files[v % len(files)], line)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(nights=nights)
def test_any_nights_read_from_the_cache_are_the_whole_snapshot_read(
    tmp_path_factory: pytest.TempPathFactory, nights: list[Night]
) -> None:
    reader = Reader(tmp_path_factory.mktemp("nights"))
    reviews = {r.id: r for r in catalogue() if r.kind == "product"}
    copies: dict[str, tuple[int, bytes]] = {}
    reader.write(list(reviews.values()))
    reader.check()
    for night in nights:
        apply_night(reader, reviews, copies, night)
        reader.check()
    assert reader.check() == 0
