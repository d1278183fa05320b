"""The incremental build's units and its manifest (see `incremental.py` for what a
fingerprint covers and why the manifest is trusted for nothing).

A unit is a part of the output rendered as one: the brand's or a product's main
page and widget, one archive page of a list, one page of the products index,
the shared files. A list's main unit heads a group: its own fingerprint covers
what its main page and widget show, and the group's covers everything the list
is rendered from, so a list the night left alone keeps its main page and all
its archive pages at the cost of one fingerprint, without building its pages.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from .incremental import FORMAT, MANIFEST_NAME, digest, file_stat, regular_file, safe_name


def archive_name(suffix: str, number: int) -> str:
    """The unit of a list's archive page: "archive:N" for the brand's, "archive:N:REF"
    for a product's (never the name of another unit, whatever the ref)."""
    return f"archive:{number}{suffix}"


def index_name(number: int) -> str:
    """The unit of page `number` of the products index: "index", then "index:N"."""
    return "index" if number == 1 else f"index:{number}"


@dataclass(slots=True)
class Unit:
    fingerprint: str
    files: dict[str, int]  # output-relative name -> size
    pages: list[tuple[str, str]] = field(default_factory=list)  # (save_as, url) of its pages
    # a group's head: the fingerprint of everything the group is rendered from, and
    # how many member units it has (a list's archive pages)
    group: str = ""
    members: int = 0


