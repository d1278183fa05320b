"""The legacy headerless product layout: 12 + 3N and 16 + 3N cells, AVG rows."""

from __future__ import annotations

import pytest
from feed_helpers import parse, tsv
from review_feed.errors import FeedFileError
from review_feed.model import Action, Reply, Row, VendorAverage


def legacy(action="NEW", prid="PR1", ref="SKU-1", replies=(), variant=12, **over):
    cells = [action, "48213", prid, "R-unknown", ref, "2026-11-19 18:04:11", "Très bon thé",
             "4", "Eva", "Garnier", "eva@example.fr"]  # fmt: skip
    if variant == 16:
        cells += [over.pop("order_date", "2026-11-10 08:00:00"), "3", "1", "aGVsbG8="]
    cells.append(over.pop("count", str(len(replies))))
    for r in replies:
        cells += list(r)
    for index, value in over.items():
        cells[int(index.lstrip("c"))] = value
    return tuple(cells)


def test_detected_by_the_first_cell_12_plus_3n(tmp_path):
    replies = [
        ("2026-11-20 10:00:00", "2", "Merci Eva"),
        ("2026-11-20 11:00:00", "3", "Avec plaisir"),
    ]
    parsed = parse(tmp_path, tsv(legacy(), legacy(prid="PR2", replies=replies)))
    assert parsed.problems == []
    first, second = (r.review for r in parsed.rows)
    assert (first.id, first.review_id, first.product_ref, first.rating, first.text) == (
        "PR1",
        None,
        "SKU-1",
        4,
        "Très bon thé",
    )
    assert first.author == "Eva G." and first.order_date is None and first.replies == ()
    assert second.replies == (
        Reply("2026-11-20T10:00:00", "merchant", "Merci Eva"),
        Reply("2026-11-20T11:00:00", "customer", "Avec plaisir"),
    )
    assert [r.where for r in parsed.rows] == ["line 1", "line 2"]


def test_16_plus_3n_variant_has_an_order_date(tmp_path):
    replies = [("2026-11-20T10:00:00+01:00", "1", "Vérifié")]
    parsed = parse(
        tmp_path, tsv(legacy(variant=16), legacy(variant=16, prid="P2", replies=replies))
    )
    assert parsed.problems == []
    a, b = (r.review for r in parsed.rows)
    assert a.order_date == "2026-11-10T08:00:00"
    assert b.replies == (Reply("2026-11-20T10:00:00+01:00", "moderator", "Vérifié"),)


def test_action_words_any_case_and_delete(tmp_path):
    parsed = parse(tmp_path, tsv(legacy(action="update"), legacy(action="Delete", prid="PR9")))
    assert [(r.action, r.id) for r in parsed.rows] == [
        (Action.UPDATE, "PR1"),
        (Action.DELETE, "PR9"),
    ]
    assert parsed.rows[1] == Row(Action.DELETE, "product", "acme-7f3a", "PR9", None, "line 2")


@pytest.mark.parametrize("n", [11, 13, 14, 17, 20])
def test_wrong_cell_count_is_a_row_problem(tmp_path, n):
    cells = (legacy(variant=16) + ("x",) * 10)[:n]
    parsed = parse(tmp_path, tsv(legacy(), cells, legacy(prid="PR3")))
    assert [r.id for r in parsed.rows] == ["PR1", "PR3"]
    [p] = parsed.problems
    assert (p.where, p.field) == ("line 2", "cells")
    assert f"found {n}" in p.message


def test_reply_count_must_match_the_triplets(tmp_path):
    row = legacy(replies=[("2026-11-20 10:00:00", "2", "Merci")], count="2")
    [p] = parse(tmp_path, tsv(legacy(prid="P0"), row)).problems
    assert p.field == "cell 12 (reply count)"
    assert "expected 1" in p.message and "found '2'" in p.message


def test_row_problems_in_legacy_rows(tmp_path):
    parsed = parse(
        tmp_path,
        tsv(
            legacy(c7="0"),
            legacy(action="ARCHIVE"),
            legacy(c5="hier"),
            legacy(c2="", prid=""),
            legacy(ref="", c4=""),
            legacy(replies=[("jamais", "2", "x")]),
        ),
    )
    assert parsed.rows == []
    assert [(p.where, p.field) for p in parsed.problems] == [
        ("line 1", "rate"),
        ("line 2", "action"),
        ("line 3", "review_date"),
        ("line 4", "product_review_id"),
        ("line 5", "product_ref"),
        ("line 6", "reply #1 date"),
    ]


def test_avg_rows_are_vendor_averages(tmp_path):
    parsed = parse(
        tmp_path,
        tsv(
            legacy(),
            ("AVG", "48213", "SKU-1", "4.5", "12"),
            ("avg", "48213", "SKU 2 é", "3,25", "4"),
            ("AVG", "48213", "SKU-3", "x", "4"),
            ("AVG", "48213"),
        ),
    )
    assert parsed.averages == [
        VendorAverage("SKU-1", 4.5, 12, "line 2"),
        VendorAverage("SKU 2 é", 3.25, 4, "line 3"),
    ]
    assert [(p.where, p.field) for p in parsed.problems] == [
        ("line 4", "average"),
        ("line 5", "cells"),
    ]
    assert len(parsed.rows) == 1


def test_a_file_starting_with_avg_is_legacy(tmp_path):
    parsed = parse(tmp_path, tsv(("AVG", "1", "SKU-1", "4", "2"), legacy()))
    assert len(parsed.averages) == 1 and len(parsed.rows) == 1


def test_legacy_site_file_uses_cell_2_as_the_review_id(tmp_path):
    parsed = parse(tmp_path, tsv(legacy(prid="R77", ref="ignored")), kind="site")
    review = parsed.rows[0].review
    assert (review.kind, review.id, review.review_id, review.product_ref) == (
        "site",
        "R77",
        "R77",
        None,
    )


def test_truncated_legacy_file(tmp_path):
    text = tsv(legacy(), legacy(prid="P2"))
    cut = text[: text.rindex("\tEva")]
    with pytest.raises(FeedFileError, match=r"line 2.*truncated"):
        parse(tmp_path, cut)


def test_first_row_neither_header_nor_action(tmp_path):
    with pytest.raises(FeedFileError, match=r"line 1: no action column.*'ARCHIVE'") as info:
        parse(tmp_path, tsv(legacy(action="ARCHIVE")))
    assert "Garnier" not in str(info.value)  # the message never dumps the row


def test_no_personal_data_in_legacy_output(tmp_path):
    parsed = parse(tmp_path, tsv(legacy(), legacy(variant=16, prid="P2")))
    dump = repr(parsed)
    assert "Garnier" not in dump and "eva@example.fr" not in dump and "aGVsbG8" not in dump
