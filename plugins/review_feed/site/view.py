"""What the templates see: one `ReviewFeed` object per build, and the listing pages.

Built by the generator from the snapshot (see `generator.py`) and put in the
template context as `review_feed`. The review pages and the widgets read the
same object: one view model, one catalog of words (`i18n.py`). Markup is the
templates' job; the one exception, `stars()`, calls the template macro for
theme code that wants stars from Python.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from ..errors import ConfigError
from ..model import Reply, Review
from ..settings import Settings
from .data import Aggregate, ProductReviews, ReviewData, star_bucket
from .i18n import Translator
from .templating import stylesheet_url

MACROS = "review_feed/_macros.html"

LEVELS = (5, 4, 3, 2, 1)


def sub_location(url: str, save_as: str, *parts: str) -> tuple[str, str]:
    """The URL and file of a sub-page: ("reviews/", "reviews/index.html") + ("page", "2")
    -> ("reviews/page/2/", "reviews/page/2/index.html")."""
    if not url or url.endswith("/"):
        sub_url = url + "/".join(parts) + "/"
    else:
        sub_url = posixpath.join(posixpath.dirname(url), *parts, posixpath.basename(url))
    sub_save = posixpath.join(posixpath.dirname(save_as), *parts, posixpath.basename(save_as))
    return sub_url, sub_save


def check_locations(settings: Settings) -> None:
    """URL/save-as settings usable as paths inside the output folder, one per product."""
    pairs = [
        ("brand_url", False),
        ("brand_save_as", False),
        ("products_url", False),
        ("products_save_as", False),
        ("product_url", True),
        ("product_save_as", True),
    ]
    for attr, needs_slug in pairs:
        name = "REVIEW_FEED_" + attr.upper()
        value = getattr(settings, attr)
        if needs_slug and "{slug}" not in value:
            raise ConfigError(f"{name} ({value!r}) is invalid: it must contain {{slug}}")
        try:
            value = value.format(slug="x") if needs_slug else value
        except (KeyError, IndexError, ValueError):
            raise ConfigError(
                f"{name} ({value!r}) is invalid: the only placeholder allowed is {{slug}}"
            ) from None
        if attr.endswith("save_as"):
            parts = value.split("/")
            if not value or value.startswith("/") or ".." in parts or value.endswith("/"):
                raise ConfigError(
                    f"{name} ({value!r}) is invalid: expected a relative file path "
                    "inside the output folder, e.g. reviews/index.html"
                )
        elif value.startswith("/") or "//" in value or ".." in value.split("/"):
            raise ConfigError(
                f"{name} ({value!r}) is invalid: expected a URL relative to SITEURL, e.g. reviews/"
            )


def page_window(
    pages: Sequence[tuple[int, str]], current: int, around: int = 2
) -> list[tuple[int, str] | None]:
    """Page links to show: first, last and `around` each side of the current one;
    None marks a gap. Keeps every page O(1) in size however long the list."""
    shown: list[tuple[int, str] | None] = []
    for n, url in pages:
        if n in (1, len(pages)) or abs(n - current) <= around:
            if shown and shown[-1] is not None and shown[-1][0] != n - 1:
                shown.append(None)
            shown.append((n, url))
    return shown


@dataclass(frozen=True, slots=True)
class Level:
    """One row of the distribution: star level, count, share and the filtered list."""

    level: int
    count: int
    percent: str  # "62%" / "62 %"
    width: int  # 0..100, for the bar
    label: str  # "4 stars"
    # the in-page filter (CSS :target): only for a list on one page, where it filters
    # every review; None when no review has it or the list is paginated
    anchor: str | None


@dataclass(frozen=True, slots=True)
class ListingPage:
    """One page of a review list: its main page (number 0, at the list's URL: the
    newest reviews) or one of its archive pages (1 = the oldest `page_size` reviews)."""

    number: int
    archive: int  # how many archive pages the list has
    reviews: Sequence[Review]  # newest first
    url: str
    save_as: str
    newer_url: str | None  # archive pages: the next newer one (the main page after the last)
    older_url: str | None  # the next older archive page

    @property
    def main(self) -> bool:
        return self.number == 0

    @property
    def first_date(self) -> str:
        """The date of the page's oldest review."""
        return self.reviews[-1].date if self.reviews else ""

    @property
    def last_date(self) -> str:
        """The date of the page's newest review."""
        return self.reviews[0].date if self.reviews else ""


