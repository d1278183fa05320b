"""Each review's `<li>` rendered once per list, not once per page that shows it.

A review shows on a page of its list and on a page of its star level, and a
Jinja macro call costs ~40 µs: at a million reviews the item macro was most of
the build. `ReviewItems` renders a list's items once (numbered by their
position in the whole list, so an item's heading id is unique on any page of
that list) and the pages join the ready markup.

The items come from the `review_item` macro of `review_feed/_macros.html`
(the theme's, when it has one). When that macro is ours, `fast_item` produces
the same bytes with plain string formatting (~5x faster); at the start of a
build `ItemRenderer` checks the two agree on a few real reviews (with and
without order date and replies) and falls back to the macro when they do not,
e.g. a theme's own `_macros.html` or other Jinja whitespace settings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from ..model import Review

log = logging.getLogger("review_feed.site.items")


class ItemRenderer:
    """Renders one review's list item; one per build (holds this build's caches only)."""

    def __init__(
        self,
        rf: Any,
        macros: Any,
        samples: Sequence[Review],
        listings: Sequence[Any] = (),
        siteurl: str = "",
        sitename: str = "",
    ):
        """`macros`: the `_macros.html` module, made with SITEURL = `siteurl`;
        `samples`, `listings`: what the fast paths are checked on."""
        self.rf = rf
        self.macro = getattr(macros, "review_item", None)
        self._dates: dict[str, str] = {}
        self.fast = self.macro is not None and all(
            str(fast_item(self, r, n)) == str(self.macro(rf, r, n))
            for n, r in enumerate(samples, 1)
        )
        summary = getattr(macros, "summary", None)
        self.fast_summary = summary is not None and all(
            str(fast_summary(rf, lst, level, siteurl)) == str(summary(rf, lst, level))
            for lst in listings
            for level in [None, *(lv.level for lv in lst.levels)]
        )
        review_list = getattr(macros, "review_list", None)
        self.fast_list = review_list is not None and all(
            str(
                fast_review_list(
                    rf, lst, pg, nums, self.items(lst.reviews).join(pg.reviews), siteurl
                )
            )
            == str(review_list(rf, lst, pg, nums, self.items(lst.reviews).join(pg.reviews)))
            for lst in listings
            for run in [lst.pages(), *(lst.pages(lv.level) for lv in lst.levels if lv.count)]
            for nums in [[(pg.number, pg.url) for pg in run]]
            for pg in run[:3] + run[-2:]
        )
        crumbs = getattr(macros, "crumbs", None)
        self.sitename = sitename
        self.fast_crumbs = crumbs is not None and all(
            str(fast_crumbs(rf, crumb_trail(rf, lst, pg), siteurl, sitename))
            == str(crumbs(rf, crumb_trail(rf, lst, pg)))
            for lst in listings
            for pg in lst.pages()[:2] + lst.pages(lst.levels[0].level)[:1]
        )
        notice = getattr(macros, "notice", None)
        # the notice box is the same on every page: rendered once
        self.notice = Markup(notice(rf)) if notice is not None else None
        if not self.all_fast:
            log.info("[review-feed] _macros.html differs from the fast path: using its macros")

    @property
    def all_fast(self) -> bool:
        """Every part of a list page is ready-made: the page template needs no macro."""
        fast = self.fast and self.fast_summary and self.fast_list and self.fast_crumbs
        return bool(fast and self.notice is not None)

    def review_list(
        self, listing: Any, page: Any, pages: Any, items: Markup, siteurl: str
    ) -> Markup | None:
        """The list of a page, or None for the template to call its macro."""
        if not self.fast_list:
            return None
        return fast_review_list(self.rf, listing, page, pages, items, siteurl)

    def crumbs(self, listing: Any, page: Any, siteurl: str) -> Markup | None:
        """The breadcrumbs of a page, or None for the template to call its macro."""
        if not self.fast_crumbs:
            return None
        return fast_crumbs(self.rf, crumb_trail(self.rf, listing, page), siteurl, self.sitename)

    def summary(self, listing: Any, level: int | None, siteurl: str) -> Markup | None:
        """The summary box, or None for the template to call its macro."""
        if not self.fast_summary or not listing.aggregate.count:
            return None
        return fast_summary(self.rf, listing, level, siteurl)

    def date(self, value: str) -> str:
        """rf.t.date, memoised on the calendar day when the value starts with one."""
        if len(value) >= 10 and value[4] == "-" and value[7] == "-":
            day = value[:10]
            text = self._dates.get(day)
            if text is not None:
                return text
            if _is_day(day):  # then parse_date(value) is that day, whatever follows
                text = self._dates[day] = self.rf.t.date(day)
                return text
        return self.rf.t.date(value)

    def __call__(self, r: Review, n: int) -> Markup:
        if self.fast:
            return fast_item(self, r, n)
        if self.macro is None:  # a theme's _macros.html without review_item: its own list
            return Markup("")
        return Markup(self.macro(self.rf, r, n))

    def items(self, reviews: Sequence[Review]) -> ReviewItems:
        return ReviewItems(self, reviews)


def _is_day(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


class ReviewItems:
    """A list's items, each rendered on first use and kept for the list's other pages."""

    def __init__(self, renderer: ItemRenderer, reviews: Sequence[Review]):
        self.renderer = renderer
        self.position = {id(r): n for n, r in enumerate(reviews, 1)}
        self.html: dict[int, Markup] = {}

    def join(self, shown: Sequence[Review]) -> Markup:
        out = []
        for r in shown:
            key = id(r)
            h = self.html.get(key)
            if h is None:
                h = self.html[key] = self.renderer(r, self.position[key])
            out.append(h)
        return Markup("".join(out))


def fast_item(ren: ItemRenderer, r: Review, i: int) -> Markup:
    """Byte for byte what `_macros.html`'s review_item writes (Pelican's trim/lstrip blocks)."""
    rf = ren.rf
    t = rf.t
    e = escape
    when = f'<time datetime="{e(r.date)}">{e(ren.date(r.date))}</time>'
    if r.order_date:
        order = e(t.text("order_of", date=t.date(r.order_date)))
        when += f', <span class="rfp-order">{order}</span>'
    parts = [
        '<li class="rfp-review">\n'
        f'  <article aria-labelledby="rfp-r-{i}">\n'
        '    <header class="rfp-review-head">\n'
        f"      {rf.stars(r.rating)}\n"
        f'      <h3 class="rfp-author" id="rfp-r-{i}"><bdi>{e(rf.author(r))}</bdi></h3>\n'
        f'      <p class="rfp-when">{when}</p>\n'
        "    </header>\n"
        f'    <p class="rfp-text">{e(r.text)}</p>\n'
    ]
    for reply in r.replies:
        head = f"<strong>{e(rf.reply_label(reply))}</strong>"
        if reply.date:
            head += f' · <time datetime="{e(reply.date)}">{e(ren.date(reply.date))}</time>'
        parts.append(
            f'    <div class="rfp-reply rfp-reply-{e(reply.origin.replace(" ", "-"))}">\n'
            f'      <p class="rfp-reply-head">{head}</p>\n'
            f'      <p class="rfp-text">{e(reply.text)}</p>\n'
            "    </div>\n"
        )
    parts.append("  </article>\n</li>\n")
    return Markup("".join(parts))


def sample_reviews(reviews: Sequence[Review], limit: int = 4000) -> list[Review]:
    """A few reviews covering the item's branches: order date or not, replies or not."""
    want = {(o, p): None for o in (False, True) for p in (False, True)}
    picked: list[Review] = []
    for r in reviews[:limit]:
        key = (bool(r.order_date), bool(r.replies))
        if key in want:
            del want[key]
            picked.append(r)
            if not want:
                break
    return picked


