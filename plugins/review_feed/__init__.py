"""review-feed: a review vendor's nightly feed as static pages and widgets.

The chain reads in one direction: sources -> feed -> store -> site.
Importing the package does not import Pelican; `register()` does.
"""

from .version import __version__

__all__ = ["__version__", "register"]


def register() -> None:
    """Pelican's plugin entry point (PLUGINS = ["review_feed"])."""
    from .site.plugin import register as _register

    _register()
