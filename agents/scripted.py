"""Scripted fishers with known skills: the ground truth that validates every probe.

Each fisher acts from observations only (batched: (N, OBS_SIZE) -> (N,) actions),
exactly as a trained policy will. They never see the fish field or the hidden weather;
they read ripples, the barometer, clouds and the sky like anyone else.

Skills are three switches on one fisher (`SkillFisher`):

- patience: keep the line out until a bite (or `patience` ticks); without it the
  fisher gives up after `IMPATIENT_TICKS`, before most bites can come.
- weather: head for the nearest shelter (the shelter sense) when a storm is on or
  announced (low, falling barometer; heavy cloud), stay until it passes.
- spots: fish where the ripples in view are richest, move on when a visibly
  richer spot is near, and walk on past water with no ripples at all; without it
  the fisher fishes at whatever spot it comes to.

Named fishers (see `SCRIPTED`): random; impatient (no skill); patient and
weather_blind (patience only: the same fisher under two names, one for each
comparison); weather_wise and spot_wise (patience plus one skill); expert (all
three); expert_no_patience, expert_no_weather, expert_no_spots (expert minus one).
All but random reel in at a bite and eat when hungry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.fishers import CAST, EAT, N_ACTIONS, REEL, WAIT
from sim.observe import LAYOUT, RIPPLE_LEVELS, SCALE_TICKS, VIEW, VIEW_CHANNELS, VIEW_RADIUS, view_of

IMPATIENT_TICKS = 5  # gives up when the line is this old: before most bites can come
PATIENT_TICKS = 10_000  # effectively never gives up
STORM_BAROMETER = 0.22  # this low and falling: a storm is near (fish on through the pre-front bites)
STORM_CLOUD = 0.88
CALM_BAROMETER = 0.35  # leave the shelter only when the barometer is back above this
CH = {name: i for i, name in enumerate(VIEW_CHANNELS)}
# (row, col) steps for north, south, east, west: index + 1 is the move action
DIRS = np.array([[-1, 0], [1, 0], [0, 1], [0, -1]])


def _scalar(obs: np.ndarray, name: str) -> np.ndarray:
    return obs[:, LAYOUT[name]]


@dataclass
class SkillFisher:
    """A scripted fisher with switchable skills; `act` maps observations to actions."""

    name: str = "expert"
    patience: bool = True
    weather: bool = True
    spots: bool = True
    patience_ticks: int = PATIENT_TICKS  # ticks a patient fisher waits before giving up
    seed: int = 0

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    @property
    def skills(self) -> dict[str, object]:
        """The skill parameters this fisher was built with (what probes must recover)."""
        return {"patience": self.patience, "weather": self.weather, "spots": self.spots,
                "give_up_after": self.patience_ticks if self.patience else IMPATIENT_TICKS}

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(self.seed if seed is None else seed)

    def act(self, obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float32).reshape(-1, obs.shape[-1])
        n = obs.shape[0]
        action = np.full(n, -1, dtype=np.int64)

        def choose(mask: np.ndarray, value: np.ndarray | int) -> None:
            free = mask & (action < 0)
            action[free] = value[free] if isinstance(value, np.ndarray) else value

        inventory = _scalar(obs, "inventory")
        line, bite = _scalar(obs, "line_out") > 0.5, _scalar(obs, "bite") > 0.5
        in_shelter = _scalar(obs, "in_shelter") > 0.5
        age = np.rint(_scalar(obs, "line_age") * SCALE_TICKS)
        facing = np.argmax(obs[:, [LAYOUT[f"facing_{d}"] for d in ("north", "south", "east", "west")]],
                           axis=1)

        choose(line & bite, REEL)
        choose((inventory > 0) & (_scalar(obs, "hungry_enough") > 0.5), EAT)

        if self.weather:
            storm = _scalar(obs, "storm") > 0.5
            baro, trend = _scalar(obs, "barometer"), _scalar(obs, "barometer_trend")
            danger = storm | ((baro < STORM_BAROMETER) & (trend < 0)) | (_scalar(obs, "cloud") > STORM_CLOUD)
            stay = in_shelter & (storm | (baro < CALM_BAROMETER) | danger)
            choose(stay, WAIT)
            to_shelter = obs[:, [LAYOUT[f"shelter_{d}"] for d in ("north", "south", "east", "west")]]
            has_way = to_shelter.max(axis=1) > 0.5
            choose(danger & ~in_shelter & has_way, 1 + np.argmax(to_shelter, axis=1))

        view = view_of(obs)
        score, best_dir = _spot_scores(view)  # (N, V, V) each
        c = VIEW_RADIUS
        target, target_score = _best_target(score, self.rng, prefer_rich=self.spots)
        there = target == c * VIEW + c  # the chosen spot is where the fisher stands
        facing_score = _facing_target_ripple(view, facing)
        best_here = score[:, c, c]
        turn = 1 + best_dir[:, c, c]
        walk = _step_toward(view, target, self.rng)
        if self.spots:
            # move on when a visibly richer spot is near (one ripple level better), and
            # leave water with no ripples at all to look for better (explore ahead)
            barren = (target_score >= 0) & (target_score < 1 / RIPPLE_LEVELS - 1e-6)
            choose(barren & ~in_shelter, _explore(view, facing, self.rng))
            move_on = (target_score > facing_score + 0.3) & (target_score >= 0)
            aligned = there & (facing_score >= best_here - 1e-6)
        else:
            move_on = np.zeros(n, dtype=bool)
            aligned = there & (_scalar(obs, "facing_water") > 0.5)
        give_up = age >= (self.patience_ticks if self.patience else IMPATIENT_TICKS)
        choose(line & give_up, REEL)
        choose(line & move_on & there, turn)
        choose(line & move_on, walk)
        choose(line, WAIT)
        choose(aligned & ~in_shelter, CAST)
        choose(there & ~in_shelter, turn)
        choose(target_score >= 0, walk)
        choose(np.ones(n, dtype=bool), 1 + self.rng.integers(0, 4, n))  # no spot in view: explore
        return action


class RandomFisher:
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


def _padded(a: np.ndarray, pad: int = 2) -> np.ndarray:
    return np.pad(a, ((0, 0), (pad, pad), (pad, pad)))


def _spot_scores(view: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every view cell: the ripple where a cast from it would land (best direction), -1 if not a spot.

    Assumes a cast reach of 2 (every shipped world's); the line lands on the second
    cell when it is water, else on the first.
    """
    water = _padded(view[..., CH["shallow"]] + view[..., CH["deep"]] + view[..., CH["reeds"]] > 0)
    ripple = _padded(view[..., CH["ripples"]])
    ground = view[..., CH["ground"]] > 0.5
    p, v = 2, VIEW
    per_dir = np.full((view.shape[0], 4, v, v), -1.0, dtype=np.float32)
    for k, (dr, dc) in enumerate(DIRS):
        w1 = water[:, p + dr: p + dr + v, p + dc: p + dc + v]
        w2 = water[:, p + 2 * dr: p + 2 * dr + v, p + 2 * dc: p + 2 * dc + v]
        r1 = ripple[:, p + dr: p + dr + v, p + dc: p + dc + v]
        r2 = ripple[:, p + 2 * dr: p + 2 * dr + v, p + 2 * dc: p + 2 * dc + v]
        per_dir[:, k] = np.where(ground & w1, np.where(w2, r2, r1), -1.0)  # where the line lands
    return per_dir.max(axis=1), per_dir.argmax(axis=1)


