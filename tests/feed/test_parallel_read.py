"""A large CSV file read by two processes: the same rows, refusals and snapshot as one process.

`read_staged` takes the size threshold and the chunk size as parameters, so small files
here are cut into many chunks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import pytest
from feed_helpers import PRODUCT_HEADER, name_for, product_row, tsv
from review_feed import parallel
from review_feed.errors import FeedFileError
from review_feed.feed import FeedOptions, Span, read_feed
from review_feed.parallel import read_staged
from review_feed.staging import Tally
from review_feed.store import Snapshot

ONE = 1 << 40  # a threshold no test file reaches: one process


def _helpers(parent: int | None = None) -> list[int]:
    """The helper processes a process started (this one by default) and has not reaped."""
    parent = os.getpid() if parent is None else parent
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and _parent(d) == parent:
            try:
                cmd = (d / "cmdline").read_bytes()
            except OSError:
                continue
            if b"review_feed.parallel" in cmd or not cmd:  # no command line: a zombie
                found.append(int(d.name))
    return found


def _parent(proc_dir: Path) -> int:
    try:
        return int((proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _read(path: Path, *, threshold: int, chunk: int = 4096) -> tuple[list, Tally]:
    tally = Tally()
    with closing(
        read_staged(path, name_for(), FeedOptions(), False, tally, threshold=threshold, chunk=chunk)
    ) as rows:
        return list(rows), tally


def _assert_same(path: Path, chunk: int) -> list:
    one, one_tally = _read(path, threshold=ONE)
    two, two_tally = _read(path, threshold=1, chunk=chunk)
    assert two == one
    assert two_tally == one_tally
    assert _helpers() == []
    return one


def _tricky(i: int) -> str:
    """A review text with line breaks, tabs and quotes; some of its lines look like rows."""
    kinds = (
        "plain text {i}",
        '"two\nlines {i}"',
        '"ends with a break\n"',
        '"NEW\tlooks\tlike a row {i}\nNEW\tPR{i}\tand another"',
        '"""quoted"" start\n""and"" more\t{i}"',
        '"\n\n\nblank lines {i}\n"',
    )
    return kinds[i % len(kinds)].format(i=i)


