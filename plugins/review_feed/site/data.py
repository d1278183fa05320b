"""What the pages and widgets show, computed once per build from the snapshot's reviews."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby

from ..model import Review
from ..store import StoredReview
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


def aggregate(ratings: Iterable[float]) -> Aggregate:
    counts = dict.fromkeys(range(5, 0, -1), 0)
    total = 0.0
    n = 0
    for rating in ratings:
        counts[star_bucket(rating)] += 1
        total += rating
        n += 1
    return Aggregate(
        count=n,
        average=mean_one_decimal(total, n) if n else None,
        distribution=tuple(counts.items()),
    )


def newest_first(reviews: Iterable[Review]) -> list[Review]:
    return sorted(reviews, key=lambda r: (r.date, r.id), reverse=True)


def lines_digest(stored: Iterable[StoredReview]) -> str:
    """A hash of the reviews as the snapshot holds them (their collection and lines):
    what a product's pages are rendered from, hashed without building a Review."""
    h = hashlib.blake2b(digest_size=16)
    for (kind, website_id), group in groupby(stored, key=lambda s: (s.kind, s.website_id)):
        h.update(f"{kind}/{website_id}\n".encode())
        h.update(b"\n".join(s.line for s in group))
        h.update(b"\n\n")
    return h.hexdigest()


@dataclass(slots=True)
class ProductReviews:
    ref: str
    slug: str
    name: str  # from the site's content, else the feed, else the ref (see site.plugin)
    aggregate: Aggregate
    fingerprint: str  # `lines_digest` of its reviews: unchanged lines, unchanged pages
    stored: tuple[StoredReview, ...] = ()
    loaded: list[Review] | None = None

    @classmethod
    def of(cls, ref: str, slug: str, stored: list[StoredReview]) -> ProductReviews:
        """A product from its reviews as stored: its name, aggregate and fingerprint come
        from the checked records; its Reviews are built when first shown."""
        named = [s.record for s in stored if s.record.get("product_name")]
        newest = max(named, key=lambda rec: (rec["date"], rec["id"]), default=None)
        feed_name = newest["product_name"] if newest else None
        agg = aggregate(s.record["rating"] for s in stored)
        return cls(ref, slug, feed_name or ref, agg, lines_digest(stored), tuple(stored))

    @property
    def reviews(self) -> list[Review]:
        """Newest first. Built on first use: an incremental build renders only the
        products whose fingerprint changed, and builds no Review for the others."""
        if self.loaded is None:
            self.loaded = newest_first(s.review() for s in self.stored)
        return self.loaded


@dataclass(slots=True)
class ReviewData:
    brand: list[Review]  # site reviews, newest first
    brand_aggregate: Aggregate
    brand_fingerprint: str  # `lines_digest` of the site reviews
    products: dict[str, ProductReviews] = field(default_factory=dict)  # by ref


def build_data(stored: Iterable[StoredReview]) -> ReviewData:
    brand: list[StoredReview] = []
    by_ref: dict[str, list[StoredReview]] = {}
    for s in stored:
        if s.kind == "site":
            brand.append(s)
        else:
            ref = s.record.get("product_ref")
            if ref is not None:
                by_ref.setdefault(ref, []).append(s)
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
        products[ref] = ProductReviews.of(ref, slug, by_ref[ref])
    reviews = newest_first(s.review() for s in brand)
    return ReviewData(
        brand=reviews,
        brand_aggregate=aggregate(r.rating for r in reviews),
        brand_fingerprint=lines_digest(brand),
        products=products,
    )
