"""A content page or article declaring `product_ref` gets its widget and Product JSON-LD
with no template code, where the settings or a marker say, and never twice."""

from __future__ import annotations

import logging

import pytest
from review_feed.errors import ConfigError
from review_feed.settings import load_settings
from sitebuild import product_review

REVIEWS = [product_review(i, "SKU-1", [5, 4, 3][i % 3]) for i in range(4)]
ARTICLE = "Title: Brewing sencha\nDate: 2026-11-01\nproduct_ref: SKU-1\n\nHow we brew it.\n"


def page(body: str = "A fine tea.") -> str:
    return f"Title: Sencha\nSlug: sencha\nproduct_ref: SKU-1\n\n{body}\n"


def build(build_site, theme="notmyidea", body="A fine tea.", **settings):
    if theme:  # None: the default, our lumiere theme
        settings["THEME"] = theme
    return build_site(
        REVIEWS, pages={"sencha.md": page(body), "articles/brew.md": ARTICLE}, **settings
    )


def product_jsonld(built, url):
    return [d for d in built.jsonld(url) if d.get("@type") == "Product"]


@pytest.mark.parametrize("theme", ["notmyidea", "simple"])
def test_widget_and_jsonld_after_the_body_by_default(build_site, theme):
    built = build(build_site, theme)
    for url in ("teas/sencha/", "brewing-sencha.html"):
        html = built.html(url)
        assert html.count('class="rf-w"') == 1, url
        body = "A fine tea." if url.startswith("teas") else "How we brew it."
        assert html.index(body) < html.index('class="rf-w"')
        (data,) = product_jsonld(built, url)
        assert data["sku"] == "SKU-1"
        assert data["aggregateRating"]["reviewCount"] == 4
        assert data["aggregateRating"]["ratingValue"] == 4.3  # 17 / 4, half up


@pytest.mark.parametrize("theme", ["notmyidea", "simple"])
def test_inserted_with_absolute_urls_too(build_site, theme):
    """With one SITEURL for every file, Pelican's memo of the content read for the
    summary must not hide the block from the page (it did)."""
    built = build(build_site, theme, RELATIVE_URLS=False, SITEURL="https://shop.example")
    for url in ("teas/sencha/", "brewing-sencha.html"):
        assert built.html(url).count('class="rf-w"') == 1, url
        assert len(product_jsonld(built, url)) == 1, url


def test_before_the_body(build_site):
    html = build(build_site, REVIEW_FEED_INSERT="before").html("teas/sencha/")
    assert html.index('class="rf-w"') < html.index("A fine tea.")


def test_off_inserts_nothing(build_site):
    built = build(build_site, REVIEW_FEED_INSERT="off")
    assert 'class="rf-w"' not in built.html("teas/sencha/")
    assert product_jsonld(built, "teas/sencha/") == []


@pytest.mark.parametrize("marker", ["[review-feed]", "<!-- review-feed -->"])
def test_a_marker_places_it_exactly_even_with_insertion_off(build_site, marker):
    body = f"Before the reviews.\n\n{marker}\n\nAfter the reviews."
    built = build(build_site, body=body, REVIEW_FEED_INSERT="off")
    html = built.html("teas/sencha/")
    assert html.count('class="rf-w"') == 1
    assert html.index("Before the reviews.") < html.index('class="rf-w"')
    assert html.index('class="rf-w"') < html.index("After the reviews.")
    assert "[review-feed]" not in html and "<!-- review-feed -->" not in html
    assert len(product_jsonld(built, "teas/sencha/")) == 1


def test_article_summaries_stay_text(build_site):
    """simple's index shows each article's summary (notmyidea shows the newest in full)."""
    built = build(build_site, "simple", REVIEW_FEED_INSERT="before", DIRECT_TEMPLATES=["index"])
    index = built.html("index.html")
    assert "How we brew it." in index and 'class="rf-w"' not in index


def test_a_theme_calling_review_feed_for_gets_it_once(build_site):
    """Our lumiere theme places the block itself: nothing is inserted into the content."""
    built = build(build_site, theme=None, DIRECT_TEMPLATES=[])
    html = built.html("teas/sencha/")
    assert html.count('class="rf-w"') == 1
    assert len(product_jsonld(built, "teas/sencha/")) == 1
    assert html.index('class="rf-w"') > html.index('id="reviews"')  # where the theme put it


def test_a_marker_in_a_theme_calling_review_feed_for_is_shown_once(build_site):
    built = build(build_site, theme=None, body="Text.\n\n[review-feed]\n\nMore.")
    html = built.html("teas/sencha/")
    assert html.count('class="rf-w"') == 1
    assert html.index('class="rf-w"') < html.index("More.")


def test_unknown_product_ref_is_a_warning_naming_the_file_and_ref(build_site, caplog):
    caplog.set_level(logging.WARNING)
    built = build_site(
        REVIEWS,
        pages={"articles/typo.md": ARTICLE.replace("SKU-1", "SKU-TYPO")},
        THEME="simple",
    )
    lines = [r.getMessage() for r in caplog.records if "SKU-TYPO" in r.getMessage()]
    assert len(lines) == 1 and "typo.md" in lines[0] and "no widget" in lines[0]
    assert 'class="rf-w"' not in built.html("brewing-sencha.html")


def test_insert_setting_is_validated():
    with pytest.raises(ConfigError, match="REVIEW_FEED_INSERT"):
        load_settings({"REVIEW_FEED_INSERT": "middle"}, {})
