"""The feed layer's entry point: one file in, normalised rows out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import FeedFileError
from ..model import Row, RowProblem, VendorAverage
from .build import Context
from .csvfile import read_csv
from .fields import name_table
from .lines import Span
from .options import FeedOptions
from .xmlfile import read_xml

if TYPE_CHECKING:
    from ..sources.names import FeedName

Item = Row | RowProblem | VendorAverage


def read_feed(
    path: Path, name: FeedName, options: FeedOptions | None = None, span: Span | None = None
) -> Iterator[Item]:
    """Stream one feed file: a Row, RowProblem or VendorAverage per row, in file order.

    `name` gives the kind, the website id, the format (its ext) and the file
    name used in messages. A file broken as a whole raises FeedFileError (when
    called or while iterating, maybe after some rows came out): apply a file
    only once it was read to the end.

    `span` (CSV only): just the records that start in a byte range of the file, which
    the reading fills in with where it stopped (see `Span`).
    """
    options = options or FeedOptions()
    path = Path(path)
    ext = (getattr(name, "ext", "") or path.suffix.lstrip(".")).lower()
    if ext not in ("csv", "xml"):
        raise FeedFileError(f"{name.name}: unknown format {ext!r}; expected csv or xml")
    ctx = Context(
        file=name.name,
        kind=name.kind,
        website_id=name.website_id,
        limit=options.max_field_size,
        store_order_ref=options.store_order_ref,
        replies_name="exchange" if ext == "xml" else "reply",
    )
    if ext == "xml":
        if span is not None:
            raise ValueError("an XML file is read whole")
        return read_xml(path, ctx, name_table(options.field_map))
    return read_csv(path, ctx, name_table(options.field_map), span)
