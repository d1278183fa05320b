"""Review pages in themes we did not write (Pelican's own notmyidea and simple):
their own stylesheet, their structured data, and the theme's chrome as the theme writes it."""

from __future__ import annotations

import re

import pytest
from review_feed.site.slugs import product_slug
from review_feed.site.templating import stylesheet
from sitebuild import product_review, site_review

THEMES = ["notmyidea", "simple"]
SUBTITLE = "Small-batch coffee <em>&amp;</em> tea"
LINKS = (("Pelican <b>site</b>", "https://getpelican.com/"),)


def reviews():
    brand = [site_review(i, [5, 4, 2][i % 3]) for i in range(4)]
    return brand + [product_review(100 + i, "SKU-1", [5, 3][i % 2]) for i in range(3)]


PRODUCT_PAGE = "Title: Sencha <em>Kagoshima</em>\nproduct_ref: SKU-1\n\nA fine tea.\n"


def build(build_site, theme: str, **settings):
    return build_site(
        reviews(),
        pages={
            "sencha.md": PRODUCT_PAGE,
            "articles/hello.md": "Title: Hello\nDate: 2026-11-01\n\nHi.\n",
        },
        THEME=theme,
        SITESUBTITLE=SUBTITLE,
        LINKS=LINKS,
        DIRECT_TEMPLATES=["index"],
        **settings,
    )


PRODUCT = f"reviews/products/{product_slug('SKU-1')}/"
REVIEW_PAGES = ["reviews/", "reviews/products/", PRODUCT]


@pytest.mark.parametrize("theme", THEMES)
def test_pages_link_the_plugin_stylesheet_written_through_the_writer(build_site, theme):
    built = build(build_site, theme)
    assert built.path("reviews/review-feed.css").read_text("utf-8") == stylesheet()
    for url in REVIEW_PAGES:
        tree = built.tree(url)
        links = tree.xpath("//body//div[contains(@class,'rfp ')]/link[@rel='stylesheet']/@href")
        assert len(links) == 1, url
        assert re.fullmatch(r"(\.\./)+reviews/review-feed\.css\?v=[0-9a-f]{10}", links[0]), links


def test_no_stylesheet_when_the_setting_is_empty(build_site):
    built = build(build_site, "simple", REVIEW_FEED_STYLESHEET="")
    assert not built.path("reviews/review-feed.css").exists()
    assert "review-feed.css" not in built.html("reviews/")


def test_stylesheet_selectors_are_namespaced():
    css = re.sub(r"/\*.*?\*/", "", stylesheet(), flags=re.S)
    css = re.sub(r"@container[^{]*\{", "", css)
    selectors = [
        s.strip() for block in re.findall(r"([^{}]+)\{[^{}]*\}", css) for s in block.split(",")
    ]
    assert len(selectors) > 40
    outside = [s for s in selectors if not re.match(r"(\.rfp|\.rf-st|:where\(:root\))", s)]
    assert outside == []


@pytest.mark.parametrize("theme", THEMES)
def test_components_avoid_elements_themes_style(build_site, theme):
    built = build(build_site, theme, REVIEW_FEED_PAGE_SIZE=2)
    for url in [*REVIEW_PAGES, "reviews/page/1/"]:
        ours = built.tree(url).xpath("//div[contains(@class,'rfp ')]")[0]
        assert ours.xpath(".//aside|.//nav|.//ol|.//header|.//footer|.//article") == [], url


@pytest.mark.parametrize("theme", THEMES)
def test_product_jsonld_is_in_the_content_and_titles_leave_the_site_name_to_the_theme(
    build_site, theme
):
    built = build(build_site, theme)
    tree = built.tree(PRODUCT)
    assert tree.xpath("//head//script[@type='application/ld+json']") == []
    blocks = tree.xpath("//body//script[@type='application/ld+json']")
    assert len(blocks) == 1
    (data,) = built.jsonld(PRODUCT)
    assert data["@type"] == "Product" and data["sku"] == "SKU-1"
    assert data["aggregateRating"]["reviewCount"] == 3
    title = tree.xpath("string(//title)")
    assert "Reviews of Sencha Kagoshima" in title and title.count("Test Tea Shop") <= 1


@pytest.mark.parametrize("theme", THEMES)
def test_the_theme_chrome_is_escaped_as_on_the_theme_own_pages(build_site, theme):
    built = build(build_site, theme)
    own = built.html("index.html")
    assert SUBTITLE in own or "Pelican <b>site</b>" in own  # the theme shows one of them
    for url in REVIEW_PAGES:
        html = built.html(url)
        for raw in (SUBTITLE, "Pelican <b>site</b>"):
            assert html.count(raw) == own.count(raw), (url, raw)
        assert "&lt;em&gt;" not in html and "&lt;b&gt;" not in html


BARE_BASE = """<!doctype html>
{% import "macros.html" as m %}{% set rf = "theme's" %}{% set p = "theme's" %}
<html><head><title>{% block title %}{{ SITENAME }}{% endblock %}</title></head>
<body><header>{{ m.banner(SITENAME) }} {{ rf }} {{ p }}</header>
{% block content %}{% endblock %}</body></html>
"""


def test_a_theme_without_a_head_block_builds_without_a_warning(build_site, tmp_path, caplog):
    """Nothing of ours needs the theme's head (no page is noindex); its own macros as
    `m` and variables named rf and p do not touch ours."""
    theme = tmp_path / "bare"
    (theme / "templates").mkdir(parents=True)
    (theme / "static").mkdir()
    (theme / "templates" / "base.html").write_text(BARE_BASE, "utf-8")
    (theme / "templates" / "macros.html").write_text(
        "{% macro banner(name) %}<b>{{ name }}</b>{% endmacro %}", "utf-8"
    )
    for name, body in (("page", "{{ page.content }}"), ("article", "x"), ("index", "x")):
        (theme / "templates" / f"{name}.html").write_text(
            '{% extends "base.html" %}{% block content %}' + body + "{% endblock %}", "utf-8"
        )
    built = build(build_site, str(theme), REVIEW_FEED_PAGE_SIZE=2)
    html = built.html(PRODUCT)
    assert "<b>Test Tea Shop</b> theme's theme's" in html
    assert len(built.jsonld(PRODUCT)) == 1 and built.path("reviews/page/1/").exists()
    assert not [r for r in caplog.records if "has no {% block" in r.getMessage()]


def test_no_warning_for_a_theme_with_the_blocks(build_site, caplog):
    build(build_site, "notmyidea")
    assert not [r for r in caplog.records if "has no {% block" in r.getMessage()]
