"""The widget embedded in a plain shop page on ANOTHER origin: loader, iframe, no-JS link."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

import pytest
from browser_harness import FILLED, HOSTILE_REF, axe_violations, cls, dump, serve, settle
from review_feed.settings import load_settings
from review_feed.site.slugs import product_slug
from review_feed.site.widgets import (
    WIDGET_HEIGHT,
    embed_snippets,
    stylesheet_href,
    widget_files,
    write_widgets,
)

SETTINGS = load_settings({}, {})


def snippet(shop, ref: str | None, form: str = "loader", name: str | None = None) -> str:
    return embed_snippets(SETTINGS, shop.site_url, ref=ref, name=name)[form]


def a_product(site) -> str:
    return next(r for r in site.refs if r != HOSTILE_REF)


def screenshot(page, name: str, locator=None) -> None:
    """Saved only when REVIEW_FEED_SCREENSHOTS names a folder (to look at them)."""
    shots = os.environ.get("REVIEW_FEED_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        (locator or page).screenshot(path=f"{shots}/{name}.png")


def test_loader_injects_widget_from_another_origin(site, shop, open_page):
    ref = a_product(site)
    body = snippet(shop, ref, name="Sencha") + "\n" + snippet(shop, None)
    page, watch = open_page(shop.page("loader.html", "Sencha Kagoshima", body))
    page.wait_for_selector("[data-review-feed-product] .rf-w")
    page.wait_for_selector("[data-review-feed-brand] .rf-w")
    widget = page.locator("[data-review-feed-product] .rf-w")
    assert "out of 5" in widget.inner_text()
    # the link points at the site (not the shop): resolved against the fragment's URL
    href = widget.locator("a.rf-all").get_attribute("href")
    assert href.startswith(shop.site_url) and product_slug(ref) in href
    assert page.request.get(href).status == 200
    # the box is exactly the reserved height: nothing below moved
    assert round(widget.bounding_box()["height"]) == WIDGET_HEIGHT
    assert cls(page) == 0, page.evaluate("window.__shifts")
    # the shop's careless CSS (p{color:#7a1f1f; margin:1.4em 0}) does not leak in
    txt = widget.locator(".rf-txt")
    assert txt.evaluate("e => getComputedStyle(e).color") != "rgb(122, 31, 31)"
    assert txt.evaluate("e => getComputedStyle(e).marginTop") == "0px"
    assert page.evaluate("window.__pwned") is None
    watch.assert_clean()
    # exactly: the page, the loader, one fragment per placeholder; and no cookie
    widgets = shop.site_url + SETTINGS.widget_dir
    assert sorted(watch.requests) == sorted(
        [
            page.url,
            f"{widgets}/review-feed.js",
            f"{widgets}/review-feed.css",
            f"{widgets}/products/{product_slug(ref)}.html",
            f"{widgets}/brand.html",
        ]
    ), dump(watch.requests)
    assert page.context.cookies() == []
    page.set_viewport_size({"width": 1200, "height": 1400})
    screenshot(page, "embed-loader-page")
    screenshot(page, "widget-product", widget)
    screenshot(page, "widget-brand", page.locator("[data-review-feed-brand] .rf-w"))


def test_loader_from_a_site_published_under_a_sub_path(site, shop, open_page, tmp_path):
    """E.g. GitHub Pages project sites: https://user.github.io/reviews/widgets/review-feed.js"""
    (tmp_path / "reviews-site").symlink_to(site.output, target_is_directory=True)
    served = serve(tmp_path, cors_prefix="/reviews-site/widgets/")
    try:
        base = served.url + "reviews-site/"
        ref = a_product(site)
        body = embed_snippets(SETTINGS, base, ref=ref)["loader"]
        page, watch = open_page(shop.page("subpath.html", "Sub-path", body))
        widget = page.locator("[data-review-feed-product] .rf-w")
        widget.wait_for()
        href = widget.locator("a.rf-all").get_attribute("href")
        assert href == base + SETTINGS.product_url.format(slug=product_slug(ref))
        assert page.request.get(href).status == 200
        watch.assert_clean()
    finally:
        served.close()


def test_loader_picks_up_placeholders_added_later(site, shop, open_page):
    page, watch = open_page(shop.page("late.html", "Late", snippet(shop, None)))
    page.wait_for_selector("[data-review-feed-brand] .rf-w")
    ref = a_product(site)
    page.evaluate(
        """ref => { const d = document.createElement("div");
        d.setAttribute("data-review-feed-product", ref); d.style.minHeight = "440px";
        document.querySelector("main").append(d);
        document.dispatchEvent(new Event("review-feed:scan")); }""",
        ref,
    )
    page.wait_for_selector("[data-review-feed-product] .rf-w")
    assert page.locator(".rf-w").count() == 2
    watch.assert_clean()


