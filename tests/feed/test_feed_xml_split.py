"""A big XML file read by two processes gives what one reader gives."""

from __future__ import annotations

import pytest
from feed_helpers import write
from review_feed.errors import FeedFileError
from review_feed.feed import FeedOptions, csvsplit, read_feed, xmlsplit


def record(i: int) -> str:
    rate = "6" if i % 13 == 0 else "4"
    action = "DELETE" if i % 17 == 0 else "NEW"
    text = f"Très bon\nsur deux lignes {i}" if i % 7 == 0 else f"Bon {i}"
    moderation = (
        "<moderation>\n<exchange><date>2026-11-20 10:00:00</date><author>2</author>"
        "<comment>Merci !</comment></exchange>\n</moderation>\n"
        if i % 5 == 0
        else ""
    )
    return (
        f'<review action="{action}">\n<product_review_id>PR{i}</product_review_id>\n'
        f"<review_id>R{i}</review_id>\n<product_ref>SKU-{i % 9}</product_ref>\n"
        f"<review_date>2026-11-19 18:04:11</review_date>\n<rate>{rate}</rate>\n"
        f"<review>{text}</review>\n<firstname>Eva</firstname>\n<lastname>G</lastname>\n"
        f"{moderation}</review>\n"
    )


def doc(n: int, root: str = "<export>", end: str = "</export>", middle: str = "") -> str:
    half = n // 2
    body = "".join(record(i) for i in range(half)) + middle
    body += "".join(record(i) for i in range(half, n))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{root}\n{body}{end}\n'


def both(path, name):
    out = []
    for parallel_from in (1, None):
        try:
            out.append(list(read_feed(path, name, FeedOptions(parallel_from=parallel_from))))
        except FeedFileError as exc:
            out.append(str(exc))
    return out


@pytest.fixture(autouse=True)
def idle(monkeypatch):
    # the split is used only with an idle core: a loaded test machine must not skip it
    monkeypatch.setattr(csvsplit, "busy", lambda: False)


@pytest.fixture
def spy(monkeypatch):
    calls = {"rebuilt": 0}
    rebuild = csvsplit._rebuild

    def rebuild_spy(items, base, ctx):
        calls["rebuilt"] += len(items)
        return rebuild(items, base, ctx)

    monkeypatch.setattr(xmlsplit, "_rebuild", rebuild_spy)
    return calls


@pytest.mark.parametrize(
    "root,end",
    [
        ("<export>", "</export>"),
        ('<ns:feed xmlns:ns="urn:x" xmlns="urn:default" note="a>b">', "</ns:feed>"),
    ],
)
def test_split_read_equals_a_single_read(tmp_path, spy, root, end):
    path, name = write(tmp_path, doc(2000, root, end), ext="xml")
    split, single = both(path, name)
    assert split == single and len(single) == 2000
    assert spy["rebuilt"] > 500  # the worker read the tail
    assert {x.__class__.__name__ for x in split} == {"Row", "RowProblem"}


def test_cut_inside_a_comment_or_deeper_falls_back(tmp_path, spy):
    fake = "".join(record(9000 + i) for i in range(1500))
    path, name = write(tmp_path, doc(400, middle=f"<!--\n{fake}-->\n"), ext="xml")
    split, single = both(path, name)
    assert split == single and len(single) == 400
    path, name = write(tmp_path, doc(1000, "<export><reviews>", "</reviews></export>"), ext="xml")
    split, single = both(path, name)
    assert split == single and len(single) == 1000


@pytest.mark.parametrize("where", ["head", "tail"])
def test_errors_are_the_single_reads(tmp_path, spy, where):
    text = doc(2000)
    if where == "tail":
        text = text.replace("</export>", "<oops></export>")
    else:
        text = text.replace("<review_id>R3</review_id>", "<review_id>R3</reviewid>")
    path, name = write(tmp_path, text, ext="xml")
    split, single = both(path, name)
    assert isinstance(single, str) and "not well-formed" in single and split == single


def test_lines_count_crlf_like_libxml2(tmp_path, spy):
    path, name = write(tmp_path, doc(1500).replace("\n", "\r\n"), ext="xml")
    split, single = both(path, name)
    assert split == single and spy["rebuilt"] > 0
