"""Will the host take the output? Count what it counts, before the upload.

Each host's documented limits are data in `HOSTS` (docs/publishing.md cites
the source of every figure). `check_output` walks the output folder once with
`os.scandir` (memory bounded by the folder depth, not by the number of files)
and counts what that host counts:

- GitHub Pages uploads a tar made with `--dereference` that leaves out every
  name starting with "." at any depth (`actions/upload-pages-artifact`): hidden
  files and folders are not counted, symbolic links count as what they point to,
  and a link to nothing fails the upload.
- GitLab Pages counts every entry of the `public` archive towards its file
  limit, folders and symbolic links included; links are kept as links.
- Cloudflare Pages uploads every file, links as what they point to.
- "none" (object storage with `rclone sync`): no limit; rclone skips symbolic
  links unless told to follow them, so they are not counted.

Sizes are apparent sizes (the bytes a file holds, not the disk blocks it uses).
"1 GB" in a host's documentation is read as 10^9 bytes, the stricter reading.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from .errors import ConfigError, ReviewFeedError

logger = logging.getLogger("review_feed.publish")

GB = 1_000_000_000
MIB = 1 << 20


class HostLimitError(ReviewFeedError):
    """The output would be refused by the host it is published to."""

    exit_code = 8
    exitcode = 8  # what Pelican's command line exits with when a build raises it


@dataclass(frozen=True)
class Host:
    """A host's documented limits (None: no limit) and what it counts."""

    name: str  # the REVIEW_FEED_HOST value
    title: str
    max_bytes: int | None  # the whole site
    max_files: int | None
    max_file_bytes: int | None  # any one file
    skips_hidden: bool  # names starting with "." are left out of the upload
    follows_links: bool  # a symbolic link is uploaded as what it points to
    counts_folders: bool  # folders and links count towards max_files
    source: str  # where the limits are documented


HOSTS: Mapping[str, Host] = MappingProxyType(
    {
        "github-pages": Host(
            name="github-pages",
            title="GitHub Pages",
            max_bytes=1 * GB,
            max_files=None,
            max_file_bytes=None,
            skips_hidden=True,
            follows_links=True,
            counts_folders=False,
            source="https://docs.github.com/en/pages/getting-started-with-github-pages/github-pages-limits",
        ),
        "gitlab-pages": Host(
            name="gitlab-pages",
            title="GitLab Pages",
            max_bytes=1 * GB,
            max_files=200_000,
            max_file_bytes=None,
            skips_hidden=False,
            follows_links=False,
            counts_folders=True,
            source="https://docs.gitlab.com/user/gitlab_com/#gitlab-pages",
        ),
        "cloudflare-pages": Host(
            name="cloudflare-pages",
            title="Cloudflare Pages (free plan)",
            max_bytes=None,
            max_files=20_000,
            max_file_bytes=25 * MIB,
            skips_hidden=False,
            follows_links=True,
            counts_folders=False,
            source="https://developers.cloudflare.com/pages/platform/limits/",
        ),
        "none": Host(
            name="none",
            title="object storage (no limit)",
            max_bytes=None,
            max_files=None,
            max_file_bytes=None,
            skips_hidden=False,
            follows_links=False,
            counts_folders=False,
            source="",
        ),
    }
)


def host_named(name: str) -> Host:
    try:
        return HOSTS[name.strip().lower()]
    except KeyError:
        raise ConfigError(f"unknown host {name!r}: expected one of {', '.join(HOSTS)}") from None


# --- counting -----------------------------------------------------------------------


@dataclass
class Tally:
    """What the host would receive from the output folder."""

    files: int = 0  # regular files uploaded
    entries: int = 0  # what counts towards the host's file limit
    bytes: int = 0
    largest: int = 0
    largest_path: str = ""
    hidden: int = 0  # names left out because they start with "."
    links_skipped: int = 0  # symbolic links the host does not upload

    def add_file(self, rel: str, size: int) -> None:
        self.files += 1
        self.entries += 1
        self.bytes += size
        # the first path in sort order among the largest: the same answer in any listing order
        if size > self.largest or (size == self.largest and rel < self.largest_path):
            self.largest, self.largest_path = size, rel


def _walk(folder: str, rel: str, host: Host, tally: Tally, parents: tuple) -> None:
    """Count one folder, then its subfolders depth first (one open listing per level)."""
    with os.scandir(folder) as it:
        for entry in it:
            path = rel + entry.name
            if host.skips_hidden and entry.name.startswith("."):
                tally.hidden += 1
                continue
            if entry.is_symlink() and not host.follows_links:
                if host.counts_folders:
                    tally.entries += 1
                else:
                    tally.links_skipped += 1
                continue
            follow = host.follows_links
            if entry.is_dir(follow_symlinks=follow):
                if host.counts_folders:
                    tally.entries += 1
                ident = _identity(entry) if follow else None
                if ident is not None and ident in parents:
                    raise HostLimitError(
                        f"{path}: a symbolic link loops back to a parent folder; "
                        f"{host.title} uploads what links point to"
                    )
                _walk(entry.path, path + "/", host, tally, (*parents, ident))
            elif entry.is_file(follow_symlinks=follow):
                tally.add_file(path, entry.stat(follow_symlinks=follow).st_size)
            elif entry.is_symlink():
                raise HostLimitError(
                    f"{path}: a symbolic link to nothing; "
                    f"{host.title} uploads what links point to, so the upload would fail"
                )
            # sockets, pipes and devices are not files a site is made of: not counted


