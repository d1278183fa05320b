"""Normalising single values: dates, ratings, actions, reply origins, text, names.

Everything here is pure and cheap: the parsers call these once per cell, a
million times for a full history, so the common shapes take a fast path
(slicing and dict lookups) and only unusual input reaches a regex.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from ..model import Action

ANONYMOUS = "Anonymous"

ACTIONS: dict[str, Action] = {a.value: a for a in Action}

# Reply origin codes (vendor API): anything else is kept, lower-cased.
ORIGINS = {"1": "moderator", "2": "merchant", "3": "customer"}

# The exact spellings a feed writes for a rating; anything else is parsed.
RATES: dict[str, int | float] = {}
for _i in range(1, 6):
    RATES[str(_i)] = _i
    RATES[f"{_i}.0"] = _i
    RATES[f"{_i},0"] = _i
for _i in range(1, 5):
    RATES[f"{_i}.5"] = _i + 0.5
    RATES[f"{_i},5"] = _i + 0.5
del _i

TWO = frozenset(f"{i:02d}" for i in range(60))
HOURS = frozenset(f"{i:02d}" for i in range(24))

_DATE = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)


_EMAIL = re.compile(r"[^\s@\"'<>]+@[^\s@\"'<>]+")


def shorten(value: object, limit: int = 40) -> str:
    """A value quoted for a message, cut so a huge cell never floods a log line.

    An e-mail address is masked: a shifted column can put one in any cell, and
    messages reach logs and the sync report.
    """
    s = str(value)
    cut = len(s) > limit
    s = s[: limit + 100]  # masked before the final cut, so a cut address still matches
    if "@" in s:
        s = _EMAIL.sub("<e-mail>", s)
    if cut or len(s) > limit:
        s = s[:limit] + "…"
    return repr(s)


def valid_day(day: str) -> bool:
    """`YYYY-MM-DD` names a real calendar day."""
    if len(day) != 10 or day[4] != "-" or day[7] != "-" or not day.isascii():
        return False
    if not (day[:4].isdigit() and day[5:7].isdigit() and day[8:].isdigit()):
        return False  # int() would take " 1", "+1" or "1_0"
    try:
        dt.date(int(day[:4]), int(day[5:7]), int(day[8:]))
    except ValueError:
        return False
    return True


def normalise_date(raw: str) -> str | None:
    """ISO 8601 for a feed date, keeping its offset; None when it is not a date.

    `2026-11-19 18:04:11` -> `2026-11-19T18:04:11`;
    `2026-11-19T18:04:11.0000000 +01:00` -> `2026-11-19T18:04:11+01:00` (an
    all-zero fraction is dropped, another one kept without trailing zeros);
    `Z` becomes `+00:00`; a date alone stays `YYYY-MM-DD`.
    """
    # The vendor's usual shape, "YYYY-MM-DD HH:MM:SS" (or with a T): once its dashes and
    # colons are in place, datetime's own parser checks the digits, calendar and clock.
    if len(raw) == 19 and raw[10] in " T" and raw[4] == raw[7] == "-" and raw[13] == raw[16] == ":":
        try:
            dt.datetime.fromisoformat(raw)
        except ValueError:
            return None
        return raw.replace(" ", "T")
    return _slow_date(raw.strip())


def _slow_date(s: str) -> str | None:
    m = _DATE.fullmatch(s)
    if m is None:
        return None
    day = f"{m['y']}-{m['m']}-{m['d']}"
    if not valid_day(day):
        return None
    if m["H"] is None:
        return day
    hh, mm, ss = m["H"], m["M"], m["S"] or "00"
    if hh not in HOURS or mm not in TWO or ss not in TWO:
        return None
    out = f"{day}T{hh}:{mm}:{ss}"
    frac = (m["f"] or "").rstrip("0")
    if frac:
        out += "." + frac
    tz = m["tz"]
    if tz:
        if tz == "Z":
            tz = "+00:00"
        else:
            digits = tz[1:].replace(":", "")
            oh, om = digits[:2], digits[2:] or "00"
            if oh not in HOURS or om not in TWO:
                return None
            tz = f"{tz[0]}{oh}:{om}"
        out += tz
    return out


def parse_rate(raw: str) -> int | float | None:
    """A rating 1..5 (int when integral, else float); None when it is not one."""
    r = RATES.get(raw)
    if r is not None:
        return r
    s = raw.strip().replace(",", ".")
    if not s or not s.isascii():
        return None
    try:
        x = float(s)
    except ValueError:
        return None
    if not math.isfinite(x) or not 1 <= x <= 5:
        return None
    return int(x) if x.is_integer() else x


def parse_action(raw: str) -> Action | None:
    a = ACTIONS.get(raw)
    if a is None:
        a = ACTIONS.get(raw.strip().upper())
    return a


def origin(raw: object) -> str:
    """Reply origin: vendor codes mapped, any other value kept lower-cased."""
    s = str(raw).strip() if raw is not None else ""
    return ORIGINS.get(s) or s.lower() or "unknown"


def clean_text(raw: str) -> str:
    """Surrounding whitespace stripped, CRLF / CR line ends as `\\n`."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    return raw.strip()


def display_name(first: str, last: str) -> str:
    """The only name the site shows: `First L.`.

    `Anonymous` when either name is `Anonymous` (any case) or both are empty;
    the first name alone when the last name is empty; the last name's initial
    alone (`L.`) when only the last name exists. A "name" holding an e-mail
    address (customers do type one) counts as empty, so it never leaks.
    """
    first = first.strip()
    last = last.strip()
    if "@" in first:
        first = ""
    if "@" in last:
        last = ""
    if first.lower() == "anonymous" or last.lower() == "anonymous":
        return ANONYMOUS
    if not last:
        return first or ANONYMOUS
    initial = last[0].upper() + "."
    return f"{first} {initial}" if first else initial
