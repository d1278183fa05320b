"""The full-load fast path: `read_lines` gives, row for row, what `read_feed` gives.

Each valid Row must come out as the LineRow the store would make of it
(action, id, date, the canonical line of its record), problems and vendor
averages as they are, in file order, whether the file is read by one
process or two (CSV and XML), and whatever the options. The `Cells` reader
behind the CSV path must give exactly the csv module's rows and line numbers.
"""

from __future__ import annotations

import csv
import io
from itertools import chain

import pytest
from feed_helpers import PRODUCT_HEADER, SITE_HEADER, site_row, tsv, write
from hypothesis import given, settings
from hypothesis import strategies as st
from review_feed.errors import FeedFileError
from review_feed.feed import FeedOptions, csvsplit, read_feed, read_lines
from review_feed.feed.csvfile import _TSV, Cells
from review_feed.model import Row, encode_line
from review_feed.store import line_record
from test_feed_split import csv_text, legacy, rows
from test_feed_xml_split import doc


@pytest.fixture(autouse=True)
def idle(monkeypatch):
    # the split is used only with an idle core: a loaded test machine must not skip it
    monkeypatch.setattr(csvsplit, "busy", lambda: False)


def as_line(item, keep_order_ref: bool):
    if item.__class__ is not Row:
        return item
    if item.review is None:
        return (item.action.value, item.id, None, None)
    line = encode_line(line_record(item.review, keep_order_ref))
    return (item.action.value, item.id, item.review.date, line)


def lines_and_rows(path, name, **kw):
    """[(read_lines, read_feed as LineRows)] for a split and a single read."""
    out = []
    keep = kw.get("store_order_ref", False)
    for parallel_from in (1, None):
        options = FeedOptions(parallel_from=parallel_from, **kw)
        try:
            batches = list(read_lines(path, name, options))
            got = list(chain.from_iterable(batches))
            assert all(isinstance(b, list) for b in batches)
        except FeedFileError as exc:
            got = str(exc)
        try:
            want = [as_line(x, keep) for x in read_feed(path, name, options)]
        except FeedFileError as exc:
            want = str(exc)
        out.append((got, want))
    return out


def test_csv_lines_equal_rows_split_and_single(tmp_path):
    path, name = write(tmp_path, csv_text([PRODUCT_HEADER, *rows(3000)]))
    (split, want1), (single, want2) = lines_and_rows(path, name)
    assert split == want1 == single == want2
    assert len(single) == 3000
    kinds = {x[0] if isinstance(x, tuple) else x.__class__.__name__ for x in single}
    assert kinds == {"NEW", "DELETE", "RowProblem"}
    # a line is the record's canonical JSON: sorted keys, UTF-8, no e-mail
    line = next(x[3] for x in single if isinstance(x, tuple) and x[3])
    assert line.startswith(b'{"author":') and b"@" not in line


def test_site_lines_with_order_refs_kept(tmp_path):
    body = [site_row(review_id=f"R{i}", order_ref=f"CMD-{i}") for i in range(2000)]
    path, name = write(tmp_path, csv_text([SITE_HEADER, *body]), kind="site")
    (split, want1), (single, want2) = lines_and_rows(path, name, store_order_ref=True)
    assert split == want1 == single == want2 and len(single) == 2000
    assert b'"order_ref":"CMD-5"' in single[5][3]


def test_legacy_lines_with_averages(tmp_path):
    path, name = write(tmp_path, tsv(*(legacy(i) for i in range(3000))))
    (split, want1), (single, want2) = lines_and_rows(path, name)
    assert split == want1 == single == want2 and len(single) == 3000
    assert sum(1 for x in single if x.__class__.__name__ == "VendorAverage") == 60


def test_xml_lines_equal_rows_split_and_single(tmp_path):
    path, name = write(tmp_path, doc(3000), ext="xml")
    (split, want1), (single, want2) = lines_and_rows(path, name)
    assert split == want1 == single == want2 and len(single) == 3000


def test_a_broken_file_is_the_same_error(tmp_path):
    data = csv_text([PRODUCT_HEADER, *rows(2000)]) + 'NEW\t"never closed\n'
    path, name = write(tmp_path, data)
    (split, want1), (single, want2) = lines_and_rows(path, name)
    assert isinstance(single, str) and split == want1 == single == want2


