"""From one row's raw values to a `Row` or a `RowProblem`: the rules every layout shares.

Identity, required fields, value normalisation, the size cap and the privacy rule
live here once; the CSV, legacy and XML readers only find the raw values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..model import Action, Reply, Review, Row, RowProblem
from .values import clean_text, display_name, normalise_date, origin, parse_action, parse_rate
from .values import shorten as _show

# The raw values `build_row` takes, in this order (each reader fills them by name); the
# last, `moderation`, is the CSV moderation cell (JSON text) or (date, origin, comment)
# triplets the reader already took apart.
BUILD_FIELDS = (
    "action",
    "review_id",
    "product_review_id",
    "product_ref",
    "product_name",
    "review_date",
    "order_date",
    "rate",
    "review",
    "firstname",
    "lastname",
    "order_ref",
    "moderation",
)

_DATE_LIKE = "a date like 2026-11-19 18:04:11"


class Reject(Exception):
    """A row is invalid: which field, and what was expected / found."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(slots=True)
class Context:
    """What every row of one file shares."""

    file: str
    kind: str
    website_id: str
    limit: int  # REVIEW_FEED_MAX_FIELD_SIZE: the largest cell and the largest review, bytes
    store_order_ref: bool = False
    replies_name: str = "reply"  # how messages call a reply the reader took apart
    product: bool = field(init=False)

    def __post_init__(self) -> None:
        self.product = self.kind == "product"

    def problem(self, where: str, field: str | None, message: str) -> RowProblem:
        return RowProblem(self.file, where, field, message)


def build_row(ctx: Context, values: Sequence[Any], where: str) -> Row | RowProblem:
    """One row's raw values (in `BUILD_FIELDS` order) -> a valid Row, or the RowProblem."""
    try:
        return _build(ctx, values, where)
    except Reject as exc:
        return ctx.problem(where, exc.field, exc.message)


def _build(ctx: Context, values: Sequence[Any], where: str) -> Row:
    action, rid, prid, ref, pname, rdate, odate, rate, text, first, last, oref, mod = values
    act = parse_action(action)
    if act is None:
        raise Reject("action", f"expected NEW, UPDATE or DELETE, found {_show(action)}")
    rid, ref = rid.strip(), ref.strip() if ctx.product else ""
    ident = _identity(ctx, rid, prid.strip(), ref)
    if act is Action.DELETE:
        return Row(act, ctx.kind, ctx.website_id, ident, None, where)
    date = normalise_date(rdate)
    if date is None:
        raise _bad_date("review_date", rdate, required=True)
    rating = parse_rate(rate)
    if rating is None:
        raise Reject("rate", f"expected a rating from 1 to 5 (4, 4.0, 4.5), found {_show(rate)}")
    if ctx.product and not ref:
        raise Reject("product_ref", "missing: a product review needs one")
    order_date = normalise_date(odate) if odate else None
    if order_date is None and odate.strip():
        raise _bad_date("order_date", odate, required=False)
    product_name = (pname.strip() or None) if ctx.product else None
    text = clean_text(text)
    author = display_name(first, last)
    replies = replies_of(ctx, mod) if mod else ()
    check_review_size(ctx, text, author, product_name, replies)
    # positional: a million Reviews are built, and keywords cost twice as much
    review = Review(
        ctx.kind,
        ctx.website_id,
        ident,  # id
        rid or None,  # review_id
        ref or None,  # product_ref
        product_name,
        rating,
        text,
        author,
        date,
        order_date,
        replies,
        (oref.strip() or None) if ctx.store_order_ref else None,  # order_ref
    )
    return Row(act, ctx.kind, ctx.website_id, ident, review, where)


def _identity(ctx: Context, rid: str, prid: str, ref: str) -> str:
    """The review's id inside its collection (see `model.Review`)."""
    if not ctx.product:
        if not rid:
            raise Reject("review_id", "missing: expected the review id")
        return rid
    if prid:
        return prid
    if rid and ref:
        return f"{rid}/{ref}"
    raise Reject(
        "product_review_id",
        "missing: expected a product_review_id, or a review_id and a product_ref",
    )


def _bad_date(name: str, raw: Any, *, required: bool) -> Reject:
    if required and (not isinstance(raw, str) or not raw.strip()):
        return Reject(name, "missing: NEW and UPDATE need a date")
    return Reject(name, f"expected {_DATE_LIKE}, found {_show(raw)}")


def _reply_date(ctx: Context, raw: Any, name: str, n: int) -> str | None:
    """Reply #n's date, which may be absent: None when empty, a Reject when not a date
    (its message built only then)."""
    if isinstance(raw, str):
        date = normalise_date(raw)
        if date is not None:
            return date
        if not raw.strip():
            return None
    elif raw is None:
        return None
    raise _bad_date(f"{name} #{n} date", raw, required=False)


def check_review_size(
    ctx: Context, text: str, author: str, product_name: str | None, replies: tuple[Reply, ...]
) -> None:
    """One cap on a whole review, in every layout: its text, names and replies together
    (each reply counts its text plus 64 bytes for its date, origin and keys)."""
    chars = len(text) + len(author) + len(product_name or "")
    if replies:
        chars += sum(len(r.text) + len(r.origin) + 64 for r in replies)
    if chars * 4 <= ctx.limit:  # UTF-8 takes at most 4 bytes a character: cheap when small
        return
    parts = [text, author, product_name or ""]
    parts += [r.origin + r.text for r in replies]
    size = sum(len(p.encode("utf-8", "surrogatepass")) for p in parts) + 64 * len(replies)
    if size > ctx.limit:
        raise Reject(
            "review",
            f"the review with its replies is {size} bytes, over REVIEW_FEED_MAX_FIELD_SIZE "
            f"({ctx.limit} bytes)",
        )


# --- replies -------------------------------------------------------------------------


def replies_of(ctx: Context, raw: Any) -> tuple[Reply, ...]:
    """The moderation value: a CSV JSON cell, or (date, origin, comment) triplets."""
    if isinstance(raw, str):
        return _replies(ctx, _triplets_json(raw), "moderation") if raw.strip() else ()
    return _replies(ctx, raw, ctx.replies_name) if raw else ()


def _triplets_json(cell: str) -> list[tuple[Any, Any, Any]]:
    """The CSV `moderation` cell: a JSON array of {"date", "origin", "comment"}."""
    try:
        data = orjson.loads(cell)
    except orjson.JSONDecodeError as exc:
        raise Reject(
            "moderation", f"expected a JSON array of replies, found {_show(cell)} ({exc})"
        ) from None
    if data is None:
        return []
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise Reject("moderation", f"expected a JSON array, found {_show(cell)}")
    out = []
    for n, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise Reject("moderation", f"reply #{n}: expected an object, found {_show(item)}")
        comment = item.get("comment")
        if comment is None:
            comment = item.get("text", item.get("message"))
        who = item.get("origin")
        if who is None:
            who = item.get("author")
        out.append((item.get("date"), who, comment))
    return out


def _replies(ctx: Context, triplets: Sequence[tuple[Any, Any, Any]], name: str):
    """(date, origin, comment) triplets in feed order -> Replies; empty comments dropped."""
    out = []
    for n, (date, who, comment) in enumerate(triplets, 1):
        text = clean_text(comment) if isinstance(comment, str) else ""
        if text:
            when = _reply_date(ctx, date, name, n)
            out.append(Reply(when, origin(who), text))
    return tuple(out)
