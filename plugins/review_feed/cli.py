"""`review-feed`: sync the feed into the snapshot, show its status, export it.

A thin face over `review_feed.sync` and `review_feed.store`. Settings come
from `pelicanconf.py` in the current folder (or `--settings FILE`), then the
`REVIEW_FEED_*` environment variables, then the flags. Bad input and
unreachable servers give one line and an exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from .errors import ConfigError, ReviewFeedError
from .settings import Settings, load_settings
from .siteconf import read_pelicanconf
from .version import __version__

logger = logging.getLogger("review_feed.cli")

PREFIX = "[review-feed] "
EXIT_CODES = """exit codes:
  0  done (rows may have been rejected: they are listed, never applied)
  1  rows rejected in --strict mode (that file was not applied)
  2  invalid setting, environment variable or flag
  3  a feed file is broken as a whole, or refused by its name or type (not applied,
     retried next run; the other files are applied)
  4  the source could not be listed or read (server down, login refused, host key),
     or a file could not be downloaded or sized
  5  the snapshot cannot be used (damaged file, or a re-sent file that needs a full resync)
  6  another sync holds the snapshot's lock
  8  check-output: the output would be refused by its host (over a documented limit)
"""


def _line(msg: str) -> str:
    msg = str(msg)
    return msg if msg.startswith(PREFIX) else PREFIX + msg


def _out(msg: str) -> None:
    print(_line(msg), flush=True)


def _err(msg: str) -> None:
    print(_line(msg), file=sys.stderr, flush=True)


def _abs(p: str | None) -> str | None:
    """A local path flag made absolute (URLs are left alone)."""
    if p is None or "://" in p:
        return p
    return str(Path(p).expanduser().absolute())


def settings_from(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    if args.settings:
        config = read_pelicanconf(Path(args.settings))
    elif Path("pelicanconf.py").is_file():
        config = read_pelicanconf(Path("pelicanconf.py"))
    else:
        config = {}
    overrides: dict[str, Any] = {
        "source": _abs(getattr(args, "source", None)),
        "snapshot": _abs(args.snapshot),
        "website_ids": tuple(args.website_id) if args.website_id else None,
        "strict": True if getattr(args, "strict", False) else None,
    }
    return load_settings(config, os.environ if environ is None else environ, overrides)


# --- commands ---------------------------------------------------------------------------


def cmd_sync(args: argparse.Namespace) -> int:
    from .sync import run_sync

    settings = settings_from(args)
    full = Path(args.full) if args.full else None
    if full is None and not settings.source:
        raise ConfigError(
            "no source: give --source DIR|URL or set REVIEW_FEED_SOURCE "
            "(in pelicanconf.py or the environment)"
        )
    report = run_sync(settings, dry_run=args.dry_run, full=full)
    for level, line in report.lines():
        if level >= logging.WARNING:
            _err(line)
        elif not args.quiet:
            _out(("would apply " if report.dry_run else "applied ") + line)
    summary = report.summary()
    if report.dry_run:
        summary += " (dry run: nothing written)"
    elif not report.files_written:
        summary += "; snapshot unchanged"
    if not args.quiet or report.exit_code:
        _out(f"{report.snapshot}: {summary}")
    return report.exit_code


def cmd_status(args: argparse.Namespace) -> int:
    from .store import Snapshot

    settings = settings_from(args)
    root = settings.path(settings.snapshot)
    snap = Snapshot(root, read_only=True)
    cols = snap.collections()
    if settings.website_ids:
        cols = [c for c in cols if c[1] in settings.website_ids]
    ledger = snap.ledger
    by_collection: dict[tuple[str, str], list] = {}
    for e in ledger:
        by_collection.setdefault(e.collection, []).append(e)
    if not root.is_dir():
        print(f"snapshot {root}: does not exist yet (review-feed sync creates it)")
    else:
        print(f"snapshot {root}: {len(cols)} collection(s), {len(ledger)} file(s) in the ledger")
    for kind, website_id in cols:
        mine = by_collection.get((kind, website_id), [])
        last = f"last file {mine[-1].name} ({mine[-1].date})" if mine else "no file applied"
        print(
            f"  {kind}/{website_id}: {snap.count(kind, website_id)} reviews, {last}, "
            f"{len(mine)} file(s) applied"
        )
    if not settings.source:
        print("source: not configured (REVIEW_FEED_SOURCE or --source)")
        return 0
    return _status_source(settings, snap)


def _status_source(settings: Settings, snap: Any) -> int:
    """The source's files a sync would act on (pending), without downloading any."""
    from .checksums import checksum_cache
    from .plan import Decision
    from .sources import open_source
    from .sync import plan_files

    with open_source(settings) as source:
        remotes = source.list()
        wanted = set(settings.website_ids)
        remotes = [r for r in remotes if not wanted or r.feed.website_id in wanted]
        todo = [
            s
            for s in plan_files(snap, remotes, checksum_cache(settings, None, source))
            if s.decision.pending
        ]
        print(f"source {source.description}: {len(remotes)} feed file(s), {len(todo)} pending")
        for step in todo:
            shown = step.reason and step.decision is not Decision.RESEND
            print(
                f"  {step.remote.feed.name}: {step.decision.value}"
                + (f" ({step.reason})" if shown else "")
            )
        for refused in source.refused:
            _err(str(refused.error))
    return max((r.error.exit_code for r in source.refused), default=0)


