"""Header CSV: columns, aliases, quoting, encodings, and every bad-input class."""

from __future__ import annotations

import csv
import json

import pytest
from feed_helpers import (
    PRODUCT_HEADER,
    SITE_HEADER,
    one,
    parse,
    product_row,
    site_row,
    stream,
    tsv,
)
from review_feed.errors import ConfigError, FeedFileError
from review_feed.feed import FeedOptions
from review_feed.model import Action, Reply, Review, Row, RowProblem


def test_product_row_is_normalised(tmp_path):
    text = tsv(
        PRODUCT_HEADER,
        product_row(order_date="2026-11-10 08:15:55", rate="4.0", review="  Très bon.  "),
    )
    parsed = parse(tmp_path, text)
    assert parsed.problems == []
    row = parsed.rows[0]
    assert row == Row(Action.NEW, "product", "acme-7f3a", "PR1", row.review, "line 2")
    assert row.review == Review(
        kind="product",
        website_id="acme-7f3a",
        id="PR1",
        review_id="R1",
        product_ref="SKU-1",
        product_name="Sencha",
        rating=4,
        text="Très bon.",
        author="Eva G.",
        date="2026-11-19T18:04:11",
        order_date="2026-11-10T08:15:55",
        replies=(),
        order_ref=None,
    )
    assert type(row.review.rating) is int
    assert type(row) is Row and type(row.review) is Review


def test_records_are_real_frozen_records(tmp_path):
    review = one(parse(tmp_path, tsv(PRODUCT_HEADER, product_row())))
    with pytest.raises(AttributeError):
        review.text = "changed"  # type: ignore[misc]
    assert hash(review) == hash(Review.from_record(review.to_record()))
    assert review == Review.from_record(review.to_record())


def test_site_row(tmp_path):
    review = one(parse(tmp_path, tsv(SITE_HEADER, site_row(review_id="R9")), kind="site"))
    assert (review.kind, review.id, review.review_id, review.product_ref) == (
        "site",
        "R9",
        "R9",
        None,
    )


def test_columns_in_any_order_unknown_ignored_case_insensitive(tmp_path):
    header = ("Rate", "EXTRA", "Product_Review_ID", " action ", "REVIEW_DATE", "Product_Ref", "x")
    row = ("5", "whatever", "PR7", "new", "2026-11-19 18:04:11", "SKU-7", "y")
    review = one(parse(tmp_path, tsv(header, row)))
    assert (review.id, review.rating, review.product_ref, review.text) == ("PR7", 5, "SKU-7", "")
    assert review.author == "Anonymous"  # no name columns at all


ALIASES = {
    "review_id": ("id_review",),
    "product_review_id": ("id_review_product", "id_product_av"),
    "product_ref": ("id_product", "refProduit", "sku"),
    "product_name": ("name_product",),
    "review_date": ("horodateAvis", "publish_date"),
    "order_date": ("horodateCommande",),
    "rate": ("rating", "note"),
    "review": ("avis",),
    "firstname": ("prenom", "first_name"),
    "lastname": ("name", "last_name"),
    "order_ref": ("purchase_reference",),
}


@pytest.mark.parametrize(
    ("canon", "alias"), [(c, a) for c, aliases in ALIASES.items() for a in aliases]
)
def test_every_alias(tmp_path, canon, alias):
    header = tuple(alias if h == canon else h for h in PRODUCT_HEADER)
    row = product_row(order_date="2026-11-10 08:15:55", review="Bon", rate="4.5")
    parsed = parse(tmp_path, tsv(header, row), options=FeedOptions(store_order_ref=True))
    review = one(parsed)
    got = {
        "review_id": review.review_id,
        "product_review_id": review.id,
        "product_ref": review.product_ref,
        "product_name": review.product_name,
        "review_date": review.date,
        "order_date": review.order_date,
        "rate": review.rating,
        "review": review.text,
        "firstname": review.author,
        "lastname": review.author,
        "order_ref": review.order_ref,
    }[canon]
    want = {
        "review_id": "R1",
        "product_review_id": "PR1",
        "product_ref": "SKU-1",
        "product_name": "Sencha",
        "review_date": "2026-11-19T18:04:11",
        "order_date": "2026-11-10T08:15:55",
        "rate": 4.5,
        "review": "Bon",
        "firstname": "Eva G.",
        "lastname": "Eva G.",
        "order_ref": "CMD-1",
    }[canon]
    assert got == want


