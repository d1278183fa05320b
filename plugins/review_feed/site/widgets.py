"""Embeddable widgets: HTML fragment, JSON document, JS loader, one iframe page.

The widgets show what the review pages show, from the same view
(`view.ReviewFeed`), words (`i18n.py`) and macros (`_macros.html`); the one
page (the iframe's) goes through Pelican's writer, the other files through
`assets.write_asset` (they are not pages: see there). A widget's own files are
its data and markup; the stylesheet, the loader and the iframe page
(`frame.html?product=<ref>`, the brand's without) are one file each for all.
Public API (the generator and the theme use it):

    write_widget(writer, rf, templates, context, listing) -> list[str]
        One widget's files, `products/<slug>.html|.json` (`brand.html|.json`
        for the brand's listing) under `settings.widget_dir`, with `templates =
        widget_templates(env)`; `write_widget_assets(writer, rf, templates,
        context)` the shared ones (`review-feed.js|.css`, `frame.html`);
        `write_widget_files(writer, rf, env, context)` all of them. They return
        output-relative names. Links are absolute when SITEURL (`rf.site_url`)
        is set, else relative to each file (an SSI include needs SITEURL set).

    write_widgets(output_path, data, settings, *, lang="en", siteurl="",
                  brand_name="") -> list[Path]
        The same outside a Pelican build (scripts, tests): makes the view, our
        template environment and a Pelican Writer.

    render_fragment(rf, ref=None, *, env=None, link_base="") -> markupsafe.Markup
        The fragment (a declarative shadow root linking the shared stylesheet,
        then a plain fallback; no script) for product
        `ref`, or the brand when `ref` is None; for a Jinja global such as
        `{{ review_widget(page.product_ref) }}`. `link_base` is prefixed with
        "/" to the site-relative URLs of the full reviews page and of the
        stylesheet (pass the page's SITEURL). Raises KeyError for an unknown ref.

    widget_document(rf, ref=None, *, url="") -> dict
        The public JSON document (format: docs/widgets.md).

    embed_snippets(settings, siteurl, *, ref=None, name=None, lang="en") -> dict[str, str]
        Copy-paste snippets {"ssi", "iframe", "loader", "json"} for a product
        or the brand, e.g. to show on a product page.

    check_widget_dir(settings) -> None
        Raises ConfigError when REVIEW_FEED_WIDGET_DIR is not a folder inside
        the output folder (call it early, with the other settings checks, to
        fail before anything is written).

    WIDGET_HEIGHT: the widget's fixed height in CSS pixels (the box the host
        reserves; the review list scrolls inside it, so nothing ever shifts).

The widget templates are looked up in the theme first (`review_feed/widget.html`,
`review_feed/widget-frame.html`, the iframe page), then in this package, and are
rendered with autoescape on (see `plugin.py`). Feed text is only ever passed as
template variables, never compiled as a template.
"""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from ..errors import ConfigError
from ..settings import Settings, load_settings
from .assets import write_asset
from .data import ReviewData
from .i18n import Translator, resolve_lang
from .slugs import product_slug
from .templating import package_env
from .view import Listing, ReviewFeed, review_feed

log = logging.getLogger("review_feed.site.widgets")

WIDGET_HEIGHT = 440
# the placeholder's box as the widget will have it (the :host rule): nothing shifts
RESERVE_STYLE = f"min-height:{WIDGET_HEIGHT}px;padding:0;border:0"
# the fragment's host box, inline (its stylesheet is a file: the box is fixed before
# it arrives, and the widget scrolls inside it, so nothing shifts either way)
HOST_STYLE = f"display:block;height:var(--rf-height,{WIDGET_HEIGHT}px);padding:0;border:0"
NOSCRIPT_CSS = "[data-review-feed-product],[data-review-feed-brand]{min-height:0!important}"
FORMAT_VERSION = 2
LOADER_NAME = "review-feed.js"
STYLESHEET_NAME = "review-feed.css"  # the loader adopts it, fragments link it
FRAME_NAME = "frame.html"  # the iframe page of every widget
NOTICE_ID = "rfp-notice"  # the brand page's notice on how reviews are collected
FRAGMENT_TEMPLATE = "review_feed/widget.html"
FRAME_TEMPLATE = "review_feed/widget-frame.html"

