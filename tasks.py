"""Tasks for the review-feed site: `invoke --list`, `invoke <task> --help`.

Shaped as Pelican's quickstart generates tasks.py; every task is a short call
into Pelican, the `review-feed` command or the `review_feed` package, so each
one can also be done by hand (docs/runbook.md shows how).
Arguments after `--` go to Pelican (build tasks), pytest (`test`) or the
benchmark script (`bench`): `invoke build -- -e SITEURL='"http://x"'`.
"""

import os
import shlex
import shutil
import sys
from pathlib import Path

from invoke import task
from invoke.main import program

HERE = Path(__file__).resolve().parent

CONFIG = {
    "settings_base": "pelicanconf.py",
    "settings_publish": "publishconf.py",
    # Host and port for `serve`, `reserve`, `livereload`, `demo` (`--port 0`: any free port)
    "host": "127.0.0.1",
    "port": 8000,
    # The bundled sample feed, and where `demo` keeps the snapshot it builds from it
    # (apart from data/reviews/, so the demo never touches your real snapshot)
    "sample_feed": "sample-feed",
    "demo_snapshot": ".cache/demo/reviews",
}


def _settings(settings_file=None):
    """Pelican's settings as the build sees them (read on use, not at import: `invoke test`
    and `invoke --list` work even while pelicanconf.py is broken)."""
    from pelican.settings import read_settings

    os.chdir(HERE)  # relative paths in the settings (output/, data/reviews) start here
    return read_settings(str(HERE / (settings_file or CONFIG["settings_base"])))


def _feed_settings(settings_file=None):
    from review_feed.settings import load_settings

    return load_settings(_settings(settings_file), os.environ)


def _remainder():
    return program.core.remainder if program.core else ""


def pelican_run(cmd):
    """Pelican's own command line, in this process, from the site's folder (as the quickstart)."""
    from pelican import main as pelican_main

    os.chdir(HERE)
    pelican_main([*shlex.split(cmd), *shlex.split(_remainder())])


def _no_sync():
    # Preview tasks never reach the network, whatever pelicanconf says (env wins).
    os.environ["REVIEW_FEED_SYNC"] = "false"


@task
def clean(c):
    """Remove generated files (the output folder)"""
    out = Path(_settings()["OUTPUT_PATH"])
    if out.is_dir():
        shutil.rmtree(out)
        out.mkdir(parents=True)


@task(
    iterable=["website_id"],
    help={
        "source": "folder or sftp://, ftp://, ftps:// URL (default: REVIEW_FEED_SOURCE)",
        "snapshot": "snapshot folder (default: REVIEW_FEED_SNAPSHOT, data/reviews)",
        "website_id": "only this website id (repeatable)",
        "strict": "any rejected row fails the run",
        "dry_run": "read and report, change nothing",
        "full": "a full file: the complete truth (reviews absent from it are removed)",
    },
)
def sync(c, source=None, snapshot=None, website_id=None, strict=False, dry_run=False, full=None):
    """Pull the new feed files and apply them to the snapshot (`review-feed sync`)"""
    from review_feed.cli import main as review_feed

    argv = ["sync"]
    for flag, value in (("--source", source), ("--snapshot", snapshot), ("--full", full)):
        if value:
            argv += [flag, value]
    for wid in website_id or ():
        argv += ["--website-id", wid]
    argv += ["--strict"] * strict + ["--dry-run"] * dry_run
    os.chdir(HERE)
    sys.exit(review_feed(argv))


@task
def build(c):
    """Build the local version of the site (no sync unless REVIEW_FEED_SYNC is on)"""
    pelican_run("-s {settings_base}".format(**CONFIG))


@task
def rebuild(c):
    """`build` with the delete switch (empty the output folder first)"""
    pelican_run("-d -s {settings_base}".format(**CONFIG))


@task
def regenerate(c):
    """Regenerate the site upon file modification (Pelican's autoreload; never syncs)"""
    _no_sync()
    pelican_run("-r -s {settings_base}".format(**CONFIG))


