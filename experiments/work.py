"""What runs inside a worker: `run_task(task, study_dir)`, one task, its result written atomically.

The function is a plain module-level callable with plain-data arguments, so any
concurrent.futures executor can ship it: a spawned process pool or dask workers.
It sets one torch thread (OMP_WAIT_POLICY=PASSIVE before torch is imported: a spinning
OpenMP worker starves the numpy simulation, PROTOTYPE.md), leaves a `running/ID.json`
marker (pid, host, start) while it works, and writes `results/ID.json` with a temp file
and os.replace, so a reader or a crash sees either no result or a whole one. An
exception inside the task is returned as an error record, never raised: the runner
decides what fails for good; only a dying worker reaches the runner as an exception.
"""

from __future__ import annotations

import os

# one thread each (OMP_WAIT_POLICY comes with the agents package, imported by experiments/__init__)
for _var, _value in (("OMP_NUM_THREADS", "1"), ("MKL_NUM_THREADS", "1"), ("OPENBLAS_NUM_THREADS", "1"),
                     ("NUMBA_NUM_THREADS", "1")):
    os.environ.setdefault(_var, _value)  # before numpy / torch are imported by any task

import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from agents.checkpoints import atomic_write  # noqa: E402
from agents.run_folders import CURVE, read_curve  # noqa: E402
from experiments.tasks import file_name  # noqa: E402
from sim.cli import UsageError  # noqa: E402