def test_canonical_name_beats_alias_and_field_map_beats_both(tmp_path):
    header = ("action", "product_review_id", "product_ref", "review_date", "note", "rate", "score")
    row = ("NEW", "PR1", "SKU-1", "2026-11-19 18:04:11", "2", "3", "5")
    assert one(parse(tmp_path, tsv(header, row))).rating == 3
    opts = FeedOptions(field_map={"Score": "rate"})
    assert one(parse(tmp_path, tsv(header, row), options=opts)).rating == 5


def test_field_map_maps_unknown_columns(tmp_path):
    header = ("Aktion", "Bewertung-ID", "Artikel", "Datum", "Sterne", "Text", "Vorname", "Nachname")
    row = ("NEW", "PR1", "SKU-1", "2026-11-19 18:04:11", "5", "Sehr gut", "Jan", "Kraus")
    opts = FeedOptions(
        field_map={
            "Aktion": "action",
            "Bewertung-ID": "product_review_id",
            "artikel": "product_ref",
            "Datum": "review_date",
            "Sterne": "rate",
            "Text": "review",
            "Vorname": "firstname",
            "Nachname": "lastname",
        }
    )
    review = one(parse(tmp_path, tsv(header, row), options=opts))
    assert (review.id, review.product_ref, review.text, review.author) == (
        "PR1",
        "SKU-1",
        "Sehr gut",
        "Jan K.",
    )


def test_field_map_to_an_unknown_field_is_a_config_error():
    with pytest.raises(ConfigError, match=r"REVIEW_FEED_FIELD_MAP.*'stars'"):
        FeedOptions(field_map={"Sterne": "stars"})


def test_bom_crlf_and_quoting(tmp_path):
    text = "\ufeff" + tsv(
        PRODUCT_HEADER,
        product_row(review='"Line one\r\nline\ttwo, ""quoted"""'),
        product_row(product_review_id="PR2", review="plain"),
        end="\r\n",
    )
    parsed = parse(tmp_path, text)
    assert parsed.problems == []
    assert [r.review.text for r in parsed.rows] == ['Line one\nline\ttwo, "quoted"', "plain"]
    assert [r.where for r in parsed.rows] == ["line 2", "line 4"]


def test_csv_written_by_the_csv_module_round_trips(tmp_path):
    text = 'é\t"x"\n\r\n  emoji 🍵 \\ ; «guillemets»'
    path = tmp_path / "reviews_product_acme-7f3a_2026-11-20.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(PRODUCT_HEADER)
        w.writerow(product_row(review=text))
    review = one(parse(tmp_path, path.read_bytes()))
    assert review.text == 'é\t"x"\n\n  emoji 🍵 \\ ; «guillemets»'.strip()


def test_blank_lines_and_trailing_tab_are_tolerated(tmp_path):
    text = tsv(PRODUCT_HEADER) + "\n" + "\t".join(product_row()) + "\t\n\n"
    parsed = parse(tmp_path, text)
    assert parsed.problems == [] and len(parsed.rows) == 1
    assert parsed.rows[0].where == "line 3"


def test_empty_file_and_header_only_file_have_no_rows(tmp_path):
    assert parse(tmp_path, b"").rows == []
    parsed = parse(tmp_path, tsv(PRODUCT_HEADER))
    assert parsed.rows == [] and parsed.problems == []


