"""An existing site with a theme we did not write: what the build wrote, read back from disk.

For each theme (notmyidea, simple, pelican-theme-reflex, plumage), with no
template edit: product content pages get the widget and one Product JSON-LD,
review pages carry valid Product JSON-LD, the theme's chrome is byte for byte
what the theme writes on its own pages, and sitemap.xml lists no noindex page.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import lxml.etree
import lxml.html
import pytest
from review_feed.settings import load_settings
from review_feed.site.slugs import product_slug
from review_feed.store import read_reviews
from themesites import FOOTER_LINK, PRODUCTS, SITESUBTITLE, ThemeSite, element_source, has_class

SETTINGS = load_settings({}, {})
WIDGET = f"//*[{has_class('rf-w')}]"


def jsonld(tree) -> list[object]:
    """Every JSON-LD block of the page, parsed (a block that is not JSON fails the test)."""
    return [json.loads(s.text or "") for s in tree.xpath('//script[@type="application/ld+json"]')]


def things(docs: list[object], kind: str) -> list[dict]:
    """The objects of a given @type in the blocks (top level or in an @graph)."""
    found = []
    for doc in docs:
        for obj in doc.get("@graph", [doc]) if isinstance(doc, dict) else doc:
            if isinstance(obj, dict) and obj.get("@type") == kind:
                found.append(obj)
    return found


@pytest.fixture(scope="module")
def expected(sample_snapshot: Path) -> dict[str, tuple[int, float]]:
    """ref -> (review count, mean rating), counted here from the snapshot itself."""
    ratings: dict[str, list[float]] = defaultdict(list)
    for r in read_reviews(sample_snapshot):
        if r.kind == "product":
            ratings[r.product_ref].append(float(r.rating))
    return {ref: (len(v), sum(v) / len(v)) for ref, v in ratings.items()}


def check_product(obj: dict, ref: str, expected: dict[str, tuple[int, float]]) -> None:
    """A Product as search engines want it, with this product's numbers."""
    count, mean = expected[ref]
    assert obj.get("@context", "https://schema.org").rstrip("/") in (
        "https://schema.org",
        "http://schema.org",
    )
    assert obj["sku"] == ref
    assert isinstance(obj["name"], str) and obj["name"].strip()
    agg = obj["aggregateRating"]
    assert agg["@type"] == "AggregateRating"
    assert agg["reviewCount"] == count
    assert abs(float(agg["ratingValue"]) - mean) <= 0.05, (agg, mean)
    assert 1 <= float(agg["ratingValue"]) <= 5
    for review in obj.get("review", []):
        assert review["@type"] == "Review"
        assert 1 <= float(review["reviewRating"]["ratingValue"]) <= 5
        assert review["author"]["name"]


def review_page_urls(site: ThemeSite, refs) -> dict[str, list[str]]:
    """ref -> the URLs of its review pages (every page of its list)."""
    urls: dict[str, list[str]] = {}
    for ref in refs:
        folder = site.path(SETTINGS.product_url.format(slug=product_slug(ref))).parent
        urls[ref] = sorted(p.relative_to(site.output).as_posix() for p in folder.rglob("*.html"))
    return urls


# --- product content pages ------------------------------------------------------------


def test_product_content_pages_have_the_widget_and_one_product_jsonld(
    theme_site: ThemeSite, expected
) -> None:
    for ref, (slug, title) in PRODUCTS.items():
        tree = theme_site.tree(f"pages/{slug}.html")
        assert title in tree.xpath("string(//title)") or title in tree.text_content()
        assert len(tree.xpath(WIDGET)) == 1, f"{slug}: widgets {len(tree.xpath(WIDGET))}"
        (product,) = things(jsonld(tree), "Product")
        check_product(product, ref, expected)
        # the theme's own content is all there, before the widget
        body = tree.text_content()
        assert "Second paragraph of the product description." in body


def test_the_article_and_other_pages_get_no_widget(theme_site: ThemeSite) -> None:
    tree = theme_site.tree("pages/contact.html")
    assert tree.xpath(WIDGET) == [] and things(jsonld(tree), "Product") == []


# --- review pages ---------------------------------------------------------------------


def test_every_product_review_page_has_valid_product_jsonld(
    theme_site: ThemeSite, expected
) -> None:
    pages = review_page_urls(theme_site, sorted(expected))
    for ref, urls in pages.items():
        assert urls, f"no review page for {ref}"
        for url in urls:
            products = things(jsonld(theme_site.tree(url)), "Product")
            assert len(products) == 1, f"{url}: {len(products)} Product blocks"
            for product in products:
                check_product(product, ref, expected)


