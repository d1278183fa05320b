"""The feed layer: read one vendor file, yield normalised rows. Pure: no I/O but the file.

    from review_feed.feed import FeedOptions, read_feed
    for item in read_feed(path, feed_name, FeedOptions(field_map={...})):
        ...  # Row | RowProblem | VendorAverage, in file order

See docs/feed-formats.md for the formats and rules.
"""

from .lines import Span
from .options import FeedOptions
from .reader import read_feed

__all__ = ["FeedOptions", "Span", "read_feed"]
