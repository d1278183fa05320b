"""One settings object, validated up front.

Precedence: command-line flags > environment variables > `pelicanconf.py` >
defaults. Every setting is an uppercase `REVIEW_FEED_*` name; the environment
variable has the same name (lists as comma-separated values, mappings as JSON).
Secrets are read from the environment only and never appear in `repr`, logs or
error messages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .publish import HOSTS

PREFIX = "REVIEW_FEED_"


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false")


def _int(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError("expected a whole number")
    return int(v)


def _list(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        return tuple(p.strip() for p in v.split(",") if p.strip())
    if isinstance(v, (list, tuple)):
        return tuple(str(p) for p in v)
    raise ValueError("expected a list or comma-separated values")


def _map(v: Any) -> dict[str, str]:
    if isinstance(v, str):
        v = json.loads(v) if v.strip() else {}
    if not isinstance(v, Mapping):
        raise ValueError('expected a mapping, e.g. {"my_column": "review_id"}')
    return {str(k): str(x) for k, x in v.items()}


def _opt_str(v: Any) -> str | None:
    if v is None:
        return None
    s = str(v)
    return s or None


def _choice(*allowed: str) -> Callable[[Any], str]:
    def conv(v: Any) -> str:
        s = str(v).strip().lower()
        if s not in allowed:
            raise ValueError("expected one of " + ", ".join(allowed))
        return s

    return conv


def _positive(conv: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        x = conv(v)
        if x <= 0:
            raise ValueError("expected a number above 0")
        return x

    return check


def _non_negative(conv: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        x = conv(v)
        if x < 0:
            raise ValueError("expected 0 or more")
        return x

    return check


def _output_file(suffix: str) -> Callable[[Any], str]:
    """A file path inside the output folder ending with `suffix`, or "" for none."""

    def conv(v: Any) -> str:
        s = str(v).strip()
        parts = s.split("/")
        if s and (s.startswith("/") or ".." in parts or "" in parts or not s.endswith(suffix)):
            raise ValueError(f"expected a file inside the output folder, e.g. reviews/x{suffix}")
        return s

    return conv


def _setting(default: Any, conv: Callable[[Any], Any], *, secret: bool = False, doc: str = ""):
    meta = {"conv": conv, "secret": secret, "doc": doc}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta, repr=not secret)
    return field(default=default, metadata=meta, repr=not secret)


@dataclass(frozen=True)
class Settings:
    """Every `REVIEW_FEED_*` setting; attribute `x` is setting `REVIEW_FEED_X`."""

    # --- where the feed comes from and where the snapshot lives
    source: str | None = _setting(None, _opt_str, doc="folder or sftp/ftp/ftps URL")
    snapshot: str = _setting("data/reviews", str, doc="snapshot folder, committed with the site")
    cache: str = _setting(
        ".cache/review-feed", str, doc="downloads and the build's read cache (not committed)"
    )
    website_ids: tuple[str, ...] = _setting((), _list, doc="only these website ids (all if empty)")
    # --- reading
    strict: bool = _setting(False, _bool, doc="any rejected row fails the run")
    field_map: dict = _setting({}, _map, doc="your column/element name -> canonical name")
    max_field_size: int = _setting(1 << 20, _positive(_int), doc="largest CSV cell, bytes")
    store_order_ref: bool = _setting(False, _bool, doc="keep the order reference in the snapshot")
    # --- remote sources
    min_age: int = _setting(600, _non_negative(_int), doc="seconds a remote file must be untouched")
    timeout: float = _setting(30.0, _positive(float), doc="connect/read timeout, seconds")
    retries: int = _setting(3, _non_negative(_int), doc="retries on transient network errors")
    remote_after_apply: str = _setting("keep", _choice("keep", "move", "delete"))
    remote_archive_dir: str | None = _setting(None, _opt_str, doc="where 'move' puts applied files")
    known_hosts: str | None = _setting(None, _opt_str, doc="known_hosts file, or its text (SFTP)")
    host_key_sha256: str | None = _setting(None, _opt_str, doc="pinned SHA256:... host key")
    ca_bundle: str | None = _setting(None, _opt_str, doc="CA bundle to verify FTPS certificates")
    # --- secrets: environment only
    password: str | None = _setting(None, _opt_str, secret=True)
    key_file: str | None = _setting(None, _opt_str, secret=True)
    private_key: str | None = _setting(None, _opt_str, secret=True)
    key_passphrase: str | None = _setting(None, _opt_str, secret=True)
    # --- the site
    sync: bool = _setting(False, _bool, doc="sync before each Pelican build (nightly CI)")
    lang: str | None = _setting(None, _opt_str, doc="en or fr; default: Pelican's DEFAULT_LANG")
    page_size: int = _setting(20, _positive(_int), doc="reviews per archive page")
    products_page_size: int = _setting(
        200, _positive(_int), doc="products per page of the products index"
    )
    widget_count: int = _setting(5, _non_negative(_int), doc="reviews a widget shows")
    brand_name: str | None = _setting(None, _opt_str, doc="default: Pelican's SITENAME")
    brand_aggregate_markup: bool = _setting(False, _bool, doc="emit brand aggregateRating JSON-LD")
    notice: str | None = _setting(None, _opt_str, doc="how reviews are collected and verified")
    brand_url: str = _setting("reviews/", str)
    brand_save_as: str = _setting("reviews/index.html", str)
    products_url: str = _setting("reviews/products/", str)
    products_save_as: str = _setting("reviews/products/index.html", str)
    product_url: str = _setting("reviews/products/{slug}/", str)
    product_save_as: str = _setting("reviews/products/{slug}/index.html", str)
    widget_dir: str = _setting("widgets", str, doc="folder of fragments, frames, JSON and loader")
    old_paths: bool = _setting(
        False,
        _bool,
        doc="keep the product paths of releases before the 128-bit slug working (4 files each)",
    )
    insert: str = _setting(
        "after",
        _choice("after", "before", "off"),
        doc="where a content page's product widget goes without a marker: after/before/off",
    )
    stylesheet: str = _setting(
        "reviews/review-feed.css",
        _output_file(".css"),
        doc="the review pages' stylesheet, written and linked by the plugin ('' for none)",
    )
    # --- publishing
    host: str = _setting(
        "none",
        _choice(*HOSTS),
        doc="where the output is published; a build over its limits fails (docs/publishing.md)",
    )

    def path(self, value: str, base: Path | None = None) -> Path:
        """A path setting resolved against `base` (default: the current folder)."""
        p = Path(value).expanduser()
        return p if p.is_absolute() or base is None else base / p


SECRETS = frozenset(f.name for f in fields(Settings) if f.metadata.get("secret"))


def setting_name(attr: str) -> str:
    return PREFIX + attr.upper()


def load_settings(
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings from `config` (pelicanconf), then `environ`, then `overrides` (flags).

    `overrides` uses attribute names (`website_ids`); None values are ignored.
    An invalid value raises ConfigError naming the setting (never the value of a secret).
    """
    config = config or {}
    environ = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    values: dict[str, Any] = {}
    for f in fields(Settings):
        name = setting_name(f.name)
        conv = f.metadata["conv"]
        secret = f.metadata["secret"]
        raw: Any = None
        origin = None
        if not secret and name in config:
            raw, origin = config[name], "pelicanconf.py"
        if environ.get(name) not in (None, ""):
            raw, origin = environ[name], "the environment"
        if f.name in overrides:
            raw, origin = overrides[f.name], "the command line"
        if origin is None:
            continue
        if raw is None:
            values[f.name] = None
            continue
        try:
            values[f.name] = conv(raw)
        except (ValueError, TypeError) as exc:
            shown = "" if secret else f" ({raw!r})"
            raise ConfigError(f"{name} from {origin}{shown} is invalid: {exc}") from None
    if secret_in_config := sorted(SECRETS & {k[len(PREFIX) :].lower() for k in config}):
        names = ", ".join(setting_name(s) for s in secret_in_config)
        raise ConfigError(
            f"{names} must come from the environment, never from a committed settings file"
        )
    unknown = sorted(
        k
        for k in config
        if k.startswith(PREFIX)
        and k[len(PREFIX) :].lower() not in {f.name for f in fields(Settings)}
    )
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]} (see docs/configuration.md)")
    return Settings(**values)
