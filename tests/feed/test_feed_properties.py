"""Property tests: whatever the text, it survives CSV quoting and XML escaping."""

from __future__ import annotations

import csv
import io
from xml.sax.saxutils import escape

from feed_helpers import PRODUCT_HEADER, name_for, product_row, read_all
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from review_feed.feed.values import normalise_date

# Any text but surrogates and NUL; CR is normalised, so compare after the same rule.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=200,
)
XML_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"),
        whitelist_characters="\t\n",
        blacklist_characters="\ufffe\uffff",
    ),
    max_size=200,
)


FIXTURE = HealthCheck.function_scoped_fixture  # tmp_path is reused: each example overwrites


def expected(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=TEXT, first=TEXT)
def test_any_text_round_trips_through_csv_quoting(tmp_path, text, first):
    buf = io.StringIO()
    # "\r\n": the writer then quotes any cell holding a CR or an LF
    w = csv.writer(buf, delimiter="\t", lineterminator="\r\n")
    w.writerow(PRODUCT_HEADER)
    w.writerow(product_row(review=text, firstname=first, lastname=""))
    name = name_for()
    path = tmp_path / name.name
    path.write_bytes(buf.getvalue().encode("utf-8"))
    parsed = read_all(path, name)
    assert parsed.problems == []
    review = parsed.rows[0].review
    assert review.text == expected(text)
    shown = expected(first) if "@" not in first else ""
    if shown.lower() == "anonymous" or not shown:
        assert review.author == "Anonymous"
    else:
        assert review.author == first.strip()


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=XML_TEXT)
def test_any_text_round_trips_through_xml(tmp_path, text):
    body = (
        '<r><review action="NEW"><product_review_id>P</product_review_id>'
        "<product_ref>S</product_ref>"
        "<review_date>2026-11-19 10:00:00</review_date><rate>5</rate>"
        f"<review>{escape(text)}</review></review></r>"
    )
    name = name_for(ext="xml")
    path = tmp_path / name.name
    path.write_bytes(body.encode("utf-8"))
    parsed = read_all(path, name)
    assert parsed.problems == []
    assert parsed.rows[0].review.text == expected(text)


@given(
    st.datetimes(timezones=st.none() | st.timezones()),
    st.sampled_from([" ", "T"]),
)
def test_dates_normalise_like_isoformat(moment, sep):
    moment = moment.replace(microsecond=0)
    raw = moment.isoformat(sep=sep)
    got = normalise_date(raw)
    want = moment.isoformat()
    if moment.utcoffset() is not None and moment.utcoffset().seconds % 60:
        assert got is None or got == want  # offsets with seconds are not a feed shape
    else:
        assert got == want
