"""schema.org JSON-LD for product (and, on request, brand) review markup.

Review text is untrusted: the block is built with `json.dumps`, never by
string templating, and `<`, `>`, `&` are written as `\\u003c`, `\\u003e`,
`\\u0026` so no review can close the `<script>` element or open a comment.
The result is still plain JSON (those escapes are valid JSON string escapes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import islice
from typing import Any

from markupsafe import Markup

from ..model import Review
from .data import Aggregate

# Reviews listed in a block: the first ones shown. Google's review snippet needs the
# aggregate or one review, and shows one result per page; every review of a 20-review
# page (a fifth of the output at a million reviews) would earn nothing more.
MARKED_REVIEWS = 3


def script_json(obj: Any) -> str:
    """JSON safe to place verbatim inside `<script type="application/ld+json">`."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    # three replace() calls: several times faster than str.translate on long text
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_block(obj: Any | None) -> Markup:
    if obj is None:
        return Markup("")
    return Markup('<script type="application/ld+json">{}</script>').format(Markup(script_json(obj)))


def _rating_number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def aggregate_rating(agg: Aggregate) -> dict[str, Any]:
    return {
        "@type": "AggregateRating",
        # One decimal, always with a dot (never the page's "4,6"): what the page shows.
        "ratingValue": _rating_number(float(agg.average_text)),
        "reviewCount": agg.count,
        "bestRating": 5,
        "worstRating": 1,
    }


def review_item(r: Review) -> dict[str, Any]:
    """A review as Google's review snippet wants it (author, rating, date). Its text is
    on the page, next to this block: no `reviewBody`, which would print it twice."""
    return {
        "@type": "Review",
        "author": {"@type": "Person", "name": r.author},
        "datePublished": r.date,
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": _rating_number(r.rating),
            "bestRating": 5,
            "worstRating": 1,
        },
    }


def product(
    *, name: str, sku: str, agg: Aggregate, shown: Iterable[Review], url: str | None = None
) -> dict[str, Any] | None:
    """One Product with its aggregate and the first MARKED_REVIEWS reviews shown; None
    without reviews."""
    if agg.count == 0:
        return None
    obj: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": name,
        "sku": sku,
    }
    if url:
        obj["url"] = url
    obj["aggregateRating"] = aggregate_rating(agg)
    reviews = [review_item(r) for r in islice(shown, MARKED_REVIEWS)]
    if reviews:
        obj["review"] = reviews
    return obj


def organization(
    *, name: str, agg: Aggregate, shown: Iterable[Review], url: str | None = None
) -> dict[str, Any] | None:
    """Brand markup, only with REVIEW_FEED_BRAND_AGGREGATE_MARKUP (see docs/site.md)."""
    if agg.count == 0:
        return None
    obj: dict[str, Any] = {"@context": "https://schema.org", "@type": "Organization", "name": name}
    if url:
        obj["url"] = url
    obj["aggregateRating"] = aggregate_rating(agg)
    reviews = [review_item(r) for r in islice(shown, MARKED_REVIEWS)]
    if reviews:
        obj["review"] = reviews
    return obj
