"""Run a study's tasks on any concurrent.futures.Executor; nothing finished is ever done twice.

`run_study(spec, scale, executor, out)` expands the spec (experiments.tasks), skips every
task whose result file is already in the study folder with the same key, and submits the
rest as their parents finish (dependents go out the moment their last parent is stored,
not in waves). The executor is any concurrent.futures.Executor:

- None: a local process pool (spawn context, one task per core, no extra service);
- a dask `Client.get_executor(pure=False)` (a LocalCluster or a scheduler address;
  `python -m experiments.run --executor dask` builds one).

Failures, by cause:
- a worker process dies (BrokenProcessPool locally; KilledWorker or a lost connection on
  dask): its tasks are resubmitted, after recreating a broken local pool, up to
  `max_attempts` times each;
- a task raises: recorded with its error in failures.json, not retried (it would fail the
  same way); its dependents are not run; the rest of the study completes;
- the runner itself is killed or interrupted: rerun the same command, finished tasks are
  kept and the rest continue (a half-trained run resumes from its last checkpoint).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from experiments.spec import load_spec
from experiments.tasks import Task, all_tasks, file_name
from experiments.work import RESULTS, RUNNING, run_task, write_json
from sim.cli import local_executor

DEFAULT_ROOT = Path("runs") / "studies"
MAX_ATTEMPTS = 3


@dataclass
class StudyResult:
    """What a run of the runner did; `failures` maps task id to its error line."""

    folder: Path
    total: int
    already_done: int
    ran: int = 0
    retried: int = 0
    pool_restarts: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.failures and not self.skipped


def study_folder(spec: dict[str, Any], out: str | Path | None) -> Path:
    return Path(out) if out is not None else DEFAULT_ROOT / f"{spec['name']}-{spec['scale']}"


def finished(folder: Path, tasks: list[Task]) -> set[str]:
    """Ids of tasks whose stored result has the task's current key (an edited spec reruns what changed)."""
    done = set()
    for t in tasks:
        path = folder / RESULTS / (file_name(t.id) + ".json")
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if record.get("status") == "done" and record.get("key") == t.key:
            done.add(t.id)
    return done


def _progress(total: int, initial: int, enabled: bool, label: str):
    return tqdm(total=total, initial=initial, disable=not enabled, desc=label, unit="task",
                dynamic_ncols=True, file=sys.stderr)


def _is_worker_loss(err: BaseException) -> bool:
    """A dead worker or a lost connection (retry), as opposed to nothing we can fix by retrying."""
    if isinstance(err, BrokenProcessPool | cf.CancelledError | ConnectionError | EOFError | OSError):
        return True
    return type(err).__name__ in ("KilledWorker", "CommClosedError", "FutureCancelledError")


def run_study(spec: str | Path | dict[str, Any], scale: str = "smoke", executor: cf.Executor | None = None,
              out: str | Path | None = None, workers: int | None = None, progress: bool = True,
              report: bool = True, max_attempts: int = MAX_ATTEMPTS,
              on_event: Callable[[str, str], None] | None = None) -> StudyResult:
    """Run (or continue) a study and write its tables and report; returns what was done.

    Args:
        spec: a spec file, a shipped study's name, or a spec already resolved by load_spec.
        scale: "smoke" (minutes) or "full".
        executor: any concurrent.futures.Executor (None: a local spawn process pool of
            `workers` processes, created and shut down here).
        out: the study folder (default runs/studies/NAME-SCALE); rerunning into it continues.
        max_attempts: how often a task may be started when its worker dies under it.
        on_event: called as on_event(event, task_id) for "submit", "done", "error", "retry".
    """
    start = time.perf_counter()
    resolved = spec if isinstance(spec, dict) else load_spec(spec, scale)
    tasks = all_tasks(resolved)
    folder = study_folder(resolved, out)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "study.json", resolved)
    write_json(folder / "tasks.json", [t.to_dict() for t in tasks])
    for stale in (folder / RUNNING).glob("*.json"):
        stale.unlink(missing_ok=True)  # markers of workers that were killed with a previous run
    done = finished(folder, tasks)
    result = StudyResult(folder, len(tasks), len(done))
    todo = {t.id: t for t in tasks if t.id not in done}
    if todo:
        own = executor is None
        pool = local_executor(workers) if own else executor
        try:
            pool = _schedule(todo, done, folder, pool, own, result, progress, max_attempts, on_event,
                             label=f"{resolved['name']} ({resolved['scale']})")
        finally:
            if own or pool is not executor:  # ours, or a replacement for a caller's broken pool
                pool.shutdown(wait=False, cancel_futures=True)
    _write_failures(folder, result)
    result.seconds = time.perf_counter() - start
    write_json(folder / "last_run.json", {"total": result.total, "already_done": result.already_done,
                                          "ran": result.ran, "retried": result.retried,
                                          "pool_restarts": result.pool_restarts, "seconds": result.seconds,
                                          "failures": result.failures, "skipped": result.skipped})
    if report:
        from experiments.report import write_report  # deferred: heavy at start-up

        write_report(folder)
    return result