def test_loader_on_a_phone(site, shop, open_page):
    ref = a_product(site)
    url = shop.page("phone.html", "Sencha", snippet(shop, ref, name="Sencha"))
    page, watch = open_page(url, width=375, height=800)
    widget = page.locator("[data-review-feed-product] .rf-w")
    widget.wait_for()
    box = widget.bounding_box()
    assert round(box["height"]) == WIDGET_HEIGHT and box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    assert cls(page) == 0
    watch.assert_clean()
    screenshot(page, "widget-phone", widget)


def test_hostile_review_and_ref_stay_text_through_the_loader(shop, open_page):
    body = snippet(shop, HOSTILE_REF, name="Evil") + "\n" + snippet(shop, None)
    page, watch = open_page(shop.page("hostile.html", "Evil", body))
    page.wait_for_selector("[data-review-feed-product] .rf-w")
    page.wait_for_selector("[data-review-feed-brand] .rf-w")
    settle(page)
    text = page.locator("[data-review-feed-product] .rf-w").inner_text()
    assert "<script>window.__pwned=1</script>" in text  # shown, not run
    assert "{{ 7*7 }}" in text  # never evaluated as a template
    assert page.locator(".rf-w script, .rf-w img, .rf-w svg").count() == 0
    assert page.evaluate("window.__pwned") is None
    watch.assert_clean()


def test_loader_never_runs_code_from_a_tampered_fragment(site, shop, open_page):
    """Even if a fragment file were replaced by hostile HTML, the loader inserts no live code."""
    ref = "TAMPERED-1"
    evil = (
        '<section class="rf-w"><p class="ok" onclick="window.__pwned=1">ok</p>'
        '<img src="x" onerror="window.__pwned=2"><script>window.__pwned=3</script>'
        '<iframe srcdoc="<script>parent.__pwned=4</script>"></iframe>'
        "<svg><script>window.__pwned=5</script></svg>"
        '<a class="js" href="javascript:window.__pwned=6">x</a></section>'
    )
    path = site.output / "widgets" / "products" / f"{product_slug(ref)}.html"
    path.write_text(evil, encoding="utf-8")
    page, watch = open_page(shop.page("tampered.html", "Tampered", snippet(shop, ref)))
    page.wait_for_selector("[data-review-feed-product] .rf-w .ok")
    page.locator(".rf-w .ok").click()
    page.locator(".rf-w a.js").click()
    settle(page)
    assert page.evaluate("window.__pwned") is None
    live = page.locator(".rf-w script, .rf-w img, .rf-w iframe, .rf-w svg, .rf-w [onclick]")
    assert live.count() == 0
    assert page.locator(".rf-w a.js").get_attribute("href") is None
    watch.assert_clean()


REFS = [
    "SKU-100",
    "sku-100",
    "Thé vert/50 g",
    "  spaced  out  ",
    "日本茶",
    "😀 emoji",
    "A" * 70,
    "---",
    "",
    "A-Z_0-9.x",
    "ÀÉÎ ÕÜ",
    "tab\there",
    'q"uote<&>',
    "ß İ ǅ K",  # non-ASCII letters lower() would change: the slug lowers ASCII only
    "x" * 47 + "-y",
    HOSTILE_REF,
    "SKU@@.100!/=X",  # these two shared one path with the 32-bit hash
    "SKU+}]100 *(X",
    "z" * 55,  # SHA-256 padding edges: 55, 56 and 64 bytes
    "z" * 56,
    "é" * 32,
    "long " * 300,
]


def test_loader_computes_the_same_paths_as_python(shop, open_page):
    divs = "\n".join(f'<div data-review-feed-product="{escape(r)}"></div>' for r in REFS)
    script = f'<script src="{shop.site_url}widgets/review-feed.js" async></script>'
    page, watch = open_page(shop.page("paths.html", "Paths", divs, script))
    page.wait_for_function(
        "n => !document.querySelector('[aria-busy]')"
        " && document.querySelectorAll('[data-review-feed-done]').length === n",
        arg=len(REFS),
    )
    asked = {u.rsplit("/", 1)[1] for u in watch.requests if "/widgets/products/" in u}
    assert asked == {f"{product_slug(r)}.html" for r in REFS}, dump(sorted(asked))


def test_without_javascript_the_snippet_is_a_working_link(site, shop, open_page):
    ref = a_product(site)
    url = shop.page("nojs.html", "No JS", snippet(shop, ref, name="Sencha"))
    page, watch = open_page(url, js=False)
    link = page.locator("[data-review-feed-product] a")
    assert link.is_visible()
    assert "Sencha" in link.inner_text()
    href = link.get_attribute("href")
    assert href == f"{shop.site_url}{SETTINGS.product_url.format(slug=product_slug(ref))}"
    assert page.request.get(href).status == 200
    assert page.locator(".rf-w").count() == 0
    # the <noscript> rule gives the reserved height back: no empty 440 px box
    assert page.locator("[data-review-feed-product]").bounding_box()["height"] < 100
    watch.assert_clean()


