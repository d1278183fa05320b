"""The collector is paused while a file is read and always comes back as it was."""

from __future__ import annotations

import gc

import pytest
from feed_helpers import PRODUCT_HEADER, product_row, stream, tsv
from review_feed.errors import FeedFileError

XML = "<reviews>" + '<review action="NEW"><product_review_id>P1</product_review_id></review>' * 3


@pytest.fixture
def gc_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:  # pragma: no cover - pytest runs with the collector on
        gc.disable()


@pytest.mark.parametrize("ext", ["csv", "xml"])
def test_paused_while_reading_and_restored_at_the_end(tmp_path, gc_on, ext):
    text = (
        tsv(PRODUCT_HEADER, *(product_row() for _ in range(3)))
        if ext == "csv"
        else XML + "</reviews>"
    )
    seen = [gc.isenabled() for _ in stream(tmp_path, text, ext=ext)]
    assert seen == [False] * 3
    assert gc.isenabled()


@pytest.mark.parametrize("ext", ["csv", "xml"])
def test_restored_after_a_file_error(tmp_path, gc_on, ext):
    text = tsv(PRODUCT_HEADER, product_row()) + 'NEW\t"open' if ext == "csv" else XML + "<oops>"
    with pytest.raises(FeedFileError):
        for _ in stream(tmp_path, text, ext=ext):
            assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_when_the_reader_is_left_early(tmp_path, gc_on):
    rows = stream(tmp_path, tsv(PRODUCT_HEADER, *(product_row() for _ in range(3))))
    next(rows)
    assert not gc.isenabled()
    rows.close()
    assert gc.isenabled()


def test_left_off_when_it_was_off(tmp_path, gc_on):
    gc.disable()
    list(stream(tmp_path, tsv(PRODUCT_HEADER, product_row())))
    assert not gc.isenabled()


def test_rows_are_handed_over_as_old_objects(tmp_path, gc_on):
    # no collector pass owed for them: they are in the oldest generation already
    rows = list(stream(tmp_path, tsv(PRODUCT_HEADER, *(product_row() for _ in range(50)))))
    oldest = {id(x) for x in gc.get_objects(generation=2)}
    assert all(id(r) in oldest and id(r.review) in oldest for r in rows)


def test_objects_frozen_on_purpose_stay_frozen(tmp_path, gc_on):
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        list(stream(tmp_path, tsv(PRODUCT_HEADER, product_row())))
        # A frozen object freed meanwhile lowers the count a little; an unfreeze
        # (what this guards against) would drop it to 0.
        assert gc.get_freeze_count() >= frozen - 1000
    finally:
        gc.unfreeze()
