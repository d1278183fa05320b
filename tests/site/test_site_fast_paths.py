"""The fast paths (review items, summary, list, notice rendered in Python) write exactly
what the template macros write, and a theme's own `_macros.html` still wins."""

from __future__ import annotations

import shutil

import pytest
from review_feed.site import items as items_mod
from sitebuild import REPO, product_review, replies, site_review
from test_site_safety_jsonld import HOSTILE, HOSTILE_REF


def varied_reviews():
    out = []
    for i in range(1, 58):  # several pages of 5: pagination gaps on the main list
        out.append(
            site_review(
                i,
                (i % 5) + 1 if i % 7 else 4.5,
                text=HOSTILE if i % 3 == 0 else f"Brand review {i}\nsecond line & more",
                author="Anonymous" if i % 11 == 0 else f"<b>A{i}</b> B.",
                order_date="2026-09-01T10:00:00+02:00" if i % 2 else None,
                date=f"2026-10-{(i % 28) + 1:02d}T10:00:00" if i % 13 else "not a date",
                replies=replies(
                    ("2026-10-05T08:00:00", "merchant", HOSTILE),
                    (None, "Vendor staff", "<i>who</i>"),
                )
                if i % 4 == 0
                else (),
            )
        )
        out.append(product_review(100 + i, HOSTILE_REF if i % 2 else "SKU-1", (i % 5) + 1))
    return out


def all_files(built):
    return {
        p.relative_to(built.output): p.read_bytes()
        for p in built.output.rglob("*")
        if p.is_file() and "theme" not in p.parts
    }


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_fast_paths_write_what_the_macros_write(build_site, monkeypatch, lang):
    reviews = varied_reviews()
    fast = build_site(reviews, REVIEW_FEED_LANG=lang, REVIEW_FEED_PAGE_SIZE=5)
    init = items_mod.ItemRenderer.__init__

    def slow_init(self, *a, **kw):
        init(self, *a, **kw)
        assert self.fast and self.fast_summary and self.fast_list and self.fast_crumbs
        self.fast = self.fast_summary = self.fast_list = self.fast_crumbs = False
        self.notice = None

    monkeypatch.setattr(items_mod.ItemRenderer, "__init__", slow_init)
    slow = build_site(reviews, REVIEW_FEED_LANG=lang, REVIEW_FEED_PAGE_SIZE=5)
    a, b = all_files(fast), all_files(slow)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    assert any(b"rfp-gap" in v for v in a.values())  # the pagination window was exercised


def test_a_theme_macros_file_is_used(build_site, tmp_path):
    theme = tmp_path / "theme"
    shutil.copytree(REPO / "themes" / "lumiere", theme)
    ours = REPO / "plugins/review_feed/site/templates/review_feed/_macros.html"
    text = ours.read_text("utf-8")
    text = text.replace('<li class="rfp-review">', '<li class="rfp-review" data-theme="mine">')
    text = text.replace('<aside class="rfp-notice"', '<aside data-theme="mine" class="rfp-notice"')
    (theme / "templates" / "review_feed").mkdir(parents=True)
    (theme / "templates" / "review_feed" / "_macros.html").write_text(text, "utf-8")
    built = build_site(varied_reviews(), THEME=str(theme), REVIEW_FEED_PAGE_SIZE=5)
    html = built.html("reviews/page/2/")
    assert html.count('data-theme="mine"') == 6  # five items and the notice
