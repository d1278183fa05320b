"""Print the widget files' sizes, raw and gzipped: `python tests/browser/measure_sizes.py [OUTPUT]`.

Without an argument it measures widgets written for five realistic product
reviews (REVIEW_FEED_WIDGET_COUNT=5, the default), as docs/widgets.md reports; with
a Pelican output folder it measures that build's widget files.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def sizes(root: Path) -> list[tuple[str, int, int]]:
    rows = []
    for p in sorted((root / "widgets").rglob("*")):
        if p.is_file():
            b = p.read_bytes()
            rows.append((p.relative_to(root).as_posix(), len(b), len(gzip.compress(b, 9, mtime=0))))
    return rows


def main() -> None:
    if len(sys.argv) > 1:
        root = Path(sys.argv[1])
    else:
        from review_feed.settings import load_settings
        from review_feed.site.widgets import write_widgets
        from test_widget_files import data_of, five_reviews

        root = Path(tempfile.mkdtemp())
        write_widgets(
            root,
            data_of(five_reviews()),
            load_settings({}, {}),
            siteurl="https://reviews.example.com",
            brand_name="Maison Lumière",
        )
    print(f"{'file':76} {'raw':>7} {'gzip -9':>8}")
    for name, raw, gz in sizes(root):
        print(f"{name:76} {raw:7d} {gz:8d}")


if __name__ == "__main__":
    main()
