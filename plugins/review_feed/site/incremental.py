"""The incremental build: render only the units of the output whose inputs changed.

The output is written a unit at a time (the brand, each product, each archive
page, each page of the products index, the shared files). Each unit has a
fingerprint: a hash of the build's key (plugin version, every template the
build can see, the settings, the theme's layout as it draws the rest of the
site) and of the unit's own data as rendered. The manifest
`.review-feed-manifest.json`, at the top of the output folder, records per unit
its fingerprint and the files it wrote (with their sizes). On the next build a
unit whose fingerprint is unchanged and whose files are all there keeps its
files: they are not rendered and not written. Files that no unit wrote any more
(a product whose last review was deleted, a page fewer) are removed.

The manifest arrives with the output folder, maybe from a CI cache: it is
trusted for nothing. A missing, unreadable, malformed or altered one (it
carries its own checksum), or one from another build key, means a full build;
every path it names is checked to stay inside the output folder, and nothing
is removed through a symbolic link.

With DELETE_OUTPUT_DIRECTORY, Pelican keeps the top-level names this plugin
writes (`retained_names`, added to its OUTPUT_RETENTION by `plugin.py`) and
rebuilds everything else; a full build removes them itself first, so it starts
from the same empty folder as Pelican's own files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import stat
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any

from pelican import signals

from ..settings import Settings
from ..version import __version__
from .pages import review_page

log = logging.getLogger("review_feed.site.incremental")

MANIFEST_NAME = ".review-feed-manifest.json"
FORMAT = 1
# Setting names that never reach the output and may hold secrets: left out of the key.
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "PASSPHRASE", "PRIVATE_KEY", "KEY_FILE")
# Where things are on this machine, not what is published: the output folder may be
# restored elsewhere (a CI cache); the templates themselves are hashed, not their folder.
LOCAL_SETTINGS = frozenset({"PATH", "OUTPUT_PATH", "CACHE_PATH", "PLUGIN_PATHS", "THEME"})
LOCAL_FIELDS = frozenset({"snapshot", "cache", "source", "sync"})


def digest(*parts: object) -> str:
    """A hash of the parts' repr (deterministic for str, numbers, tuples, named
    tuples and dataclasses of them: what the view's data is made of)."""
    text = repr(parts).encode("utf-8", "backslashreplace")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def rows(reviews: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Reviews as plain tuples of their fields: the same values, a cheaper repr to hash."""
    return [tuple(r) for r in reviews]


def field_values(obj: Any) -> tuple[Any, ...]:
    """A dataclass's field values as a plain tuple (a dataclass's own repr is slower)."""
    return tuple(getattr(obj, f.name) for f in fields(obj))


def plain(value: Any, depth: int = 0) -> Any:
    """A settings value as something with a stable repr: containers walked, objects
    whose repr may carry a memory address (functions, classes) reduced to their names."""
    if depth > 8:
        return "..."
    if value is None or isinstance(value, (str, int, float, bool, date, datetime, PurePath)):
        return value
    if isinstance(value, Mapping):
        return tuple(sorted((repr(k), plain(v, depth + 1)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(plain(v, depth + 1) for v in value)
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(repr(plain(v, depth + 1)) for v in value))
    name = getattr(value, "__qualname__", None) or type(value).__qualname__
    return f"<{getattr(value, '__module__', '')}.{name}>"


def settings_key(pelican_settings: Mapping[str, Any], rf_settings: Settings) -> str:
    """The settings part of the build key: Pelican's (all upper-case names but
    secrets) and ours as loaded (environment overrides included)."""
    items = sorted(
        (k, plain(v))
        for k, v in pelican_settings.items()
        if k.isupper()
        and k not in LOCAL_SETTINGS
        and not k.startswith("REVIEW_FEED_")  # ours as loaded, below
        and not any(word in k for word in SECRET_WORDS)
    )
    ours = [
        (f.name, plain(getattr(rf_settings, f.name)))
        for f in fields(rf_settings)
        if f.repr and f.name not in LOCAL_FIELDS  # repr=False: the secrets
    ]
    return digest(items, ours)


def code_key() -> str:
    """The plugin itself: its version and every file of the package (code, templates,
    stylesheets, scripts), so an upgrade or a local edit re-renders everything."""
    package = Path(__file__).resolve().parents[1]
    files = sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    h = hashlib.blake2b(digest_size=16)
    h.update(__version__.encode())
    for path in files:
        h.update(path.relative_to(package).as_posix().encode() + b"\x00")
        h.update(path.read_bytes())
    return h.hexdigest()


def templates_key(env: Any) -> str:
    """Every template the build's Jinja environment can find (the theme's, Pelican's
    simple theme, ours), by name and source."""
    loader = env.loader
    sources = [(name, loader.get_source(env, name)[0]) for name in sorted(env.list_templates())]
    return digest(sources)


def retained_names(settings: Settings) -> list[str]:
    """The top-level names of the output this plugin writes under (and its manifest):
    kept by Pelican's DELETE_OUTPUT_DIRECTORY so yesterday's files can be kept.
    A name that varies per product (`{slug}` at the top) is left out: those
    files are rebuilt every time."""
    paths = [
        settings.brand_save_as,
        settings.products_save_as,
        settings.product_save_as,
        settings.widget_dir.strip("/") + "/",
        settings.stylesheet,
    ]
    names = [MANIFEST_NAME]
    for path in paths:
        top = path.split("/", 1)[0] if path else ""
        if top and "{" not in top and top not in names and top not in (".", ".."):
            names.append(top)
    return names


def safe_name(name: Any) -> bool:
    """An output-relative file name from a manifest: relative, no `..`, no empty part."""
    if not isinstance(name, str) or "\\" in name or "\x00" in name or name.startswith("/"):
        return False
    # normpath rewrites any name with an empty, "." or ".." part, but leading ".." parts
    return posixpath.normpath(name) == name and name not in (".", "..") and name[:3] != "../"


def file_stat(path: str) -> os.stat_result | None:
    """The lstat of a regular file (not a symlink), else None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def regular_file(root: Path, name: str) -> os.stat_result | None:
    """The stat of `root/name` when it is a regular file reached through no symlink."""
    path = root
    for part in name.split("/"):
        path = path / part
        try:
            st = path.lstat()
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode):
            return None
    return st if stat.S_ISREG(st.st_mode) else None


def layout_chrome(template: Any, context: dict[str, Any], layout: str, lang: str) -> str:
    """Our page template (`review_feed/page`) around a fixed page: the theme's layout
    with whatever it draws from the rest of the site (menus, page and article lists,
    dates, the brand's rating). When it changes, every page would."""
    url = "reviews-sentinel/"
    page = review_page(
        "<p>review-feed</p>",
        title="review-feed",
        summary="",
        lang=lang,
        url=url,
        save_as=url + "index.html",
        settings=context,
        context=context,
    )
    return template.render(
        {**context, "output_file": page.save_as, "url": url},
        page=page,
        rf_layout=layout,
    )


def announce_kept(
    pages: Iterable[tuple[str, str]], output_path: str, context: dict[str, Any], lang: str
) -> None:
    """Send Pelican's `content_written` for kept pages, as its writer does for written
    ones: plugins such as pelican-sitemap list the site's pages from it."""
    if not signals.content_written.receivers:
        return
    for save_as, url in pages:
        page = review_page(
            "",
            title="",
            summary="",
            lang=lang,
            url=url,
            save_as=save_as,
            settings=context,
            context=context,
        )
        path = os.path.join(output_path, save_as)
        signals.content_written.send(path, context={**context, "page": page})
