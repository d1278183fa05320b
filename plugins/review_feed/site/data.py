"""What the pages and widgets show, computed once per build from the snapshot's reviews."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from operator import attrgetter
from typing import Any

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


def aggregate(ratings: Mapping[float, int]) -> Aggregate:
    """The aggregate of reviews counted by rating (rating -> how many)."""
    counts = dict.fromkeys(range(5, 0, -1), 0)
    total = 0.0
    for rating, times in ratings.items():
        counts[star_bucket(rating)] += times
        total += rating * times
    n = sum(ratings.values())
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
    for (kind, website_id), group in groupby(stored, key=attrgetter("kind", "website_id")):
        h.update(f"{kind}/{website_id}\n".encode())
        h.update(b"\n".join(map(attrgetter("line"), group)))
        h.update(b"\n\n")
    return h.hexdigest()


@dataclass(slots=True)
class Gathered:
    """One list's reviews as they are read: their lines, ratings and the newest name."""

    stored: list[StoredReview] = field(default_factory=list)
    ratings: list[float] = field(default_factory=list)
    newest: tuple[str, str] = ("", "")  # (date, id) of the newest review naming the product
    name: str | None = None

    def add(self, rec: dict[str, Any], stored: StoredReview) -> None:
        self.stored.append(stored)
        self.ratings.append(rec["rating"])
        name = rec.get("product_name")
        if name:
            # (files are read newest first: the first name seen is usually the one kept)
            date, newest = rec["date"], self.newest[0]
            if date > newest or (date == newest and rec["id"] > self.newest[1]):
                self.newest, self.name = (date, rec["id"]), name


@dataclass(frozen=True, slots=True)
class Summary:
    """What a list's pages need of its reviews before any is rendered: the hash of
    their lines (its pages' fingerprint), the newest name the feed gave it, and how
    many reviews have each rating. Kept in the read cache (see `readcache.py`)."""

    fingerprint: str
    name: str | None
    ratings: tuple[tuple[float, int], ...]  # (rating, how many), by rating

    @classmethod
    def of(cls, got: Gathered) -> Summary:
        return cls(lines_digest(got.stored), got.name, tuple(sorted(Counter(got.ratings).items())))


Lines = Callable[[str], list[StoredReview]]  # a product's lines, when they were not read


@dataclass(slots=True)
class ProductReviews:
    ref: str
    slug: str
    name: str  # from the site's content, else the feed, else the ref (see site.plugin)
    aggregate: Aggregate
    fingerprint: str  # `lines_digest` of its reviews: unchanged lines, unchanged pages
    stored: list[StoredReview] | None = field(default_factory=list)  # None: not read yet
    lines: Lines | None = None  # reads `stored` when it is None
    loaded: list[Review] | None = None

    @classmethod
    def of(
        cls,
        ref: str,
        slug: str,
        summary: Summary,
        stored: list[StoredReview] | None,
        lines: Lines | None = None,
    ) -> ProductReviews:
        """A product from its summary; its lines as read (None: `lines` reads them if
        it is rendered); its Reviews are built when first shown."""
        agg = aggregate(dict(summary.ratings))
        return cls(ref, slug, summary.name or ref, agg, summary.fingerprint, stored, lines)

    @classmethod
    def empty(cls, ref: str, slug: str) -> ProductReviews:
        """A product no review names (a page of the site declares it)."""
        return cls.of(ref, slug, Summary.of(Gathered()), [])

    @property
    def reviews(self) -> list[Review]:
        """Newest first. Built on first use (an incremental build renders only the
        products whose fingerprint changed) and kept until `release`."""
        if self.loaded is None:
            if self.stored is None:
                assert self.lines is not None, "a product not read has a way to read it"
                self.stored = self.lines(self.ref)
            self.loaded = newest_first(s.review() for s in self.stored)
        return self.loaded

    def release(self) -> None:
        """Let go of the Reviews once the product's files are written: a cold build
        renders every product, and holding all their Reviews would double its memory."""
        self.loaded = None


@dataclass(slots=True)
class ReviewData:
    brand: list[Review]  # site reviews, newest first
    brand_aggregate: Aggregate
    brand_fingerprint: str  # `lines_digest` of the site reviews
    products: dict[str, ProductReviews] = field(default_factory=dict)  # by ref


def owner(kind: str, rec: dict[str, Any]) -> str | None:
    """The product a record counts for: None for a site review (the brand's) and for a
    product review without a ref (it is on no product's pages)."""
    return None if kind == "site" else rec.get("product_ref")


def gather(
    read: Iterable[tuple[dict[str, Any], StoredReview]],
) -> tuple[Gathered, dict[str, Gathered]]:
    """The brand's and each product's reviews, from the records as `read_stored` yields
    them: each record is looked at once and let go of; only the lines are kept."""
    brand = Gathered()
    by_ref: dict[str, Gathered] = {}
    for rec, stored in read:
        ref = owner(stored.kind, rec)
        if stored.kind == "site":
            brand.add(rec, stored)
        elif ref is not None:
            got = by_ref.get(ref)
            if got is None:
                got = by_ref[ref] = Gathered()
            got.add(rec, stored)
    return brand, by_ref


def review_data(
    brand: Gathered,
    summaries: Mapping[str, Summary],
    stored: Mapping[str, list[StoredReview]],
    lines: Lines | None = None,
) -> ReviewData:
    """The build's data: the brand's reviews, and a product per summary (sorted by ref),
    with its lines when `stored` has them, else read by `lines` when rendered."""
    products: dict[str, ProductReviews] = {}
    seen: dict[str, str] = {}
    for ref in sorted(summaries):
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
        products[ref] = ProductReviews.of(ref, slug, summaries[ref], stored.get(ref), lines)
    return ReviewData(
        brand=newest_first(s.review() for s in brand.stored),
        brand_aggregate=aggregate(Counter(brand.ratings)),
        brand_fingerprint=lines_digest(brand.stored),
        products=products,
    )


def build_data(read: Iterable[tuple[dict[str, Any], StoredReview]]) -> ReviewData:
    """The build's data from every review of the snapshot, as `read_stored` yields them."""
    brand, by_ref = gather(read)
    summaries = {ref: Summary.of(got) for ref, got in by_ref.items()}
    return review_data(brand, summaries, {ref: got.stored for ref, got in by_ref.items()})
