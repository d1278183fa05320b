"""The widget files as written (no browser): sizes, scoping, escaping, the JSON format."""

from __future__ import annotations

import gzip
import json
import re
import tempfile
from pathlib import Path

import pytest
from review_feed.errors import ConfigError
from review_feed.model import Reply, Review
from review_feed.settings import load_settings
from review_feed.site.data import build_data
from review_feed.site.i18n import Translator
from review_feed.site.slugs import product_slug
from review_feed.site.templating import package_env
from review_feed.site.view import review_feed
from review_feed.site.widgets import (
    FORMAT_VERSION,
    HOST_STYLE,
    STYLESHEET_NAME,
    embed_snippets,
    loader_js,
    render_fragment,
    stylesheet_href,
    widget_css,
    widget_document,
    write_widgets,
)
from review_feed.store import read_stored, write_reviews


def data_of(reviews):
    """The build's data of these reviews, written to a snapshot and read back."""
    with tempfile.TemporaryDirectory() as snapshot:
        write_reviews(Path(snapshot), reviews)
        return build_data(read_stored(Path(snapshot)))


TEXT = (
    "Un sencha d'une grande finesse, notes iodées et herbacées. Infusion 1 min 30 à 70 °C, "
    "c'est parfait. Livraison rapide et emballage soigné, je recommande sans hésiter. "
)


def five_reviews(ref: str = "SKU-100") -> list[Review]:
    """Five realistic product reviews (~250 characters each, every other one answered)."""
    return [
        Review(
            kind="product",
            website_id="w",
            id=f"PR{i}",
            review_id=f"R{i}",
            product_ref=ref,
            product_name="Sencha Kagoshima 100 g",
            rating=5 - i % 3,
            text=f"{TEXT} ({i})",
            author="Camille R.",
            date=f"2026-11-{10 + i}T09:14:02+01:00",
            order_date="2026-11-02",
            replies=(Reply("2026-11-22T08:00:00", "merchant", "Merci pour votre avis !"),)
            if i % 2
            else (),
        )
        for i in range(5)
    ]


def feed(data, settings, lang: str = "en", brand_name: str = ""):
    """The view the pages and widgets share, outside a Pelican build."""
    t = Translator(lang)
    return review_feed(data, settings, t, brand_name=brand_name, env=package_env())


def gz(data: str) -> int:
    return len(gzip.compress(data.encode("utf-8"), compresslevel=9, mtime=0))


def test_product_fragment_with_five_reviews_is_under_6_kb_gzipped(tmp_path):
    settings = load_settings({"REVIEW_FEED_WIDGET_COUNT": 5}, {})
    data = data_of(five_reviews())
    write_widgets(tmp_path, data, settings, siteurl="https://shop.example", brand_name="Maison")
    html = (tmp_path / f"widgets/products/{product_slug('SKU-100')}.html").read_text("utf-8")
    assert len(re.findall(r'<li><span class="rf-st"', html)) == 5
    assert gz(html) < 6 * 1024, (len(html), gz(html))


def test_fragment_links_the_notice_and_writes_each_part_once(tmp_path):
    """The notice is a link to the brand page's (not the paragraph again in every
    widget); the stars are one element; a date shown without time has none in
    `datetime`; the list is named once, by its scroll region."""
    settings = load_settings({"REVIEW_FEED_WIDGET_COUNT": 5}, {})
    write_widgets(tmp_path, data_of(five_reviews()), settings, siteurl="https://s.example")
    html = (tmp_path / f"widgets/products/{product_slug('SKU-100')}.html").read_text("utf-8")
    t = Translator("en")
    assert t.text("notice") not in html
    about = f'<a href="https://s.example/reviews/#rfp-notice">{t.text("about_reviews")}</a>'
    assert about in html
    assert "<span style=" not in html and "width:" not in html.replace(HOST_STYLE, "")
    assert re.findall(r'<span class="rf-st"[^>]*></span>', html)
    dates = {d[:10] for r in five_reviews() for d in (r.date, *(x.date for x in r.replies))}
    assert set(re.findall(r'datetime="([^"]+)"', html)) == dates  # a date each, no time
    assert html.count('aria-label="Latest reviews"') == 1


