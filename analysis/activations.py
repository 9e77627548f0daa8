"""Record what a policy network computes, tick by tick, beside what was true in the world.

A representational probe (analysis.representation) asks whether a hidden layer encodes
something the fisher was never told (a front coming, the fish under its line). That needs,
for the same ticks: the raw observation, every hidden layer's output, and the hidden ground
truth. `record_activations` rolls a policy freely in a batch of worlds (the core's
`Simulation`, immediate respawn) and collects all three for every living fisher slot.

Layers (torch forward hooks on the policy module that `agents.policies.load_policy` builds):

    trunk.0, ...      outputs of the layers the actor and the critic share, if any (agents.trunk)
    pi.0, pi.1, ...   outputs of the actor MLP's activations (mlp_extractor.policy_net)
    vf.0, vf.1, ...   the critic MLP's (memoryless PPO only: computed with predict_values on the
                      same observations; the critic never changes what the fisher does)
    lstm.h, lstm.c    the actor LSTM's hidden and cell state after this tick's observation
                      (RecurrentPPO; the last LSTM layer)

Ground truth, per living fisher and tick (NaN where a target is undefined, e.g. line_age
without a line out; the probe drops those samples):

    hunger         hunger in [0, 1] (observed: a sanity target the raw observation decodes)
    line_age       ticks since the cast, line out only (observed up to 20 ticks)
    bite_showing   1 while a bite shows, line out only (observed: the bobber sense)
    bite_coming    1 if a bite shows within the next `bite_horizon` ticks, for lines out with no
                   bite showing now (hidden: bites are random; the last ticks are censored)
    bite_rate      the hidden chance of a bite per tick on this line: p_bite x min(fish /
                   density_ref, 2) x the world's bite factor, line out only
    fish_density   fish under the line / density_ref, line out only (hidden; ripples hint at it)
    front_within   1 if a change to rain or storm comes within `front_k` ticks (hidden weather;
                   the barometer and clouds announce it 10-20 ticks ahead)
    weather        the hidden weather state index (clear, cloudy, rain, storm)

State columns (Recording.state), not probed but used to define the control tasks' state types
(analysis.probe_controls): `front_in` (ticks to the next change to rain or storm, -1 if none comes),
`fish_ahead` (fish under the line, or in the cell the fisher faces when no line is out, / density_ref)
and `sheltered` (0/1), per living fisher and tick.

Everything is drawn from seeded generators: the same policy, world and seed give the same
arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agents.rollout import world_seeds
from sim.core import Simulation, resolve_worlds
from sim.events import has
from sim.policy import bind_policy, reset_policy
from sim.state import at_fishers
from sim.terrain import MOVES
from worlds.loader import World

BINARY = ("bite_showing", "bite_coming", "front_within")
CATEGORICAL = ("weather",)
CONTINUOUS = ("hunger", "line_age", "bite_rate", "fish_density")
TARGETS = ("hunger", "line_age", "bite_showing", "bite_coming", "bite_rate", "fish_density", "front_within",
           "weather")
HIDDEN = ("bite_coming", "bite_rate", "fish_density", "front_within", "weather")  # never observed
FRONT_K = 20
BITE_HORIZON = 5


@dataclass
class Recording:
    """Samples (living fisher x tick) of one rollout: rows line up across every array.

    obs (N, OBS_SIZE) float32; layers {name: (N, width) float32}; truth {target: (N,) float64,
    NaN where undefined}; world, slot, tick, action (N,) int64; state {column: (N,) float64}:
    coarse true state that defines the control tasks' types (empty for a hand-built Recording).
    `world` is the independent unit (fishers of one world share its fish and weather): held-out
    splits and bootstrap intervals group by it.
    """

    obs: np.ndarray
    layers: dict[str, np.ndarray]
    truth: dict[str, np.ndarray]
    world: np.ndarray
    slot: np.ndarray
    tick: np.ndarray
    action: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    state: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.obs.shape[0])


class _Hooks:
    """Forward hooks that keep the latest output of each probed module (detached numpy)."""

    def __init__(self, policy: Any):
        self.out: dict[str, np.ndarray] = {}
        self.handles: list[Any] = []
        self.critic_modules = []
        for name, module in layer_modules(policy).items():
            self._hook(module, name)
        lstm = getattr(policy, "lstm_actor", None)
        if lstm is not None:
            def keep_state(_module, _inputs, output) -> None:
                _, (h, c) = output
                self.out["lstm.h"] = h[-1].detach().cpu().numpy().copy()
                self.out["lstm.c"] = c[-1].detach().cpu().numpy().copy()
            self.handles.append(lstm.register_forward_hook(keep_state))

    def _hook(self, module: Any, name: str) -> None:
        def keep(_module, _inputs, output) -> None:
            self.out[name] = output.detach().cpu().numpy().copy()
        self.handles.append(module.register_forward_hook(keep))

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def layer_modules(net: Any) -> dict[str, Any]:
    """{"pi.0": module, ..., "vf.0": ...}: the activation modules of a policy network's actor and critic MLPs,
    named as recorded (the activation after each Linear is the layer's output); "trunk.0", ... first
    for the layers the two share (agents.trunk)."""
    import torch as th  # deferred: heavy at start-up

    out: dict[str, Any] = {}
    for prefix, mlp in (("trunk", getattr(net.features_extractor, "layers", None)),  # agents.trunk.Trunk
                        ("pi", getattr(net.mlp_extractor, "policy_net", None)),
                        ("vf", getattr(net.mlp_extractor, "value_net", None))):
        if mlp is None:
            continue
        layers = [m for m in mlp if not isinstance(m, th.nn.Linear)]
        out.update({f"{prefix}.{i}": m for i, m in enumerate(layers)})
    return out


def network_of(policy: Any) -> Any | None:
    """The torch policy module behind a loaded policy (agents.policies.LoadedPolicy), else None."""
    net = getattr(policy, "policy", None)
    return net if net is not None and hasattr(net, "mlp_extractor") else None


def _critic_pass(net: Any, obs: np.ndarray) -> None:
    """Run the critic on obs so the vf.* hooks fire (memoryless policies only)."""
    import torch as th  # deferred: heavy at start-up

    with th.no_grad():
        net.predict_values(th.as_tensor(obs))


def _truth_now(sim: Simulation, front_k: int) -> dict[str, np.ndarray]:
    """Per-slot (B, F) ground truth that the current state decides (bite_coming comes later)."""
    gt = sim.ground_truth()
    p = sim.batch.p
    line = gt["line_age"] >= 0
    nan = np.full(line.shape, np.nan)
    density = gt["fish_under_line"] / p.fish_density_ref[:, None]
    rate = p.fishing_p_bite[:, None] * np.minimum(density, 2.0) * gt["bite_factor"]
    front = (gt["front_in"] >= 0) & (gt["front_in"] <= front_k)
    bite = sim.state.bite > 0
    s = sim.state
    # the cell a cast would reach first: the line's cell when one is out, else the cell faced
    ahead_row = np.where(line, s.line_row, s.row + MOVES[s.facing, 0])
    ahead_col = np.where(line, s.line_col, s.col + MOVES[s.facing, 1])
    ahead = at_fishers(s.fish, ahead_row, ahead_col) / p.fish_density_ref[:, None]
    return {
        "_front_in": gt["front_in"].astype(np.float64),
        "_fish_ahead": ahead.astype(np.float64),
        "_sheltered": gt["sheltered"].astype(np.float64),
        "hunger": gt["hunger"].astype(np.float64),
        "line_age": np.where(line, gt["line_age"], nan),
        "bite_showing": np.where(line, bite, nan),
        "bite_rate": np.where(line, rate, nan),
        "fish_density": np.where(line, density, nan),
        "front_within": front.astype(np.float64),
        "weather": gt["weather"].astype(np.float64),
        "_waiting": (line & ~bite).astype(np.float64),
    }


def record_activations(policy: Any, world: str | World = "lake", seed: int = 0, n_worlds: int = 16,
                       n_fishers: int = 4, ticks: int = 400, warmup: int = 20, stride: int = 1,
                       front_k: int = FRONT_K, bite_horizon: int = BITE_HORIZON, critic: bool = True,
                       progress: Callable[[int], None] | None = None) -> Recording:
    """Roll `policy` in n_worlds copies of `world` and record observations, layers and ground truth.

    Args:
        policy: a loaded policy (agents.policies.load_policy) or any object with `.act(obs)`; one
            without a torch network (a scripted fisher) gives a Recording with no layers.
        seed: world i gets agents.rollout.world_seeds(seed, n_worlds); a stochastic policy is
            reset with this seed too.
        warmup: ticks simulated before recording (the first ticks of every world look alike).
        stride: keep every stride-th tick (neighbouring ticks are nearly copies of each other).
        critic: also record the critic's layers (memoryless policies).
        progress: called with the number of ticks done after each tick.
    """
    for name, value, low in (("n_worlds", n_worlds, 1), ("n_fishers", n_fishers, 1), ("ticks", ticks, 1),
                             ("warmup", warmup, 0), ("stride", stride, 1), ("front_k", front_k, 0),
                             ("bite_horizon", bite_horizon, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    w = resolve_worlds(world)[0]
    sim = Simulation(w, n_fishers, seeds=world_seeds(seed, n_worlds), respawn=True)
    fisher = bind_policy(policy, sim)
    reset_policy(fisher, seed)
    act = fisher.act
    net = network_of(policy)
    hooks = _Hooks(net) if net is not None else None
    recurrent = net is not None and hasattr(net, "lstm_actor")
    b, f = n_worlds, n_fishers
    rows: dict[str, list[np.ndarray]] = {"obs": [], "alive": [], "action": [], "bite_event": []}
    layer_rows: dict[str, list[np.ndarray]] = {}
    truth_rows: dict[str, list[np.ndarray]] = {}
    total = warmup + ticks + bite_horizon  # look-ahead ticks label bite_coming of the last kept ticks
    try:
        for t in range(total):
            obs = sim.observe().reshape(b * f, -1)
            truth = _truth_now(sim, front_k)
            alive = sim.state.alive.reshape(-1).copy()
            if hooks is not None:
                hooks.out.clear()
            actions = np.asarray(act(obs)).reshape(b, f)
            if hooks is not None and critic and not recurrent:
                _critic_pass(net, obs)
            res = sim.step(actions)
            fisher.new_lives(sim.state.lives)
            if t >= warmup:
                rows["obs"].append(obs.copy())
                rows["alive"].append(alive)
                rows["action"].append(actions.reshape(-1))
                # a bite appearing in this step, on a line that was out before it
                rows["bite_event"].append(has(res.events, "bite").reshape(-1))
                for k, v in truth.items():
                    truth_rows.setdefault(k, []).append(v.reshape(-1))
                if hooks is not None:
                    for k, v in hooks.out.items():
                        layer_rows.setdefault(k, []).append(v.reshape(b * f, -1).astype(np.float32))
            if progress is not None:
                progress(t + 1)
    finally:
        if hooks is not None:
            hooks.remove()
    # (T, B*F) arrays; bite_coming: a bite event in steps t .. t + horizon - 1 (the step taken at t
    # is the first chance), for lines out with no bite showing at t
    events = np.stack(rows["bite_event"])
    cum = np.concatenate([np.zeros((1, b * f)), np.cumsum(events, axis=0)])
    n_kept = ticks  # rows beyond this are look-ahead only
    coming = (cum[bite_horizon:bite_horizon + n_kept] - cum[:n_kept]) > 0
    waiting = np.stack(truth_rows.pop("_waiting"))[:n_kept] > 0
    state = {k[1:]: np.stack(truth_rows.pop(k))[:n_kept] for k in ("_front_in", "_fish_ahead", "_sheltered")}
    alive = np.stack(rows["alive"])[:n_kept]
    # (a bite on a new cast inside the window also counts: rare, a new line first settles 3 ticks)
    truth = {k: np.stack(v)[:n_kept] for k, v in truth_rows.items()}
    truth["bite_coming"] = np.where(waiting, coming, np.nan)
    tick_idx = np.arange(n_kept)[:, None] + warmup
    keep = alive & ((tick_idx - warmup) % stride == 0)
    sel = keep.reshape(-1)
    flat = lambda a: a.reshape(n_kept * b * f, *a.shape[2:])[sel]  # noqa: E731
    obs_all = np.stack(rows["obs"])[:n_kept]
    world_idx = np.broadcast_to((np.arange(b * f) // f)[None], (n_kept, b * f))
    slot_idx = np.broadcast_to(np.arange(b * f)[None], (n_kept, b * f))
    ticks_arr = np.broadcast_to(tick_idx, (n_kept, b * f))
    layers = {k: flat(np.stack(v)[:n_kept]) for k, v in layer_rows.items()}
    return Recording(
        obs=flat(obs_all), layers=layers, truth={k: flat(truth[k]).astype(np.float64) for k in TARGETS},
        world=flat(world_idx).astype(np.int64), slot=flat(slot_idx).astype(np.int64),
        tick=flat(ticks_arr).astype(np.int64),
        action=flat(np.stack(rows["action"])[:n_kept]).astype(np.int64),
        meta={"world": w.name, "seed": int(seed), "n_worlds": n_worlds, "n_fishers": n_fishers,
              "ticks": ticks,
              "warmup": warmup, "stride": stride, "front_k": front_k, "bite_horizon": bite_horizon,
              "policy": getattr(policy, "name", type(policy).__name__),
              "recurrent": bool(recurrent)},
        state={k: flat(v).astype(np.float64) for k, v in state.items()})
