"""Tab-separated feed files: the header layout and the legacy headerless one.

`read_csv` reads a whole file, or the records of one byte range of it (`Span`): a range
reader learns the layout from the file's first record and names lines of the whole file.
Rows are read in batches: the csv module's field-size limit is a process-wide setting,
so it is set to REVIEW_FEED_MAX_FIELD_SIZE only while a batch is being read (no `yield`
in between) and restored right after. Lines are read with a bounded buffer (`lines.py`),
so no input costs more memory than a few cells.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter
from pathlib import Path

from ..errors import FeedFileError
from ..model import Row, RowProblem, VendorAverage
from .build import BUILD_FIELDS, Context, build_row
from .fields import resolve
from .lines import Lines, Span
from .values import ACTIONS
from .values import shorten as _show

_BATCH = 2048

Item = Row | RowProblem | VendorAverage


_LEGACY_WORDS = frozenset((*ACTIONS, "AVG"))


class _TSV(csv.Dialect):
    delimiter = "\t"
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL
    strict = True  # a stray or unterminated quote is an error, never swallowed text


def _blank(cells: list[str]) -> bool:
    return not cells or (len(cells) == 1 and not cells[0].strip())


def _csv_error(exc: csv.Error, file: str, line: int, limit: int) -> FeedFileError:
    msg = str(exc)
    if "unexpected end of data" in msg:
        what = "a quoted cell opened here is never closed (unterminated quote, or a truncated file)"
    elif "field larger than field limit" in msg:
        what = f"a cell is over REVIEW_FEED_MAX_FIELD_SIZE ({limit} bytes)"
    elif "expected after" in msg:
        what = "a closing quote must be followed by a tab or the end of the line (stray quote)"
    elif "NUL" in msg:
        what = "the line holds a NUL byte (binary data?)"
    else:
        what = f"unreadable CSV ({msg})"
    return FeedFileError(f"{file}: line {line}: {what}; the file is rejected")


def read_csv(
    path: Path, ctx: Context, table: dict[str, tuple[str, int]], span: Span | None = None
) -> Iterator[Row | RowProblem | VendorAverage]:
    """The file's rows, or those of `span` (which it fills in: where the reading stopped)."""
    span = span or Span()
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise FeedFileError(f"{ctx.file}: cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        rows = _Rows(ctx, table)
        if span.start > 0:
            # the layout, from the records before the range
            with _reading(path, rows):
                rows.prime(*rows.reader(fh, Span(0, span.start)))
        reader, lines = rows.reader(fh, span)
        done = False
        while not done:
            out: list[Row | RowProblem | VendorAverage] = []
            with _reading(path, rows):
                done = rows.batch(reader, lines, out)
            yield from out


@contextmanager
def _reading(path: Path, rows: _Rows) -> Iterator[None]:
    """Records are read here: the csv module's field limit set, its errors made one line."""
    ctx = rows.ctx
    # the csv module's field limit is process-wide: set only while a batch is read
    old = csv.field_size_limit(ctx.limit)
    try:
        yield
    except csv.Error as exc:
        raise _csv_error(exc, ctx.file, rows.prev + 1, ctx.limit) from None
    except OSError as exc:
        raise FeedFileError(f"{ctx.file}: cannot read {path}: {exc.strerror or exc}") from None
    finally:
        csv.field_size_limit(old)


class _Rows:
    """The reading state of one CSV file: its layout, header and the last line read."""

    def __init__(self, ctx: Context, table: dict[str, tuple[str, int]]):
        self.ctx = ctx
        self.table = table
        self.base = 0  # the number of the line before the range read
        self.prev = 0  # last physical line consumed
        self.layout: str | None = None  # "header" | "legacy"
        self.ncols = 0
        self.get = None
        self.bad_at = -1  # line where the last wrong-cell-count row ended
        self.bad_where = ""

    def reader(self, fh, span: Span) -> tuple[Iterator[list[str]], Lines]:
        """A csv reader of the records of `span`, and its lines."""
        # A line holds at most a review (capped) plus the columns around it
        lines = Lines(fh, self.ctx.file, 2 * self.ctx.limit + (1 << 16), span)
        reader = csv.reader(chain.from_iterable(lines), _TSV)
        self.base = self.prev = span.first_line - 1
        self.bad_at = -1
        lines.taken = lambda: reader.line_num
        lines.at_record = lambda: self.prev == self.base + reader.line_num
        return reader, lines

    def prime(self, reader, lines: Lines) -> None:
        """The layout, from the first record that is not blank (reading before a range)."""
        for cells in reader:
            self.prev = reader.line_num
            if not _blank(cells):
                self.start(cells)
                return

    def batch(self, reader, lines: Lines, out: list) -> bool:
        """Read up to _BATCH records into `out`; True at the end of the file or range."""
        base = self.base
        for n, cells in enumerate(reader, 1):
            start, self.prev = self.prev + 1, base + reader.line_num
            if self.layout == "header":
                item = self.header(cells, f"line {start}")
            else:
                item = self.first_or_legacy(cells, f"line {start}")
            if item is not None:
                out.append(item)
            if n == _BATCH:
                return False
        if lines.unterminated and self.bad_at == self.prev:
            # the last row has the wrong cell count and no final line break: cut short
            raise FeedFileError(
                f"{self.ctx.file}: {self.bad_where}: the file ends in the middle of a row "
                "(cells missing, no final line break): truncated, the file is rejected"
            )
        return True

    def first_or_legacy(self, cells: list[str], where: str) -> Item | None:
        """A record before the layout is known (the header, or a legacy row), or of the
        legacy layout; None for a blank line or the header."""
        if _blank(cells):
            return None
        if self.layout is None and not self.start(cells):
            return None  # the header
        return self.legacy(cells, where)

    def cells_problem(self, where: str, message: str) -> RowProblem:
        """A row with the wrong number of cells (remembered: it may be a truncated last row)."""
        self.bad_at, self.bad_where = self.prev, where
        return self.ctx.problem(where, "cells", message)

    # -- the header --------------------------------------------------------
    def start(self, cells: list[str]) -> bool:
        """Decide the layout from the first row; True when that row is data (legacy)."""
        first = cells[0].strip().upper()
        if first in _LEGACY_WORDS:
            self.layout = "legacy"
            return True
        ctx = self.ctx
        cols = resolve(cells, self.table)
        if "action" not in cols:
            raise FeedFileError(
                f"{ctx.file}: line {self.prev}: no action column in the header, and the first "
                f"cell {_show(cells[0], 30)} is no action word either (headerless layout); "
                "map your column names with REVIEW_FEED_FIELD_MAP"
            )
        if ctx.product:
            if "product_review_id" not in cols and not (
                "review_id" in cols and "product_ref" in cols
            ):
                raise FeedFileError(
                    f"{ctx.file}: line {self.prev}: no product_review_id column in the header "
                    "(nor review_id and product_ref); map yours with REVIEW_FEED_FIELD_MAP"
                )
        elif "review_id" not in cols:
            raise FeedFileError(
                f"{ctx.file}: line {self.prev}: no review_id column in the header; "
                "map yours with REVIEW_FEED_FIELD_MAP"
            )
        self.layout = "header"
        self.ncols = len(cells)
        # an absent field reads the "" appended after the last cell
        self.get = itemgetter(*(cols.get(f, self.ncols) for f in BUILD_FIELDS))
        return False

    def header(self, cells: list[str], where: str) -> Row | RowProblem | None:
        """A row of the header layout; None for a blank line."""
        if len(cells) != self.ncols:
            if _blank(cells):
                return None
            fixed = self.odd_count(cells, where)
            if fixed is None or fixed.__class__ is RowProblem:
                return fixed
            cells = fixed
        cells.append("")  # what an absent field reads
        return build_row(self.ctx, self.get(cells), where)

    def odd_count(self, cells: list[str], where: str) -> list[str] | RowProblem:
        """A header-layout row whose cell count differs from the header's."""
        ncols = self.ncols
        if len(cells) > ncols and not any(c.strip() for c in cells[ncols:]):
            return cells[:ncols]  # trailing empty cells (a tab at the end of the line)
        found = len(cells)
        return self.cells_problem(
            where, f"expected {ncols} tab-separated cells (as many as the header), found {found}"
        )

    # -- the legacy headerless layout --------------------------------------
    def legacy(self, cells: list[str], where: str) -> Row | RowProblem | VendorAverage:
        ctx = self.ctx
        n = len(cells)
        word = cells[0].strip().upper()
        if word == "AVG":
            return self.average(cells, where)
        if n >= 12 and n % 3 == 0:
            count_at, first_reply, odate = 11, 12, ""
        elif n >= 16 and n % 3 == 1:
            count_at, first_reply, odate = 15, 16, cells[11]
        else:
            return self.cells_problem(
                where, f"expected 12 + 3N or 16 + 3N cells in the headerless layout, found {n}"
            )
        declared = cells[count_at].strip()
        found = (n - first_reply) // 3
        if declared != str(found):
            return ctx.problem(
                where,
                f"cell {count_at + 1} (reply count)",
                f"expected {found} (the reply triplets present), found {_show(declared)}",
            )
        replies = [tuple(cells[i : i + 3]) for i in range(first_reply, n, 3)]
        if ctx.product:
            rid, prid, ref = "", cells[2], cells[4]
        else:
            rid, prid, ref = cells[2], "", ""
        values = (cells[0], rid, prid, ref, "", cells[5], odate, cells[7], cells[6],
                  cells[8], cells[9], "", replies)  # fmt: skip
        return build_row(ctx, values, where)

    def average(self, cells: list[str], where: str) -> VendorAverage | RowProblem:
        ctx = self.ctx
        if len(cells) < 5:
            return self.cells_problem(
                where,
                f"expected 5 cells in an AVG row (AVG, -, ref, average, count), found {len(cells)}",
            )
        ref = cells[2].strip()
        if not ref:
            return ctx.problem(where, "product_ref", "missing in an AVG row")
        try:
            average = float(cells[3].strip().replace(",", "."))
        except ValueError:
            return ctx.problem(where, "average", f"expected a number, found {_show(cells[3])}")
        try:
            count = int(cells[4].strip())
        except ValueError:
            return ctx.problem(where, "count", f"expected a whole number, found {_show(cells[4])}")
        if not 0 <= average <= 5 or count < 0:
            return ctx.problem(
                where,
                "average",
                f"expected 0..5 and a count >= 0, found {_show(cells[3])}, {_show(cells[4])}",
            )
        return VendorAverage(ref, average, count, where)
