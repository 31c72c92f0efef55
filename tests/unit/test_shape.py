"""The package keeps the shape the architecture issue set: a short constructor, a thin
WSGI adapter, no long functions, at most one lazy-import ``__getattr__``."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "logout_middleware"


def functions() -> list[tuple[str, str, int]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno is not None
                size = node.end_lineno - node.lineno + 1
                found.append((str(path.relative_to(PACKAGE)), node.name, size))
    return found


def test_no_function_in_the_package_is_over_80_lines() -> None:
    long = [f for f in functions() if f[2] > 80]
    assert not long, long


def test_the_middleware_constructor_is_at_most_60_lines_and_its_module_350() -> None:
    sizes = {(path, name): size for path, name, size in functions()}
    assert sizes[("middleware.py", "__init__")] <= 60
    lines = (PACKAGE / "middleware.py").read_text(encoding="utf-8").count("\n")
    assert lines <= 350


def test_at_most_one_module_level_getattr() -> None:
    modules = [
        path
        for path in PACKAGE.rglob("*.py")
        if any(
            isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
            for node in ast.parse(path.read_text(encoding="utf-8")).body
        )
    ]
    assert len(modules) <= 1, modules
