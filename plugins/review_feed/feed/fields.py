"""Column / element names: the canonical fields, their aliases, the user's map."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import ConfigError

# canonical name -> aliases seen in other integrations (feed-format.md)
ALIASES: dict[str, tuple[str, ...]] = {
    "action": (),
    "review_id": ("id_review",),
    "product_review_id": ("id_review_product", "id_product_av"),
    "product_ref": ("id_product", "refProduit", "sku"),
    "product_name": ("name_product",),
    "review_date": ("horodateAvis", "publish_date"),
    "order_date": ("horodateCommande",),
    "rate": ("rating", "note"),
    "review": ("avis",),
    "firstname": ("prenom", "first_name"),
    "lastname": ("name", "last_name"),
    "email": (),
    "order_ref": ("purchase_reference",),
    "moderation": (),
}
CANONICAL: tuple[str, ...] = tuple(ALIASES)


def name_table(field_map: Mapping[str, str]) -> dict[str, tuple[str, int]]:
    """lower-cased name -> (canonical, rank); a lower rank wins a tie.

    Rank 0: the user's REVIEW_FEED_FIELD_MAP; 1: a canonical name; 2: an alias.
    """
    table: dict[str, tuple[str, int]] = {}
    for canon, aliases in ALIASES.items():
        for alias in aliases:
            table[alias.lower()] = (canon, 2)
    for canon in CANONICAL:
        table[canon] = (canon, 1)
    for user, canon in field_map.items():
        table[str(user).strip().lower()] = (canon, 0)
    return table


def check_field_map(field_map: Mapping[str, str]) -> None:
    """Refuse a map whose target is not a canonical field (a typo would drop data)."""
    for user, canon in field_map.items():
        if canon not in ALIASES:
            raise ConfigError(
                f"REVIEW_FEED_FIELD_MAP maps {user!r} to {canon!r}, which is not a field; "
                f"expected one of: {', '.join(CANONICAL)}"
            )


def resolve(names: Iterable[str], table: Mapping[str, tuple[str, int]]) -> dict[str, int]:
    """canonical field -> column index for a header row.

    Matching is case-insensitive and ignores surrounding spaces; unknown
    columns are ignored. When two columns mean the same field, the user's
    map beats a canonical name, which beats an alias; among equals the
    leftmost column wins.
    """
    best: dict[str, tuple[int, int]] = {}
    for index, raw in enumerate(names):
        hit = table.get(raw.strip().lower())
        if hit is None:
            continue
        canon, rank = hit
        old = best.get(canon)
        if old is None or rank < old[0]:
            best[canon] = (rank, index)
    return {canon: index for canon, (_, index) in best.items()}
