"""The local preview server: Pelican's dev server, plus what a shop page needs to try
the widgets against it before anything is deployed.

- `Access-Control-Allow-Origin: *` on the widget files: the loader fetches them
  from another origin (the shop page), and the widgets are public anyway;
- a real 404 for a missing file (Pelican's handler sends an empty reply).
"""

from __future__ import annotations

from pathlib import Path

from pelican.server import ComplexHTTPRequestHandler, RootedHTTPServer


class PreviewServer(RootedHTTPServer):
    allow_reuse_address = True


def widget_handler(widget_dir: str) -> type[ComplexHTTPRequestHandler]:
    """Pelican's request handler, with CORS on `widget_dir` and 404s for missing files."""
    prefix = "/" + widget_dir.strip("/") + "/"

    class Handler(ComplexHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.get_path_that_exists(self.path.split("?", 1)[0]) is None:
                self.send_error(404, "Not found")
                return
            super().do_GET()

        def end_headers(self) -> None:
            if self.path.startswith(prefix):
                self.send_header("Access-Control-Allow-Origin", "*")
            super().end_headers()

    return Handler


def preview_server(output: str | Path, host: str, port: int, widget_dir: str) -> PreviewServer:
    """A server for `output` bound to (host, port); raises OSError when it cannot bind."""
    return PreviewServer(str(output), (host, port), widget_handler(widget_dir))
