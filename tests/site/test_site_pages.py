"""Brand, product and index pages: they exist at their URLs and their numbers match the snapshot."""

from __future__ import annotations

import logging
import posixpath

from review_feed.site.data import star_bucket
from review_feed.site.slugs import product_slug
from sitebuild import REVIEW_TEXT, REVIEWS, product_review, replies, site_review

# 23 brand reviews: ratings cycle 5,4,5,3,1,... so every level but 2 is present.
RATINGS = [5, 4, 5, 3, 1, 5, 4, 4.5, 5, 3]


def brand_reviews(n: int = 23):
    return [site_review(i, RATINGS[i % len(RATINGS)]) for i in range(n)]


def texts(tree) -> list[str]:
    return [p.text_content() for p in tree.xpath(REVIEW_TEXT)]


def test_brand_page_numbers_pagination_and_filters(build_site):
    reviews = brand_reviews()
    built = build_site(reviews, REVIEW_FEED_PAGE_SIZE=10)
    avg = sum(r.rating for r in reviews) / len(reviews)
    tree = built.tree("reviews/")
    summary = tree.xpath('string(//p[@class="rfp-rating-text"])')
    assert summary == f"{avg:.1f} out of 5, 23 reviews"
    # distribution 5..1 with counts and percentages; a paginated list has no filter
    # (neither a page per star level nor an in-page one that would miss the other pages)
    rows = tree.xpath('//ul[@class="rfp-dist"]/li')
    assert [r.xpath("string(./*[1])") for r in rows] == [
        "5 stars",
        "4 stars",
        "3 stars",
        "2 stars",
        "1 star",
    ]
    expected = {lv: sum(1 for r in reviews if star_bucket(r.rating) == lv) for lv in range(1, 6)}
    for row, level in zip(rows, (5, 4, 3, 2, 1), strict=True):
        n = expected[level]
        assert " ".join(row.xpath("string(./span[last()])").split()) == (
            f"{n} ({round(100 * n / 23)}%)"
        )
        assert row.xpath(".//a/@href") == []
    # newest first: the main page 13 (10 + 23 mod 10), the one archive page the oldest 10
    newest = sorted(reviews, key=lambda r: (r.date, r.id), reverse=True)
    shown = []
    for url in ("reviews/", "reviews/page/1/"):
        shown += texts(built.tree(url))
    assert shown == [r.text for r in newest]
    assert len(texts(tree)) == 13 and not built.path("reviews/page/2/").exists()
    assert tree.xpath('//a[@rel="next"]/@href') == ["../reviews/page/1/"]
    page1 = built.tree("reviews/page/1/")
    assert page1.xpath('//a[@rel="prev"]/@href') == ["../../../reviews/"]
    assert page1.xpath('//a[@rel="next"]/@href') == []
    assert not tree.xpath("//span[@class='rfp-target'] | //a[contains(@class,'rfp-unfilter')]")
    assert not list(built.path("reviews/").glob("stars-*"))


def test_review_details_order_date_and_replies_in_order(build_site):
    r = site_review(
        1,
        4,
        order_date="2026-10-01T09:00:00",
        date="2026-10-03T10:00:00+02:00",
        replies=replies(
            ("2026-10-04T08:00:00", "moderator", "Checked."),
            ("2026-10-05T08:00:00", "merchant", "Thank you!"),
            ("2026-10-06T08:00:00", "customer", "You're welcome."),
        ),
    )
    built = build_site([r])
    tree = built.tree("reviews/")
    item = tree.xpath(REVIEWS)[0]
    assert item.xpath("string(.//h3)") == "Author1 B."
    when = " ".join(item.xpath("string(./div/p[1])").split())
    assert when == "October 3, 2026, following an order of October 1, 2026"
    assert item.xpath(".//span[@role='img']/@aria-label") == ["4 out of 5 stars"]
    heads = [" ".join(h.text_content().split()) for h in item.xpath("./div/div/p[1]")]
    assert heads == [
        "Moderator · October 4, 2026",
        "Reply from Test Tea Shop · October 5, 2026",
        "Customer · October 6, 2026",
    ]
    # one labelled article element, its parts its own children: no wrapper, no class
    # or span that says again what the element already says
    (art,) = item.xpath("./div[@role='article']")
    assert [c.tag for c in art] == ["span", "h3", "p", "p", "div", "div", "div"]
    (heading_id,) = art.xpath("./h3/@id")
    assert art.get("aria-labelledby") == heading_id and art.xpath("./h3/@class") == []
    assert art.xpath("./p[1]/*") == art.xpath("./p[1]/time")
    # the stars are one element filled by a custom property; a date shown without its
    # time is a date without its time in `datetime` too
    (stars,) = art.xpath("./span[@role='img']")
    assert len(stars) == 0 and stars.get("style") == "--r:80%"
    assert art.xpath(".//time/@datetime") == [
        "2026-10-03",
        "2026-10-04",
        "2026-10-05",
        "2026-10-06",
    ]
    assert [d.get("class") for d in art.xpath("./div")] == [
        "rfp-reply-moderator",
        "rfp-reply-merchant",
        "rfp-reply-customer",
    ]


