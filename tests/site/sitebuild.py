"""Helpers for the site tests: review factories and the build result reader."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
from review_feed.model import Reply, Review

REPO = Path(__file__).resolve().parents[2]
LD_JSON = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)
# A review list's items; in each, the review's "when" line and its text (its parts
# have no class: the stylesheet, and these paths, find them by position).
REVIEWS = "//ul[@class='rfp-reviews']/li"
REVIEW_WHEN = REVIEWS + "/div/p[1]"
REVIEW_TEXT = REVIEWS + "/div/p[2]"


# Pelican's own feeds and content caches off: a test build writes only what it checks.
QUIET_BUILD: dict[str, Any] = {
    "FEED_ALL_ATOM": None,
    "CATEGORY_FEED_ATOM": None,
    "TRANSLATION_FEED_ATOM": None,
    "AUTHOR_FEED_ATOM": None,
    "AUTHOR_FEED_RSS": None,
    "CACHE_CONTENT": False,
    "LOAD_CONTENT_CACHE": False,
}


def site_review(i: int, rating: int | float, **kw: Any) -> Review:
    fields: dict[str, Any] = {
        "kind": "site",
        "website_id": "w1",
        "id": f"S{i:03d}",
        "review_id": f"S{i:03d}",
        "product_ref": None,
        "product_name": None,
        "rating": rating,
        "text": f"Brand review number {i}",
        "author": f"Author{i} B.",
        "date": f"2026-10-{(i % 28) + 1:02d}T{(i // 28) % 24:02d}:00:00",
        "order_date": None,
        "replies": (),
    }
    fields.update(kw)
    return Review(**fields)


def product_review(i: int, ref: str, rating: int | float, **kw: Any) -> Review:
    fields: dict[str, Any] = {
        "kind": "product",
        "id": f"P{i:03d}",
        "review_id": f"R{i:03d}",
        "product_ref": ref,
        "text": f"Product review number {i}",
    }
    fields.update(kw)
    return site_review(i, rating, **fields)


@dataclass
class Built:
    output: Path

    def path(self, url: str) -> Path:
        """The file a URL like `reviews/page/2/` is served from."""
        p = self.output / url
        return p / "index.html" if url.endswith("/") or url == "" else p

    def html(self, url: str) -> str:
        return self.path(url).read_text("utf-8")

    def tree(self, url: str) -> Any:
        return lxml.html.fromstring(self.html(url))

    def jsonld(self, url: str) -> list[Any]:
        return [json.loads(block) for block in LD_JSON.findall(self.html(url))]


BuildSite = Callable[..., Built]


def replies(*items: tuple[str, str, str]) -> tuple[Reply, ...]:
    return tuple(Reply(date=d, origin=o, text=t) for d, o, t in items)
