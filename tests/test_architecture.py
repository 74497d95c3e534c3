"""The package's shape (ARCHITECTURE.md), checked from the source: layers only
import downwards, no import cycles, no optional imports of our own modules.

Fast: reads the sources with `ast`, imports nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "harness"

# Lower number = lower layer. A module may import its own package and lower layers.
LAYERS = {
    "core": 0,
    "model": 1,
    "detect": 2, "suites": 2,
    "intake": 3,
    "build": 4,
    "vm": 5,
    "scenarios": 6, "checks": 6,
    "output": 7,
    "run": 8,
    "cli": 9,
}
TOP_LEVEL_OK = {"harness", "harness.__main__"}   # the package itself and `python -m harness`


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def harness_imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function or try) for every import of harness.*"""
    tree = ast.parse(path.read_text(), str(path))
    out = []

    def visit(node, nested: bool):
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Try))
            if isinstance(child, ast.Import):
                out.extend((a.name, child.lineno, nested) for a in child.names if a.name.startswith("harness"))
            elif isinstance(child, ast.ImportFrom) and child.module and child.module.startswith("harness"):
                for a in child.names:
                    full = f"{child.module}.{a.name}"
                    target = full if (PKG.parent / (full.replace(".", "/") + ".py")).exists() or \
                        (PKG.parent / full.replace(".", "/")).is_dir() else child.module
                    out.append((target, child.lineno, nested))
            visit(child, inner)
    visit(tree, False)
    return out


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def layer_of(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_belongs_to_a_layer():
    stray = [m for m in modules() if m not in TOP_LEVEL_OK and layer_of(m) is None]
    assert not stray, f"modules outside the layers of ARCHITECTURE.md: {stray}"


def test_layers_only_import_downwards():
    bad = []
    for mod, path in modules().items():
        mine = layer_of(mod)
        if mine is None:
            continue
        for target, line, _ in harness_imports(path):
            theirs = layer_of(target)
            if theirs is None or theirs == mine:
                continue
            if LAYERS[theirs] >= LAYERS[mine]:
                bad.append(f"{path.relative_to(PKG.parent)}:{line}: {mine} imports {target} ({theirs})")
    assert not bad, "upward or sideways imports:\n" + "\n".join(bad)


def test_no_import_cycles():
    graph = {m: {t for t, _, _ in harness_imports(p)} for m, p in modules().items()}
    # an import of a package means its __init__
    graph = {m: {t for t in ts if t in graph and t != m} for m, ts in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def dfs(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                dfs(nxt, stack + [nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            dfs(m, [m])
    # a package importing its own submodules in __init__ is the one allowed loop shape
    real = [c for c in cycles if not all(x.startswith(c[0].rsplit(".", 1)[0]) for x in c)
            or len({x.split(".")[1] for x in c if "." in x}) > 1]
    assert not real, "import cycles:\n" + "\n".join(" -> ".join(c) for c in real)


def test_no_optional_imports_of_our_own_modules():
    """`try: import harness.x / except ImportError` would let a broken module silently
    switch a check off (the canary once could)."""
    bad = []
    for mod, path in modules().items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try):
                continue
            catches_import = any(isinstance(h.type, ast.Name) and h.type.id in ("ImportError",
                                                                                "ModuleNotFoundError")
                                 for h in node.handlers)
            imports_ours = any(isinstance(n, (ast.Import, ast.ImportFrom)) and
                               ("harness" in (getattr(n, "module", "") or "") or
                                any(a.name.startswith("harness") for a in n.names))
                               for b in node.body for n in ast.walk(b))
            if catches_import and imports_ours:
                bad.append(f"{path.relative_to(PKG.parent)}:{node.lineno}")
    assert not bad, f"optional imports of harness modules: {bad}"


def test_no_module_is_too_long_without_a_reason():
    """~600 lines is where a module has several jobs; a longer one says why at its top."""
    long = []
    for mod, path in modules().items():
        text = path.read_text()
        if text.count("\n") > 650 and "Why this module is long" not in text[:3000]:
            long.append(f"{path.relative_to(PKG.parent)} ({text.count(chr(10))} lines)")
    assert not long, f"long modules without a reason at their top: {long}"
