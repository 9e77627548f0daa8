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
SCANNED = ("sim", "worlds", "agents", "analysis", "viz", "experiments", "benchmarks")

# The core: these modules may import only the standard library and CORE_ALLOWED.
CORE = ("sim/",)
CORE_EXCEPTIONS = (
    "sim/env.py",    # the PettingZoo / Gymnasium adapter
    "sim/model.py",  # the Mesa adapter
    # the command line (DESIGN.md: "run: the command line", `python -m sim.run`): it drives
    # scripted and trained fishers from agents/ and prints with rich. It is no adapter, so
    # ONLY_IN and NEVER_IN still hold for it: no torch, stable-baselines3 or pygame here.
    "sim/run.py",
)
# numba: the core's hot paths are compiled kernels (sim/kernels.py; one thread, no parallel
# runtime): the throughput target of the core (>= 1M agent-steps/s on one thread) needs them
CORE_ALLOWED = {"numpy", "numba", "sim", "worlds"}

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


def imports(source: str, package: str) -> list[tuple[str, int]]:
    """(top-level name, line) of every import in source; relative imports resolve to `package`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((package if node.level else (node.module or "").split(".")[0], node.lineno))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("__import__", "import_module")))):
            found.append((node.args[0].value.split(".")[0], node.lineno))
    return found


def violations(path: str, source: str) -> list[str]:
    """Every layering rule that the module at `path` (posix, relative to the root) breaks."""
    out = []
    in_core = path.startswith(CORE) and path not in CORE_EXCEPTIONS
    for name, line in imports(source, path.split("/")[0]):
        where = f"{path}:{line} imports {name}"
        if in_core and name not in STDLIB and name not in CORE_ALLOWED:
            out.append(f"{where}: the core imports only the standard library and {sorted(CORE_ALLOWED)}")
        if name in ONLY_IN and not path.startswith(ONLY_IN[name]):
            out.append(f"{where}: {name} belongs in {ONLY_IN[name]} only")
        if name in NEVER_IN and path.startswith(NEVER_IN[name]):
            out.append(f"{where}: {name} must never be imported in {NEVER_IN[name]}")
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
    ("sim/run.py", "from agents.scripted import make_scripted\nfrom rich.table import Table", False),
    ("sim/run.py", "import torch", True),
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
                  and p.as_posix() not in CORE_EXCEPTIONS and p.name not in ("__init__.py", "__main__.py"))
    code = (f"import importlib, sys\nfor m in {core!r}: importlib.import_module(m)\n"
            f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"importing the core loaded {out.stdout.strip()}"
