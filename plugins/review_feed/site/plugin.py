"""Pelican wiring: the generator, and the Jinja globals/filters every template gets.

Signals fire again on every `--autoreload` rebuild; the handlers are plain
module functions (connecting twice is a no-op) and keep nothing between builds.
The globals read the build's data from the template context (`review_feed`),
so an article or page template can use them as well as ours.

Globals:  review_product(ref) -> ProductReviews | None
          review_aggregate(ref) -> Aggregate | None
          review_list(ref) -> list[Review] (newest first; [] when unknown)
          review_widget(ref=None) -> Markup (the product's widget; the brand's without ref)
          review_feed_for(page) -> Markup (widget + Product JSON-LD when the page
                                          or article declares `product_ref`)
Filters:  review_stars(rating) -> Markup (role="img" with a text label)
          review_date(iso) -> str ("November 21, 2026" / "21 novembre 2026")
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from markupsafe import Markup, escape

from ..errors import ReviewFeedError
from ..publish import check_build_output
from ..settings import load_settings
from . import insert, templating
from .generator import ReviewFeedGenerator
from .incremental import retained_names
from .inputs import site_settings
from .view import ReviewFeed
from .widgets import render_fragment


def register() -> None:
    from pelican import signals

    signals.initialized.connect(keep_our_output)
    signals.get_generators.connect(get_generators)
    signals.generator_init.connect(extend_environment)
    signals.finalized.connect(check_output_for_host)
    pelican_log = logging.getLogger("pelican")
    if not any(isinstance(f, OneLineErrors) for f in pelican_log.filters):
        pelican_log.addFilter(OneLineErrors())


class OneLineErrors(logging.Filter):
    """Pelican logs a failed build with its traceback; ours are one-line user messages
    (bad settings, a missing snapshot), so drop the traceback for them only."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ReviewFeedError):
            record.exc_info = None
        return True


def keep_our_output(pelican: Any) -> None:
    """With DELETE_OUTPUT_DIRECTORY, keep our top-level folders (and the manifest) out of
    Pelican's cleaning: the build keeps the units that did not change (incremental.py)
    and removes the rest itself; Pelican's own files are still rebuilt from scratch."""
    if not pelican.delete_outputdir:
        return
    try:
        names = retained_names(load_settings(pelican.settings))
    except ReviewFeedError:
        return  # the generator reports invalid settings, before anything is written
    kept = list(pelican.output_retention or ())
    pelican.output_retention = [*kept, *(n for n in names if n not in kept)]


def get_generators(_pelican: Any) -> type[ReviewFeedGenerator]:
    return ReviewFeedGenerator


def check_output_for_host(pelican: Any) -> None:
    """The finished output against REVIEW_FEED_HOST's limits: over them, the build fails."""
    settings, _lang = site_settings(pelican.settings)
    check_build_output(Path(pelican.output_path), settings.host)


def extend_environment(generator: Any) -> None:
    """Our templates as a fallback after the theme's (escaped, the theme's not), plus
    the globals and filters."""
    env = generator.env
    templating.extend(env)
    env.globals.update(
        review_product=review_product,
        review_aggregate=review_aggregate,
        review_list=review_list,
        review_widget=review_widget,
        review_feed_for=review_feed_for,
    )
    env.filters.update(review_stars=review_stars, review_date=review_date)


def _feed(ctx: Any) -> ReviewFeed | None:
    rf = ctx.get("review_feed")
    return rf if isinstance(rf, ReviewFeed) else None


@pass_context
def review_product(ctx: Any, ref: str) -> Any:
    rf = _feed(ctx)
    return rf.product(ref) if rf else None


@pass_context
def review_aggregate(ctx: Any, ref: str) -> Any:
    p = review_product(ctx, ref)
    return p.aggregate if p else None


@pass_context
def review_list(ctx: Any, ref: str) -> list[Any]:
    p = review_product(ctx, ref)
    return list(p.reviews) if p else []


def _link_base(ctx: Any) -> str:
    # With SITEURL "" a page-relative link breaks below the root; "/" keeps it site-absolute.
    return str(ctx.get("SITEURL") or "/")


@pass_context
def review_widget(ctx: Any, ref: str | None = None) -> Markup:
    rf = _feed(ctx)
    if rf is None or (ref is not None and rf.product(ref) is None):
        return Markup("")
    ref = None if ref is None else str(ref).strip()
    return render_fragment(rf, ref, env=ctx.environment, link_base=_link_base(ctx))


@pass_context
def review_feed_for(ctx: Any, content: Any) -> Markup:
    """What a page/article declaring `product_ref` shows: the widget and its JSON-LD
    (nothing when its content already has them, at a marker)."""
    rf = _feed(ctx)
    if rf is None or insert.has_block(content):
        return Markup("")
    return insert.product_block(rf, content, env=ctx.environment, link_base=_link_base(ctx))


@pass_context
def review_stars(ctx: Any, rating: Any) -> Markup:
    rf = _feed(ctx)
    if rf is None:
        return Markup("")
    return rf.stars(float(rating or 0))


@pass_context
def review_date(ctx: Any, value: Any) -> Markup:
    # Escaped here: Pelican's own environments do not autoescape.
    rf = _feed(ctx)
    return escape(rf.t.date(str(value))) if rf and value else Markup("")
