"""An existing Pelican site, as a user has one, built with a third-party theme plus review-feed.

Each site has its own `pelicanconf.py` (no template of ours, no edit of the
theme), two product pages declaring `product_ref`, an article, theme variables
that carry HTML, pelican-sitemap, and the bundled sample feed synced into its
snapshot with `review-feed sync`. It is built by `python -m pelican` in a
subprocess, with the Python of the environment the theme lives in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html

REPO = Path(__file__).resolve().parents[2]

SITENAME = "Thés & Co"
SITESUBTITLE = "Small-batch coffee <em>&amp;</em> tea"
# What the theme's own pages print for it: the setting as it is (Pelican does not escape it).
SUBTITLE_HTML = SITESUBTITLE
FOOTER_LINK = '<a href="https://shop.example/about">Thés <b>&amp;</b> Co</a>'
PAGE_SIZE = 3  # small, so some products (and the brand) have several pages and star filters

# Two product pages: a ref with several review pages, and a non-ASCII ref with one page.
PRODUCTS = {
    "SKU-100": ("sencha", "Sencha Kagoshima"),
    "COFFRET NOËL": ("gift-box", "Winter gift box"),
}

# YAML-style front matter: both Pelican's Markdown reader and the MyST reader read it.
PAGE = """---
title: {title}
slug: {slug}
product_ref: {ref}
---

A product page of the shop, written by its owner. *Hand-picked*, packed in small batches.

Second paragraph of the product description.
"""

ARTICLE = """---
title: Our spring harvest
date: 2026-11-02
category: News
tags: harvest
summary: What arrived this spring.
---

The first flush is in: a bright, grassy cup. Read more about our teas.
"""


@dataclass(frozen=True)
class Theme:
    """A theme as a site uses it: its THEME line and the settings it reads."""

    name: str
    theme_line: str  # Python source for THEME
    extra: str = ""  # more pelicanconf lines (the theme's own variables)
    plugins: tuple[str, ...] = ()  # plugins the theme itself needs
    own_venv: bool = False  # the theme changes Pelican: built in an environment of its own
    # The theme's chrome: (regex of the element's opening tag, tag name, which occurrence)
    chrome: tuple[tuple[str, str, str], ...] = ()
    site_name: str = ""  # CSS selector of the site name's link
    header: str = ""  # CSS selector of the theme's header (or sidebar) element
    footer_setting: bool = False  # the footer shows FOOTER_LINK through a setting
    column: str = "main"  # CSS selector of the column the theme's own pages put content in


THEMES: dict[str, Theme] = {
    theme.name: theme
    for theme in (
        Theme(
            name="notmyidea",
            theme_line='"notmyidea"',
            chrome=(
                (r'<header id="banner"', "header", "first"),
                (r'<section id="extras"', "section", "last"),
                (r'<footer id="contentinfo"', "footer", "last"),
            ),
            site_name="#banner h1 a",
            header="#banner",
            column="#content",
        ),
        Theme(
            name="simple",
            theme_line='"simple"',
            chrome=((r"<header>", "header", "first"), (r"<footer>", "footer", "last")),
            site_name="body > header h1 a",
            header="body > header",
        ),
        Theme(
            name="reflex",
            theme_line='"reflex"',  # pelican-theme-reflex installs itself as pelican/themes/reflex
            extra=(
                f"SITETITLE = {SITENAME!r}\n"
                "MAIN_MENU = True\n"
                "COPYRIGHT_YEAR = 2026\n"
                f"COPYRIGHT_NAME = {FOOTER_LINK!r}\n"
                "USE_GOOGLE_FONTS = False\n"
                # as in the theme's example site (its footer reads CC_LICENSE unguarded)
                'CC_LICENSE = {"name": "Creative Commons Attribution-ShareAlike",'
                ' "version": "4.0", "slug": "by-sa", "icon": False, "local_icons": True}\n'
            ),
            chrome=(
                (r"<aside>", "aside", "first"),
                (r"<main>\s*<nav>", "nav", "first"),  # MAIN_MENU
                (r"<footer>", "footer", "last"),
            ),
            site_name="body > aside h1 a",
            header="body > aside",
            footer_setting=True,
        ),
        Theme(
            name="plumage",
            theme_line="__import__('plumage').get_path()",
            extra=(
                f"COPYRIGHT = {('Photos: ' + FOOTER_LINK)!r}\n"
                f"DISCLAIMER = {('Prices include VAT. ' + FOOTER_LINK)!r}\n"
            ),
            # With PLUGINS set, the theme's own namespace plugins no longer load by
            # themselves: a plumage site that sets PLUGINS lists them, as its README says.
            plugins=("webassets", "myst_reader"),
            own_venv=True,
            chrome=(
                (r'<div class="container">', "div", "first"),
                (r'<footer class="container-fluid', "footer", "last"),
            ),
            site_name="body > div.container h1 > a",
            header="body > div.container",
            column="main#content",
            footer_setting=True,
        ),
    )
}


def pelicanconf(theme: Theme) -> str:
    plugins = ["sitemap", "review_feed", *theme.plugins]
    return f"""# An existing site's own settings: the theme, its variables, and review-feed.
