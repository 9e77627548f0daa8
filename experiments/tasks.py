"""A study as independent tasks: stable ids, explicit dependencies, plain-data parameters.

`expand(spec)` turns a resolved spec into tasks of five kinds:

    train/ARM/sSEED                    train a fisher (agents.train.train), a run folder under runs/
    eval/ARM/sSEED/WORLD               its final policy in a world (zero-shot when WORLD is new to it)
    reference/NAME/WORLD               a scripted reference (agents.references.NORMALISE: random, the
                                       tuned expert) in each evaluation world, the same protocol: the
                                       floor and the top of that world's normalised score
    probe/ARM/sSEED/WORLD/STEP|final   its skill card at a checkpoint (experiments.hooks.probe_skills)
    finetune/ARM/sSEED/WORLD           fine-tune it in WORLD (experiments.hooks.fine_tune), beside
    train/scratch-WORLD/sSEED          training from scratch in WORLD with the same budget
    sweep/fF/rR                        one cell of the Mesa sweep (mesa.batch_run over replicates)

Every parameter is plain data (JSON), so a task runs the same on any executor and its
`key` (a hash of kind and parameters) tells a rerun whether a stored result still
answers it. Reference arms (`policy = "scripted:NAME"`) are measured, never trained.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from agents.hyperparams import load_hyperparams, world_keys
from agents.references import NORMALISE


@dataclass(frozen=True)
class Task:
    """One unit of work: `id` is stable across runs, `deps` are ids that must finish first."""

    id: str
    kind: str
    params: dict[str, Any]
    deps: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        """A hash of what the task computes: a stored result with another key is stale."""
        text = json.dumps({"kind": self.kind, "params": self.params, "deps": self.deps}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "params": self.params, "deps": list(self.deps),
                "key": self.key}


def file_name(task_id: str) -> str:
    """A task id as a file name (ids use '/', which file names cannot)."""
    return task_id.replace("/", "__")


def checkpoint_steps(total: int, rollout: int, every: int) -> list[int]:
    """Sample counts at which agents.train writes checkpoints: 0, the first rollout boundary
    past each multiple of `every` (none when 0) and the end (mirrors agents.train._Run.boundary)."""
    steps, last = [0], 0
    for ts in range(rollout, total, rollout):
        if every > 0 and ts >= last + every:
            steps.append(ts)
            last = ts
    if steps[-1] != total:
        steps.append(total)
    return steps


def _train_plan(arm: dict[str, Any], train: dict[str, Any]) -> tuple[int, int]:
    """(total samples after rounding to whole rollouts, samples per rollout) of an arm's training."""
    hp, _ = load_hyperparams(arm["algo"], world_keys(arm["world"], arm.get("worlds")),
                             overrides={**train["overrides"], **arm["overrides"]})
    rollout = hp["n_steps"] * hp["n_worlds"] * hp["n_fishers"]
    return -(-train["steps"] * arm.get("budget", 1) // rollout) * rollout, rollout


def _train_task(arm: dict[str, Any], seed: int, train: dict[str, Any], steps: int | None = None,
                name: str | None = None) -> Task:
    name = name or arm["name"]
    steps = steps or train["steps"] * arm.get("budget", 1)
    params = {"arm": name, "seed": seed, "world": arm["world"], "worlds": arm.get("worlds"),
              "reward": arm["reward"], "algo": arm["algo"], "steps": steps,
              "checkpoint_every": train["checkpoint_every"], "eval_every": train["eval_every"],
              "overrides": {**train["overrides"], **arm["overrides"]}}
    return Task(f"train/{name}/s{seed}", "train", params)


def expand(spec: dict[str, Any]) -> list[Task]:
    """Every task of a resolved spec (experiments.spec.load_spec), parents before children."""
    tasks: list[Task] = _expand_sweep(spec["sweep"]) if "sweep" in spec else []
    train = spec.get("train")
    seeds = train["seeds"] if train else [0]
    for arm in spec.get("arms", []):
        for seed in seeds:
            tasks += _arm_tasks(spec, arm, seed)
    if "evaluate" in spec and spec.get("arms"):
        tasks += reference_tasks(spec["evaluate"])
    return tasks


def _eval_params(ev: dict[str, Any], world: str, seed: int) -> dict[str, Any]:
    """An evaluation's protocol: `seed` seeds the policy, `eval_seed` the worlds (the same for all)."""
    protocol = {k: ev[k] for k in ("episodes", "fishers", "ticks", "respawn", "deterministic")}
    return {"world": world, **protocol, "eval_seed": ev["seed"], "seed": seed}


def reference_tasks(ev: dict[str, Any]) -> list[Task]:
    """The scripted references of a normalised score (random, the tuned expert) in every evaluation
    world, with the arms' protocol and world seeds: one run each (a scripted fisher is not trained)."""
    return [Task(f"reference/{name}/{world}", "evaluate",
                 {"reference": name, "policy": f"scripted:{name}", **_eval_params(ev, world, 0)})
            for name in NORMALISE for world in ev["worlds"]]


def _arm_tasks(spec: dict[str, Any], arm: dict[str, Any], seed: int) -> list[Task]:
    name, train = arm["name"], spec.get("train")
    trained = "policy" not in arm
    tasks: list[Task] = []
    if trained:
        parent = _train_task(arm, seed, train)
        tasks.append(parent)
        policy, deps = {"run": parent.id}, (parent.id,)
    else:
        policy, deps = {"policy": arm["policy"]}, ()
    base = {"arm": name, "seed": seed, **policy}
    if "evaluate" in spec:
        ev = spec["evaluate"]
        for world in ev["worlds"]:
            params = {**base, **_eval_params(ev, world, seed)}
            tasks.append(Task(f"eval/{name}/s{seed}/{world}", "evaluate", params, deps))
    if "probe" in spec:
        pr = spec["probe"]
        points: list[int | None] = [None]
        if trained and pr["at"] == "checkpoints":
            total, rollout = _train_plan(arm, train)
            points = list(checkpoint_steps(total, rollout, train["checkpoint_every"]))
        for world in pr["worlds"]:
            for step in points:
                params = {**base, "world": world, "checkpoint": step, "scale": pr["scale"],
                          "probe_seed": pr["seed"], "source": pr["source"]}
                label = "final" if step is None else str(step)
                tasks.append(Task(f"probe/{name}/s{seed}/{world}/{label}", "probe", params, deps))
    if "finetune" in spec and trained:
        ft = spec["finetune"]
        for world in ft["worlds"]:
            if world == arm["world"] and not arm.get("worlds"):
                continue  # its own world: nothing to transfer
            params = {**base, "world": world, "steps": ft["steps"], "eval_every": curve_every(ft["steps"]),
                      "overrides": {**train["overrides"], **arm["overrides"]}}
            tasks.append(Task(f"finetune/{name}/s{seed}/{world}", "finetune", params, deps))
    return tasks


def curve_every(steps: int) -> int:
    """Learning-curve spacing of fine-tuning and its from-scratch baseline: about four points."""
    return max(1, steps // 4)


def scratch_tasks(spec: dict[str, Any]) -> list[Task]:
    """Training from scratch in each fine-tuning world with the fine-tuning budget (the baseline)."""
    if "finetune" not in spec or "train" not in spec:
        return []
    ft, train = spec["finetune"], spec["train"]
    algo = next((a["algo"] for a in spec["arms"] if "policy" not in a), "ppo")
    out = []
    for world in ft["worlds"]:
        arm = {"name": f"scratch-{world}", "world": world, "reward": "eat", "algo": algo, "overrides": {}}
        for seed in train["seeds"]:
            out.append(_train_task(arm, seed, {**train, "eval_every": curve_every(ft["steps"]),
                                              "checkpoint_every": 0}, steps=ft["steps"]))
    return out


def _expand_sweep(sw: dict[str, Any]) -> list[Task]:
    tasks = []
    for fishers in sw["fishers"]:
        for regrowth in sw["regrowth"]:
            params = {"world": sw["world"], "fishers": fishers, "regrowth": float(regrowth),
                      "replicates": sw["replicates"], "ticks": sw["ticks"], "policy": sw["policy"],
                      "respawn": sw["respawn"]}
            tasks.append(Task(f"sweep/f{fishers}/r{regrowth:g}", "sweep", params))
    return tasks


def all_tasks(spec: dict[str, Any]) -> list[Task]:
    """expand() plus the from-scratch baselines; ids are unique and every dependency is a task."""
    tasks = expand(spec) + scratch_tasks(spec)
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"task ids repeat: {dup[:3]} (two arms or worlds with the same name?)")
    known = set(ids)
    for t in tasks:
        missing = [d for d in t.deps if d not in known]
        if missing:
            raise ValueError(f"task {t.id} depends on unknown {missing}")
    return tasks
