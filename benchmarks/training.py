"""Training throughput: SB3 `model.learn` with our FisherVecEnv against the same model on a null VecEnv.

    python -m benchmarks.training            # PPO and RecurrentPPO, 1 and 2 torch threads (a few minutes)
    python -m benchmarks.training --quick    # a tiny smoke run of the same code (figures meaningless)
    python -m benchmarks.training --json     # one JSON document on stdout

What is measured: samples (fisher-ticks) per second of `model.learn` (rollout collection plus the
PPO update), with the hyperparameters of agents/hyperparams.toml for the lake, built by the same
code as agents.train. "ours" steps our VecEnv (64 lake worlds x 4 fishers); "null" is a VecEnv
with the same spaces and slot count whose step costs nothing (a constant observation, zero reward)
and that replays the episode ends (deaths, and the horizon's truncations) recorded from our VecEnv
under random actions, so that both learners see the same episode boundaries (RecurrentPPO's update
cost grows with the number of sequences): SB3's ceiling for these hyperparameters on this machine.
Both are wrapped in VecMonitor, as in training. The ratio ours/null is the share of the ceiling
that training gets; the rest is the environment's cost (the target is >= 90%). The environment
alone (random actions, no policy) is timed too.

Each configuration is timed in one process: a warm-up rollout each, then `repeats` timed `learn`
calls of one rollout each, ours and null alternating (ours-null, null-ours, ...), so that load from
other processes hits both alike. fps is the best call; the ratio is the median over adjacent pairs
of null time / ours time (robust to load that comes and goes); "env step share" is the part of
ours' learn time spent inside our VecEnv's step_wait. OMP_WAIT_POLICY=PASSIVE is set before torch is
imported (with the default policy, 2 torch threads starve the numpy environment; PROTOTYPE.md).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from agents.hyperparams import load_hyperparams, world_keys
from agents.models import build_model
from agents.vec_env import INFO_KEYWORDS, make_vec_env

ROOT = Path(__file__).resolve().parent.parent


class NullVecEnv(VecEnv):
    """A VecEnv with given spaces whose step costs (almost) nothing: SB3's ceiling.

    It replays a recorded pattern of episode ends (`dones`, `truncated`: (T, num_envs) bools,
    cycled), so that the learner sees the same episode boundaries as with our VecEnv: the
    recurrent update's cost grows with the number of sequences, and PPO evaluates the value of
    each truncated slot's terminal observation on its own."""

    def __init__(self, num_envs: int, observation_space: spaces.Space, action_space: spaces.Space,
                 dones: np.ndarray, truncated: np.ndarray):
        self.render_mode = None
        super().__init__(num_envs, observation_space, action_space)
        self._obs = np.zeros((num_envs, *observation_space.shape), dtype=observation_space.dtype)
        self._rewards = np.zeros(num_envs, dtype=np.float32)
        self._dones, self._truncated = dones, truncated
        self._t = 0

    def reset(self) -> np.ndarray:
        self._t = 0
        return self._obs.copy()

    def step_async(self, actions: np.ndarray) -> None:
        pass

    def step_wait(self):
        t = self._t % len(self._dones)
        self._t += 1
        dones = self._dones[t]
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(dones):  # what our VecEnv reports when a life ends
            truncated = bool(self._truncated[t, i])
            infos[i] = {"meals": 0, "catches": 0, "lifetime": 0, "TimeLimit.truncated": truncated,
                        "terminal_observation": self._obs[i]}
        return self._obs.copy(), self._rewards.copy(), dones.copy(), infos

    def close(self) -> None:
        pass

    def get_attr(self, attr_name, indices=None):
        return [getattr(self, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name, value, indices=None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name, *args, indices=None, **kwargs):
        return [getattr(self, method_name)(*args, **kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False for _ in self._get_indices(indices)]


def episode_pattern(hp: dict[str, Any], ticks: int) -> tuple[np.ndarray, np.ndarray]:
    """(dones, truncated), each (ticks, slots), of our VecEnv under uniformly random actions: what a
    freshly initialised policy (close to uniform) meets in the timed rollouts."""
    env = make_vec_env("lake", n_worlds=hp["n_worlds"], n_fishers=hp["n_fishers"], seed=0)
    env.reset()
    rng = np.random.default_rng(0)
    dones = np.zeros((ticks, env.num_envs), dtype=bool)
    truncated = np.zeros((ticks, env.num_envs), dtype=bool)
    for t in range(ticks):
        _, _, d, infos = env.step(rng.integers(0, env.action_space.n, size=env.num_envs))
        dones[t] = d
        for i in np.flatnonzero(d):
            truncated[t, i] = infos[i].get("TimeLimit.truncated", False)
    return dones, truncated


def env_rate(hp: dict[str, Any], seconds: float = 1.0) -> float:
    """Agent-steps/s of our VecEnv alone (VecMonitor on, random actions)."""
    env = VecMonitor(make_vec_env("lake", n_worlds=hp["n_worlds"], n_fishers=hp["n_fishers"], seed=0),
                     info_keywords=INFO_KEYWORDS)
    env.reset()
    rng = np.random.default_rng(0)
    acts = rng.integers(0, env.action_space.n, size=(64, env.num_envs))
    best = 0.0
    for _ in range(3):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 3:
            env.step(acts[n % 64])
            n += 1
        best = max(best, n * env.num_envs / (time.perf_counter() - start))
    return best


class _StepClock:
    """Adds up the wall time spent in a VecEnv's step_wait (our environment's own cost)."""

    def __init__(self, env: VecEnv):
        self.seconds = 0.0
        inner = env.step_wait

        def step_wait():
            start = time.perf_counter()
            try:
                return inner()
            finally:
                self.seconds += time.perf_counter() - start

        env.step_wait = step_wait


def measure(algo: str, threads: int, hp: dict[str, Any], rollouts: int, repeats: int,
            pattern: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    base = make_vec_env("lake", n_worlds=hp["n_worlds"], n_fishers=hp["n_fishers"], seed=0)
    clock = _StepClock(base)
    ours_env = VecMonitor(base, info_keywords=INFO_KEYWORDS)
    null_env = VecMonitor(NullVecEnv(ours_env.num_envs, ours_env.observation_space, ours_env.action_space,
                                     *pattern), info_keywords=INFO_KEYWORDS)
    models = {"ours": build_model(algo, ours_env, hp, 0, None),
              "null": build_model(algo, null_env, hp, 0, None)}
    per = hp["n_steps"] * ours_env.num_envs
    for m in models.values():  # warm-up: first-call allocations, lazy imports
        m.learn(per, reset_num_timesteps=False)
    clock.seconds = 0.0
    runs: dict[str, list[float]] = {"ours": [], "null": []}
    for i in range(repeats):
        order = ("ours", "null") if i % 2 == 0 else ("null", "ours")  # neighbours share the load
        for name in order:
            start = time.perf_counter()
            models[name].learn(per * rollouts, reset_num_timesteps=False)
            runs[name].append(time.perf_counter() - start)
    n = per * rollouts
    out: dict[str, Any] = {"algo": algo, "threads": threads, "samples_per_learn": n, "repeats": repeats}
    for name, r in runs.items():
        out[name] = {"fps": n / min(r), "fps_median": n / float(np.median(r)), "seconds": r}
    # the ratio of each adjacent pair (ours, null) of learn calls, then the median: robust to load
    out["ratio"] = float(np.median([b / a for a, b in zip(runs["ours"], runs["null"], strict=True)]))
    out["ratio_best"] = out["ours"]["fps"] / out["null"]["fps"]
    out["env_share"] = clock.seconds / sum(runs["ours"])
    return out


def run(quick: bool = False, progress: bool = True) -> dict[str, Any]:
    def say(msg: str) -> None:
        if progress:
            print(msg, file=sys.stderr, flush=True)

    tiny = {"n_worlds": 8, "n_fishers": 2, "n_steps": 32, "batch_size": 256}
    rollouts, repeats = (1, 1) if quick else (1, 6)
    results: dict[str, Any] = {"quick": quick, "configs": []}
    for algo in ("ppo", "recurrent_ppo"):
        hp, used = load_hyperparams(algo, world_keys("lake"), overrides=tiny if quick else None)
        reps = repeats if algo == "ppo" or quick else 4
        rolls = rollouts
        # the episode ends of the whole timed span (warm-up included), then cycled
        pattern = episode_pattern(hp, hp["n_steps"] * (1 + reps * rolls))
        for threads in (1, 2):
            size = hp["n_steps"] * hp["n_worlds"] * hp["n_fishers"]
            say(f"{algo}, {threads} thread(s): {reps} x {rolls} rollout(s) of {size:,} samples, ours, null")
            res = measure(algo, threads, hp, rolls, reps, pattern)
            res["hyperparams_sections"] = used
            keys = ("n_worlds", "n_fishers", "n_steps", "batch_size", "n_epochs", "net_arch")
            if algo == "recurrent_ppo":
                keys += ("lstm_hidden_size", "enable_critic_lstm")
            res["hyperparams"] = {k: hp[k] for k in keys}
            results["configs"].append(res)
            say(f"  ours {res['ours']['fps']:,.0f}/s, null {res['null']['fps']:,.0f}/s (best of {reps}), "
                f"ratio {res['ratio']:.1%} (median of pairs), env share {res['env_share']:.1%}")
    hp, _ = load_hyperparams("ppo", world_keys("lake"), overrides=tiny if quick else None)
    results["env_alone"] = env_rate(hp, 0.3 if quick else 2.0)
    results["machine"] = machine()
    return results


def machine() -> dict[str, Any]:
    import sb3_contrib
    import stable_baselines3
    import torch

    info = {"when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(), "cpus": os.cpu_count(), "torch": torch.__version__,
            "stable_baselines3": stable_baselines3.__version__, "sb3_contrib": sb3_contrib.__version__,
            "numpy": np.__version__, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}
    with contextlib.suppress(OSError):
        info["load_average"] = os.getloadavg()
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        info["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                            capture_output=True, text=True, timeout=5).stdout.strip()
    return info


def table(results: dict[str, Any]) -> str:
    lines = ["| algo | torch threads | ours (samples/s) | null VecEnv (samples/s) | ours / null "
             "| env step share |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results["configs"]:
        lines.append(f"| {r['algo']} | {r['threads']} | {r['ours']['fps']:,.0f} | {r['null']['fps']:,.0f} | "
                     f"{r['ratio']:.0%} | {r['env_share']:.1%} |")
    lines.append("")
    lines.append(f"Environment alone (VecMonitor, random actions): {results['env_alone']:,.0f} "
                 f"agent-steps/s.")
    m = results["machine"]
    load = ", ".join(f"{x:.1f}" for x in m.get("load_average", ()))
    lines.append(f"Machine: {m['cpus']} CPUs, load average {load} at the end; torch {m['torch']}, "
                 f"SB3 {m['stable_baselines3']}, sb3-contrib {m['sb3_contrib']}, {m['when']}, "
                 f"commit {m.get('git_commit', '?')}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.training", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a tiny smoke run; the figures mean nothing")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    args = ap.parse_args(argv)
    results = run(quick=args.quick, progress=True)
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