def _facing_target_ripple(view: np.ndarray, facing: np.ndarray) -> np.ndarray:
    """Ripple where a cast ahead would land, -1 if not facing water."""
    c = VIEW_RADIUS
    n = view.shape[0]
    water = view[..., CH["shallow"]] + view[..., CH["deep"]] + view[..., CH["reeds"]] > 0
    ripple = view[..., CH["ripples"]]
    r1, c1 = c + DIRS[facing, 0], c + DIRS[facing, 1]
    r2, c2 = c + 2 * DIRS[facing, 0], c + 2 * DIRS[facing, 1]
    rows = np.arange(n)
    w1, w2 = water[rows, r1, c1], water[rows, r2, c2]
    return np.where(w1, np.where(w2, ripple[rows, r2, c2], ripple[rows, r1, c1]), -1.0)


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


SCRIPTED: dict[str, dict[str, bool]] = {
    "impatient": {"patience": False, "weather": False, "spots": False},
    "patient": {"patience": True, "weather": False, "spots": False},
    "weather_blind": {"patience": True, "weather": False, "spots": False},
    "weather_wise": {"patience": True, "weather": True, "spots": False},
    "spot_wise": {"patience": True, "weather": False, "spots": True},
    "expert": {"patience": True, "weather": True, "spots": True},
    "expert_no_patience": {"patience": False, "weather": True, "spots": True},
    "expert_no_weather": {"patience": True, "weather": False, "spots": True},
    "expert_no_spots": {"patience": True, "weather": True, "spots": False},
}
SCRIPTED_NAMES: tuple[str, ...] = ("random", *SCRIPTED)


def make_scripted(name: str, seed: int = 0, **params: int) -> SkillFisher | RandomFisher:
    """A scripted fisher by name ("patient", "expert", ...); params e.g. patience_ticks=8."""
    if name == "random":
        return RandomFisher(seed=seed)
    if name not in SCRIPTED:
        raise ValueError(f"scripted fisher: expected one of {list(SCRIPTED_NAMES)}, got {name!r}")
    return SkillFisher(name=name, seed=seed, **SCRIPTED[name], **params)


def scripted_from_spec(spec: str, seed: int = 0) -> SkillFisher | RandomFisher:
    """The fisher a `scripted:NAME[:KEY=INT,...]` spec names (e.g. scripted:patient:patience_ticks=8):
    the one parser behind every command's policy argument. Raises ValueError with a one-line reason."""
    _, name, *rest = spec.split(":", 2)
    if name not in SCRIPTED_NAMES:
        raise ValueError(f"unknown scripted fisher {name!r}; expected scripted:NAME with NAME one of "
                         f"{', '.join(SCRIPTED_NAMES)}")
    params: dict[str, int] = {}
    for item in filter(None, (rest[0] if rest else "").split(",")):
        key, eq, value = item.partition("=")
        try:
            params[key.strip()] = int(value)
        except ValueError:
            raise ValueError(f"{spec!r}: expected KEY=INTEGER parameters, got {item!r}") from None
        if not eq:
            raise ValueError(f"{spec!r}: expected KEY=INTEGER parameters, got {item!r}")
    if params and name == "random":
        raise ValueError(f"{spec!r}: the random fisher takes no parameters")
    try:
        fisher = make_scripted(name, seed=seed, **params)
    except TypeError:
        raise ValueError(f"{spec!r}: {name} takes no parameter among {sorted(params)} "
                         f"(e.g. patience_ticks)") from None
    if params:
        fisher.name = f"{name}({','.join(f'{k}={v}' for k, v in params.items())})"
    return fisher
