"""Product paths: a 128-bit hash no feed can collide by search, and the old 32-bit paths kept."""

from __future__ import annotations

import hashlib
import json
import logging
import re

import pytest
from review_feed.site.pages import LOOKALIKES
from review_feed.site.slugs import legacy_slug, product_slug
from sitebuild import product_review, site_review

# Found in seconds by search against the 32-bit FNV-1a of earlier releases.
COLLIDING = ("SKU@@.100!/=X", "SKU+}]100 *(X")


def test_slug_is_readable_part_and_128_bits_of_sha256():
    assert product_slug("SKU-100") == "sku-100-2f88423861e6d7bce48b574f9cf886c6"
    assert product_slug("日本茶") == "p-" + hashlib.sha256("日本茶".encode()).hexdigest()[:32]
    assert re.fullmatch(r"[a-z0-9-]{0,48}-[0-9a-f]{32}", product_slug("x" * 500))
    assert len({product_slug(r) for r in ["SKU-100", "sku-100", "SKU 100", "SKU/100"]}) == 4


def test_the_colliding_refs_of_the_old_hash_get_distinct_paths():
    assert legacy_slug(COLLIDING[0]) == legacy_slug(COLLIDING[1])  # the old scheme's flaw
    assert product_slug(COLLIDING[0]) != product_slug(COLLIDING[1])


def test_legacy_slugs_are_the_published_ones():
    """The paths earlier releases published (their README's table): kept exactly."""
    assert legacy_slug("SKU-100") == "sku-100-2b304a4c"
    assert legacy_slug("sku-100") == "sku-100-99a242ac"
    assert legacy_slug("SKU 100") == "sku-100-d6596e95"
    assert legacy_slug("COFFRET NOËL") == "coffret-no-l-6777df11"


def test_a_build_with_refs_that_collided_publishes_both(build_site):
    reviews = [product_review(i, ref, 5, text=f"about {ref}") for i, ref in enumerate(COLLIDING)]
    built = build_site(reviews, REVIEW_FEED_OLD_PATHS=True)
    for ref in COLLIDING:
        tree = built.tree(f"reviews/products/{product_slug(ref)}/")
        # the heading is the theme's (a title safe in any theme use); the JSON-LD keeps the ref
        assert tree.xpath("string(//h1)") == f"Reviews of {ref}".translate(LOOKALIKES)
        (ld,) = tree.xpath("//script[@type='application/ld+json']/text()")
        assert json.loads(ld)["sku"] == ref
        assert (built.output / f"widgets/products/{product_slug(ref)}.html").is_file()
    # they shared one old path: earlier releases published neither, so nothing is kept there
    old = legacy_slug(COLLIDING[0])
    assert not built.path(f"reviews/products/{old}/").exists()
    assert not (built.output / f"widgets/products/{old}.html").exists()


def test_old_paths_redirect_or_keep_serving(build_site):
    built = build_site([product_review(1, "SKU-100", 4, text="Lovely")], REVIEW_FEED_OLD_PATHS=True)
    new, old = product_slug("SKU-100"), legacy_slug("SKU-100")
    page = built.html(f"reviews/products/{old}/")
    target = f"../{new}/"
    assert f'<meta http-equiv="refresh" content="0; url={target}">' in page
    assert f'<link rel="canonical" href="{target}">' in page and "noindex" in page
    assert built.path(f"reviews/products/{new}/").is_file()
    widgets = built.output / "widgets" / "products"
    # SSI includes and fetches do not follow redirects: the same bytes at the old path
    for ext in (".html", ".json"):
        assert (widgets / f"{old}{ext}").read_bytes() == (widgets / f"{new}{ext}").read_bytes()
    frame = (widgets / f"{old}-frame.html").read_text("utf-8")
    assert 'url=../frame.html?product=SKU-100"' in frame  # the one iframe page, this product


def test_old_paths_absolute_with_siteurl_and_off_by_default(build_site):
    built = build_site(
        [product_review(1, "SKU-100", 4)],
        SITEURL="https://r.example",
        RELATIVE_URLS=False,
        REVIEW_FEED_OLD_PATHS=True,
    )
    url = f"https://r.example/reviews/products/{product_slug('SKU-100')}/"
    assert f'href="{url}"' in built.html(f"reviews/products/{legacy_slug('SKU-100')}/")
    off = build_site([product_review(1, "SKU-100", 4)])
    assert not off.path(f"reviews/products/{legacy_slug('SKU-100')}/").exists()
    assert not list((off.output / "widgets/products").glob(f"{legacy_slug('SKU-100')}*"))
    # the product's own files: its page, its fragment and its JSON document
    own = sorted(p.relative_to(off.output).as_posix() for p in off.output.rglob("*"))
    assert [p for p in own if legacy_slug("SKU-100") in p] == []


def test_a_path_collision_leaves_one_product_out_and_the_build_goes_on(
    build_site, monkeypatch, caplog
):
    """128 bits never collide; if two refs ever did, one product waits, not the whole site."""
    monkeypatch.setattr("review_feed.site.data.product_slug", lambda ref: "same-path")
    caplog.set_level(logging.WARNING)
    reviews = [product_review(1, "A-1", 5), product_review(2, "B-2", 4), site_review(9, 5)]
    built = build_site(reviews)
    assert "'A-1' and 'B-2' map to the same path same-path: 'B-2' is left out" in caplog.text
    assert built.tree("reviews/products/same-path/").xpath("string(//h1)") == "Reviews of A-1"
    assert built.path("reviews/").is_file() and built.path("reviews/products/").is_file()


@pytest.mark.parametrize("ref", ["", "---", "😀", "a" * 100])
def test_every_slug_is_one_safe_segment(ref):
    for slug in (product_slug(ref), legacy_slug(ref)):
        assert re.fullmatch(r"[a-z0-9-]+", slug) and not slug.startswith("-")


def test_a_product_writes_its_pages_and_two_widget_files_with_no_css(build_site):
    """Everything else is shared: the stylesheets, the loader, the one iframe page."""
    reviews = [product_review(i, "SKU-100", 1 + i % 5, text=f"review {i}") for i in range(25)]
    built = build_site(reviews, REVIEW_FEED_PAGE_SIZE=10)
    slug = product_slug("SKU-100")
    own = sorted(
        p.relative_to(built.output).as_posix()
        for p in built.output.rglob("*")
        if p.is_file() and slug in p.as_posix()
    )
    assert own == [
        f"reviews/products/{slug}/index.html",
        f"reviews/products/{slug}/page/1/index.html",
        f"widgets/products/{slug}.html",
        f"widgets/products/{slug}.json",
    ]
    for rel in own:
        text = (built.output / rel).read_text("utf-8")
        assert "<style" not in text and "rf-w{" not in text and ".rfp " not in text, rel
    # what the fragment and the pages link is there, once for all
    fragment = (built.output / own[2]).read_text("utf-8")
    css = re.search(r'<link rel="stylesheet" href="\.\./([^"?]+)\?v=', fragment).group(1)
    assert (built.output / "widgets" / css).is_file()
    assert (built.output / "widgets/frame.html").is_file()
    page_css = re.search(r'href="[./]*(reviews/review-feed\.css)\?v=', built.html(own[0]))
    assert page_css and (built.output / page_css.group(1)).is_file()
