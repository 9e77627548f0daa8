"""Training throughput: SB3 `model.learn` on our FisherVecEnv and on a null VecEnv (SB3's ceiling),
today's network beside the new one, in one process.

    python -m benchmarks.training              # PPO: sb3, today, trunk, trunk1024; 1 and 2 threads (~5 min)
    python -m benchmarks.training --recurrent  # and RecurrentPPO ([recurrent_ppo.lake], 1 and 2 threads)
    python -m benchmarks.training --quick      # a tiny smoke run of the same code (figures meaningless)
    python -m benchmarks.training --json       # one JSON document on stdout

What is measured: samples (fisher-ticks) per second of `model.learn` (rollout collection plus the
PPO update), models built by agents.models.build_model as in training, in the main job's batch
shape ([ppo.lake]: 512 slots x 64 steps, minibatches of 2,048, 2 epochs). The configurations:

- **sb3**: that shape with SB3's own parts (nn.Tanh, Adam's per-tensor loop, RolloutBuffer);
- **today**: the same with the faster equivalent parts training uses (agents.activations.Tanh,
  torch's fused Adam, agents.rollout_buffer.FlatRolloutBuffer): the main job's training, today's
  network ([64, 64] tanh MLPs for the actor and for the critic on the 417-value observation);
- **trunk**: the new network, `shared_layers = 1` (agents.trunk): the first 64-unit layer is one
  trunk that the actor and the critic share, so the 417 x 64 product is computed once, not twice;
- **trunk1024**: the trunk in a wider, shorter rollout (1,024 slots x 32 steps: the same samples and
  gradient steps per rollout, twice the rows per forward pass and per environment step).

"ours" steps our VecEnv (lake worlds x 4 fishers); "null" is a VecEnv with the same spaces and slot
count whose step costs nothing (a constant observation, zero reward) and that replays the episode
ends (deaths, and the horizon's truncations) recorded from our VecEnv under random actions, so that
both learners see the same episode boundaries (RecurrentPPO's update cost grows with the number of
sequences): SB3's ceiling for a configuration on this machine. Both are wrapped in VecMonitor, as in
training. ours/null is the share of the ceiling that training gets; the rest is the environment.

Every model is built first; then `repeats` rounds each time one `learn` call (whole rollouts, about
the same number of samples for every configuration) of every configuration, thread count and env,
the order reversed every other round, so that load from other processes hits all alike. fps is the
best call and the median; ours/null is the median over a round's pairs of their time ratio; "x
main job" is the median over rounds of a configuration's rate against today's on one thread (the
main job's setting) in the same round; "env step share" is the part of ours' learn time spent inside
our VecEnv's step_wait. The agents package sets OMP_WAIT_POLICY=PASSIVE and GOMP_SPINCOUNT before
torch is imported (agents/__init__.py: a second thread helps only with a short spin).
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from agents.hyperparams import load_hyperparams, world_keys
from agents.models import build_model
from agents.vec_env import INFO_KEYWORDS, make_vec_env
from benchmarks.configs import NEW_CONFIGS

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


@dataclass
class Config:
    """One configuration: hyperparameters and parts, its models (ours and null) and their timings."""

    name: str
    algo: str
    key: str
    stock: bool
    overrides: dict[str, Any] = field(default_factory=dict)
    hp: dict[str, Any] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)
    models: dict[str, Any] = field(default_factory=dict)
    clock: _StepClock | None = None
    rollouts: int = 1
    seconds: dict[tuple[int, str], list[float]] = field(default_factory=dict)

    @property
    def per_call(self) -> int:
        return self.rollouts * self.hp["n_steps"] * self.hp["n_worlds"] * self.hp["n_fishers"]


def build(cfg: Config, samples: int, quick: bool) -> None:
    """The hyperparameters, the pair of models and a warm-up rollout each (allocations, lazy imports)."""
    tiny = {"n_worlds": 8, "n_fishers": 2, "n_steps": 32, "batch_size": 256}
    cfg.hp, cfg.used = load_hyperparams(cfg.algo, world_keys("lake", key=cfg.key),
                                        overrides={**cfg.overrides, **(tiny if quick else {})} or None)
    hp = cfg.hp
    per = hp["n_steps"] * hp["n_worlds"] * hp["n_fishers"]
    cfg.rollouts = max(1, round(samples / per))
    pattern = episode_pattern(hp, hp["n_steps"] * 2)  # cycled: a window of the episode ends of a rollout
    base = make_vec_env("lake", n_worlds=hp["n_worlds"], n_fishers=hp["n_fishers"], seed=0)
    cfg.clock = _StepClock(base)
    ours = VecMonitor(base, info_keywords=INFO_KEYWORDS)
    null = VecMonitor(NullVecEnv(ours.num_envs, ours.observation_space, ours.action_space, *pattern),
                      info_keywords=INFO_KEYWORDS)
    cfg.models = {"ours": build_model(cfg.algo, ours, hp, 0, None, stock=cfg.stock),
                  "null": build_model(cfg.algo, null, hp, 0, None, stock=cfg.stock)}
    for m in cfg.models.values():
        m.learn(per, reset_num_timesteps=False)


def measure(configs: list[Config], threads: tuple[int, ...], repeats: int, say: Any) -> None:
    """Alternating rounds over every (configuration, threads, env); see the module docstring."""
    import torch

    runs = [(cfg, t, env) for cfg in configs for t in threads for env in ("ours", "null")]
    for cfg in configs:
        cfg.clock.seconds = 0.0
    for i in range(repeats):
        for cfg, t, env in runs if i % 2 == 0 else runs[::-1]:
            torch.set_num_threads(t)
            start = time.perf_counter()
            cfg.models[env].learn(cfg.per_call, reset_num_timesteps=False)
            cfg.seconds.setdefault((t, env), []).append(time.perf_counter() - start)
        rates = [f"{c.name} {t}t {c.per_call / c.seconds[(t, 'ours')][-1]:,.0f}/s" for c in configs
                 for t in threads]
        say(f"  round {i + 1}/{repeats}: " + ", ".join(rates))


def summarise(configs: list[Config], threads: tuple[int, ...]) -> list[dict[str, Any]]:
    """One row per configuration and thread count (fps, ceiling, ratios), JSON-ready."""
    rows = []
    today = next((c for c in configs if c.name == "today"), None)
    for cfg in configs:
        ours_total = sum(sum(cfg.seconds[(t, "ours")]) for t in threads)
        for t in threads:
            ours, null = cfg.seconds[(t, "ours")], cfg.seconds[(t, "null")]
            n = cfg.per_call
            row: dict[str, Any] = {
                "config": cfg.name, "algo": cfg.algo, "threads": t, "sb3_parts": cfg.stock,
                "hyperparams_sections": cfg.used, "overrides": cfg.overrides, "samples_per_learn": n,
                "repeats": len(ours),
                "hyperparams": {k: cfg.hp[k] for k in ("n_worlds", "n_fishers", "n_steps", "batch_size",
                                                        "n_epochs", "net_arch", "activation")},
                "shared_layers": cfg.hp.get("shared_layers", 0),
                "ours": {"fps": n / min(ours), "fps_median": n / float(np.median(ours)), "seconds": ours},
                "null": {"fps": n / min(null), "fps_median": n / float(np.median(null)), "seconds": null},
                "ratio": float(np.median([b / a for a, b in zip(ours, null, strict=True)])),
                "env_share": cfg.clock.seconds / ours_total,
            }
            if today is not None and cfg.algo == today.algo:  # rates of one round, against the main job's
                theirs = today.seconds.get((1, "ours"), today.seconds[(t, "ours")])
                row["x_main_job"] = float(np.median([(n / mine) / (today.per_call / old)
                                                     for mine, old in zip(ours, theirs, strict=True)]))
            rows.append(row)
    return rows


def run(quick: bool = False, recurrent: bool = False, progress: bool = True) -> dict[str, Any]:
    def say(msg: str) -> None:
        if progress:
            print(msg, file=sys.stderr, flush=True)

    configs = [Config("sb3", "ppo", "lake", stock=True), Config("today", "ppo", "lake", stock=False),
               *(Config(name, "ppo", "lake", stock=False, overrides=dict(overrides))
                 for name, overrides in NEW_CONFIGS.items())]
    if recurrent:
        configs.append(Config("recurrent", "recurrent_ppo", "lake", stock=False))
    samples = 2_000 if quick else 65_536
    threads = (1,) if quick else (1, 2)
    for cfg in configs:
        say(f"building {cfg.name} ({cfg.algo}, [{cfg.algo}.{cfg.key}], "
            f"{'SB3 parts' if cfg.stock else 'new parts'})")
        build(cfg, samples, quick)
    repeats = 1 if quick else 5
    say(f"timing {repeats} rounds of {len(configs) * len(threads) * 2} learn calls")
    measure(configs, threads, repeats, say)
    results: dict[str, Any] = {"quick": quick, "configs": summarise(configs, threads)}
    hp, _ = load_hyperparams("ppo", world_keys("lake"),
                             overrides={"n_worlds": 8, "n_fishers": 2} if quick else None)
    results["env_alone"] = env_rate(hp, 0.3 if quick else 2.0)
    results["env_alone_slots"] = hp["n_worlds"] * hp["n_fishers"]
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
    lines = ["| config | algo | slots x steps, batch, epochs | network | torch threads "
             "| ours (samples/s, best / median) | null VecEnv (samples/s) | ours / null | x main job "
             "| env step share |",
             "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results["configs"]:
        h = r["hyperparams"]
        shape = f"{h['n_worlds'] * h['n_fishers']:,} x {h['n_steps']}, {h['batch_size']:,}, {h['n_epochs']}"
        x = f"{r['x_main_job']:.2f}" if "x_main_job" in r else ""
        arch = "x".join(str(n) for n in h["net_arch"])
        net = f"{arch}, first {r['shared_layers']} shared" if r["shared_layers"] else f"{arch} each"
        lines.append(f"| {r['config']} | {r['algo']} | {shape} | {net} | {r['threads']} | "
                     f"{r['ours']['fps']:,.0f} / "
                     f"{r['ours']['fps_median']:,.0f} | {r['null']['fps']:,.0f} | {r['ratio']:.0%} | {x} | "
                     f"{r['env_share']:.1%} |")
    lines.append("")
    lines.append(f"Environment alone (VecMonitor, random actions, {results['env_alone_slots']:,} slots): "
                 f"{results['env_alone']:,.0f} agent-steps/s.")
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
    ap.add_argument("--recurrent", action="store_true", help="also RecurrentPPO with the lake's settings")
    args = ap.parse_args(argv)
    results = run(quick=args.quick, recurrent=args.recurrent, progress=True)
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
