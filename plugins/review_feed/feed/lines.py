"""The physical lines of a byte range of a text file, decoded, as the csv module reads them.

A line ends at `\\n`, `\\r\\n` or a lone `\\r` (what `open(..., newline="")` does). Within the
range the file is read in blocks, each cut after its last line end and decoded whole, and
the csv module iterates a block's lines in C. Past the range's end, lines come one at a
time and only while the record that began before the end is unfinished, so a range's
reading ends exactly where its last record does (`Span.stop`): that is how a reader of
the next range knows it started at a record, not inside a quoted cell.

Memory is bounded whatever the input: a line longer than `bound` bytes is refused before
it is held whole; invalid UTF-8 is refused at the line it is on, after the lines before it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import FeedFileError

_BLOCK = 1 << 16
_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class Span:
    """A byte range of a file to read: the records that start in [start, end).

    `start` is the offset of a line start and `first_line` that line's number (messages
    name lines of the whole file); `end` None reads to the end of the file. A record that
    starts before `end` is read to its end, past `end` if it must. The reading fills in
    `stop`, the offset where its last record ended, and `lines`, the lines it read.
    """

    start: int = 0
    end: int | None = None
    first_line: int = 1
    stop: int = 0
    lines: int = 0


def _cut(buf: bytes) -> int:
    """The length of `buf`'s complete lines: up to its last line end (a final `\\r` may be
    half of a `\\r\\n`, so it does not end a line yet)."""
    n = buf.rfind(b"\n")
    r = buf.rfind(b"\r", n + 1, len(buf) - 1)
    return max(n, r) + 1


def _first_end(buf: bytes) -> int:
    """Where `buf`'s first line end is (-1: none)."""
    n = buf.find(b"\n")
    r = buf.find(b"\r", 0, n if n >= 0 else len(buf))
    return r if r >= 0 else n


def _line_length(buf: bytes, final: bool) -> int:
    """The length of `buf`'s first line with its line end; 0 when it is not complete yet
    (`final`: nothing follows `buf`, so whatever is left is the last line)."""
    at = _first_end(buf)
    if at < 0:
        return len(buf) if final else 0
    if buf[at] == 13:  # \r
        if at + 1 < len(buf):
            return at + 2 if buf[at + 1] == 10 else at + 1
        return at + 1 if final else 0
    return at + 1


class Lines:
    """The lines of `span` for one csv reader. Before iterating, set `taken` to a function
    returning how many lines the reader took, and `at_record` to one telling whether the
    reader stands between two records (it has finished every record it began)."""

    def __init__(self, fh: BinaryIO, file: str, bound: int, span: Span) -> None:
        self.fh = fh
        self.file = file
        self.bound = bound
        self.span = span
        self.eof = False
        self.unterminated = False  # the file's last line has no line end
        self.taken: Callable[[], int] = lambda: 0
        self.at_record: Callable[[], bool] = lambda: True

    def __iter__(self) -> Iterator[Iterable[str]]:
        """Blocks of lines (chain them: `itertools.chain.from_iterable`)."""
        end = self.span.end
        pos = self.span.start
        self.fh.seek(pos)
        if pos == 0 and self.fh.read(3) == _BOM:
            pos = 3
        self.fh.seek(pos)
        carry = b""
        while end is None or pos < end:
            want = max(_BLOCK, len(carry))
            data = self.fh.read(want if end is None else min(want, end - pos))
            if not data:
                self.eof = True
                break
            buf = carry + data if carry else data
            pos += len(data)
            if carry and _first_end(buf) > self.bound:
                raise self.too_long()
            cut = _cut(buf)
            carry = buf[cut:]
            if cut:
                text, bad = self.decode(buf[:cut] if carry else buf)
                yield io.StringIO(text, newline="")
                if bad is not None:
                    raise self.not_utf8(*bad)
            if len(carry) > self.bound:
                raise self.too_long()
        yield from self.past_end(pos - len(carry), carry)

    def past_end(self, at: int, buf: bytes) -> Iterator[tuple[str]]:
        """After the range (or at the end of the file): one line at a time while a record
        begun before the end is unfinished; `buf` holds the bytes read from offset `at`."""
        end = self.span.end
        while end is None or at < end or not self.at_record():
            n = _line_length(buf, self.eof)
            while not n and not self.eof:
                data = self.fh.read(max(_BLOCK, len(buf)))
                self.eof = not data
                buf += data
                first = _first_end(buf)
                if first > self.bound or (first < 0 and len(buf) > self.bound):
                    raise self.too_long()
                n = _line_length(buf, self.eof)
            if not n:
                break  # the end of the file
            if self.eof and n == len(buf) and buf[-1] not in b"\r\n":
                self.unterminated = True
            text, bad = self.decode(buf[:n])
            buf = buf[n:]
            at += n
            if text:
                yield (text,)
            if bad is not None:
                raise self.not_utf8(*bad)
        self.span.stop = at
        self.span.lines = self.taken()

    def decode(self, data: bytes) -> tuple[str, tuple[str, int] | None]:
        """The text of whole lines; or that of the lines before the first one that is not
        UTF-8, with the bad byte and its column in that line (the error is raised once the
        lines before it were read, so it names the right line)."""
        try:
            return data.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            bad = exc.start
        start = max(data.rfind(b"\n", 0, bad), data.rfind(b"\r", 0, bad)) + 1
        return data[:start].decode("utf-8"), (data[bad : bad + 1].hex(), bad - start + 1)

    def line(self) -> int:
        """The number of the line the reader takes next."""
        return self.span.first_line + self.taken()

    def not_utf8(self, byte: str, column: int) -> FeedFileError:
        return FeedFileError(
            f"{self.file}: line {self.line()}: not UTF-8 (byte 0x{byte} at column {column}); "
            "the vendor's CSV files are UTF-8"
        )

    def too_long(self) -> FeedFileError:
        return FeedFileError(
            f"{self.file}: line {self.line()}: longer than {self.bound} bytes (no line break), "
            "far over REVIEW_FEED_MAX_FIELD_SIZE; the file is rejected"
        )
