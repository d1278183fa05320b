"""Small builders for feed files in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from review_feed.feed import FeedOptions, read_feed
from review_feed.model import Row, RowProblem, VendorAverage
from review_feed.sources.names import parse_name

PRODUCT_HEADER = (
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
    "email",
    "order_ref",
    "moderation",
)
SITE_HEADER = (
    "action",
    "review_id",
    "review_date",
    "order_date",
    "rate",
    "review",
    "firstname",
    "lastname",
    "email",
    "order_ref",
    "moderation",
)


@dataclass
class ParsedFile:
    """A whole file read: valid rows in file order, rejected rows, vendor averages."""

    rows: list[Row] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    averages: list[VendorAverage] = field(default_factory=list)


def read_all(path: Path, name, options: FeedOptions | None = None) -> ParsedFile:
    out = ParsedFile()
    for item in read_feed(path, name, options):
        if isinstance(item, Row):
            out.rows.append(item)
        elif isinstance(item, RowProblem):
            out.problems.append(item)
        else:
            out.averages.append(item)
    return out


def tsv(*rows, end: str = "\n") -> str:
    return "".join("\t".join(r) + end for r in rows)


def product_row(**over: str) -> tuple[str, ...]:
    base = {
        "action": "NEW",
        "review_id": "R1",
        "product_review_id": "PR1",
        "product_ref": "SKU-1",
        "product_name": "Sencha",
        "review_date": "2026-11-19 18:04:11",
        "order_date": "",
        "rate": "4",
        "review": "Très bon.",
        "firstname": "Eva",
        "lastname": "Garnier",
        "email": "eva.garnier@example.fr",
        "order_ref": "CMD-1",
        "moderation": "",
    }
    base.update(over)
    return tuple(base[h] for h in PRODUCT_HEADER)


def site_row(**over: str) -> tuple[str, ...]:
    base = dict(zip(PRODUCT_HEADER, product_row(), strict=True))
    base.update(over)
    return tuple(base[h] for h in SITE_HEADER)


def name_for(kind: str = "product", ext: str = "csv", date: str = "2026-11-20"):
    name = parse_name(f"reviews_{kind}_acme-7f3a_{date}.{ext}")
    assert name is not None
    return name


def write(tmp_path: Path, content: str | bytes, kind: str = "product", ext: str = "csv"):
    name = name_for(kind, ext)
    path = tmp_path / name.name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path, name


def parse(
    tmp_path: Path,
    content: str | bytes,
    kind: str = "product",
    ext: str = "csv",
    options: FeedOptions | None = None,
) -> ParsedFile:
    path, name = write(tmp_path, content, kind, ext)
    return read_all(path, name, options)


def stream(tmp_path: Path, content: str | bytes, kind: str = "product", ext: str = "csv", **kw):
    path, name = write(tmp_path, content, kind, ext)
    return read_feed(path, name, FeedOptions(**kw) if kw else None)


def one(parsed: ParsedFile):
    assert parsed.problems == [], [str(p) for p in parsed.problems]
    assert len(parsed.rows) == 1
    return parsed.rows[0].review
