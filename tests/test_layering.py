"""The layering rule, enforced: every import of ours (lazy ones inside functions included) goes down.

    ui → serving → finetune → knowledge → vertical.core   (serving may also use knowledge directly)
    vertical.strategy and vertical.cli sit on top and may import anything but ui.

Layers above a package reach it only through entry points (``vertical.commands``,
``vertical.api_routers`` in pyproject.toml), never by import. The graph is written in docs/CONTRACTS.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OURS = ("vertical", "knowledge", "finetune", "serving", "ui")

# layer → the layers it may import (itself included)
ALLOWED: dict[str, set[str]] = {
    "vertical.core": {"vertical.core"},
    "knowledge": {"knowledge", "vertical.core"},
    "finetune": {"finetune", "knowledge", "vertical.core"},  # training data is made from the KB
    "serving": {"serving", "knowledge", "finetune", "vertical.core"},
    "ui": {"ui", "serving", "knowledge", "finetune", "vertical.core"},
    "vertical.strategy": {"vertical.strategy", "serving", "knowledge", "finetune", "vertical.core"},
    "vertical.cli": {"vertical.cli", "vertical.strategy", "serving", "knowledge", "finetune", "vertical.core"},
}


def layer_of(module: str) -> str | None:
    if module in ("vertical", "vertical.__init__"):
        return "vertical.core"  # the package marker holds only __version__
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # `from vertical import strategy` imports the sub-package
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names if node.module in OURS]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def violations() -> list[str]:
    bad = []
    for package in OURS:
        for path in sorted((REPO / package).rglob("*.py")):
            here = module_name(path)
            layer = layer_of(here)
            assert layer, f"{path}: not in any layer; add it to ALLOWED in tests/test_layering.py"
            for line, target in imports_of(path):
                if target.split(".")[0] not in OURS:
                    continue
                target_layer = layer_of(target)
                if target_layer is None and target in OURS:
                    continue  # `import vertical` (the package marker)
                if target_layer not in ALLOWED[layer]:
                    bad.append(f"{path.relative_to(REPO)}:{line}: {layer} imports {target} ({target_layer})")
    return bad


def test_every_import_goes_down_the_layers():
    bad = violations()
    assert not bad, "upward or sideways imports:\n" + "\n".join(bad)


def test_the_checker_sees_lazy_and_dynamic_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from ui.client import X\n    importlib.import_module('serving.chain')\n")
    assert [t for _, t in imports_of(sample)] == ["ui.client", "serving.chain"]
    assert "ui" not in ALLOWED["serving"] and "vertical.strategy" not in ALLOWED["serving"]
