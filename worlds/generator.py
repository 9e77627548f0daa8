"""Procedural worlds: ecologies, not only lakes, from a seed.

A seed draws a plan (`plan_world`): an archetype of map (`worlds.landscapes.ARCHETYPES`: lakes,
ponds, a river with a current, a coast with tides, islands, a long fjord, a marsh, a frozen
lake), a natural size, a shelter layout, and regimes for the weather (storm frequency, warning
time, severity), the fish (sparse or rich, still or moving) and the bite rule (the lake's or
the mirror's). The constants start from the shipped world each archetype is modelled on
(`TEMPLATES`: the river's current, the coast's tide, the ice's rare bites, the mirror's bite
rule) and are scaled within small factors; the storm's danger (hunger.storm_multiplier and the
[storm] section, whatever fields it has) always comes from the lake's file, scaled mildly, so
a change to the lake's storm rules flows into every generated world.

A generated world is data (a parameter table and a map text) and goes through the same
validation and playability checks as a world file. "generated:SEED" is the same world
everywhere; "generated:SEED:SIZE" is the same plan drawn on another map size (at its natural
size, the same world). Maps that would fail a playability check are mended without drawing
anything more (`_mend`) or, failing that, drawn again from the same stream.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass

import numpy as np

from worlds.landscapes import ARCHETYPES, CHARS, MAKERS, WALK_CHARS, beside, place_shelters
from worlds.playable import FRONTS, check_playable, richest_water, ripple_capacity, stranded_spawns
from worlds.schema import MAX_MAP_SIDE, MAX_TICKS, TERRAIN_NAMES, WATER_KINDS
from worlds.world import WORLDS_DIR, World, WorldFileError, parse_map, world_from_data

MIN_SIZE, MAX_SIZE = 10, MAX_MAP_SIDE
# The shipped world each archetype takes its rules from (fishing, fish, weather, bites, tide).
TEMPLATES = {"lake": "lake", "pond": "pond", "river": "river", "coast": "coast", "islands": "lake",
             "fjord": "lake", "marsh": "lake", "ice": "ice"}
DANGER = "lake"  # whose storm danger every generated world scales
# Natural sizes (rows, columns), drawn per seed. A batch pads every map to its largest, so a pool
# of worlds costs as much as its biggest map: at most 20 x 30 (600 cells; the lake is 16 x 22).
SIZES: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "lake": ((14, 20), (16, 26)), "pond": ((12, 18), (14, 24)), "river": ((12, 20), (16, 30)),
    "coast": ((12, 18), (16, 26)), "islands": ((14, 20), (18, 28)), "fjord": ((12, 16), (24, 30)),
    "marsh": ((12, 18), (14, 24)), "ice": ((12, 18), (14, 24))}
# The regimes: name -> factor (or range) and how often each is drawn.
STORMS = {"calm": 0.4, "temperate": 1.0, "stormy": 1.7}     # x the odds of a front turning to storm
# weather.lead: ranges of its low and its high end, ticks ("usual": about the lake's [10, 20])
WARNINGS = {"short": ((4, 6), (7, 10)), "usual": ((9, 11), (18, 22)), "long": ((15, 18), (24, 30))}
SEVERITIES = {"mild": 0.8, "usual": 1.0, "harsh": 1.25}     # x storm danger and storm length
ABUNDANCES = {"sparse": 0.7, "usual": 1.0, "rich": 1.5}     # x carrying capacity
MOTIONS = {"still": (0.003, 0.012), "moving": (0.04, 0.08)}  # fish.move_rate
LAYOUTS = ("ring", "many", "few", "far")                    # worlds.landscapes.LAYOUTS
MIRROR_SHARE = 0.2  # one world in five has the mirror's bite rule


@dataclass(frozen=True)
class Plan:
    """What a seed draws before any map: the archetype, its regimes and its constants."""

    seed: int
    archetype: str
    size: tuple[int, int]   # the natural size (a spec's SIZE overrides it)
    regimes: dict[str, str]  # storms, warning, severity, fish, motion, bites, shelters
    data: dict               # the world's parameter tables, as a world.toml would hold them


def parse_generated_spec(text: str) -> dict:
    """"generated:SEED" or "generated:SEED:SIZE" (SIZE = N or HxW) -> generate_world kwargs."""
    parts = text.split(":")
    try:
        if parts[0] != "generated" or len(parts) not in (2, 3):
            raise ValueError
        out: dict = {"seed": int(parts[1])}
        if len(parts) == 3:
            h, _, w = parts[2].partition("x")
            out["size"] = (int(h), int(w or h))
    except ValueError:
        raise WorldFileError(text, "world", "'generated:SEED' or 'generated:SEED:SIZE' with integers, "
                             "SIZE as N or HxW") from None
    return out


@functools.cache
def _template(name: str) -> dict:
    return tomllib.loads((WORLDS_DIR / name / "world.toml").read_text())


def _copy(table: dict) -> dict:
    """A copy of nested tables (cheaper than deepcopy: TOML holds only dicts, lists and scalars)."""
    return {k: _copy(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v
            for k, v in table.items()}


def _jitter_probs(rng: np.random.Generator, table: dict, storm: float = 1.0) -> dict:
    """Perturb a probability table (keeping its zeros), the odds of a storm times `storm`,
    renormalised to sum to 1."""
    keys = list(table)
    values = np.array([table[k] * (storm if k == "storm" else 1.0) for k in keys], dtype=float)
    values *= rng.uniform(0.7, 1.3, len(keys))
    values /= values.sum()
    values[-1] = 1.0 - values[:-1].sum()  # exact sum for the loader's check
    return {k: float(v) for k, v in zip(keys, values, strict=True)}


def _pick(rng: np.random.Generator, names, weights=None) -> str:
    names = list(names)
    return names[int(rng.choice(len(names), p=weights))]


def _weather(rng: np.random.Generator, data: dict, storms: float,
             warning: tuple[tuple[int, int], tuple[int, int]], severity: float) -> None:
    w = data["weather"]
    w["next"] = {s: _jitter_probs(rng, row, storms) for s, row in w["next"].items()}
    dwell = {}
    for state, (lo, hi) in w["dwell"].items():
        s = rng.uniform(0.7, 1.4) * (severity if state == "storm" else 1.0)
        dwell[state] = [max(5, round(lo * s)), max(6, round(hi * s))]
    w["dwell"] = dwell
    # the warning must start inside the longest stay of a state a front can follow (worlds.playable)
    before_front = [s for s, row in w["next"].items() if any(row.get(f, 0) > 0 for f in FRONTS if f != s)]
    longest = max((dwell[s][1] for s in before_front), default=MAX_TICKS)
    (a, b), (c, d) = warning
    # and last longer than the lake's squall, which must come after the cues (worlds.playable)
    low = max(min(int(rng.integers(a, b + 1)), longest - 2), int(data["storm"].get("squall_ticks", 0)) + 1)
    w["lead"] = [low, max(low, int(rng.integers(c, d + 1)))]


def _danger(rng: np.random.Generator, data: dict, severity: float) -> None:
    """The lake's storm danger, scaled mildly: its hunger.storm_multiplier and its [storm] section
    (the odds of losing the line and a fish scaled, any other field as the lake has it)."""
    lake = _template(DANGER)
    data["hunger"]["storm_multiplier"] = round(float(np.clip(
        lake["hunger"]["storm_multiplier"] * severity * rng.uniform(0.9, 1.1), 1.0, 100.0)), 2)
    storm = _copy(lake["storm"])
    for key in ("p_lose_line", "p_lose_fish"):
        if key in storm:
            storm[key] = round(float(np.clip(storm[key] * severity * rng.uniform(0.9, 1.1), 0.0, 1.0)), 3)
    data["storm"] = storm


def plan_world(seed: int) -> Plan:
    """The archetype, natural size, regimes and constants of "generated:SEED" (no map yet)."""
    rng = np.random.default_rng([int(seed), 0])
    archetype = _pick(rng, ARCHETYPES)
    (h0, h1), (w0, w1) = SIZES[archetype]
    size = (int(rng.integers(h0, h1 + 1)), int(rng.integers(w0, w1 + 1)))
    regimes = {"storms": _pick(rng, STORMS), "warning": _pick(rng, WARNINGS),
               "severity": _pick(rng, SEVERITIES), "fish": _pick(rng, ABUNDANCES),
               "motion": _pick(rng, MOTIONS), "bites": _pick(rng, ("lake", "mirror"),
                                                             [1 - MIRROR_SHARE, MIRROR_SHARE]),
               "shelters": _pick(rng, LAYOUTS)}
    data = _copy(_template(TEMPLATES[archetype]))
    for key in ("name", "description", "map", "legend"):
        data.pop(key, None)
    # the lake's hunger (its storm multiplier is danger), at the template's rate (its metabolism)
    data["hunger"] = {**_copy(_template(DANGER)["hunger"]), "rate": data["hunger"]["rate"]}
    data["hunger"]["rate"] = round(data["hunger"]["rate"] * rng.uniform(0.85, 1.15), 5)
    severity = SEVERITIES[regimes["severity"]]
    _danger(rng, data, severity)
    _weather(rng, data, STORMS[regimes["storms"]], WARNINGS[regimes["warning"]], severity)
    if regimes["bites"] == "mirror":  # fish bite in sunshine and hide before rain
        mirror = _template("mirror")
        data["bites"] = _copy(mirror["bites"])
        data["fishing"]["p_bite"], data["fishing"]["settle"] = (mirror["fishing"]["p_bite"],
                                                                mirror["fishing"]["settle"])
    fishing, fish = data["fishing"], data["fish"]
    fishing["p_bite"] = round(fishing["p_bite"] * rng.uniform(0.8, 1.25), 4)
    plenty = ABUNDANCES[regimes["fish"]]
    fish["capacity"] = {k: round(v * plenty * rng.uniform(0.85, 1.15), 3)
                        for k, v in fish["capacity"].items()}
    fish["regrowth"] = round(fish["regrowth"] * rng.uniform(0.7, 1.4), 4)
    fish["move_rate"] = round(rng.uniform(*MOTIONS[regimes["motion"]]), 4)
    if archetype == "river":  # the direction comes with the map
        fish["current_rate"] = round(rng.uniform(0.02, 0.05) if regimes["motion"] == "still"
                                     else rng.uniform(0.05, 0.08), 4)
    else:
        fish.pop("current", None)
        fish.pop("current_rate", None)
    if archetype == "coast":
        data["tide"] = {"period": 2 * int(rng.integers(50, 121))}
    else:
        data.pop("tide", None)
    return Plan(seed=int(seed), archetype=archetype, size=size, regimes=regimes, data=data)


def _mend(map_text: str, data: dict, spec: str) -> str:
    """The map unchanged if it is playable; otherwise mended without any random draw: spawn cells
    with no walk to a shelter or to fishable water (an island, a pocket behind rocks) become rock,
    and when the richest water could never show a ripple, the first of its cells becomes the
    kind of water with the largest capacity."""
    legend = {char: TERRAIN_NAMES.index("shallow" if name == "flat" else name)  # a flat at high tide
              for name, char in CHARS.items()}
    terrain = parse_map(map_text, legend, spec)
    grid = np.array([list(row) for row in map_text.splitlines()], dtype="<U1")
    no_shelter, no_water = stranded_spawns(terrain)
    grid[no_shelter | no_water] = CHARS["rock"]
    capacity = data["fish"]["capacity"]
    if richest_water(terrain, capacity)[1] < ripple_capacity(data["fish"]["density_ref"]):
        best = max(WATER_KINDS, key=lambda k: capacity[k])
        water = np.isin(grid, [CHARS[k] for k in WATER_KINDS])
        if water.any():
            r, c = np.argwhere(water)[0]
            grid[r, c] = CHARS[best]
    return "\n".join("".join(row) for row in grid) + "\n"


def _ensure_ripples(rng: np.random.Generator, grid: np.ndarray, capacity: dict, ripple: float) -> None:
    """If no water on the map can show a ripple (a sparse regime: the coast's sea, a lake without
    reeds), a few of its cells beside the shore become the richest kind."""
    if any(capacity[k] >= ripple and (grid == CHARS[k]).any() for k in WATER_KINDS):
        return
    best = CHARS[max(WATER_KINDS, key=lambda k: capacity[k])]
    shore = np.isin(grid, (*WALK_CHARS, CHARS["flat"]))
    cells = np.flatnonzero(np.isin(grid, [CHARS[k] for k in WATER_KINDS]) & beside(shore))
    if len(cells):
        grid.flat[rng.choice(cells, size=min(len(cells), 3), replace=False)] = best


def generate_map(plan: Plan, rng: np.random.Generator, h: int, w: int) -> str:
    """A map text for a plan: its archetype's landscape, then its shelters near the richest water."""
    grid, extra = MAKERS[plan.archetype](rng, h, w)
    if "current" in extra:
        plan.data["fish"]["current"] = extra["current"]
    capacity = plan.data["fish"]["capacity"]
    _ensure_ripples(rng, grid, capacity, ripple_capacity(plan.data["fish"]["density_ref"]))
    present = [k for k in WATER_KINDS if (grid == CHARS[k]).any()] or list(WATER_KINDS)
    richest = max(capacity[k] for k in present)
    rich = tuple(CHARS[k] for k in present if capacity[k] >= richest)
    place_shelters(rng, grid, plan.regimes["shelters"], rich, plan.data["fishing"]["cast_reach"])
    return "\n".join("".join(row) for row in grid) + "\n"


