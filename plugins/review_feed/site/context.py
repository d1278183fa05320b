"""What the generator puts in Pelican's context: the snapshot's reviews as read
(`readcache.py` parses only what changed), the products the site's pages declare,
and the view the templates see as `review_feed`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import ReviewFeedError, StoreError
from ..settings import Settings
from ..store import snapshot_files
from ..store.jsonfile import no_cyclic_gc
from .data import ProductReviews, ReviewData
from .i18n import Translator
from .inputs import declared_products, fail
from .readcache import CACHE_FILE, read_snapshot
from .slugs import product_slug
from .view import ReviewFeed, review_feed

log = logging.getLogger("review_feed.site.context")


def read_review_data(settings: Settings, base: Path) -> ReviewData:
    """The snapshot's reviews (of REVIEW_FEED_WEBSITE_IDS), through the build's read
    cache in REVIEW_FEED_CACHE (paths relative to `base`, the folder Pelican runs
    in); a missing folder or a broken file ends the build with one line."""
    folder = settings.path(settings.snapshot, base)
    if not folder.is_dir():
        raise fail(
            StoreError(
                f"snapshot folder {folder} not found: set "
                "REVIEW_FEED_SNAPSHOT (relative paths start at the folder pelican "
                "runs in) or run `review-feed sync` first"
            )
        )
    ids = settings.website_ids
    try:
        files = [f for f in snapshot_files(folder) if not ids or f.website_id in ids]
        with no_cyclic_gc():  # a million lines kept, no cycles among them
            data, changed = read_snapshot(files, settings.path(settings.cache, base) / CACHE_FILE)
    except ReviewFeedError as exc:
        raise fail(exc) from None
    count = len(data.brand) + sum(p.aggregate.count for p in data.products.values())
    log.info(
        "[review-feed] %d reviews read from %s (%d of its %d files changed since the last build)",
        count,
        folder,
        changed,
        len(files),
    )
    return data


def build_view(
    data: ReviewData,
    settings: Settings,
    lang: str,
    context: dict[str, Any],
    env: Any,
    *,
    sitename: str,
    site_url: str,
) -> ReviewFeed:
    """The view of `data`, with the products the site's pages declare: their names
    win over the feed's, and one without reviews yet gets an empty product."""
    declared = declared_products(context)
    slugs = {p.slug: ref for ref, p in data.products.items()}
    for ref, (title, _url) in declared.items():
        p = data.products.get(ref)
        if p is None:  # a product page before its first review: an empty product
            slug = product_slug(ref)
            if slug in slugs:  # never merge two products; never stop the whole build
                log.warning(
                    "[review-feed] product refs %r and %r map to the same path %s: "
                    "the page of %r shows no reviews",
                    slugs[slug],
                    ref,
                    slug,
                    ref,
                )
                continue
            slugs[slug] = ref
            p = ProductReviews.empty(ref, slug)
            data.products[ref] = p
        if title:  # the site's own name wins over the feed's
            p.name = title
    brand_name = settings.brand_name or sitename
    return review_feed(
        data,
        settings,
        Translator(lang),
        brand_name=brand_name,
        env=env,
        content_urls={ref: url for ref, (_title, url) in declared.items()},
        site_url=site_url,
    )
