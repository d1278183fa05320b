"""Keep what search engines should not index out of `pelican-sitemap`'s sitemap.

That plugin lists every file Pelican's writer writes (its `content_written`
signal; the `page.url` of a page, ours included) except the URLs matching its
`SITEMAP["exclude"]` regular expressions, read from the settings when the
build ends. The redirects at old product paths are noindex, and the widget
files and the stylesheet are not pages: one pattern matching exactly their
paths is added to that setting (the user's patterns are kept), so it works
with no configuration. Without the plugin the setting is unused.
"""

from __future__ import annotations

import re
from typing import Any

from ..settings import Settings
from .legacy import old_page_pattern


def sitemap_exclusion(settings: Settings) -> str:
    """One regex matching every noindex page and non-page file the plugin writes."""
    parts = [re.escape(settings.widget_dir.strip("/")) + "/.*"]
    if settings.old_paths:  # redirects from the paths of earlier releases
        parts.append(old_page_pattern(settings))
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
