"""A run being trained: its clock, learning-curve points, checkpoints and manifest, the SB3
callback that drives them at rollout boundaries, the end of training (final.zip, the
weights-only policy file, the summary), and resuming an interrupted run.

The clock counts the wall time of learning only: evaluation and checkpoint writing are left
out, so train_seconds compares across runs with other evaluation or checkpoint intervals.
Everything the bookkeeping needs to continue (the clock, the last evaluation and checkpoint)
is saved with each checkpoint (agents.checkpoints), so a resumed run picks it up exactly.
"""

from __future__ import annotations

import io
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents import checkpoints as ck
from agents import models
from agents.learning_curve import evaluate
from agents.run_folders import CURVE, append_command, append_curve_row, cut_curve, parse_config
from agents.run_lock import RunLock
from sim.cli import UsageError


class Run:
    """A run folder being written: config, manifest, curve, checkpoints."""

    def __init__(self, path: Path, config: dict[str, Any], manifest: ck.Manifest, meta: dict[str, Any]):
        self.path, self.config, self.manifest = path, config, manifest
        self.train_offset = float(meta.get("train_seconds", 0.0))
        self.last_eval = int(meta.get("last_eval_ts", -1))
        self.last_ckpt = int(meta.get("last_ckpt_ts", -1))
        self.t0 = time.perf_counter()
        self.excluded = 0.0
        self.last_result: dict[str, float] | None = None
        self.progress_lines = False  # plain progress lines on stderr (learn: a log or CI, not a terminal)
        self.wall_start = time.perf_counter()
        self.ts_start = 0

    # the clock: wall time of learn() minus evaluation and checkpoint writing
    def clock_start(self) -> None:
        self.t0, self.excluded = time.perf_counter(), 0.0

    def train_seconds(self) -> float:
        return self.train_offset + time.perf_counter() - self.t0 - self.excluded

    def meta(self) -> dict[str, Any]:
        """What a checkpoint saves of the bookkeeping, for a resumed run's Run."""
        return {"train_seconds": self.train_seconds(), "last_eval_ts": self.last_eval,
                "last_ckpt_ts": self.last_ckpt}

    def boundary(self, model: Any) -> None:
        """At a rollout boundary: evaluate and checkpoint when their intervals have passed."""
        ts = model.num_timesteps
        every_eval, every_ckpt = self.config["eval_every"], self.config["checkpoint_every"]
        if self.last_eval < 0 or (every_eval > 0 and ts >= self.last_eval + every_eval):
            self.eval(model)
        if self.last_ckpt < 0 or (every_ckpt > 0 and ts >= self.last_ckpt + every_ckpt):
            self.checkpoint(model)

    def eval(self, model: Any) -> None:
        """A learning-curve point: a row of the curve and eval/* tensorboard scalars."""
        start = time.perf_counter()
        seconds = self.train_seconds()
        result = evaluate(model, self.config["world"], self.config["eval"])
        elapsed = time.perf_counter() - start
        row = {"timesteps": model.num_timesteps, "train_seconds": seconds, **result, "eval_seconds": elapsed}
        append_curve_row(self.path / CURVE, row)
        for k in ("meals_per_day", "survival", "reel_empty_rate", "storm_sheltered"):
            if not math.isnan(result[k]):
                model.logger.record(f"eval/{k}", result[k])
        self.last_eval, self.last_result = model.num_timesteps, result
        self.excluded += time.perf_counter() - start
        if self.progress_lines:
            self.progress_line(model.num_timesteps, result["meals_per_day"])

    def progress_line(self, ts: int, meals: float) -> None:
        """One plain line for a log: samples, speed, meals per day so far and the time left."""
        total = self.config["steps"]
        wall = time.perf_counter() - self.wall_start
        rate = (ts - self.ts_start) / wall if wall > 0 and ts > self.ts_start else 0.0
        eta = f"{(total - ts) / rate / 60:.1f} min" if rate > 0 else "?"
        print(f"training: {ts:,}/{total:,} samples ({100 * ts / max(total, 1):.0f}%), {rate:,.0f} samples/s, "
              f"{meals:.2f} meals per fisher-day, ETA {eta}", file=sys.stderr, flush=True)

    def checkpoint(self, model: Any) -> None:
        start = time.perf_counter()
        self.last_ckpt = model.num_timesteps
        ck.write_checkpoint(self.manifest, model, self.meta())
        self.update_manifest()
        self.excluded += time.perf_counter() - start

    def update_manifest(self) -> None:
        m = self.manifest
        m.record(*[p for p in ("config.json", "command.txt", "versions.json", CURVE, "final.zip")
                   if (self.path / p).exists()])
        m.record_tree("tensorboard")
        m.write()


def run_callback(run: Run) -> Any:
    """The SB3 callback that calls the run's bookkeeping (SB3 is imported only when training)."""
    from stable_baselines3.common.callbacks import BaseCallback  # deferred: heavy at start-up

    class RunCallback(BaseCallback):
        """Evaluations and checkpoints at rollout boundaries, and the training-time clock."""

        def __init__(self, run: Run):
            super().__init__(verbose=0)
            self.run = run

        def _on_training_start(self) -> None:
            self.run.clock_start()

        def _on_rollout_start(self) -> None:
            self.run.boundary(self.model)

        def _on_step(self) -> bool:
            return True

    return RunCallback(run)


