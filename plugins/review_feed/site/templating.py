"""Our templates in a Jinja environment: where they are found and how they escape.

Our templates print feed text, so they are autoescaped; the theme's templates
keep the theme's own setting (its FOOTER_TEXT, menus or SITESUBTITLE may carry
HTML meant as HTML). Autoescape is decided per template when it is compiled,
so a theme's `base.html` extended by our page renders exactly as on the
theme's own pages.
"""

from __future__ import annotations

from collections.abc import Callable

import jinja2

PREFIX = "review_feed/"


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
