"""XML feed files: every `review` element wherever it is, streamed in constant memory."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from ..errors import FeedFileError
from ..model import Row, RowProblem
from .build import BUILD_FIELDS, Context, build_row

_CHUNK = 1 << 16
_WHERE_SUFFIX = re.compile(r",? line \d+, column \d+\.?$")
_ROOT = re.compile(rb"<(?:[^\s/>:]+:)?([^\s/>:]+)")

_TEXT_FIELDS = BUILD_FIELDS[:-1]  # the values of child elements; replies come apart


def _local(tag: str) -> str:
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def _text(el) -> str:
    if len(el):
        return "".join(el.itertext())
    return el.text or ""


def _syntax_error(exc: etree.XMLSyntaxError, path: Path, file: str, count: int) -> FeedFileError:
    line, col, msg = exc.lineno, (exc.position or (0, 0))[1], exc.msg or str(exc)
    if not line:
        # at the end the parser may report a generic error at line 0; the real one is in
        # the error log, which is shared across parses: this file's first fatal one
        log = getattr(exc, "error_log", None) or ()
        fatal = [e for e in log if e.level_name == "FATAL" and e.filename == str(path)]
        if fatal:
            line, col, msg = fatal[0].line, fatal[0].column, fatal[0].message
    msg = _WHERE_SUFFIX.sub("", str(msg).strip()).rstrip(".")
    if not line and path.stat().st_size == 0:
        msg = "the file is empty"
    return FeedFileError(
        f"{file}: line {line or 1}, column {col}: not well-formed XML ({msg}) "
        f"after review #{count}; the file is rejected"
    )


def _check_prolog(path: Path, file: str) -> str | None:
    """Refuse a DOCTYPE (hence any entity or DTD) before the parser sees it.

    Walks the prolog (XML declaration, comments, processing instructions) up
    to the root element, reading in chunks and keeping only what is unread;
    the parsed document's info is checked again as a second guard. Returns the
    root element's local name (None when there is none to read).
    """
    with path.open("rb") as fh:
        buf = fh.read(_CHUNK)
        if buf.startswith(b"\xef\xbb\xbf"):
            buf = buf[3:]
        lines_before = 0  # line breaks in the part of the prolog already dropped
        pos = 0
        while True:
            while pos < len(buf) and buf[pos] in b" \t\r\n":
                pos += 1
            if len(buf) - pos < 9:  # room for "<!DOCTYPE"
                more = fh.read(_CHUNK)
                if more:
                    lines_before += buf.count(b"\n", 0, pos)
                    buf, pos = buf[pos:] + more, 0
                    continue
            if buf.startswith(b"<?", pos) or buf.startswith(b"<!--", pos):
                end_mark = b"?>" if buf[pos + 1 : pos + 2] == b"?" else b"-->"
                end = buf.find(end_mark, pos + 2)
                while end < 0:
                    more = fh.read(_CHUNK)
                    if not more:
                        return None  # unterminated: the parser reports it
                    keep = max(pos, len(buf) - len(end_mark))
                    lines_before += buf.count(b"\n", 0, keep)
                    buf, pos = buf[keep:] + more, 0
                    end = buf.find(end_mark)
                pos = end + len(end_mark)
                continue
            if buf.startswith(b"<!", pos):
                line = lines_before + buf.count(b"\n", 0, pos) + 1
                word = buf[pos + 2 : pos + 9].decode("ascii", "replace")
                raise FeedFileError(
                    f"{file}: line {line}: a <!{word}...> declaration; a feed never needs one "
                    "(DTDs and entities are refused), the file is rejected"
                )
            # the root element (or garbage the parser reports): its name without prefix
            name = _ROOT.match(buf, pos)
            return name[1].decode("utf-8", "replace") if name else None


def _refuse_dtd(doc, file: str) -> None:
    info = doc.docinfo
    if info.doctype or info.internalDTD is not None or info.system_url or info.public_id:
        raise FeedFileError(
            f"{file}: a <!DOCTYPE> declaration; a feed never needs one "
            "(entities and DTDs are refused), the file is rejected"
        )


def read_xml(
    path: Path, ctx: Context, table: dict[str, tuple[str, int]]
) -> Iterator[Row | RowProblem]:
    """Every `review` element wherever it is (not one inside another: that is its text).

    The file is fed to the parser in chunks; after each, every element done with is
    dropped (each review once read, and whatever else the file holds around them), so
    memory stays that of a chunk and one review, whatever the file's shape.
    """
    file = ctx.file
    try:
        root_name = _check_prolog(path, file)
    except OSError as exc:
        raise FeedFileError(f"{file}: cannot read {path}: {exc.strerror or exc}") from None
    # events: the root's start (to hold the tree), each review's start and end
    tags = ["{*}review"] + ([f"{{*}}{root_name}"] if root_name else [])
    parser = etree.XMLPullParser(
        events=("start", "end"),
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
        base_url=str(path),  # names the file in the error log
    )
    reading = _Reading(ctx, table)
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                parser.feed(chunk)
                yield from reading.events(parser.read_events())
                reading.prune()
            root = parser.close()
            yield from reading.events(parser.read_events())
        _refuse_dtd(root.getroottree(), file)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, path, file, reading.count) from None
    except OSError as exc:
        raise FeedFileError(f"{file}: cannot read {path}: {exc.strerror or exc}") from None


class _Reading:
    """The reviews of one file as its parser's events come, and the tree kept small."""

    def __init__(self, ctx: Context, table: dict[str, tuple[str, int]]) -> None:
        self.ctx = ctx
        self.table = table
        self.root = None
        self.count = 0
        self.reviews: dict[str, bool] = {}  # tag as written -> is it a review
        self.slots: dict[str, tuple[int, int] | None] = {}  # tag as written -> slot

    def is_review(self, tag) -> bool:
        got = self.reviews.get(tag)
        if got is None:
            got = self.reviews[tag] = tag.__class__ is str and _local(tag) == "review"
        return got

    def events(self, events) -> Iterator[Row | RowProblem]:
        for event, elem in events:
            if self.root is None:
                self.root = elem.getroottree().getroot()
                _refuse_dtd(elem.getroottree(), self.ctx.file)
            if event != "end" or not self.is_review(elem.tag):
                continue
            parent = elem.getparent()
            if parent is not None and self.is_review(parent.tag):
                continue  # the review text inside a review record
            self.count += 1
            where = f"review #{self.count} (line {elem.sourceline})"
            yield _record(elem, self.ctx, self.table, where, self.slots)
            elem.clear(keep_tail=False)

    def prune(self) -> None:
        """Drop every finished element: along the path of open elements from the root, all
        but the last child at each level (inside an open review, nothing: it is not read)."""
        node = self.root
        while node is not None and len(node) and not self.is_review(node.tag):
            if len(node) > 1:
                del node[:-1]
            node = node[-1]


