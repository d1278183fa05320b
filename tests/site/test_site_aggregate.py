"""The aggregate every page, widget and JSON-LD block shows."""

from collections import Counter

from review_feed.site.data import aggregate


def test_average_rounds_half_up_not_to_even():
    # 4, 4, 4, 5 -> 4.25: Python's round() gives 4.2, a shopper expects 4.3.
    agg = aggregate(Counter([4, 4, 4, 5]))
    assert agg.average == 4.3
    assert agg.average_text == "4.3"


def test_distribution_counts_halves_in_the_upper_level():
    agg = aggregate(Counter([4.5, 4.4, 1, 5]))
    assert dict(agg.distribution) == {5: 2, 4: 1, 3: 0, 2: 0, 1: 1}
    assert agg.count == 4


def test_no_reviews_has_no_average():
    agg = aggregate(Counter())
    assert agg.average is None and agg.average_text == "" and agg.count == 0
