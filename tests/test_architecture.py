"""The package's imports, read from its source: one direction, no cycle (a function's
import included), and no module reaching for another's private names."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
CHAIN = ["sources", "feed", "store", "site"]  # each may use the ones before it only
FACES = {"cli", "nightly"}  # the commands: only the CLI imports one (it runs the nightly)
# What runs the chain, from the outside: no layer uses it, but the site may run a
# sync at build time (REVIEW_FEED_SYNC).
RUNNERS = {"sync", "parallel", "staging", "report"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((PLUGINS / "review_feed").rglob("*.py")):
        parts = path.relative_to(PLUGINS).with_suffix("").parts
        found[".".join(parts).removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, str]]:
    """(module imported, name imported from it) for every import in the module, at any
    depth (a function's too), within the package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub, "") if sub in known else (target, alias.name))
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
    return [(m, n) for m, n in found if m in known]


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {m for m, _ in imports(name, path, known)} for name, path in known.items()}


def part(name: str) -> str:
    """The package part a module belongs to: "store" for review_feed.store.files,
    "sync" for review_feed.sync, "" for the package itself."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer(name: str) -> int | None:
    return CHAIN.index(part(name)) if part(name) in CHAIN else None


def wrong_way(name: str, target: str) -> bool:
    """An import against the direction the code reads in."""
    here, there = layer(name), layer(target)
    if here is not None and there is not None:
        return there > here  # back up the chain
    if part(target) in FACES:
        return part(name) != "cli"
    if part(target) in RUNNERS and here is not None:
        return not (part(name) == "site" and part(target) == "sync")
    return False


def test_no_import_cycle() -> None:
    try:
        order = list(TopologicalSorter(graph()).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None
    assert "review_feed.site.generator" in order and "review_feed.store" in order


def test_the_chain_reads_one_way() -> None:
    back = sorted(
        f"{name} imports {target}"
        for name, targets in graph().items()
        for target in targets
        if wrong_way(name, target)
    )
    assert back == []


def test_no_module_imports_another_ones_private_names() -> None:
    known = modules()
    private = sorted(
        f"{name}: {target}.{imported}"
        for name, path in known.items()
        for target, imported in imports(name, path, known)
        if imported.startswith("_") and not imported.startswith("__")
    )
    assert private == []