def describe(plan: Plan, h: int, w: int) -> str:
    r = plan.regimes
    return (f"Procedural {plan.archetype} world (seed {plan.seed}, {h}x{w}): {r['storms']} weather, "
            f"{r['warning']} warning, {r['severity']} storms, {r['fish']} {r['motion']} fish, "
            f"the {r['bites']}'s bite rule, shelters {r['shelters']}.")


def generate_world(seed: int, size: tuple[int, int] | int | None = None) -> World:
    """A procedural world from a seed (at its natural size unless `size` is given); validated
    exactly like a world file."""
    plan = plan_world(seed)
    h, w = plan.size if size is None else (size, size) if isinstance(size, int) else size
    spec = f"generated:{seed}:{h}x{w}"
    if not (MIN_SIZE <= h <= MAX_SIZE and MIN_SIZE <= w <= MAX_SIZE):
        raise WorldFileError(spec, "size", f"rows and columns in [{MIN_SIZE}, {MAX_SIZE}]")
    rng = np.random.default_rng([int(seed), 1, h, w])
    data = plan.data
    data.update(name=f"generated-{seed}-{h}x{w}", description=describe(plan, h, w),
                legend={char: name for name, char in CHARS.items()})
    for _attempt in range(20):  # a map the mending cannot save is drawn again
        try:
            world = world_from_data(data, _mend(generate_map(plan, rng, h, w), data, spec), spec)
            check_playable(world, spec)
            return world
        except WorldFileError as err:
            if not err.field.startswith("map"):
                raise
    raise WorldFileError(spec, "map", "a playable generated map: reachable water and shelters "
                         "(20 attempts failed)")
