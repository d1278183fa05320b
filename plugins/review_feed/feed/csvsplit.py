"""A big CSV file read by two processes: this one reads the head, a worker the tail.

Parsing is CPU-bound Python, so on a 2-core machine a second process nearly
halves the wall time of a full load. It stays exact:

- the cut is right after a line break, before a line that looks like a whole
  record (no quote; as many cells as the header, or an action word first in
  the headerless layout);
- this process reads the head, bytes [0, cut), with the very reader and
  rules of a single read. The csv module (strict) raises at the end of the
  head when the cut falls inside a quoted cell, so a head read to its end
  without error proves the cut is a record boundary: the tail read from there
  gives the rows one reader would have given;
- the worker reads the tail and sends its rows as plain tuples (marshal; far
  cheaper than pickling frozen dataclasses), line numbers counted from the
  cut; this process rebuilds the Rows with the head's line count added, in
  file order;
- anything unusual (an error in the head or the tail, a worker that dies or
  cannot start, a header that differs from the one peeked) makes this process
  read on alone from the last row handed out, so rows, line numbers and error
  messages are those of a single read.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import logging
import marshal
import os
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import FeedFileError
from ..model import Action, Reply, Review, Row, RowProblem, VendorAverage
from .build import _REPLY_TWIN, _REVIEW_TWIN, _ROW_TWIN, Context
from .csvfile import _LEGACY_WORDS, Cells, _State, read_batches

logger = logging.getLogger("review_feed.feed")

# The head's share of the file: this process also rebuilds the worker's rows,
# so it reads a little less than half.
_HEAD_SHARE = 0.52
# In the full load's fast path (LineRows) this process also folds every row into the
# snapshot, so the worker takes the bigger part (measured at 1M rows: 0.45-0.5 is flat).
_HEAD_SHARE_LINES = 0.47
_SCAN = 1 << 22  # look this far past the cut for a line that can start a record
_FRAME = struct.Struct("<I")
_ROWS, _END, _ERROR = 0, 1, 2


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def busy() -> bool:
    """True when the machine has no idle core for a worker (1-minute load average).

    A worker that shares a core only adds its own cost (marshal, rebuilding:
    about a fifth more CPU in all), so the second process is used only when it
    can run beside this one.
    """
    try:
        return os.getloadavg()[0] > _cpus() - 0.5
    except OSError:  # pragma: no cover - no load average
        return False


class _Slice(io.RawIOBase):
    """Bytes [start, end) of a file (end None: to its end), as a raw stream."""

    def __init__(self, path: Path, start: int, end: int | None):
        super().__init__()
        self._fh = path.open("rb")
        self._fh.seek(start)
        self._left = None if end is None else end - start

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = len(b) if self._left is None else min(len(b), self._left)
        if n <= 0:
            return 0
        got = self._fh.readinto(memoryview(b)[:n])
        if self._left is not None:
            self._left -= got
        return got

    def close(self) -> None:
        self._fh.close()
        super().close()


def _open_text(path: Path, start: int, end: int | None) -> io.TextIOWrapper:
    # the same decoding as a single read: UTF-8, a BOM dropped at the file's start only
    raw = io.BufferedReader(_Slice(path, start, end), 1 << 16)
    encoding = "utf-8-sig" if start == 0 else "utf-8"
    return io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")


def _plan(path: Path, size: int, share: float = _HEAD_SHARE) -> tuple[int, list[str]] | None:
    """(cut, first row's cells as peeked), or None when no good cut is near the middle."""
    with path.open("rb") as fh:
        first = fh.readline(1 << 20)
        if not first.endswith(b"\n") or b'"' in first:
            return None
        try:
            cells = first.decode("utf-8-sig").rstrip("\r\n").split("\t")
        except UnicodeDecodeError:
            return None  # a single read names the line
        legacy = cells[0].strip().upper() in _LEGACY_WORDS
        tabs = len(cells) - 1
        start = max(int(size * share), len(first))
        fh.seek(start - 1)
        fh.readline()  # to the start of the next line
        pos = fh.tell()
        limit = pos + _SCAN
        while pos < limit:
            line = fh.readline(1 << 20)
            if not line.endswith(b"\n"):
                return None  # the end of the file, or a huge line
            if b'"' not in line:
                if legacy:
                    word = line.split(b"\t", 1)[0].strip().upper()
                    if word.decode("ascii", "replace") in _LEGACY_WORDS:
                        return pos, cells
                elif line.count(b"\t") == tabs:
                    return pos, cells
            pos += len(line)
    return None


class Worker:
    """A worker process and its output.

    The worker writes its frames to an unlinked temporary file (opened O_APPEND), not to
    a pipe: while this process reads the head it reads no frames, and a full pipe would
    stall the worker (a sending thread instead costs the worker a sixth of its time in
    GIL hand-offs and copies). This process reads the file with pread at its own offset,
    following it while the worker is running.
    """

    def __init__(self, proc: subprocess.Popen, fd: int) -> None:
        self.proc = proc
        self.fd = fd
        self.pos = 0

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def read(self, n: int) -> bytes:
        """`n` bytes, waiting for the worker to write them; fewer once it has exited."""
        parts = []
        while n > 0:
            got = os.pread(self.fd, n, self.pos)
            if got:
                self.pos += len(got)
                n -= len(got)
                parts.append(got)
            elif self.proc.poll() is None:
                time.sleep(0.002)
            else:  # exited: what it wrote before is in the file
                got = os.pread(self.fd, n, self.pos)
                if not got:
                    break
                self.pos += len(got)
                n -= len(got)
                parts.append(got)
        return b"".join(parts)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def spawn_worker(module: str, ctx: Context, job: dict) -> Worker | None:
    """Start `review_feed.feed.<module>.worker()` in a fresh interpreter and hand it `job`.

    The file's shared fields are added to `job`. None when no process can be started:
    the caller then reads the whole file itself.
    """
    import review_feed

    root = str(Path(review_feed.__file__).resolve().parent.parent)
    job = {
        **job,
        "file": ctx.file,
        "kind": ctx.kind,
        "website_id": ctx.website_id,
        "limit": ctx.limit,
        "store_order_ref": ctx.store_order_ref,
        "lines": ctx.lines,
    }
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        f"from review_feed.feed.{module} import worker; worker()"
    )
    try:
        fd, name = tempfile.mkstemp(prefix="review-feed-worker-")
    except OSError as exc:
        logger.debug("[review-feed] %s: no worker file (%s); read alone", ctx.file, exc)
        return None
    os.unlink(name)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, root],
            stdin=subprocess.PIPE,
            stdout=fd,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        os.close(fd)
        logger.debug("[review-feed] %s: no worker process (%s); read alone", ctx.file, exc)
        return None
    worker = Worker(proc, fd)
    try:
        proc.stdin.write(json.dumps(job).encode("utf-8"))
        proc.stdin.close()
    except OSError:
        _stop(worker)
        return None
    return worker