def test_iframe_embed(site, shop, open_page):
    """One iframe page for every widget: each frame shows the product in its URL."""
    ref, other = [r for r in site.refs if r != HOSTILE_REF][:2]
    body = "".join(snippet(shop, who, "iframe") for who in (ref, other, None))
    page, watch = open_page(shop.page("iframe.html", "Iframe", body))
    frames = page.locator("iframe")
    for i, who in enumerate((ref, other, None)):
        frame = page.frame_locator("iframe").nth(i)
        widget = frame.locator(".rf-w")
        widget.wait_for()
        assert "out of 5" in widget.inner_text()
        href = widget.locator("a.rf-all").get_attribute("href")
        want = SETTINGS.brand_url
        if who is not None:
            want = SETTINGS.product_url.format(slug=product_slug(who))
        assert href == shop.site_url + want
        assert round(frames.nth(i).bounding_box()["height"]) == WIDGET_HEIGHT
        # the widget fills the frame, stars drawn by the shared stylesheet
        assert round(widget.bounding_box()["height"]) == WIDGET_HEIGHT
        assert frame.locator(".rf-big .rf-st").evaluate(FILLED) > 0
    assert cls(page) == 0
    watch.assert_clean()
    # a link in the frame opens in the shop's window, not inside the frame
    page.frame_locator("iframe").first.locator("a.rf-all").click()
    page.wait_for_url(shop.site_url + SETTINGS.product_url.format(slug=product_slug(ref)))
    screenshot(page, "embed-iframe-page")


def test_iframe_without_javascript_links_to_the_reviews(site, shop, open_page):
    url = shop.page("iframe-nojs.html", "Iframe", snippet(shop, a_product(site), "iframe"))
    page, watch = open_page(url, js=False)
    frame = page.frame_locator("iframe")
    text = frame.locator("main").inner_text()
    assert "JavaScript" in text and frame.locator(".rf-w").count() == 0
    hrefs = [a.get_attribute("href") for a in frame.locator("main a").all()]
    assert hrefs == ["../reviews/products/", "../reviews/"]
    watch.assert_clean()


def ssi_fragment(site, shop, ref: str | None, tmp_path) -> str:
    """What a server-side include puts in the page: the fragment of a build with SITEURL."""
    from review_feed.site.data import build_data
    from review_feed.store import read_stored

    data = build_data(read_stored(site.snapshot))
    write_widgets(tmp_path, data, SETTINGS, siteurl=shop.site_url.rstrip("/"), brand_name="B")
    files = widget_files(SETTINGS, ref)
    return (tmp_path / files["html"]).read_text(encoding="utf-8")


def test_server_side_include(site, shop, open_page, tmp_path):
    ref = a_product(site)
    body = ssi_fragment(site, shop, ref, tmp_path)
    page, watch = open_page(shop.page("ssi.html", "SSI", body))
    widget = page.locator(".rf-w")
    assert "out of 5" in widget.inner_text()
    assert round(widget.bounding_box()["height"]) == WIDGET_HEIGHT
    href = widget.locator("a.rf-all").get_attribute("href")
    assert href.startswith(shop.site_url) and page.request.get(href).status == 200
    assert cls(page) == 0
    # in the HTML from the start: the one request for the widget is its shared stylesheet
    css = shop.site_url + stylesheet_href(SETTINGS)
    assert watch.requests == [shop.server.url + "ssi.html", css], dump(watch.requests)
    filled = widget.locator(".rf-big .rf-st").evaluate(FILLED)
    assert 0 < filled < widget.locator(".rf-big .rf-st").bounding_box()["width"]
    watch.assert_clean()


@pytest.mark.parametrize("form", ["loader", "iframe", "ssi"])
def test_embed_pages_pass_axe(form, site, shop, open_page, axe_js, tmp_path):
    if form == "ssi":
        body = ssi_fragment(site, shop, a_product(site), tmp_path)
    else:
        body = snippet(shop, a_product(site), form, name="Sencha")
    page, _ = open_page(shop.page(f"axe-{form}.html", "Sencha", body))
    if form != "iframe":
        page.wait_for_selector(".rf-w")
        violations = axe_violations(page, axe_js)
    else:
        page.frame_locator("iframe").locator(".rf-w").wait_for()
        violations = axe_violations(page.frames[1], axe_js)
    assert violations == [], dump(violations)
