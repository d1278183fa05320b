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
# paths: refuse anything that could be read as a path component.
_UNSAFE_WEBSITE = re.compile(r"^\.{1,2}$|[\x00-\x1f\x7f]")


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
