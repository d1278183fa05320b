"""The floor of Pelican's writer: N trivial pages through Pelican's own Writer.

A plugin for the benchmark only (PLUGIN_PATHS=["bench/pelican_floor"],
PLUGINS=[..., "bench_floor"], BENCH_FLOOR_PAGES=N). Each page is one tiny
template rendered with the site's context and written by `Writer.write_file`,
so the time is Pelican's own per-page cost (context merge, render, URL
rewriting, the write) with no data behind it.
"""

from __future__ import annotations

from pelican import signals
from pelican.generators import Generator

TEMPLATE = "<!doctype html><title>{{ title }}</title><h1>{{ title }}</h1><p>{{ body }}</p>\n"


class FloorGenerator(Generator):
    def generate_output(self, writer):
        n = int(self.settings.get("BENCH_FLOOR_PAGES", 0))
        template = self.env.from_string(TEMPLATE)
        for k in range(n):
            writer.write_file(
                f"floor/{k}/index.html",
                template,
                self.context,
                title=f"Page {k}",
                body="Trivial page.",
            )


def get_generators(_pelican):
    return FloorGenerator


def register():
    signals.get_generators.connect(get_generators)