@task(help={"host": "address to bind (default 127.0.0.1)", "port": "port (0: any free port)"})
def serve(c, host=None, port=None):
    """Serve the output folder at http://127.0.0.1:8000/ (widgets/ with CORS, for the loader)"""
    from review_feed.site.devserver import preview_server

    out = _settings()["OUTPUT_PATH"]
    address = (host or CONFIG["host"], CONFIG["port"] if port is None else int(port))
    try:
        server = preview_server(out, *address, _feed_settings().widget_dir)
    except OSError as exc:
        sys.exit(
            f"cannot serve on {address[0]}:{address[1]} ({exc.strerror or exc}): "
            "pick another port with --port N (--port 0: any free port)"
        )
    bound_host, bound_port = server.server_address[:2]
    print(f"Serving {out} at http://{bound_host}:{bound_port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@task(help={"host": "address to bind", "port": "port (0: any free port)"})
def reserve(c, host=None, port=None):
    """`build`, then `serve`"""
    build(c)
    serve(c, host=host, port=port)


@task(help={"host": "address to bind", "port": "port (default 8000)"})
def livereload(c, host=None, port=None):
    """Serve, rebuild and reload the browser when content, theme, settings or snapshot change

    Never syncs: a new night's files come in with `invoke sync` (the rebuild follows).
    Needs the `livereload` package (`pip install -e '.[dev]'`).
    """
    try:
        from livereload import Server
    except ImportError:
        sys.exit("invoke livereload needs the livereload package: pip install livereload")
    import review_feed

    _no_sync()
    settings = _settings()
    feed = _feed_settings()
    snapshot = feed.path(feed.snapshot, HERE)
    plugin_site = Path(review_feed.__file__).parent / "site"

    def rebuild_site():
        try:
            pelican_run("-s {settings_base}".format(**CONFIG))
        except SystemExit as exc:  # a broken template while editing: say so, keep serving
            if exc.code:
                print(f"build failed (exit {exc.code}); waiting for the next change", flush=True)

    rebuild_site()
    server = Server()
    theme = settings["THEME"]
    for glob in (
        str(HERE / CONFIG["settings_base"]),
        f"{theme}/templates/**/*.html",
        f"{theme}/static/**/*",
        f"{settings['PATH']}/**/*",
        f"{snapshot}/**/*.json",
        f"{snapshot}/*.json",
        f"{plugin_site}/templates/**/*.html",  # the plugin's own templates and widget assets
        f"{plugin_site}/widget_assets/**/*",
    ):
        server.watch(glob, rebuild_site)
    port = CONFIG["port"] if port is None else int(port)
    print(f"Live-reloading at http://{host or CONFIG['host']}:{port}/ (Ctrl-C to stop)", flush=True)
    server.serve(host=host or CONFIG["host"], port=port, root=settings["OUTPUT_PATH"])


@task
def preview(c):
    """Build the production version of the site (publish settings)"""
    pelican_run("-s {settings_publish}".format(**CONFIG))


@task
def publish(c):
    """Clean production build into the output folder, ready to deploy (CI uploads it to Pages)"""
    pelican_run("-d -s {settings_publish} --fatal errors".format(**CONFIG))


@task(help={"full": "a full file: resync from it (reviews absent from it are removed)"})
def nightly(c, full=None):
    """Sync, publish build, then commit the snapshot if and only if it changed"""
    from review_feed.cli import main as review_feed

    argv = ["nightly", "--settings", CONFIG["settings_publish"]]
    argv += ["--full", full] if full else []
    os.chdir(HERE)
    sys.exit(review_feed(argv))


@task(
    help={
        "no_serve": "build only (for scripts and tests)",
        "host": "address to bind",
        "port": "port (0: any free port)",
    }
)
def demo(c, no_serve=False, host=None, port=None):
    """Build the demo site from the bundled sample feed and serve it (offline)"""
    from review_feed.cli import main as review_feed

    os.chdir(HERE)
    snapshot = HERE / CONFIG["demo_snapshot"]
    shutil.rmtree(snapshot, ignore_errors=True)  # from scratch: always the sample's own state
    code = review_feed(["sync", "--source", CONFIG["sample_feed"], "--snapshot", str(snapshot)])
    if code:
        sys.exit(code)
    os.environ["REVIEW_FEED_SNAPSHOT"] = str(snapshot)
    _no_sync()
    pelican_run("-d -s {settings_base}".format(**CONFIG))
    if no_serve:
        print(f"Demo built in {_settings()['OUTPUT_PATH']} (serve it with `invoke serve`)")
    else:
        serve(c, host=host, port=port)


@task
def test(c):
    """Run the test suite, as the README and CI do: python -m pytest"""
    os.chdir(HERE)
    c.run(f"{shlex.quote(sys.executable)} -m pytest {_remainder()}", pty=False)


@task(
    help={
        "reviews": "reviews in the full load (default 1,000,000)",
        "products": "products (default: reviews / 20)",
        "delta": "rows of the nightly delta (default 5,000)",
        "out": "JSON results file (default bench/results/bench.json)",
    }
)
def bench(c, reviews=None, products=None, delta=None, out=None):
    """Measure sync and build speed on generated feeds (bench/run.py; extra args after --)"""
    os.chdir(HERE)
    args = [sys.executable, "bench/run.py"]
    for flag, value in (("--reviews", reviews), ("--products", products), ("--delta", delta)):
        if value:
            args += [flag, str(value)]
    if out:
        args += ["--out", out]
    c.run(shlex.join(args) + " " + _remainder(), pty=False)
