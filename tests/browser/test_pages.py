"""The demo site's own pages in a real browser: clean console, loopback only, CLS 0, axe."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from browser_harness import HOSTILE_REF, axe_violations, cls, dump, settle
from review_feed.settings import load_settings
from review_feed.site.slugs import product_slug

SETTINGS = load_settings({}, {})
PAGES = ["brand", "product", "hostile-product", "products", "content"]


def _content_page_with_widget(site) -> str:
    """A page of content/ that declares a product and so shows its widget."""
    for path in sorted(site.output.rglob("*.html")):
        rel = path.relative_to(site.output).as_posix()
        if rel.startswith(("reviews/", "widgets/")):
            continue
        if 'class="rf-w"' in path.read_text(encoding="utf-8"):
            return rel.removesuffix("index.html")
    raise AssertionError("no content page shows a review widget")


def page_path(site, which: str) -> str:
    normal = next(r for r in site.refs if r != HOSTILE_REF)
    match which:
        case "brand":
            return SETTINGS.brand_url
        case "products":
            return SETTINGS.products_url
        case "product":
            return SETTINGS.product_url.format(slug=product_slug(normal))
        case "hostile-product":
            return SETTINGS.product_url.format(slug=product_slug(HOSTILE_REF))
        case "content":
            return _content_page_with_widget(site)
    raise ValueError(which)


@pytest.mark.parametrize("width", [1200, 375])
@pytest.mark.parametrize("which", PAGES)
def test_page_renders_cleanly_without_shift(which, width, site, site_server, open_page):
    page, watch = open_page(site_server.url + page_path(site, which), width=width)
    assert page.locator("h1").count() >= 1
    settle(page)
    assert cls(page) == 0, page.evaluate("window.__shifts")
    assert page.evaluate("window.__pwned") is None
    watch.assert_clean()
    assert watch.requests and all(u.startswith(site_server.url) for u in watch.requests), dump(
        watch.requests
    )


def test_hostile_text_is_shown_as_text(site, site_server, open_page):
    page, watch = open_page(site_server.url + page_path(site, "hostile-product"))
    body = page.locator("body").inner_text()
    assert "<script>window.__pwned=1</script>" in body
    assert "{{ 7*7 }}" in body  # never evaluated as a template
    assert "Evil lamp" in body
    assert page.evaluate("window.__pwned") is None
    # JSON-LD survived `</script>` in the text: every block parses
    for block in page.locator('script[type="application/ld+json"]').all():
        page.evaluate("t => JSON.parse(t)", block.text_content())
    watch.assert_clean()


@pytest.mark.parametrize("which", ["brand", "product", "products", "content"])
def test_page_passes_axe(which, site, site_server, open_page, axe_js):
    page, _ = open_page(site_server.url + page_path(site, which))
    violations = axe_violations(page, axe_js)
    assert violations == [], dump(violations)


@pytest.mark.parametrize("which", ["brand", "product"])
def test_widget_frame_pages_pass_axe(which, site, site_server, open_page, axe_js):
    ref = None if which == "brand" else next(r for r in site.refs if r != HOSTILE_REF)
    query = "" if ref is None else f"?product={quote(ref, safe='')}"
    page, watch = open_page(f"{site_server.url}{SETTINGS.widget_dir}/frame.html{query}")
    page.wait_for_selector(".rf-w")
    assert page.title()
    assert page.evaluate("document.documentElement.lang")
    assert cls(page) == 0
    watch.assert_clean()
    assert axe_violations(page, axe_js) == []


def test_one_page_list_filters_by_stars_without_javascript(site, site_server, open_page):
    """A product whose reviews fit on one page has no stars-K pages: the distribution
    links filter the list in the page with CSS alone (:target)."""
    page, watch = open_page(site_server.url + page_path(site, "product"), js=False)
    reviews = page.locator("ul.rfp-reviews > li")
    total = reviews.count()
    assert total > 1
    assert page.locator(".rfp-summary .rf-st").bounding_box()["width"] > 0  # stars drawn
    link = page.locator("ul.rfp-dist a").first
    level = link.get_attribute("href").removeprefix("#rfp-stars-")
    link.click()
    shown = [r for r in reviews.all() if r.is_visible()]
    assert 0 < len(shown) < total
    assert {r.get_attribute("data-stars") for r in shown} == {level}
    page.locator("a.rfp-unfilter").click()
    assert sum(r.is_visible() for r in reviews.all()) == total
    watch.assert_clean()
