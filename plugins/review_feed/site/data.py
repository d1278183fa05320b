"""What the pages and widgets show, computed once per build from the snapshot's reviews."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..model import Review
from .slugs import product_slug

log = logging.getLogger("review_feed.site.data")


@dataclass(frozen=True, slots=True)
class Aggregate:
    count: int
    average: float | None  # None when count == 0
    distribution: tuple[tuple[int, int], ...]  # ((5, n5), (4, n4), ..., (1, n1))

    @property
    def average_text(self) -> str:
        """The average with one decimal and a dot ("4.6"), as JSON-LD wants it."""
        return "" if self.average is None else f"{self.average:.1f}"


def mean_one_decimal(total: float, n: int) -> float:
    """The mean rounded half up to one decimal (4.25 -> 4.3), as a shopper expects.

    Ratings are integers or halves, so `total` is exact in binary and Decimal
    sees the true value; round() would round 4.25 to even (4.2).
    """
    mean = Decimal(total) / Decimal(n)
    return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def star_bucket(rating: float) -> int:
    """The star level a rating counts under in the distribution (4.5 -> 5, 4.4 -> 4)."""
    return min(5, max(1, int(rating + 0.5)))


def aggregate(reviews: Iterable[Review]) -> Aggregate:
    counts = dict.fromkeys(range(5, 0, -1), 0)
    total = 0.0
    n = 0
    for r in reviews:
        counts[star_bucket(r.rating)] += 1
        total += r.rating
        n += 1
    return Aggregate(
        count=n,
        average=mean_one_decimal(total, n) if n else None,
        distribution=tuple(counts.items()),
    )


def newest_first(reviews: Iterable[Review]) -> list[Review]:
    return sorted(reviews, key=lambda r: (r.date, r.id), reverse=True)


@dataclass(slots=True)
class ProductReviews:
    ref: str
    slug: str
    name: str  # from the site's content, else the feed, else the ref (see site.plugin)
    reviews: list[Review]  # newest first
    aggregate: Aggregate


@dataclass(slots=True)
class ReviewData:
    brand: list[Review]  # site reviews, newest first
    brand_aggregate: Aggregate
    products: dict[str, ProductReviews] = field(default_factory=dict)  # by ref


def build_data(reviews: Iterable[Review]) -> ReviewData:
    brand: list[Review] = []
    by_ref: dict[str, list[Review]] = {}
    for r in reviews:
        if r.kind == "site":
            brand.append(r)
        elif r.product_ref is not None:
            by_ref.setdefault(r.product_ref, []).append(r)
    products: dict[str, ProductReviews] = {}
    seen: dict[str, str] = {}
    for ref in sorted(by_ref):
        slug = product_slug(ref)
        if slug in seen:  # 128 bits: never seen; if it were, one product waits, not the site
            log.warning(
                "[review-feed] product refs %r and %r map to the same path %s: %r is left out",
                seen[slug],
                ref,
                slug,
                ref,
            )
            continue
        seen[slug] = ref
        items = newest_first(by_ref[ref])
        feed_name = next((r.product_name for r in items if r.product_name), None)
        products[ref] = ProductReviews(ref, slug, feed_name or ref, items, aggregate(items))
    brand = newest_first(brand)
    return ReviewData(brand=brand, brand_aggregate=aggregate(brand), products=products)
