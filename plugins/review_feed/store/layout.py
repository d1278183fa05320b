"""Where each review lives in the snapshot: a pure function of the content.

Inside a collection folder `<kind>/<website_id>/`:

- `reviews/YYYY-MM.json`: the reviews written that month, sorted by id;
- a month whose file would exceed `max_file_bytes` becomes day files
  `reviews/YYYY-MM/YYYY-MM-DD.json`, and a day that would still exceed it
  becomes 16 files `reviews/YYYY-MM/YYYY-MM-DD/<x>.json` (x = crc32(id) % 16);
- `index.json` (id -> day), or `index/months.json` and one index file per
  month once the collection holds more than `index_max` reviews (see `index.py`).

No hysteresis: the same reviews always give the same files and bytes.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from .jsonfile import render_lines

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
UNDATED = "undated"
REVIEWS_DIR = "reviews"
INDEX_FILE = "index.json"
INDEX_DIR = "index"


@dataclass(frozen=True, slots=True)
class Layout:
    """Size thresholds; parameters so tests can prove splitting on small data."""

    # A month file above this is split into day files (and a day into 16 files).
    # 4 MB is ~10,000 reviews: small and medium sites keep one file per month,
    # large ones get day files, so a night rewrites only the days it touches.
    max_file_bytes: int = 4 * 1024 * 1024
    index_max: int = 100_000  # reviews per collection before the index is split by month


DEFAULT_LAYOUT = Layout()


def day_of(date: str) -> str:
    if (
        len(date) >= 10
        and date[4] == "-"
        and date[7] == "-"
        and date[:4].isdigit()
        and date[5:7].isdigit()
        and date[8:10].isdigit()
    ):
        return date[:10]
    m = _DATE.match(date or "")
    return m[0] if m else UNDATED


def bucket(review_id: str) -> str:
    """One of 16 stable buckets ("0".."f") for an id."""
    return format(zlib.crc32(review_id.encode("utf-8")) & 0xF, "x")


def month_of_day(day: str) -> str:
    return UNDATED if day == UNDATED else day[:7]


def joined_len(lengths: list[int]) -> int:
    """The length of one file holding the records of files of these lengths (each `[\n`,
    lines joined by `,\n`, `\n]\n`): 5 + sum(lines) + 2 * (n - 1); 0 for none."""
    lengths = [n for n in lengths if n]
    return 5 + sum(n - 5 for n in lengths) + 2 * (len(lengths) - 1) if lengths else 0


def render_day(recs: dict[str, bytes]) -> bytes:
    """One day's records (id -> line) as one file's bytes (b"" when the day is empty)."""
    return render_lines([recs[i] for i in sorted(recs)]) if recs else b""


def day_files(
    month: str, day: str, recs: dict[str, bytes], data: bytes, layout: Layout
) -> dict[str, bytes]:
    """The files of one day of a split month; `data` is `render_day(recs)`."""
    if not recs:
        return {}
    if len(data) <= layout.max_file_bytes:
        return {f"{REVIEWS_DIR}/{month}/{day}.json": data}
    by_bucket: dict[str, list[bytes]] = {}
    for i in sorted(recs):
        by_bucket.setdefault(bucket(i), []).append(recs[i])
    return {
        f"{REVIEWS_DIR}/{month}/{day}/{b}.json": render_lines(lines)
        for b, lines in by_bucket.items()
    }


def month_files(
    month: str, by_day: dict[str, dict[str, bytes]], layout: Layout
) -> dict[str, bytes]:
    """The files (path relative to the collection -> bytes) holding one month's records,
    grouped by day: one month file, or day files when that would be too big."""
    days = {day: render_day(recs) for day, recs in by_day.items() if recs}
    if not days:
        return {}
    if joined_len([len(d) for d in days.values()]) <= layout.max_file_bytes:
        recs: dict[str, bytes] = {}
        for day in days:
            recs.update(by_day[day])
        return {f"{REVIEWS_DIR}/{month}.json": render_day(recs)}
    out: dict[str, bytes] = {}
    for day, data in days.items():
        out.update(day_files(month, day, by_day[day], data, layout))
    return out
