"""The package's architecture, enforced (docs/architecture.md explains it).

Read with ``ast`` from the source tree (nothing is imported), so a violation is reported by file and line:

* every module belongs to a tier and imports careshed modules only from its own tier or lower ones;
* no import cycle between careshed modules;
* no careshed import hidden inside a function (that is how cycles get dodged); third-party imports of optional,
  heavy libraries (matplotlib, geopandas, shapely) may be lazy;
* no private name (``_x``) imported or used from another careshed module; the compiled ``careshed._core`` is
  used only by the base (constants, projdata), io and arrays tiers;
* tests/python mirrors python/careshed file for file: ``careshed/a/b.py`` <-> ``tests/python/test_a_b.py``
  (``careshed/x.py`` <-> ``test_x.py``; the package's own ``__init__`` <-> ``test_init.py``).

``CARESHED_ARCH_ROOT`` points the checks at another checkout (used to show they fail on the old tree).
"""
from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("CARESHED_ARCH_ROOT", Path(__file__).resolve().parents[2]))
PACKAGE = ROOT / "python" / "careshed"
TESTS = ROOT / "tests" / "python"

#: Tiers, lowest first. A module may import careshed modules of its own tier or of lower tiers only.
#: Patterns: a dotted module name, or a package name followed by ".*" (the package and everything in it).
TIERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("careshed._core", "careshed.errors", "careshed.constants", "careshed.projdata", "careshed.progress",
              "careshed.memory")),
    ("io", ("careshed.io.*",)),
    ("arrays", ("careshed.arrays.*",)),
    ("tiled", ("careshed.tiled.*",)),
    ("prepared", ("careshed.prepared", "careshed.placement", "careshed.results", "careshed.mapping",
                  "careshed.report.*")),
    ("analyses", ("careshed.analyses.*",)),
    ("study", ("careshed.study",)),
    ("demo", ("careshed.demo",)),
    ("cli", ("careshed.cli.*",)),
    ("package", ("careshed", "careshed.__main__")),
]
#: Tiers allowed to import the compiled core.
CORE_USERS = {"base", "io", "arrays", "package"}
#: Third-party modules that may be imported lazily inside a function (optional or slow to import).
LAZY_OK = {"matplotlib", "geopandas", "shapely", "pyproj", "html", "ctypes", "tqdm", "distributed", "dask", "osgeo",
           "zarr"}
