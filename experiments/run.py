"""`python -m experiments.run SPEC`: run (or continue) a study and write its tables and report.

    python -m experiments.run teach_vs_incentivize                     # smoke scale, local processes
    python -m experiments.run transfer --scale full --workers 8
    python -m experiments.run emergence --executor dask                # a LocalCluster started here
    python -m experiments.run emergence --executor dask --address tcp://scheduler:8786
    python -m experiments.run experiments/studies/ecosystem.toml --plan  # the tasks, nothing run
    python -m experiments.run thesis --scale full --budgets 1,4        # a study in parts: cheap budgets first
    python -m experiments.run thesis --scale full --arms 'lake-*,gen1000-*'   # or some arms

SPEC is a spec file or the name of a shipped study (experiments/studies/NAME.toml). The
study folder (--out, default runs/studies/NAME-SCALE) keeps every finished task's result:
rerun the same command after a crash or Ctrl-C and it continues where it stopped.
Exit status: 0 every task done, 1 some task failed or was skipped (see failures.json and
report.md), 2 a bad spec or flag, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from experiments.spec import STUDY_SCALES, SpecError, load_spec
from experiments.tasks import all_tasks
from sim.cli import EXIT_USAGE, Parser, UsageError, output_folder, parse

EXIT_FAILED, EXIT_INTERRUPTED = 1, 130
ALLOWED_FAILURES = 2  # dask: how many workers may die under one task before it is given up


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m experiments.run", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", metavar="SPEC", help="a spec file or a shipped study's name")
    p.add_argument("--scale", choices=STUDY_SCALES, default="smoke",
                   help="smoke (default, minutes) or full")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local: a process pool (default); dask: dask.distributed (pip install '.[cluster]')")
    p.add_argument("--address", default=None, help="dask: a running scheduler's address (default: start a "
                                                    "LocalCluster of --workers processes)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="study folder (default runs/studies/NAME-SCALE)")
    p.add_argument("--force", action="store_true",
                   help="write into an --out folder that holds other files (or another study)")
    p.add_argument("--plan", action="store_true", help="list the tasks and the training budget; run nothing")
    p.add_argument("--report-only", action="store_true", help="rewrite tables and report from stored results")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--arms", type=lambda text: text.split(","), default=None, metavar="PATTERN,...",
                   help="only the arms whose names match these patterns (fnmatch: gen1000-*, lake-x16), "
                        "references kept (a study in parts, as --budgets)")
    p.add_argument("--budgets", type=budget_list, default=None, metavar="B,B,...",
                   help="only the arms of these [train] budgets (a study in parts: rerun without it to add "
                        "the rest; finished tasks are kept)")
    return p


def budget_list(text: str) -> list[int]:
    """An argparse type: budget multiples, e.g. 1,4."""
    try:
        out = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected budget multiples such as 1,4, got {text!r}") from None
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"expected budget multiples >= 1 such as 1,4, got {text!r}")
    return out


def only_arms(spec: dict, patterns: list[str]) -> dict:
    """The spec with only the trained arms matching these patterns (references stay); UsageError
    naming --arms when a pattern matches none."""
    trained = [a["name"] for a in spec.get("arms", []) if "policy" not in a]
    unmatched = [p for p in patterns if not fnmatch.filter(trained, p)]
    if unmatched:
        raise UsageError("--arms", f"expected patterns matching arms of this study ({', '.join(trained)}), "
                                   f"got {', '.join(unmatched)}")
    return {**spec, "arms": [a for a in spec["arms"]
                             if "policy" in a or any(fnmatch.fnmatchcase(a["name"], p) for p in patterns)]}


def only_budgets(spec: dict, budgets: list[int]) -> dict:
    """The spec with only the trained arms of these budgets (references stay); UsageError naming
    --budgets when the spec has no such budget."""
    have = spec.get("train", {}).get("budgets", [1])
    missing = [b for b in budgets if b not in have]
    if missing:
        raise UsageError("--budgets", f"expected budgets of this study ({', '.join(map(str, have))}), got "
                                      f"{', '.join(map(str, missing))}")
    return {**spec, "arms": [a for a in spec["arms"] if "policy" in a or a.get("budget", 1) in budgets],
            "train": {**spec["train"], "budgets": [b for b in have if b in budgets]}}


@contextlib.contextmanager
def dask_executor(address: str | None, workers: int | None) -> Iterator[object]:
    """A dask executor: a Client on `address`, or on a LocalCluster of one-thread worker processes."""
    import dask  # deferred: heavy at start-up
    from distributed import Client, LocalCluster  # deferred: heavy at start-up

    with contextlib.ExitStack() as stack:
        if address:
            client = stack.enter_context(Client(address))
        else:
            with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
                cluster = stack.enter_context(LocalCluster(
                    n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=40))
            client = stack.enter_context(Client(cluster))
        # pure=False: a task resubmitted after a worker died is a new key, not the lost one's
        yield client.get_executor(pure=False)


def _plan(spec: dict) -> None:
    tasks = all_tasks(spec)
    samples = sum(t.params["steps"] for t in tasks if t.kind in ("train", "finetune"))
    kinds: dict[str, int] = {}
    for t in tasks:
        kinds[t.kind] = kinds.get(t.kind, 0) + 1
    for t in tasks:
        print(f"{t.id}  <- {', '.join(t.deps) or '-'}")
    print(f"{len(tasks)} tasks ({', '.join(f'{v} {k}' for k, v in kinds.items())}); "
          f"{samples:,} training samples")


def _check_study_folder(folder: Path, spec: dict, report_only: bool, force: bool) -> Path:
    """The study folder, checked before any work: --report-only needs a study there; a run writes only
    into a new or empty folder or one of the same study (to continue it), never over other files."""
    marker = folder / "study.json"
    if report_only:
        if not marker.is_file():
            raise UsageError("--report-only", f"{folder} holds no study (no study.json); run the study first")
        return folder
    if marker.is_file():
        try:
            name = json.loads(marker.read_text()).get("name")
        except (OSError, ValueError, AttributeError):
            name = None
        if name != spec["name"] and not force:
            raise UsageError("--out", f"{folder} holds another study ({name!r}); choose a new folder or pass "
                                      f"--force")
        return folder
    return output_folder(folder, "--out", force)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2: a bad flag or spec, one line on stderr)."""
    args = parse(build_parser(), argv)
    if isinstance(args, int):  # --help, or a bad flag (already reported in one line)
        return args

    try:
        spec = load_spec(args.spec, args.scale)
    except SpecError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if args.workers is not None and args.workers < 1:
        print("error: --workers: expected an integer >= 1", file=sys.stderr)
        return EXIT_USAGE
    if args.budgets or args.arms:
        try:
            spec = only_budgets(spec, args.budgets) if args.budgets else spec
            spec = only_arms(spec, args.arms) if args.arms else spec
        except UsageError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_USAGE
    if args.plan:
        _plan(spec)
        return 0
    from experiments.runner import run_study, study_folder  # deferred: heavy at start-up

    try:
        folder = _check_study_folder(study_folder(spec, args.out), spec, args.report_only, args.force)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if args.report_only:
        from experiments.report import write_report  # deferred: heavy at start-up

        print(write_report(folder))
        return 0
    try:
        with contextlib.ExitStack() as stack:
            executor = None
            if args.executor == "dask":
                executor = stack.enter_context(dask_executor(args.address, args.workers))
            result = run_study(spec, executor=executor, out=args.out, workers=args.workers,
                               progress=not args.quiet)
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to continue (finished tasks are kept)", file=sys.stderr)
        return EXIT_INTERRUPTED
    folder = Path(result.folder)
    print(f"{spec['name']} ({spec['scale']}): {result.ran} tasks run, {result.already_done} already done, "
          f"{len(result.failures)} failed, {len(result.skipped)} skipped, {result.retried} retried, "
          f"{result.seconds:.0f} s")
    for tid, err in {**result.failures, **result.skipped}.items():
        print(f"  {tid}: {err}")
    print(f"report: {folder / 'report.md'}")
    return 0 if result.complete else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
