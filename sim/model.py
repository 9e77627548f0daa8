"""The Mesa view of the world: `FisherModel`, a `mesa.Model` over one simulated world.

The model is thin, like every other view: it owns one `Simulation` (B = 1), asks a
policy for the fishers' actions on `sim.observe()` and calls `sim.step` once per
`model.step()`. No rule is reimplemented here. Each `Fisher` agent is one fisher
slot of the core (a slot is a sequence of lives when fishers respawn) and reads its
values straight from the core's arrays, so they can never drift from the simulation.

    from sim.model import FisherModel
    model = FisherModel(world="lake", n_fishers=4, policy="scripted:expert", seed=1)
    for _ in range(100):
        model.step()
    model.datacollector.get_model_vars_dataframe()

    from mesa import batch_run
    batch_run(FisherModel, {"world": ["lake"], "n_fishers": [2, 4], "seed": range(2)},
              max_steps=50, number_processes=1)

Reporters: model fish_stock, weather, mean_hunger, meals (all lives so far), deaths,
alive, and total_meals (equal to meals: `batch_run` merges model and agent values into
one row per agent, where the agent's "meals" overwrites the model's); agent hunger,
catches, meals (current life, as in the core).

Seeding follows Mesa: `seed` seeds `model.rng`, from which the simulation's seed and
the policy's seed are drawn. For distinct reproducible replicates in `batch_run`,
sweep `"seed": range(k)` with `iterations=1` (Mesa repeats a fixed seed exactly).
Mesa 3.3's runner steps while `model.steps <= max_steps`, so `max_steps=50` runs 51 steps
and reports the state after step 50 (data is indexed by collect, init = step 0).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np

from sim.core import Simulation
from sim.events import decode, has
from sim.policy import Policy as PolicyInterface
from sim.policy import accepts_seed, bind_policy, reset_policy
from worlds.loader import World

# "scripted:NAME" or a trained policy's path, an object with .act(obs), or a callable obs -> actions
Policy = str | os.PathLike | Callable[[np.ndarray], Any] | Any

SEED_BOUND = 2**31 - 1


class Fisher(mesa.Agent):
    """One fisher slot of the simulation; every value is read from the core's state.

    With respawn the slot is a sequence of lives: `hunger`, `catches`, `meals` and
    `lifetime` are those of the current life (as in the core), `lives` counts the lives
    begun in the slot, `total_meals` / `total_catches` count over all of them. In a
    cohort (no respawn) a fisher that starved stays in the model with `alive` False.
    """

    def __init__(self, model: FisherModel, slot: int):
        super().__init__(model)
        self.slot = slot

    def _read(self, name: str) -> np.ndarray:
        return getattr(self.model.sim.state, name)[0, self.slot]

    @property
    def hunger(self) -> float:
        return float(self._read("hunger"))

    @property
    def catches(self) -> int:
        return int(self._read("catches"))

    @property
    def meals(self) -> int:
        return int(self._read("meals"))

    @property
    def inventory(self) -> int:
        return int(self._read("inventory"))

    @property
    def lives(self) -> int:
        return int(self._read("lives"))

    @property
    def lifetime(self) -> int:
        return int(self._read("lifetime"))

    @property
    def alive(self) -> bool:
        return bool(self._read("alive"))

    @property
    def line_out(self) -> bool:
        return bool(self._read("line"))

    @property
    def position(self) -> tuple[int, int]:
        """(row, col) on the world's map."""
        return int(self._read("row")), int(self._read("col"))

    @property
    def total_meals(self) -> int:
        return int(self.model.slot_meals[self.slot])

    @property
    def total_catches(self) -> int:
        return int(self.model.slot_catches[self.slot])

    @property
    def last_action(self) -> int | None:
        """The action this fisher was given in the last step (None before the first)."""
        acts = self.model.last_actions
        return None if acts is None else int(acts[self.slot])

    @property
    def last_events(self) -> list[str]:
        """The core's events for this fisher in the last step (sim.events names)."""
        ev = self.model.last_events
        return [] if ev is None else decode(ev[self.slot])

    def __repr__(self) -> str:
        return (f"Fisher(id={self.unique_id}, slot={self.slot}, alive={self.alive}, "
                f"hunger={self.hunger:.2f}, position={self.position})")


