"""Reading a site's Pelican settings file, as the `review-feed` command and the nightly do."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

from .errors import ConfigError


def read_pelicanconf(path: Path) -> dict[str, Any]:
    """The uppercase names a pelicanconf.py defines (it is Python: it is run)."""
    path = path.resolve()
    if not path.is_file():
        raise ConfigError(f"--settings {path}: no such file")
    added = str(path.parent) not in sys.path
    if added:
        sys.path.insert(0, str(path.parent))  # pelicanconf files import their neighbours
    try:
        ns = runpy.run_path(str(path))
    except Exception as exc:  # any error in the user's settings file is a config error
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise ConfigError(
            f"cannot read settings file {path}: {type(exc).__name__}: {first}"
        ) from None
    finally:
        if added:
            sys.path.remove(str(path.parent))
    return {k: v for k, v in ns.items() if k.isupper()}