def test_review_pages_are_written_without_indentation(build_site):
    """The review list and the page blocks around it are on every page: no indentation."""
    built = build_site(brand_reviews(23), REVIEW_FEED_PAGE_SIZE=10)
    for url in ["reviews/", "reviews/page/1/"]:
        html = built.html(url)
        end = html.index("</div>", html.index('<div class="rfp-notice"'))
        ours = html[html.index('<div class="rfp ') : end]
        assert "rfp-pagination" in ours and "rfp-notice" in ours
        assert ("rfp-summary" in ours) == (url == "reviews/")  # no aggregate in the archive
        assert [line for line in ours.splitlines() if line[:1].isspace()] == [], url


def test_product_pages_and_index(build_site):
    reviews = [
        product_review(i, "SKU-100", [5, 4, 4][i % 3], product_name="Sencha") for i in range(3)
    ]
    reviews += [product_review(10 + i, "MATCHA-30", 2) for i in range(2)]
    built = build_site(reviews)
    sencha = built.tree(f"reviews/products/{product_slug('SKU-100')}/")
    assert sencha.xpath("string(//h1)") == "Reviews of Sencha"
    assert sencha.xpath('string(//p[@class="rfp-rating-text"])') == "4.3 out of 5, 3 reviews"
    matcha = built.tree(f"reviews/products/{product_slug('MATCHA-30')}/")
    # no product name anywhere: the ref is the name
    assert matcha.xpath("string(//h1)") == "Reviews of MATCHA-30"
    index = built.tree("reviews/products/")
    rows = index.xpath("//table[@class='rfp-table']/tbody/tr")
    got = {
        r.xpath("string(th/a)"): (
            r.xpath("string(.//span[@role='img']/@aria-label)"),
            r.xpath("string(td[@class='rfp-num'])"),
        )
        for r in rows
    }
    assert got == {"Sencha": ("4.3 out of 5 stars", "3"), "MATCHA-30": ("2 out of 5 stars", "2")}
    hrefs = index.xpath("//table//th/a/@href")
    assert sorted(hrefs) == sorted(
        f"../../reviews/products/{product_slug(ref)}/" for ref in ("SKU-100", "MATCHA-30")
    )
    assert index.xpath("//*[@class='rfp-pagination']") == []  # one page: no way through
    assert not built.path("reviews/products/page/2/").exists()
    # nothing where the links would be: the table, then the notice
    assert '</tbody>\n  </table>\n  <div class="rfp-notice"' in built.html("reviews/products/")


INDEX_PAGES = ["reviews/products/", "reviews/products/page/2/", "reviews/products/page/3/"]


def index_nav(tree) -> list[tuple[str, str | None]]:
    """The index's page links as (text, target page or None when not a link)."""
    items = tree.xpath("//*[@class='rfp-pagination']//li/*")
    return [(i.text_content(), i.get("href")) for i in items]


