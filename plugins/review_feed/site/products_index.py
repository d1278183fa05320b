"""The products index: every product with its stars, average and count, by name,
cut into pages of REVIEW_FEED_PRODUCTS_PAGE_SIZE.

A catalogue of fifty thousand products would otherwise be one page of about
19 MB: more than a search engine reads of a page (Google stops at 15 MB) and
more than a phone should render. Page 1 is at REVIEW_FEED_PRODUCTS_URL, page N
at its `page/N/` (the place a list's archive pages take after its URL; the
index has no `page/1/`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..settings import Settings
from .data import ProductReviews
from .i18n import Translator
from .view import page_window, sub_location


@dataclass(frozen=True, slots=True)
class IndexPage:
    """One page of the products index (`rf_index` in products.html)."""

    number: int  # 1 is the first page, at the products URL
    page_count: int  # how many pages the index has
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


def name_order(p: ProductReviews) -> tuple[str, str, str]:
    """Alphabetical as a reader expects it: case and accents ignored ("Éclair" with
    the E's), then the name as written, then the ref (the same order every build)."""
    decomposed = unicodedata.normalize("NFKD", p.name.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain, p.name, p.ref


def index_pages(
    products: Iterable[ProductReviews], settings: Settings, *, paged: bool = True
) -> list[IndexPage]:
    """The index's pages, the products by `name_order`; one page when there is no
    product, or when not `paged` (a theme's products.html that shows them all)."""
    by_name = sorted(products, key=name_order)
    size = settings.products_page_size if paged else max(1, len(by_name))
    count = max(1, -(-len(by_name) // size))
    urls = [(k, index_location(settings, k)[0]) for k in range(1, count + 1)]
    return [
        IndexPage(
            number=k,
            page_count=count,
            products=by_name[(k - 1) * size : k * size],
            url=url,
            save_as=index_location(settings, k)[1],
            previous_url=urls[k - 2][1] if k > 1 else None,
            next_url=urls[k][1] if k < count else None,
            links=page_window(urls, k),
        )
        for k, url in urls
    ]
