"""The PettingZoo and Gymnasium views of one world: thin adapters over `sim.core.Simulation`.

`make_env(...)` gives a PettingZoo `ParallelEnv` (`FisherParallelEnv`) with one agent
per fisher slot; `make_gym_env(...)` gives a single-fisher Gymnasium `Env`
(`FisherGymEnv`, registered as "HungryFisher-v0"). Neither reimplements a rule: they
call the core's one step function and translate its arrays into per-agent dicts.
Module-level `parallel_env(**kw)` and `env(**kw)` (AEC) follow PettingZoo's layout.
"""

from __future__ import annotations

import operator
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils import parallel_to_aec

from sim.core import Simulation, resolve_worlds
from sim.events import decode
from sim.fishers import ACTION_NAMES, N_ACTIONS
from sim.observe import LAYOUT, OBS_SIZE
from sim.render import render_ansi, render_rgb
from worlds.loader import World, WorldFileError, override_world
from worlds.schema import SECTIONS, WEATHER_STATES

ENV_NAME = "hungry_fisher_v0"
GYM_ID = "HungryFisher-v0"
REWARDS = ("eat",)
RENDER_MODES = ("human", "rgb_array", "ansi")  # human: a pygame window (viz.human_window)
INFO_KEYS = ("events", "hunger", "weather", "front_in", "fish_under_line", "position",
             "life", "meals", "catches")
FINAL_INFO_KEYS = ("final_meals", "final_catches", "final_lifetime")  # only on the tick a life ends
SIGNED_SCALARS = ("barometer_trend", "day_sin", "day_cos")  # the only senses that go below 0
_SEED_HIGH = 2**63  # episode seeds drawn after the first are in [0, 2**63)


def observation_bounds() -> tuple[np.ndarray, np.ndarray]:
    """Per-element bounds of an observation: [0, 1] everywhere, [-1, 1] for the signed senses."""
    low = np.zeros(OBS_SIZE, dtype=np.float32)
    high = np.ones(OBS_SIZE, dtype=np.float32)
    for name in SIGNED_SCALARS:
        low[LAYOUT[name]] = -1.0
    return low, high