def _big_file(tmp_path: Path, n: int = 600, *, bad: dict[int, dict] | None = None) -> Path:
    rows = []
    for i in range(n):
        over = {"product_review_id": f"P{i % 250}", "review": _tricky(i)}
        if i % 7 == 3:
            over["action"] = "UPDATE"
        if i % 11 == 5:
            over["action"] = "DELETE"
        over.update((bad or {}).get(i, {}))
        rows.append(product_row(**over))
    path = tmp_path / name_for().name
    path.write_text(tsv(PRODUCT_HEADER, *rows), encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize("chunk", [1000, 1777, 4096, 9001])
def test_two_processes_stage_exactly_what_one_does(tmp_path, chunk):
    path = _big_file(tmp_path, bad={40: {"rate": "x"}, 410: {"review_date": "soon"}})
    assert len(parallel.plan(path, chunk)) > 5  # many chunks
    rows = _assert_same(path, chunk)
    assert len(rows) == 598


def test_the_snapshot_is_byte_for_byte_the_same(tmp_path):
    path = _big_file(tmp_path)
    trees = []
    for threshold, where in ((ONE, "one"), (1, "two")):
        with Snapshot(tmp_path / where) as snap:
            tally = Tally()
            rows = read_staged(
                path, name_for(), FeedOptions(), False, tally, threshold=threshold, chunk=2000
            )
            with closing(rows):
                snap.apply_staged(("product", "acme-7f3a"), rows)
            snap.commit()
        root = tmp_path / where
        trees.append({p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()})
    assert trees[0] == trees[1] and len(trees[0]) > 2


def test_a_range_cut_inside_a_quoted_cell_reads_on_to_the_record_end(tmp_path):
    # every line start of the file as a cut: the first range ends exactly where its last
    # record does, and reading on from there gives the rest of the file, line numbers kept
    path = _big_file(tmp_path, 40)
    data = path.read_bytes()
    whole = list(read_feed(path, name_for()))
    starts = [i + 1 for i, b in enumerate(data) if b == 10 and i + 1 < len(data)]
    inside = 0
    for line, cut in enumerate(starts, 2):
        head = Span(0, cut, 1)
        items = list(read_feed(path, name_for(), span=head))
        rest = Span(head.stop, None, 1 + head.lines)
        items += list(read_feed(path, name_for(), span=rest))
        assert items == whole
        inside += head.stop != cut
        if head.stop == cut:
            assert head.lines == line - 1
    assert inside > 20  # many cuts fell inside quoted cells


def test_problems_and_their_lines_in_a_later_chunk(tmp_path):
    path = _big_file(tmp_path, bad={550: {"rate": "7"}})
    one, tally = _read(path, threshold=ONE)
    two, tally2 = _read(path, threshold=1, chunk=2000)
    assert two == one and tally2.problems == tally.problems
    [problem] = tally2.problems
    data = path.read_bytes()
    line = data[: data.index(b"\t7\t")].count(b"\n") + 1
    assert f"line {line}, field rate" in problem and line > 900


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda b: b[:-300] + b"\xe9" + b[-300:], "not UTF-8"),
        (lambda b: b + b'NEW\tR9\tP9\tS\t"never closed\n', "never closed"),
        (lambda b: b + b"NEW\t" + b"x" * 5000 + b"\n", "REVIEW_FEED_MAX_FIELD_SIZE"),
    ],
)
def test_a_file_broken_in_a_later_chunk_is_refused_whole(tmp_path, damage, words):
    path = _big_file(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    options = FeedOptions(max_field_size=4000)
    messages = []
    for threshold in (ONE, 1):
        with pytest.raises(FeedFileError) as info:
            tally = Tally()
            rows = read_staged(
                path, name_for(), options, False, tally, threshold=threshold, chunk=1500
            )
            with closing(rows):
                list(rows)
        messages.append(str(info.value))
    assert messages[0] == messages[1] and words in messages[0]
    assert "line " in messages[0] and "\n" not in messages[0]
    # applied through the store: nothing of it stays
    with Snapshot(tmp_path / "snap") as snap:
        rows = read_staged(path, name_for(), options, False, Tally(), threshold=1, chunk=1500)
        with pytest.raises(FeedFileError), closing(rows):
            snap.apply_staged(("product", "acme-7f3a"), rows)
        assert snap.count("product", "acme-7f3a") == 0 and snap.changes() == {}
    assert _helpers() == []


def test_a_dead_helper_is_one_line_not_a_hang(tmp_path):
    path = _big_file(tmp_path, 3000)
    tally = Tally()
    rows = read_staged(path, name_for(), FeedOptions(), False, tally, threshold=1, chunk=2000)
    started = time.monotonic()
    with closing(rows), pytest.raises(FeedFileError) as info:
        next(rows)
        [helper] = _helpers()
        os.kill(helper, signal.SIGKILL)
        for _ in rows:
            pass
    assert time.monotonic() - started < 30
    msg = str(info.value)
    assert "\n" not in msg and "helper process" in msg and "signal 9" in msg
    assert msg.startswith(name_for().name)
    assert _helpers() == []


def test_no_process_is_left_when_the_reading_stops_early(tmp_path):
    path = _big_file(tmp_path, 3000)
    rows = read_staged(path, name_for(), FeedOptions(), False, Tally(), threshold=1, chunk=2000)
    next(rows)
    assert len(_helpers()) == 1
    rows.close()
    assert _helpers() == []


def test_a_small_file_starts_no_process(tmp_path):
    path = _big_file(tmp_path)
    rows = read_staged(path, name_for(), FeedOptions(), False, Tally(), threshold=1 << 20)
    next(rows)
    assert _helpers() == []
    rows.close()


def test_ctrl_c_leaves_nothing_running(tmp_path):
    path = _big_file(tmp_path, 20000)
    script = textwrap.dedent(
        f"""
        import signal, time
        from pathlib import Path
        from feed_helpers import name_for
        from review_feed.feed import FeedOptions
        from review_feed.parallel import read_staged
        from review_feed.staging import Tally
        signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever was inherited
        rows = read_staged(Path({str(path)!r}), name_for(), FeedOptions(), False, Tally(),
                           threshold=1, chunk=2000)
        for n, _ in enumerate(rows):
            if n == 0:
                print("reading", flush=True)
            time.sleep(0.001)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout.readline() == b"reading\n"
    [helper] = _helpers(proc.pid)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert b"KeyboardInterrupt" in err  # the script's own, not the helper's
    assert not _running(helper)
