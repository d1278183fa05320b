"""Embeddable widgets: HTML fragment, iframe page, JSON document, JS loader.

Public API (stable; the site generator and the theme call these):

    write_widgets(output_path, data, settings, *, env=None, lang="en",
                  siteurl="", brand_name="") -> list[Path]
        Writes every widget file under `output_path / settings.widget_dir`:
        `products/<slug>.html|.json|-frame.html`, `brand.html|.json|-frame.html`
        and the loader `review-feed.js`. Call once per build, after the data
        is built (e.g. from the generator's `generate_output`). `siteurl` is
        Pelican's SITEURL: links in files are absolute when it is set, else
        relative to each file (fine for the iframe and the loader; an SSI
        include needs SITEURL set, as in publishconf.py).

    render_fragment(data, settings, *, ref=None, env=None, lang="en",
                    link_base="", brand_name="") -> markupsafe.Markup
        The self-contained fragment (scoped <style>, no script) for product
        `ref`, or the brand when `ref` is None; for a Jinja global such as
        `{{ review_widget(page.product_ref) }}`. `link_base` is prefixed with
        "/" to the site-relative URL of the full reviews page (pass the page's
        SITEURL). Raises KeyError for an unknown ref.

    widget_document(data, settings, *, ref=None, lang="en", url="",
                    brand_name="") -> dict
        The public JSON document (format: the README, "Widgets").

    embed_snippets(settings, siteurl, *, ref=None, name=None, lang="en") -> dict[str, str]
        Copy-paste snippets {"ssi", "iframe", "loader", "json"} for a product
        or the brand, e.g. to show on a product page.

    check_widget_dir(settings) -> None
        Raises ConfigError when REVIEW_FEED_WIDGET_DIR is not a folder inside
        the output folder; write_widgets calls it first (call it early, with
        the other settings checks, to fail before anything is written).

    WIDGET_HEIGHT: the widget's fixed height in CSS pixels (the box the host
        reserves; the review list scrolls inside it, so nothing ever shifts).

`env` may be Pelican's template environment: the widget templates are looked
up in the theme first (`review_feed/widget.html`, `review_feed/widget-frame.html`),
then in this package, and are always rendered with autoescape on. Feed text
is only ever passed as template variables, never compiled as a template.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from ..errors import ConfigError
from ..model import Review
from ..settings import Settings, load_settings
from .data import Aggregate, ReviewData
from .i18n import LANGS, Translator
from .slugs import product_slug

log = logging.getLogger("review_feed.site.widgets")

WIDGET_HEIGHT = 440
# the placeholder's box as the widget will have it (the :host rule): nothing shifts
RESERVE_STYLE = f"min-height:{WIDGET_HEIGHT}px;padding:0;border:0"
NOSCRIPT_CSS = "[data-review-feed-product],[data-review-feed-brand]{min-height:0!important}"
FORMAT_VERSION = 1
LOADER_NAME = "review-feed.js"
STYLESHEET_NAME = "review-feed.css"  # the loader adopts it in each shadow root
FRAGMENT_TEMPLATE = "review_feed/widget.html"
FRAME_TEMPLATE = "review_feed/widget-frame.html"

# Shared words (ratings, counts, star levels, replies, dates) come from the
# site's catalog (i18n.py); these few exist only in the widget.
_WIDGET_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "heading": "Customer reviews",
        "label": "Customer reviews: {name}",
        "latest": "Latest reviews",
        "all_one": "See the review",
        "all": "See all {n} reviews",
        "all_none": "Go to the reviews page",
        "newest_first": "Newest first",
        "fallback": "Read the customer reviews of {name}",
    },
    "fr": {
        "heading": "Avis clients",
        "label": "Avis clients : {name}",
        "latest": "Derniers avis",
        "all_one": "Voir l’avis",
        "all": "Voir les {n} avis",
        "all_none": "Aller à la page des avis",
        "newest_first": "Les plus récents d’abord",
        "fallback": "Lire les avis clients sur {name}",
    },
}


def _lang(lang: str | None) -> str:
    code = (lang or "en").replace("_", "-").split("-")[0].strip().lower()
    return code if code in LANGS else "en"


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
    """Output-relative paths of one widget's files: keys "html", "json", "frame"."""
    d = _rel(settings.widget_dir)
    stem = f"{d}/products/{product_slug(ref)}" if ref is not None else f"{d}/brand"
    return {"html": f"{stem}.html", "json": f"{stem}.json", "frame": f"{stem}-frame.html"}