def learn(run: Run, model: Any, progress: bool, callbacks: Sequence[Any], reset: bool) -> Path:
    """Train to the config's steps, then write the last point, checkpoint, final.zip and policy file."""
    config, path = run.config, run.path
    remaining = config["steps"] - model.num_timesteps
    bar = progress and sys.stderr.isatty()  # a bar in a terminal; plain lines in a log or CI
    run.progress_lines = progress and not bar
    run.wall_start, run.ts_start = time.perf_counter(), model.num_timesteps
    model.learn(total_timesteps=remaining, callback=[run_callback(run), *callbacks],
                tb_log_name=config["algo"], reset_num_timesteps=reset, progress_bar=bar)
    if run.last_eval != model.num_timesteps:
        run.eval(model)
    if run.last_ckpt != model.num_timesteps:
        run.checkpoint(model)
    model.logger.record("time/train_seconds", run.train_seconds())
    model.logger.dump(model.num_timesteps)
    model.logger.close()
    blob = ck.model_bytes(model)
    ck.atomic_write(path / "final.zip", blob)
    run.manifest.record_bytes("final.zip", blob)
    _export(model, run)
    run.update_manifest()
    if progress:
        summary(run, model)
    return path


def _export(model: Any, run: Run) -> None:
    """policy.json + policy.npz: the weights-only policy file (agents.policies), when that module is there."""
    try:
        from agents.policy_network import export_policy
    except ImportError:
        return
    npz, js = export_policy(model, run.path / "policy")
    run.manifest.record(npz, js)


def summary(run: Run, model: Any) -> None:
    """A few lines on stdout: samples and speed, the last learning-curve point, the hyperparameter
    sections used, where the run folder is."""
    r = run.last_result or {}
    secs = run.train_seconds()
    print(f"trained {run.config['algo']} for {model.num_timesteps:,} samples in {secs:.0f} s of training "
          f"({model.num_timesteps / max(secs, 1e-9):,.0f} samples/s)")
    if r:
        print(f"  meals per fisher-day {r['meals_per_day']:.3f} [{r['meals_per_day_low']:.3f}, "
              f"{r['meals_per_day_high']:.3f}], alive at the end {r['survival']:.2f} "
              f"({run.config['eval']['world']}, {run.config['eval']['n_worlds']} worlds, cohort)")
    sections = run.config.get("hyperparams_sections")
    if sections:
        names = ", ".join(f"[{s}]" for s in sections)
        print(f"  hyperparameters: {names} of {run.config['hyperparams_file']}")
    print(f"  run folder: {run.path}")
    print(f"  watch: tensorboard --logdir {run.path / 'tensorboard'}")


def resume_run(path: str | Path, progress: bool = True, threads: int | None = None,
               callbacks: Sequence[Any] = (), command: str | None = None) -> Path:
    """Continue an interrupted run from its last manifest-listed checkpoint, to its own config's
    steps (a finished run is left as it is); returns its path. threads: None keeps the run's own."""
    import torch  # noqa: F401  (imported after OMP_WAIT_POLICY is set, by agents.models)

    path = Path(path)
    if not path.is_dir():
        raise UsageError("--resume", f"{path} is not a folder")
    path = path.resolve()  # as a new run's: the manifest's files are relative to it
    with RunLock(path, "--resume"):  # one writer per run folder: refuses while another still trains it
        return _resume_locked(path, progress, threads, callbacks, command)


def _resume_locked(path: Path, progress: bool, threads: int | None, callbacks: Sequence[Any],
                   command: str | None) -> Path:
    try:
        manifest = ck.Manifest.load(path)
        config_bytes = manifest.verified_bytes("config.json")
    except ck.ManifestError as err:
        raise UsageError("--resume", str(err)) from None
    try:
        config = parse_config(config_bytes, str(path / "config.json"))
    except (ValueError, KeyError, TypeError) as err:
        raise UsageError("--resume", f"{path / 'config.json'} cannot be used ({err})") from None
    for stale in [*path.glob(".*.tmp"), *(path / ck.CHECKPOINTS).glob(".*.tmp")]:
        stale.unlink(missing_ok=True)  # half-written files of a killed process
    if "final.zip" in manifest.files:
        try:
            manifest.verified_bytes("final.zip")
        except ck.ManifestError as err:  # finished, but its final model is gone or damaged: rebuild it
            print(f"{path}: {err}; rebuilding final.zip from the last checkpoint", file=sys.stderr)
        else:
            if progress:
                print(f"{path}: already finished ({config['steps']:,} samples); nothing to do")
            return path
    listed = ck.listed_checkpoints(manifest)
    if not listed:
        raise UsageError("--resume", f"{path} has no checkpoint listed in its manifest; start a new run")
    ts = listed[-1]
    try:
        blob, state = ck.load_checkpoint(manifest, ts)
    except ck.ManifestError as err:
        raise UsageError("--resume", str(err)) from None
    model = models.make_model(config, path, int(threads or config.get("threads", 1)))
    try:
        model.set_parameters(io.BytesIO(blob), exact_match=True, device="cpu")
        ck.restore_state(model, state)
    except (ValueError, KeyError, RuntimeError) as err:
        raise UsageError("--resume", f"checkpoint {ck.checkpoint_names(ts)[0]} does not fit this run's "
                                     f"config ({err})") from None
    cut_curve(path / CURVE, ts)
    append_command(path, command or f"# python: agents.train.train(resume={str(path)!r})", ts)
    run = Run(path, config, manifest, ck.state_meta(state))
    if progress:
        print(f"resuming {path} at {ts:,} of {config['steps']:,} samples")
    return learn(run, model, progress, callbacks, reset=False)
