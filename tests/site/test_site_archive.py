"""A list's pages: the main page (the newest reviews, the aggregate, the structured data)
and its archive pages (fixed runs of `page_size` older reviews, numbered from the oldest),
read back from a real build."""

from __future__ import annotations

import posixpath

from review_feed.site.slugs import product_slug
from sitebuild import REVIEW_TEXT, REVIEWS, product_review, site_review

REF = "SKU-7"
SLUG = product_slug(REF)
MAIN = f"reviews/products/{SLUG}/"


def product(n: int) -> list:
    """n reviews of one product, review i on October i+1 (so 0 is the oldest)."""
    return [
        product_review(
            i, REF, 1 + i % 5, product_name="Gyokuro", date=f"2026-10-{i + 1:02d}T09:00:00"
        )
        for i in range(n)
    ]


def numbers(tree) -> list[int]:
    texts = tree.xpath(REVIEW_TEXT + "/text()")
    return [int(t.rsplit(" ", 1)[1]) for t in texts]


def test_the_main_page_holds_the_newest_and_archive_pages_fixed_runs_from_the_oldest(build_site):
    built = build_site(product(10), REVIEW_FEED_PAGE_SIZE=3)
    # the main page keeps 3 + 10 mod 3 = 4 (between one and two pages); two archive pages
    assert numbers(built.tree(MAIN)) == [9, 8, 7, 6]
    assert numbers(built.tree(f"{MAIN}page/2/")) == [5, 4, 3]
    assert numbers(built.tree(f"{MAIN}page/1/")) == [2, 1, 0]
    assert not built.path(f"{MAIN}page/3/").exists()


def test_a_list_shorter_than_two_pages_is_all_on_its_main_page_and_filtered_there(build_site):
    built = build_site(product(5), REVIEW_FEED_PAGE_SIZE=3)
    tree = built.tree(MAIN)
    assert numbers(tree) == [4, 3, 2, 1, 0]
    assert not built.path(f"{MAIN}page/1/").exists()
    assert tree.xpath("//span[@class='rfp-target']") and not tree.xpath(
        "//div[@class='rfp-pagination']"
    )
    paged = build_site(product(6), REVIEW_FEED_PAGE_SIZE=3).tree(MAIN)
    assert numbers(paged) == [5, 4, 3]
    assert not paged.xpath("//span[@class='rfp-target'] | //ul[@class='rfp-dist']//a")


def test_an_archive_page_shows_nothing_of_the_rest_of_the_list(build_site):
    built = build_site(product(10), REVIEW_FEED_PAGE_SIZE=3, SITEURL="https://shop.example")
    main = built.html(MAIN)
    assert "rfp-summary" in main and len(built.jsonld(MAIN)) == 1
    for n in (1, 2):
        html = built.html(f"{MAIN}page/{n}/")
        tree = built.tree(f"{MAIN}page/{n}/")
        assert built.jsonld(f"{MAIN}page/{n}/") == []
        assert "rfp-summary" not in html and "rfp-dist" not in html
        assert "10 reviews" not in html and "out of 5," not in html and "Page " not in html
        assert tree.xpath("string(//title)").startswith(f"Reviews of Gyokuro, page {n}")
    page1 = built.tree(f"{MAIN}page/1/")
    assert (
        page1.xpath("string(//h2[@id='rfp-list-h'])") == "From October 1, 2026 to October 3, 2026"
    )
    # the trail leads back to the product's main page
    crumb = page1.xpath("//div[@class='rfp-crumbs']//a/@href")[-1]
    assert resolve(f"{MAIN}page/1/", crumb) == MAIN


def resolve(page_url: str, href: str) -> str:
    """A relative link in the page at `page_url` as a site-relative URL."""
    return posixpath.normpath(posixpath.join(page_url, href)) + ("/" if href.endswith("/") else "")


def test_the_archive_links_resolve_and_walk_the_whole_list(build_site):
    built = build_site(product(14), REVIEW_FEED_PAGE_SIZE=2)  # a main page of 2, 6 archive pages
    nav = "//div[@class='rfp-pagination']"
    main = built.tree(MAIN)
    links = [resolve(MAIN, h) for h in main.xpath(f"{nav}//a/@href")]
    assert links[0] == f"{MAIN}page/6/"  # older reviews: the newest archive page
    assert links[1:] == [f"{MAIN}page/{n}/" for n in (6, 5, 4)] + [f"{MAIN}page/1/"]
    # from the main page down the "older" links, then back up the "newer" ones
    walked, url = [], MAIN
    while url:
        tree = built.tree(url)
        walked += numbers(tree)
        older = tree.xpath(f"{nav}//a[@rel='next']/@href")
        url = resolve(url, older[0]) if older else None
    assert walked == list(range(13, -1, -1))
    url, seen = f"{MAIN}page/1/", []
    while url != MAIN:
        tree = built.tree(url)
        seen.append(url)
        assert built.path(url).exists()
        assert resolve(url, tree.xpath(f"{nav}//a[not(@rel)]/@href")[0]) == MAIN
        url = resolve(url, tree.xpath(f"{nav}//a[@rel='prev']/@href")[0])
    assert len(seen) == 6


def test_the_brand_list_has_archive_pages_too(build_site):
    built = build_site([site_review(i, 5 - i % 3) for i in range(9)], REVIEW_FEED_PAGE_SIZE=4)
    assert len(built.tree("reviews/").xpath(REVIEWS)) == 5
    page1 = built.tree("reviews/page/1/")
    assert len(page1.xpath(REVIEWS)) == 4
    assert not page1.xpath("//section[@class='rfp-summary']")
    assert page1.xpath("string(//title)").startswith("Customer reviews of Test Tea Shop, page 1")
