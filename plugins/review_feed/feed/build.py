"""From one row's raw values to a `Row` or a `RowProblem`: the rules every layout shares.

Identity, required fields, value normalisation and the privacy rule live
here once; the CSV, legacy and XML readers only find the raw values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

import orjson

from ..errors import FeedFileError
from ..model import Action, Reply, Review, Row, RowProblem
from .values import clean_text, display_name, normalise_date, origin, parse_action, parse_rate
from .values import shorten as _show

# --- fast construction of the frozen records -------------------------------
# A frozen dataclass's generated __init__ goes through object.__setattr__ per
# field, which costs more than the whole CSV parse of a row. Setting the slots
# through their descriptors builds the very same object at half the price. If
# the model's fields ever change, fall back to the ordinary constructor.

_REVIEW_FIELDS = (
    "kind",
    "website_id",
    "id",
    "review_id",
    "product_ref",
    "product_name",
    "rating",
    "text",
    "author",
    "date",
    "order_date",
    "replies",
    "order_ref",
)
_ROW_FIELDS = ("action", "kind", "website_id", "id", "review", "where")


def _slot_builder(cls: type, names: tuple[str, ...]) -> Callable[..., Any]:
    if tuple(f.name for f in fields(cls)) != names or not hasattr(cls, "__slots__"):
        return cls
    setters = [cls.__dict__[n].__set__ for n in names]
    new = object.__new__
    args = ", ".join(names)
    body = "\n".join(f"    _s{i}(o, {n})" for i, n in enumerate(names))
    src = f"def make({args}):\n    o = _new(_cls)\n{body}\n    return o\n"
    scope: dict[str, Any] = {"_new": new, "_cls": cls}
    scope.update({f"_s{i}": s for i, s in enumerate(setters)})
    exec(src, scope)  # static source built from the model's own field names
    return scope["make"]


new_review: Callable[..., Review] = _slot_builder(Review, _REVIEW_FIELDS)
new_row: Callable[..., Row] = _slot_builder(Row, _ROW_FIELDS)

_DELETE = Action.DELETE


class Context:
    """What every row of one file shares, and the row builder itself."""

    __slots__ = ("days", "file", "kind", "limit", "product", "store_order_ref", "website_id")

    def __init__(self, file: str, kind: str, website_id: str, limit: int, store_order_ref: bool):
        self.file = file
        self.kind = kind
        self.website_id = website_id
        self.product = kind == "product"
        self.limit = limit
        self.store_order_ref = store_order_ref
        self.days: dict[str, bool] = {}  # calendar-day checks, cached for this file only

    def problem(self, where: str, field: str | None, message: str) -> RowProblem:
        return RowProblem(self.file, where, field, message)

    def too_big(self, where: str, field: str, size: int) -> FeedFileError:
        return FeedFileError(
            f"{self.file}: {where}: the {field} value is {size} bytes, over "
            f"REVIEW_FEED_MAX_FIELD_SIZE ({self.limit} bytes); the file is rejected"
        )

    def check_size(self, value: str, where: str, field: str) -> None:
        # characters <= bytes <= 4 * characters in UTF-8: encode only when it can matter
        if len(value) * 4 > self.limit:
            size = len(value.encode("utf-8", "surrogatepass"))
            if size > self.limit:
                raise self.too_big(where, field, size)

    def replies(
        self, triplets: Sequence[tuple[Any, Any, Any]], where: str, field: str
    ) -> tuple[Reply, ...] | RowProblem:
        """(date, origin, comment) triplets in feed order -> Replies; empty comments dropped."""
        out = []
        for n, (date, orig, comment) in enumerate(triplets, 1):
            text = clean_text(comment) if isinstance(comment, str) else ""
            if not text:
                continue
            d = None
            if date is not None and not isinstance(date, str):
                return self.problem(
                    where, f"{field} #{n} date", f"expected a date, found {_show(date)}"
                )
            if date and date.strip():
                d = normalise_date(date, self.days)
                if d is None:
                    return self.problem(
                        where,
                        f"{field} #{n} date",
                        f"expected a date like 2026-11-19 18:04:11, found {_show(date)}",
                    )
            out.append(Reply(d, origin(orig), text))
        return tuple(out)

    def replies_json(self, cell: str, where: str) -> tuple[Reply, ...] | RowProblem:
        """The CSV `moderation` cell: a JSON array of {"date", "origin", "comment"}."""
        try:
            data = orjson.loads(cell)
        except orjson.JSONDecodeError as exc:
            return self.problem(
                where,
                "moderation",
                f"expected a JSON array of replies, found {_show(cell)} ({exc})",
            )
        if data is None:
            return ()
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            return self.problem(where, "moderation", f"expected a JSON array, found {_show(cell)}")
        triplets = []
        for n, item in enumerate(data, 1):
            if not isinstance(item, dict):
                return self.problem(
                    where, "moderation", f"reply #{n}: expected an object, found {_show(item)}"
                )
            comment = item.get("comment", item.get("text", item.get("message")))
            triplets.append((item.get("date"), item.get("origin", item.get("author")), comment))
        return self.replies(triplets, where, "moderation")

    def build(
        self,
        action: str,
        rid: str,
        prid: str,
        ref: str,
        pname: str,
        rdate: str,
        odate: str,
        rate: str,
        text: str,
        first: str,
        last: str,
        oref: str,
        replies: str | tuple[Reply, ...] | RowProblem,
        where: str,
    ) -> Row | RowProblem:
        """One row's raw strings ("" when absent) -> the normalised Row, or why not."""
        act = parse_action(action)
        if act is None:
            return self.problem(
                where, "action", f"expected NEW, UPDATE or DELETE, found {_show(action)}"
            )
        rid = rid.strip()
        if self.product:
            prid = prid.strip()
            ref = ref.strip()
            if prid:
                ident = prid
            elif rid and ref:
                ident = rid + "/" + ref
            else:
                return self.problem(
                    where,
                    "product_review_id",
                    "missing: expected a product_review_id, or a review_id and a product_ref",
                )
        else:
            if not rid:
                return self.problem(where, "review_id", "missing: expected the review id")
            ident = rid
            ref = ""
        if act is _DELETE:
            return new_row(act, self.kind, self.website_id, ident, None, where)

        date = normalise_date(rdate, self.days)
        if date is None:
            if not rdate.strip():
                return self.problem(where, "review_date", "missing: NEW and UPDATE need a date")
            return self.problem(
                where,
                "review_date",
                f"expected a date like 2026-11-19 18:04:11, found {_show(rdate)}",
            )
        rating = parse_rate(rate)
        if rating is None:
            return self.problem(
                where, "rate", f"expected a rating from 1 to 5 (4, 4.0, 4.5), found {_show(rate)}"
            )
        if self.product and not ref:
            return self.problem(where, "product_ref", "missing: a product review needs one")
        order_date = None
        if odate:
            order_date = normalise_date(odate, self.days)
            if order_date is None and odate.strip():
                return self.problem(
                    where,
                    "order_date",
                    f"expected a date like 2026-11-19 18:04:11, found {_show(odate)}",
                )
        if replies.__class__ is str:
            replies = self.replies_json(replies, where) if replies.strip() else ()
        if replies.__class__ is RowProblem:
            return replies  # type: ignore[return-value]
        pname = pname.strip() if self.product else ""
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        review = new_review(
            self.kind,
            self.website_id,
            ident,
            rid or None,
            ref or None,
            pname or None,
            rating,
            text.strip(),
            display_name(first, last),
            date,
            order_date,
            replies,
            (oref.strip() or None) if self.store_order_ref else None,
        )
        return new_row(act, self.kind, self.website_id, ident, review, where)