#: Tests that check something across modules rather than one module (allowed besides the mirror).
CROSS_CUTTING_TESTS = {
    "test_architecture.py": "this file",
    "test_notebook.py": "runs examples/quzhou_walkthrough.ipynb",
    "test_readme.py": "runs the README's commands",
    "test_comoros.py": "the shipped Comoros data end to end",
    "test_docs_travel_modes.py": "docs/travel-modes.md's examples on the Comoros data",
    "test_docs_network.py": "docs/network.md's road-graph reach examples on the Comoros data",
    "test_postgis.py": "reading from a live PostGIS server (skipped without one)",
    "test__core_progress.py": "Ctrl-C and progress of the compiled module's long calls (bindings/run_watch.cpp)",
    "test_hostile_inputs.py": "issue 8's table of hostile inputs, each through the CLI and the Python API",
    "test_memory_estimate.py": "the core's memory estimate and refusal (_core, memory.hpp) against real runs' peak RSS",
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()
KNOWN = set(MODULES) | {"careshed._core"}


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py" or name == "careshed"


def _tier_of(name: str) -> int | None:
    for i, (_, patterns) in enumerate(TIERS):
        for p in patterns:
            if name == p or (p.endswith(".*") and (name == p[:-2] or name.startswith(p[:-1]))):
                return i
    return None


class _Import:
    def __init__(self, target: str, names: list[str], line: int, in_function: bool):
        self.target, self.names, self.line, self.in_function = target, names, line, in_function


def _imports(name: str, path: Path) -> list[_Import]:
    """careshed imports of one module (module-level and inside functions), resolved to module names."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if _is_package(name) else name.rpartition(".")[0]
    out: list[_Import] = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            fn = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for a in child.names:
                    if a.name == "careshed" or a.name.startswith("careshed."):
                        out.append(_Import(a.name, [], child.lineno, in_function))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - child.level + 1]
                    mod = ".".join(base + ([child.module] if child.module else []))
                else:
                    mod = child.module or ""
                if mod != "careshed" and not mod.startswith("careshed."):
                    continue
                names = [a.name for a in child.names]
                sub = [n for n in names if f"{mod}.{n}" in KNOWN]
                for n in sub:                      # `from . import io` imports the module careshed.io
                    out.append(_Import(f"{mod}.{n}", [], child.lineno, in_function))
                rest = [n for n in names if n not in sub]
                if rest:
                    out.append(_Import(mod, rest, child.lineno, in_function))
            visit(child, fn)

    visit(tree, False)
    return out


def _third_party_in_functions(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Import):
                found += [(node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                found.append((node.lineno, node.module or ""))
    return [(line, mod) for line, mod in found if not mod.startswith("careshed")]


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _where(name: str, line: int) -> str:
    return f"{MODULES[name].relative_to(ROOT)}:{line}"


def test_every_module_has_a_tier():
    missing = [n for n in MODULES if _tier_of(n) is None]
    assert not missing, f"modules in no tier (add them to TIERS and docs/architecture.md): {missing}"


def test_imports_only_go_down():
    bad = []
    for name, imports in GRAPH.items():
        mine = _tier_of(name)
        for imp in imports:
            theirs = _tier_of(imp.target)
            if mine is None or theirs is None or theirs > mine:
                bad.append(f"{_where(name, imp.line)}: {name} ({TIERS[mine][0] if mine is not None else '?'}) "
                           f"imports {imp.target} ({TIERS[theirs][0] if theirs is not None else '?'})")
    assert not bad, "imports against the tier order:\n" + "\n".join(bad)


def test_no_import_cycles():
    edges = {n: sorted({i.target for i in imps if i.target in MODULES and i.target != n})
             for n, imps in GRAPH.items()}
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []
    counter = [0]

    def strongconnect(v):                      # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in edges:
        if v not in index:
            strongconnect(v)
    assert not cycles, f"import cycles: {cycles}"


def test_no_careshed_imports_inside_functions():
    bad = [f"{_where(n, i.line)}: imports {i.target} inside a function"
           for n, imps in GRAPH.items() for i in imps if i.in_function]
    assert not bad, "careshed imports hidden in functions (import at the top; fix the tiers instead):\n" + \
        "\n".join(bad)


def test_lazy_third_party_imports_are_optional_heavy_ones():
    bad = []
    for name, path in MODULES.items():
        for line, mod in _third_party_in_functions(path):
            if mod.split(".")[0] not in LAZY_OK:
                bad.append(f"{_where(name, line)}: imports {mod} inside a function")
    assert not bad, "\n".join(bad)


def test_no_private_names_across_modules():
    bad = []
    for name, imports in GRAPH.items():
        tier = _tier_of(name)
        modules_bound = {}
        for imp in imports:
            if imp.target == "careshed._core" and (tier is None or TIERS[tier][0] not in CORE_USERS):
                bad.append(f"{_where(name, imp.line)}: uses careshed._core (only {sorted(CORE_USERS)} may)")
            for n in imp.names:
                if n.startswith("_") and not n.startswith("__") and imp.target != name:
                    bad.append(f"{_where(name, imp.line)}: imports private {imp.target}.{n}")
            if not imp.names:
                modules_bound[imp.target.rpartition(".")[2]] = imp.target
        tree = ast.parse(MODULES[name].read_text())
        for node in ast.walk(tree):            # io._atomic(...) on an imported careshed module
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules_bound and modules_bound[node.value.id] != "careshed._core"
                    and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                bad.append(f"{_where(name, node.lineno)}: uses private {modules_bound[node.value.id]}.{node.attr}")
    assert not bad, "private names used across modules:\n" + "\n".join(bad)


def _expected_test(name: str) -> str | None:
    path = MODULES[name]
    if name == "careshed":
        return "test_init.py"
    if path.name == "__init__.py" or path.name == "__main__.py":
        return None                            # subpackage __init__ only re-exports; __main__ calls cli.main
    return "test_" + "_".join(name.split(".")[1:]) + ".py"


def test_tests_mirror_the_package():
    expected = {n: _expected_test(n) for n in MODULES}
    missing = sorted(f"{MODULES[n].relative_to(ROOT)} -> tests/python/{t}" for n, t in expected.items()
                     if t and not (TESTS / t).exists())
    present = {p.name for p in TESTS.glob("test_*.py")}
    stray = sorted(present - set(expected.values()) - set(CROSS_CUTTING_TESTS))
    assert not missing and not stray, (f"modules without their test file: {missing}\n"
                                       f"test files mirroring no module: {stray}")


@pytest.mark.parametrize("subpackage", ["io", "arrays", "analyses", "cli"])
def test_subpackage_inits_only_reexport(subpackage):
    """A subpackage's __init__ holds no logic (so a reader finds every function in a named module)."""
    init = PACKAGE / subpackage / "__init__.py"
    if not init.exists():
        pytest.fail(f"{init.relative_to(ROOT)} is missing")
    tree = ast.parse(init.read_text())
    logic = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
    assert not logic, f"{init.relative_to(ROOT)} defines {[n.name for n in logic]}; move them into a module"
