"""Product ref -> URL path segment: distinct, stable, URL-safe, reproducible in JavaScript.

Refs are arbitrary strings (`SKU-100` and `sku-100` are two products; spaces,
slashes and non-ASCII happen). The segment is a readable part plus a hash that
keeps case and every other byte distinct:

1. readable: ASCII letters lower-cased, every run of characters outside
   `[a-z0-9]` replaced by one `-`, leading/trailing `-` dropped, cut to 48
   characters (then trailing `-` dropped again);
2. hash: 32-bit FNV-1a of the ref's UTF-8 bytes, as 8 lower-case hex digits;
3. segment: `<readable>-<hash>`, or `p-<hash>` when the readable part is empty.

`SKU-100` -> `sku-100-<hash>`. The JavaScript loader implements the same three
steps; the build fails if two refs ever map to the same segment.
"""

from __future__ import annotations

import re

_RUNS = re.compile(r"[^a-z0-9]+")
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
MAX_READABLE = 48


def fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def product_slug(ref: str) -> str:
    readable = _RUNS.sub("-", ref.translate(_ASCII_UPPER)).strip("-")[:MAX_READABLE].rstrip("-")
    digest = f"{fnv1a32(ref.encode('utf-8')):08x}"
    return f"{readable}-{digest}" if readable else f"p-{digest}"
