"""Imports point one way: each layer of commune_metrics imports only layers below it, and the
product never imports the tooling (tools/) or the tests."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "commune_metrics"
# Bottom first. A module may import its own layer and any layer listed before it.
LAYERS = ["core", "readers", "extract", "checks", "warehouse", "ingest", "report", "evaluate", "review",
          "flows", "cli", "__main__"]


def _layer(module: str) -> str:
    parts = module.split(".")
    assert parts[0] == "commune_metrics", module
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
            if node.module == "commune_metrics":
                out += [(f"commune_metrics.{a.name}", node.lineno) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
    return out


def _modules() -> list[tuple[Path, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        found.append((path, ".".join(rel.parts).removesuffix(".__init__")))
    return found


def test_every_module_belongs_to_a_layer() -> None:
    unknown = {_layer(m) for _p, m in _modules()} - set(LAYERS) - {"__init__"}
    assert not unknown, f"modules outside the declared layers: {sorted(unknown)}"


def test_imports_point_down() -> None:
    rank = {name: i for i, name in enumerate(LAYERS)}
    wrong = []
    for path, module in _modules():
        own = _layer(module)
        for target, line in _imports(path):
            top = target.split(".")[0]
            if top in ("tools", "tests", "pipeline", "extractors", "flows"):
                wrong.append(f"{module}:{line} imports {target} (tooling or an old package)")
                continue
            if top != "commune_metrics" or target == "commune_metrics":
                continue
            other = _layer(target)
            if own == "__init__" or other == "__init__":
                continue
            if rank[other] > rank[own]:
                wrong.append(f"{module}:{line} ({own}) imports {target} ({other}), a layer above it")
    assert not wrong, "\n".join(wrong)