_MODERATION = len(_TEXT_FIELDS)


def _slot_of(name: str, table, cache: dict) -> tuple[int, int] | None:
    """A tag or attribute name as written -> (position in the values, rank); cached per file."""
    hit = table.get(_local(name).lower())
    if hit is None:
        slot = None
    else:
        canon, rank = hit
        slot = (_MODERATION if canon == "moderation" else _INDEX.get(canon, -1), rank)
        if slot[0] < 0:
            slot = None  # a field the builder does not take (email)
    cache[name] = slot
    return slot


_INDEX = {f: i for i, f in enumerate(_TEXT_FIELDS)}
_MISS = object()
_NO_RANK = (9,) * len(_TEXT_FIELDS)


def _record(elem, ctx: Context, table, where: str, cache: dict) -> Row | RowProblem:
    """One review element's values (the best-ranked name of each field) -> build_row."""
    raw: list = [""] * len(_TEXT_FIELDS)
    best = list(_NO_RANK)
    moderation = None
    named = [(k, v) for k, v in elem.items()]  # attributes, then child elements
    named += [(c.tag, c) for c in elem if c.tag.__class__ is str]  # not entity references
    for name, value in named:
        slot = cache.get(name, _MISS)
        if slot is _MISS:
            slot = _slot_of(name, table, cache)
        if slot is None:
            continue
        i, rank = slot
        if i == _MODERATION:
            if value.__class__ is not str:
                moderation = value
        elif rank < best[i]:
            best[i] = rank
            raw[i] = value if value.__class__ is str else _text(value)
    raw.append(_exchanges(moderation) if moderation is not None else [])
    return build_row(ctx, raw, where)


def _exchanges(moderation) -> list[tuple]:
    """`<moderation><exchange date=.. author=..><comment>..` -> (date, origin, comment)."""
    out = []
    for ex in moderation:
        if ex.tag.__class__ is not str:
            continue
        item = {_local(k).lower(): v for k, v in ex.attrib.items()}
        for c in ex:
            if c.tag.__class__ is str:
                item[_local(c.tag).lower()] = _text(c)
        comment = item.get("comment", item.get("text", item.get("message", "")))
        out.append((item.get("date"), item.get("author", item.get("origin")), comment))
    return out
