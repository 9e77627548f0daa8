"""The training configurations the benchmarks compare with the main job's ([ppo.lake], one thread).

Each is a set of hyperparameter overrides: benchmarks.training builds models with them (timed on one
and two torch threads), benchmarks.learning passes them to agents.train as `--set KEY=VALUE` on
NEW_THREADS threads, so both halves of a measurement time the same thing under one name.
"""

from __future__ import annotations

NEW_CONFIGS: dict[str, dict[str, int]] = {
    "trunk": {"shared_layers": 1},  # agents.trunk: the first layer shared by the actor and the critic
    "trunk1024": {"shared_layers": 1, "n_worlds": 256, "n_steps": 32},  # 1,024 slots x 32 steps
    # the same rollouts in minibatches of 4,096: 16 gradient steps a rollout instead of 32
    "trunk1024b": {"shared_layers": 1, "n_worlds": 256, "n_steps": 32, "batch_size": 4096},
}
NEW_THREADS = 2