def test_a_long_products_index_is_cut_into_pages_by_name(build_site):
    names = {"SKU-5": "elderflower", "SKU-1": "Banana", "SKU-2": "apple", "SKU-4": "Date"}
    reviews = [
        product_review(i, ref, 1 + i % 5, product_name=name)
        for i, (ref, name) in enumerate(names.items())
    ]
    reviews.append(product_review(9, "cherry", 4))  # no name: its ref is its name
    built = build_site(reviews, REVIEW_FEED_PRODUCTS_PAGE_SIZE=2)
    trees = [built.tree(url) for url in INDEX_PAGES]
    assert not built.path("reviews/products/page/4/").exists()
    # by name, case ignored, two a page
    assert [t.xpath("//table[@class='rfp-table']/tbody/tr/th/a/text()") for t in trees] == [
        ["apple", "Banana"],
        ["cherry", "Date"],
        ["elderflower"],
    ]
    assert [t.xpath("string(//h1)") for t in trees] == [
        "Product reviews",
        "Product reviews, page 2",
        "Product reviews, page 3",
    ]
    # the first page is "here" in the breadcrumb; the others link to it
    up = "../../../../reviews/products/"  # page 1, from page N
    assert trees[0].xpath("string(//*[@class='rfp-crumbs']//*[@aria-current='page'])") == (
        "Product reviews"
    )
    assert trees[1].xpath("//*[@class='rfp-crumbs']//a/@href")[-1] == up
    assert index_nav(trees[0]) == [
        ("← Previous page", None),
        ("1", None),
        ("2", "../../reviews/products/page/2/"),
        ("3", "../../reviews/products/page/3/"),
        ("Next page →", "../../reviews/products/page/2/"),
    ]
    assert index_nav(trees[1]) == [
        ("← Previous page", up),
        ("1", up),
        ("2", None),
        ("3", f"{up}page/3/"),
        ("Next page →", f"{up}page/3/"),
    ]
    assert index_nav(trees[2])[-1] == ("Next page →", None)
    assert [
        t.xpath("string(//*[@class='rfp-pagination']//*[@aria-current='page'])") for t in trees
    ] == ["1", "2", "3"]
    for url, tree in zip(INDEX_PAGES, trees, strict=True):  # every link leads to a page
        for href in tree.xpath("//*[@class='rfp-pagination']//a/@href"):
            assert built.path(posixpath.normpath(posixpath.join(url, href)) + "/").is_file()


def test_the_index_in_french_sorts_accents_as_letters_and_shows_a_window_of_pages(build_site):
    names = ["Zèbre", "eau", "Éclair", "Fève", "ébène", "Abricot", "Café", "Cèpe", "Dattes"]
    reviews = [product_review(i, f"R{i}", 4, product_name=n) for i, n in enumerate(names)]
    built = build_site(reviews, REVIEW_FEED_PRODUCTS_PAGE_SIZE=1, REVIEW_FEED_LANG="fr")
    urls = ["reviews/products/", *(f"reviews/products/page/{k}/" for k in range(2, 10))]
    rows = [built.tree(u).xpath("string(//table//th/a)") for u in urls]
    assert rows == ["Abricot", "Café", "Cèpe", "Dattes", "eau", "ébène", "Éclair", "Fève", "Zèbre"]
    middle = built.tree("reviews/products/page/5/")
    assert [text for text, _href in index_nav(middle)] == [
        "← Page précédente",
        "1",
        "…",
        "3",
        "4",
        "5",
        "6",
        "7",
        "…",
        "9",
        "Page suivante →",
    ]
    assert middle.xpath("string(//h1)") == "Avis sur nos produits, page 5"
    label = middle.xpath("string(//*[@class='rfp-pagination']/@aria-label)")
    assert label == "Pages de la liste des produits"


# products.html as themes copied it before the index had pages
OLD_PRODUCTS_HTML = """\
{% import "review_feed/_macros.html" as rf_macros with context %}
{% set rf = review_feed %}
<div class="rfp rfp-products" lang="{{ rf.lang }}">
  {{ rf_macros.crumbs(rf, rf.crumbs()) }}
  <table class="rfp-table"><tbody>
{%- for p in rf.products.values()|sort(attribute="name") %}
<tr><th scope="row"><a href="{{ SITEURL }}/{{ rf.product_url(p) }}">{{ p.name }}</a></th></tr>
{%- endfor %}
  </tbody></table>
</div>
"""


