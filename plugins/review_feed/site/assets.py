"""Files that are not pages: widget fragments, JSON documents, the loader, stylesheets.

Pages (review pages, iframe pages, redirects) go through Pelican's writer, which
sends `content_written` for each file. Other plugins take that signal to mean
"an HTML page of this site was written": pelican-sitemap lists it, and DOM
post-processors such as plumage's parse and rewrite it as a whole document
(a stylesheet came out wrapped in `<html><body>`, a fragment for a shop page
gained a document around it). Pelican itself sends no such signal for the
files it copies or the feeds it writes, so neither do we for ours: they are
written here, inside the output folder, rendered by the same templates.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pelican.utils import sanitised_join

log = logging.getLogger("review_feed.site.assets")


def write_asset(output_path: str | Path, name: str, text: str) -> Path:
    """Write `text` to `name` under `output_path` (refusing a name that leaves it)."""
    path = Path(sanitised_join(str(output_path), name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    log.debug('Writing "%s"', path)
    return path
