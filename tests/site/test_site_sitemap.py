"""With pelican-sitemap enabled and nothing configured, the sitemap lists the review
pages and no noindex page, widget file or stylesheet (a real build with both plugins)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from review_feed.site.slugs import legacy_slug, product_slug
from sitebuild import product_review, site_review

pytest.importorskip("pelican.plugins.sitemap")

SITE = "https://shop.example"


def reviews():
    brand = [site_review(i, [5, 4, 1][i % 3]) for i in range(7)]
    products = [product_review(100 + i, "SKU-1", [5, 3][i % 2]) for i in range(5)]
    return [*brand, *products, product_review(200, "SKU-2", 4)]


def sitemap_urls(built) -> set[str]:
    xml = (built.output / "sitemap.xml").read_text("utf-8")
    return set(re.findall(r"<loc>(.*?)</loc>", xml))


def noindex_urls(output: Path) -> set[str]:
    found = set()
    for path in output.rglob("*.html"):
        if re.search(r'<meta name="robots" content="noindex', path.read_text("utf-8")):
            url = path.relative_to(output).as_posix()
            found.add(f"{SITE}/" + re.sub(r"(^|/)index\.html$", r"\1", url))
    return found


@pytest.mark.parametrize("theme", ["notmyidea", None])
def test_no_noindex_page_in_the_sitemap(build_site, theme):
    extra = {"THEME": theme} if theme else {}
    built = build_site(
        reviews(),
        pages={"sencha.md": "Title: Sencha\nproduct_ref: SKU-1\n\nTea.\n"},
        PLUGINS=["sitemap", "review_feed"],
        SITEURL=SITE,
        RELATIVE_URLS=False,
        REVIEW_FEED_PAGE_SIZE=2,
        REVIEW_FEED_OLD_PATHS=True,
        REVIEW_FEED_PRODUCTS_PAGE_SIZE=1,
        **extra,
    )
    urls = sitemap_urls(built)
    slug = product_slug("SKU-1")
    noindex = noindex_urls(built.output)
    assert f"{SITE}/reviews/products/{legacy_slug('SKU-1')}/" in noindex  # redirects...
    assert urls & noindex == set()  # ...and none is listed
    assert not [u for u in urls if "/widgets/" in u or u.endswith((".css", ".json", ".js"))]
    index = ("reviews/products/", "reviews/products/page/2/")  # a page a product
    for url in ("reviews/", "reviews/page/2/", *index, f"reviews/products/{slug}/"):
        assert f"{SITE}/{url}" in urls
    assert f"{SITE}/teas/sencha/" in urls


def test_the_sites_own_exclusions_are_kept(build_site):
    built = build_site(
        reviews(),
        PLUGINS=["sitemap", "review_feed"],
        SITEURL=SITE,
        RELATIVE_URLS=False,
        REVIEW_FEED_PAGE_SIZE=2,
        SITEMAP={"exclude": [r"^reviews/page/"]},
    )
    urls = sitemap_urls(built)
    assert f"{SITE}/reviews/" in urls and f"{SITE}/reviews/page/2/" not in urls
    assert not [u for u in urls if "stars-" in u]
