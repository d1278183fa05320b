"""Single values: dates, ratings, actions, origins, text, display names."""

from __future__ import annotations

import pytest
from review_feed.feed.values import (
    clean_text,
    display_name,
    normalise_date,
    origin,
    parse_action,
    parse_rate,
    shorten,
)
from review_feed.model import Action


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2026-11-19 18:04:11", "2026-11-19T18:04:11"),
        ("2026-11-19T18:04:11", "2026-11-19T18:04:11"),
        ("2026-11-19T18:04:11+01:00", "2026-11-19T18:04:11+01:00"),
        ("2026-11-19T18:04:11.0000000 +01:00", "2026-11-19T18:04:11+01:00"),
        ("2026-11-19T18:04:11.1234500 +01:00", "2026-11-19T18:04:11.12345+01:00"),
        ("2026-11-19 18:04:11.250", "2026-11-19T18:04:11.25"),
        ("2026-11-19T18:04:11Z", "2026-11-19T18:04:11+00:00"),
        ("2026-11-19T18:04:11-0530", "2026-11-19T18:04:11-05:30"),
        ("2026-11-19 18:04", "2026-11-19T18:04:00"),
        ("2026-11-19", "2026-11-19"),
        ("  2026-11-19 18:04:11 ", "2026-11-19T18:04:11"),
        ("2024-02-29 00:00:00", "2024-02-29T00:00:00"),
    ],
)
def test_dates_normalise_to_iso_keeping_the_offset(raw, iso):
    assert normalise_date(raw) == iso


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "yesterday",
        "2026-13-01 10:00:00",
        "2026-02-30 10:00:00",
        "2025-02-29",
        "2026-11-19 24:00:00",
        "2026-11-19 23:60:00",
        "2026-11-19 23:59:60",
        "19/11/2026 18:04:11",
        "2026-11-19T18:04:11+25:00",
        "2026-11-19 1８:04:11",  # a full-width digit
        "２026-11-19 18:04:11",
        "2026-11- 1 18:04:11",  # int() takes these: a day is its digits
        "2026-+1-01 18:04:11",
        "2_26-11-01 18:04:11",
        "0000-01-01 00:00:00",
        "2026-W47-4 18:04:11",  # shapes datetime.fromisoformat takes, a feed does not send
        "2026-11-19T180411.5",
        "2026-11-19x18:04:11",
    ],
)
def test_invalid_dates_are_none(raw):
    assert normalise_date(raw) is None


@pytest.mark.parametrize(
    ("raw", "rate"),
    [("4", 4), ("4.0", 4), ("4,0", 4), ("4.5", 4.5), ("4,5", 4.5), (" 3 ", 3), ("1", 1),
     ("5", 5), ("5.00", 5), ("2.25", 2.25)],
)  # fmt: skip
def test_rates(raw, rate):
    got = parse_rate(raw)
    assert got == rate
    assert type(got) is type(rate)


@pytest.mark.parametrize("raw", ["0", "6", "abc", "", "0.99", "5.01", "nan", "inf", "-4", "٤"])
def test_bad_rates(raw):
    assert parse_rate(raw) is None


def test_actions_case_insensitive():
    assert parse_action("NEW") is Action.NEW
    assert parse_action(" update ") is Action.UPDATE
    assert parse_action("Delete") is Action.DELETE
    assert parse_action("REMOVE") is None
    assert parse_action("") is None


def test_origins():
    assert origin("1") == "moderator"
    assert origin(2) == "merchant"
    assert origin("3") == "customer"
    assert origin("Merchant") == "merchant"
    assert origin(" Brand ") == "brand"
    assert origin(None) == "unknown"


def test_text_line_ends_and_whitespace():
    assert clean_text("  a\r\nb\rc\n ") == "a\nb\nc"


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [
        ("Eva", "Garnier", "Eva G."),
        (" Eva ", " garnier ", "Eva G."),
        ("Eva", "", "Eva"),
        ("", "Garnier", "G."),
        ("", "", "Anonymous"),
        ("Anonymous", "Anonymous", "Anonymous"),
        ("Eva", "ANONYMOUS", "Anonymous"),
        ("anonymous", "Garnier", "Anonymous"),
        ("Léa", "Éluard", "Léa É."),
        ("eva@example.fr", "Garnier", "G."),
        ("Eva", "eva@example.fr", "Eva"),
        ("Sarah", "O'Connell", "Sarah O."),
    ],
)
def test_display_name(first, last, shown):
    assert display_name(first, last) == shown


def test_shorten_cuts_long_values():
    s = shorten("x" * 10_000)
    assert len(s) < 60
    assert s.endswith("…'")


def test_shorten_masks_email_addresses():
    assert shorten("eva.garnier@example.fr") == "'<e-mail>'"
    assert "example" not in shorten("contact: eva@example.fr, merci")