def test_the_worker_writes_to_a_file_it_follows(tmp_path, monkeypatch):
    """The worker's frames go through a temp file: a worker killed after its first frame
    makes the parent read the tail itself, and no file is left behind."""
    import tempfile

    made = []
    spawn = csvsplit.spawn_worker

    def spawn_and_kill(module, ctx, job):
        w = spawn(module, ctx, job)
        made.append(w)
        head = w.read(4)  # wait for the first frame, then kill the worker
        w.pos = 0
        assert len(head) == 4
        w.proc.kill()
        return w

    monkeypatch.setattr(csvsplit, "spawn_worker", spawn_and_kill)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path, name = write(tmp_path, csv_text([PRODUCT_HEADER, *rows(20000)]))
    got = [x for b in read_lines(path, name, FeedOptions(parallel_from=1)) for x in b]
    monkeypatch.setattr(csvsplit, "spawn_worker", spawn)
    want = [as_line(x, False) for x in read_feed(path, name, FeedOptions(parallel_from=None))]
    assert got == want and made and made[0].fd == -1
    assert list((tmp_path / "tmp").iterdir()) == []  # unlinked at once


# --- Cells: the csv module's rows and line numbers ------------------------------------------

ALPHABET = ["a", "é", "🙂", " ", "\t", "\n", "\r", "\r\n", '"', '""', '\t"', '"\n', "\x00", "x" * 9]


def _read(make, text: str, limit: int):
    out: list = []
    old = csv.field_size_limit(limit)
    try:
        reader = make(io.StringIO(text, newline=""))
        for row in reader:
            out.append((row, reader.line_num))
    except csv.Error as exc:
        out.append(("error", str(exc), reader.line_num))
    finally:
        csv.field_size_limit(old)
    return out


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(st.sampled_from(ALPHABET), max_size=30),
    limit=st.sampled_from([16, 1 << 20]),
)
def test_cells_reads_what_the_csv_module_reads(parts, limit):
    text = "".join(parts)
    want = _read(lambda fh: csv.reader(fh, _TSV), text, limit)
    got = _read(lambda fh: Cells(fh, limit), text, limit)
    assert got == want


def test_cells_takes_the_fast_path_and_the_csv_module_in_turn():
    text = 'a\tb\n"q\nq"\tc\r\n\nd\x00\te\n"x"y\n'
    got = _read(lambda fh: Cells(fh, 1 << 20), text, 1 << 20)
    assert got == _read(lambda fh: csv.reader(fh, _TSV), text, 1 << 20)
    assert got[:4] == [(["a", "b"], 1), (["q\nq", "c"], 3), ([], 4), (["d\x00", "e"], 5)]
    assert got[4][0] == "error" and "expected after" in got[4][1]  # a stray quote


DRIVER = """
import sys, time
from pathlib import Path
from review_feed.feed import FeedOptions, csvsplit, read_lines
from review_feed.sources.names import parse_name

csvsplit.busy = lambda: False
spawn = csvsplit.spawn_worker

def spawn_and_say(*a):
    w = spawn(*a)
    print(w.proc.pid, flush=True)
    return w

csvsplit.spawn_worker = spawn_and_say
path = Path(sys.argv[1])
for batch in read_lines(path, parse_name(path.name), FeedOptions(parallel_from=1)):
    time.sleep(0.05)  # a slow parent: the worker is still at work when it is killed
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return any(line.split()[1:2] == ["Z"] for line in fh if line.startswith("State:"))
    except FileNotFoundError:
        return True


def test_a_worker_stops_when_its_parent_is_killed(tmp_path):
    """kill -9 of a sync mid-read: its worker (which writes to a file, not a pipe) notices
    it was handed to another parent and exits instead of parsing on for nobody."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path, _ = write(tmp_path, csv_text([PRODUCT_HEADER, *rows(300_000)]))  # ~2 s of work
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        pid = int(driver.stdout.readline())
        time.sleep(0.3)
        assert not _gone(pid)  # at work
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        deadline = time.monotonic() + 0.5  # a frame (2,048 rows) is about 20 ms of work
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _gone(pid)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
