"""Product ref -> URL path segment: distinct, stable, URL-safe, reproducible in JavaScript.

Refs are arbitrary strings (`SKU-100` and `sku-100` are two products; spaces,
slashes and non-ASCII happen). The segment is a readable part plus a hash that
keeps case and every other byte distinct:

1. readable: ASCII letters lower-cased, every run of characters outside
   `[a-z0-9]` replaced by one `-`, leading/trailing `-` dropped, cut to 48
   characters (then trailing `-` dropped again);
2. hash: the first 128 bits of the SHA-256 of the ref's UTF-8 bytes, as 32
   lower-case hex digits (no feed can be searched for two refs sharing one);
3. segment: `<readable>-<hash>`, or `p-<hash>` when the readable part is empty.

The JavaScript loader implements the same three steps. Sites published before
the 128-bit hash used a 32-bit FNV-1a hash (8 hex digits): `legacy_slug` still
computes those paths, so that the site can keep them working (see
`review_feed.site.legacy`).
"""

from __future__ import annotations

import hashlib
import re

_RUNS = re.compile(r"[^a-z0-9]+")
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
MAX_READABLE = 48
HASH_HEX = 32  # 128 bits


def readable_part(ref: str) -> str:
    return _RUNS.sub("-", ref.translate(_ASCII_UPPER)).strip("-")[:MAX_READABLE].rstrip("-")


def _segment(ref: str, digest: str) -> str:
    readable = readable_part(ref)
    return f"{readable}-{digest}" if readable else f"p-{digest}"


def product_slug(ref: str) -> str:
    return _segment(ref, hashlib.sha256(ref.encode("utf-8")).hexdigest()[:HASH_HEX])


def fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def legacy_slug(ref: str) -> str:
    """The path segment of earlier releases (32-bit FNV-1a; collides by search)."""
    return _segment(ref, f"{fnv1a32(ref.encode('utf-8')):08x}")
