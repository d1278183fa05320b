"""A review as one line of a snapshot file: encoding, and reading back with every field checked.

A snapshot arrives through pull requests, so nothing in it is trusted: a review
file is read line by line and each record's fields and types are checked, and a
bad one is a StoreError naming the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from ..errors import StoreError
from ..model import Review
from .jsonfile import snapshot_bytes

# field -> (types allowed, required)
_STR = (str,)
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": (_STR, True),
    "author": (_STR, True),
    "date": (_STR, True),
    "text": (_STR, True),
    "rating": ((int, float), True),
    "review_id": (_STR, False),
    "product_ref": (_STR, False),
    "product_name": (_STR, False),
    "order_date": (_STR, False),
    "order_ref": (_STR, False),
    "replies": ((list,), False),
}
_REQUIRED = tuple(name for name, (_types, required) in _FIELDS.items() if required)


def _own(data: bytes) -> bytes:
    """A copy of exactly `data`'s length, for a line kept until the commit: the bytes object
    orjson returns holds on to its whole 4 KB output buffer (a million lines would cost
    4 GB). Formatting makes the copy in one step (a memoryview and bytes() take three)."""
    return b"%b" % data


def encode_line(rec: dict[str, Any]) -> bytes:
    """A stored record's canonical line: compact orjson, keys sorted, UTF-8 unescaped."""
    return _own(orjson.dumps(rec, option=orjson.OPT_SORT_KEYS))


def review_line(review: Review, keep_order_ref: bool = False) -> bytes:
    """The review as one line of the snapshot: the export record without kind/website_id
    (the path says them), nulls and an empty reply list left out (shorter lines, easier
    diffs; restored on read). The same bytes as `encode_line` of that record: the keys
    are put in sorted order here (and a reply's are), so orjson need not sort them."""
    r = review
    rec: dict[str, Any] = {"author": r.author, "date": r.date, "id": r.id}
    if r.order_date is not None:
        rec["order_date"] = r.order_date
    if keep_order_ref and r.order_ref is not None:
        rec["order_ref"] = r.order_ref
    if r.product_name is not None:
        rec["product_name"] = r.product_name
    if r.product_ref is not None:
        rec["product_ref"] = r.product_ref
    rec["rating"] = r.rating
    if r.replies:
        rec["replies"] = [x.to_record() for x in r.replies]
    if r.review_id is not None:
        rec["review_id"] = r.review_id
    rec["text"] = r.text
    return _own(orjson.dumps(rec))


def problem(rec: Any) -> str | None:
    """What is wrong with a stored record, or None when it is a valid one."""
    if not isinstance(rec, dict):
        return "expected a JSON object"
    for name in _REQUIRED:
        if rec.get(name) is None:
            return f"field {name} missing"
    # Only the fields the record holds (the optional ones are mostly left out); JSON
    # values have exact types, so a bool is never taken for a rating.
    for name, value in rec.items():
        spec = _FIELDS.get(name)
        if spec is not None and value is not None and type(value) not in spec[0]:
            return f"field {name}: expected {' or '.join(t.__name__ for t in spec[0])}"
    if not 1 <= rec["rating"] <= 5:
        return "field rating: expected 1 to 5"
    for n, reply in enumerate(rec.get("replies") or (), 1):
        if not (
            isinstance(reply, dict)
            and isinstance(reply.get("origin"), str)
            and isinstance(reply.get("text"), str)
            and isinstance(reply.get("date"), str | None)
        ):
            return f"field replies, reply #{n}: expected an object with origin, text and date"
    return None


def _bad(path: Path, where: str, what: str) -> StoreError:
    return StoreError(
        f"snapshot file {path}, {where}: {what}; restore it from git "
        "(git checkout -- <file>) and run again"
    )


def read_records(path: Path) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Every record of a review file, each checked, with its line (see `records_of`)."""
    return records_of(path, snapshot_bytes(path))


def records_of(path: Path, data: bytes) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Every record of the review file `path` that holds `data`, each checked, with its line.

    Our files hold one record per line (`[`, records, `]`): each line is parsed on its
    own, so a damaged one is named by its line, and kept as it is. Any other valid JSON
    array of records is read whole (its records named by their position) and each
    record encoded as its line.
    """
    lines = split_lines(data)
    if lines is not None:
        for n, line in enumerate(lines, 2):
            yield checked_line(path, n, line), line
        return
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _bad(path, "as a whole", f"not valid JSON ({exc})") from None
    if not isinstance(whole, list):
        raise _bad(path, "as a whole", "expected a JSON array of reviews")
    for n, rec in enumerate(whole, 1):
        what = problem(rec)
        if what is not None:
            raise _bad(path, f"record #{n}", what)
        yield rec, encode_line(rec)


def split_lines(data: bytes) -> list[bytes] | None:
    """The record lines of a file in our one-record-per-line layout (unparsed, the
    record of file line `n + 2` at index n), or None for any other layout."""
    if not (data.startswith(b"[\n") and data.endswith(b"\n]\n")):
        return None
    body = data[2:-3]
    lines = body.split(b",\n")
    if len(lines) == body.count(b"\n") + 1:  # every line but the last ends with its comma
        return lines
    lines = body.split(b"\n")
    last = len(lines) - 1
    return [line[:-1] if n < last and line.endswith(b",") else line for n, line in enumerate(lines)]


def checked_line(path: Path, n: int, line: bytes) -> dict[str, Any]:
    """The record on file line `n` of `path`, parsed and checked."""
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise _bad(path, f"line {n}", f"not valid JSON ({exc})") from None
    what = problem(rec)
    if what is not None:
        raise _bad(path, f"line {n}", what)
    return rec


class StoredReview(NamedTuple):
    """A review as the snapshot holds it: its collection and its line, checked when read.

    The line is what the review is, byte for byte: equal lines, equal reviews. It is
    a third of the memory of a Review, which is built only when asked for (a build
    renders a few products a night).
    """

    kind: str
    website_id: str
    line: bytes

    def review(self) -> Review:
        return to_review(self.kind, self.website_id, orjson.loads(self.line))


def to_review(kind: str, website_id: str, rec: dict[str, Any]) -> Review:
    return Review.from_record(rec, kind=kind, website_id=website_id)