def loader_file(settings: Settings) -> str:
    return f"{_rel(settings.widget_dir)}/{LOADER_NAME}"


def stylesheet_file(settings: Settings) -> str:
    return f"{_rel(settings.widget_dir)}/{STYLESHEET_NAME}"


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


# --- the view model ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Subject:
    ref: str | None
    name: str
    reviews: list[Review]
    aggregate: Aggregate


def _subject(data: ReviewData, ref: str | None, brand_name: str) -> _Subject:
    if ref is None:
        return _Subject(None, brand_name, data.brand, data.brand_aggregate)
    p = data.products[ref]
    return _Subject(ref, p.name, p.reviews, p.aggregate)


def _reply_label(origin: str, tr: Translator, brand: str) -> str:
    if origin == "merchant":
        return tr.text("reply_merchant", brand=brand or "")
    if origin in ("moderator", "customer"):
        return tr.text(f"reply_{origin}")
    return origin.capitalize()


def widget_view(
    data: ReviewData,
    settings: Settings,
    *,
    ref: str | None = None,
    lang: str = "en",
    url: str = "",
    brand_name: str = "",
) -> dict[str, Any]:
    """Everything the widget templates show, as plain values (feed text unescaped)."""
    lang = _lang(lang)
    tr = Translator(lang)
    words = _WIDGET_WORDS[lang]
    s = _subject(data, ref, brand_name)
    agg = s.aggregate
    n = agg.count
    avg = agg.average or 0.0
    avg_text = tr.decimal(avg)
    rating_text = tr.text("rating_text", average=avg_text)
    dist = [
        {
            "stars": stars,
            "count": count,
            "percent": round(100 * count / n) if n else 0,
            "label": tr.level(stars),
        }
        for stars, count in agg.distribution
    ]
    reviews = [
        {
            "rating": r.rating,
            "rating_label": tr.text("stars_label", rating=tr.rating(r.rating)),
            "author": r.author,
            "date": r.date,
            "date_text": tr.date(r.date),
            "order_text": tr.text("order_of", date=tr.date(r.order_date)) if r.order_date else "",
            "text": r.text,
            "replies": [
                {
                    "label": _reply_label(p.origin, tr, brand_name),
                    "date": p.date or "",
                    "date_text": tr.date(p.date) if p.date else "",
                    "text": p.text,
                }
                for p in r.replies
            ],
        }
        for r in s.reviews[: settings.widget_count]
    ]
    name = s.name or brand_name
    return {
        "lang": lang,
        "title": words["label"].format(name=name) if name else words["heading"],
        "name": name,
        "count": n,
        "average": avg,
        "average_short": avg_text,
        "rating_label": rating_text,
        "summary": f"{rating_text}, {tr.count(n)}",
        "no_reviews": tr.text("no_reviews"),
        "distribution_label": tr.text("distribution"),
        "latest_label": words["latest"],
        "note": words["newest_first"],
        # EU consumer law: say how reviews are collected wherever they are shown
        "about_label": tr.text("about_reviews"),
        "notice": settings.notice or tr.text("notice"),
        "distribution": dist,
        "reviews": reviews,
        "url": url,
        "all_label": words["all_none"]
        if n == 0
        else words["all_one"]
        if n == 1
        else words["all"].format(n=tr.integer(n)),
    }


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


_PACKAGE_LOADER = jinja2.PackageLoader("review_feed.site", "templates")