@dataclass(slots=True)
class Listing:
    """A brand or product review list with its star-level distribution, cut into pages.

    Pages are stable: the older reviews are cut into archive pages of exactly
    `page_size` reviews numbered from the oldest, so a full archive page never
    changes when reviews arrive. The main page holds the rest, newest first:
    every review of a list shorter than two pages, else between one and two
    pages of them; an archive page is cut off when it would reach two pages.
    Reviews are ordered by (date, id), so the cut is the same in every build.
    """

    kind: str  # "brand" | "product"
    product: ProductReviews | None
    title: str
    aggregate: Aggregate
    url: str
    save_as: str
    reviews: list[Review]  # newest first
    page_size: int
    levels: list[Level] = field(default_factory=list)

    @property
    def archive_count(self) -> int:
        return max(0, len(self.reviews) // self.page_size - 1)

    def archive_location(self, number: int) -> tuple[str, str]:
        """The URL and file of archive page `number`."""
        return sub_location(self.url, self.save_as, "page", str(number))

    def main_page(self) -> ListingPage:
        a = self.archive_count
        main = self.reviews[: len(self.reviews) - a * self.page_size]
        older = self.archive_location(a)[0] if a else None
        return ListingPage(0, a, main, self.url, self.save_as, None, older)

    def archive_page(self, number: int) -> ListingPage:
        a, s, n = self.archive_count, self.page_size, len(self.reviews)
        url, save_as = self.archive_location(number)
        newer = self.archive_location(number + 1)[0] if number < a else self.url
        older = self.archive_location(number - 1)[0] if number > 1 else None
        items = self.reviews[n - number * s : n - (number - 1) * s]
        return ListingPage(number, a, items, url, save_as, newer, older)

    def pages(self) -> list[ListingPage]:
        """The main page, then the archive pages newest first."""
        archive = [self.archive_page(k) for k in range(self.archive_count, 0, -1)]
        return [self.main_page(), *archive]

    def archive_links(self, around: int = 2) -> list[tuple[int, str] | None]:
        """The main page's links to the archive, newest first: the newest pages and the
        oldest, None marking a gap (O(1) in size however long the list)."""
        a = self.archive_count
        shown = page_window([(k, self.archive_location(k)[0]) for k in range(1, a + 1)], a, around)
        return shown[::-1]


@dataclass(slots=True)
class ReviewFeed:
    """The template-facing view of one build's reviews (`review_feed` in templates)."""

    settings: Settings
    t: Translator
    brand_name: str
    brand: Listing
    products: dict[str, ProductReviews]  # by ref, sorted by ref
    content_urls: Mapping[str, str]  # ref -> URL of the content page declaring it
    site_url: str = ""  # Pelican's SITEURL
    env: Any = field(default=None, repr=False)  # the Jinja environment our macros come from
    stylesheet_url: str = ""  # the pages' stylesheet, site-relative ("" when there is none)
    # rating -> the stars' markup: a build draws the same few ratings a million times
    star_markup: dict[float | None, Markup] = field(default_factory=dict, repr=False)

    def absolute(self, url: str) -> str | None:
        """An absolute URL for structured data, when SITEURL is absolute."""
        if self.site_url.startswith(("http://", "https://")):
            return f"{self.site_url.rstrip('/')}/{url}"
        return None

    @property
    def lang(self) -> str:
        return self.t.lang

    @property
    def notice(self) -> str:
        return self.settings.notice or self.t.text("notice")

    @property
    def brand_url(self) -> str:
        return self.settings.brand_url

    @property
    def products_url(self) -> str:
        return self.settings.products_url

    @staticmethod
    def level_of(r: Review) -> int:
        """The star level a review counts under (4.5 -> 5)."""
        return star_bucket(r.rating)

    def product(self, ref: str) -> ProductReviews | None:
        return self.products.get(str(ref).strip())

    def product_url(self, p: ProductReviews) -> str:
        return self.settings.product_url.format(slug=p.slug)

    def product_save_as(self, p: ProductReviews) -> str:
        return self.settings.product_save_as.format(slug=p.slug)

    def listing(self, p: ProductReviews | None) -> Listing:
        if p is None:
            return self.brand
        return make_listing(
            kind="product",
            product=p,
            title=self.t.text("product_title", product=p.name),
            reviews=p.reviews,
            agg=p.aggregate,
            url=self.product_url(p),
            save_as=self.product_save_as(p),
            settings=self.settings,
            t=self.t,
        )

    # --- small text helpers the templates use (plain str: autoescape handles them)
    def rating_text(self, agg: Aggregate) -> str:
        """ "4.6 out of 5, 128 reviews" — the rating readable as text."""
        if not agg.count:
            return self.t.text("no_reviews")
        avg = self.t.text("rating_text", average=self.t.decimal(agg.average or 0))
        return f"{avg}, {self.t.count(agg.count)}"

    def author(self, r: Review) -> str:
        return self.t.text("anonymous") if r.author == "Anonymous" else r.author

    def reply_label(self, reply: Reply) -> str:
        key = {"merchant": "reply_merchant", "moderator": "reply_moderator"}.get(reply.origin)
        if key:
            return self.t.text(key, brand=self.brand_name)
        if reply.origin == "customer":
            return self.t.text("reply_customer")
        return reply.origin.capitalize()

    def stars(self, rating: float | None) -> Markup:
        """The `stars` macro's markup (for our templates, theme code and the
        `review_stars` filter), rendered once per distinct rating."""
        markup = self.star_markup.get(rating)
        if markup is None:
            macros = self.env.get_template(MACROS).module
            markup = self.star_markup[rating] = Markup(macros.stars(self, rating))
        return markup

    def star_label(self, rating: float | None) -> str:
        """ "4.6 out of 5 stars": the stars' text for assistive technology."""
        return self.t.text("stars_label", rating=self.t.rating(round(float(rating or 0), 1)))

    @staticmethod
    def star_width(rating: float | None) -> str:
        """How much of the five stars is filled, in percent ("92")."""
        return f"{max(0.0, min(100.0, float(rating or 0) * 20)):g}"

    def name_of(self, listing: Listing) -> str:
        """Whose reviews a listing holds: the product's name or the brand's."""
        return listing.product.name if listing.product is not None else self.brand_name

    def crumbs(
        self, listing: Listing | None = None, page: ListingPage | None = None
    ) -> list[tuple[str, str | None]]:
        """The breadcrumb trail after the site's home: (label, URL or None for "here").

        No listing: the products index's first page (each of its pages has its own
        trail, `IndexPage.trail`; this one is for a theme's products.html written
        before the index had pages). A list is "here" only on its main page; its
        archive pages link back to it.
        """
        here = page is None or page.main
        if listing is None:
            return [(self.t.text("product_reviews"), None)]
        if listing.product is None:
            return [(self.t.text("brand_reviews"), None if here else self.brand_url)]
        return [
            (self.t.text("product_reviews"), self.products_url),
            (listing.product.name, None if here else listing.url),
        ]

    def page_title(self, listing: Listing, page: ListingPage) -> str:
        """A page's title: the list's; an archive page's adds its number, which stays."""
        if page.main:
            return listing.title
        return self.t.text("archive_title", title=listing.title, page=self.t.integer(page.number))

    def date_range(self, page: ListingPage) -> str:
        """ "From January 3, 2024 to March 7, 2024": the dates an archive page covers."""
        first, last = self.t.date(page.first_date), self.t.date(page.last_date)
        if first == last:
            return self.t.text("archive_day", date=first)
        return self.t.text("archive_range", first=first, last=last)

    def widget_title(self, listing: Listing) -> str:
        name = self.name_of(listing)
        return self.t.text("widget_label", name=name) if name else self.t.text("widget_heading")

    def see_all(self, count: int) -> str:
        """The widget's link to the full list."""
        if count == 0:
            return self.t.text("widget_all_none")
        if count == 1:
            return self.t.text("widget_all_one")
        return self.t.text("widget_all", n=self.t.integer(count))


def make_listing(
    *,
    kind: str,
    product: ProductReviews | None,
    title: str,
    reviews: list[Review],
    agg: Aggregate,
    url: str,
    save_as: str,
    settings: Settings,
    t: Translator,
) -> Listing:
    listing = Listing(kind, product, title, agg, url, save_as, reviews, settings.page_size)
    # A list on its main page alone is filtered in the page (anchors + CSS). A longer
    # list has no filter: a page per star level would double its files, and filtering
    # one page of it would claim to filter what it does not; its distribution is counts.
    paged = listing.archive_count > 0
    for level, n in agg.distribution:
        listing.levels.append(
            Level(
                level=level,
                count=n,
                percent=t.percent(n, agg.count),
                width=round(100 * n / agg.count) if agg.count else 0,
                label=t.level(level),
                anchor=f"rfp-stars-{level}" if n and not paged else None,
            )
        )
    return listing


def review_feed(
    data: ReviewData,
    settings: Settings,
    t: Translator,
    *,
    brand_name: str,
    env: Any,
    content_urls: Mapping[str, str] | None = None,
    site_url: str = "",
) -> ReviewFeed:
    """The build's view: the brand listing, the products by ref, and where they live."""
    brand = make_listing(
        kind="brand",
        product=None,
        title=t.text("brand_title", brand=brand_name),
        reviews=data.brand,
        agg=data.brand_aggregate,
        url=settings.brand_url,
        save_as=settings.brand_save_as,
        settings=settings,
        t=t,
    )
    return ReviewFeed(
        settings=settings,
        t=t,
        brand_name=brand_name,
        brand=brand,
        products=dict(sorted(data.products.items())),
        content_urls=dict(content_urls or {}),
        site_url=site_url,
        env=env,
        stylesheet_url=stylesheet_url(settings.stylesheet),
    )