def _start_worker(
    path: Path, ctx: Context, table: dict, cut: int, cells: list[str], complete: bool
):
    job = {"path": str(path), "cut": cut, "cells": cells, "complete": complete, "table": table}
    return spawn_worker("csvsplit", ctx, job)


def _stop(worker: Worker) -> None:
    worker.stop()


def _frames(stream: Worker) -> Iterator[tuple[int, int, list]]:
    """(status, lines read, items) frames until the end; an error frame on a broken stream."""
    while True:
        head = stream.read(4)
        if len(head) < 4:
            yield _ERROR, 0, []
            return
        (size,) = _FRAME.unpack(head)
        body = stream.read(size)
        if len(body) < size:
            yield _ERROR, 0, []
            return
        try:
            status, lines, items = marshal.loads(body)
        except (ValueError, EOFError, TypeError):
            yield _ERROR, 0, []
            return
        yield status, lines, items
        if status != _ROWS:
            return


def _rebase(where, base) -> str:
    if where.__class__ is int:
        return f"line {base + where}"
    if where.__class__ is tuple:  # xmlsplit: (count, line) after the head's
        return f"review #{base[0] + where[0]} (line {base[1] + where[1]})"
    if where.startswith("line ") and where[5:].isdigit():
        return f"line {base + int(where[5:])}"
    return where  # pragma: no cover - the CSV reader only says "line N"


