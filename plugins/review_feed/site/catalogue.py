"""The products index: every product with its stars, average and count, by name,
cut into pages of REVIEW_FEED_PRODUCTS_PAGE_SIZE.

A catalogue of fifty thousand products would otherwise be one page of about
19 MB: more than a search engine reads of a page (Google stops at 15 MB) and
more than a phone should render. Page 1 is at REVIEW_FEED_PRODUCTS_URL, page N
at its `page/N/` (the place a list's archive pages take after its URL).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..settings import Settings
from .data import ProductReviews
from .i18n import Translator
from .view import ReviewFeed, sub_location


@dataclass(frozen=True, slots=True)
class IndexPage:
    """One page of the products index (`rf_index` in products.html)."""

    number: int  # 1 is the first page, at the products URL
    count: int  # how many pages the index has
    products: Sequence[ProductReviews]  # by name
    url: str
    save_as: str
    previous_url: str | None
    next_url: str | None
    links: Sequence[tuple[int, str] | None]  # first, last and the pages around: None is a gap

    def title(self, t: Translator) -> str:
        title = t.text("products_title")
        if self.number == 1:
            return title
        return t.text("archive_title", title=title, page=t.integer(self.number))

    def trail(self, t: Translator, first_url: str) -> list[tuple[str, str | None]]:
        """The breadcrumb after the site's home: the index, "here" on its first page."""
        return [(t.text("product_reviews"), None if self.number == 1 else first_url)]


def index_location(settings: Settings, number: int) -> tuple[str, str]:
    """The URL and file of page `number` of the products index."""
    if number == 1:
        return settings.products_url, settings.products_save_as
    return sub_location(settings.products_url, settings.products_save_as, "page", str(number))


def index_pages(products: Iterable[ProductReviews], settings: Settings) -> list[IndexPage]:
    """The index's pages: the products sorted by name, case ignored (ties keep their
    order, by ref); one page when there is none."""
    by_name = sorted(products, key=lambda p: p.name.lower())
    size = settings.products_page_size
    count = max(1, -(-len(by_name) // size))
    locations = [(k, index_location(settings, k)) for k in range(1, count + 1)]
    urls = [(k, url) for k, (url, _save_as) in locations]
    pages = []
    for k, (url, save_as) in locations:
        pages.append(
            IndexPage(
                number=k,
                count=count,
                products=by_name[(k - 1) * size : k * size],
                url=url,
                save_as=save_as,
                previous_url=urls[k - 2][1] if k > 1 else None,
                next_url=urls[k][1] if k < count else None,
                links=ReviewFeed.page_window(urls, k) if count > 1 else [],
            )
        )
    return pages