def test_moderation_json_replies_in_order(tmp_path):
    moderation = json.dumps(
        [
            {"date": "2026-11-20 10:00:00", "origin": "1", "comment": "Vérifié"},
            {"date": "2026-11-20T11:00:00.0000000 +01:00", "origin": 2, "comment": " Merci ! "},
            {"date": "2026-11-21 09:00:00", "origin": "3", "comment": "De rien"},
            {"date": "", "origin": "Brand", "comment": "Sans date"},
            {"date": "2026-11-21 09:00:00", "origin": "2", "comment": "   "},
        ],
        ensure_ascii=False,
    )
    review = one(parse(tmp_path, tsv(PRODUCT_HEADER, product_row(moderation=moderation))))
    assert review.replies == (
        Reply("2026-11-20T10:00:00", "moderator", "Vérifié"),
        Reply("2026-11-20T11:00:00+01:00", "merchant", "Merci !"),
        Reply("2026-11-21T09:00:00", "customer", "De rien"),
        Reply(None, "brand", "Sans date"),
    )


@pytest.mark.parametrize(
    ("moderation", "field"),
    [
        ("not json", "moderation"),
        ('{"date": "2026-11-20 10:00:00"', "moderation"),
        ("[1, 2]", "moderation"),
        ('"text"', "moderation"),
        ('[{"date": "tomorrow", "origin": "2", "comment": "x"}]', "moderation #1 date"),
    ],
)
def test_bad_moderation_is_a_row_problem(tmp_path, moderation, field):
    parsed = parse(tmp_path, tsv(PRODUCT_HEADER, product_row(moderation=moderation)))
    assert parsed.rows == []
    [p] = parsed.problems
    assert (p.where, p.field) == ("line 2", field)


def test_order_ref_only_with_the_opt_in(tmp_path):
    text = tsv(PRODUCT_HEADER, product_row(order_ref=" CMD-42 "))
    assert one(parse(tmp_path, text)).order_ref is None
    assert (
        one(parse(tmp_path, text, options=FeedOptions(store_order_ref=True))).order_ref == "CMD-42"
    )


def test_privacy_nothing_personal_reaches_the_records(tmp_path):
    rows = [
        product_row(product_review_id=f"PR{i}", firstname=f, lastname=last, email=email)
        for i, (f, last, email) in enumerate(
            [
                ("Eva", "Garnier", "eva.garnier@example.fr"),
                ("Jean-Luc", "Ducasse-Ferrand", "jl@example.org"),
                ("Anonymous", "Anonymous", "Anonymous"),
                ("", "Zygomatique", "z@example.com"),
                ("marie.dubois@example.fr", "Dubois", "marie.dubois@example.fr"),
            ]
        )
    ]
    parsed = parse(tmp_path, tsv(PRODUCT_HEADER, *rows))
    assert parsed.problems == []
    dump = repr(parsed) + json.dumps([r.review.to_record() for r in parsed.rows])
    for secret in (
        "Garnier",
        "Ducasse",
        "Zygomatique",
        "Dubois",
        "@",
        "example",
        "CMD-1",
    ):
        assert secret not in dump
    assert [r.review.author for r in parsed.rows] == [
        "Eva G.",
        "Jean-Luc D.",
        "Anonymous",
        "Z.",
        "D.",
    ]


# --- identity ------------------------------------------------------------------


def test_product_identity_falls_back_to_review_id_and_ref(tmp_path):
    header = tuple(h for h in PRODUCT_HEADER if h != "product_review_id")
    row = tuple(
        v for h, v in zip(PRODUCT_HEADER, product_row(), strict=True) if h != "product_review_id"
    )
    review = one(parse(tmp_path, tsv(header, row)))
    assert review.id == "R1/SKU-1"
    # and with the column present but empty
    review = one(parse(tmp_path, tsv(PRODUCT_HEADER, product_row(product_review_id=""))))
    assert review.id == "R1/SKU-1"


def test_delete_needs_only_the_id(tmp_path):
    row = ("DELETE", "", "PR5", "", "", "", "", "", "", "", "", "", "", "")
    parsed = parse(tmp_path, tsv(PRODUCT_HEADER, row))
    assert parsed.problems == []
    assert parsed.rows == [Row(Action.DELETE, "product", "acme-7f3a", "PR5", None, "line 2")]


