"""XML feed files: every `review` element wherever it is, streamed in constant memory."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from ..errors import FeedFileError
from ..model import Row, RowProblem
from .build import BUILD_FIELDS, Context, gc_paused

_CHUNK = 1 << 16
_WHERE_SUFFIX = re.compile(r",? line \d+, column \d+\.?$")

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
        # iterparse sometimes reports a generic error at line 0; the real one is in
        # the error log, which is shared across parses: take this file's last one
        log = getattr(exc, "error_log", None) or ()
        mine = [e for e in log if e.level_name == "FATAL" and e.filename == str(path)]
        if mine:
            line, col, msg = mine[-1].line, mine[-1].column, mine[-1].message
    msg = _WHERE_SUFFIX.sub("", str(msg).strip()).rstrip(".")
    if not line and path.stat().st_size == 0:
        msg = "the file is empty"
    return FeedFileError(
        f"{file}: line {line or 1}, column {col}: not well-formed XML ({msg}) "
        f"after review #{count}; the file is rejected"
    )


def _check_prolog(path: Path, file: str) -> None:
    """Refuse a DOCTYPE (hence any entity or DTD) before the parser sees it.

    Walks the prolog (XML declaration, comments, processing instructions) up
    to the root element, reading in chunks and keeping only what is unread;
    the parsed document's info is checked again as a second guard.
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
                        return  # unterminated: the parser reports it
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
            return  # the root element (or garbage the parser reports)


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
    file = ctx.file
    try:
        _check_prolog(path, file)
    except OSError as exc:
        raise FeedFileError(f"{file}: cannot read {path}: {exc.strerror or exc}") from None
    with gc_paused():
        skip = 0
        if ctx.parallel_from is not None:
            from .xmlsplit import read_split

            # A big file is read by two processes (xmlsplit); None once it is all read.
            # Otherwise (a small file, or the split went wrong) this reader goes on
            # alone, from the start, past the records already handed out.
            skip = yield from read_split(path, ctx, table)
            if skip is None:
                return
        yield from records(str(path), path, ctx, table, skip)


def records(
    source, path: Path, ctx: Context, table, skip: int = 0, line_off: int = 0
) -> Iterator[Row | RowProblem]:
    """Every record of `source` (a file name or a binary stream) past the first `skip`.

    In a worker's compact mode a record's place is (count, line + line_off)
    rather than the message text (xmlsplit adds what comes before its part).
    """
    file = ctx.file
    limit = ctx.limit
    compact = ctx.compact
    events = etree.iterparse(
        source,
        events=("end",),
        tag="{*}review",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )
    count = 0
    checked = False
    cache: dict[str, tuple[int, int] | None] = {}  # tag as written -> slot, for this file
    inside: dict[str, bool] = {}  # a parent's tag as written -> is it a review
    try:
        for _, elem in events:
            if not checked:
                _refuse_dtd(elem.getroottree(), file)
                checked = True
            parent = elem.getparent()
            if parent is not None:
                ptag = parent.tag
                inner = inside.get(ptag)
                if inner is None:
                    inner = inside[ptag] = _local(ptag) == "review"
                if inner:
                    continue  # the review text inside a review record
            count += 1
            if count > skip:
                if compact:
                    where = (count, elem.sourceline + line_off)
                else:
                    where = f"review #{count} (line {elem.sourceline})"
                yield _record(elem, ctx, table, where, limit, cache)
            # constant memory: drop the record and everything before it
            elem.clear(keep_tail=False)
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
        root = events.root
        if not checked and root is not None:
            _refuse_dtd(root.getroottree(), file)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, path, file, count) from None
    except OSError as exc:
        raise FeedFileError(f"{file}: cannot read {path}: {exc.strerror or exc}") from None


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


def _record(elem, ctx: Context, table, where: str, limit: int, cache: dict) -> Row | RowProblem:
    raw: list = [""] * len(_TEXT_FIELDS)
    best = list(_NO_RANK)
    moderation = None
    quarter = limit // 4
    for key, value in elem.items():
        slot = cache.get(key, _MISS)
        if slot is _MISS:
            slot = _slot_of(key, table, cache)
        if slot is None:
            continue
        i, rank = slot
        if i == _MODERATION:
            continue
        if rank < best[i]:
            best[i] = rank
            raw[i] = value
    for child in elem:
        tag = child.tag
        if tag.__class__ is not str:
            continue  # an entity reference or other non-element node
        slot = cache.get(tag, _MISS)
        if slot is _MISS:
            slot = _slot_of(tag, table, cache)
        if slot is None:
            continue
        i, rank = slot
        if i == _MODERATION:
            moderation = child
            continue
        if rank < best[i]:
            best[i] = rank
            value = child.text
            if value is None or len(child):
                value = _text(child)
            if len(value) > quarter:
                ctx.check_size(value, where, _TEXT_FIELDS[i])
            raw[i] = value
    replies: tuple | RowProblem = ()
    if moderation is not None and len(moderation):
        triplets = []
        for ex in moderation:
            if ex.tag.__class__ is not str:
                continue
            item = {_local(k).lower(): v for k, v in ex.attrib.items()}
            for c in ex:
                if c.tag.__class__ is str:
                    item[_local(c.tag).lower()] = _text(c)
            comment = item.get("comment", item.get("text", item.get("message", "")))
            if len(comment) > quarter:
                ctx.check_size(comment, where, "moderation/exchange/comment")
            triplets.append((item.get("date"), item.get("author", item.get("origin")), comment))
        replies = ctx.replies(triplets, where, "exchange")
    raw.append(replies)
    return ctx.build(raw, where)
