"""Keep what search engines should not index out of `pelican-sitemap`'s sitemap.

That plugin lists every file Pelican's writer writes (its `content_written`
signal; the `page.url` of a page, ours included) except the URLs matching its
`SITEMAP["exclude"]` regular expressions, read from the settings when the
build ends. Our star-filter pages are noindex,
and the widget files and the stylesheet are not pages: one pattern matching
exactly their paths is added to that setting (the user's patterns are kept),
so it works with no configuration. Without the plugin the setting is unused.
"""

from __future__ import annotations

import re
from typing import Any

from ..settings import Settings
from .view import sub_location

_LEVEL, _PAGE, _SLUG = "QQLEVELQQ", "QQPAGEQQ", "QQSLUGQQ"


def _star_pages(url: str, save_as: str) -> list[str]:
    """Regexes of a listing's star-filter pages (and their later pages), as the sitemap
    sees them: the page's URL (it reads `page.url`) or its output path, either with a
    trailing index.html removed."""
    url, save_as = url.replace("{slug}", _SLUG), save_as.replace("{slug}", _SLUG)
    star = sub_location(url, save_as, f"stars-{_LEVEL}")
    paged = sub_location(*star, "page", _PAGE)
    out = []
    for path in (*star, *paged):
        rx = re.escape(path)
        rx = rx.replace(_LEVEL, "[1-5]").replace(_PAGE, r"\d+").replace(_SLUG, "[^/]+")
        out.append(re.sub(r"index\\\.html$", "", rx))
    return list(dict.fromkeys(out))  # one pattern when URL and path agree


def sitemap_exclusion(settings: Settings) -> str:
    """One regex matching every noindex page and non-page file the plugin writes."""
    parts = [
        *_star_pages(settings.brand_url, settings.brand_save_as),
        *_star_pages(settings.product_url, settings.product_save_as),
    ]
    parts.append(re.escape(settings.widget_dir.strip("/")) + "/.*")
    if settings.stylesheet:
        parts.append(re.escape(settings.stylesheet))
    return "^(?:" + "|".join(parts) + ")$"


def exclude_from_sitemap(pelican_settings: dict[str, Any], settings: Settings) -> None:
    """Add our pattern to SITEMAP["exclude"] (once, whatever the rebuilds)."""
    config = pelican_settings.get("SITEMAP")
    if config is not None and not isinstance(config, dict):
        return  # the sitemap plugin reports its own invalid setting
    pattern = sitemap_exclusion(settings)
    exclude = list((config or {}).get("exclude", ()))
    if pattern not in exclude:
        pelican_settings["SITEMAP"] = {**(config or {}), "exclude": [*exclude, pattern]}