# --- paths -------------------------------------------------------------------


def _rel(path: str) -> str:
    return path.strip("/")


def check_widget_dir(settings: Settings) -> None:
    """REVIEW_FEED_WIDGET_DIR must name a folder inside the output folder."""
    value = settings.widget_dir
    parts = value.strip("/").split("/")
    if not value.strip("/") or value.startswith("/") or ".." in parts or "" in parts:
        raise ConfigError(
            f"REVIEW_FEED_WIDGET_DIR ({value!r}) is invalid: expected a folder inside the "
            "output folder, e.g. widgets"
        )


def widget_files(settings: Settings, ref: str | None = None) -> dict[str, str]:
    """Output-relative paths of one widget's own files: keys "html", "json"."""
    d = _rel(settings.widget_dir)
    stem = f"{d}/products/{product_slug(ref)}" if ref is not None else f"{d}/brand"
    return {"html": f"{stem}.html", "json": f"{stem}.json"}


def frame_file(settings: Settings) -> str:
    return f"{_rel(settings.widget_dir)}/{FRAME_NAME}"


def frame_src(settings: Settings, ref: str | None = None) -> str:
    """The iframe page's output-relative URL for a product (or the brand)."""
    query = "" if ref is None else "?product=" + quote(ref, safe="")
    return frame_file(settings) + query


def loader_file(settings: Settings) -> str:
    return f"{_rel(settings.widget_dir)}/{LOADER_NAME}"


def stylesheet_file(settings: Settings) -> str:
    return f"{_rel(settings.widget_dir)}/{STYLESHEET_NAME}"


def stylesheet_href(settings: Settings) -> str:
    """The stylesheet's site-relative URL with a version: a fragment cached by a shop
    never meets an older or newer stylesheet than its own."""
    return f"{stylesheet_file(settings)}?v={_css_version()}"


@cache
def _css_version() -> str:
    return hashlib.sha256(widget_css().encode("utf-8")).hexdigest()[:10]


def page_url(settings: Settings, ref: str | None) -> str:
    """Site-relative URL of the full reviews page (brand or product)."""
    if ref is None:
        return settings.brand_url
    return settings.product_url.format(slug=product_slug(ref))


def _join(base: str, url: str) -> str:
    return f"{base.rstrip('/')}/{url}" if base else url


def _relative_to(target: str, from_file: str) -> str:
    """`target` (site-relative URL) as seen from the output file `from_file`."""
    rel = posixpath.relpath(target or ".", posixpath.dirname(from_file) or ".")
    if target.endswith("/") and not rel.endswith("/"):
        rel += "/"
    return "./" if rel in (".", "./") else rel


# --- rendering ---------------------------------------------------------------


@cache
def _asset(name: str) -> str:
    return (resources.files("review_feed.site") / "widget_assets" / name).read_text("utf-8")


@cache
def widget_css() -> str:
    """The widget's stylesheet, comments and line breaks removed."""
    css = re.sub(r"/\*.*?\*/", "", _asset("widget.css"), flags=re.S)
    return re.sub(r"\s*\n\s*", "", css).strip()