_LINE_CODES = frozenset(a.value for a in Action)


def _rebuild(items: list, base: int, ctx: Context) -> list:
    """The worker's tuples as the Rows (or LineRows), RowProblems and averages a single
    read makes."""
    if ctx.lines:  # LineRows come as they are; only problems and averages are rebuilt
        if all(t[0] in _LINE_CODES for t in items):
            return items
        return [t if t[0] in _LINE_CODES else _extra(t, base, ctx.file) for t in items]
    kind = ctx.kind
    website_id = ctx.website_id
    file = ctx.file
    actions = {a.value: a for a in Action}
    review_twin, reply_twin, row_twin = _REVIEW_TWIN, _REPLY_TWIN, _ROW_TWIN
    review_cls, reply_cls, row_cls = Review, Reply, Row
    int_ = int
    out: list = []
    append = out.append
    for t in items:
        n = len(t)
        if n == 13:
            act, ident, rid, ref, pname, rating, text, author, date, odate, replies, oref, w = t
            if replies:
                made = []
                for r in replies:
                    reply = reply_twin(*r)
                    reply.__class__ = reply_cls
                    made.append(reply)
                replies = tuple(made)
            review = review_twin(
                kind, website_id, ident, rid, ref, pname, rating, text, author, date, odate,
                replies, oref,
            )  # fmt: skip
            review.__class__ = review_cls
            where = f"line {base + w}" if w.__class__ is int_ else _rebase(w, base)
            row = row_twin(actions[act], kind, website_id, ident, review, where)
            row.__class__ = row_cls
            append(row)
        elif n == 3:
            act, ident, w = t
            row = row_twin(actions[act], kind, website_id, ident, None, _rebase(w, base))
            row.__class__ = row_cls
            append(row)
        else:
            append(_extra(t, base, file))
    return out


def _extra(t: tuple, base, file: str) -> RowProblem | VendorAverage:
    """A worker's problem ("!", ...) or vendor average ("~", ...) tuple, rebuilt."""
    if t[0] == "!":
        _, w, field, message = t
        return RowProblem(file, _rebase(w, base), field, message)
    _, ref, average, count, w = t
    return VendorAverage(ref, average, count, _rebase(w, base))


def read_split(
    path: Path, ctx: Context, table: dict, state: _State
) -> Iterator[Row | RowProblem | VendorAverage]:
    """Read `path` in two processes; returns None when done, else the state to read on with.

    A returned state has read nothing, or is set to skip the rows already handed
    out: the caller reads the file alone from its start (see the module doc).
    """
    try:
        size = path.stat().st_size
    except OSError:
        return state  # the caller's own read names the error
    threshold = ctx.parallel_from
    if threshold is None or size < threshold or not sys.executable or _cpus() < 2:
        return state
    if busy():
        logger.debug("[review-feed] %s: no idle core; read in one process", ctx.file)
        return state
    try:
        plan = _plan(path, size, _HEAD_SHARE_LINES if ctx.lines else _HEAD_SHARE)
    except OSError:
        return state
    if plan is None:
        return state
    cut, cells = plan
    complete = state.complete
    proc = _start_worker(path, ctx, table, cut, cells, complete)
    if proc is None:
        return state
    try:
        # the head: the rows and rules of a single read, up to the cut
        state.complete = True  # the head ends with a line break
        try:
            with _open_text(path, 0, cut) as head:
                yield from read_batches(Cells(head, ctx.limit), state)
        except FeedFileError as exc:
            # maybe only the cut (inside a quoted cell): a single read decides
            logger.debug("[review-feed] %s: split read stopped (%s); read alone", ctx.file, exc)
            return _again(state, complete)
        if not _same_header(state, ctx, table, cells):
            logger.debug("[review-feed] %s: header differs from its peek; read alone", ctx.file)
            return _again(state, complete)
        base = state.prev
        # the tail: the worker's rows, in order
        for status, lines, items in _frames(proc):
            if status == _ERROR:
                break
            if items:
                out = _rebuild(items, base, ctx)
                state.handed = base + lines
                if ctx.lines:
                    yield out
                else:
                    yield from out
            if status == _END:
                return None
        # the worker failed (an error in the tail, or it died): read the tail alone,
        # past what was handed out, so the error is a single read's
        _stop(proc)
        state.complete = complete
        state.off = state.prev = base
        state.skip_to = state.handed
        with _open_text(path, cut, None) as tail:
            yield from read_batches(Cells(tail, ctx.limit), state)
        return None
    finally:
        _stop(proc)


