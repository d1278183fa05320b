"""Where a collection's review files are on disk: discovery only, no reading.

See `layout.py` for what goes where. Nothing under the snapshot may be a symbolic
link: a pull request could otherwise point a folder anywhere and make a sync read
or write outside the snapshot.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import StoreError
from .layout import REVIEWS_DIR, joined_len


def refuse_links(stop: Path, path: Path) -> None:
    """StoreError when `path` or a folder between `stop` and it is a symbolic link."""
    p = path
    while p != stop and stop in p.parents:
        if p.is_symlink():
            raise StoreError(
                f"snapshot path {p} is a symbolic link; the snapshot holds only plain files "
                "and folders (nothing is read or written through a link): replace it"
            )
        p = p.parent


def _visible(p: Path) -> bool:
    return not p.name.startswith(".")


class CollectionFiles:
    """The review files of one collection folder, `<root>/<kind>/<website_id>`."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.dir = folder
        self.reviews = folder / REVIEWS_DIR
        refuse_links(root, folder)
        if self.reviews.is_symlink():
            refuse_links(root, self.reviews)

    def month_file(self, month: str) -> Path:
        return self.reviews / f"{month}.json"

    def is_split(self, month: str) -> bool:
        """The month is held as day files only."""
        return not self.month_file(month).exists() and (self.reviews / month).is_dir()

    def month_paths(self, month: str) -> list[Path]:
        """Every file of a month: its month file, its day files, or both after a crash."""
        out = [self.month_file(month)] if self.month_file(month).is_file() else []
        split = self.reviews / month
        if split.is_dir():
            out.extend(sorted(p for p in split.rglob("*.json") if _visible(p)))
        return self._checked(out)

    def day_paths(self, month: str, day: str) -> list[Path]:
        split = self.reviews / month
        out = [split / f"{day}.json"] if (split / f"{day}.json").is_file() else []
        if (split / day).is_dir():
            out.extend(sorted(p for p in (split / day).glob("*.json") if _visible(p)))
        return self._checked(out)

    def days_on_disk(self, month: str) -> set[str]:
        split = self.reviews / month
        if not split.is_dir():
            return set()
        return {
            p.name if p.is_dir() else p.stem
            for p in split.iterdir()
            if _visible(p) and (p.is_dir() or p.suffix == ".json")
        }

    def months_on_disk(self) -> set[str]:
        if not self.reviews.is_dir():
            return set()
        return {
            p.name if p.is_dir() else p.stem
            for p in self.reviews.iterdir()
            if _visible(p) and (p.is_dir() or p.suffix == ".json")
        }

    def disk_len(self, month: str, day: str) -> int:
        """The length a day's records have as one file, from its files' sizes."""
        return joined_len([p.stat().st_size for p in self.day_paths(month, day)])

    def _checked(self, paths: list[Path]) -> list[Path]:
        for p in paths:
            refuse_links(self.root, p)
        return paths
