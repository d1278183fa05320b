"""Product paths of earlier releases, kept working (REVIEW_FEED_OLD_PATHS, off by default).

Releases before the 128-bit slug named a product's files with a 32-bit FNV-1a
hash (`slugs.legacy_slug`). A site published by one of them has those URLs in
search indexes, bookmarks and shops' pages (SSI includes and iframes), so with
the setting on each product also gets, at its old path:

- its review page: a redirect page (`<meta http-equiv="refresh">` with a
  `rel="canonical"` link and `noindex`, the only redirect a static host serves
  everywhere);
- its iframe page: the same redirect (it happens inside the frame), to the
  shared iframe page with the product in its URL;
- its fragment and JSON document: a copy of the new file (a server-side include
  and a `fetch` do not follow a meta refresh, and a redirect page included in a
  shop's page would redirect the shop's page itself).

Two refs that shared an old path never had a page (earlier releases refused to
build); neither gets one now. Off by default: four files per product (as many as
the product's own pages and widget) that a site first published with the
128-bit slugs has no use for.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

from ..settings import Settings
from .assets import write_asset
from .slugs import legacy_slug
from .templating import Verbatim
from .view import ReviewFeed
from .widgets import frame_src, page_url, widget_files

REDIRECT = (
    '<!doctype html>\n<html><head><meta charset="utf-8"><title>{title}</title>'
    '<meta name="robots" content="noindex"><link rel="canonical" href="{url}">'
    '<meta http-equiv="refresh" content="0; url={url}"></head>\n'
    '<body><p><a href="{url}">{title}</a></p></body></html>\n'
)


def redirect_page(url: str, title: str) -> str:
    return REDIRECT.format(url=escape(url), title=escape(title))


def _target(url: str, from_file: str, siteurl: str) -> str:
    """`url` (site-relative) as a link in the output file `from_file`."""
    if siteurl:
        return f"{siteurl.rstrip('/')}/{url}"
    rel = posixpath.relpath(url or ".", posixpath.dirname(from_file) or ".")
    return rel + "/" if url.endswith("/") and not rel.endswith("/") else rel


def old_page_pattern(settings: Settings) -> str:
    """Regex of the old review pages' paths as pelican-sitemap sees them (a trailing
    index.html dropped): they are redirects, kept out of the sitemap (see noindex.py)."""
    rx = re.escape(settings.product_save_as.replace("{slug}", "QQSLUGQQ"))
    rx = rx.replace("QQSLUGQQ", "[a-z0-9-]*-[0-9a-f]{8}")  # 8 hex digits: never a new slug
    return re.sub(r"index\\\.html$", "", rx)


def old_files(settings: Settings, ref: str) -> dict[str, str]:
    """Output-relative paths a product had before: keys "page", "html", "json", "frame"."""
    stem = f"{settings.widget_dir.strip('/')}/products/{legacy_slug(ref)}"
    return {
        "page": settings.product_save_as.format(slug=legacy_slug(ref)),
        "html": f"{stem}.html",
        "json": f"{stem}.json",
        "frame": f"{stem}-frame.html",
    }


def old_path_refs(rf: ReviewFeed) -> set[str]:
    """The products that get their old paths: none when REVIEW_FEED_OLD_PATHS is off,
    and never two refs that shared an old path."""
    if not rf.settings.old_paths:
        return set()
    shared = Counter(legacy_slug(ref) for ref in rf.products)
    return {ref for ref in rf.products if shared[legacy_slug(ref)] == 1}


def write_old_product_paths(
    writer: Any, rf: ReviewFeed, context: dict[str, Any], ref: str
) -> list[str]:
    """Write one product's old-path files, after its widget files (redirect pages
    through Pelican's writer, copies of the fragment and JSON as assets); return
    their output-relative names."""
    settings = rf.settings
    out = Path(writer.output_path)
    old, new = old_files(settings, ref), widget_files(settings, ref)
    page = _target(page_url(settings, ref), old["page"], rf.site_url)
    frame = _target(frame_src(settings, ref), old["frame"], rf.site_url)
    name = rf.products[ref].name
    pages = {old["page"]: redirect_page(page, name), old["frame"]: redirect_page(frame, name)}
    for rel, text in pages.items():
        writer.write_file(rel, Verbatim(text), context)
    for kind in ("html", "json"):  # not pages: copied as the widget files are written
        write_asset(out, old[kind], (out / new[kind]).read_text("utf-8"))
    return [*pages, old["html"], old["json"]]