@cache
def loader_js() -> str:
    """The loader as published: full-line // comments and indentation removed."""
    lines = (line.strip() for line in _asset(LOADER_NAME).splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


def _subject(rf: ReviewFeed, ref: str | None) -> Listing:
    return rf.brand if ref is None else rf.listing(rf.products[ref])


def _ref(listing: Listing) -> str | None:
    """The product a listing is of; None for the brand's."""
    return None if listing.product is None else listing.product.ref


def _variables(rf: ReviewFeed, listing: Listing, link: Any) -> dict[str, Any]:
    """The fragment's variables; `link` turns a site-relative URL into one for it."""
    return {
        "rf": rf,
        "rf_listing": listing,
        "rf_url": link(page_url(rf.settings, _ref(listing))),
        "rf_css_url": link(stylesheet_href(rf.settings)),
        "rf_notice_url": link(rf.settings.brand_url) + "#" + NOTICE_ID,
        "rf_host_style": HOST_STYLE,
    }


def render_fragment(
    rf: ReviewFeed,
    ref: str | None = None,
    *,
    env: jinja2.Environment | None = None,
    link_base: str = "",
) -> Markup:
    template = (env or rf.env).get_template(FRAGMENT_TEMPLATE)
    variables = _variables(rf, _subject(rf, ref), lambda url: _join(link_base, url))
    return Markup(template.render(variables))


def widget_document(rf: ReviewFeed, ref: str | None = None, *, url: str = "") -> dict[str, Any]:
    """The public JSON document (version 2); field by field in docs/widgets.md."""
    return _document(rf, _subject(rf, ref), url)


def _document(rf: ReviewFeed, listing: Listing, url: str) -> dict[str, Any]:
    """`widget_document` of a listing already made. What is the same for every
    product (language, brand, notice) is in the brand's only."""
    p = listing.product
    agg = listing.aggregate
    site = {"lang": rf.lang, "brand": rf.brand_name or None, "notice": rf.notice}
    return {
        "version": FORMAT_VERSION,
        "kind": listing.kind,
        **(site if p is None else {}),
        "product": None if p is None else {"ref": p.ref, "name": p.name, "slug": p.slug},
        "url": url,
        "aggregate": {
            "count": agg.count,
            "average": agg.average,
            "average_text": agg.average_text or None,
        },
        "distribution": [{"stars": st, "count": c} for st, c in agg.distribution],
        "reviews": [
            {
                "id": r.id,
                "rating": r.rating,
                "author": r.author,
                "date": r.date,
                "order_date": r.order_date,
                "text": r.text,
                "replies": [p.to_record() for p in r.replies],
            }
            for r in listing.reviews[: rf.settings.widget_count]
        ],
    }


def _dump_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def widget_templates(env: jinja2.Environment) -> dict[str, jinja2.Template]:
    """The widget templates, looked up once per build (each lookup stats the template)."""
    return {"html": env.get_template(FRAGMENT_TEMPLATE), "frame": env.get_template(FRAME_TEMPLATE)}


def write_widget(
    writer: Any,
    rf: ReviewFeed,
    templates: dict[str, jinja2.Template],
    context: dict[str, Any],
    listing: Listing,
) -> list[str]:
    """Write the widget files of a product's listing (or the brand's, `rf.brand`), the
    listing its pages are written from; return their names."""
    files = widget_files(rf.settings, _ref(listing))
    link = _linker(rf, files["html"])
    variables = _variables(rf, listing, link)
    html = templates["html"].render({**context, "output_file": files["html"], **variables})
    doc = _document(rf, listing, variables["rf_url"])
    write_asset(writer.output_path, files["html"], html)
    write_asset(writer.output_path, files["json"], _dump_json(doc))
    return [files["html"], files["json"]]


def _linker(rf: ReviewFeed, from_file: str) -> Any:
    """Site-relative URL -> link in `from_file`: absolute under SITEURL, else relative."""
    if rf.site_url:
        return lambda target: _join(rf.site_url, target)
    return lambda target: _relative_to(target, from_file)


def write_widget_assets(
    writer: Any, rf: ReviewFeed, templates: dict[str, jinja2.Template], context: dict[str, Any]
) -> list[str]:
    """Write the files all widgets share (the loader, its stylesheet, the iframe page);
    return their names."""
    s = rf.settings
    files = {loader_file(s): loader_js(), stylesheet_file(s): widget_css() + "\n"}
    for name, text in files.items():
        write_asset(writer.output_path, name, text)
    frame = frame_file(s)
    link = _linker(rf, frame)
    writer.write_file(  # a page: through the writer, as the review pages
        frame,
        templates["frame"],
        context,
        rf=rf,
        rf_loader=posixpath.basename(loader_file(s)),
        rf_brand_url=link(s.brand_url),
        rf_products_url=link(s.products_url),
    )
    return [*files, frame]


def write_widget_files(
    writer: Any, rf: ReviewFeed, env: jinja2.Environment, context: dict[str, Any]
) -> list[str]:
    """Write every widget file and the loader; return their output-relative names."""
    check_widget_dir(rf.settings)
    templates = widget_templates(env)
    written: list[str] = []
    for ref in [None, *rf.products]:
        written += write_widget(writer, rf, templates, context, _subject(rf, ref))
    written += write_widget_assets(writer, rf, templates, context)
    log.info("[review-feed] wrote %d widget files under %s", len(written), rf.settings.widget_dir)
    return written


def write_widgets(
    output_path: Path | str,
    data: ReviewData,
    settings: Settings,
    *,
    lang: str = "en",
    siteurl: str = "",
    brand_name: str = "",
) -> list[Path]:
    """`write_widget_files` outside a Pelican build; returns the paths written."""
    from pelican.writers import Writer

    check_widget_dir(settings)
    env = package_env()
    rf = review_feed(
        data,
        settings,
        Translator(resolve_lang(None, lang)),
        brand_name=brand_name,
        env=env,
        site_url=siteurl,
    )
    out = Path(output_path)
    names = write_widget_files(Writer(str(out), {}), rf, env, {})
    return [out / name for name in names]


# --- snippets ----------------------------------------------------------------


def embed_snippets(
    settings: Settings,
    siteurl: str,
    *,
    ref: str | None = None,
    name: str | None = None,
    lang: str = "en",
) -> dict[str, str]:
    """Copy-paste snippets for the four embed forms, with absolute URLs under siteurl."""
    t = Translator(resolve_lang(None, lang))
    files = widget_files(settings, ref)
    site = siteurl.rstrip("/")
    full = escape(f"{site}/{page_url(settings, ref)}")
    label = escape(t.text("widget_fallback", name=name or ref or t.text("widget_heading")))
    attr = (
        f'data-review-feed-product="{escape(ref)}"' if ref is not None else "data-review-feed-brand"
    )
    title = escape(t.text("widget_label", name=name) if name else t.text("widget_heading"))
    h = WIDGET_HEIGHT
    return {
        "ssi": f'<!--#include virtual="/{files["html"]}" -->',
        "iframe": (
            f'<iframe src="{escape(site)}/{escape(frame_src(settings, ref))}" title="{title}" '
            f'width="100%" height="{h}" style="border:0;display:block" loading="lazy"></iframe>'
        ),
        "loader": (
            f'<div {attr} style="{RESERVE_STYLE}"><a href="{full}">{label}</a></div>\n'
            f'<script src="{escape(site)}/{loader_file(settings)}" async></script>\n'
            # without script nothing will arrive: give the reserved space back
            f"<noscript><style>{NOSCRIPT_CSS}</style></noscript>"
        ),
        "json": f'fetch("{site}/{files["json"]}").then((r) => r.json())',
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m review_feed.site.widgets --siteurl URL [REF ...]`: print the snippets."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m review_feed.site.widgets",
        description="Print the copy-paste embed snippets of the brand widget or of products.",
    )
    parser.add_argument("--siteurl", required=True, help="where the site is published")
    parser.add_argument("--lang", default="en")
    parser.add_argument("-s", "--settings", default="pelicanconf.py", help="Pelican settings")
    parser.add_argument("refs", nargs="*", help="product refs (none: the brand widget)")
    args = parser.parse_args(argv)
    config: dict[str, Any] = {}
    if Path(args.settings).exists():
        from pelican.settings import get_settings_from_file

        config = get_settings_from_file(args.settings)
    settings = load_settings(config)  # + REVIEW_FEED_* from the environment
    for ref in args.refs or [None]:
        print(f"# {'brand' if ref is None else ref}")
        for form, text in embed_snippets(settings, args.siteurl, ref=ref, lang=args.lang).items():
            print(f"## {form}\n{text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
