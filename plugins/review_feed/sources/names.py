"""Feed file names: the only remote names we ever accept.

`reviews_<kind>_<websiteId>_<date>.<ext>`, kind `site` or `product`, date
`YYYY-MM-DD` or `YYYYMMDD`, ext `csv` or `xml`. Anything else in the folder is
ignored. Local paths are always built from the parsed parts, never from the
remote name itself, so a hostile name cannot escape the cache folder.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_NAME = re.compile(
    r"reviews_(?P<kind>site|product)_(?P<website>[^_/\\]+)_"
    r"(?P<date>\d{4}-\d{2}-\d{2}|\d{8})\.(?P<ext>csv|xml)"
)
# A website id is any run without "_" or "/", but it becomes part of local
# paths: refuse anything that could be read as a path component or a hidden
# folder (".", "..", ".git").
_UNSAFE_WEBSITE = re.compile(r"^\.|[\x00-\x1f\x7f]")
# What a feed file name looks like, loosely: such a name that `parse_name`
# refuses is a vendor's file we cannot use, said out loud rather than ignored.
_FEED_SHAPED = re.compile(r"reviews_(?:site|product)_(?P<website>.*)_[^_]*\.(?:csv|xml)")


@dataclass(frozen=True, slots=True, order=True)
class FeedName:
    """A parsed feed file name. Sorting gives the apply order (date first)."""

    date: str  # normalised YYYY-MM-DD
    kind: str  # "site" | "product"
    website_id: str
    ext: str  # "csv" | "xml"
    name: str  # the name exactly as the vendor wrote it (already validated)

    @property
    def collection(self) -> tuple[str, str]:
        return (self.kind, self.website_id)


def parse_name(name: str) -> FeedName | None:
    """The parsed name, or None when `name` is not a feed file we accept."""
    m = _NAME.fullmatch(name)
    if not m or _UNSAFE_WEBSITE.search(m["website"]):
        return None
    raw = m["date"].replace("-", "")
    try:
        date = dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:])).isoformat()
    except ValueError:
        return None
    return FeedName(date=date, kind=m["kind"], website_id=m["website"], ext=m["ext"], name=name)


def refusal(name: str, website_ids=()) -> str | None:
    """Why a name shaped like a feed file cannot be used; None for any other name.

    A name that is not feed-shaped at all (a README, a `.part` upload) or that
    belongs to a website id not wanted is simply ignored, not refused.
    """
    m = _FEED_SHAPED.fullmatch(name)
    if m is None or parse_name(name) is not None:
        return None
    if website_ids and m["website"] not in website_ids:
        return None
    shown = name if len(name) <= 120 else name[:119] + "…"
    return (
        f"refused the file {shown!r}: not a usable feed file name (expected "
        "reviews_<site|product>_<websiteId>_<YYYY-MM-DD>.csv|xml, the website id without "
        "a leading dot, '/', '_' or control characters, and a real date); it is not applied"
    )


def select(names, website_ids=()) -> tuple[list[FeedName], list[str]]:
    """Split `names` into accepted feed files (in apply order) and ignored names."""
    wanted = set(website_ids)
    picked: list[FeedName] = []
    ignored: list[str] = []
    for n in names:
        parsed = parse_name(n)
        if parsed is None or (wanted and parsed.website_id not in wanted):
            ignored.append(n)
        else:
            picked.append(parsed)
    picked.sort()
    return picked, ignored
