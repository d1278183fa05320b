"""How the feed layer reads files: the three settings that concern it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .fields import check_field_map


@dataclass(frozen=True)
class FeedOptions:
    # user's column/element name -> canonical name (REVIEW_FEED_FIELD_MAP)
    field_map: Mapping[str, str] = field(default_factory=dict)
    # largest cell, and largest review with its replies, in bytes of UTF-8
    # (REVIEW_FEED_MAX_FIELD_SIZE)
    max_field_size: int = 1 << 20
    # keep the order reference in the Review (REVIEW_FEED_STORE_ORDER_REF)
    store_order_ref: bool = False

    def __post_init__(self) -> None:
        check_field_map(self.field_map)
        if self.max_field_size <= 0:
            raise ValueError("max_field_size must be above 0")

    @classmethod
    def from_settings(cls, settings: Any) -> FeedOptions:
        """The options out of a `review_feed.settings.Settings`."""
        return cls(
            field_map=dict(settings.field_map),
            max_field_size=settings.max_field_size,
            store_order_ref=settings.store_order_ref,
        )
