"""A big CSV file read by two processes gives exactly what one reader gives.

`parallel_from=1` splits even a small file; `parallel_from=None` is the single
read. Spies on the parent's side show which way a file actually went (the
worker itself is a real second process).
"""

from __future__ import annotations

import json

import pytest
from feed_helpers import PRODUCT_HEADER, SITE_HEADER, product_row, site_row, tsv, write
from review_feed.errors import FeedFileError
from review_feed.feed import FeedOptions, csvsplit, read_feed

REAL_BUSY = csvsplit.busy  # before the autouse fixture replaces it
MOD = json.dumps(
    [
        {"date": "2026-11-20 10:00:00", "origin": "2", "comment": "Merci !"},
        {"date": "2026-11-21T08:00:00+01:00", "origin": "Brand", "comment": "x"},
    ]
)


def rows(n: int, start: int = 0) -> list[tuple[str, ...]]:
    out = []
    for i in range(start, start + n):
        over = {"product_review_id": f"PR{i}", "product_ref": f"SKU-{i % 7}"}
        if i % 5 == 0:
            over["moderation"] = MOD
        if i % 11 == 0:
            over["review"] = f"line one\r\nline two {i}\n\tand a tab"
        if i % 13 == 0:
            over["rate"] = "6"  # a row problem
        if i % 17 == 0:
            over["action"] = "delete"
        if i % 19 == 0:
            over["lastname"] = "Anonymous"
        out.append(product_row(**over))
    return out


def csv_text(body: list[tuple[str, ...]]) -> str:
    # quoted where needed, as the csv module writes it
    def cell(c: str) -> str:
        return '"' + c.replace('"', '""') + '"' if any(x in c for x in '"\t\r\n') else c

    return "".join("\t".join(cell(c) for c in r) + "\n" for r in body)


def both(path, name, **kw):
    """(split read, single read); each a list, or the FeedFileError message."""
    out = []
    for parallel_from in (1, None):
        try:
            out.append(list(read_feed(path, name, FeedOptions(parallel_from=parallel_from, **kw))))
        except FeedFileError as exc:
            out.append(str(exc))
    return out


@pytest.fixture(autouse=True)
def idle(monkeypatch):
    # the split is used only with an idle core: a loaded test machine must not skip it
    monkeypatch.setattr(csvsplit, "busy", lambda: False)


@pytest.fixture
def spy(monkeypatch):
    calls = {"rebuilt": 0, "again": 0}
    rebuild, again = csvsplit._rebuild, csvsplit._again

    def rebuild_spy(items, base, ctx):
        calls["rebuilt"] += len(items)
        return rebuild(items, base, ctx)

    def again_spy(state, complete):
        calls["again"] += 1
        return again(state, complete)

    monkeypatch.setattr(csvsplit, "_rebuild", rebuild_spy)
    monkeypatch.setattr(csvsplit, "_again", again_spy)
    return calls


def test_split_read_equals_a_single_read(tmp_path, spy):
    path, name = write(tmp_path, csv_text([PRODUCT_HEADER, *rows(3000)]))
    split, single = both(path, name)
    assert split == single
    assert len(single) == 3000
    assert spy["rebuilt"] > 1000 and spy["again"] == 0  # the worker read the tail
    # line numbers go on across the cut (multi-line cells included)
    wheres = [int(x.where.split()[1]) for x in split]
    assert wheres == sorted(wheres) and len(set(wheres)) == len(wheres)
    assert {x.__class__.__name__ for x in split} == {"Row", "RowProblem"}


def test_split_read_of_a_site_file_with_options(tmp_path, spy):
    body = [
        site_row(review_id=f"R{i}", order_ref=f"CMD-{i}", firstname=f"Eva{i}") for i in range(2000)
    ]
    path, name = write(tmp_path, csv_text([SITE_HEADER, *body]), kind="site")
    split, single = both(path, name, store_order_ref=True, field_map={"firstname": "lastname"})
    assert split == single and len(single) == 2000 and spy["rebuilt"] > 0
    assert single[5].review.order_ref == "CMD-5"


def test_cut_inside_a_quoted_cell_falls_back_to_a_single_read(tmp_path, spy):
    # every line of the middle review looks like a whole record, but is inside a quote
    fake = "\t".join(product_row(product_review_id="FAKE")).replace('"', "")
    big = "\n".join([fake] * 4000)
    body = [*rows(500), product_row(product_review_id="BIG", review=big), *rows(500, 500)]
    path, name = write(tmp_path, csv_text([PRODUCT_HEADER, *body]))
    split, single = both(path, name)
    assert split == single and len(single) == 1001
    assert spy["again"] == 1  # the head ended inside the quote: read again alone


