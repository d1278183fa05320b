"""The feed layer's entry points: one file in, normalised rows out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import FeedFileError
from ..model import Row, RowProblem, VendorAverage
from .build import Context
from .csvfile import read_csv
from .fields import name_table
from .options import FeedOptions
from .xmlfile import read_xml

if TYPE_CHECKING:
    from ..sources.names import FeedName

Item = Row | RowProblem | VendorAverage


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
    options = options or FeedOptions()
    path = Path(path)
    ctx = Context(
        file=name.name,
        kind=name.kind,
        website_id=name.website_id,
        limit=options.max_field_size,
        store_order_ref=options.store_order_ref,
        parallel_from=options.parallel_from,
    )
    table = name_table(options.field_map)
    ext = (getattr(name, "ext", "") or path.suffix.lstrip(".")).lower()
    if ext not in ("csv", "xml"):
        raise FeedFileError(f"{name.name}: unknown format {ext!r}; expected csv or xml")
    reader = read_xml if ext == "xml" else read_csv
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
