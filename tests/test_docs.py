"""The docs cite what anyone can rerun from a clone: no absolute folders of the machine they ran on."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([*ROOT.glob("docs/**/*.md"), *ROOT.glob("docs/**/*.json"), ROOT / "README.md",
               ROOT / "benchmarks" / "README.md"])
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:tmp|work|root|home|Users|var/folders)/")


def test_the_scan_sees_the_docs():
    assert len(DOCS) > 10 and (ROOT / "docs" / "main_job.md") in DOCS
    assert MACHINE_PATH.search("python -m sim.run --out /tmp/x") and not MACHINE_PATH.search("runs/tmp/x")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_absolute_machine_paths(path):
    hits = [f"{i}: {line.strip()[:120]}" for i, line in enumerate(path.read_text().splitlines(), 1)
            if MACHINE_PATH.search(line)]
    assert not hits, "name run folders relative to the repository (runs/...):\n" + "\n".join(hits)
