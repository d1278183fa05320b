"""The README and docs/ hold together: every relative link and anchor resolves, and
every command the README's Quickstart shows exists."""

from __future__ import annotations

import functools
import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target); a target has no spaces (an optional "title" follows)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(`+).*?\1")


def prose(text: str) -> list[str]:
    """The lines outside fenced code blocks (code is not Markdown)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def github_anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation except '-' and '_' dropped,
    spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor of a page; duplicate headings get -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in prose(text):
        m = HEADING.match(line)
        if not m:
            continue
        base = github_anchor(m[2])
        n = seen.get(base)
        seen[base] = 0 if n is None else n + 1
        found.add(base if n is None else f"{base}-{n + 1}")
    return found


@functools.cache
def page_anchors(path: Path) -> frozenset[str]:
    return frozenset(anchors(path.read_text("utf-8")))


def links(text: str) -> list[str]:
    return [m[1] for line in prose(text) for m in LINK.finditer(INLINE_CODE.sub("", line))]


def broken_links(page: Path) -> list[str]:
    """The relative links and anchors of one page that do not resolve."""
    broken = []
    for target in links(page.read_text("utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
            continue  # https:, mailto:, ...: not ours to check
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in page_anchors(dest):
            broken.append(f"{target}: no heading with that anchor in {dest.name}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_link_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Same\n\n## Same\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# Title\n\n"
        "[ok](docs/a.md#same-1) [ok](#title) [ok](docs/a.md)\n"
        "[bad](docs/a.md#same-2) [bad](docs/b.md) [bad](#nope)\n"
        "```sh\n[not a link](#in-code)\n```\n"
    )
    assert broken_links(page) == [
        "docs/a.md#same-2: no heading with that anchor in a.md",
        "docs/b.md: no such file",
        "#nope: no heading with that anchor in README.md",
    ]


def test_github_anchors() -> None:
    assert github_anchor("The `review-feed` command") == "the-review-feed-command"
    assert github_anchor("The snapshot (`data/reviews/`)") == "the-snapshot-datareviews"
    assert github_anchor("3. JavaScript loader (one line, no build)") == (
        "3-javascript-loader-one-line-no-build"
    )
    assert github_anchor("Where the feed comes from: sources") == (
        "where-the-feed-comes-from-sources"
    )


# --- the Quickstart's commands ---------------------------------------------------------


def quickstart_commands() -> list[str]:
    """Each command of the fenced `sh` blocks under the README's Quickstart heading (and
    its subsections), comments dropped, `&&` chains split."""
    text = (REPO / "README.md").read_text("utf-8")
    section = re.search(r"^## Quickstart\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, "the README has no Quickstart"
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", section[1], re.S | re.M):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands += [c.strip() for c in line.split("&&")]
    return commands


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@functools.cache
def invoke_tasks() -> frozenset[str]:
    out = run("-m", "invoke", "--list")
    return frozenset(m[1] for m in re.finditer(r"^  (\S+)", out, re.M))


@functools.cache
def help_of(*args: str) -> str:
    return run(*args, "--help")


def options(words: list[str]) -> list[str]:
    return [w.split("=", 1)[0] for w in words if w.startswith("--")]


def problem(command: str) -> str | None:
    """Why a Quickstart command would not run, or None."""
    words = shlex.split(command)
    tool = words[0]
    if tool in ("pip", "git", ".") or words[:3] == ["python3", "-m", "venv"]:
        return None  # installers and the shell: not ours
    if tool == "invoke":
        task = words[1]
        if task not in invoke_tasks():
            return f"{command}: `invoke --list` has no task {task!r}"
        missing = [o for o in options(words[2:]) if o not in help_of("-m", "invoke", task)]
        return f"{command}: `invoke {task} --help` lacks {missing}" if missing else None
    if tool == "review-feed":
        sub = words[1]
        if not re.search(rf"^    {re.escape(sub)}\b", help_of("-m", "review_feed.cli"), re.M):
            return f"{command}: `review-feed --help` has no subcommand {sub!r}"
        sub_help = help_of("-m", "review_feed.cli", sub)
        missing = [o for o in options(words[2:]) if o not in sub_help]
        return f"{command}: `review-feed {sub} --help` lacks {missing}" if missing else None
    if tool in ("python", "python3") and words[1] == "-m":
        found = importlib.util.find_spec(words[2])
        return None if found else f"{command}: no module {words[2]!r}"
    if tool == "pelican":
        return None if importlib.util.find_spec("pelican") else f"{command}: no pelican"
    return f"{command}: the docs check does not know {tool!r}; teach it"


def test_every_quickstart_command_exists() -> None:
    commands = quickstart_commands()
    assert any(c.startswith("invoke demo") for c in commands)
    assert [p for p in map(problem, commands) if p] == []


def test_the_command_check_can_fail() -> None:
    assert problem("invoke no-such-task") is not None
    assert problem("invoke demo --no-such-flag") is not None
    assert problem("review-feed no-such-command") is not None
    assert problem("review-feed sync --no-such-flag") is not None
    assert problem("frobnicate now") is not None
    assert problem("invoke demo --no-serve") is None
