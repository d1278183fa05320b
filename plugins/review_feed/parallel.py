"""One feed file read for the store; a large CSV file by two processes.

A CSV file of `THRESHOLD` bytes or more (a merchant's full history) is cut into chunks of
about `CHUNK` bytes. One helper process reads and normalises the chunks it is handed
(the csv module, the vendor rules and each review's snapshot line: all the work per row
that needs nothing but the row) and sends back what the store folds, `(id, day, line)`
per row. This process does the same with the chunks nobody was handed yet, and hands
every chunk's rows to the store in file order. Any other file is read here, as a stream.

A cut is a guess at a record's start (a quoted cell may hold line breaks), and a chunk's
rows are used only when the chunk before it ended exactly where it starts: the reading of
a byte range ends where its last record does (`feed.Span`). Otherwise the chunk is read
again here, from that end. Messages name lines of the whole file (each chunk knows the
number of its first line), and the first refusal in file order is the one reported,
with nothing applied, as when the file is read in one go.

The helper is a fresh interpreter (as multiprocessing's `spawn` starts one, so it works
under Pelican and pytest alike), talking over a socket pair; Ctrl-C does not reach it
(this process stops it) and it ends when this process goes away. If it dies, the file is
not applied: one line, never a hang.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import FeedFileError
from .feed import FeedOptions, Span, read_feed
from .staging import Tally, stage
from .store import Staged, Stager
from .store.jsonfile import no_cyclic_gc

if TYPE_CHECKING:
    from .sources.names import FeedName

logger = logging.getLogger("review_feed.parallel")

THRESHOLD = 32 << 20  # smaller files are read in this process: a helper takes ~0.3 s to start
CHUNK = 4 << 20
_AHEAD = 2  # chunks handed to the helper and not back yet
_HELD = 3  # chunks read here ahead of their turn, while the helper's is not back
_SCAN = 4 << 20  # bytes read at a time to plan the chunks


def read_staged(
    path: Path,
    name: FeedName,
    options: FeedOptions,
    keep_order_ref: bool,
    tally: Tally,
    *,
    threshold: int = THRESHOLD,
    chunk: int = CHUNK,
) -> Iterator[Staged]:
    """The valid rows of a feed file as the store folds them, in file order; `tally`
    counts the rest. A FeedFileError (maybe after rows came out) rejects the whole file.
    Close the iterator when it is not read to its end: it may own a process."""
    try:
        big = name.ext.lower() == "csv" and path.stat().st_size >= threshold
    except OSError:
        big = False  # the reading says why
    if not big:
        return stage(read_feed(path, name, options), Stager(keep_order_ref), tally)
    return _TwoProcesses(path, name, options, keep_order_ref, tally).rows(chunk)


@dataclass(slots=True)
class _Chunk:
    """A chunk read: its span (with where its reading stopped), its rows as the store
    folds them, its tally; or the refusal it ran into (`error`), or `redo` when the
    helper failed in a way of its own and this process must read it."""

    span: Span
    rows: list[Staged]
    tally: Tally
    error: str | None = None
    redo: bool = False


def _read(path: Path, name: FeedName, options: FeedOptions, stager: Stager, span: Span) -> _Chunk:
    tally = Tally()
    try:
        rows = list(stage(read_feed(path, name, options, span), stager, tally))
    except FeedFileError as exc:
        return _Chunk(span, [], tally, str(exc))
    return _Chunk(span, rows, tally)


# The helper runs this, given its end of the socket and this process's import path (as a
# process started by multiprocessing's `spawn`, without importing this process's main
# module again: that may be any script, Pelican's or pytest's)
_START = (
    "import sys; sys.path[:] = sys.argv[2:]; "
    "from review_feed.parallel import serve; serve(int(sys.argv[1]))"
)


def serve(fd: int) -> None:
    """The helper process: reads the chunks it is handed until told to stop (None) or
    the main process is gone."""
    conn = Connection(fd)
    with no_cyclic_gc():  # rows by the thousand, no reference cycles
        try:
            path, name, options, keep_order_ref = conn.recv()
            stager = Stager(keep_order_ref)
            while (job := conn.recv()) is not None:
                span = Span(*job)
                try:
                    done = _read(path, name, options, stager, span)
                except Exception:  # a fault of its own: the main process reads it again
                    logger.debug("[review-feed] helper: chunk %s failed", job, exc_info=True)
                    done = _Chunk(span, [], Tally(), redo=True)
                conn.send(done)
        except (EOFError, OSError):
            pass  # the main process is gone


class _Helper:
    """The helper process and the chunks handed to it, in the order they come back.

    In a session of its own, so Ctrl-C reaches only this process, which stops it; its
    stderr goes to a temporary file (logged at debug level if it dies), never to a user."""

    def __init__(
        self, path: Path, name: FeedName, options: FeedOptions, keep_order_ref: bool
    ) -> None:
        self.file = name.name
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 -- closed by close()
        ours, theirs = socket.socketpair()
        with ours, theirs:
            try:
                self.proc = subprocess.Popen(
                    [sys.executable, "-c", _START, str(theirs.fileno()), *sys.path],
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=self.errors,
                    start_new_session=True,
                )
            except OSError as exc:
                self.errors.close()
                raise FeedFileError(
                    f"{self.file}: cannot start a helper process to read it "
                    f"({exc.strerror or exc}); nothing of the file is applied"
                ) from None
            # only the helper holds its end now: its death is an end of file here
            self.conn = Connection(ours.detach())
        self.pending: deque[int] = deque()
        self.call((path, name, options, keep_order_ref))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def call(self, message: object) -> None:
        try:
            self.conn.send(message)
        except OSError:
            raise self.died() from None

    def send(self, index: int, span: Span) -> None:
        self.call((span.start, span.end, span.first_line))
        self.pending.append(index)

    def ready(self) -> bool:
        return self.conn.poll()

    def receive(self) -> tuple[int, _Chunk]:
        try:
            done = self.conn.recv()
        except (EOFError, OSError):
            raise self.died() from None
        return self.pending.popleft(), done

    def died(self) -> FeedFileError:
        try:
            code = self.proc.wait(timeout=5)
            how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        except subprocess.TimeoutExpired:
            how = "its connection was lost"
        self.errors.seek(0)
        logger.debug("[review-feed] helper process: %s", self.errors.read()[-2000:])
        return FeedFileError(
            f"{self.file}: the helper process reading the file stopped ({how}); nothing of "
            "the file is applied, the next sync reads it again"
        )

    def close(self) -> None:
        """Stop it: at once when it still works on a chunk (an error, Ctrl-C)."""
        if self.pending:
            self.proc.terminate()
        else:
            with suppress(OSError):
                self.conn.send(None)
        self.conn.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.errors.close()


class _TwoProcesses:
    """One file read by this process and a helper, its rows handed out in file order."""

    def __init__(
        self, path: Path, name: FeedName, options: FeedOptions, keep_order_ref: bool, tally: Tally
    ) -> None:
        self.path = path
        self.name = name
        self.options = options
        self.keep_order_ref = keep_order_ref
        self.stager = Stager(keep_order_ref)
        self.tally = tally
        self.spans: list[Span] = []
        self.next = 0  # the first chunk nobody has taken
        self.held: dict[int, _Chunk] = {}
        self.helper: _Helper | None = None

    def rows(self, chunk: int) -> Iterator[Staged]:
        self.helper = _Helper(self.path, self.name, self.options, self.keep_order_ref)
        try:  # the helper starts while the chunks are planned
            try:
                self.spans = plan(self.path, chunk)
            except OSError as exc:
                raise FeedFileError(
                    f"{self.name.name}: cannot read {self.path}: {exc.strerror or exc}"
                ) from None
            stop, line = 0, 1  # where the last record read ended, the number of the next line
            for i, span in enumerate(self.spans):
                got = self.take(i)
                if got.redo or got.span.start != stop or got.span.first_line != line:
                    got = self.read(Span(stop, span.end, line))  # the cut was inside a record
                if got.error is not None:
                    raise FeedFileError(got.error)
                self.tally.add(got.tally)
                stop, line = got.span.stop, got.span.first_line + got.span.lines
                yield from got.rows
        finally:
            self.helper.close()

    def read(self, span: Span) -> _Chunk:
        return _read(self.path, self.name, self.options, self.stager, span)

    def take(self, i: int) -> _Chunk:
        """Chunk i: read here when nobody took it yet; else the helper's, with chunks read
        here ahead of their turn while it is not back."""
        helper = self.helper
        assert helper is not None
        got = self.held.pop(i, None)
        if got is not None:
            return got
        if i == self.next:
            self.next += 1
            self.hand_out()
            return self.read(self.spans[i])
        while True:
            self.hand_out()
            if helper.ready() or self.next == len(self.spans) or len(self.held) >= _HELD:
                j, got = helper.receive()
                if j == i:
                    return got
                self.held[j] = got
            else:
                self.held[self.next] = self.read(self.spans[self.next])
                self.next += 1

    def hand_out(self) -> None:
        helper = self.helper
        assert helper is not None
        while len(helper.pending) < _AHEAD and self.next < len(self.spans):
            helper.send(self.next, self.spans[self.next])
            self.next += 1


# --- the chunks ----------------------------------------------------------------------


def plan(path: Path, chunk: int) -> list[Span]:
    """Byte ranges of about `chunk` bytes covering the file, with the number of each one's
    first line. Each starts at a line that looks like a record's start: a tab in it and no
    quote before the first one (a line inside a quoted cell ends with the cell's closing
    quote); a guess all the same, checked when read."""
    spans: list[Span] = []
    start, first = 0, 1
    pos = lines = 0  # bytes and line ends before the block
    after_cr = False  # the byte before the block is a \r
    target = chunk
    with path.open("rb") as fh:
        while data := fh.read(_SCAN):
            counted = 0  # bytes of the block whose line ends are in `lines`
            while target < pos + len(data):
                cut = _cut_at(data, max(target - pos, 0))
                if cut < 0:
                    break  # none left in this block: look on in the next one
                lines += _line_ends(data, counted, cut, after_cr and not counted)
                counted = cut
                spans.append(Span(start, pos + cut, first))
                start, first = pos + cut, lines + 1
                target = start + chunk
            lines += _line_ends(data, counted, len(data), after_cr and not counted)
            after_cr = data.endswith(b"\r")
            pos += len(data)
    spans.append(Span(start, None, first))
    return spans


def _cut_at(data: bytes, at: int) -> int:
    """The first line start after `at` in `data` that looks like a record's start; -1 when
    there is none (whole) in `data`."""
    while (nl := data.find(b"\n", at)) >= 0:
        at = nl + 1
        end = data.find(b"\n", at)
        if end < 0:
            return -1
        tab = data.find(b"\t", at, end)
        if tab >= 0 and data.find(b'"', at, tab) < 0:
            return at
    return -1


def _line_ends(data: bytes, start: int, end: int, after_cr: bool) -> int:
    """Line ends (`\\n`, `\\r\\n`, a lone `\\r`) in data[start:end]; `after_cr`: the byte
    before is a `\\r`, so a `\\n` first ends a line counted already."""
    n = data.count(b"\n", start, end)
    if data.find(b"\r", start, end) >= 0:
        n += data.count(b"\r", start, end) - data.count(b"\r\n", start, end)
    if after_cr and data[start : start + 1] == b"\n":
        n -= 1
    return n
