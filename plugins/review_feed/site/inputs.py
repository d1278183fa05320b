"""What a build starts from besides the snapshot: its validated settings, the content
pages declaring products, and the one-line error a failed build-time sync ends it with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from ..errors import ReviewFeedError
from ..settings import Settings, load_settings
from .i18n import resolve_lang
from .view import check_locations

if TYPE_CHECKING:
    from ..sync import SyncReport


def fail(exc: ReviewFeedError) -> ReviewFeedError:
    """Make Pelican's CLI exit with our code (it reads `exitcode`)."""
    exc.exitcode = exc.exit_code  # type: ignore[attr-defined]
    return exc


def sync_failure(report: SyncReport) -> ReviewFeedError:
    """The one-line error a failed build-time sync ends the build with (the CLI's exit code)."""
    worst = max(report.errors, key=lambda e: e.exit_code, default=None)
    why = worst.message if worst else "rows were rejected in strict mode (listed above)"
    exc = ReviewFeedError(f"the sync before the build failed, nothing was published: {why}")
    exc.exit_code = report.exit_code
    return exc


def site_settings(pelican_settings: dict[str, Any]) -> tuple[Settings, str]:
    """REVIEW_FEED_* settings validated for a build, and the language to use."""
    try:
        settings = load_settings(pelican_settings)
        check_locations(settings)
        lang = resolve_lang(settings.lang, pelican_settings.get("DEFAULT_LANG"))
    except ReviewFeedError as exc:
        raise fail(exc) from None
    return settings, lang


def declared_products(context: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """ref -> (title, url) of the page declaring it (first by source path).

    Only pages name products: an article (a blog post about a product) shows its
    widget but its title is not the product's name.
    """
    found: dict[str, tuple[str, str]] = {}
    pages = [*(context.get("pages") or []), *(context.get("hidden_pages") or [])]
    for item in sorted(pages, key=lambda c: str(c.source_path)):
        ref = str(item.metadata.get("product_ref") or "").strip()
        if ref and ref not in found:
            # Titles may carry markup or entities (typogrify): the name is plain text.
            title = Markup(str(getattr(item, "title", "") or "")).striptags()
            found[ref] = (title, item.url)
    return found
