"""Canonical JSON bytes and crash-safe file replacement.

Canonical means: orjson, sorted keys, UTF-8 unescaped, one item per line, a
trailing newline. The same content always gives the same bytes, so `git diff`
shows exactly the items that changed and an unchanged file is never rewritten.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from ..errors import StoreError

_SORT = orjson.OPT_SORT_KEYS
TEMP_SUFFIX = ".tmp"
# a temp file that is a symbolic link (planted in a pull request) is an error, never followed
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW


def render_lines(lines: list[bytes]) -> bytes:
    """Records already encoded as lines, as one JSON array: `[`, one per line, `]`."""
    if not lines:
        return b"[]\n"
    return b"[\n" + b",\n".join(lines) + b"\n]\n"


def render_list(items: Iterable[Any]) -> bytes:
    """A JSON array, one compact item per line: `[`, `{...},`, ..., `{...}`, `]`."""
    lines = [orjson.dumps(item, option=_SORT) for item in items]
    if not lines:
        return b"[]\n"
    return b"[\n" + b",\n".join(lines) + b"\n]\n"


def render_map(mapping: dict[str, Any]) -> bytes:
    """A JSON object, one `"key": value` per line, keys sorted."""
    if not mapping:
        return b"{}\n"
    return orjson.dumps(mapping, option=_SORT | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def snapshot_bytes(path: Path) -> bytes:
    """A snapshot file's bytes; one that cannot be read is a StoreError naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StoreError(f"cannot read snapshot file {path}: {exc.strerror or exc}") from None


def load(path: Path) -> Any:
    """Parse one snapshot file; a damaged file is a StoreError naming it."""
    data = snapshot_bytes(path)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise StoreError(
            f"snapshot file {path} is not valid JSON ({exc}); restore it from git "
            "(git checkout -- <file>) and run sync again"
        ) from None


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while loading snapshot data: plain lists, dicts and
    strings (no cycles), by the million; collections in between would walk them all again."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMP_SUFFIX}")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_if_changed(path: Path, data: bytes, synced: set[Path] | None = None) -> bool:
    """Write `data` to `path` atomically unless the file already holds exactly it.

    Temp file in the same folder, fsync, rename, fsync the folder: a reader (or a
    crash) sees the old bytes or the new bytes, never a mix. With `synced`, the
    folder is added to it instead, for the caller to fsync once per phase.
    """
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    created = not path.parent.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    fd = os.open(tmp, _CREATE, 0o644)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if synced is None:
        fsync_dir(path.parent)
        if created:
            fsync_dir(path.parent.parent)
    else:
        synced.add(path.parent)
        if created:
            synced.add(path.parent.parent)
    return True


_BATCH = 64  # files open at once while their fsyncs run in parallel


def _changed(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() != data
    except FileNotFoundError:
        return True


def write_many(items: dict[Path, bytes], synced: set[Path]) -> int:
    """`replace_if_changed` for many files, with their fsyncs issued in parallel.

    Each file is still durable before it is renamed into place; the fsyncs of
    a batch overlap (threads release the GIL and the filesystem commits them
    together), which on a busy disk is many times faster than one by one.
    Returns how many files were written; their folders are added to `synced`.
    """
    todo = [(p, d) for p, d in sorted(items.items()) if _changed(p, d)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        for start in range(0, len(todo), _BATCH):
            batch = todo[start : start + _BATCH]
            fds = []
            try:
                for path, data in batch:
                    if not path.parent.exists():
                        path.parent.mkdir(parents=True, exist_ok=True)
                        synced.add(path.parent.parent)
                    fd = os.open(temp_path(path), _CREATE, 0o644)
                    fds.append(fd)
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                list(pool.map(os.fsync, fds))
            finally:
                for fd in fds:
                    os.close(fd)
            for path, _data in batch:
                os.replace(temp_path(path), path)
                synced.add(path.parent)
    return len(todo)


def fsync_dirs(folders: set[Path]) -> None:
    """fsync each folder (in parallel), then forget them."""
    existing = [d for d in folders if d.exists()]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(fsync_dir, existing))
    folders.clear()


def remove(path: Path, stop: Path, synced: set[Path] | None = None) -> None:
    """Remove a file, then every folder above it left empty, up to (not including) `stop`.
    With `synced`, the folders to fsync are added to it instead of synced here."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    parent = path.parent
    touched = {parent}
    while parent != stop and stop in parent.parents:
        try:
            parent.rmdir()
        except OSError:  # not empty
            break
        touched.discard(parent)
        parent = parent.parent
        touched.add(parent)
    if synced is None:
        for d in touched:
            fsync_dir(d)
    else:
        synced.update(touched)