AUTHOR = "Thés & Co"
SITENAME = {SITENAME!r}
SITESUBTITLE = {SITESUBTITLE!r}
SITEURL = ""
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
PATH = "content"
PAGE_PATHS = ["pages"]
ARTICLE_PATHS = ["articles"]
MENUITEMS = (("Coffee & tea", "/category/news.html"), ("Contact", "/pages/contact.html"))
LINKS = (("Our roastery", "https://roastery.example/"),)
DEFAULT_PAGINATION = 10
THEME = {theme.theme_line}
{theme.extra}
PLUGINS = {plugins!r}
SITEMAP = {{"format": "xml"}}

REVIEW_FEED_SNAPSHOT = "data/reviews"
REVIEW_FEED_PAGE_SIZE = {PAGE_SIZE}
# a product a page of the products index: its way through its pages, in the theme
REVIEW_FEED_PRODUCTS_PAGE_SIZE = 1
"""


def write_site(root: Path, theme: Theme, snapshot: Path) -> Path:
    """The site's files: settings, content, and a copy of the synced snapshot."""
    (root / "content" / "pages").mkdir(parents=True)
    (root / "content" / "articles").mkdir(parents=True)
    (root / "pelicanconf.py").write_text(pelicanconf(theme), "utf-8")
    for ref, (slug, title) in PRODUCTS.items():
        text = PAGE.format(title=title, slug=slug, ref=ref)
        (root / "content" / "pages" / f"{slug}.md").write_text(text, "utf-8")
    (root / "content" / "pages" / "contact.md").write_text(
        "---\ntitle: Contact\nslug: contact\n---\n\nWrite to us.\n", "utf-8"
    )
    (root / "content" / "articles" / "spring.md").write_text(ARTICLE, "utf-8")
    shutil.copytree(snapshot, root / "data" / "reviews")
    return root


def sync_sample(dest: Path) -> Path:
    """The bundled sample feed applied to a fresh snapshot, with the `review-feed` command."""
    cmd = [sys.executable, "-m", "review_feed.cli", "sync", "-q"]
    cmd += ["--source", str(REPO / "sample-feed"), "--snapshot", str(dest)]
    # run beside the snapshot: its download cache there, not in the repository
    done = subprocess.run(
        cmd, cwd=dest.parent, env=clean_env(), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return dest


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    env.update(extra)
    return env


@dataclass
class ThemeSite:
    theme: Theme
    root: Path
    log: str  # the build's output (warnings included)
    _trees: dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def output(self) -> Path:
        return self.root / "output"

    def path(self, url: str) -> Path:
        url = url.lstrip("/")
        p = self.output / url
        return p / "index.html" if url.endswith("/") or url == "" else p

    def html(self, url: str) -> str:
        return self.path(url).read_text("utf-8")

    def tree(self, url: str):
        return lxml.html.fromstring(self.html(url))

    def html_files(self) -> list[str]:
        return sorted(p.relative_to(self.output).as_posix() for p in self.output.rglob("*.html"))


def build(root: Path, python: str, timeout: float = 600) -> str:
    """`pelican content -s pelicanconf.py -o output` in the site's folder; its output."""
    cmd = [python, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", "output"]
    env = clean_env(REVIEW_FEED_SYNC="false", PYTHONUNBUFFERED="1")
    done = subprocess.run(
        cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"pelican build failed in {root}:\n{log}"
    return log


# --- reading the written files ---------------------------------------------------------


def element_source(html: str, opening: str, tag: str, which: str) -> str:
    """The element's markup exactly as written (bytes, not a re-serialisation).

    `opening` is a regex of its opening tag; `which` picks the first or the last
    one in the page. Nested elements of the same tag are balanced.
    """
    starts = [m.start() for m in re.finditer(opening, html)]
    assert starts, f"no {opening!r} in the page"
    start = starts[0] if which == "first" else starts[-1]
    tags = re.compile(rf"<{tag}\b|</{tag}\s*>", re.I)
    depth = 0
    for m in tags.finditer(html, start):
        depth += -1 if m.group().startswith("</") else 1
        if depth == 0:
            return html[start : m.end()]
    raise AssertionError(f"{opening!r} is not closed")


def has_class(name: str) -> str:
    """XPath predicate: the element's class list holds `name`."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"
