"""Layering: each framework stays in its adapter, and the simulation core imports numpy only
(and numba, for its compiled kernels in sim/kernels.py).

Every module of the project's packages is parsed (ast) and its imports checked against
the tables below, including imports inside functions and `importlib.import_module("x")`
with a literal name. To change the architecture, edit a table (and say why in a
comment); the checks themselves need no change.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the project's code; tests/ is left out on purpose (tests run the frameworks' own checkers)
SCANNED = ("worlds", "sim", "agents", "viz", "analysis", "experiments", "app", "benchmarks")

# The floors the project stands on, lowest first: a module imports the project's modules only from
# its own floor or below, never from above. The most specific prefix decides a module's floor.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("worlds/",),                 # world files, their schema and loader, the generator
    ("viz/human_window.py",),     # a pygame window for RGB frames, knowing nothing else: render_mode="human"
    ("sim/",),                    # the core: numpy (and numba) only
    ("sim/env.py",),              # the PettingZoo / Gymnasium adapter over the core
    ("agents/",),                 # scripted and trained fishers, the SB3 VecEnv, training
    # the Mesa adapter runs fishers by name (scripted:NAME or a policy file), so it stands on agents;
    # sim/__init__.py is the package's lazy facade over the core and its views
    ("sim/model.py", "sim/__init__.py"),
    ("viz/",),                    # pygame views of recorded and live worlds
    ("analysis/",),               # probes, transfer, statistics, reports
    ("experiments/",),            # studies from spec files
    ("app/",),                    # the commands a person runs: the main job, evaluation
    ("benchmarks/",),             # measures everything, used by nothing
)

# The core: these modules may import only the standard library and CORE_ALLOWED.
CORE = ("sim/",)
CORE_ADAPTERS = ("sim/env.py", "sim/model.py", "sim/__init__.py")  # frameworks enter here, not in the core
# numba: the core's hot paths are compiled kernels (sim/kernels.py; one thread, no parallel
# runtime): the throughput target of the core (>= 1M agent-steps/s on one thread) needs them
CORE_ALLOWED = {"numpy", "numba", "sim", "worlds"}
PROJECT = {top for top in SCANNED if top != "benchmarks"} | {"benchmarks"}

# package -> the only places (path prefixes) that may import it
ONLY_IN: dict[str, tuple[str, ...]] = {
    "pettingzoo": ("sim/env.py", "agents/"),
    # benchmarks/training.py builds a null VecEnv with the same spaces, to measure SB3's ceiling
    "gymnasium": ("sim/env.py", "agents/", "benchmarks/"),
    # viz/web.py: the browser view for modellers is Mesa's own SolaraViz (the optional extra web)
    "mesa": ("sim/model.py", "benchmarks/", "experiments/", "viz/web"),
    "solara": ("viz/web",),  # only the browser view; nothing else may need the web extra
    "pygame": ("viz/",),
}
# package -> places (path prefixes) that must never import it
NEVER_IN: dict[str, tuple[str, ...]] = {
    "stable_baselines3": ("sim/", "worlds/"),
    "sb3_contrib": ("sim/", "worlds/"),
    "torch": ("sim/", "worlds/"),
    "pygame": ("sim/", "worlds/"),
}
FRAMEWORKS = sorted(set(ONLY_IN) | set(NEVER_IN))
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def modules() -> list[Path]:
    """Every Python file of the scanned packages (relative to the repository root)."""
    out = []
    for top in SCANNED:
        files = sorted((ROOT / top).rglob("*.py"))
        out += [p.relative_to(ROOT) for p in files if "__pycache__" not in p.parts]
    return out


def _is_main_guard(node: ast.AST) -> bool:
    """`if __name__ == "__main__":`: how `python -m pkg.mod` starts a command, not a dependency."""
    test = getattr(node, "test", None)
    return (isinstance(node, ast.If) and isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == "__main__")


def _walk(tree: ast.AST, entry_points: bool):
    """Every node, except (when entry_points is False) the bodies of `__main__` guards."""
    for node in ast.iter_child_nodes(tree):
        if not entry_points and _is_main_guard(node):
            continue
        yield node
        yield from _walk(node, entry_points)


def imported_modules(source: str, path: str, entry_points: bool = True) -> list[tuple[str, int]]:
    """(dotted module, line) of every import in source, relative imports resolved against `path`;
    `from pkg import mod` names pkg.mod when that module exists in the project."""
    package = path.rsplit("/", 1)[0].replace("/", ".") if "/" in path else ""
    found = []
    for node in _walk(ast.parse(source), entry_points):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                is_module = (ROOT / (sub.replace(".", "/") + ".py")).exists()
                found.append((sub if is_module else base, node.lineno))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("__import__", "import_module")))):
            found.append((node.args[0].value, node.lineno))
    return found


def imports(source: str, package: str) -> list[tuple[str, int]]:
    """(top-level name, line) of every import in source (entry points included)."""
    return [(name.split(".")[0], line) for name, line in imported_modules(source, f"{package}/x.py")]


def _module_path(name: str) -> str | None:
    """The repository path of a project module (a package names its __init__.py), else None."""
    rel = name.replace(".", "/")
    for candidate in (f"{rel}.py", f"{rel}/__init__.py"):
        if (ROOT / candidate).exists():
            return candidate
    return None


def floor_of(path: str) -> int:
    """The floor of a module path (FLOORS): the most specific prefix wins."""
    best, length = -1, -1
    for i, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if path.startswith(prefix) and len(prefix) > length:
                best, length = i, len(prefix)
    return best


def violations(path: str, source: str) -> list[str]:
    """Every layering rule that the module at `path` (posix, relative to the root) breaks."""
    out = []
    in_core = path.startswith(CORE) and path not in CORE_ADAPTERS
    for name, line in imported_modules(source, path, entry_points=False):
        top = name.split(".")[0]
        if in_core and top not in STDLIB and top not in CORE_ALLOWED:
            out.append(f"{path}:{line} imports {top}: the core imports only the standard library and "
                       f"{sorted(CORE_ALLOWED)}")
    for name, line in imports(source, path.split("/")[0]):  # frameworks: entry points included
        where = f"{path}:{line} imports {name}"
        if name in ONLY_IN and not path.startswith(ONLY_IN[name]):
            out.append(f"{where}: {name} belongs in {ONLY_IN[name]} only")
        if name in NEVER_IN and path.startswith(NEVER_IN[name]):
            out.append(f"{where}: {name} must never be imported in {NEVER_IN[name]}")
    mine = floor_of(path)
    for name, line in imported_modules(source, path, entry_points=False):
        if name.split(".")[0] not in PROJECT:
            continue
        target = _module_path(name) or f"{name.replace('.', '/')}.py"
        if floor_of(target) > mine:
            out.append(f"{path}:{line} imports {name}, a floor above it ({FLOORS[floor_of(target)][0]} over "
                       f"{FLOORS[mine][0]})")
    return out


MODULES = modules()


def test_the_scan_finds_the_core():
    found = {p.as_posix() for p in MODULES}
    assert {"sim/core.py", "sim/step.py", "worlds/loader.py"} <= found
    assert {"numpy", "sim", "worlds"} <= {n for n, _ in imports((ROOT / "sim/core.py").read_text(), "sim")}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.as_posix())
def test_every_module_keeps_to_its_layer(path):
    problems = violations(path.as_posix(), (ROOT / path).read_text())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("path", "source", "broken"), [
    ("sim/fish.py", "import numpy as np\nfrom sim import weather\nfrom . import rng\nimport math", False),
    ("sim/fish.py", "def f():\n    import scipy.stats\n", True),
    ("sim/kernels.py", "import numpy as np\nfrom numba import njit", False),
    ("sim/fish.py", "import importlib\nimportlib.import_module('pygame')", True),
    ("sim/step.py", "from torch import nn", True),
    ("sim/env.py", "import gymnasium\nfrom pettingzoo import ParallelEnv", False),
    ("sim/model.py", "import gymnasium", True),
    ("sim/model.py", "from mesa import Model", False),
    ("sim/run.py", "from agents.scripted import make_scripted", True),
    ("sim/run.py", "if __name__ == '__main__':\n    from app.run import main\n    main()", False),
    ("sim/run.py", "if __name__ == '__main__':\n    import pygame", True),
    ("app/run.py", "from agents.scripted import make_scripted\nfrom rich.table import Table", False),
    ("agents/train.py", "from analysis.stats import interval", True),
    ("agents/train.py", "def f():\n    from app.main_job import train_and_evaluate", True),
    ("analysis/report.py", "from agents.train import train", False),
    ("worlds/loader.py", "from sim import terrain", True),
    ("sim/state.py", "from . import fishers", False),
    ("sim/model.py", "from agents.policy_spec import resolve_policy", False),
    ("sim/env.py", "from agents.policy_spec import resolve_policy", True),
    ("sim/env.py", "def render(self):\n    from viz.human_window import HumanWindow", False),
    ("viz/human_window.py", "from sim.render import draw_scene", True),
    ("viz/play.py", "from analysis.probe import probe_policy", True),
    ("sim/record.py", "import rich", True),
    ("agents/vec_env.py", "import gymnasium\nimport stable_baselines3\nimport torch", False),
    ("agents/vec_env.py", "import mesa", True),
    ("worlds/generator.py", "import torch", True),
    ("viz/playback.py", "import pygame", False),
    ("analysis/probes.py", "import pygame", True),
    ("benchmarks/mesa_baseline.py", "import mesa", False),
    ("experiments/runner.py", "__import__('pettingzoo')", True),
])
def test_the_rules_catch_what_they_should(path, source, broken):
    assert bool(violations(path, source)) == broken


def test_importing_the_core_loads_no_framework():
    """The same rule at run time: no framework arrives through a chain of imports."""
    core = sorted(p.with_suffix("").as_posix().replace("/", ".") for p in MODULES
                  if p.as_posix().startswith(("sim/", "worlds/"))
                  and p.as_posix() not in CORE_ADAPTERS and p.name not in ("__init__.py", "__main__.py"))
    code = (f"import importlib, sys\nfor m in {core!r}: importlib.import_module(m)\n"
            f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"importing the core loaded {out.stdout.strip()}"


def import_graph() -> dict[str, set[str]]:
    """module path -> the project module paths it imports (anywhere but in its `__main__` guard)."""
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        posix = path.as_posix()
        targets = {_module_path(name) for name, _ in
                   imported_modules((ROOT / path).read_text(), posix, entry_points=False)}
        graph[posix] = {t for t in targets if t and t != posix and not t.endswith("__init__.py")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan): import circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a.py": {"b.py"}, "b.py": {"c.py"}, "c.py": {"a.py"}, "d.py": {"a.py"}}) == [
        ["a.py", "b.py", "c.py"]]
    assert cycles({"a.py": {"b.py"}, "b.py": set()}) == []


def test_no_module_imports_itself_back_through_others():
    """No import circles (also not through imports inside functions): each floor's modules stack too."""
    found = cycles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)
