"""Batch studies: the headline experiments as spec files, run locally or on a cluster, resumable.

    from experiments import run_study
    run_study("teach_vs_incentivize", scale="smoke")            # a local process pool
    run_study("experiments/studies/transfer.toml", executor=client.get_executor(pure=False))

See experiments.run for the command line and docs/studies.md for the studies.
"""

from __future__ import annotations

from typing import Any

import agents  # noqa: F401  (sets OMP_WAIT_POLICY before anything here imports torch)

__all__ = ["load_spec", "run_study", "write_report"]


def __getattr__(name: str) -> Any:
    # lazy: `import experiments` stays cheap in the spawned workers that only need experiments.work
    if name == "run_study":
        from experiments.runner import run_study

        return run_study
    if name == "load_spec":
        from experiments.spec import load_spec

        return load_spec
    if name == "write_report":
        from experiments.report import write_report

        return write_report
    raise AttributeError(f"module 'experiments' has no attribute {name!r}")
