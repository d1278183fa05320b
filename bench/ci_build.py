"""Pelican as the nightly CI runs it, for the bench's nightly section.

CI runs `pelican content -s publishconf.py`, which prints warnings only. The
bench needs the plugin's own INFO lines (how many units it rendered and kept,
and the time it spent rendering), so it turns INFO on for the `review_feed`
loggers alone. Pelican's `-v` would turn it on for everything, and Pelican's
line for each file written costs the console about half a millisecond: some
85 s of a cold build at a million reviews that no CI build pays.

    python bench/ci_build.py content -s publishconf.py -o OUTPUT
"""

from __future__ import annotations

import logging
import sys

from pelican import main

if __name__ == "__main__":
    logging.getLogger("review_feed").setLevel(logging.INFO)
    main(sys.argv[1:])