def _identity(entry: os.DirEntry) -> tuple[int, int]:
    st = entry.stat(follow_symlinks=True)
    return (st.st_dev, st.st_ino)


def measure(output: Path, host: Host) -> Tally:
    """What `host` would receive from the folder `output`."""
    if not output.is_dir():
        raise ConfigError(f"output folder {output} not found (build the site first)")
    st = output.stat()
    # GitLab's archive holds the `public/` folder itself as an entry too
    tally = Tally(entries=1 if host.counts_folders else 0)
    try:
        _walk(str(output), "", host, tally, ((st.st_dev, st.st_ino),))
    except HostLimitError as exc:  # name the file from the output folder, as the user sees it
        raise HostLimitError(f"{output}/{exc}") from None
    except OSError as exc:  # a folder that cannot be listed, a file removed during the walk
        raise ConfigError(f"cannot read {exc.filename}: {exc.strerror}") from None
    return tally


# --- the verdict --------------------------------------------------------------------


def size(n: int) -> str:
    """Bytes in decimal units, as the hosts write their limits: 423.1 MB, 1 GB."""
    for unit, scale in (("GB", GB), ("MB", 10**6), ("KB", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def _file_size_limit(n: int) -> str:
    return f"{n // MIB} MiB" if n % MIB == 0 else size(n)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _headroom(used: int, limit: int) -> str:
    return f"{max(0, (limit - used) * 100 // limit)}% headroom"


@dataclass(frozen=True)
class OutputCheck:
    output: Path
    host: Host
    tally: Tally

    def summary(self) -> str:
        """One line: what would be uploaded, and against which limits."""
        t, h = self.tally, self.host
        what = f"{_count(t.files, 'file')}, {size(t.bytes)}"
        if h.counts_folders:
            what += f" ({t.entries:,} entries with folders and links)"
        if t.largest_path:
            what += f", largest {t.largest_path} ({size(t.largest)})"
        limits = []
        if h.max_bytes is not None:
            limits.append(f"size limit {size(h.max_bytes)}: {_headroom(t.bytes, h.max_bytes)}")
        if h.max_files is not None:
            limits.append(f"file limit {h.max_files:,}: {_headroom(t.entries, h.max_files)}")
        if h.max_file_bytes is not None:
            limits.append(
                f"per-file limit {_file_size_limit(h.max_file_bytes)}: "
                f"{_headroom(t.largest, h.max_file_bytes)}"
            )
        verdict = "; ".join(limits) if limits else "no limit"
        left_out = []
        if t.hidden:
            left_out.append(_count(t.hidden, "hidden name"))
        if t.links_skipped:
            left_out.append(_count(t.links_skipped, "symbolic link"))
        skipped = f" (not uploaded: {', '.join(left_out)})" if left_out else ""
        return f"{self.output}: {what}{skipped}; {h.title}: {verdict}"

    def refusal(self) -> str | None:
        """Why the host would refuse the output (the first limit crossed), or None."""
        t, h = self.tally, self.host
        where = f"{self.output} would be refused by {h.title}"
        if h.max_bytes is not None and t.bytes > h.max_bytes:
            return (
                f"{where}: {size(t.bytes)} ({t.bytes:,} bytes) is over its site size "
                f"limit of {size(h.max_bytes)}"
            )
        if h.max_files is not None and t.entries > h.max_files:
            counted = "entries (files, folders and links)" if h.counts_folders else "files"
            return f"{where}: {t.entries:,} {counted} is over its limit of {h.max_files:,}"
        if h.max_file_bytes is not None and t.largest > h.max_file_bytes:
            return (
                f"{where}: {t.largest_path} is {size(t.largest)}, over its per-file limit "
                f"of {_file_size_limit(h.max_file_bytes)}"
            )
        return None


ADVICE = "publish to object storage instead (see docs/publishing.md)"


def check_output(output: Path, host: Host) -> OutputCheck:
    """Measure `output` for `host`; raise HostLimitError when the host would refuse it."""
    check = OutputCheck(output, host, measure(output, host))
    why = check.refusal()
    if why:
        raise HostLimitError(f"{why}; {ADVICE}")
    return check


def check_build_output(output: Path, host_name: str) -> OutputCheck | None:
    """The check a Pelican build runs when it ends (None when the host is "none")."""
    host = host_named(host_name)
    if host.name == "none":
        return None
    check = check_output(output, host)
    logger.info("%s", check.summary())
    return check