@pytest.mark.parametrize(
    ("over", "field", "words"),
    [
        ({"action": "REMOVE"}, "action", "expected NEW, UPDATE or DELETE, found 'REMOVE'"),
        ({"action": ""}, "action", "found ''"),
        ({"product_review_id": "", "review_id": ""}, "product_review_id", "missing"),
        ({"product_review_id": "", "product_ref": ""}, "product_review_id", "missing"),
        ({"rate": "0"}, "rate", "found '0'"),
        ({"rate": "6"}, "rate", "found '6'"),
        ({"rate": "abc"}, "rate", "found 'abc'"),
        ({"rate": ""}, "rate", "found ''"),
        ({"review_date": "2026-02-30 10:00:00"}, "review_date", "found '2026-02-30 10:00:00'"),
        ({"review_date": "soon"}, "review_date", "expected a date"),
        ({"review_date": " "}, "review_date", "missing"),
        ({"order_date": "31/12/2026"}, "order_date", "found '31/12/2026'"),
        ({"product_ref": ""}, "product_ref", "missing"),
    ],
)
def test_row_problems_name_line_field_expected_and_found(tmp_path, over, field, words):
    text = tsv(PRODUCT_HEADER, product_row(product_review_id="PR0"), product_row(**over))
    parsed = parse(tmp_path, text)
    assert [r.id for r in parsed.rows] == ["PR0"]  # the rest of the file goes on
    [p] = parsed.problems
    assert (p.file, p.where, p.field) == (
        "reviews_product_acme-7f3a_2026-11-20.csv",
        "line 3",
        field,
    )
    assert words in p.message
    assert str(p).startswith("reviews_product_acme-7f3a_2026-11-20.csv, line 3, field " + field)


def test_site_review_needs_review_id(tmp_path):
    parsed = parse(tmp_path, tsv(SITE_HEADER, site_row(review_id="  ")), kind="site")
    [p] = parsed.problems
    assert p.field == "review_id"


def test_delete_with_bad_other_fields_is_still_valid(tmp_path):
    row = product_row(action="delete", rate="zero", review_date="never")
    parsed = parse(tmp_path, tsv(PRODUCT_HEADER, row))
    assert [(r.action, r.id) for r in parsed.rows] == [(Action.DELETE, "PR1")]


def test_problem_message_cuts_huge_values(tmp_path):
    parsed = parse(tmp_path, tsv(PRODUCT_HEADER, product_row(rate="9" * 100_000)))
    [p] = parsed.problems
    assert len(str(p)) < 300


def test_wrong_cell_count_is_a_row_problem(tmp_path):
    short = product_row()[:-3]
    text = tsv(PRODUCT_HEADER, short, product_row(product_review_id="PR2"))
    parsed = parse(tmp_path, text)
    [p] = parsed.problems
    assert (p.where, p.field) == ("line 2", "cells")
    assert "expected 14" in p.message and "found 11" in p.message
    assert [r.id for r in parsed.rows] == ["PR2"]


def test_unknown_action_keeps_the_rest(tmp_path):
    text = tsv(PRODUCT_HEADER, product_row(action="ARCHIVE"), product_row(product_review_id="P2"))
    parsed = parse(tmp_path, text)
    assert [r.id for r in parsed.rows] == ["P2"]
    assert parsed.problems[0].field == "action"


# --- whole-file errors ---------------------------------------------------------


def _file_error(tmp_path, content, **kw) -> str:
    with pytest.raises(FeedFileError) as info:
        list(stream(tmp_path, content, **kw))
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("reviews_product_acme-7f3a_2026-11-20.csv: ")
    return msg


def test_unterminated_quote_is_a_file_error(tmp_path):
    text = tsv(PRODUCT_HEADER, product_row(), product_row(review='"never closed'), product_row())
    msg = _file_error(tmp_path, text)
    assert "line 3" in msg and "never closed" in msg


