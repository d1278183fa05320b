"""Hostile review text stays text; JSON-LD parses, has the required fields, stays in its script."""

from __future__ import annotations

import re

from review_feed.site.slugs import product_slug
from sitebuild import REVIEW_TEXT, REVIEWS, product_review, replies, site_review

HOSTILE = (
    "<script>alert('x')</script> {{ 7*7 }} {% raw %} </script><!-- \"quoted\" & 'single' "
    "\u202eRTL override مرحبا بالعالم 🎄🍵 ${7*7}"
)
HOSTILE_REF = '"><img src=x onerror=alert(1)>'


def live_scripts(html: str) -> list[str]:
    """Every <script> opening tag that is not our JSON-LD block."""
    return [t for t in re.findall(r"<script\b[^>]*>", html, re.I) if "application/ld+json" not in t]


def hostile_reviews():
    return [
        site_review(0, 5),  # older: the hostile one is first, and the list spans pages
        site_review(
            1,
            1,
            text=HOSTILE,
            author='<b>Eve</b> "O\'Hara"',
            replies=replies(("2026-10-05T08:00:00", "<i>who</i>", HOSTILE)),
        ),
        product_review(
            2,
            HOSTILE_REF,
            5,
            text=HOSTILE,
            author="</script><script>alert(2)</script>",
            product_name="<svg onload=alert(3)> {{ 7*7 }}",
        ),
    ]


def test_hostile_text_is_escaped_and_never_evaluated(build_site):
    built = build_site(
        hostile_reviews(), REVIEW_FEED_BRAND_AGGREGATE_MARKUP=True, REVIEW_FEED_PAGE_SIZE=1
    )
    slug = product_slug(HOSTILE_REF)
    urls = ["reviews/", "reviews/page/1/", "reviews/products/", f"reviews/products/{slug}/"]
    for url in urls:
        html = built.html(url)
        assert live_scripts(html) == [], url
        assert "<img src=x" not in html and "<svg onload" not in html, url
    brand = built.html("reviews/")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; {{ 7*7 }} {% raw %}" in brand
    assert "&lt;b&gt;Eve&lt;/b&gt; &#34;O&#39;Hara&#34;" in brand
    assert "&lt;i&gt;who&lt;/i&gt;" in brand  # an unknown reply origin, shown as given
    assert ">49<" not in brand and " 49 " not in brand
    # the page text a reader sees is exactly the review
    tree = built.tree("reviews/")
    assert tree.xpath(f"string({REVIEW_TEXT})") == HOSTILE
    product = built.tree(f"reviews/products/{slug}/")
    # the theme heading prints page.title: < > " ' = as lookalikes: no tag, no attribute
    assert product.xpath("string(//h1)") == "Reviews of ‹svg onload＝alert(3)› {{ 7*7 }}"
    # widgets written by the build escape too; the one iframe page runs only our loader
    # (no feed text is in it: it fetches the fragment the loader rebuilds)
    for path in (built.output / "widgets").rglob("*.html"):
        scripts = live_scripts(path.read_text("utf-8"))
        if path.name == "frame.html":
            assert scripts[1:] == ['<script src="review-feed.js">'], scripts
            assert "alert" not in path.read_text("utf-8")
        else:
            assert scripts == [], path


def test_jsonld_survives_hostile_text(build_site):
    built = build_site(
        hostile_reviews(), REVIEW_FEED_BRAND_AGGREGATE_MARKUP=True, REVIEW_FEED_PAGE_SIZE=1
    )
    slug = product_slug(HOSTILE_REF)
    html = built.html(f"reviews/products/{slug}/")
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    assert "<" not in blocks[0] and ">" not in blocks[0] and "&" not in blocks[0]
    (doc,) = built.jsonld(f"reviews/products/{slug}/")
    assert doc["name"] == "<svg onload=alert(3)> {{ 7*7 }}"
    assert doc["sku"] == HOSTILE_REF
    assert doc["review"][0]["author"] == {
        "@type": "Person",
        "name": "</script><script>alert(2)</script>",
    }
    (org,) = built.jsonld("reviews/")
    assert org["review"][0]["author"]["name"] == '<b>Eve</b> "O\'Hara"'