def fast_summary(rf: Any, listing: Any, level: int | None, siteurl: str) -> Markup:
    """Byte for byte what `_macros.html`'s summary writes, for a page whose SITEURL is given."""
    t = rf.t
    e = escape
    agg = listing.aggregate
    score = ""
    if agg.count:
        score = (
            f'    <p class="rfp-average" aria-hidden="true">{e(t.decimal(agg.average))}</p>\n'
            f"    {rf.stars(agg.average)}\n"
        )
    parts = [
        '<section class="rfp-summary" aria-labelledby="rfp-summary-h">\n'
        f'  <h2 id="rfp-summary-h" class="rfp-sr">{e(t.text("rating"))}</h2>\n'
        '  <div class="rfp-score">\n'
        f"{score}"
        f'    <p class="rfp-rating-text">{e(rf.rating_text(agg))}</p>\n'
        "  </div>\n"
    ]
    if agg.count:
        parts.append(
            '  <div class="rfp-distribution">\n'
            f'    <h3 class="rfp-dist-h" id="rfp-dist-h">{e(t.text("distribution"))}</h3>\n'
            '    <ul class="rfp-dist" aria-labelledby="rfp-dist-h">\n'
        )
        site = e(siteurl)
        for lv in listing.levels:
            current = level == lv.level
            if lv.url and not current:
                link = f'<a class="rfp-dl" href="{site}/{e(lv.url)}">{e(lv.label)}</a>'
            else:
                aria = ' aria-current="page"' if current else ""
                link = f'<span class="rfp-dl"{aria}>{e(lv.label)}</span>'
            cls = ' class="rfp-current"' if current else ""
            parts.append(
                f"      <li{cls}>\n"
                f"{link}"
                '        <span class="rfp-bar" aria-hidden="true">'
                f'<span style="width:{e(lv.width)}%"></span></span>\n'
                f'        <span class="rfp-dn">{e(t.integer(lv.count))} '
                f'<span class="rfp-pc">({e(lv.percent)})</span></span>\n'
                "      </li>\n"
            )
        parts.append("    </ul>\n  </div>\n")
    parts.append("</section>\n")
    return Markup("".join(parts))


