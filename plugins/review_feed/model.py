"""The normalised records every layer shares.

`feed` produces them, `store` keeps them, `site` renders them. Reply, Review and
Row are immutable named tuples: a full load makes a million of each, and a frozen
dataclass costs three times as much to build (a third of the feed's time per row).
They hold only what the site shows (see docs/feed-formats.md, "Privacy"): a display name,
never an e-mail address, a last name or (unless opted in) an order reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

KINDS = ("site", "product")


class Action(StrEnum):
    NEW = "NEW"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class Reply(NamedTuple):
    """One answer under a review, in feed order."""

    date: str | None  # ISO 8601, offset kept when the feed gave one
    origin: str  # "moderator", "merchant", "customer" or the feed's own word, lower-cased
    text: str

    def to_record(self) -> dict[str, Any]:
        # keys in sorted order: a snapshot line is encoded without sorting them again
        return {"date": self.date, "origin": self.origin, "text": self.text}

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Reply:
        return cls(date=rec.get("date"), origin=rec["origin"], text=rec["text"])


class Review(NamedTuple):
    """The whole state of one review, as the snapshot and the export hold it.

    `id` is the identity inside its collection (kind, website_id): the product
    review id, or `review_id` + "/" + `product_ref` when a product feed lacks
    it, or the review id for site reviews.
    """

    kind: str  # "site" | "product"
    website_id: str
    id: str
    review_id: str | None
    product_ref: str | None  # None for site reviews
    product_name: str | None
    rating: int | float  # 1..5; int when integral (4.0 -> 4)
    text: str
    author: str  # display name: "Eva G.", "Eva", "Anonymous"
    date: str  # ISO 8601
    order_date: str | None
    replies: tuple[Reply, ...] = ()
    order_ref: str | None = None  # only with REVIEW_FEED_STORE_ORDER_REF

    def to_record(self) -> dict[str, Any]:
        """The export record of feed-format.md (order_ref only when kept)."""
        rec: dict[str, Any] = {
            "kind": self.kind,
            "website_id": self.website_id,
            "id": self.id,
            "review_id": self.review_id,
            "product_ref": self.product_ref,
            "product_name": self.product_name,
            "rating": self.rating,
            "text": self.text,
            "author": self.author,
            "date": self.date,
            "order_date": self.order_date,
            "replies": [r.to_record() for r in self.replies],
        }
        if self.order_ref is not None:
            rec["order_ref"] = self.order_ref
        return rec

    @classmethod
    def from_record(
        cls, rec: dict[str, Any], *, kind: str | None = None, website_id: str | None = None
    ) -> Review:
        """The review of an export record, or of a snapshot line when `kind` and
        `website_id` are given (a snapshot file's path says them, its lines do not)."""
        replies = rec.get("replies")
        # positional: a build makes a million of these
        return cls(
            rec["kind"] if kind is None else kind,
            rec["website_id"] if website_id is None else website_id,
            rec["id"],
            rec.get("review_id"),
            rec.get("product_ref"),
            rec.get("product_name"),
            rec["rating"],
            rec["text"],
            rec["author"],
            rec["date"],
            rec.get("order_date"),
            tuple(Reply.from_record(r) for r in replies) if replies else (),
            rec.get("order_ref"),
        )


class Row(NamedTuple):
    """One valid action read from a feed file.

    `review` is the full new state for NEW/UPDATE; None for DELETE.
    `where` locates the row for messages: "line 12" or "review #3".
    """

    action: Action
    kind: str
    website_id: str
    id: str
    review: Review | None
    where: str


@dataclass(frozen=True, slots=True)
class VendorAverage:
    """The legacy layout's AVG row: the vendor's own per-product aggregate."""

    product_ref: str
    average: float
    count: int
    where: str


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that is invalid and is never applied; the rest of the file goes on."""

    file: str
    where: str  # "line 12", "review #3"
    field: str | None
    message: str  # what was expected / what was found

    def __str__(self) -> str:
        fld = f", field {self.field}" if self.field else ""
        return f"{self.file}, {self.where}{fld}: {self.message}"


@dataclass(slots=True)
class FileCounts:
    """Rows of one file by outcome; a pure function of the file's content."""

    new: int = 0
    update: int = 0
    delete: int = 0
    rejected: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "new": self.new,
            "update": self.update,
            "delete": self.delete,
            "rejected": self.rejected,
        }