def _write_failures(folder: Path, result: StudyResult) -> None:
    path = folder / "failures.json"
    if result.failures or result.skipped:
        write_json(path, {"failed": result.failures, "skipped": result.skipped})
    else:
        path.unlink(missing_ok=True)


def _schedule(todo: dict[str, Task], done: set[str], folder: Path, pool: cf.Executor, own: bool,
              result: StudyResult, progress: bool, max_attempts: int,
              on_event: Callable[[str, str], None] | None, label: str) -> cf.Executor:
    """Submit ready tasks, collect, resubmit after worker loss; returns the (possibly new) pool."""
    emit = on_event or (lambda event, task_id: None)
    attempts: dict[str, int] = {}
    running: dict[cf.Future, Task] = {}
    lost: set[str] = set()  # failed, skipped or blocked: their dependents never run

    def submit(task: Task) -> None:
        attempts[task.id] = attempts.get(task.id, 0) + 1
        running[pool.submit(run_task, task.to_dict(), str(folder))] = task
        emit("submit", task.id)

    def submit_ready() -> None:
        busy = {t.id for t in running.values()}
        for tid, task in list(todo.items()):
            if tid in busy or tid in lost:
                continue
            if any(d in lost for d in task.deps):
                lost.add(tid)
                parents = [d for d in task.deps if d in lost]
                result.skipped[tid] = f"not run: a task it needs failed ({parents})"
                del todo[tid]
                continue
            if all(d in done for d in task.deps):
                submit(task)

    bar = _progress(result.total, result.already_done, progress, label)
    try:
        submit_ready()
        while running:
            ready, _ = cf.wait(list(running), return_when=cf.FIRST_COMPLETED)
            broken = False
            retry: list[Task] = []
            for fut in ready:
                task = running.pop(fut)
                try:
                    record = fut.result()
                except BaseException as err:  # the worker, not the task, failed
                    if isinstance(err, KeyboardInterrupt) or not _is_worker_loss(err):
                        raise
                    broken |= isinstance(err, BrokenProcessPool)
                    retry.append(task)
                    continue
                _collect(task, record, todo, done, lost, result, bar, emit)
            if broken and own or broken and isinstance(pool, cf.ProcessPoolExecutor):
                # every future of a broken pool fails; collect the rest and start a new pool
                for fut in list(running):
                    retry.append(running.pop(fut))
                n = getattr(pool, "_max_workers", None)
                pool.shutdown(wait=False, cancel_futures=True)
                pool = local_executor(n)
                result.pool_restarts += 1
            for task in retry:
                if task.id in finished(folder, [task]):  # it finished before its worker went down
                    _collect(task, {"status": "done"}, todo, done, lost, result, bar, emit)
                elif attempts[task.id] >= max_attempts:
                    lost.add(task.id)
                    del todo[task.id]
                    result.failures[task.id] = f"its worker died {attempts[task.id]} times"
                    emit("error", task.id)
                else:
                    result.retried += 1
                    emit("retry", task.id)
                    submit(task)
            submit_ready()
            _write_failures(folder, result)
    except BaseException:
        for fut in running:
            fut.cancel()
        raise
    finally:
        bar.close()
    return pool


def _collect(task: Task, record: dict[str, Any], todo: dict[str, Task], done: set[str], lost: set[str],
             result: StudyResult, bar: Any, emit: Callable[[str, str], None]) -> None:
    del todo[task.id]
    if record.get("status") == "done":
        done.add(task.id)
        result.ran += 1
        emit("done", task.id)
    else:
        lost.add(task.id)
        target = result.skipped if record.get("status") == "skipped" else result.failures
        target[task.id] = record.get("error", "unknown error")
        emit("error", task.id)
    bar.update(1)


def measure_overhead(executor: cf.Executor | None = None, n: int = 30, folder: str | Path | None = None,
                     workers: int = 1) -> dict[str, float]:
    """The runner's cost per task: round trips of empty tasks (submit, run_task's marker and atomic result
    write, collect), one at a time after a warm-up; seconds per task (median, max)."""
    own = executor is None
    pool = local_executor(workers) if own else executor
    tmp = tempfile.TemporaryDirectory() if folder is None else None
    root = Path(tmp.name if tmp else folder)
    try:
        pool.submit(run_task, Task("warm", "noop", {}).to_dict(), str(root)).result()  # worker start-up
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            pool.submit(run_task, Task(f"noop/{i}", "noop", {}).to_dict(), str(root)).result()
            times.append(time.perf_counter() - t0)
        times.sort()
        return {"n": n, "median_s": times[n // 2], "max_s": times[-1], "mean_s": sum(times) / n}
    finally:
        if own:
            pool.shutdown()
        if tmp:
            tmp.cleanup()
