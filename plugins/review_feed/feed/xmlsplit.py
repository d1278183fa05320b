"""A big XML file read by two processes: this one reads the head, a worker the tail.

The same scheme as csvsplit (see there), for XML:

- the cut is right before a line that starts a `<review` element (and closes
  nothing), a little past the middle;
- this process parses the head as the bytes [0, cut) followed by the root's
  closing tag. That is well-formed only when the cut sits between two children
  of the root (not inside a record, a comment or a CDATA section): a head
  parsed without error proves the cut is a record boundary;
- the worker parses the root's start tag (with its namespace declarations and
  everything before it) followed by the bytes [cut, end): the same records,
  in the same context, as a single read. It sends them as plain tuples with
  their count and line relative to the cut; this process adds the head's;
- anything unusual makes this process read the file alone, past the records
  already handed out, so rows, places and error messages are a single read's.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from ..errors import FeedFileError
from ..model import Row, RowProblem
from . import csvsplit
from .build import Context
from .csvsplit import (
    _END,
    _ERROR,
    _ROWS,
    FrameSender,
    _compact,
    _cpus,
    _frames,
    _rebuild,
    _stop,
    spawn_worker,
    worker_job,
)
from .xmlfile import records

logger = logging.getLogger("review_feed.feed")

_HEAD_SHARE = 0.52  # this process also rebuilds the worker's rows
_HEAD_SHARE_LINES = 0.47  # ... or, with LineRows, folds every row (as csvsplit)
_SCAN = 1 << 22
_PROLOG = 1 << 16
_BATCH = 2048


def _lines(data: bytes) -> int:
    """Line breaks as libxml2 counts them (CRLF, CR and LF each one)."""
    n = data.count(b"\n")
    if b"\r" in data:
        n += data.count(b"\r") - data.count(b"\r\n")
    return n


def _root_tag(buf: bytes) -> tuple[int, bytes] | None:
    """(end of the root's start tag, its name) from the file's first bytes."""
    pos = 3 if buf.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while pos < len(buf) and buf[pos] in b" \t\r\n":
            pos += 1
        if buf.startswith(b"<?", pos):
            end = buf.find(b"?>", pos)
            if end < 0:
                return None
            pos = end + 2
        elif buf.startswith(b"<!--", pos):
            end = buf.find(b"-->", pos)
            if end < 0:
                return None
            pos = end + 3
        elif buf.startswith(b"<", pos) and not buf.startswith(b"<!", pos):
            break
        else:
            return None
    name_end = pos + 1
    while name_end < len(buf) and buf[name_end] not in b" \t\r\n/>":
        name_end += 1
    name = buf[pos + 1 : name_end]
    quote = None
    for i in range(name_end, len(buf)):
        c = buf[i]
        if quote is not None:
            if c == quote:
                quote = None
        elif c in b"\"'":
            quote = c
        elif c == ord(">"):
            if buf[i - 1] == ord("/"):
                return None  # an empty root
            return i + 1, name
    return None


def _plan(path: Path, size: int, share: float = _HEAD_SHARE) -> tuple[int, bytes, int] | None:
    """(end of the root's start tag, root name, cut), or None."""
    with path.open("rb") as fh:
        root = _root_tag(fh.read(_PROLOG))
        if root is None or not root[1]:
            return None
        root_end, name = root
        start = max(int(size * share), root_end)
        fh.seek(start)
        data = fh.read(_SCAN)
    i = data.find(b"\n<review")
    while i >= 0:
        after = data[i + 8 : i + 9]
        eol = data.find(b"\n", i + 1)
        if eol < 0:
            return None
        if after and after in b" \t\r\n>" and b"</" not in data[i + 1 : eol]:
            return root_end, name, start + i + 1
        i = data.find(b"\n<review", i + 1)
    return None


class _Head:
    """Bytes [0, cut) of the file, then the root's closing tag."""

    def __init__(self, path: Path, cut: int, name: bytes):
        self._fh = path.open("rb")
        self._left = cut
        self._close = b"</" + name + b">"

    def read(self, n: int = -1) -> bytes:
        if self._left > 0:
            data = self._fh.read(min(n, self._left) if n > 0 else self._left)
            self._left -= len(data)
            if data:
                return data
            self._left = 0
        out, self._close = self._close, b""
        return out

    def close(self) -> None:
        self._fh.close()


class _Tail:
    """The prolog and the root's start tag, then bytes [cut, end) of the file."""

    def __init__(self, path: Path, root_end: int, cut: int):
        self._fh = path.open("rb")
        self._prolog = self._fh.read(root_end)
        self._fh.seek(cut)

    def read(self, n: int = -1) -> bytes:
        if self._prolog:
            out, self._prolog = self._prolog, b""
            return out
        return self._fh.read(n)

    def close(self) -> None:
        self._fh.close()


def _start_worker(path: Path, ctx: Context, table: dict, root_end: int, cut: int):
    job = {"path": str(path), "root_end": root_end, "cut": cut, "table": table}
    return spawn_worker("xmlsplit", ctx, job)


def _head_lines(path: Path, cut: int) -> int:
    n = 0
    with path.open("rb") as fh:
        left = cut
        while left > 0:
            data = fh.read(min(left, 1 << 24))
            if not data:
                break
            left -= len(data)
            n += _lines(data)
            if data.endswith(b"\r") and left > 0:
                # a CRLF split between two reads counts once
                nxt = fh.read(1)
                fh.seek(-1, 1)
                if nxt == b"\n":
                    n -= 1
    return n


def read_split(path: Path, ctx: Context, table: dict) -> Iterator[Row | RowProblem]:
    """Read `path` in two processes; returns None when done, else how many records
    were handed out (the caller reads the file alone past them)."""
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    threshold = ctx.parallel_from
    if threshold is None or size < threshold or not sys.executable or _cpus() < 2:
        return 0
    if csvsplit.busy():
        logger.debug("[review-feed] %s: no idle core; read in one process", ctx.file)
        return 0
    try:
        plan = _plan(path, size, _HEAD_SHARE_LINES if ctx.lines else _HEAD_SHARE)
    except OSError:
        return 0
    if plan is None:
        return 0
    root_end, name, cut = plan
    proc = _start_worker(path, ctx, table, root_end, cut)
    if proc is None:
        return 0
    handed = 0
    try:
        head = _Head(path, cut, name)
        try:
            for item in records(head, path, ctx, table):
                handed += 1
                yield item
        except FeedFileError as exc:
            # maybe only the cut (inside a record): a single read decides
            logger.debug("[review-feed] %s: split read stopped (%s); read alone", ctx.file, exc)
            return handed
        finally:
            head.close()
        base = (handed, _head_lines(path, cut))
        for status, _, items in _frames(proc):
            if status == _ERROR:
                return handed  # an error in the tail, or the worker died
            if items:
                out = _rebuild(items, base, ctx)
                handed += len(out)
                yield from out
            if status == _END:
                return None
        return handed  # pragma: no cover - _frames always ends with _END or _ERROR
    finally:
        _stop(proc)


# --- the worker process ------------------------------------------------------


def worker() -> None:
    """Entry point of the worker process: a job (JSON) on stdin, frames on stdout."""
    out = FrameSender()

    def put(status: int, items: list) -> None:
        out.put(status, 0, items)

    try:
        job, ctx, table, path = worker_job()
        tail = _Tail(path, job["root_end"], job["cut"])
        try:
            # its lines count from the cut: minus the prolog's own line breaks
            batch: list = []
            append = batch.append
            for item in records(tail, path, ctx, table, line_off=-_lines(tail._prolog)):
                append(_compact(item))
                if len(batch) == _BATCH:
                    put(_ROWS, batch)
                    batch = []
                    append = batch.append
            put(_ROWS, batch)
        finally:
            tail.close()
        put(_END, [])
    except Exception:  # any failure: the parent reads the file alone
        put(_ERROR, [])
    out.close()