# --- the theme's chrome ---------------------------------------------------------------


def review_pages(site: ThemeSite) -> list[str]:
    first = next(iter(PRODUCTS))
    return [
        SETTINGS.brand_url,
        SETTINGS.products_url,
        SETTINGS.product_url.format(slug=product_slug(first)),
    ]


def test_the_theme_chrome_is_the_themes_own(theme_site: ThemeSite) -> None:
    """Site name, subtitle, menu and footer: the very bytes of the theme's index page."""
    theme = theme_site.theme
    index = theme_site.html("index.html")
    chrome = [element_source(index, *spec) for spec in theme.chrome]
    # the test's own inputs reach the chrome, as the theme writes them (unescaped)
    assert any(SITESUBTITLE in part for part in chrome), "SITESUBTITLE is not in the chrome"
    if theme.footer_setting:
        assert any(FOOTER_LINK in part for part in chrome), "the footer setting is not shown"
    for url in review_pages(theme_site):
        html = theme_site.html(url)
        for spec, own in zip(theme.chrome, chrome, strict=True):
            assert element_source(html, *spec) == own, f"{url}: {spec[0]} differs"


# --- the sitemap ----------------------------------------------------------------------


def noindex_pages(site: ThemeSite) -> set[str]:
    """Pages that say noindex (a robots meta anywhere)."""
    found = set()
    for rel in site.html_files():
        url = rel.removesuffix("index.html")
        tree = site.tree(rel)
        robots = " ".join(tree.xpath('//meta[@name="robots"]/@content')).lower()
        if "noindex" in robots:
            found.add(url)
    return found


def test_no_noindex_page_is_in_the_sitemap(theme_site: ThemeSite) -> None:
    sitemap = lxml.etree.parse(str(theme_site.output / "sitemap.xml"))
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    listed = {loc.strip().lstrip("/") for loc in sitemap.xpath("//s:loc/text()", namespaces=ns)}
    assert SETTINGS.brand_url in listed, "the review pages are meant to be indexed"
    assert sorted(listed & noindex_pages(theme_site)) == []
    # every review page is one to index (no filtered copy of a list), and is listed
    ours = [u for u in theme_site.html_files() if u.startswith(SETTINGS.brand_url)]
    ours = [u.removesuffix("index.html") for u in ours]
    assert len(ours) > len(PRODUCTS) and any("/page/" in u for u in ours)
    assert sorted(set(ours) - listed) == [] and sorted(set(ours) & noindex_pages(theme_site)) == []
    # a sitemap lists pages: not stylesheets, data files, scripts or widget fragments
    assert [u for u in listed if u.endswith((".css", ".json", ".js"))] == []
    assert [u for u in listed if u.startswith(SETTINGS.widget_dir.strip("/") + "/")] == []


def test_the_plugins_files_survive_the_themes_plugins(theme_site: ThemeSite) -> None:
    """Stylesheets, scripts and JSON we write stay what they are, whatever else runs.

    (A theme's plugin may rewrite every file Pelican reports as written, taking
    it for an HTML page: plumage does.)
    """
    checked = 0
    for path in sorted(theme_site.output.rglob("*")):
        rel = path.relative_to(theme_site.output).as_posix()
        if rel.startswith("theme/") or path.suffix not in (".css", ".js", ".json"):
            continue
        text = path.read_text("utf-8")
        assert not text.lstrip().startswith("<"), f"{rel} was rewritten as HTML: {text[:60]!r}"
        if path.suffix == ".json":
            json.loads(text)
        checked += 1
    assert checked, "no stylesheet, script or JSON file of the plugin found"


# --- our own theme --------------------------------------------------------------------


def test_no_second_widget_in_our_own_theme(lumiere_site: Path) -> None:
    """The demo theme calls review_feed_for(page) itself: still one widget, one Product."""
    seen = 0
    for path in sorted((lumiere_site / "teas").rglob("index.html")):
        tree = lxml.html.fromstring(path.read_text("utf-8"))
        widgets = tree.xpath(WIDGET)
        products = things(jsonld(tree), "Product")
        assert len(widgets) <= 1 and len(products) <= 1, path
        seen += bool(widgets)
    assert seen >= 4, "the demo's product pages show their widget"