RESULTS, RUNNING, RUNS = "results", "running", "runs"


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, numpy scalars and arrays plain numbers and lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist"):
        return _clean(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, data: Any) -> None:
    """Atomic JSON write (agents.checkpoints.atomic_write: a temp file beside it, fsync, os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(_clean(data), indent=1, sort_keys=True, allow_nan=False) + "\n")


def _one_torch_thread() -> None:
    import torch  # deferred: heavy at start-up

    torch.set_num_threads(1)


def run_task(task: dict[str, Any], study_dir: str) -> dict[str, Any]:
    """Run one task (Task.to_dict()) and store its result; returns the record (status done or error)."""
    root = Path(study_dir)
    name = file_name(task["id"]) + ".json"
    started = time.time()
    worker = {"pid": os.getpid(), "host": socket.gethostname()}
    write_json(root / RUNNING / name, {"id": task["id"], "started": started, **worker})
    record: dict[str, Any] = {"id": task["id"], "kind": task["kind"], "key": task["key"],
                              "params": task["params"], "worker": worker}
    try:
        result = KINDS[task["kind"]](task["params"], root, task)
    except Exception as err:  # the task's own failure: reported, not retried (it would fail again)
        from experiments.hooks import FineTuneUnavailable  # deferred: heavy at start-up

        record.update(status="skipped" if isinstance(err, FineTuneUnavailable) else "error",
                      error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc(limit=8),
                      seconds=time.time() - started)
        return record
    finally:
        (root / RUNNING / name).unlink(missing_ok=True)
    record.update(status="done", result=result, seconds=time.time() - started, started=started)
    write_json(root / RESULTS / name, record)
    return {k: record[k] for k in ("id", "kind", "key", "status", "seconds")}


def run_folder(root: Path, task_id: str) -> Path:
    return root / RUNS / file_name(task_id)


def _policy(params: dict[str, Any], root: Path, checkpoint: int | None = None, deterministic: bool = True):
    from agents.policies import load_policy  # deferred: heavy at start-up

    if "policy" in params:
        return load_policy(params["policy"], seed=params["seed"], deterministic=deterministic)
    _one_torch_thread()
    folder = run_folder(root, params["run"])
    if checkpoint is not None:
        from agents.checkpoints import checkpoint_names  # deferred: heavy at start-up

        path = folder / checkpoint_names(checkpoint)[0]
        if not path.exists():
            raise FileNotFoundError(f"{path}: the checkpoint this probe expects is missing (the training "
                                    f"config and experiments.tasks.checkpoint_steps disagree)")
        return load_policy(path, seed=params["seed"], deterministic=deterministic)
    return load_policy(folder, seed=params["seed"], deterministic=deterministic)


def _curve(folder: Path) -> list[dict[str, float]]:
    rows = read_curve(folder / CURVE)
    return [{k: (float(v) if v != "" else None) for k, v in row.items()} for row in rows]


def _train(params: dict[str, Any], root: Path, task: dict[str, Any]) -> dict[str, Any]:
    """agents.train.train into runs/ID; a folder left by a killed worker is resumed (or restarted)."""
    from agents.train import train  # deferred: heavy at start-up

    _one_torch_thread()
    folder = run_folder(root, task["id"])
    stamp = folder.with_name(folder.name + ".key")  # beside the folder: train() wants an empty one
    if folder.exists():
        try:
            if not stamp.exists() or stamp.read_text().strip() != task["key"]:
                raise UsageError("--resume", "made for another task")
            train(resume=folder, progress=False, threads=1)
        except UsageError:
            shutil.rmtree(folder)  # nothing resumable (killed before its first checkpoint, or stale)
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(task["key"] + "\n")
        train(world=params["world"], worlds=params["worlds"], algo=params["algo"], steps=params["steps"],
              seed=params["seed"], reward=params["reward"], out=folder, progress=False, threads=1,
              checkpoint_every=params["checkpoint_every"], eval_every=params["eval_every"],
              overrides=params["overrides"])
    return _run_summary(folder, root)


def _run_summary(folder: Path, root: Path) -> dict[str, Any]:
    from agents.checkpoints import Manifest, listed_checkpoints  # deferred: heavy at start-up

    config = json.loads((folder / "config.json").read_text())
    return {"run": str(folder.relative_to(root)), "steps": config["steps"],
            "checkpoints": listed_checkpoints(Manifest.load(folder)), "curve": _curve(folder)}


def _evaluate(params: dict[str, Any], root: Path, task: dict[str, Any]) -> dict[str, Any]:
    """The policy in n worlds of one kind (agents.rollout.run_policy): per-world metrics."""
    from agents.rollout import run_policy

    policy = _policy(params, root, deterministic=params["deterministic"])
    roll = run_policy(policy, params["world"], n_worlds=params["episodes"], n_fishers=params["fishers"],
                      ticks=params["ticks"], seed=params["eval_seed"], respawn=params["respawn"])
    metrics = ("meals_per_day", "survival", "deaths_per_day", "reel_empty_rate", "storm_sheltered",
               "cast_rate_falling", "cast_rate_steady")
    return {"per_world": {m: roll.per_world(m) for m in metrics}}


def _probe(params: dict[str, Any], root: Path, task: dict[str, Any]) -> dict[str, Any]:
    from experiments.hooks import probe_skills  # deferred: heavy at start-up

    policy = _policy(params, root, checkpoint=params["checkpoint"], deterministic=True)
    return probe_skills(policy, params["world"], seed=params["probe_seed"], scale=params["scale"],
                        source=params["source"])


def _finetune(params: dict[str, Any], root: Path, task: dict[str, Any]) -> dict[str, Any]:
    from experiments.hooks import fine_tune  # deferred: heavy at start-up

    _one_torch_thread()
    folder = run_folder(root, task["id"])
    if folder.exists():
        shutil.rmtree(folder)  # a fine-tune killed midway starts over (it is short)
    folder.parent.mkdir(parents=True, exist_ok=True)
    fine_tune(run_folder(root, params["run"]), params["world"], params["steps"], params["seed"], folder,
              params["overrides"], eval_every=params["eval_every"])
    return _run_summary(folder, root)


def _sweep(params: dict[str, Any], root: Path, task: dict[str, Any]) -> dict[str, Any]:
    from experiments.ecosystem import sweep_cell  # deferred: heavy at start-up

    return sweep_cell(**params)


def _noop(params: dict[str, Any], root: Path, task: dict[str, Any]) -> dict[str, Any]:
    """For measuring the runner's own cost per task (experiments.runner.measure_overhead)."""
    time.sleep(params.get("seconds", 0.0))
    return {}


KINDS = {"train": _train, "evaluate": _evaluate, "probe": _probe, "finetune": _finetune, "sweep": _sweep,
         "noop": _noop}
