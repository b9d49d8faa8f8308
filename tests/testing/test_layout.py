"""The house rules of the package layout that a test can check."""

from __future__ import annotations

import ast
from pathlib import Path

import sfresilience


_PACKAGE = Path(sfresilience.__file__).parent
_ALLOWED = ("testing", "cli")


def _imports_testing(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [alias.name for alias in node.names]
            relative_hit = node.level > 0 and (module.startswith("testing") or "testing" in names)
            if module.startswith("sfresilience.testing") or relative_hit:
                found.append(f"{path.name}:{node.lineno}")
        elif isinstance(node, ast.Import):
            found.extend(
                f"{path.name}:{node.lineno}"
                for alias in node.names
                if alias.name.startswith("sfresilience.testing")
            )
    return found


def test_the_library_never_imports_the_testing_package() -> None:
    offenders = [
        hit
        for path in _PACKAGE.rglob("*.py")
        if path.relative_to(_PACKAGE).parts[0] not in _ALLOWED
        for hit in _imports_testing(path)
    ]
    assert [] == offenders


def test_the_check_itself_sees_the_cli_importing_testing() -> None:
    demo = _PACKAGE / "cli" / "_demo.py"
    assert _imports_testing(demo)