def read_manifest(root: Path, key: str) -> tuple[dict[str, Unit] | None, str]:
    """Yesterday's units, or None and why a full build is needed."""
    path = root / MANIFEST_NAME
    if regular_file(root, MANIFEST_NAME) is None:
        return None, "no manifest"
    try:
        doc = orjson.loads(path.read_bytes())
        body, checksum = doc["body"], doc["checksum"]
        if checksum != hashlib.sha256(canonical(body)).hexdigest():
            return None, "the manifest was altered"
        if body["format"] != FORMAT or body["key"] != key:
            return None, "the templates, settings, theme layout or plugin version changed"
        units = {str(n): parse_unit(u) for n, u in body["units"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None, "the manifest is unreadable"
    return units, ""


def parse_unit(raw: Any) -> Unit:
    files = {str(k): int(v) for k, v in raw["files"].items()}
    if not all(safe_name(n) for n in files):
        raise ValueError("a file name leaves the output folder")
    pages = [(str(s), str(u)) for s, u in raw["pages"]]
    group, members = raw.get("group") or ("", 0)
    return Unit(str(raw["fingerprint"]), files, pages, str(group), int(members))


def canonical(body: Any) -> bytes:
    """The bytes the checksum is of: compact JSON, keys sorted (orjson: a 30 MB manifest
    is checked in a tenth of a second, not two)."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def unit_entry(u: Unit) -> dict[str, Any]:
    entry: dict[str, Any] = {"fingerprint": u.fingerprint, "files": u.files, "pages": u.pages}
    if u.group:
        entry["group"] = [u.group, u.members]
    return entry


def write_manifest(root: Path, key: str, units: Mapping[str, Unit]) -> None:
    body = {
        "format": FORMAT,
        "key": key,
        "units": {name: unit_entry(u) for name, u in units.items()},
    }
    doc = {"body": body, "checksum": hashlib.sha256(canonical(body)).hexdigest()}
    path = root / MANIFEST_NAME
    if path.is_symlink():
        path.unlink()
    tmp = root / (MANIFEST_NAME + ".tmp")
    tmp.write_bytes(orjson.dumps(doc))
    os.replace(tmp, path)


def remove_file(root: Path, name: str) -> bool:
    """Remove `root/name` if it is a regular file reached through no symlink, then its
    parent folders left empty (up to `root`)."""
    if not safe_name(name) or regular_file(root, name) is None:
        return False
    (root / name).unlink()
    parent = posixpath.dirname(name)
    while parent:
        try:
            (root / parent).rmdir()  # only when empty
        except OSError:
            break
        parent = posixpath.dirname(parent)
    return True


def clear_names(root: Path, names: Iterable[str]) -> None:
    """What Pelican's DELETE_OUTPUT_DIRECTORY would have removed: our top-level names."""
    for name in names:
        path = root / name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


@dataclass(slots=True)
class IncrementalBuild:
    """One build's units: `run` each (rendered or kept), then `finish`."""

    root: Path
    key: str
    previous: dict[str, Unit] | None
    units: dict[str, Unit] = field(default_factory=dict)
    rendered: int = 0
    kept: int = 0
    kept_products: int = 0
    rendered_products: int = 0
    kept_archive: int = 0  # archive pages ("archive:..." units)
    rendered_archive: int = 0
    render_seconds: float = 0.0  # spent rendering and writing units (what a night costs)

    @classmethod
    def start(
        cls, root: str | Path, key: str, *, clear: Iterable[str] = ()
    ) -> tuple[IncrementalBuild, str]:
        """Read the manifest; on a full build remove `clear` (our top-level names) first."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        previous, why = read_manifest(root, key)
        if previous is None:
            clear_names(root, [n for n in clear if n != MANIFEST_NAME])
        # Until `finish` writes the new one there is none: a build that stops half-way
        # leaves files no manifest lists, so the next build is a full one.
        manifest = root / MANIFEST_NAME
        if manifest.is_symlink() or manifest.is_file():
            manifest.unlink()
        return cls(root, key, previous), why

    def run(
        self,
        name: str,
        data_fingerprint: str,
        render: Callable[[], list[str]],
        pages: Callable[[], list[tuple[str, str]]],
        group: tuple[str, int] | None = None,
    ) -> tuple[Unit, bool]:
        """Keep the unit's files when its fingerprint and files are as recorded, else
        call `render` (it returns the names written; `pages` then gives its pages).
        `group`: the unit heads one, (what it is all rendered from, its member count).
        Returns the unit and whether it was kept."""
        fingerprint = digest(self.key, data_fingerprint)
        old = (self.previous or {}).get(name)
        head = {"group": digest(self.key, group[0]), "members": group[1]} if group else {}
        if old is not None and old.fingerprint == fingerprint and self.intact(old):
            unit = replace(old, **head)
            self.count(name, unit, kept=True)
            return unit, True
        started = time.perf_counter()
        written = render()
        self.render_seconds += time.perf_counter() - started
        files = {}
        for n in written:
            st = file_stat(os.path.join(self.root, n))
            files[n] = st.st_size if st is not None else -1
        unit = Unit(fingerprint, files, pages(), **head)
        self.count(name, unit, kept=False)
        return unit, False

    def keep_group(self, name: str, whole: str, member: Callable[[int], str]) -> list[Unit] | None:
        """Keep the group headed by unit `name` as recorded, its head and its members
        (`member(1)`, `member(2)`, ...), when what it is all rendered from (`whole`)
        is unchanged and every file is there; then none of them is fingerprinted,
        rendered or written. None otherwise: the caller runs each unit."""
        old = (self.previous or {}).get(name)
        if old is None or not old.group or old.group != digest(self.key, whole):
            return None
        names = [name, *(member(k) for k in range(1, old.members + 1))]
        units = [(self.previous or {}).get(n) for n in names]
        kept = [u for u in units if u is not None and self.intact(u)]
        if len(kept) != len(names):
            return None
        for n, u in zip(names, kept, strict=True):
            self.count(n, u, kept=True)
        return kept

    def count(self, name: str, unit: Unit, *, kept: bool) -> None:
        """Record the unit as this build's and count it."""
        self.units[name] = unit
        product = name.startswith("product:")
        archive = name.startswith("archive:")
        if kept:
            self.kept += 1
            self.kept_products += product
            self.kept_archive += archive
        else:
            self.rendered += 1
            self.rendered_products += product
            self.rendered_archive += archive

    def intact(self, unit: Unit) -> bool:
        """Every file of the unit there at its recorded size (one lstat each: this only
        decides whether to render; nothing is removed or written because of it)."""
        for name, size in unit.files.items():
            st = file_stat(os.path.join(self.root, name))
            if st is None or st.st_size != size:
                return False
        return True

    def finish(self) -> int:
        """Remove the files no unit wrote this time; write the manifest. Returns how
        many files were removed."""
        now = {n for u in self.units.values() for n in u.files}
        removed = 0
        for unit in (self.previous or {}).values():
            for name in unit.files:
                if name not in now and remove_file(self.root, name):
                    removed += 1
        write_manifest(self.root, self.key, self.units)
        return removed