def _again(state: _State, complete: bool) -> _State:
    fresh = _State(state.ctx, state.path, state.table, complete)
    if state.handed and state.layout is not None:
        fresh.layout, fresh.columns, fresh.ncols = state.layout, state.columns, state.ncols
        fresh.get = state.get
        fresh.skip_to = state.handed
    return fresh


def _same_header(state: _State, ctx: Context, table: dict, cells: list[str]) -> bool:
    probe = _State(ctx, state.path, table, True)
    try:
        probe._start(list(cells))
    except FeedFileError:
        return False
    return (probe.layout, probe.ncols, probe.columns) == (state.layout, state.ncols, state.columns)


# --- the worker process ------------------------------------------------------


class FrameSender:
    """A worker's output: marshalled frames, each after its length, on stdout (a file).

    Nothing tells a worker writing to a file that its parent is gone (a killed sync):
    it checks after each frame, and stops when it was handed to another parent."""

    def __init__(self) -> None:
        self._out = sys.stdout.buffer
        self._parent = os.getppid()

    def put(self, status: int, lines: int, items: list) -> None:
        body = marshal.dumps((status, lines, items))
        self._out.write(_FRAME.pack(len(body)))
        self._out.write(body)
        if os.getppid() != self._parent:
            raise SystemExit(1)  # no one reads on

    def close(self) -> None:
        with contextlib.suppress(OSError):  # the parent then reads the tail alone
            self._out.flush()


def worker_job() -> tuple[dict, Context, dict, Path]:
    """The job the parent wrote on stdin (see `spawn_worker`), and its parts."""
    job = json.loads(sys.stdin.buffer.read())
    ctx = Context(
        job["file"],
        job["kind"],
        job["website_id"],
        job["limit"],
        job["store_order_ref"],
        compact=True,
        lines=job["lines"],
    )
    table = {k: tuple(v) for k, v in job["table"].items()}
    return job, ctx, table, Path(job["path"])


def worker() -> None:
    """Entry point of the worker process: a job (JSON) on stdin, frames on stdout."""
    out = FrameSender()
    put = out.put
    state = None
    try:
        job, ctx, table, path = worker_job()
        state = _State(ctx, path, table, job["complete"])
        state._start(list(job["cells"]))
        csv.field_size_limit(ctx.limit)  # this process reads nothing else
        with _open_text(path, job["cut"], None) as tail:
            reader = Cells(tail, ctx.limit)
            while True:
                batch: list = []
                done = state.batch(reader, batch)
                put(_ROWS, state.prev, [_compact(x) for x in batch])
                if done:
                    break
        put(_END, state.prev, [])
    except Exception:  # any failure: the parent reads the tail alone
        put(_ERROR, state.prev if state is not None else 0, [])
    out.close()


def _compact(item):
    cls = item.__class__
    if cls is tuple:
        return item
    if cls is RowProblem:
        return ("!", item.where, item.field, item.message)
    return ("~", item.product_ref, item.average, item.count, item.where)
