"""Fixtures of the real-theme tests: one existing site per theme, built once per session.

`pelican-theme-reflex`, `pelican-sitemap` and Pelican's own `notmyidea` and
`simple` live in the project's environment (the dev extra). `plumage` changes
Pelican itself (it pins its own Pelican and brings a MyST reader that takes
over every Markdown file), so it gets a virtual environment of its own, made
by `plumage_python` in `.cache/theme-venvs/` and reused by later runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))  # browser_harness

from themesites import REPO, THEMES, ThemeSite, build, sync_sample, write_site

try:
    from tests.conftest import require
except ModuleNotFoundError:  # bare `pytest`: the repository root is not on sys.path
    sys.path.insert(0, str(REPO))
    from tests.conftest import require


PLUMAGE = "plumage>=5"
VENVS = REPO / ".cache" / "theme-venvs"


def _venv_key(*requirements: str) -> str:
    """Changes when what the environment is made of changes: the requirements, this
    project's own dependencies (not its dev extra) and the Python."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    h = hashlib.sha256()
    for part in (*requirements, *project["dependencies"], sys.version):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:12]


def _make_venv(name: str, *requirements: str) -> Path:
    """A virtual environment with `requirements` and this repository (editable), made once.

    Built in a temporary folder and renamed into place when complete, so a run
    that dies half-way leaves nothing that looks usable.
    """
    VENVS.mkdir(parents=True, exist_ok=True)
    target = VENVS / f"{name}-{_venv_key(*requirements)}"
    python = target / "bin" / "python"
    if python.exists():
        return python
    for stale in VENVS.glob(f"{name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = VENVS / f".{target.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    venv.EnvBuilder(with_pip=True).create(tmp)
    cmd = [str(tmp / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    cmd += [*requirements, "-e", str(REPO)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        require(False, f"cannot install {' '.join(requirements)} in a virtualenv:\n{tail}")
    # Only `python -m ...` is used, which does not mind the folder's move (scripts would).
    tmp.rename(target)
    return python


@pytest.fixture(scope="session")
def plumage_python() -> Path:
    """The Python of plumage's own environment (plumage, pelican-sitemap, this repository)."""
    require(shutil.which("npm") is not None, "npm is missing (plumage installs postcss with it)")
    return _make_venv("plumage", PLUMAGE, "pelican-sitemap")


@pytest.fixture(scope="session")
def sample_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sync_sample(tmp_path_factory.mktemp("sample") / "reviews")


def _project_python(theme: str) -> str:
    """The project's Python, once the theme and pelican-sitemap are installed in it."""
    require(
        importlib.util.find_spec("pelican.plugins.sitemap") is not None,
        "pelican-sitemap is not installed (pip install -e '.[dev]')",
    )
    import pelican

    themes = Path(pelican.__file__).parent / "themes"
    require((themes / theme).is_dir(), f"the {theme} theme is not installed (the dev extra)")
    return sys.executable


@pytest.fixture(scope="session", params=sorted(THEMES))
def theme_site(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sample_snapshot: Path,
) -> ThemeSite:
    """The existing site, built with one theme (each theme's site is built once)."""
    theme = THEMES[request.param]
    if theme.own_venv:
        python = str(request.getfixturevalue(f"{theme.name}_python"))
    else:
        python = _project_python(theme.name)
    root = write_site(tmp_path_factory.mktemp(f"site-{theme.name}"), theme, sample_snapshot)
    return ThemeSite(theme, root, build(root, python))


@pytest.fixture(scope="session")
def lumiere_site(tmp_path_factory: pytest.TempPathFactory, sample_snapshot: Path) -> Path:
    """The repository's own demo shop (our theme calls review_feed_for itself) on the sample."""
    base = tmp_path_factory.mktemp("lumiere")
    out = base / "output"
    cmd = [sys.executable, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", str(out)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_FEED_")}
    env |= {"REVIEW_FEED_SNAPSHOT": str(sample_snapshot), "REVIEW_FEED_SYNC": "false"}
    env["REVIEW_FEED_CACHE"] = str(base / "cache")  # not the repository's
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: $TEST_ARTIFACTS_DIR, else output/test-artifacts/ (ignored by git)."""
    folder = Path(os.environ.get("TEST_ARTIFACTS_DIR") or REPO / "output" / "test-artifacts")
    folder = folder / "themes"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def served(theme_site: ThemeSite) -> Iterator[str]:
    from browser_harness import serve

    server = serve(theme_site.output)
    yield server.url
    server.close()