def test_loader_is_small_plain_es2017():
    js = loader_js()
    assert gz(js) < 2 * 1024, gz(js)
    # ES2017: no optional chaining / nullish coalescing / modules / class fields
    assert not re.search(r"\?\.|\?\?|^\s*import |^\s*export ", js, re.M)
    assert "eval(" not in js and "innerHTML" not in js and "Function(" not in js
    # nothing fetched is inserted as it is: no adoptNode/importNode, no HTML sinks
    for sink in ("adoptNode", "importNode", "insertAdjacentHTML", "outerHTML", "document.write"):
        assert sink not in js, sink


def test_loader_stylesheet_is_the_widget_css(tmp_path):
    write_widgets(tmp_path, data_of(five_reviews()), load_settings({}, {}))
    assert (tmp_path / "widgets/review-feed.css").read_text("utf-8") == widget_css() + "\n"


def _selectors(css: str) -> list[str]:
    css = re.sub(r"@container[^{]*\{", "", css)  # the query itself is not a selector
    return [s.strip() for block in re.findall(r"([^{}]+)\{[^{}]*\}", css) for s in block.split(",")]


def test_css_is_scoped_to_the_widget():
    """In a shadow root nothing leaks anyway; in the iframe page and old browsers' fallback
    every rule still names the widget (or its shadow host)."""
    selectors = _selectors(widget_css())
    assert len(selectors) > 20
    unscoped = [s for s in selectors if not s.startswith((".rf-w", ":host"))]
    assert unscoped == []


def test_fragment_is_self_contained_and_escapes_feed_text():
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)> {{ 7*7 }}"
    reviews = five_reviews("<b>ref")
    reviews[0] = Review(**{**_fields(reviews[0]), "text": evil, "author": evil})
    data = data_of(reviews)
    settings = load_settings({}, {})
    html = str(render_fragment(feed(data, settings, brand_name=evil), "<b>ref"))
    assert "<script" not in html and "<img" not in html and "<b>ref" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html
    # a declarative shadow root linking the shared stylesheet (no CSS of its own: the
    # host's box only), then the plain fallback for old browsers
    host = f'<div class="rf-host" style="{HOST_STYLE}"><template shadowrootmode="open">'
    assert html.startswith(host + f'<link rel="stylesheet" href="{stylesheet_href(settings)}">')
    assert "<style" not in html and html.count("style=") == 1 + html.count('style="--r:')
    assert html.count("<template") == 1 and html.rstrip().endswith("</p></div>")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing external
    assert " id=" not in html  # two widgets on one page never clash


def _fields(r: Review) -> dict:
    return r._asdict()  # a named tuple's own API


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_summary_is_readable_text(lang):
    data = data_of(five_reviews())
    html = str(render_fragment(feed(data, load_settings({}, {}), lang), "SKU-100"))
    avg = data.products["SKU-100"].aggregate.average_text
    if lang == "en":
        assert f"{avg} out of 5, 5 reviews" in html
    else:
        assert f"{avg.replace('.', ',')} sur 5, 5 avis" in html and 'lang="fr"' in html


def test_json_document_format(tmp_path):
    settings = load_settings({"REVIEW_FEED_WIDGET_COUNT": 3}, {})
    data = data_of(five_reviews())
    write_widgets(tmp_path, data, settings, siteurl="https://shop.example", brand_name="Maison")
    slug = product_slug("SKU-100")
    doc = json.loads((tmp_path / f"widgets/products/{slug}.json").read_text("utf-8"))
    assert doc == widget_document(
        feed(data, settings, brand_name="Maison"), "SKU-100", url=doc["url"]
    )
    assert doc["version"] == FORMAT_VERSION == 2
    # what is the same for every product is in the brand's document only
    assert not {"lang", "brand", "notice"} & set(doc)
    assert doc["kind"] == "product"
    assert doc["product"] == {"ref": "SKU-100", "name": "Sencha Kagoshima 100 g", "slug": slug}
    assert doc["url"] == f"https://shop.example/reviews/products/{slug}/"
    agg = data.products["SKU-100"].aggregate
    assert doc["aggregate"] == {
        "count": 5,
        "average": agg.average,
        "average_text": agg.average_text,
    }
    assert [d["stars"] for d in doc["distribution"]] == [5, 4, 3, 2, 1]
    assert sum(d["count"] for d in doc["distribution"]) == 5
    assert [r["id"] for r in doc["reviews"]] == ["PR4", "PR3", "PR2"]  # newest first, N of them
    assert set(doc["reviews"][0]) == {
        "id", "rating", "author", "date", "order_date", "text", "replies"
    }  # fmt: skip
    assert doc["reviews"][1]["replies"] == [
        {"date": "2026-11-22T08:00:00", "origin": "merchant", "text": "Merci pour votre avis !"}
    ]
    brand = json.loads((tmp_path / "widgets/brand.json").read_text("utf-8"))
    assert brand["kind"] == "brand" and brand["product"] is None and brand["reviews"] == []
    assert brand["aggregate"]["count"] == 0 and brand["aggregate"]["average"] is None
    assert brand["lang"] == "en" and brand["brand"] == "Maison"
    assert brand["notice"] == Translator("en").text("notice")


