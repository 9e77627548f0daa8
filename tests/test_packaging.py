"""The wheel holds every data file the code reads: installed outside the checkout, training finds its
hyperparameters, studies their specs and the loader its worlds (CI also installs the wheel into a
clean environment and runs the commands: .ci/wheel_check.sh)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# (package folder, glob) of every data file the code reads at run time
DATA = [("agents", "hyperparams.toml"), ("experiments", "studies/*.toml"), ("worlds", "suites.toml"),
        ("worlds", "*/world.toml"), ("worlds", "*/map.txt")]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    src = out / "src"  # a copy: building in the checkout would leave build/ and *.egg-info there
    skip = shutil.ignore_patterns(".venv", ".git", "runs", "build", "docs", "tests", "__pycache__",
                                  "*.egg-info", ".*_cache")
    shutil.copytree(ROOT, src, ignore=skip)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(out), str(src)], capture_output=True, text=True, timeout=600)
    if build.returncode != 0 and "No module named" in build.stderr:
        pytest.skip(f"cannot build a wheel here: {build.stderr.strip().splitlines()[-1]}")
    assert build.returncode == 0, build.stderr[-2000:]
    (path,) = out.glob("hungry_fisher-*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_ships_every_data_file_the_code_reads(wheel):
    names = set(wheel.namelist())
    expected = [p.relative_to(ROOT).as_posix()
                for folder, pattern in DATA for p in (ROOT / folder).glob(pattern)]
    assert len(expected) >= 12
    missing = [e for e in expected if e not in names]
    assert not missing, f"not in the wheel: {missing}"


def test_the_wheel_ships_every_package(wheel):
    names = set(wheel.namelist())
    for package in ("sim", "worlds", "agents", "viz", "analysis", "experiments", "app"):
        assert f"{package}/__init__.py" in names, package
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/")) for n in names)