def test_product_jsonld_fields(build_site):
    reviews = [
        product_review(i, "SKU-100", r, date=f"2026-11-{10 + i:02d}T10:00:00+01:00")
        for i, r in enumerate([5, 4, 4, 5, 3])
    ]
    built = build_site(reviews, REVIEW_FEED_PAGE_SIZE=2, SITEURL="https://shop.example")
    slug = product_slug("SKU-100")
    (doc,) = built.jsonld(f"reviews/products/{slug}/")
    assert doc["@context"] == "https://schema.org"
    assert doc["@type"] == "Product"
    assert doc["name"] == "SKU-100" and doc["sku"] == "SKU-100"
    assert doc["url"] == f"https://shop.example/reviews/products/{slug}/"
    assert doc["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": 4.2,
        "reviewCount": 5,
        "bestRating": 5,
        "worstRating": 1,
    }
    # exactly the reviews shown on that page, newest first
    assert [r["datePublished"] for r in doc["review"]] == [
        "2026-11-14T10:00:00+01:00",
        "2026-11-13T10:00:00+01:00",
        "2026-11-12T10:00:00+01:00",
    ]
    assert doc["review"][0] == {
        "@type": "Review",
        "author": {"@type": "Person", "name": "Author4 B."},
        "datePublished": "2026-11-14T10:00:00+01:00",
        "reviewRating": {"@type": "Rating", "ratingValue": 3, "bestRating": 5, "worstRating": 1},
    }  # no reviewBody: the review's text is on the page once, not again in the JSON-LD
    assert "Product review number 4" in built.html(f"reviews/products/{slug}/")
    # the archive page (the two oldest) has none: what the markup rates is on the main page
    assert built.jsonld(f"reviews/products/{slug}/page/1/") == []
    assert "Product review number 0" in built.html(f"reviews/products/{slug}/page/1/")
    # the dot, whatever the language
    html_fr = build_site(reviews, REVIEW_FEED_LANG="fr").html(f"reviews/products/{slug}/")
    assert '"ratingValue":4.2' in html_fr and "4,2 sur 5" in html_fr


def test_product_jsonld_lists_the_first_three_reviews_shown(build_site):
    """A 15-review page marks up its aggregate and its first three reviews, not all 15."""
    reviews = [
        product_review(i, "SKU-100", 1 + i % 5, date=f"2026-10-{1 + i:02d}T10:00:00+01:00")
        for i in range(25)
    ]
    built = build_site(reviews, REVIEW_FEED_PAGE_SIZE=10)
    slug = product_slug("SKU-100")
    tree = built.tree(f"reviews/products/{slug}/")
    assert len(tree.xpath(REVIEWS)) == 15
    (doc,) = built.jsonld(f"reviews/products/{slug}/")
    assert doc["aggregateRating"]["reviewCount"] == 25
    assert [r["datePublished"] for r in doc["review"]] == [
        "2026-10-25T10:00:00+01:00",
        "2026-10-24T10:00:00+01:00",
        "2026-10-23T10:00:00+01:00",
    ]
    assert built.jsonld(f"reviews/products/{slug}/page/1/") == []


def test_brand_page_has_no_aggregate_markup_by_default(build_site):
    reviews = [site_review(i, 5) for i in range(3)]
    built = build_site(reviews)
    assert built.jsonld("reviews/") == []
    assert "aggregateRating" not in built.html("reviews/")
    (org,) = build_site(reviews, REVIEW_FEED_BRAND_AGGREGATE_MARKUP=True).jsonld("reviews/")
    assert org["@type"] == "Organization" and org["name"] == "Test Tea Shop"
    assert org["aggregateRating"]["reviewCount"] == 3
    assert org["aggregateRating"]["ratingValue"] == 5