def cmd_export(args: argparse.Namespace) -> int:
    from .store import read_reviews

    settings = settings_from(args)
    root = settings.path(settings.snapshot)
    if not root.is_dir():
        raise ConfigError(f"snapshot folder {root} not found (REVIEW_FEED_SNAPSHOT or --snapshot)")
    wanted = set(settings.website_ids)
    out = sys.stdout.buffer
    for review in read_reviews(root):
        if wanted and review.website_id not in wanted:
            continue
        out.write(orjson.dumps(review.to_record(), option=orjson.OPT_APPEND_NEWLINE))
    out.flush()
    return 0


def cmd_nightly(args: argparse.Namespace) -> int:
    """Sync, build with the site's own settings file, commit the snapshot if it changed."""
    from .nightly import run_site

    if not args.verbose and not args.quiet:  # a night's log says what it applied and committed
        logging.getLogger("review_feed").setLevel(logging.INFO)
    overrides = {"source": _abs(args.source), "strict": True if args.strict else None}
    run_site(Path.cwd(), args.settings, full=_abs(args.full), overrides=overrides)
    return 0


def cmd_check_output(args: argparse.Namespace) -> int:
    """The output folder measured as its host counts it; over a limit, exit 8."""
    from .publish import check_output, host_named

    config = read_pelicanconf(Path(args.settings)) if args.settings else {}
    settings = load_settings(config, os.environ, {"host": args.host})
    check = check_output(Path(args.output), host_named(settings.host))
    if not args.quiet:
        _out(check.summary())
    return 0


# --- parser -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--settings", metavar="FILE", help="pelicanconf.py to read (default: ./pelicanconf.py)"
    )
    common.add_argument(
        "--snapshot", metavar="DIR", help="snapshot folder (REVIEW_FEED_SNAPSHOT, data/reviews)"
    )
    common.add_argument(
        "--website-id",
        metavar="ID",
        action="append",
        help="only this website id (repeatable; REVIEW_FEED_WEBSITE_IDS)",
    )
    noise = common.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="store_true", help="say more (debug log)")
    noise.add_argument("-q", "--quiet", action="store_true", help="only problems and errors")

    parser = argparse.ArgumentParser(
        prog="review-feed",
        description="Apply a review vendor's nightly feed files to the site's JSON snapshot.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"review-feed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "sync",
        parents=[common],
        help="apply the source's new feed files to the snapshot",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--source", metavar="SRC", help="folder or sftp://, ftp://, ftps:// URL")
    p.add_argument("--strict", action="store_true", help="any rejected row fails the run")
    p.add_argument("--dry-run", action="store_true", help="read and report, write nothing")
    p.add_argument(
        "--full",
        metavar="FILE",
        help="full resync: this local feed file is the complete truth for its collection",
    )
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser(
        "status", parents=[common], help="the snapshot per collection, and pending source files"
    )
    p.add_argument("--source", metavar="SRC", help="folder or sftp://, ftp://, ftps:// URL")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "export", parents=[common], help="every review as JSON Lines (the documented record)"
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "nightly",
        help="sync, build the site, commit the snapshot if it changed (run in the site's folder)",
        description=(
            "The nightly job of a Pelican site, run from its folder (a git working tree):\n"
            "sync the feed, build with the site's settings file (pelican -s FILE --fatal\n"
            "errors, no build-time sync), then commit the snapshot folder, and only it, if\n"
            "it changed. A failed step stops the night before the commit."
        ),
        epilog=EXIT_CODES + "  7  the build or the commit failed\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--settings",
        metavar="FILE",
        help="the site's settings file, for the sync and the build "
        "(default: publishconf.py if present, else pelicanconf.py)",
    )
    p.add_argument("--source", metavar="SRC", help="folder or sftp://, ftp://, ftps:// URL")
    p.add_argument("--strict", action="store_true", help="any rejected row fails the night")
    p.add_argument(
        "--full",
        metavar="FILE",
        help="full resync: this local feed file is the complete truth for its collection",
    )
    noise = p.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="store_true", help="say more (debug log)")
    noise.add_argument("-q", "--quiet", action="store_true", help="only problems and errors")
    p.set_defaults(func=cmd_nightly)

    p = sub.add_parser(
        "check-output",
        help="will the host take the output folder? (run before the upload)",
        description=(
            "Count the output folder as the host counts it (files, bytes, the largest\n"
            "file) and compare with the host's documented limits. Over a limit: one\n"
            "line naming it, exit code 8, so the upload step never runs."
        ),
        epilog="exit codes:\n  0  the host takes it\n  2  invalid host or settings, or no "
        "output folder\n  8  the host would refuse it (the line says which limit)\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("output", metavar="OUTPUT", help="the built output folder")
    p.add_argument(
        "--host",
        metavar="HOST",
        help="github-pages, gitlab-pages, cloudflare-pages or none "
        "(default: REVIEW_FEED_HOST from the environment or --settings, else none)",
    )
    p.add_argument(
        "--settings", metavar="FILE", help="a pelicanconf.py to read REVIEW_FEED_HOST from"
    )
    noise = p.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="store_true", help="say more (debug log)")
    noise.add_argument("-q", "--quiet", action="store_true", help="only problems and errors")
    p.set_defaults(func=cmd_check_output)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    log = logging.getLogger("review_feed")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    log.setLevel(
        logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    )
    log.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    try:
        return args.func(args)
    except ReviewFeedError as exc:
        _err(f"error: {str(exc).removeprefix(PREFIX)}")
        return exc.exit_code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:  # `review-feed export | head`
        # Silence the interpreter's final flush of the closed pipe.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0


if __name__ == "__main__":
    sys.exit(main())
