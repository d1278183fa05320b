"""The feed layer's entry points: one file in, normalised rows out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import FeedFileError
from ..model import LineRow, Row, RowProblem, VendorAverage
from .build import Context
from .csvfile import read_csv
from .fields import name_table
from .options import FeedOptions

if TYPE_CHECKING:
    from ..sources.names import FeedName

Item = Row | RowProblem | VendorAverage
_BATCH = 2048


@dataclass
class ParsedFile:
    """A whole file read: valid rows in file order, rejected rows, vendor averages."""

    rows: list[Row] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    averages: list[VendorAverage] = field(default_factory=list)


def read_feed(path: Path, name: FeedName, options: FeedOptions | None = None) -> Iterator[Item]:
    """Stream one feed file: a Row, RowProblem or VendorAverage per row, in file order.

    `name` gives the kind, the website id, the format (its ext) and the file
    name used in messages. A file broken as a whole raises FeedFileError (when
    called or while iterating, maybe after some rows came out): apply a file
    only once it was read to the end.
    """
    return _open(path, name, options, lines=False)


def read_lines(
    path: Path, name: FeedName, options: FeedOptions | None = None
) -> Iterator[list[LineRow | RowProblem | VendorAverage]]:
    """`read_feed` for a full load: each valid row as a `model.LineRow` (the encoded form
    the store folds without building objects), handed out in batches (lists) in file
    order, so a million rows cost no per-row hop through the layers above."""
    items = _open(path, name, options, lines=True)
    if _ext(path, name) == "csv":
        return items  # the CSV reader hands out its own batches
    return _batched(items)


def _batched(items: Iterator) -> Iterator[list]:
    while batch := list(islice(items, _BATCH)):
        yield batch


def _ext(path: Path, name: FeedName) -> str:
    return (getattr(name, "ext", "") or Path(path).suffix.lstrip(".")).lower()


def _open(path: Path, name: FeedName, options: FeedOptions | None, lines: bool) -> Iterator:
    options = options or FeedOptions()
    path = Path(path)
    ctx = Context(
        file=name.name,
        kind=name.kind,
        website_id=name.website_id,
        limit=options.max_field_size,
        store_order_ref=options.store_order_ref,
        parallel_from=options.parallel_from,
        lines=lines,
    )
    table = name_table(options.field_map)
    ext = _ext(path, name)
    if ext not in ("csv", "xml"):
        raise FeedFileError(f"{name.name}: unknown format {ext!r}; expected csv or xml")
    if ext == "xml":
        from .xmlfile import read_xml  # lxml loaded only for XML files

        reader = read_xml
    else:
        reader = read_csv
    # the reader's own generator, not wrapped in another: one less hop per row
    return reader(path, ctx, table)


def read_all(path: Path, name: FeedName, options: FeedOptions | None = None) -> ParsedFile:
    """The whole file at once (raises FeedFileError like read_feed)."""
    out = ParsedFile()
    rows, problems, averages = out.rows.append, out.problems.append, out.averages.append
    for item in read_feed(path, name, options):
        cls = item.__class__
        if cls is Row:
            rows(item)
        elif cls is RowProblem:
            problems(item)
        else:
            averages(item)
    return out