def test_files_and_relative_links_without_siteurl(tmp_path):
    settings = load_settings({}, {})
    data = data_of(five_reviews())
    written = write_widgets(tmp_path, data, settings)
    slug = product_slug("SKU-100")
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert names == sorted(
        [
            "widgets/brand.html",
            "widgets/brand.json",
            f"widgets/products/{slug}.html",
            f"widgets/products/{slug}.json",
            "widgets/review-feed.js",
            "widgets/review-feed.css",
            "widgets/frame.html",
        ]
    )
    html = (tmp_path / f"widgets/products/{slug}.html").read_text("utf-8")
    assert f'href="../../reviews/products/{slug}/"' in html  # relative to the fragment
    assert f'<link rel="stylesheet" href="../{STYLESHEET_NAME}?v=' in html
    # one iframe page for every widget: the loader next to it, nothing of a product's
    frame = (tmp_path / "widgets/frame.html").read_text("utf-8")
    assert frame.startswith("<!doctype html>") and '<html lang="en">' in frame
    assert '<base target="_top">' in frame and '<script src="review-feed.js">' in frame
    assert "SKU-100" not in frame and "Sencha" not in frame and slug not in frame
    assert 'href="../reviews/products/"' in frame and 'href="../reviews/"' in frame


def test_snippets():
    settings = load_settings({}, {})
    s = embed_snippets(settings, "https://shop.example/", ref='SKU "1"', name="Tea <b>")
    slug = product_slug('SKU "1"')
    assert s["ssi"] == f'<!--#include virtual="/widgets/products/{slug}.html" -->'
    assert 'src="https://shop.example/widgets/frame.html?product=SKU%20%221%22"' in s["iframe"]
    assert 'data-review-feed-product="SKU &#34;1&#34;"' in s["loader"]
    assert "Tea &lt;b&gt;" in s["loader"] and "min-height:440px" in s["loader"]
    assert f'href="https://shop.example/reviews/products/{slug}/"' in s["loader"]
    assert 'src="https://shop.example/widgets/review-feed.js"' in s["loader"]


@pytest.mark.parametrize("value", ["", "/", "../up", "/abs/widgets", "a//b", "a/../b"])
def test_widget_dir_must_stay_inside_the_output(tmp_path, value):
    settings = load_settings({"REVIEW_FEED_WIDGET_DIR": value}, {})
    with pytest.raises(ConfigError, match="REVIEW_FEED_WIDGET_DIR"):
        write_widgets(tmp_path / "out", data_of(five_reviews()), settings)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))


def test_widget_dir_setting_moves_every_file(tmp_path):
    settings = load_settings({"REVIEW_FEED_WIDGET_DIR": "embed/reviews/"}, {})
    written = write_widgets(tmp_path, data_of(five_reviews()), settings)
    assert all(p.relative_to(tmp_path).as_posix().startswith("embed/reviews/") for p in written)
    assert (tmp_path / "embed/reviews/review-feed.js").exists()
    assert '/embed/reviews/frame.html"' in embed_snippets(settings, "https://x.example")["iframe"]


def test_widget_count_zero_shows_the_summary_only():
    settings = load_settings({"REVIEW_FEED_WIDGET_COUNT": 0}, {})
    html = str(render_fragment(feed(data_of(five_reviews()), settings), "SKU-100"))
    assert "out of 5, 5 reviews" in html and 'class="rf-list"' not in html
    assert "No reviews yet" not in html and "See all 5 reviews" in html


def test_brand_without_reviews():
    html = str(
        render_fragment(feed(data_of(five_reviews()), load_settings({}, {}), brand_name="B"))
    )
    assert "No reviews yet" in html and 'class="rf-dist"' not in html and "out of 5" not in html
    assert "Go to the reviews page" in html
