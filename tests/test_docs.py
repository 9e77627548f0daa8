"""The docs cite what anyone can rerun from a clone: no absolute folders of the machine they ran on.

Every file under docs/ (the markdown, the example report's JSON and CSV, even the images' metadata),
README.md and benchmarks/README.md: a run folder is named relative to the repository (runs/...) or by
the command that makes it, never as /tmp/..., /work/..., /home/... or /root/...
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([*(p for p in ROOT.glob("docs/**/*") if p.is_file()), ROOT / "README.md",
               ROOT / "benchmarks" / "README.md"])
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:tmp|work|root|home|Users|var/folders|mnt|private/var)/"
                          r"|\b[A-Za-z]:\\(?:Users|Windows|Temp)\\")


def test_the_scan_sees_the_docs():
    names = {p.relative_to(ROOT).as_posix() for p in DOCS}
    assert len(DOCS) > 10 and {"docs/main_job.md", "README.md", "docs/probes_validation.md"} <= names
    assert any(n.startswith("docs/example_report/") and n.endswith(".json") for n in names)
    assert any(n.endswith(".csv") for n in names)
    for bad in ("python -m sim.run --out /tmp/x", "see /work/main/runs/a", "/home/me/hf", "(/root/x)",
                "`/Users/me/runs`", r"C:\Users\me\runs"):
        assert MACHINE_PATH.search(bad), bad
    for fine in ("runs/tmp/x", "runs/work/a", "~/home/x", "docs/example_report/report.md", "and/or /s"):
        assert not MACHINE_PATH.search(fine), fine


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_absolute_machine_paths(path):
    text = path.read_bytes().decode("utf-8", errors="replace")  # an image's metadata is searched too
    hits = [f"{i}: {line.strip()[:120]}" for i, line in enumerate(text.splitlines(), 1)
            if MACHINE_PATH.search(line)]
    assert not hits, "name run folders relative to the repository (runs/...):\n" + "\n".join(hits)