def _check_seed(seed: object, name: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{name}: expected None or an integer >= 0, got {seed!r}")
    return int(seed)


def _parse_options(world: str | World, n_fishers: object, seed: object, render_mode: object, reward: object,
                   kwargs: dict[str, Any]) -> dict[str, Any]:
    """Validate the constructor arguments; every error names the argument it is about."""
    if reward not in REWARDS:
        raise ValueError(f"reward: expected one of {list(REWARDS)}, got {reward!r} (only the eating-only "
                         "incentive 'eat' is implemented; the shaped 'taught' setting will come later)")
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode: expected None or one of {list(RENDER_MODES)}, got {render_mode!r}")
    if isinstance(n_fishers, bool) or not isinstance(n_fishers, int | np.integer) or n_fishers < 1:
        raise ValueError(f"n_fishers: expected an integer >= 1, got {n_fishers!r}")
    if seed is not None:
        _check_seed(seed)
    if isinstance(world, list | tuple):
        raise ValueError(f"world: expected one world (a name, path, 'generated:SEED' or World), "
                         f"got {world!r}")
    kwargs = dict(kwargs)
    max_cycles = kwargs.pop("max_cycles", None)
    respawn = kwargs.pop("respawn", False)
    if not isinstance(respawn, bool | np.bool_):
        raise ValueError(f"respawn: expected True or False, got {respawn!r}")
    overrides = {}
    for key, value in kwargs.items():
        section, sep, field = key.partition("__")
        if not sep or section not in SECTIONS or not field:
            raise TypeError(
                f"unexpected keyword argument {key!r}: expected max_cycles, respawn, or a "
                f"world constant as section__field=value with a section in {list(SECTIONS)} "
                "(e.g. hunger__rate=0.02)")
        overrides[f"{section}.{field}"] = (key, value)
    w = resolve_worlds(world)[0]
    if overrides:
        try:
            w = override_world(w, {dotted: value for dotted, (_, value) in overrides.items()})
        except WorldFileError as err:
            names = [key for key, _ in overrides.values()]
            raise ValueError(f"world constant override ({', '.join(names)}): {err}") from err
    if max_cycles is None:
        max_cycles = w.params.time.horizon
    if isinstance(max_cycles, bool) or not isinstance(max_cycles, int | np.integer) or max_cycles < 1:
        raise ValueError(f"max_cycles: expected an integer >= 1 (or None for the world's time.horizon), "
                         f"got {max_cycles!r}")
    return {"world": w, "n_fishers": int(n_fishers), "max_cycles": int(max_cycles), "respawn": bool(respawn)}


class FisherParallelEnv(ParallelEnv):
    """The hungry fisher: fishers in a gridworld with weather, fish and hunger, rewarded only for eating.

    **Description.** Each agent is a fisher slot in one world (a lake, ponds, a river,
    a coast, ice, ... or a generated map). Hunger rises every tick, faster when exposed
    to a storm outside a shelter; at 1 the fisher starves. To eat, a fisher casts a line
    into the water it faces, waits for a bite (the bobber dips for a short window),
    reels in during the bite to land the fish, then eats it once hungry enough (a full
    stomach refuses food). Weather is a hidden process whose fronts are announced by a
    falling barometer and thickening cloud; fish feed hardest just before a front and
    hardly at all in a storm or bright midday sun. Fish are never seen, only hinted at
    by ripples. Several fishers share (and can overfish) the same water.

    **Agents.** ``possible_agents = ["fisher_0", ..., "fisher_{n-1}"]`` (``n_fishers``).
    With ``respawn=False`` (default) a fisher that starves is terminated and removed
    from ``agents``; with ``respawn=True`` a new fisher takes the slot at once (its info
    ``events`` holds "starved" and "spawned", ``life`` goes up by one) and the agent
    stays in ``agents`` until truncation.

    **Action space.** ``Discrete(8)``, the same in every world:

    ===  ========  ===========================================================
    0    wait      do nothing (a line that is out keeps fishing)
    1    north     move one cell (or turn to face water/rock); drops the line
    2    south     as north
    3    east      as north
    4    west      as north
    5    cast      cast the line up to ``cast_reach`` cells over the water ahead
    6    reel      reel in: lands the fish during a bite, else wastes the cast
    7    eat       eat a carried fish (only when hungry enough)
    ===  ========  ===========================================================

    **Observation space.** ``Box(low, high, (417,), float32)`` (``sim.observe.OBS_SIZE``),
    the same in every world: a 7x7 egocentric view (north up) with 8 channels
    (blocked, ground, shallow, deep, reeds, shelter, other fishers, ripples), then 25
    scalar senses (hunger, inventory, line out, line age, bite showing, barometer and
    its trend, cloud, rain, storm, time of day as sin/cos, night, in shelter, the
    direction of and distance to the nearest shelter, facing, facing water, hungry
    enough). ``sim.observe.LAYOUT`` names every slice. Bounds are ``[0, 1]`` except
    ``barometer_trend``, ``day_sin`` and ``day_cos`` (``[-1, 1]``). Neither the fish
    field nor the hidden weather state is observed.

    **Reward.** Eating, nothing else: a fixed ``fishing.meal_reward`` (1.0 on the
    lake) on the tick a fisher eats a fish, 0 on every other tick. Hunger,
    catches, survival and shelter are never rewarded (``reward="eat"``; the shaped
    ``"taught"`` setting is not implemented yet).

    **Termination / truncation.** Terminated when the fisher starves (hunger reaches 1),
    unless ``respawn=True``. Truncated after ``max_cycles`` steps (default: the world's
    ``time.horizon``, 1000 on the lake); a fisher that starves on the last step is
    terminated, not truncated.

    **Worlds.** ``world`` is a shipped world name (``worlds.loader.list_worlds()``), a
    world folder or ``world.toml`` path, ``"generated:SEED"``, or a ``World``. World
    constants can be overridden as ``section__field=value`` keyword arguments
    (``hunger__rate=0.02``), validated like a world file.

    **Infos.** Every agent, at reset and at every step: ``events`` (list of event names
    of this tick from ``sim.events.EVENTS``; empty at reset), ``hunger`` (float),
    ``weather`` (the hidden state's name, one of ``worlds.schema.WEATHER_STATES``),
    ``front_in`` (int ticks until the next change to rain or storm, -1 if the next
    change is not one), ``fish_under_line`` (float, 0.0 without a line), ``position``
    ((row, col) ints), ``life`` (which life the slot is on, 0 for the first),
    ``meals`` and ``catches`` (ints, of the current life). On the tick a life ends,
    also ``final_meals``, ``final_catches`` and ``final_lifetime`` of that life. These
    are for analysis only and never reach a learner.

    **Seeding.** ``reset(seed=s)`` runs the world from seed ``s`` (the same trajectory as
    ``Simulation(world, n_fishers, seeds=[s], respawn=respawn)``); ``reset()`` without a seed draws the
    next episode's seed from a generator seeded by the last given seed, so a sequence
    of resets is reproducible too. Before any seeded reset, ``reset()`` uses the
    constructor's ``seed``, or a fresh seed drawn once from OS entropy when that is
    None. ``episode_seed`` is the seed of the current episode.

    **Rendering.** ``render_mode="rgb_array"`` (``sim.render.render_rgb``, ``render_cell``
    pixels per cell), ``"ansi"`` (``sim.render.render_ansi``) or ``"human"``: the same picture in a
    pygame window (``viz.human_window``, imported only then) after every reset and step, at up to
    ``render_fps`` frames a second; ``render()`` then returns None.

    **Version.** ``hungry_fisher_v0``: the first version of these rules, spaces and infos.
    """

    metadata = {"name": ENV_NAME, "render_modes": list(RENDER_MODES), "is_parallelizable": True,
                "render_fps": 8}

    def __init__(self, world: str | World = "lake", n_fishers: int = 1, seed: int | None = None,
                 render_mode: str | None = None, reward: str = "eat", **overrides: Any):
        opts = _parse_options(world, n_fishers, seed, render_mode, reward, overrides)
        self.world: World = opts["world"]
        self.max_cycles: int = opts["max_cycles"]
        self.respawn: bool = opts["respawn"]
        self.reward_mode = reward
        self.render_mode = render_mode
        self._window: Any = None  # the human window (viz.human_window), opened at the first render
        self.render_cell = 16
        if seed is None:  # a fresh seed, drawn once
            seed = int(np.random.SeedSequence().entropy % _SEED_HIGH)
        self._initial_seed = int(seed)
        self._seeder: np.random.Generator | None = None
        self.episode_seed = self._initial_seed
        self.sim = Simulation(self.world, opts["n_fishers"], seeds=[self._initial_seed], respawn=self.respawn)
        self.possible_agents = [f"fisher_{i}" for i in range(opts["n_fishers"])]
        self._slot = {agent: i for i, agent in enumerate(self.possible_agents)}
        low, high = observation_bounds()
        self.observation_spaces = {a: spaces.Box(low, high, (OBS_SIZE,), np.float32)
                                   for a in self.possible_agents}
        self.action_spaces = {a: spaces.Discrete(N_ACTIONS) for a in self.possible_agents}
        self.agents: list[str] = []
        self.cycles = 0

    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Discrete:
        return self.action_spaces[agent]

    def _next_seed(self, seed: int | None) -> int:
        if seed is not None:
            seed = _check_seed(seed)
        elif self._seeder is None:
            seed = self._initial_seed
        else:
            return int(self._seeder.integers(0, _SEED_HIGH))
        self._seeder = np.random.default_rng(seed)
        return seed

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Start a new episode (options are ignored). Returns (observations, infos)."""
        self.episode_seed = self._next_seed(seed)
        self.sim.reset(seeds=[self.episode_seed])
        self.agents = self.possible_agents[:]
        self.cycles = 0
        obs = self.sim.observe()[0]
        events = np.zeros(len(self.possible_agents), dtype=np.int64)
        infos = self._infos(self.agents, events)
        if self.render_mode == "human":  # Gymnasium's convention: a human window follows every reset and step
            self.render()
        return {a: obs[self._slot[a]] for a in self.agents}, infos

    def _action(self, agent: str, action: object) -> int:
        try:
            a = operator.index(action)
        except TypeError:
            raise ValueError(f"actions[{agent!r}]: expected an integer in [0, {N_ACTIONS}) "
                             f"({', '.join(ACTION_NAMES)}), got {action!r}") from None
        if not 0 <= a < N_ACTIONS:
            raise ValueError(f"actions[{agent!r}]: expected an integer in [0, {N_ACTIONS}) "
                             f"({', '.join(ACTION_NAMES)}), got {a}")
        return a

    def step(self, actions: dict[str, int]):
        """One tick for every live fisher. Returns (obs, rewards, terminations, truncations, infos)."""
        if not self.agents:
            return {}, {}, {}, {}, {}
        act = np.zeros((1, len(self.possible_agents)), dtype=np.int64)  # finished slots: ignored by the core
        for agent, action in actions.items():
            if agent not in self._slot:
                raise KeyError(f"actions: unknown agent {agent!r}; agents are {self.possible_agents}")
            if agent in self.agents:
                act[0, self._slot[agent]] = self._action(agent, action)
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"actions: no action for live agent(s) {missing}; every agent in env.agents "
                             "needs one")
        result = self.sim.step(act)
        self.cycles += 1
        obs_all = self.sim.observe()[0]
        acting = self.agents
        time_up = self.cycles >= self.max_cycles
        obs, rewards, terms, truncs = {}, {}, {}, {}
        for agent in acting:
            i = self._slot[agent]
            obs[agent] = obs_all[i]
            rewards[agent] = float(result.reward[0, i])
            terms[agent] = bool(result.starved[0, i]) and not self.respawn
            truncs[agent] = time_up and not terms[agent]
        infos = self._infos(acting, result.events[0])
        finals = dict(zip(FINAL_INFO_KEYS, (result.final_meals, result.final_catches, result.final_lifetime),
                          strict=True))
        for agent in acting:
            i = self._slot[agent]
            if result.starved[0, i]:
                infos[agent].update({key: int(arr[0, i]) for key, arr in finals.items()})
        self.agents = [a for a in acting if not (terms[a] or truncs[a])]
        if self.render_mode == "human":
            self.render()
        return obs, rewards, terms, truncs, infos

    def _infos(self, agents: list[str], events: np.ndarray) -> dict[str, dict[str, Any]]:
        gt = self.sim.ground_truth()
        s = self.sim.state
        out = {}
        for agent in agents:
            i = self._slot[agent]
            out[agent] = {
                "events": decode(events[i]),
                "hunger": float(gt["hunger"][0, i]),
                "weather": WEATHER_STATES[int(gt["weather"][0, i])],
                "front_in": int(gt["front_in"][0, i]),
                "fish_under_line": float(gt["fish_under_line"][0, i]),
                "position": (int(gt["row"][0, i]), int(gt["col"][0, i])),
                "life": int(s.lives[0, i]) - 1,
                "meals": int(s.meals[0, i]),
                "catches": int(s.catches[0, i]),
            }
        return out

    def render(self) -> np.ndarray | str | None:
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode='human', "
                                  "'rgb_array' or 'ansi' to make_env")
            return None
        if self.render_mode == "ansi":
            return render_ansi(self.sim, 0)
        frame = render_rgb(self.sim, 0, self.render_cell)
        if self.render_mode != "human":
            return frame
        if self._window is None:
            # pygame only now, and only for "human": the window lives in viz/ and knows nothing else
            from viz.human_window import HumanWindow

            self._window = HumanWindow(f"hungry fisher: {self.world.name}", self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None


def make_env(world: str | World = "lake", n_fishers: int = 1, seed: int | None = None,
             render_mode: str | None = None, reward: str = "eat", **overrides: Any) -> FisherParallelEnv:
    """A PettingZoo ParallelEnv over one world; see `FisherParallelEnv` (the env card).

    overrides: ``max_cycles=int``, ``respawn=bool`` and world constants as
    ``section__field=value`` (e.g. ``hunger__rate=0.02``).
    """
    return FisherParallelEnv(world, n_fishers, seed, render_mode, reward, **overrides)


def parallel_env(**kwargs: Any) -> FisherParallelEnv:
    """PettingZoo's module layout: the parallel env."""
    return FisherParallelEnv(**kwargs)


def env(**kwargs: Any):
    """PettingZoo's module layout: the AEC env (the parallel env through parallel_to_aec)."""
    return parallel_to_aec(FisherParallelEnv(**kwargs))


class FisherGymEnv(gymnasium.Env):
    """The hungry fisher, one fisher alone in one world, as a Gymnasium Env.

    The same rules, spaces, reward (eating only), infos and rendering as
    `FisherParallelEnv` (see its docstring, the env card) with ``n_fishers=1``:
    terminated when the fisher starves (never, with ``respawn=True``), truncated after
    ``max_cycles`` steps (default: the world's ``time.horizon``). ``reset(seed=s)``
    seeds ``self.np_random`` and runs the world from seed ``s``; ``reset()`` draws the
    episode's seed from ``self.np_random``. Registered as ``"HungryFisher-v0"``.
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 8}

    def __init__(self, world: str | World = "lake", seed: int | None = None, render_mode: str | None = None,
                 reward: str = "eat", **kwargs: Any):
        if "n_fishers" in kwargs:
            raise TypeError("make_gym_env() got an unexpected keyword argument 'n_fishers': the Gymnasium "
                            "view has one fisher; use make_env(n_fishers=...) for several")
        self._par = FisherParallelEnv(world, 1, seed, render_mode, reward, **kwargs)
        self._agent = self._par.possible_agents[0]
        self._initial_seed = None if seed is None else int(seed)
        self.observation_space = self._par.observation_space(self._agent)
        self.action_space = self._par.action_space(self._agent)
        self.render_mode = render_mode
        self._running = False

    @property
    def sim(self) -> Simulation:
        return self._par.sim

    @property
    def world(self) -> World:
        return self._par.world

    @property
    def max_cycles(self) -> int:
        return self._par.max_cycles

    @property
    def episode_seed(self) -> int:
        return self._par.episode_seed

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start a new episode (options are ignored). Returns (observation, info)."""
        if seed is not None:
            seed = _check_seed(seed)
        elif self._np_random is None and self._initial_seed is not None:
            seed = self._initial_seed
        super().reset(seed=seed)
        episode_seed = seed if seed is not None else int(self.np_random.integers(0, _SEED_HIGH))
        obs, infos = self._par.reset(seed=episode_seed)
        self._running = True
        return obs[self._agent], infos[self._agent]

    def step(self, action: int):
        if not self._running:
            raise RuntimeError("step() called before reset() or after the episode ended; call reset()")
        obs, rewards, terms, truncs, infos = self._par.step({self._agent: action})
        a = self._agent
        self._running = not (terms[a] or truncs[a])
        return obs[a], rewards[a], terms[a], truncs[a], infos[a]

    def render(self) -> np.ndarray | str | None:
        return self._par.render()

    def close(self) -> None:
        self._par.close()


def make_gym_env(world: str | World = "lake", seed: int | None = None, render_mode: str | None = None,
                 reward: str = "eat", **kwargs: Any) -> FisherGymEnv:
    """A single-fisher Gymnasium Env over one world; see `FisherGymEnv`.

    kwargs: ``max_cycles=int``, ``respawn=bool`` and world constants as
    ``section__field=value`` (e.g. ``hunger__rate=0.02``).
    """
    return FisherGymEnv(world, seed, render_mode, reward, **kwargs)


def register_gym() -> None:
    """Register "HungryFisher-v0" with Gymnasium (entry point sim.env:FisherGymEnv); a no-op if registered."""
    if GYM_ID not in gymnasium.registry:
        gymnasium.register(id=GYM_ID, entry_point="sim.env:FisherGymEnv")


register_gym()