class FisherModel(mesa.Model):
    """A Mesa model over one world of the hungry-fisher simulation.

    Args:
        world: a shipped world name, a world folder / world.toml path, "generated:SEED",
            or a `World` object.
        n_fishers: fisher slots in the world.
        policy: "scripted:NAME" (resolved by `agents.scripted.make_scripted`), a trained policy
            (a policy.json/.npz, a training run folder or a manifest-listed model .zip, resolved by
            `agents.policies.load_policy`: deterministic, weights only; for a .zip you created
            yourself, pass `load_policy(path, trust_zip=True)`), an object
            with `.act(obs) -> actions`, or a callable `obs -> actions`; `obs` is
            (n_fishers, OBS_SIZE) float32 and actions are n_fishers ints in [0, 8). An object
            whose `reset` takes `seed` is reset with this model's policy seed at the start, so
            one policy object shared by many runs (batch_run) still gives reproducible runs.
        seed: seeds `self.rng` (Mesa 3); the simulation and the policy seeds are drawn from it.
        respawn: a new fisher takes a starved fisher's slot; False makes a cohort and
            the model stops running once every fisher is dead.

    The model stops (`running` False) at the world's `time.horizon` or when all
    fishers are dead without respawn.
    """

    def __init__(self, world: str | World = "lake", n_fishers: int = 4, policy: Policy = "scripted:expert",
                 seed: int | None = None, respawn: bool = True):
        super().__init__(seed=seed)
        self.sim_seed = int(self.rng.integers(SEED_BOUND))
        self.policy_seed = int(self.rng.integers(SEED_BOUND))
        self.sim = Simulation(world, n_fishers=n_fishers, seeds=[self.sim_seed], respawn=respawn)
        self.world = self.sim.worlds[0]
        self.horizon = int(self.world.params.time.horizon)
        self.respawn = bool(respawn)
        self.policy_spec = policy
        self._act = self._resolve_policy(policy)
        f = self.sim.n_fishers
        self.slot_meals = np.zeros(f, dtype=np.int64)     # meals over all lives of each slot
        self.slot_catches = np.zeros(f, dtype=np.int64)
        self.total_meals = 0
        self.total_catches = 0
        self.deaths = 0
        self.last_actions: np.ndarray | None = None
        self.last_events: np.ndarray | None = None
        self.last_reward: np.ndarray | None = None
        self.last_result = None
        Fisher.create_agents(self, f, slot=list(range(f)))
        self.fishers = sorted(self.agents_by_type[Fisher], key=lambda a: a.slot)  # slot order

        self.datacollector = mesa.DataCollector(
            model_reporters={
                "fish_stock": "fish_stock",
                "weather": "weather",
                "mean_hunger": "mean_hunger",
                "meals": "total_meals",
                "total_meals": "total_meals",  # the same; survives batch_run, where agent "meals" wins
                "deaths": "deaths",
                "alive": "n_alive",
            },
            agent_reporters={"hunger": "hunger", "catches": "catches", "meals": "meals"},
        )
        self._update_running()
        self.datacollector.collect(self)

    # -- policy -------------------------------------------------------------------------------------------
    def _resolve_policy(self, policy: Policy) -> PolicyInterface:
        if isinstance(policy, str | os.PathLike):
            from agents.policy_spec import resolve_policy  # deferred: heavy at start-up

            # seeds a scripted fisher as before (make_scripted(name, seed=policy_seed))
            policy = resolve_policy(policy, seed=self.policy_seed, flag="policy")
        elif accepts_seed(getattr(policy, "reset", None)):
            # a policy object shared by several models (batch_run) starts each run from this model's seed
            reset_policy(policy, self.policy_seed)
        self.policy = policy
        # TypeError for something that cannot act; a scripted fisher reads this world's rules
        return bind_policy(policy, self.sim)

    # -- reporters (read from the core) ---------------------------------------------------------------------
    @property
    def fish_stock(self) -> float:
        """Total fish in the world's water."""
        return float(self.sim.state.fish[0].sum())

    @property
    def weather(self) -> str:
        """The hidden weather state's name (the fishers see only its cues)."""
        return Simulation.weather_name(self.sim.state.weather[0])

    @property
    def n_alive(self) -> int:
        return int(self.sim.state.alive[0].sum())

    @property
    def mean_hunger(self) -> float:
        """Mean hunger of the living fishers (NaN when none is alive)."""
        s = self.sim.state
        alive = s.alive[0]
        return float(s.hunger[0][alive].mean()) if alive.any() else float("nan")

    @property
    def tick(self) -> int:
        return int(self.sim.state.tick[0])

    # -- stepping ---------------------------------------------------------------------------------------
    def step(self) -> None:
        """One tick: the policy acts on the observations, the core steps once, data is collected."""
        obs = self.sim.observe()[0]
        actions = np.asarray(self._act.act(obs))
        if actions.shape != (self.sim.n_fishers,):
            raise ValueError(f"policy returned actions of shape {actions.shape}, "
                             f"expected ({self.sim.n_fishers},)")
        result = self.sim.step(actions[None, :])
        self._act.new_lives(self.sim.state.lives[0])  # a newcomer in a slot starts without memory
        ev = result.events[0]
        ate, caught = has(ev, "ate"), has(ev, "catch")
        self.slot_meals += ate
        self.slot_catches += caught
        self.total_meals += int(ate.sum())
        self.total_catches += int(caught.sum())
        self.deaths += int(result.starved[0].sum())
        self.last_actions, self.last_events, self.last_reward = actions, ev, result.reward[0]
        self.last_result = result
        self._update_running()
        self.datacollector.collect(self)

    def _update_running(self) -> None:
        if self.tick >= self.horizon or (not self.respawn and self.n_alive == 0):
            self.running = False
