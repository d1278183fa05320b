"""The bundled sample feed parses cleanly and holds what the demo relies on."""

from __future__ import annotations

import json

from feed_helpers import read_all
from review_feed.model import Action, Reply
from review_feed.sources.names import select


def _all(sample_feed):
    names, ignored = select(sorted(p.name for p in sample_feed.iterdir()))
    return names, ignored, {n.name: read_all(sample_feed / n.name, n) for n in names}


def test_sample_feed_parses_without_problems(sample_feed):
    names, ignored, parsed = _all(sample_feed)
    assert sorted(ignored) == ["README.txt", "reviews_product_acme-7f3a_20261124.csv.part"]
    assert len(names) == 8
    assert {n.kind for n in names} == {"site", "product"}
    assert {n.ext for n in names} == {"csv", "xml"}
    assert {n.date for n in names} == {"2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"}
    assert any("-" not in n.name.split("_")[-1] for n in names)  # a YYYYMMDD name
    for name, p in parsed.items():
        assert p.problems == [], name
    rows = [r for p in parsed.values() for r in p.rows]
    assert 50 <= len(rows) <= 70
    reviews = [r.review for r in rows if r.review]
    assert {r.rating for r in reviews} >= {1, 2, 3, 4, 5, 4.5}
    assert len({r.product_ref for r in reviews if r.kind == "product"}) >= 8
    assert {"COFFRET NOËL", "SKU-100", "TEA-GREEN-50"} <= {r.product_ref for r in reviews}
    assert {a for r in reviews for a in (x.origin for x in r.replies)} == {
        "merchant",
        "moderator",
        "customer",
    }
    assert any("\n" in r.text for r in reviews) and any("\t" in r.text for r in reviews)
    assert sum(1 for r in rows if r.action is Action.DELETE) == 2
    dump = json.dumps([r.to_record() for r in reviews], ensure_ascii=False)
    for secret in ("@example", "Roussel", "O'Connell", "CMD-88", "Anonymous Anonymous"):
        assert secret not in dump


def test_sample_feed_known_values(sample_feed):
    _, _, parsed = _all(sample_feed)

    def find(file, ident):
        [row] = [r for r in parsed[file].rows if r.id == ident]
        return row

    r = find("reviews_site_acme-7f3a_2026-11-20.csv", "R1007").review
    assert (r.rating, r.author, r.date) == (1, "Marc L.", "2026-11-19T16:12:51")
    assert [x.origin for x in r.replies] == ["moderator", "merchant"]
    assert r.replies[1].date == "2026-11-19T18:04:11"

    # an UPDATE that adds replies (XML, action as attribute, YYYYMMDD name)
    row = find("reviews_site_acme-7f3a_20261121.xml", "R1005")
    assert row.action is Action.UPDATE
    assert row.review.replies == (
        Reply(
            "2026-11-20T10:15:00+01:00",
            "merchant",
            "Bonjour Nathalie, le transporteur a eu un incident de numérisation ce jour-là. "
            "Votre colis est bien arrivé ?",
        ),
        Reply("2026-11-20T18:40:12+01:00", "customer", "Oui, reçu hier, merci pour le suivi !"),
    )
    assert find("reviews_site_acme-7f3a_20261121.xml", "R1012").review.date == (
        "2026-11-20T09:30:00+01:00"
    )

    # UPDATEs that anonymise (header CSV and legacy layout)
    assert find("reviews_site_acme-7f3a_2026-11-22.csv", "R1002").review.author == "Anonymous"
    legacy = parsed["reviews_product_acme-7f3a_2026-11-22.csv"]
    assert next(r for r in legacy.rows if r.id == "PR5003").review.author == "Anonymous"
    assert [(a.product_ref, a.average, a.count) for a in legacy.averages] == [
        ("SKU-100", 4.5, 4),
        ("SKU-200", 3.67, 3),
    ]
    assert find("reviews_product_acme-7f3a_2026-11-22.csv", "PR5023").review.order_date == (
        "2026-11-19T09:00:00"
    )

    # French header aliases, a DELETE, "4.0" as 4, CRLF inside a quoted cell
    aliases = "reviews_product_acme-7f3a_20261123.csv"
    assert find(aliases, "PR5017").action is Action.DELETE
    assert find(aliases, "PR5029").review.rating == 4
    assert "léger.\nLes perles" in find(aliases, "PR5032").review.text
    assert find("reviews_site_acme-7f3a_20261123.xml", "R1021").action is Action.DELETE
    assert find("reviews_site_acme-7f3a_20261123.xml", "R1024").review.author == "Anonymous"

    r = find("reviews_product_acme-7f3a_2026-11-20.csv", "PR5005").review
    assert (r.product_ref, r.product_name) == (
        "COFFRET NOËL",
        "Coffret de Noël « Lumière d'hiver »",
    )
    assert "🎄" in r.text
    assert find("reviews_product_acme-7f3a_2026-11-20.csv", "PR5007").review.rating == 4.5
    assert find("reviews_product_acme-7f3a_2026-11-20.csv", "PR5009").review.author == "Inès"


def test_sample_files_are_utf8_without_bom_and_tab_separated(sample_feed):
    for path in sample_feed.glob("reviews_*"):
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        data.decode("utf-8")
        if path.suffix == ".csv":
            assert b"\t" in data.splitlines()[0]