@pytest.mark.parametrize(
    "tail",
    [
        'NEW\t"never closed\n',  # unterminated quote, a truncated file
        "\t".join(product_row(product_review_id="LAST"))[:30],  # cut mid-row
        "\t".join(product_row(review="caf\udce9")) + "\n",  # not UTF-8
    ],
)
def test_an_error_in_the_tail_is_the_single_reads_error(tmp_path, spy, tail):
    data = csv_text([PRODUCT_HEADER, *rows(2000)]) + tail
    path, name = write(tmp_path, data.encode("utf-8", "surrogateescape"))
    split, single = both(path, name)
    assert isinstance(single, str) and split == single


def test_an_error_in_the_head_is_the_single_reads_error(tmp_path, spy):
    body = csv_text([PRODUCT_HEADER, *rows(20)]) + 'NEW\tR\t"x"y\n' + csv_text(rows(2000))
    path, name = write(tmp_path, body)
    split, single = both(path, name)
    assert isinstance(single, str) and "stray quote" in single and split == single


def test_oversize_cell_in_the_tail(tmp_path, spy):
    body = [*rows(2000), product_row(review="x" * 5000)]
    path, name = write(tmp_path, csv_text([PRODUCT_HEADER, *body]))
    split, single = both(path, name, max_field_size=4096)
    assert isinstance(single, str) and "MAX_FIELD_SIZE" in single and split == single


def legacy(i: int) -> tuple[str, ...]:
    """A headerless row (16 + 3 cells), every 50th an AVG row."""
    if i % 50 == 0:
        return ("AVG", "", f"SKU-{i}", "4.5", "12")
    return (
        "NEW", "x", f"PR{i}", "y", f"SKU-{i % 9}", "2026-11-19 18:04:11", f"text {i}",
        "4", "Eva", "Garnier", "z", "1", "2026-11-20 10:00:00", "2", "Merci",
    )  # fmt: skip


def test_legacy_layout_split(tmp_path, spy):
    path, name = write(tmp_path, tsv(*(legacy(i) for i in range(3000))))
    split, single = both(path, name)
    assert split == single and len(single) == 3000 and spy["rebuilt"] > 1000
    assert any(x.__class__.__name__ == "VendorAverage" for x in split)


def test_no_worker_process_reads_alone(tmp_path, spy, monkeypatch):
    monkeypatch.setattr(csvsplit.sys, "executable", str(tmp_path / "no-python"))
    path, name = write(tmp_path, csv_text([PRODUCT_HEADER, *rows(1500)]))
    split, single = both(path, name)
    assert split == single and spy["rebuilt"] == 0


def test_a_worker_that_dies_is_replaced_by_a_single_read(tmp_path, spy, monkeypatch):
    frames = csvsplit._frames

    def broken(stream):
        for n, frame in enumerate(frames(stream)):
            if n == 1:
                yield csvsplit._ERROR, 0, []  # as if the stream broke after one frame
                return
            yield frame

    monkeypatch.setattr(csvsplit, "_frames", broken)
    path, name = write(tmp_path, csv_text([PRODUCT_HEADER, *rows(9000)]))
    split, single = both(path, name)
    assert split == single and 0 < spy["rebuilt"] < 4500


def test_below_the_threshold_no_worker(tmp_path, spy):
    path, name = write(tmp_path, csv_text([PRODUCT_HEADER, *rows(300)]))
    got = list(read_feed(path, name, FeedOptions(parallel_from=1 << 30)))
    assert len(got) == 300 and spy["rebuilt"] == 0


def test_leaving_early_stops_the_worker(tmp_path, monkeypatch):
    stopped = []
    stop = csvsplit._stop

    def stop_spy(proc):
        stop(proc)
        stopped.append(proc.returncode)

    monkeypatch.setattr(csvsplit, "_stop", stop_spy)
    path, name = write(tmp_path, csv_text([PRODUCT_HEADER, *rows(3000)]))
    it = read_feed(path, name, FeedOptions(parallel_from=1))
    next(it)
    it.close()
    assert stopped and stopped[-1] is not None  # the process is gone and reaped


def test_parallel_from_must_be_positive():
    with pytest.raises(ValueError):
        FeedOptions(parallel_from=0)


def test_a_busy_machine_reads_in_one_process(tmp_path, spy, monkeypatch):
    monkeypatch.setattr(csvsplit, "busy", lambda: True)
    path, name = write(tmp_path, csv_text([PRODUCT_HEADER, *rows(1500)]))
    split, single = both(path, name)
    assert split == single and spy["rebuilt"] == 0


def test_busy_reads_the_load_average(monkeypatch):
    monkeypatch.setattr(csvsplit, "_cpus", lambda: 2)
    monkeypatch.setattr(csvsplit.os, "getloadavg", lambda: (1.9, 0.0, 0.0))
    assert REAL_BUSY()
    monkeypatch.setattr(csvsplit.os, "getloadavg", lambda: (0.4, 0.0, 0.0))
    assert not REAL_BUSY()
