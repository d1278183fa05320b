"""The nightly job: sync, then a publish build, then commit the snapshot if it changed.

`review-feed nightly` (any Pelican site) and `invoke nightly` (this
repository's tasks.py, and so its scheduled CI workflow) are thin calls into
`run_site`, which reads the site's settings file and calls `run_nightly`.
The order is what keeps a bad night harmless:

1. sync: pull the new feed files and apply them to the snapshot. A sync that
   fails (server unreachable, host key refused, a file rejected in strict
   mode...) stops the night here: nothing is built, nothing is committed, and
   the next night starts again from the last commit.
2. build: one Pelican run with the publish settings, in a subprocess, with
   the build-time sync switched off (the sync already ran, once).
3. commit: the snapshot folder, and only it, if and only if `git status`
   says it changed, with a message that says what the night brought.

Only git and Pelican are run as subprocesses; secrets stay in the
environment of this process (never on a command line, never passed to the
build, which does not need them).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ReviewFeedError
from .settings import SECRETS, Settings, setting_name

if TYPE_CHECKING:
    from .sync import SyncReport

logger = logging.getLogger("review_feed.nightly")

SECRET_VARIABLES = frozenset(setting_name(s) for s in SECRETS)


class NightlyError(ReviewFeedError):
    """The nightly job stopped; `str(exc)` says at which step and what to check."""

    exit_code = 7

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code  # a failed sync keeps the sync's own exit code


@dataclass(frozen=True)
class NightlyResult:
    report: SyncReport
    commit: str | None  # the new commit's id, None when the snapshot did not change
    message: str | None  # the commit message, None when nothing was committed


# --- what the night brought, from the SyncReport ---------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def commit_message(report: SyncReport) -> str:
    """A commit message built from a SyncReport: subject line, then one line per file.

    The subject says how many files were applied and how many reviews were
    added, updated and removed, so `git log --oneline` reads as a diary of the
    feed. Nothing from inside the files goes in (the snapshot's privacy rules
    hold for commit messages too): only counts and the validated file names.
    """
    applied = list(report.applied)
    added, updated, removed = report.added, report.updated, report.removed
    subject = (
        f"reviews: {_plural(len(applied), 'file')} applied, "
        f"{added} added, {updated} updated, {removed} removed"
    )
    lines = [subject, ""]
    for f in applied:
        c = f.counts
        how = " (full resync)" if f.full else " (re-sent, applied again)" if f.resent else ""
        lines.append(
            f"- {f.name}{how}: {c.new} NEW, {c.update} UPDATE, {c.delete} DELETE"
            + (f", {c.rejected} rejected" if c.rejected else "")
        )
    if not applied:
        lines.append("- no new file; the snapshot's layout or ledger changed")
    if report.full:
        lines += ["", "Full resync: reviews absent from the full file were removed."]
    if report.problems:
        # Counted, not quoted: a problem line may echo feed text, and git keeps it forever.
        lines += [
            "",
            f"{_plural(len(report.problems), 'row')} rejected (never applied): see the run's log.",
        ]
    lines += ["", "Committed by review-feed nightly (sync, publish build, commit)."]
    return "\n".join(lines) + "\n"


# --- git --------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise NightlyError(
            "[review-feed] nightly: git is not installed (needed to commit)"
        ) from None
    if done.returncode != 0:
        err = (done.stderr or done.stdout).strip().splitlines()
        why = err[-1] if err else f"exit {done.returncode}"
        raise NightlyError(f"[review-feed] nightly: git {args[0]} failed in {root}: {why}")
    return done.stdout


def snapshot_changes(root: Path, snapshot: Path) -> list[str]:
    """`git status --porcelain` lines for the snapshot folder (new files included)."""
    rel = _relative(root, snapshot)
    out = _git(root, "status", "--porcelain", "--untracked-files=all", "--", rel)
    return [line for line in out.splitlines() if line.strip()]


def commit_snapshot(root: Path, snapshot: Path, message: str) -> str | None:
    """Commit the snapshot folder, and nothing else, if it changed; the new commit id or None.

    `git commit -- <folder>` commits only that folder, whatever else is
    staged or modified in the working tree.
    """
    if not snapshot_changes(root, snapshot):
        return None
    rel = _relative(root, snapshot)
    _git(root, "add", "--all", "--", rel)
    _git(root, "commit", "--quiet", "--no-verify", "-m", message, "--", rel)
    return _git(root, "rev-parse", "HEAD").strip()


def _relative(root: Path, snapshot: Path) -> str:
    try:
        return snapshot.resolve().relative_to(root.resolve()).as_posix() or "."
    except ValueError:
        raise NightlyError(
            f"[review-feed] nightly: the snapshot {snapshot} is outside the site repository "
            f"{root}; set REVIEW_FEED_SNAPSHOT to a folder inside it"
        ) from None


def _check_repository(root: Path) -> None:
    try:
        inside = _git(root, "rev-parse", "--is-inside-work-tree").strip()
    except NightlyError:
        inside = ""
    if inside != "true":
        raise NightlyError(
            f"[review-feed] nightly: {root} is not a git working tree; the nightly job commits "
            "the snapshot (run `invoke sync` and `invoke publish` instead outside git)"
        )


# --- the build --------------------------------------------------------------------------


def pelican_build(root: Path, settings_file: str = "publishconf.py") -> None:
    """One Pelican build with `settings_file`, in a subprocess, without a build-time sync.

    `--fatal errors` makes an error logged during the build (an unreadable
    snapshot, a broken template) fail it instead of deploying a partial site.
    """
    # The build needs no secret: it does not sync. Leave them out of its environment.
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
    env["REVIEW_FEED_SYNC"] = "false"
    cmd = [sys.executable, "-m", "pelican", "-s", settings_file, "--fatal", "errors", "-q"]
    logger.info("[review-feed] nightly: building with %s", settings_file)
    done = subprocess.run(cmd, cwd=root, env=env, check=False)
    if done.returncode != 0:
        raise NightlyError(
            f"[review-feed] nightly: the publish build ({' '.join(cmd[1:])}) failed with exit "
            f"{done.returncode} (see the Pelican output above); the snapshot was not committed"
        )


# --- the night --------------------------------------------------------------------------


def run_nightly(
    settings: Settings,
    root: Path,
    *,
    full: Path | str | None = None,
    build: Callable[[], None] | None = None,
) -> NightlyResult:
    """Sync, build, commit. Raises NightlyError (or the sync's own error) when a step fails.

    `build` defaults to a Pelican build with `publishconf.py` in `root`.
    """
    from .sync import run_sync

    root = Path(root)
    _check_repository(root)  # before touching anything: fail fast on a bad setup
    report = run_sync(settings, full=None if full is None else Path(full), base=root)
    for level, line in report.lines():
        logger.log(level, "[review-feed] %s", line)
    logger.info("[review-feed] %s", report.summary())
    code = report.exit_code
    if code != 0:
        raise NightlyError(
            f"[review-feed] nightly: the sync failed (exit {code}, see its summary above); "
            "nothing was built or committed, the next run retries the same files",
            exit_code=code,
        )
    (build or (lambda: pelican_build(root)))()
    snapshot = settings.path(settings.snapshot, root)
    message = commit_message(report)
    sha = commit_snapshot(root, snapshot, message)
    if sha is None:
        logger.info("[review-feed] nightly: the snapshot did not change, nothing to commit")
        return NightlyResult(report=report, commit=None, message=None)
    logger.info("[review-feed] nightly: committed %s: %s", sha[:12], message.splitlines()[0])
    return NightlyResult(report=report, commit=sha, message=message)


def default_settings_file(root: Path) -> str:
    """The site's publish settings when it has them (Pelican's quickstart writes both)."""
    return "publishconf.py" if (Path(root) / "publishconf.py").is_file() else "pelicanconf.py"


def run_site(
    root: Path,
    settings_file: str | None = None,
    *,
    full: Path | str | None = None,
    overrides: dict[str, Any] | None = None,
) -> NightlyResult:
    """The night of a site folder: settings from `settings_file` (run as Pelican runs it),
    the environment and `overrides`, then `run_nightly` with a build by that same file.

    `review-feed nightly` and `invoke nightly` are this call. Any failure is a
    NightlyError whose text is one line saying that nothing was committed.
    """
    from .settings import load_settings
    from .siteconf import read_pelicanconf

    root = Path(root).resolve()
    settings_file = settings_file or default_settings_file(root)
    try:
        config = read_pelicanconf(root / settings_file)
        settings = load_settings(config, os.environ, overrides)
        return run_nightly(
            settings, root, full=full, build=lambda: pelican_build(root, settings_file)
        )
    except NightlyError:
        raise
    except ReviewFeedError as exc:  # bad settings, a source that cannot be reached...
        raise NightlyError(
            f"[review-feed] nightly: {str(exc).removeprefix('[review-feed] ')}; "
            "nothing was built or committed",
            exit_code=exc.exit_code,
        ) from None
