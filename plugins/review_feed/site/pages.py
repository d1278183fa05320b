"""Our review pages as the theme's own pages: a real Pelican `Page` for its `page.html`.

The theme lays a page out in `page.html` (its content column, its heading,
its typography), so our rendered review list becomes the `content` of a
`pelican.contents.Page` with honest metadata: a title, a summary, a language,
its URL and save-as, no date, status `published`. The
page is never added to the context's `pages`, so menus stay as they were.

Themes print `page.title` and `page.summary` without escaping, often through
`|striptags` (which unescapes entities), in text and in attributes. Product
names come from the feed, so both go through `theme_safe`.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape
from pelican.contents import Page

# Lookalikes for the characters that could open a tag or leave an attribute,
# even after a theme's |striptags has turned our entities back into characters;
# "=" too, so a theme's unquoted attribute cannot be made to set another one.
LOOKALIKES = str.maketrans({"<": "‹", ">": "›", '"': "”", "'": "’", "=": "＝"})


def theme_safe(text: str) -> Markup:
    """`text` as markup safe wherever a theme prints a title: raw, through
    |striptags, in an attribute or a script string (one line, no < > " ' =)."""
    return escape(" ".join(str(text).split()).translate(LOOKALIKES))


def page_slug(url: str) -> str:
    """An id-safe slug for themes that print `page.slug` (from our own URL)."""
    return re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "reviews"


class ReviewPage(Page):
    """A Page whose content is final HTML: our template wrote its links with the
    file's SITEURL, so there is no intrasite link to rewrite, and nothing is kept
    in Pelican's memo of `get_content`/`get_summary` (which would hold every
    review page of a large build in memory until the process ends)."""

    def get_content(self, siteurl: str) -> str:  # type: ignore[override]
        return self._content

    def get_summary(self, _siteurl: str) -> str:  # type: ignore[override]
        return self.metadata["summary"]


def review_page(
    content: str,
    *,
    title: str,
    summary: str,
    lang: str,
    url: str,
    save_as: str,
    settings: dict[str, Any],
    context: dict[str, Any],
) -> Page:
    """A Page for the theme's page.html, with `content` (our rendered HTML) as its body."""
    metadata = {
        "title": theme_safe(title),
        "summary": theme_safe(summary),
        "lang": lang,
        "slug": page_slug(url),
        "url": url,
        "save_as": save_as,
        "status": "published",
    }
    return ReviewPage(content, metadata=metadata, settings=settings, context=context)
