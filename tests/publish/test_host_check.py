"""The host-limit check counts what each host counts, and refuses what it would refuse.

GitHub Pages' count is checked against the real thing: the tar command of
`actions/upload-pages-artifact` run on the same folder, read back with tarfile.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from review_feed.errors import ConfigError
from review_feed.publish import HOSTS, HostLimitError, check_output, measure

# upload-pages-artifact's archive step (Linux), as published in its action.yml
PAGES_TAR = [
    "tar",
    "--dereference",
    "--hard-dereference",
    "-cf",
    "{tar}",
    "--exclude=.git",
    "--exclude=.github",
    "--exclude=.[^/]*",
    ".",
]


def tree(root: Path) -> Path:
    """Files, a hidden folder and file, a link to a file and a link to a folder."""
    (root / "a").mkdir(parents=True)
    (root / "index.html").write_bytes(b"i" * 100)
    (root / "a" / "b.html").write_bytes(b"b" * 200)
    (root / "a" / ".manifest.json").write_bytes(b"m" * 30)
    (root / ".hidden").mkdir()
    (root / ".hidden" / "secret.txt").write_bytes(b"s" * 50)
    (root / "link-file").symlink_to("a/b.html")
    (root / "link-dir").symlink_to("a")
    return root


def test_github_pages_counts_what_its_upload_action_archives(tmp_path: Path) -> None:
    site = tree(tmp_path / "site")
    archive = tmp_path / "artifact.tar"
    cmd = [arg.format(tar=archive) for arg in PAGES_TAR]
    subprocess.run(cmd, cwd=site, check=True)
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
    tally = measure(site, HOSTS["github-pages"])
    assert tally.files == len(members) == 4
    assert tally.bytes == sum(m.size for m in members) == 700
    assert tally.hidden == 3  # .hidden, a/.manifest.json and link-dir/.manifest.json


def test_each_host_counts_hidden_names_links_and_folders_its_way(tmp_path: Path) -> None:
    site = tree(tmp_path / "site")
    gitlab = measure(site, HOSTS["gitlab-pages"])  # every archive entry, links kept as links
    assert (gitlab.files, gitlab.bytes, gitlab.entries) == (4, 380, 1 + 2 + 4 + 2)
    # the folder itself, then every folder, file and link below it
    assert gitlab.entries == 1 + sum(len(d) + len(f) for _, d, f in os.walk(site))
    cloudflare = measure(site, HOSTS["cloudflare-pages"])  # every file, links followed
    assert (cloudflare.files, cloudflare.bytes) == (7, 810)
    bucket = measure(site, HOSTS["none"])  # rclone skips links unless told to follow them
    assert (bucket.files, bucket.bytes, bucket.links_skipped) == (4, 380, 2)
    assert bucket.largest_path == "a/b.html" and bucket.largest == 200


def limited(name: str, **limits: int) -> object:
    return dataclasses.replace(HOSTS[name], **limits)


def test_a_limit_is_a_limit_not_one_less(tmp_path: Path) -> None:
    site = tree(tmp_path / "site")
    check_output(site, limited("gitlab-pages", max_files=9, max_bytes=380))
    with pytest.raises(HostLimitError, match=r"10 entries .* over its limit of 9"):
        (site / "a" / "c.html").write_bytes(b"")
        check_output(site, limited("gitlab-pages", max_files=9))
    with pytest.raises(HostLimitError, match=r"over its site size limit of 379 bytes"):
        check_output(site, limited("gitlab-pages", max_bytes=379))
    check_output(site, limited("cloudflare-pages", max_file_bytes=200))
    with pytest.raises(HostLimitError, match=r"a/b.html is 200 bytes, over its per-file limit"):
        check_output(site, limited("cloudflare-pages", max_file_bytes=199))


def test_links_the_upload_cannot_follow_are_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    (site / "a" / "up").symlink_to("..")
    with pytest.raises(HostLimitError, match=r"site/a/up: a symbolic link loops"):
        check_output(site, HOSTS["github-pages"])
    (site / "a" / "up").unlink()
    (site / "gone").symlink_to("nowhere")
    with pytest.raises(HostLimitError, match=r"site/gone: a symbolic link to nothing"):
        check_output(site, HOSTS["cloudflare-pages"])
    check_output(site, HOSTS["gitlab-pages"])  # kept as a link: nothing to follow


def test_an_unreadable_folder_is_one_line(tmp_path: Path, monkeypatch) -> None:
    # (the tests run as root, who reads any folder: the refusal is the kernel's, simulated)
    site = tree(tmp_path / "site")
    real = os.scandir

    def scandir(path: str):
        if path.endswith("/a"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(ConfigError, match=r"^cannot read .*site/a: Permission denied$"):
        measure(site, HOSTS["gitlab-pages"])


def test_summary_says_files_bytes_largest_limits_and_headroom(tmp_path: Path) -> None:
    site = tree(tmp_path / "site")
    line = check_output(site, HOSTS["gitlab-pages"]).summary()
    assert "4 files, 380 bytes (9 entries with folders and links)" in line
    assert "largest a/b.html (200 bytes)" in line
    assert "GitLab Pages: size limit 1 GB: 99% headroom; file limit 200,000: 99% headroom" in line
