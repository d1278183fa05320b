"""Content pages declaring a product, languages, the notice, and settings that fail the build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from review_feed.errors import ConfigError, FeedFileError, StoreError
from review_feed.site.slugs import product_slug
from sitebuild import REPO, REVIEW_WHEN, REVIEWS, product_review, site_review

PAGE = """Title: {title}
Slug: {slug}
Product_ref: {ref}

Our {slug}, described by the shop.
"""


def test_content_page_with_product_ref_gets_widget_and_jsonld(build_site):
    reviews = [product_review(i, "SKU-100", 4 + i % 2, product_name="Feed name") for i in range(7)]
    pages = {"sencha.md": PAGE.format(title="Sencha from the site", slug="sencha", ref="SKU-100")}
    built = build_site(reviews, pages, REVIEW_FEED_WIDGET_COUNT=3)
    html = built.html("teas/sencha/")
    tree = built.tree("teas/sencha/")
    assert "Our sencha, described by the shop." in html
    widget = tree.xpath("//section[contains(@class,'rf-w')]")
    assert len(widget) == 1
    assert len(widget[0].xpath(".//ol[@class='rf-list']/li")) == 3
    (doc,) = built.jsonld("teas/sencha/")
    assert doc["@type"] == "Product"
    assert doc["name"] == "Sencha from the site"  # the site's own name wins over the feed's
    assert doc["sku"] == "SKU-100"
    assert doc["aggregateRating"]["reviewCount"] == 7
    assert len(doc["review"]) == 3
    # the product's review page uses the same name and links back to the content page
    product = built.tree(f"reviews/products/{product_slug('SKU-100')}/")
    assert product.xpath("string(//h1)") == "Reviews of Sencha from the site"
    assert product.xpath("//p[@class='rfp-see']/a/@href") == ["../../../teas/sencha/"]
    assert built.jsonld(f"reviews/products/{product_slug('SKU-100')}/")[0]["name"] == (
        "Sencha from the site"
    )


def test_article_with_product_ref_gets_widget_and_jsonld(build_site):
    article = PAGE.format(title="Brewing our matcha", slug="matcha-guide", ref="MATCHA-30")
    article = article.replace("Slug:", "Date: 2026-11-20\nSlug:")
    built = build_site(
        [product_review(1, "MATCHA-30", 4, product_name="Matcha 30 g")],
        {"articles/matcha.md": article},
        ARTICLE_URL="blog/{slug}/",
        ARTICLE_SAVE_AS="blog/{slug}/index.html",
    )
    html = built.html("blog/matcha-guide/")
    assert 'class="rf-w"' in html
    (doc,) = built.jsonld("blog/matcha-guide/")
    # an article shows the product but does not name it: the feed's name stays
    assert doc["sku"] == "MATCHA-30" and doc["name"] == "Matcha 30 g"


def test_product_name_precedence(build_site):
    reviews = [
        product_review(1, "A-1", 5, product_name="Feed name A"),
        product_review(2, "B-2", 5, product_name="Feed name B"),
        product_review(3, "C-3", 5, product_name=None),
    ]
    # a title with markup or an entity gives a plain-text name
    pages = {"a.md": PAGE.format(title="Site name <em>A</em> &amp; co", slug="a", ref="A-1")}
    built = build_site(reviews, pages)
    names = {
        ref: built.tree(f"reviews/products/{product_slug(ref)}/").xpath("string(//h1)")
        for ref in ("A-1", "B-2", "C-3")
    }
    assert names == {
        "A-1": "Reviews of Site name A & co",
        "B-2": "Reviews of Feed name B",
        "C-3": "Reviews of C-3",
    }


def test_content_page_for_a_product_without_reviews(build_site):
    pages = {"new.md": PAGE.format(title="New tea", slug="new", ref="NEW-1")}
    built = build_site([site_review(1, 5)], pages)
    assert built.jsonld("teas/new/") == []  # no reviews: no structured data
    assert "No reviews yet" in built.html("teas/new/")
    assert built.jsonld(f"reviews/products/{product_slug('NEW-1')}/") == []


def test_french_build(build_site):
    reviews = [
        site_review(1, 4, date="2026-11-01T10:00:00", order_date="2026-10-28T09:00:00"),
        site_review(2, 5, date="2026-02-14T10:00:00", author="Anonymous"),
    ]
    built = build_site(reviews, DEFAULT_LANG="fr")
    html = built.html("reviews/")
    tree = built.tree("reviews/")
    assert tree.get("lang") == "fr"
    assert tree.xpath("string(//p[@class='rfp-rating-text'])") == "4,5 sur 5, 2 avis"
    whens = [" ".join(p.text_content().split()) for p in tree.xpath(REVIEW_WHEN)]
    assert whens == [
        "1er novembre 2026, suite à une commande du 28 octobre 2026",
        "14 février 2026",
    ]
    assert "Anonyme" in html
    assert "Tous les avis" in html and "Répartition des notes" in html
    assert "Les avis sont collectés" in html  # the default notice, in French
    # REVIEW_FEED_LANG wins over DEFAULT_LANG
    en = build_site(reviews, DEFAULT_LANG="fr", REVIEW_FEED_LANG="en")
    assert en.tree("reviews/").get("lang") == "en"
    assert "November 1, 2026" in en.html("reviews/")


def test_notice_setting(build_site):
    built = build_site([site_review(1, 5)], REVIEW_FEED_NOTICE="Checked by <Acme> & co.")
    for url in ("reviews/", "reviews/products/"):
        assert "Checked by &lt;Acme&gt; &amp; co." in built.html(url)
    assert "Reviews are collected by" in build_site([site_review(1, 5)]).html("reviews/")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REVIEW_FEED_PAGE_SIZE", 0),
        ("REVIEW_FEED_LANG", "de"),
        ("REVIEW_FEED_PRODUCT_URL", "reviews/products/"),
        ("REVIEW_FEED_PRODUCT_SAVE_AS", "reviews/{ref}/index.html"),
        ("REVIEW_FEED_BRAND_SAVE_AS", "../outside.html"),
        ("REVIEW_FEED_WEBSITE", "typo"),
    ],
)
def test_invalid_setting_fails_the_build_naming_it(build_site, name, value):
    with pytest.raises(ConfigError, match=name) as info:
        build_site([site_review(1, 5)], **{name: value})
    assert info.value.exitcode == ConfigError.exit_code


def test_missing_snapshot_fails_the_build(build_site, tmp_path):
    with pytest.raises(StoreError, match="snapshot folder"):
        build_site([], REVIEW_FEED_SNAPSHOT=str(tmp_path / "nowhere"))


def test_pelican_cli_exits_non_zero_on_invalid_setting(tmp_path):
    (tmp_path / "content").mkdir()
    (tmp_path / "conf.py").write_text(
        f"PLUGIN_PATHS = [{str(REPO / 'plugins')!r}]\nPLUGINS = ['review_feed']\n"
        f"THEME = {str(REPO / 'themes' / 'lumiere')!r}\nREVIEW_FEED_SNAPSHOT = 'snap'\n"
    )
    (tmp_path / "snap").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    env["REVIEW_FEED_PAGE_SIZE"] = "-3"
    proc = subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-s", "conf.py", "-o", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == ConfigError.exit_code
    out = proc.stdout + proc.stderr
    assert "REVIEW_FEED_PAGE_SIZE" in out
    assert "Traceback" not in out  # one line for the user, not a stack


def test_sync_runs_before_the_build_only_when_asked(build_site, sample_feed):
    source = {"REVIEW_FEED_SOURCE": str(sample_feed), "REVIEW_FEED_MIN_AGE": 0}
    off = build_site([], **source)
    assert "No reviews yet." in off.html("reviews/")  # REVIEW_FEED_SYNC off: snapshot as is
    on = build_site([], REVIEW_FEED_SYNC=True, **source)
    tree = on.tree("reviews/")
    assert tree.xpath(REVIEWS)  # the sample feed's brand reviews
    assert on.path(f"reviews/products/{product_slug('SKU-100')}/").exists()


def test_a_failed_sync_fails_the_build_with_one_line(tmp_path, sample_feed):
    # A broken night file: the build-time sync reports it and pelican exits non-zero,
    # so the nightly never publishes a half-updated site.
    src = tmp_path / "drop"
    shutil.copytree(sample_feed, src)
    (src / "reviews_product_acme-7f3a_2026-11-24.xml").write_text("<reviews><review>", "utf-8")
    (tmp_path / "snap").mkdir()
    (tmp_path / "conf.py").write_text(
        f"PLUGIN_PATHS = [{str(REPO / 'plugins')!r}]\nPLUGINS = ['review_feed']\n"
        f"REVIEW_FEED_SOURCE = {str(src)!r}\nREVIEW_FEED_SNAPSHOT = 'snap'\n"
        "REVIEW_FEED_SYNC = True\n",
        "utf-8",
    )
    (tmp_path / "content").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    env["COLUMNS"] = "400"  # Pelican's console would wrap the line we look for
    proc = subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-s", "conf.py", "-o", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == FeedFileError.exit_code, out
    assert "the sync before the build failed" in out
    assert "reviews_product_acme-7f3a_2026-11-24.xml" in out
    assert "Traceback" not in out
    assert not (tmp_path / "out" / "reviews" / "index.html").exists()
