"""The feed layer: read one vendor file, yield normalised rows. Pure: no I/O but the file.

    from review_feed.feed import FeedOptions, read_feed, read_all
    for item in read_feed(path, feed_name, FeedOptions(field_map={...})):
        ...  # Row | RowProblem | VendorAverage, in file order

See the README ("Feed formats") for the formats and rules.
"""

from .options import FeedOptions
from .reader import ParsedFile, read_all, read_feed, read_lines

__all__ = ["FeedOptions", "ParsedFile", "read_all", "read_feed", "read_lines"]