def widget_env(env: jinja2.Environment | None = None) -> jinja2.Environment:
    """An autoescaping environment finding the widget templates (theme first, then ours)."""
    if env is None:
        return jinja2.Environment(
            loader=_PACKAGE_LOADER,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    loaders = [env.loader] if env.loader is not None else []
    return env.overlay(loader=jinja2.ChoiceLoader([*loaders, _PACKAGE_LOADER]), autoescape=True)


def _render(
    env: jinja2.Environment, template: str | jinja2.Template, view: dict[str, Any], frame: bool
) -> str:
    # In its own page (iframe) the widget is the document: its heading is the h1.
    tpl = env.get_template(template) if isinstance(template, str) else template
    return tpl.render(
        w=view, css=Markup(widget_css()), target="_top" if frame else "", hl=1 if frame else 2
    )


def render_fragment(
    data: ReviewData,
    settings: Settings,
    *,
    ref: str | None = None,
    env: jinja2.Environment | None = None,
    lang: str = "en",
    link_base: str = "",
    brand_name: str = "",
) -> Markup:
    url = _join(link_base, page_url(settings, ref))
    view = widget_view(data, settings, ref=ref, lang=lang, url=url, brand_name=brand_name)
    return Markup(_render(widget_env(env), FRAGMENT_TEMPLATE, view, False))


def widget_document(
    data: ReviewData,
    settings: Settings,
    *,
    ref: str | None = None,
    lang: str = "en",
    url: str = "",
    brand_name: str = "",
) -> dict[str, Any]:
    """The public JSON document (version 1); field by field in the README ("Widgets")."""
    s = _subject(data, ref, brand_name)
    agg = s.aggregate
    return {
        "version": FORMAT_VERSION,
        "kind": "brand" if ref is None else "product",
        "lang": _lang(lang),
        "brand": brand_name or None,
        "product": None if ref is None else {"ref": ref, "name": s.name, "slug": product_slug(ref)},
        "url": url,
        "notice": settings.notice or Translator(_lang(lang)).text("notice"),
        "aggregate": {
            "count": agg.count,
            "average": agg.average,
            "average_text": agg.average_text or None,
            "best": 5,
            "worst": 1,
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
            for r in s.reviews[: settings.widget_count]
        ],
    }


def _dump_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_widgets(
    output_path: Path | str,
    data: ReviewData,
    settings: Settings,
    *,
    env: jinja2.Environment | None = None,
    lang: str = "en",
    siteurl: str = "",
    brand_name: str = "",
) -> list[Path]:
    """Write every widget file and the loader under output_path; return the paths written."""
    check_widget_dir(settings)
    out = Path(output_path)
    wenv = widget_env(env)
    written: list[Path] = []
    made: set[Path] = set()
    # looked up once per build, not once per file (each lookup stats the template)
    templates = {
        "html": wenv.get_template(FRAGMENT_TEMPLATE),
        "frame": wenv.get_template(FRAME_TEMPLATE),
    }

    def put(rel: str, text: str) -> None:
        path = out / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        written.append(path)

    for ref in [None, *data.products]:
        files = widget_files(settings, ref)
        target = page_url(settings, ref)
        views: dict[str, dict[str, Any]] = {}  # by URL: the fragment and frame share one
        for kind, rel in files.items():
            url = _join(siteurl, target) if siteurl else _relative_to(target, rel)
            if kind == "json":
                doc = widget_document(
                    data, settings, ref=ref, lang=lang, url=url, brand_name=brand_name
                )
                put(rel, _dump_json(doc))
                continue
            view = views.get(url)
            if view is None:
                view = views[url] = widget_view(
                    data, settings, ref=ref, lang=lang, url=url, brand_name=brand_name
                )
            put(rel, _render(wenv, templates[kind], view, kind == "frame"))
    put(loader_file(settings), loader_js())
    put(stylesheet_file(settings), widget_css() + "\n")
    log.info("[review-feed] wrote %d widget files under %s", len(written), settings.widget_dir)
    return written


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
    words = _WIDGET_WORDS[_lang(lang)]
    files = widget_files(settings, ref)
    site = siteurl.rstrip("/")
    full = escape(f"{site}/{page_url(settings, ref)}")
    label = escape(words["fallback"].format(name=name or ref or words["heading"]))
    attr = (
        f'data-review-feed-product="{escape(ref)}"' if ref is not None else "data-review-feed-brand"
    )
    title = escape(words["label"].format(name=name) if name else words["heading"])
    h = WIDGET_HEIGHT
    return {
        "ssi": f'<!--#include virtual="/{files["html"]}" -->',
        "iframe": (
            f'<iframe src="{escape(site)}/{files["frame"]}" title="{title}" '
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