def test_stray_quote_after_closing_quote_is_a_file_error(tmp_path):
    text = tsv(PRODUCT_HEADER, product_row(review='"closed" then text'))
    assert "line 2" in _file_error(tmp_path, text)


def test_truncated_mid_quote(tmp_path):
    full = tsv(PRODUCT_HEADER, product_row(), product_row(review='"long text\nsecond line"'))
    cut = full[: full.index("second") + 3]
    assert "line 3" in _file_error(tmp_path, cut)


def test_truncated_mid_row_without_final_newline(tmp_path):
    full = tsv(PRODUCT_HEADER, product_row(), product_row(product_review_id="PR2"))
    cut = full[: full.rindex("\t2026")]
    msg = _file_error(tmp_path, cut)
    assert "line 3" in msg and "truncated" in msg


def test_last_row_without_newline_is_fine_when_complete(tmp_path):
    text = tsv(PRODUCT_HEADER, product_row()).rstrip("\n")
    assert one(parse(tmp_path, text)).id == "PR1"


def test_short_last_row_with_final_newline_is_only_a_row_problem(tmp_path):
    text = tsv(PRODUCT_HEADER, product_row(), product_row()[:5])
    parsed = parse(tmp_path, text)
    assert len(parsed.rows) == 1 and parsed.problems[0].field == "cells"


def test_not_utf8_names_the_line(tmp_path):
    good = tsv(PRODUCT_HEADER, product_row(), product_row()).encode()
    bad = tsv(product_row(review="caf\udce9")).encode("utf-8", "surrogateescape")
    msg = _file_error(tmp_path, good + bad)
    assert "line 4" in msg and "not UTF-8" in msg and "0xe9" in msg


def test_not_utf8_deep_in_a_big_file(tmp_path):
    rows = [product_row(product_review_id=f"P{i}") for i in range(3000)]
    good = tsv(PRODUCT_HEADER, *rows).encode()
    bad = tsv(product_row(review="Latin-1 caf\udce9")).encode("utf-8", "surrogateescape")
    msg = _file_error(tmp_path, good + bad + good[-200:])
    assert "line 3002" in msg


def test_oversize_cell_is_a_file_error_and_csv_limit_is_restored(tmp_path):
    before = csv.field_size_limit()
    text = tsv(PRODUCT_HEADER, product_row(), product_row(review="x" * 2000))
    msg = _file_error(tmp_path, text, max_field_size=1000)
    assert "line 3" in msg and "REVIEW_FEED_MAX_FIELD_SIZE" in msg and "1000" in msg
    assert csv.field_size_limit() == before


@pytest.mark.parametrize(
    ("column", "newline"),
    [
        ("review", False),
        ("moderation", False),
        ("review", True),
        ("moderation", True),
        ("firstname", True),
        ("product_name", True),
    ],
)
def test_oversize_in_bytes_not_characters(tmp_path, column, newline):
    # 600 characters of "é" are 1200 bytes: over a 1000-byte limit. A review with its
    # names and replies is measured in bytes: over the cap, the row is rejected
    sep = "\n" if newline else " "
    value = f"é{sep}" + "é" * 600
    if column == "moderation":
        value = json.dumps([{"comment": value}], ensure_ascii=False)
    quoted = '"' + value.replace('"', '""') + '"'
    text = tsv(PRODUCT_HEADER, product_row(**{column: quoted}), product_row(product_review_id="P2"))
    parsed = parse(tmp_path, text, options=FeedOptions(max_field_size=1000))
    [p] = parsed.problems
    assert [r.id for r in parsed.rows] == ["P2"]
    assert (
        p.where == "line 2" and "bytes" in p.message and "REVIEW_FEED_MAX_FIELD_SIZE" in p.message
    )


def test_big_cells_under_the_limit_pass(tmp_path):
    text = tsv(PRODUCT_HEADER, product_row(review="y" * 300_000))
    assert len(one(parse(tmp_path, text)).text) == 300_000  # over csv's default 131072


