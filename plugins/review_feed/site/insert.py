"""A content page or article declaring `product_ref` gets its product's widget and
Product JSON-LD, with no template code.

Where: at the marker `[review-feed]` or `<!-- review-feed -->` when the content
has one, else after the body (REVIEW_FEED_INSERT = "after"), before it
("before") or nowhere ("off"). A theme whose template for that content calls
`review_feed_for(page)` places the block itself, so nothing is inserted and the
content is shown once.

Pelican has no public setter for a content's HTML: like Pelican's own plugins
(summary, render-math) this rewrites `_content`, once per build, after every
generator has read its content and before anything is written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

import jinja2
from jinja2 import nodes
from markupsafe import Markup
from pelican.utils import get_relative_path, path_to_url

from . import jsonld
from .view import ReviewFeed
from .widgets import render_fragment

log = logging.getLogger("review_feed.site.insert")

MARKER = re.compile(r"(?:<p>\s*)?(?:\[review-feed\]|<!--\s*review-feed\s*-->)(?:\s*</p>)?")
TEMPLATE_CALL = "review_feed_for"
BLOCK_ATTR = "data-review-feed-for"


def product_ref(content: Any) -> str:
    meta = getattr(content, "metadata", None) or {}
    return str(meta.get("product_ref") or "").strip()


def product_block(rf: ReviewFeed, content: Any, *, env: Any, link_base: str) -> Markup:
    """The widget and Product JSON-LD of a content declaring `product_ref` ("" if none)."""
    ref = product_ref(content)
    p = rf.product(ref) if ref else None
    if p is None:
        return Markup("")
    shown = p.reviews[: rf.settings.widget_count]
    data = jsonld.product(
        name=p.name,
        sku=p.ref,
        agg=p.aggregate,
        shown=shown,
        url=rf.absolute(getattr(content, "url", "") or ""),
    )
    widget = render_fragment(rf, p.ref, env=env, link_base=link_base)
    return (
        Markup('<div class="rf-for" {}="{}">').format(Markup(BLOCK_ATTR), p.ref)
        + widget
        + jsonld.script_block(data)
        + Markup("</div>")
    )


def has_block(content: Any) -> bool:
    """Whether the content already shows its product block (a marker or an earlier insert)."""
    return BLOCK_ATTR in str(getattr(content, "content", "") or "")


def contents(context: dict[str, Any]) -> Iterator[Any]:
    """Every page and article of the build, with their translations, once each."""
    seen: set[int] = set()
    keys = ("articles", "drafts", "pages", "hidden_pages", "draft_pages")
    for item in (c for key in keys for c in context.get(key) or ()):
        for c in (item, *getattr(item, "translations", ())):
            if id(c) not in seen:
                seen.add(id(c))
                yield c


class TemplateCalls:
    """Which templates call `review_feed_for(...)`, through what they extend and include."""

    def __init__(self, env: jinja2.Environment):
        self.env = env
        self.known: dict[str, bool] = {}

    def __call__(self, name: str) -> bool:
        if name not in self.known:
            self.known[name] = False  # a cycle stops here
            self.known[name] = self._calls(name)
        return self.known[name]

    def _calls(self, name: str) -> bool:
        try:
            source = self.env.loader.get_source(self.env, name)[0] if self.env.loader else ""
            tree = self.env.parse(source, name)
        except jinja2.TemplateError:
            return False
        for call in tree.find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == TEMPLATE_CALL:
                return True
        linked: Iterable[Any] = (
            *tree.find_all(nodes.Extends),
            *tree.find_all(nodes.Include),
            *tree.find_all(nodes.Import),
            *tree.find_all(nodes.FromImport),
        )
        return any(
            isinstance(n.template, nodes.Const) and self(str(n.template.value)) for n in linked
        )


def place(html: str, block: str, where: str) -> str:
    """`html` with `block` at its first marker (other markers removed), else `where`."""
    if MARKER.search(html):
        first = True

        def swap(_m: re.Match[str]) -> str:
            nonlocal first
            out, first = (block if first else ""), False
            return out

        return MARKER.sub(swap, html)
    if where == "before":
        return block + html
    if where == "after":
        return html + block
    return html


def link_base(content: Any, settings: dict[str, Any]) -> str:
    """SITEURL as the writer will set it for this content's file."""
    if settings.get("RELATIVE_URLS"):
        return path_to_url(get_relative_path(content.save_as))
    return str(settings.get("SITEURL") or "/")


def insert_blocks(
    rf: ReviewFeed, context: dict[str, Any], settings: dict[str, Any], env: jinja2.Environment
) -> int:
    """Put each product block into its content; warn about unknown refs. Returns how many."""
    where = rf.settings.insert
    calls = TemplateCalls(env)
    done = 0
    for content in contents(context):
        ref = product_ref(content)
        if not ref:
            continue
        source = getattr(content, "relative_source_path", "") or content.source_path
        p = rf.product(ref)
        if p is None or not p.aggregate.count:
            # a typo, or a product before its first review: either way, say so
            log.warning(
                "[review-feed] %s: product_ref %r has no review in the snapshot (%s)",
                source,
                ref,
                "no widget shown" if p is None else "its widget says there is none yet",
            )
        if p is None:
            content._content = MARKER.sub("", content._content or "")  # no stray marker
            continue
        html = content._content or ""
        if BLOCK_ATTR in html:  # already there (an earlier build of the same objects)
            continue
        marked = MARKER.search(html) is not None
        if not marked and (where == "off" or calls(f"{content.template}.html")):
            continue
        block = product_block(rf, content, env=env, link_base=link_base(content, settings))
        if "summary" not in content.metadata:  # an article's summary stays its own text
            content.metadata["summary"] = content.summary
        content._content = place(html, str(block), where)
        # Pelican memoizes get_content per (content, siteurl) in `get_content.cache`:
        # reading the summary stored the HTML without the block, which the writer
        # would print (when its SITEURL is the same); forget it.
        content.get_content.cache.pop((content, content.get_siteurl()), None)
        done += 1
    return done