def fast_review_list(
    rf: Any, listing: Any, page: Any, pages: Any, items: Markup, siteurl: str
) -> Markup:
    """Byte for byte what `_macros.html`'s review_list writes, given the rendered items."""
    t = rf.t
    e = escape
    site = e(siteurl)
    head = e(t.only_level(page.level)) if page.level else e(t.text("all_reviews"))
    parts = [
        '<section class="rfp-list" aria-labelledby="rfp-list-h">\n'
        '  <div class="rfp-list-head">\n'
        f'    <h2 id="rfp-list-h">{head}</h2>\n'
    ]
    if page.level:
        parts.append(
            f'<a class="rfp-show-all" href="{site}/{e(listing.url)}">{e(t.text("show_all"))}</a>'
        )
    if page.pages > 1:
        of = e(t.text("page_of", page=page.number, pages=page.pages))
        parts.append(f'<p class="rfp-page-of">{of}</p>')
    parts.append("  </div>\n")
    if page.reviews:
        parts.append(f'  <ol class="rfp-reviews">\n{items}  </ol>\n')
    else:
        parts.append(f'  <p class="rfp-empty">{e(t.text("no_reviews"))}</p>\n')
    if page.pages > 1:
        prev, nxt = e(t.text("previous")), e(t.text("next"))
        parts.append(
            f'  <nav class="rfp-pagination" aria-label="{e(t.text("pagination"))}">\n    <ul>\n'
        )
        if page.prev_url:
            parts.append(
                f'      <li><a rel="prev" href="{site}/{e(page.prev_url)}">← {prev}</a></li>\n'
            )
        else:
            parts.append(f'      <li><span class="rfp-off">← {prev}</span></li>\n')
        for item in rf.page_window(pages, page.number):
            if item is None:
                parts.append('<li><span class="rfp-gap" aria-hidden="true">…</span></li>\n')
                continue
            n, u = item
            if n == page.number:
                parts.append(f'<li><span aria-current="page">{e(n)}</span></li>\n')
            else:
                parts.append(f'<li><a href="{site}/{e(u)}">{e(n)}</a></li>\n')
        if page.next_url:
            parts.append(
                f'      <li><a rel="next" href="{site}/{e(page.next_url)}">{nxt} →</a></li>\n'
            )
        else:
            parts.append(f'      <li><span class="rfp-off">{nxt} →</span></li>\n')
        parts.append("    </ul>\n  </nav>\n")
    parts.append("</section>\n")
    return Markup("".join(parts))


def fast_crumbs(
    rf: Any, trail: Sequence[tuple[str, str | None]], siteurl: str, sitename: str
) -> Markup:
    """Byte for byte what `_macros.html`'s crumbs writes."""
    e = escape
    site = e(siteurl)
    parts = [
        f'<nav class="rfp-crumbs" aria-label="{e(rf.t.text("breadcrumb"))}">\n'
        "  <ol>\n"
        f'    <li><a href="{site}/">{e(Markup(sitename).striptags())}</a></li>\n'
    ]
    for label, url in trail:
        if url:
            parts.append(f'    <li><a href="{site}/{e(url)}">{e(label)}</a></li>\n')
        else:
            parts.append(f'    <li><span aria-current="page">{e(label)}</span></li>\n')
    parts.append("  </ol>\n</nav>\n")
    return Markup("".join(parts))


def crumb_trail(rf: Any, listing: Any, page: Any) -> list[tuple[str, str | None]]:
    """What brand.html / product.html pass to the crumbs macro."""
    here = page.level or page.number > 1
    if listing.product is None:
        return [(rf.t.text("brand_reviews"), rf.brand_url if here else None)]
    return [
        (rf.t.text("product_reviews"), rf.products_url),
        (listing.product.name, listing.url if here else None),
    ]