def test_csv_limit_restored_while_streaming(tmp_path):
    before = csv.field_size_limit()
    rows = [product_row(product_review_id=f"P{i}") for i in range(5000)]
    it = stream(tmp_path, tsv(PRODUCT_HEADER, *rows), max_field_size=4096)
    next(it)
    assert csv.field_size_limit() == before  # not left changed between two rows
    assert sum(1 for _ in it) == 4999


def test_missing_action_column(tmp_path):
    header = tuple(h for h in PRODUCT_HEADER if h != "action")
    msg = _file_error(tmp_path, tsv(header, product_row()[1:]))
    assert "line 1" in msg and "no action column" in msg


def test_missing_id_columns(tmp_path):
    header = tuple(h for h in PRODUCT_HEADER if h not in ("product_review_id", "product_ref"))
    msg = _file_error(tmp_path, tsv(header, product_row()[: len(header)]))
    assert "no product_review_id column" in msg


def test_missing_review_id_in_site_file(tmp_path):
    header = tuple(h for h in SITE_HEADER if h != "review_id")
    with pytest.raises(FeedFileError, match="no review_id column"):
        list(stream(tmp_path, tsv(header, site_row()[:-1]), kind="site"))


def test_file_error_after_rows_were_streamed(tmp_path):
    rows = [product_row(product_review_id=f"P{i}") for i in range(5000)]
    text = tsv(PRODUCT_HEADER, *rows) + '"unterminated\n'
    got = []
    with pytest.raises(FeedFileError, match="line 5002"):
        for item in stream(tmp_path, text):
            got.append(item)
    assert len(got) > 0  # streamed: rows came out before the defect was reached


def test_unknown_extension(tmp_path):
    from review_feed.feed import read_feed
    from review_feed.sources.names import FeedName

    path = tmp_path / "x.json"
    path.write_text("{}")
    name = FeedName("2026-11-20", "product", "acme", "json", "x.json")
    with pytest.raises(FeedFileError, match="unknown format"):
        list(read_feed(path, name))


def test_missing_file_is_a_file_error(tmp_path):
    from feed_helpers import name_for
    from review_feed.feed import read_feed

    with pytest.raises(FeedFileError, match="cannot read"):
        list(read_feed(tmp_path / "nope.csv", name_for()))


def test_rows_are_items_of_the_right_types(tmp_path):
    text = tsv(PRODUCT_HEADER, product_row(), product_row(rate="x"))
    items = list(stream(tmp_path, text))
    assert [type(i) for i in items] == [Row, RowProblem]


def test_line_numbers_stay_exact_across_batches_and_multiline_cells(tmp_path):
    rows, expected, line = [], [], 2
    for i in range(5000):
        text = f'"two\nlines {i}"' if i % 97 == 0 else f"one line {i}"
        rows.append(product_row(product_review_id=f"P{i}", review=text))
        expected.append(f"line {line}")
        line += 2 if i % 97 == 0 else 1
    parsed = parse(tmp_path, tsv(PRODUCT_HEADER, *rows))
    assert parsed.problems == []
    assert [r.where for r in parsed.rows] == expected


def test_options_from_settings():
    from review_feed.settings import load_settings

    settings = load_settings(
        {},
        {
            "REVIEW_FEED_FIELD_MAP": '{"Sterne": "rate"}',
            "REVIEW_FEED_MAX_FIELD_SIZE": "4096",
            "REVIEW_FEED_STORE_ORDER_REF": "true",
        },
        {},
    )
    opts = FeedOptions.from_settings(settings)
    assert opts == FeedOptions(
        field_map={"Sterne": "rate"}, max_field_size=4096, store_order_ref=True
    )


def test_problem_messages_never_show_an_email(tmp_path):
    # a shifted column puts the e-mail where the rate should be
    parsed = parse(tmp_path, tsv(PRODUCT_HEADER, product_row(rate="eva.garnier@example.fr")))
    [p] = parsed.problems
    assert "example" not in str(p) and "<e-mail>" in str(p)
