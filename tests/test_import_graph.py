"""The domain packages depend on each other in one direction only (no import cycles)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import ml_platform

ROOT = Path(ml_platform.__file__).parent
# Packages that hold a domain; shared modules (wire, errors, config, deps, db) sit below them.
DOMAINS = frozenset(
    {"algorithms", "clusters", "jobs", "karmada", "monitor", "sim", "system", "workloads"}
)


def _imported_modules(path: Path) -> set[str]:
    """Every absolute ``ml_platform`` module a file imports, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("ml_platform.")}


def package_graph() -> dict[str, set[str]]:
    """Which domain package imports which other domain package."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        package = path.relative_to(ROOT).parts[0].removesuffix(".py")
        if package not in DOMAINS:
            continue
        for module in _imported_modules(path):
            target = module.split(".")[1]
            if target in DOMAINS and target != package:
                graph[package].add(target)
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path that ends where it starts, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph.get(node, ())):
            found = visit(target, [*path, node])
            if found is not None:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found is not None:
            return found
    return None


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_clusters_does_not_import_jobs() -> None:
    assert "jobs" not in package_graph()["clusters"]


def test_domain_packages_have_no_import_cycle() -> None:
    assert cycle(package_graph()) is None