def test_a_themes_products_template_without_pages_gets_one_page(build_site, tmp_path, caplog):
    overrides = tmp_path / "overrides"
    (overrides / "review_feed").mkdir(parents=True)
    (overrides / "review_feed" / "products.html").write_text(OLD_PRODUCTS_HTML, "utf-8")
    reviews = [product_review(i, f"SKU-{i}", 4, product_name=f"Tea {i}") for i in range(3)]
    with caplog.at_level(logging.WARNING, logger="review_feed"):
        built = build_site(
            reviews, REVIEW_FEED_PRODUCTS_PAGE_SIZE=2, THEME_TEMPLATES_OVERRIDES=[str(overrides)]
        )
    index = built.tree("reviews/products/")
    assert index.xpath("//table//th/a/text()") == ["Tea 0", "Tea 1", "Tea 2"]
    assert index.xpath("string(//*[@class='rfp-crumbs']//*[@aria-current='page'])") == (
        "Product reviews"
    )
    assert not built.path("reviews/products/page/2/").exists()
    assert "does not use rf_index" in caplog.text and "one page of 3 products" in caplog.text


def test_the_notice_is_in_full_on_the_brand_page_and_linked_from_the_others(build_site):
    """How reviews are collected, said once: a product's pages link to the brand page's
    notice (its id), which the brand's pages and the products index show in full."""
    from review_feed.site.i18n import Translator

    notice = Translator("en").text("notice")
    reviews = [product_review(i, "SKU-100", 4) for i in range(5)]
    built = build_site(reviews, REVIEW_FEED_PAGE_SIZE=2)
    brand = built.tree("reviews/")
    assert brand.xpath("string(//*[@id='rfp-notice']/p)") == notice
    assert notice in built.html("reviews/products/")
    folder = built.output / f"reviews/products/{product_slug('SKU-100')}"
    pages = [
        f.parent.relative_to(built.output).as_posix() + "/" for f in folder.rglob("index.html")
    ]
    assert len(pages) == 2  # the product's main page and its archive page
    for url in pages:
        assert notice not in built.html(url), url
        (link,) = built.tree(url).xpath("//p[@class='rfp-notice']/a")
        assert link.get("href") == "../" * url.count("/") + "reviews/#rfp-notice", url
        assert link.text == "About these reviews"


def test_urls_come_from_settings(build_site):
    reviews = [*brand_reviews(4), *(product_review(i, "A1", 5 - i % 2) for i in range(4))]
    built = build_site(
        reviews,
        REVIEW_FEED_BRAND_URL="avis/",
        REVIEW_FEED_BRAND_SAVE_AS="avis/index.html",
        REVIEW_FEED_PRODUCT_URL="avis/p/{slug}.html",
        REVIEW_FEED_PRODUCT_SAVE_AS="avis/p/{slug}.html",
        REVIEW_FEED_PRODUCTS_URL="avis/p/",
        REVIEW_FEED_PRODUCTS_SAVE_AS="avis/p/index.html",
        REVIEW_FEED_PAGE_SIZE=2,
    )
    assert built.path("avis/").exists()
    assert built.path("avis/page/1/").exists()
    assert built.path(f"avis/p/{product_slug('A1')}.html").exists()
    assert built.path(f"avis/p/page/1/{product_slug('A1')}.html").exists()
    assert built.path("avis/p/").exists()
    assert not built.path("reviews/").exists()


def test_product_refs_differing_by_case_space_slash_unicode_get_distinct_pages(build_site):
    refs = ["SKU-100", "sku-100", "SKU 100", "SKU/100", "SKU-100é", "茶-1", "../etc"]
    reviews = [product_review(i, ref, 1 + i % 5, text=f"about {ref}") for i, ref in enumerate(refs)]
    built = build_site(reviews)
    slugs = {product_slug(ref) for ref in refs}
    assert len(slugs) == len(refs)
    for ref in refs:
        tree = built.tree(f"reviews/products/{product_slug(ref)}/")
        assert tree.xpath("string(//h1)") == f"Reviews of {ref}"
        assert texts(tree) == [f"about {ref}"]
    assert not (built.output.parent / "etc").exists()


