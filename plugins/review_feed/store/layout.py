"""Where each review lives in the snapshot: a pure function of the content.

Inside a collection folder `<kind>/<website_id>/`:

- `reviews/YYYY-MM.json`: the reviews written that month, sorted by id;
- a month whose file would exceed `max_file_bytes` becomes day files
  `reviews/YYYY-MM/YYYY-MM-DD.json`, and a day that would still exceed it
  becomes 16 files `reviews/YYYY-MM/YYYY-MM-DD/<x>.json` (x = crc32(id) % 16);
- `index.json` (id -> month), or 16 files `index/<x>.json` once the
  collection holds more than `index_max` reviews.

No hysteresis: the same reviews always give the same files and bytes.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from .jsonfile import render_map

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
UNDATED = "undated"
REVIEWS_DIR = "reviews"
INDEX_FILE = "index.json"
INDEX_DIR = "index"


@dataclass(frozen=True, slots=True)
class Layout:
    """Size thresholds; parameters so tests can prove splitting on small data."""

    max_file_bytes: int = 20 * 1024 * 1024  # well under git hosts' 50 MB warning
    index_max: int = 100_000  # reviews per collection before the index is split in 16


DEFAULT_LAYOUT = Layout()


def month_of(date: str) -> str:
    m = _DATE.match(date or "")
    return f"{m[1]}-{m[2]}" if m else UNDATED


def day_of(date: str) -> str:
    m = _DATE.match(date or "")
    return m[0] if m else UNDATED


def bucket(review_id: str) -> str:
    """One of 16 stable buckets ("0".."f") for an id."""
    return format(zlib.crc32(review_id.encode("utf-8")) & 0xF, "x")


def _join(lines: list[bytes]) -> bytes:
    return b"[\n" + b",\n".join(lines) + b"\n]\n"


def _size(lines: list[bytes]) -> int:
    return 5 + sum(len(x) for x in lines) + 2 * len(lines)


def month_files(
    month: str, lines: dict[str, bytes], dates: dict[str, str], layout: Layout
) -> dict[str, bytes]:
    """The files (path relative to the collection, bytes) holding one month.

    `lines` maps id -> the review's canonical one-line JSON; `dates` id -> date.
    """
    if not lines:
        return {}
    ids = sorted(lines)
    ordered = [lines[i] for i in ids]
    if _size(ordered) <= layout.max_file_bytes:
        return {f"{REVIEWS_DIR}/{month}.json": _join(ordered)}
    by_day: dict[str, list[str]] = {}
    for i in ids:
        by_day.setdefault(day_of(dates[i]), []).append(i)
    out: dict[str, bytes] = {}
    for day, day_ids in by_day.items():
        day_lines = [lines[i] for i in day_ids]
        if _size(day_lines) <= layout.max_file_bytes:
            out[f"{REVIEWS_DIR}/{month}/{day}.json"] = _join(day_lines)
            continue
        by_bucket: dict[str, list[bytes]] = {}
        for i in day_ids:
            by_bucket.setdefault(bucket(i), []).append(lines[i])
        for b, blines in by_bucket.items():
            out[f"{REVIEWS_DIR}/{month}/{day}/{b}.json"] = _join(blines)
    return out


def index_files(index: dict[str, str], layout: Layout) -> dict[str, bytes]:
    """The index file(s) of a collection (relative path -> bytes); {} when empty."""
    if not index:
        return {}
    if len(index) <= layout.index_max:
        return {INDEX_FILE: render_map(index)}
    parts: dict[str, dict[str, str]] = {}
    for i, month in index.items():
        parts.setdefault(bucket(i), {})[i] = month
    return {f"{INDEX_DIR}/{b}.json": render_map(p) for b, p in parts.items()}


def month_of_path(rel: str) -> str | None:
    """The month a shard path (relative to the collection) belongs to, else None."""
    parts = rel.split("/")
    if len(parts) < 2 or parts[0] != REVIEWS_DIR or not rel.endswith(".json"):
        return None
    if len(parts) == 2:
        return parts[1][: -len(".json")]
    return parts[1]


def is_index_path(rel: str) -> bool:
    return rel == INDEX_FILE or (rel.startswith(INDEX_DIR + "/") and rel.endswith(".json"))


def sorted_months(months: Iterable[str]) -> list[str]:
    return sorted(months)
