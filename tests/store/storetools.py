"""Small builders for store tests: reviews and rows without a feed file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from review_feed.model import Action, Reply, Review, Row


def review(
    i: int | str,
    *,
    kind: str = "product",
    website_id: str = "acme",
    date: str = "2026-11-20T10:00:00",
    rating: int | float = 4,
    text: str = "Très bon thé, livré vite.",
    order_ref: str | None = None,
) -> Review:
    rid = i if isinstance(i, str) else f"PR{i:05d}"
    return Review(
        kind=kind,
        website_id=website_id,
        id=rid,
        review_id=f"R{rid}",
        product_ref="SKU-100" if kind == "product" else None,
        product_name="Sencha 100 g" if kind == "product" else None,
        rating=rating,
        text=text,
        author="Eva G.",
        date=date,
        order_date=None,
        replies=(Reply("2026-11-22T08:00:00", "merchant", "Merci « Eva » !"),),
        order_ref=order_ref,
    )


def upsert(r: Review, action: Action = Action.NEW) -> Row:
    return Row(action, r.kind, r.website_id, r.id, r, "line 2")


def delete(rid: str, *, kind: str = "product", website_id: str = "acme") -> Row:
    return Row(Action.DELETE, kind, website_id, rid, None, "line 2")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (relative path -> bytes)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for name, data in tree(root).items():
        h.update(name.encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def mtimes(root: Path) -> dict[str, int]:
    return {
        p.relative_to(root).as_posix(): p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