def test_empty_snapshot_builds(build_site):
    built = build_site([])
    assert "No reviews yet." in built.html("reviews/")
    assert built.jsonld("reviews/") == []
    assert built.path("reviews/products/").exists()


def test_rebuilds_keep_no_state(build_site):
    # Two builds in one process (as under --autoreload): the second shows only its own data.
    first = build_site([site_review(1, 5, text="first build")])
    second = build_site([site_review(2, 1, text="second build")])
    assert "first build" in first.html("reviews/")
    html = second.html("reviews/")
    assert "second build" in html and "first build" not in html


def nav_items(tree) -> list[str]:
    nav = tree.xpath("//div[@class='rfp-pagination']")[0]
    return [" ".join(li.text_content().split()) for li in nav.xpath(".//li")]


def test_long_lists_link_a_window_of_pages(build_site):
    """The main page links the newest archive pages and the oldest; an archive page its
    neighbours and the main page, with no page count (it would change every night)."""
    built = build_site(brand_reviews(12), REVIEW_FEED_PAGE_SIZE=1)
    assert nav_items(built.tree("reviews/")) == ["Older reviews →", "11", "10", "9", "…", "1"]
    for n in (1, 6, 11):
        assert nav_items(built.tree(f"reviews/page/{n}/")) == [
            "← Newer reviews",
            "Newest reviews",
            "Older reviews →",
        ]
    assert built.tree("reviews/page/1/").xpath("//span[@class='rfp-off']")
    assert built.path("reviews/page/11/").exists() and not built.path("reviews/page/12/").exists()


def test_no_page_is_noindex(build_site):
    """Every review page is a page to index: there are no filtered copies of a list."""
    built = build_site(brand_reviews(5), REVIEW_FEED_PAGE_SIZE=2)
    for url in ("reviews/", "reviews/page/1/"):
        assert 'name="robots"' not in built.html(url)
    assert not list(built.path("reviews/").glob("stars-*"))


def test_a_list_on_one_page_filters_in_the_page(build_site):
    """No stars-K page for a one-page list: anchors the stylesheet turns into a filter."""
    reviews = brand_reviews(5)
    built = build_site(reviews, REVIEW_FEED_PAGE_SIZE=5)
    assert not any(built.path(f"reviews/stars-{k}/").exists() for k in range(1, 6))
    tree = built.tree("reviews/")
    links = tree.xpath("//ul[@class='rfp-dist']//a/@href")
    present = sorted({star_bucket(r.rating) for r in reviews}, reverse=True)
    assert links == [f"#rfp-stars-{k}" for k in present]
    targets = tree.xpath("//span[@class='rfp-target']/@id")
    assert ["#" + t for t in targets] == links and links
    levels = tree.xpath(REVIEWS + "/@data-stars")
    assert sorted(levels) == sorted(str(star_bucket(r.rating)) for r in reviews)
    assert tree.xpath("//a[contains(@class,'rfp-unfilter')]/@href") == ["#rfp-list-h"]


def test_a_theme_macros_file_is_used(build_site, tmp_path):
    """A theme restyles our markup by shipping its own review_feed/_macros.html."""
    import shutil

    from sitebuild import REPO

    theme = tmp_path / "theme"
    shutil.copytree(REPO / "themes" / "lumiere", theme)
    ours = REPO / "plugins/review_feed/site/templates/review_feed/_macros.html"
    text = ours.read_text("utf-8")
    text = text.replace("<li{% if filtered %}", '<li data-theme="mine"{% if filtered %}')
    text = text.replace('<div class="rfp-notice"', '<div data-theme="mine" class="rfp-notice"')
    (theme / "templates" / "review_feed").mkdir(parents=True)
    (theme / "templates" / "review_feed" / "_macros.html").write_text(text, "utf-8")
    built = build_site(brand_reviews(12), THEME=str(theme), REVIEW_FEED_PAGE_SIZE=5)
    assert built.html("reviews/page/1/").count('data-theme="mine"') == 6  # 5 items, the notice
