"""Tab-separated feed files: the header layout and the legacy headerless one.

Rows are read in batches: the csv module's field-size limit is a process-wide
setting, so it is set to REVIEW_FEED_MAX_FIELD_SIZE only while a batch is
being read (no `yield` in between) and restored right after.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path

from ..errors import FeedFileError
from ..model import Row, RowProblem, VendorAverage
from .build import BUILD_FIELDS, Context, gc_paused
from .fields import resolve
from .values import ACTIONS
from .values import shorten as _show

_BATCH = 2048


_LEGACY_WORDS = frozenset((*ACTIONS, "AVG"))


class _TSV(csv.Dialect):
    delimiter = "\t"
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL
    strict = True  # a stray or unterminated quote is an error, never swallowed text


class Cells:
    """`csv.reader(fh, _TSV)`, the same rows and `line_num`, faster on the usual line.

    A line holding no quote is one record whose cells are its tab-separated parts: it
    is split here (a fifth of the csv module's cost). A line with a quote (a quoted cell
    may hold tabs and line breaks) or over `limit` characters goes to the csv module
    itself, which reads on as far as that record goes and raises on anything broken,
    exactly as it would alone. (A NUL is a character like any other since Python 3.11.)
    """

    def __init__(self, fh, limit: int) -> None:
        self.line_num = 0  # physical lines read so far, as csv.reader counts them
        self._lines = iter(fh)
        self._back: str | None = None
        self._csv = csv.reader(self._pull(), _TSV)
        self._rows = self._split(limit)

    def __iter__(self) -> Iterator[list[str]]:
        return self._rows

    def _pull(self) -> Iterator[str]:
        # the csv module's source: the line handed back, then the file's next lines
        while True:
            line = self._back
            if line is None:
                line = next(self._lines, None)
                if line is None:
                    return
            else:
                self._back = None
            self.line_num += 1
            yield line

    def _split(self, limit: int) -> Iterator[list[str]]:
        reader = self._csv
        n = 0
        for line in self._lines:
            if '"' in line or len(line) > limit:
                self._back = line
                self.line_num = n
                yield next(reader)
                n = self.line_num
                continue
            n += 1
            self.line_num = n
            cells = line.split("\t")
            last = cells[-1]  # the line break is cut off the last cell (short), not the line
            if last[-1:] == "\n":
                cells[-1] = last[:-2] if last[-2:] == "\r\n" else last[:-1]
            elif last[-1:] == "\r":
                cells[-1] = last[:-1]
            yield cells if len(cells) > 1 or cells[0] else []


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return True
        fh.seek(-1, 2)
        return fh.read(1) in (b"\n", b"\r")


def _utf8_error(path: Path, file: str) -> FeedFileError:
    """Find the first line that is not UTF-8 (only on the error path: a second read)."""
    with path.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            try:
                line.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                bad = line[exc.start : exc.start + 1].hex()
                return FeedFileError(
                    f"{file}: line {n}: not UTF-8 (byte 0x{bad} at column {exc.start + 1}); "
                    "the vendor's CSV files are UTF-8"
                )
    return FeedFileError(f"{file}: not UTF-8")


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
    path: Path, ctx: Context, table: dict[str, tuple[str, int]]
) -> Iterator[Row | RowProblem | VendorAverage]:
    file = ctx.file
    try:
        complete = _ends_with_newline(path)
        fh = path.open(encoding="utf-8-sig", errors="strict", newline="")
    except OSError as exc:
        raise FeedFileError(f"{file}: cannot read {path}: {exc.strerror or exc}") from None
    with fh, gc_paused():
        state: _State | None = _State(ctx, path, table, complete)
        if ctx.parallel_from is not None:
            from .csvsplit import read_split

            # A big file is read by two processes (csvsplit); None once it is all read.
            # Otherwise (a small file, or the split went wrong) this reader goes on alone,
            # from the start, past the rows already handed out.
            state = yield from read_split(path, ctx, table, state)
            if state is None:
                return
        yield from read_batches(Cells(fh, ctx.limit), state)


def read_batches(reader, state: _State) -> Iterator[Row | RowProblem | VendorAverage]:
    """Every row of `reader` from `state` on, read in batches (each under the file's field
    limit); with `ctx.lines`, handed out as those batches (lists) too."""
    ctx = state.ctx
    file, limit, path = ctx.file, ctx.limit, state.path
    batches = ctx.lines  # the full-load fast path takes whole batches
    while True:
        out: list[Row | RowProblem | VendorAverage] = []
        old = csv.field_size_limit(limit)
        try:
            done = state.batch(reader, out)
        except csv.Error as exc:
            raise _csv_error(exc, file, state.prev + 1, limit) from None
        except UnicodeDecodeError:
            raise _utf8_error(path, file) from None
        except OSError as exc:
            raise FeedFileError(f"{file}: cannot read {path}: {exc.strerror or exc}") from None
        finally:
            csv.field_size_limit(old)
        state.handed = state.prev
        if batches:
            yield out
        else:
            yield from out
        if done:
            return


class _State:
    """The reading state of one CSV file across batches."""

    def __init__(self, ctx: Context, path: Path, table: dict[str, tuple[str, int]], complete: bool):
        self.ctx = ctx
        self.path = path
        self.table = table
        self.complete = complete  # the file ends with a line break
        self.off = 0  # physical lines before the reader's first one (a reader on a file's tail)
        self.prev = 0  # last physical line consumed
        self.handed = 0  # last line of the rows handed out
        self.skip_to = 0  # rows ending at or before this line were handed out already
        self.layout: str | None = None  # "header" | "legacy"
        self.columns: list[str] = []
        self.ncols = 0
        self.get = None
        self.bad_at = -1  # line where the last wrong-cell-count row ended
        self.bad_where = ""

    # -- the header --------------------------------------------------------
    def _start(self, cells: list[str]) -> bool:
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
        names = {i: c for c, i in cols.items()}
        self.columns = [
            names.get(i, cells[i].strip() or f"column {i + 1}") for i in range(len(cells))
        ]
        # an absent field reads the "" appended after the last cell
        self.get = itemgetter(*(cols.get(f, self.ncols) for f in BUILD_FIELDS))
        return False

    def _check_sizes(self, cells: list[str], where: str) -> None:
        ctx = self.ctx
        for i, c in enumerate(cells):
            if len(c) * 4 > ctx.limit:
                name = self.columns[i] if i < len(self.columns) else f"column {i + 1}"
                ctx.check_size(c, where, name)

    # -- a batch of rows ---------------------------------------------------
    def batch(self, reader, out: list) -> bool:
        """Read up to _BATCH records into `out`; True at the end of the file."""
        if self.prev < self.skip_to and self.layout is not None:
            off = self.off
            for _ in reader:
                self.prev = off + reader.line_num
                if self.prev >= self.skip_to:
                    break
        if self.layout == "header":
            done = self._header_batch(reader, out)
        else:
            done = self._any_batch(reader, out)
        if done and not self.complete and self.bad_at == self.prev:
            # the last row has the wrong cell count and no final line break: cut short
            raise FeedFileError(
                f"{self.ctx.file}: {self.bad_where}: the file ends in the middle of a row "
                "(cells missing, no final line break): truncated, the file is rejected"
            )
        return done

    def _header_batch(self, reader, out: list) -> bool:
        # The hot loop of a big file: locals only, one build call per row.
        build = self.ctx.build
        compact = self.ctx.compact  # csvsplit's worker: the line number alone
        get = self.get
        ncols = self.ncols
        append = out.append
        prev = self.prev
        off = self.off
        n = 0
        try:
            for cells in reader:
                start = prev + 1
                prev = off + reader.line_num
                if len(cells) == ncols and prev == start:
                    cells.append("")
                    append(build(get(cells), start if compact else f"line {start}"))
                else:
                    self._header_row(cells, start, prev, out)
                n += 1
                if n == _BATCH:
                    return False
        finally:
            self.prev = prev
        return True

    def _header_row(self, cells: list[str], start: int, end: int, out: list) -> None:
        """A row off the fast path: over several lines, or with an odd cell count."""
        where = f"line {start}"
        self._check_sizes(cells, where)
        if len(cells) != self.ncols:
            row = self._odd_count(cells, start)
            if row is None:
                return
            if row.__class__ is RowProblem:
                self.bad_at, self.bad_where = end, where
                out.append(row)
                return
            cells = row
        cells.append("")
        out.append(self.ctx.build(self.get(cells), where))

    def _any_batch(self, reader, out: list) -> bool:
        """The rows before the layout is known (blank lines, then the header or the first
        headerless row), then the whole of a headerless file."""
        prev = self.prev
        off = self.off
        n = 0
        try:
            for cells in reader:
                start = prev + 1
                prev = off + reader.line_num
                where = f"line {start}"
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue  # a blank line
                elif self.layout == "legacy":
                    self._check_sizes(cells, where)
                    row = self._legacy(cells, where)
                    if row.__class__ is RowProblem and row.field == "cells":
                        self.bad_at, self.bad_where = prev, where
                    out.append(row)
                else:
                    self.prev = prev
                    self._check_sizes(cells, where)
                    if self._start(cells):
                        out.append(self._legacy(cells, where))
                    elif self.layout == "header":
                        return False  # the header: the rows take the fast path from here
                n += 1
                if n == _BATCH:
                    return False
        finally:
            self.prev = prev
        return True

    def _odd_count(self, cells: list[str], start: int) -> list[str] | RowProblem | None:
        """A header-layout row whose cell count differs from the header's."""
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            return None  # a blank line
        ncols = self.ncols
        if len(cells) > ncols and not any(c.strip() for c in cells[ncols:]):
            return cells[:ncols]  # trailing empty cells (a tab at the end of the line)
        return self.ctx.problem(
            f"line {start}",
            "cells",
            f"expected {ncols} tab-separated cells (as many as the header), found {len(cells)}",
        )

    # -- the legacy headerless layout --------------------------------------
    def _legacy(self, cells: list[str], where: str) -> Row | RowProblem | VendorAverage:
        ctx = self.ctx
        n = len(cells)
        word = cells[0].strip().upper()
        if word == "AVG":
            return self._average(cells, where)
        if n >= 12 and n % 3 == 0:
            count_at, first_reply, odate = 11, 12, ""
        elif n >= 16 and n % 3 == 1:
            count_at, first_reply, odate = 15, 16, cells[11]
        else:
            return ctx.problem(
                where,
                "cells",
                f"expected 12 + 3N or 16 + 3N cells in the headerless layout, found {n}",
            )
        declared = cells[count_at].strip()
        found = (n - first_reply) // 3
        if declared != str(found):
            return ctx.problem(
                where,
                f"cell {count_at + 1} (reply count)",
                f"expected {found} (the reply triplets present), found {_show(declared)}",
            )
        replies = (
            ctx.replies([tuple(cells[i : i + 3]) for i in range(first_reply, n, 3)], where, "reply")
            if found
            else ()
        )
        if ctx.product:
            rid, prid, ref = "", cells[2], cells[4]
        else:
            rid, prid, ref = cells[2], "", ""
        return ctx.build(
            (cells[0], rid, prid, ref, "", cells[5], odate, cells[7], cells[6],
             cells[8], cells[9], "", replies),
            where,
        )  # fmt: skip

    def _average(self, cells: list[str], where: str) -> VendorAverage | RowProblem:
        ctx = self.ctx
        if len(cells) < 5:
            return ctx.problem(
                where,
                "cells",
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
