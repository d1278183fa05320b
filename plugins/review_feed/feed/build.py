"""From one row's raw values to a `Row` or a `RowProblem`: the rules every layout shares.

Identity, required fields, value normalisation and the privacy rule live
here once; the CSV, legacy and XML readers only find the raw values.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields, make_dataclass
from typing import Any

import orjson

from ..errors import FeedFileError
from ..model import Action, Reply, Review, Row, RowProblem, encode_line, stored_record
from .values import (
    ACTIONS,
    HOURS,
    ORIGINS,
    RATES,
    TWO,
    display_name,
    normalise_date,
    origin,
    parse_action,
    parse_rate,
    valid_day,
)
from .values import shorten as _show

# --- fast construction of the frozen records -------------------------------
# A frozen dataclass's generated __init__ goes through object.__setattr__ per
# field: for Review and Row together that costs about as much as the csv
# module's whole parse of a row. So each is built as an instance of a mutable
# twin with the very same slots, whose class is then switched to the frozen
# one (a layout-compatible __class__ assignment): the result is an ordinary,
# frozen Review/Row, equal to one made by the constructor, at a third of the
# price. The twin is checked at import: a model change that breaks it fails
# loudly there (and in every test), never silently at run time.


def _twin(cls: type) -> type:
    names = [f.name for f in fields(cls)]
    twin = make_dataclass("_Mutable" + cls.__name__, names, slots=True)
    probe = twin(*range(len(names)))
    try:
        probe.__class__ = cls
    except TypeError as exc:  # pragma: no cover - a model change
        raise TypeError(f"review_feed.feed cannot build {cls.__name__} fast: {exc}") from None
    if probe != cls(*range(len(names))):  # pragma: no cover - a model change
        raise TypeError(f"review_feed.feed: the {cls.__name__} twin differs from the model")
    return twin


_REVIEW_TWIN = _twin(Review)
_REPLY_TWIN = _twin(Reply)
_ROW_TWIN = _twin(Row)


def _maker(cls: type, twin: type) -> Callable[..., Any]:
    def make(*args: Any) -> Any:
        obj = twin(*args)
        obj.__class__ = cls
        return obj

    return make


new_review: Callable[..., Review] = _maker(Review, _REVIEW_TWIN)
new_reply: Callable[..., Reply] = _maker(Reply, _REPLY_TWIN)
new_row: Callable[..., Row] = _maker(Row, _ROW_TWIN)
_DELETE = Action.DELETE
_MMSS = frozenset(f":{m}:{s}" for m in TWO for s in TWO)  # ":MM:SS"


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a file is read, then back as it was.

    The rows of a file are kept (the sync applies a file only once it was read
    whole), and every Row and Review is a GC-tracked object: with the collector
    on, its full passes walk all the rows kept so far again and again, which
    cost as much as parsing them (1.0 of 2.7 CPU seconds for 200,000 rows). The
    records hold no reference cycles, so nothing is lost by pausing it.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if gc.get_freeze_count() == 0:
                # Left young, the rows would all be walked by the next collections (0.26 s
                # for 200,000 rows). freeze + unfreeze moves every tracked object to the
                # oldest generation as it is, without a pass; not done when someone
                # froze objects on purpose (unfreeze would undo it).
                gc.freeze()
                gc.unfreeze()
            gc.enable()


class Context:
    """What every row of one file shares, and the row builder itself."""

    __slots__ = (
        "build",
        "compact",
        "days",
        "file",
        "kind",
        "limit",
        "lines",
        "parallel_from",
        "product",
        "store_order_ref",
        "website_id",
    )

    def __init__(
        self,
        file: str,
        kind: str,
        website_id: str,
        limit: int,
        store_order_ref: bool,
        parallel_from: int | None = None,
        compact: bool = False,
        lines: bool = False,
    ):
        self.file = file
        self.kind = kind
        self.website_id = website_id
        self.product = kind == "product"
        self.limit = limit
        self.store_order_ref = store_order_ref
        self.parallel_from = parallel_from  # CSV files from this size are read by 2 processes
        # compact: build() returns plain tuples (csvsplit's worker sends them to the parent)
        self.compact = compact
        # lines: a valid row is a `model.LineRow` (the full-load fast path into the store)
        self.lines = lines
        self.days: dict[str, bool] = {}  # calendar-day checks, cached for this file only
        self.build = make_builder(self)

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
        days = self.days
        for n, (date, orig, comment) in enumerate(triplets, 1):
            if comment.__class__ is not str:
                continue
            if "\r" in comment:
                comment = comment.replace("\r\n", "\n").replace("\r", "\n")
            text = comment.strip()
            if not text:
                continue
            d = None
            if date:
                if date.__class__ is not str:
                    return self.problem(
                        where, f"{field} #{n} date", f"expected a date, found {_show(date)}"
                    )
                d = normalise_date(date, days)
                if d is None and date.strip():
                    return self.problem(
                        where,
                        f"{field} #{n} date",
                        f"expected a date like 2026-11-19 18:04:11, found {_show(date)}",
                    )
            who = ORIGINS.get(orig) if orig.__class__ is str else None
            out.append(new_reply(d, who or origin(orig), text))
        return tuple(out)

    def replies_json(self, cell: str, where: str) -> tuple[Reply, ...] | RowProblem:
        """The CSV `moderation` cell: a JSON array of {"date", "origin", "comment"}."""
        self.check_size(cell, where, "moderation")
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
            comment = item.get("comment")
            if comment is None:
                comment = item.get("text", item.get("message"))
            who = item.get("origin")
            if who is None:
                who = item.get("author")
            triplets.append((item.get("date"), who, comment))
        return self.replies(triplets, where, "moderation")


# The raw values `build` takes, in its argument order (each reader fills them by name);
# the last, the replies, is the CSV moderation cell or Replies already made.
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


def make_builder(ctx: Context) -> Callable[..., Row | RowProblem]:
    """The per-row function of one file (a closure: its constants are local, it runs 10^6 times).

    build(values, where): `values` holds, in this order, action, review_id,
    product_review_id, product_ref, product_name, review_date, order_date,
    rate, review, firstname, lastname, order_ref, replies ("" when absent);
    `replies` is the CSV moderation cell (JSON text) or already-made Replies.
    One sequence rather than 13 arguments: the CSV reader passes the tuple its
    itemgetter made, unpacked here in one step.
    """
    kind = ctx.kind
    website_id = ctx.website_id
    product = ctx.product
    keep_order_ref = ctx.store_order_ref
    quarter = ctx.limit // 4
    days = ctx.days
    hours: dict[str, str] = {}  # "YYYY-MM-DD HH" -> "YYYY-MM-DDTHH" ("" when invalid)
    problem = ctx.problem
    actions = ACTIONS
    rates = RATES
    mmss = _MMSS
    delete = _DELETE
    review_twin = _REVIEW_TWIN
    row_twin = _ROW_TWIN
    review_cls = Review
    row_cls = Row
    reply_twin = _REPLY_TWIN
    reply_cls = Reply
    origins = ORIGINS
    loads = orjson.loads
    JSONDecodeError = orjson.JSONDecodeError
    dict_ = dict
    str_ = str
    compact = ctx.compact
    lines = ctx.lines
    copy = lines and not compact  # lines kept in this process (not sent)
    join = b"".join
    codes = {a: a.value for a in Action}

    def replies_json(cell, where):
        # The usual moderation cell, [{"date": "YYYY-MM-DD HH:MM:SS", "origin": "2",
        # "comment": "..."}, ...], on a fast path; anything else goes the careful way.
        if len(cell) > quarter:
            ctx.check_size(cell, where, "moderation")
        try:
            data = loads(cell)
        except JSONDecodeError:
            data = None
        if data.__class__ is not list:
            return ctx.replies_json(cell, where) if cell.strip() else ()
        out = []
        for item in data:
            if item.__class__ is not dict_:
                return ctx.replies_json(cell, where)
            comment = item.get("comment")
            date = item.get("date")
            who = item.get("origin")
            if (
                comment.__class__ is not str_
                or date.__class__ is not str_
                or len(date) != 19
                or "\r" in comment
            ):
                return ctx.replies_json(cell, where)
            who = origins.get(who) if who.__class__ is str_ else None
            tail = date[13:]
            hp = ""
            if tail in mmss:
                hp = hours.get(date[:13])
                if hp is None:
                    hp = hours[date[:13]] = _hour_prefix(date[:13], days)
            if not who or not hp:
                return ctx.replies_json(cell, where)
            text = comment.strip()
            if text:
                reply = reply_twin(hp + tail, who, text)
                reply.__class__ = reply_cls
                out.append(reply)
        return tuple(out)

    def build(values, where):
        action, rid, prid, ref, pname, rdate, odate, rate, text, first, last, oref, replies = values
        act = actions.get(action)
        if act is None:
            act = parse_action(action)
            if act is None:
                return problem(
                    where, "action", f"expected NEW, UPDATE or DELETE, found {_show(action)}"
                )
        rid = rid.strip()
        if product:
            prid = prid.strip()
            ref = ref.strip()
            if prid:
                ident = prid
            elif rid and ref:
                ident = rid + "/" + ref
            else:
                return problem(
                    where,
                    "product_review_id",
                    "missing: expected a product_review_id, or a review_id and a product_ref",
                )
        else:
            if not rid:
                return problem(where, "review_id", "missing: expected the review id")
            ident = rid
            ref = ""
        if act is delete:
            if lines:
                return (codes[act], ident, None, None)
            if compact:
                return (codes[act], ident, where)
            return new_row(act, kind, website_id, ident, None, where)

        # "YYYY-MM-DD HH:MM:SS" through the per-hour cache (`_hour_prefix`), written out
        # here, for the order date and in replies_json rather than called: two calls a
        # row cost more than the rest of this check; anything else goes to normalise_date
        date = None
        if len(rdate) == 19:
            tail = rdate[13:]
            if tail in mmss:
                hp = hours.get(rdate[:13])
                if hp is None:
                    hp = hours[rdate[:13]] = _hour_prefix(rdate[:13], days)
                if hp:
                    date = hp + tail
        if date is None:
            date = normalise_date(rdate, days)
            if date is None:
                if not rdate.strip():
                    return problem(where, "review_date", "missing: NEW and UPDATE need a date")
                return problem(
                    where,
                    "review_date",
                    f"expected a date like 2026-11-19 18:04:11, found {_show(rdate)}",
                )
        rating = rates.get(rate)
        if rating is None:
            rating = parse_rate(rate)
            if rating is None:
                return problem(
                    where,
                    "rate",
                    f"expected a rating from 1 to 5 (4, 4.0, 4.5), found {_show(rate)}",
                )
        if product and not ref:
            return problem(where, "product_ref", "missing: a product review needs one")
        order_date = None
        if odate:
            if len(odate) == 19:
                tail = odate[13:]
                if tail in mmss:
                    hp = hours.get(odate[:13])
                    if hp is None:
                        hp = hours[odate[:13]] = _hour_prefix(odate[:13], days)
                    if hp:
                        order_date = hp + tail
            if order_date is None:
                order_date = normalise_date(odate, days)
            if order_date is None and odate.strip():
                return problem(
                    where,
                    "order_date",
                    f"expected a date like 2026-11-19 18:04:11, found {_show(odate)}",
                )
        if replies:
            if replies.__class__ is str_:
                replies = replies_json(replies, where)
            if replies.__class__ is RowProblem:
                return replies
        else:
            replies = ()
        if len(text) > quarter:
            ctx.check_size(text, where, "review")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        # the display name (values.display_name, with the common case first)
        first = first.strip()
        last = last.strip()
        if (
            first
            and last
            and (len(first) != 9 or first.lower() != "anonymous")
            and (len(last) != 9 or last.lower() != "anonymous")
            and "@" not in first
            and "@" not in last
        ):
            author = f"{first} {last[0].upper()}."
        else:
            author = display_name(first, last)
        review_id = rid or None
        product_ref = ref or None
        product_name = (pname.strip() or None) if product else None
        body = text.strip()
        order_ref = (oref.strip() or None) if keep_order_ref else None
        if lines:
            line = encode_line(
                stored_record(
                    ident, review_id, product_ref, product_name, rating, body, author, date,
                    order_date, replies, order_ref,
                )
            )  # fmt: skip
            # orjson's bytes keep a 4 KB buffer: a line kept here (not sent) is copied
            return (codes[act], ident, date, join((line, b"")) if copy else line)
        if compact:
            replies = tuple([(r.date, r.origin, r.text) for r in replies]) if replies else ()
            return (
                codes[act], ident, review_id, product_ref, product_name, rating, body, author,
                date, order_date, replies, order_ref, where,
            )  # fmt: skip
        review = review_twin(
            kind, website_id, ident, review_id, product_ref, product_name, rating, body, author,
            date, order_date, replies, order_ref,
        )  # fmt: skip
        review.__class__ = review_cls
        row = row_twin(act, kind, website_id, ident, review, where)
        row.__class__ = row_cls
        return row

    return build


def _hour_prefix(prefix: str, days: dict[str, bool]) -> str:
    """ "YYYY-MM-DD HH" or "...THH" -> "YYYY-MM-DDTHH" when valid, else ""."""
    day = prefix[:10]
    ok = days.get(day)
    if ok is None:
        ok = days[day] = valid_day(day)
    if ok and prefix[10] in (" ", "T") and prefix[11:] in HOURS:
        return day + "T" + prefix[11:]
    return ""
