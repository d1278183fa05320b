"""A review's snapshot line: built with its keys in order, it must equal the sorted encoding."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st
from review_feed.model import Reply, Review
from review_feed.store.records import encode_line, review_line

maybe = st.none() | st.text(max_size=5)
reply = st.builds(Reply, st.none() | st.text(max_size=5), st.text(max_size=5), st.text(max_size=5))
reviews = st.builds(
    Review,
    st.sampled_from(["site", "product"]),
    st.just("acme"),
    st.text(min_size=1, max_size=5),
    maybe,
    maybe,
    maybe,
    st.integers(1, 5) | st.sampled_from([1.5, 4.5]),
    st.text(max_size=5),
    st.text(max_size=5),
    st.just("2026-11-20T10:00:00"),
    maybe,
    st.lists(reply, max_size=2).map(tuple),
    maybe,
)


@given(reviews, st.booleans())
def test_review_line_is_the_sorted_encoding_of_the_stored_record(review, keep_order_ref):
    rec = review.to_record()
    del rec["kind"], rec["website_id"]
    rec = {k: v for k, v in rec.items() if v is not None and v != []}
    if not keep_order_ref:
        rec.pop("order_ref", None)
    line = review_line(review, keep_order_ref)
    assert line == encode_line(rec)
    assert line == orjson.dumps(rec, option=orjson.OPT_SORT_KEYS)
