"""`python -m benchmarks.viz --quick` runs end to end (its export rewrites its own GIF each repeat)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_viz_benchmark_runs():
    out = subprocess.run([sys.executable, "-m", "benchmarks.viz", "--quick"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, env={**os.environ, "SDL_VIDEODRIVER": "dummy"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "lake_1280x720_all_overlays" in out.stdout and "export_gif" in out.stdout
