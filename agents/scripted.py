"""Scripted fishers with known skills: the ground truth that validates every probe.

Each fisher acts from observations only (batched: (N, OBS_SIZE) -> (N,) actions),
exactly as a trained policy will. They never see the fish field or the hidden weather;
they read ripples, the barometer, clouds and the sky like anyone else. What they know
of the world's rules (cast reach, whether ripples can show, how the barometer and the
clouds move, the warning lead, the tuned expert's parameters) they read from the world
(`agents.world_reading`): `bind(sim)` (sim.policy: every runner calls it before the first
step) gives them every row's world; unbound, they read the lake's file.

Skills are three switches on one fisher (`SkillFisher`):

- patience: keep the line out until a bite, or until the give-up time for how rich
  the spot looks (the best one under the world's bite rule, one per ripple level,
  `agents.give_up`; fish grow wary of a still line, so waiting forever loses), then cast
  again, where it stands or (for the world's tuned `roam_ticks`) elsewhere;
  without it the fisher reels in after `IMPATIENT_TICKS`, before most bites can come,
  and casts again where it stands.
- weather: anticipating (the default), it heads for the nearest shelter when its
  forecast (`world_reading.storm_eta`) says a storm breaks within `lead_ticks` plus its
  walk to the shelter, and stays until the storm has passed; reactive, it acts only on
  the storm itself (the reflex every anticipating fisher is checked against).
- spots: fish where the ripples in view are richest, move on when a visibly
  richer spot is near, and walk on past water with no ripples at all (in worlds where
  the richest water can show some); without it the fisher fishes at whatever spot it
  comes to.

Named fishers (see `SCRIPTED`): random; impatient (no skill); patient and
weather_blind (patience only: the same fisher under two names, one for each
comparison); weather_wise and spot_wise (patience plus one skill); expert (all
three, with the world's tuned parameters); reactive (the expert, reacting to storms
instead of reading the sky); expert_no_patience, expert_no_weather, expert_no_spots
(expert minus one); oracle (`agents.oracle`: the expert reading the hidden state).
All but random reel in at a bite and eat when hungry. `scripted_from_spec` (the one parser
behind every command's policy argument) parses specs such as scripted:patient:patience_ticks=20
or scripted:expert:lead_ticks=6.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agents.oracle import HiddenStateSight
from agents.world_reading import LEVELS, WorldReading, read_worlds, reading_for, storm_eta
from sim.fishers import CAST, EAT, N_ACTIONS, REEL, WAIT
from sim.observe import (
    LAYOUT,
    LINE_AGE_TICKS,
    RIPPLE_LEVELS,
    SCALE_TICKS,
    VIEW,
    VIEW_CHANNELS,
    VIEW_RADIUS,
    view_of,
)
from sim.policy import BasePolicy

IMPATIENT_TICKS = 5  # gives up when the line is this old: before most bites can come
CH = {name: i for i, name in enumerate(VIEW_CHANNELS)}
# (row, col) steps for north, south, east, west: index + 1 is the move action
DIRS = np.array([[-1, 0], [1, 0], [0, 1], [0, -1]])
WEATHER_MODES = ("anticipate", "react")


def _scalar(obs: np.ndarray, name: str) -> np.ndarray:
    return obs[:, LAYOUT[name]]


@dataclass
class SkillFisher(BasePolicy):
    """A scripted fisher with switchable skills; `act` maps observations to actions.

    patience_ticks / lead_ticks: None takes each row's world's values (give-up times from its
    bite rule, the lead from `agents/expert_params.toml`); an integer fixes them (the families
    of the checks).
    """

    name: str = "expert"
    patience: bool = True
    weather: bool = True
    spots: bool = True
    weather_mode: str = "anticipate"
    patience_ticks: int | None = None
    lead_ticks: int | None = None
    seed: int = 0
    reading: WorldReading | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.weather_mode not in WEATHER_MODES:
            raise ValueError(f"weather_mode: expected one of {WEATHER_MODES}, got {self.weather_mode!r}")
        self.rng = np.random.default_rng(self.seed)
        self._forget()

    @property
    def skills(self) -> dict[str, object]:
        """The skill parameters this fisher was built with (what probes must recover)."""
        give_up = (self.patience_ticks if self.patience_ticks is not None else "tuned") if self.patience \
            else IMPATIENT_TICKS
        return {"patience": self.patience, "weather": self.weather and self.weather_mode, "spots": self.spots,
                "give_up_after": give_up, "lead_ticks": self.lead_ticks}

    def _forget(self) -> None:
        """Drop the per-row memory (its own line-age count, roaming after giving up on a spot)."""
        self._roam = np.zeros(0, dtype=np.int64)
        self._age = np.zeros(0, dtype=np.int64)
        self._lives: np.ndarray | None = None

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(self.seed if seed is None else seed)
        self._forget()

    def bind(self, sim: object) -> None:
        """Read the rules of every world of a `Simulation` (rows ordered world, fisher); its rows are
        new, so the per-row memory starts afresh (the random generator is `reset`'s business)."""
        self.reading = read_worlds(list(sim.worlds), sim.n_fishers)
        self._forget()

    def new_lives(self, lives: np.ndarray) -> None:
        """A newcomer in a slot (its count of lives changed) starts without its predecessor's memory."""
        lives = np.asarray(lives).reshape(-1)
        prev = self._lives if self._lives is not None and self._lives.shape == lives.shape \
            else np.ones_like(lives)  # every slot starts with one life
        if self._roam.shape == lives.shape:
            changed = lives != prev
            self._roam[changed] = 0
            self._age[changed] = 0
        self._lives = lives.copy()

    def _storm_eta(self, obs: np.ndarray, r: WorldReading) -> np.ndarray:
        """Ticks until a storm breaks as this fisher judges it (0: one is on; inf: none coming)."""
        storm = _scalar(obs, "storm") > 0.5
        if self.weather_mode == "react":
            return np.where(storm, 0.0, np.inf)
        cloud, baro = _scalar(obs, "cloud").astype(float), _scalar(obs, "barometer").astype(float)
        return storm_eta(cloud, baro, storm, r)

    def _ripples(self, view: np.ndarray) -> np.ndarray:
        """What the fisher takes for the fish of each view cell (the ripples; the oracle knows)."""
        return view[..., CH["ripples"]]

    def _give_up_after(self, r: WorldReading, level: np.ndarray) -> np.ndarray:
        if not self.patience:
            return np.full(level.shape, IMPATIENT_TICKS)
        if self.patience_ticks is not None:
            return np.full(level.shape, self.patience_ticks)
        return r.tuned_give_up[np.arange(level.shape[0]), level]

    def _roam_after(self, r: WorldReading) -> np.ndarray:
        """Ticks it casts nowhere near a spot it gave up on (tuned per world; 0: recast at once)."""
        return r.tuned_roam

    def act(self, obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float32).reshape(-1, obs.shape[-1])
        n = obs.shape[0]
        r = reading_for(self.reading, n)
        if self._roam.shape[0] != n:
            self._roam = np.zeros(n, dtype=np.int64)
            self._age = np.zeros(n, dtype=np.int64)
        action = np.full(n, -1, dtype=np.int64)

        def choose(mask: np.ndarray, value: np.ndarray | int) -> None:
            free = mask & (action < 0)
            action[free] = value[free] if isinstance(value, np.ndarray) else value

        inventory = _scalar(obs, "inventory")
        line, bite = _scalar(obs, "line_out") > 0.5, _scalar(obs, "bite") > 0.5
        in_shelter = _scalar(obs, "in_shelter") > 0.5
        # the line age sense stops at LINE_AGE_TICKS: beyond it the fisher counts for itself
        seen = np.rint(_scalar(obs, "line_age") * LINE_AGE_TICKS).astype(np.int64)
        counted = np.maximum(self._age + 1, seen)
        age = np.where(line & (seen >= LINE_AGE_TICKS), counted, np.where(line, seen, 0))
        self._age = age
        facing = np.argmax(obs[:, [LAYOUT[f"facing_{d}"] for d in ("north", "south", "east", "west")]],
                           axis=1)

        choose(line & bite, REEL)
        choose((inventory > 0) & (_scalar(obs, "hungry_enough") > 0.5), EAT)

        if self.weather:
            lead = r.tuned_lead if self.lead_ticks is None else np.full(n, self.lead_ticks)
            walk_to_shelter = np.maximum(np.rint(_scalar(obs, "shelter_distance") * SCALE_TICKS), 1.0)
            eta = self._storm_eta(obs, r)
            choose(in_shelter & (eta <= lead), WAIT)
            to_shelter = obs[:, [LAYOUT[f"shelter_{d}"] for d in ("north", "south", "east", "west")]]
            has_way = to_shelter.max(axis=1) > 0.5
            choose((eta <= lead + walk_to_shelter) & ~in_shelter & has_way, 1 + np.argmax(to_shelter, axis=1))

        view = view_of(obs)
        ripples = self._ripples(view)
        score, best_dir = _spot_scores(view, ripples, r.cast_reach)  # (N, V, V) each
        roaming = self._roam > 0
        score = np.where(roaming[:, None, None] & (_DIST <= 2), -1.0, score)
        c = VIEW_RADIUS
        target, target_score = _best_target(score, self.rng, prefer_rich=self.spots)
        there = target == c * VIEW + c  # the chosen spot is where the fisher stands
        facing_score = _facing_target_ripple(view, ripples, facing, r.cast_reach)
        best_here = score[:, c, c]
        turn = 1 + best_dir[:, c, c]
        walk = _step_toward(view, target, self.rng)
        if self.spots:
            # move on when a visibly richer spot is near (one ripple level better), and
            # leave water with no ripples at all to look for better (explore ahead), where
            # this world's richest water can show ripples at all
            barren = (target_score >= 0) & (target_score < 1 / RIPPLE_LEVELS - 1e-6) & r.ripples_show
            choose(barren & ~in_shelter, _explore(view, facing, self.rng))
            move_on = (target_score > facing_score + 0.3) & (target_score >= 0)
            aligned = there & (facing_score >= best_here - 1e-6)
        else:
            move_on = np.zeros(n, dtype=bool)
            aligned = there & (_scalar(obs, "facing_water") > 0.5)
        level = np.floor(np.maximum(facing_score, 0) * RIPPLE_LEVELS + 1e-6)
        level = np.clip(level, 0, LEVELS - 1).astype(int)
        give_up = line & (age >= self._give_up_after(r, level))
        choose(give_up, REEL)
        if self.patience:  # giving up on a spot means moving on from it
            self._roam = np.where(give_up & (action == REEL), self._roam_after(r) + 1, self._roam)
        choose(line & move_on & there, turn)
        choose(line & move_on, walk)
        choose(line, WAIT)
        choose(aligned & ~in_shelter, CAST)
        choose(there & ~in_shelter, turn)
        choose(target_score >= 0, walk)
        choose(np.ones(n, dtype=bool), 1 + self.rng.integers(0, 4, n))  # no spot in view: explore
        self._roam = np.maximum(self._roam - 1, 0)
        return action


class OracleFisher(HiddenStateSight, SkillFisher):
    """The expert with perfect knowledge of the fish and the weather (agents.oracle; needs `bind(sim)`)."""


class RandomFisher(BasePolicy):
    """Uniformly random actions: the floor every skill must beat."""

    name = "random"
    skills = {"patience": False, "weather": False, "spots": False, "give_up_after": None}

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(self.seed if seed is None else seed)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.rng.integers(0, N_ACTIONS, np.asarray(obs).reshape(-1, obs.shape[-1]).shape[0])


def _spot_scores(view: np.ndarray, ripples: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every view cell: the ripple where a cast from it would land (best direction), -1 if not a spot.

    The line lands on the farthest cell of unbroken water ahead, up to each row's cast reach.
    """
    pad = int(max(1, reach.max()))
    water = np.pad(view[..., CH["shallow"]] + view[..., CH["deep"]] + view[..., CH["reeds"]] > 0,
                   ((0, 0), (pad, pad), (pad, pad)))
    ripple = np.pad(ripples, ((0, 0), (pad, pad), (pad, pad)))
    ground = view[..., CH["ground"]] > 0.5
    v = VIEW
    per_dir = np.full((view.shape[0], 4, v, v), -1.0, dtype=np.float32)
    for k, (dr, dc) in enumerate(DIRS):
        landed = np.full((view.shape[0], v, v), -1.0, dtype=np.float32)
        going = ground.copy()
        for j in range(1, pad + 1):
            r0, c0 = pad + j * dr, pad + j * dc
            cells = (slice(None), slice(r0, r0 + v), slice(c0, c0 + v))
            going = going & water[cells] & (j <= reach)[:, None, None]
            landed = np.where(going, ripple[cells], landed)
        per_dir[:, k] = landed
    return per_dir.max(axis=1), per_dir.argmax(axis=1)


def _facing_target_ripple(view: np.ndarray, ripples: np.ndarray, facing: np.ndarray,
                          reach: np.ndarray) -> np.ndarray:
    """Ripple where a cast ahead would land, -1 if not facing water."""
    c = VIEW_RADIUS
    n = view.shape[0]
    water = view[..., CH["shallow"]] + view[..., CH["deep"]] + view[..., CH["reeds"]] > 0
    rows = np.arange(n)
    landed = np.full(n, -1.0, dtype=np.float32)
    going = np.ones(n, dtype=bool)
    for j in range(1, int(max(1, reach.max())) + 1):
        rr, cc = c + j * DIRS[facing, 0], c + j * DIRS[facing, 1]
        inside = (rr >= 0) & (rr < VIEW) & (cc >= 0) & (cc < VIEW)
        rr, cc = np.clip(rr, 0, VIEW - 1), np.clip(cc, 0, VIEW - 1)
        going = going & inside & water[rows, rr, cc] & (j <= reach)
        landed = np.where(going, ripples[rows, rr, cc], landed)
    return landed


_DIST = (np.abs(np.arange(VIEW) - VIEW_RADIUS)[:, None] + np.abs(np.arange(VIEW) - VIEW_RADIUS)[None, :])


def _best_target(score: np.ndarray, rng: np.random.Generator,
                 prefer_rich: bool) -> tuple[np.ndarray, np.ndarray]:
    """The view cell to walk to: the richest spot near (spot-wise), or any spot (the others)."""
    n = score.shape[0]
    jitter = rng.random((n, VIEW, VIEW)) * 0.01
    if prefer_rich:
        value = np.where(score >= 0, score - 0.05 * _DIST + jitter, -np.inf)
    else:  # fishes anywhere: the spot it stands on, else any visible spot at random
        value = np.where(score >= 0, np.where(_DIST == 0, 2.0, jitter * 100), -np.inf)
    flat = value.reshape(n, -1).argmax(axis=1)
    return flat, score.reshape(n, -1)[np.arange(n), flat]


def _explore(view: np.ndarray, facing: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Walk on in the facing direction; turn at random when blocked (or now and then)."""
    n = view.shape[0]
    c = VIEW_RADIUS
    walkable = view[..., CH["ground"]] > 0.5
    ahead_ok = walkable[np.arange(n), c + DIRS[facing, 0], c + DIRS[facing, 1]]
    turn = ~ahead_ok | (rng.random(n) < 0.1)
    return 1 + np.where(turn, rng.integers(0, 4, n), facing)


def _step_toward(view: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A move action toward a view cell, along the longer axis first, around blocked cells."""
    n = view.shape[0]
    c = VIEW_RADIUS
    dy, dx = target // VIEW - c, target % VIEW - c
    walkable = (view[..., CH["ground"]] + view[..., CH["shelter"]]) > 0.5
    rows = np.arange(n)
    options = []
    vertical = np.where(dy < 0, 0, 1)  # north / south
    horizontal = np.where(dx > 0, 2, 3)  # east / west
    first = np.where(np.abs(dy) >= np.abs(dx), vertical, horizontal)
    second = np.where(np.abs(dy) >= np.abs(dx), horizontal, vertical)
    for k in (first, second):
        ok = walkable[rows, c + DIRS[k, 0], c + DIRS[k, 1]]
        options.append(np.where(ok, k, -1))
    move = np.where(options[0] >= 0, options[0], options[1])
    move = np.where((dy == 0) & (dx == 0), rng.integers(0, 4, n), move)
    return 1 + np.where(move >= 0, move, rng.integers(0, 4, n))


SCRIPTED: dict[str, dict[str, object]] = {
    "impatient": {"patience": False, "weather": False, "spots": False},
    "patient": {"patience": True, "weather": False, "spots": False},
    "weather_blind": {"patience": True, "weather": False, "spots": False},
    "weather_wise": {"patience": True, "weather": True, "spots": False},
    "spot_wise": {"patience": True, "weather": False, "spots": True},
    "expert": {"patience": True, "weather": True, "spots": True},
    "reactive": {"patience": True, "weather": True, "spots": True, "weather_mode": "react"},
    "expert_no_patience": {"patience": False, "weather": True, "spots": True},
    "expert_no_weather": {"patience": True, "weather": False, "spots": True},
    "expert_no_spots": {"patience": True, "weather": True, "spots": False},
}
SCRIPTED_NAMES: tuple[str, ...] = ("random", *SCRIPTED, "oracle")
# the parameters a spec may set (scripted:NAME:KEY=INT,...), with the smallest value allowed
PARAMS = {"patience_ticks": 1, "lead_ticks": -50}


def make_scripted(name: str, seed: int = 0, **params: int) -> SkillFisher | RandomFisher:
    """A scripted fisher by name ("patient", "expert", ...); params e.g. patience_ticks=8."""
    if name == "random":
        if params:
            raise TypeError(f"the random fisher takes no parameters, got {sorted(params)}")
        return RandomFisher(seed=seed)
    if name == "oracle":
        return OracleFisher(name=name, seed=seed, **params)
    if name not in SCRIPTED:
        raise ValueError(f"scripted fisher: expected one of {list(SCRIPTED_NAMES)}, got {name!r}")
    return SkillFisher(name=name, seed=seed, **{**SCRIPTED[name], **params})


def scripted_from_spec(spec: str, seed: int = 0, world: object = None) -> SkillFisher | RandomFisher:
    """The fisher a `scripted:NAME[:KEY=INT,...]` spec names (the `scripted:` prefix may be left out):
    the one parser behind every command's policy argument (agents.policy_spec, agents.policies).

    KEY is one of `PARAMS`: patience_ticks (the give-up time) or lead_ticks (how early it leaves
    for shelter on the cues), e.g. scripted:patient:patience_ticks=20 or scripted:expert:lead_ticks=6.
    `world` (a name or World) sets the rules it reads for every row until `bind(sim)` is called.
    Raises ValueError with a one-line reason naming the culprit (the fisher or the parameter).
    """
    text = spec[len("scripted:"):] if spec.startswith("scripted:") else spec
    name, _, rest = text.partition(":")
    if name not in SCRIPTED_NAMES:
        raise ValueError(f"unknown scripted fisher {name!r} in {spec!r}; expected scripted:NAME with NAME "
                         f"one of {', '.join(SCRIPTED_NAMES)}")
    params: dict[str, int] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if key not in PARAMS:
            raise ValueError(f"{spec!r}: unknown parameter {key!r}; expected KEY=INTEGER with KEY "
                             f"{' or '.join(PARAMS)}")
        try:
            params[key] = int(value)
        except ValueError:
            raise ValueError(f"{spec!r}: parameter {key!r}: expected KEY=INTEGER ({key}=INTEGER), "
                             f"got {item!r}") from None
        if not eq or params[key] < PARAMS[key]:
            raise ValueError(f"{spec!r}: parameter {key!r}: expected an integer >= {PARAMS[key]}, "
                             f"got {item!r}")
    if name == "random" and params:
        raise ValueError(f"{spec!r}: parameter {next(iter(params))!r}: the random fisher takes no parameters")
    fisher = make_scripted(name, seed=seed, **params)
    if params:
        fisher.name = f"{name}({','.join(f'{k}={v}' for k, v in params.items())})"
    if world is not None and isinstance(fisher, SkillFisher):
        fisher.reading = read_worlds([world], 1)
    return fisher
