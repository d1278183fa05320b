"""Our templates in a Jinja environment: where they are found and how they escape.

Our templates print feed text, so they are autoescaped; the theme's templates
keep the theme's own setting (its FOOTER_TEXT, menus or SITESUBTITLE may carry
HTML meant as HTML). Autoescape is decided per template when it is compiled,
so a theme's `base.html` extended by our page renders exactly as on the
theme's own pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from jinja2 import meta, nodes

PREFIX = "review_feed/"


@dataclass(frozen=True, slots=True)
class Verbatim:
    """Ready text for Pelican's `Writer.write_file`, which renders what it is given
    with `.render(context)`: a stylesheet, a JSON document or a script is no template."""

    text: str

    def render(self, _context: Any) -> str:
        return self.text


def package_loader() -> jinja2.BaseLoader:
    return jinja2.PackageLoader("review_feed.site", "templates")


def escape_ours(previous: bool | Callable[[str | None], bool]) -> Callable[[str | None], bool]:
    """An `autoescape` selector: on for review_feed/ templates, `previous` for the others."""

    def select(name: str | None) -> bool:
        if name and name.startswith(PREFIX):
            return True
        return bool(previous(name)) if callable(previous) else bool(previous)

    select.review_feed = True  # type: ignore[attr-defined]
    return select


def extend(env: jinja2.Environment) -> None:
    """Add our templates after the theme's, escaped; once per environment."""
    if getattr(env.autoescape, "review_feed", False):
        return
    loaders = [env.loader] if env.loader is not None else []
    env.loader = jinja2.ChoiceLoader([*loaders, package_loader()])
    env.autoescape = escape_ours(env.autoescape)


def package_env() -> jinja2.Environment:
    """Our templates alone, outside a Pelican build (Pelican's whitespace settings)."""
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    extend(env)
    return env


@cache
def stylesheet() -> str:
    """The review pages' stylesheet (`page_assets/review-feed.css`), as published."""
    return (resources.files("review_feed.site") / "page_assets" / "review-feed.css").read_text(
        "utf-8"
    )


def stylesheet_url(save_as: str) -> str:
    """Its URL with a version, so a browser never keeps an old one after an update."""
    if not save_as:
        return ""
    version = hashlib.sha256(stylesheet().encode("utf-8")).hexdigest()[:10]
    return f"{save_as}?v={version}"


def page_layout(env: jinja2.Environment) -> str:
    """The theme template our review pages extend: `page.html`, as the theme's own
    pages (Pelican finds the simple theme's when the theme has none), else `base.html`."""
    try:
        if env.loader is not None:
            env.loader.get_source(env, "page.html")
            return "page.html"
    except jinja2.TemplateNotFound:
        pass
    return "base.html"


def theme_blocks(env: jinja2.Environment, name: str = "base.html") -> set[str] | None:
    """The block names `name` and the templates it extends define; None when it
    cannot be read (a missing or broken template fails the build on its own)."""
    found: set[str] = set()
    seen: set[str] = set()
    while name and name not in seen:
        seen.add(name)
        try:
            source = env.loader.get_source(env, name)[0] if env.loader else ""
            tree = env.parse(source, name)
        except jinja2.TemplateError:
            return None
        found.update(b.name for b in tree.find_all(nodes.Block))
        parent = next(iter(tree.find_all(nodes.Extends)), None)
        template = parent.template if parent is not None else None
        name = template.value if isinstance(template, nodes.Const) else ""
    return found


# The theme blocks our pages fill, and what is lost without one. Through the
# theme's page.html none is ours to fill: content and title are the theme's
# (page.content, page.title), unless it has no page.html.
THEME_BLOCKS = {
    "page.html": (),
    "base.html": (
        ("content", "the review pages are empty"),
        ("title", "the review pages get the theme's default title"),
    ),
}


def missing_blocks(env: jinja2.Environment, layout: str) -> list[tuple[str, str]]:
    """The blocks our pages fill that the theme's `layout` lacks, with what is lost."""
    blocks = theme_blocks(env, layout)
    if blocks is None:
        return []
    return [(block, what) for block, what in THEME_BLOCKS[layout] if block not in blocks]


def template_reads(env: jinja2.Environment, name: str, variable: str) -> bool:
    """Whether template `name` (a theme's, when it overrides ours) reads `variable`
    from its context; True when it cannot be read (it then fails the build itself)."""
    try:
        source = env.loader.get_source(env, name)[0] if env.loader else ""
        return variable in meta.find_undeclared_variables(env.parse(source, name))
    except jinja2.TemplateError:
        return True
