"""Study specs: one TOML file per study, validated before any work starts.

A spec names the fishers to train (`[[arms]]`), the training budget (`[train]`), where
they are measured (`[evaluate]`), probed (`[probe]`) and fine-tuned (`[finetune]`), or
a Mesa sweep over the ecosystem (`[sweep]`). `[scale.smoke]` and `[scale.full]` hold
the same sections and are merged over the base (tables merged key by key, anything
else replaced, `arms` replaced whole), so one file states both the minutes-long CI run
and the run a user makes. Both scales are validated when the file is loaded, so a typo
in the full scale fails in CI, not after an hour on a cluster.

Errors are `SpecError` (a ValueError) naming the file, the key and what was expected.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.hyperparams import ALGOS, HyperparamsError, load_hyperparams, world_keys
from agents.scripted import SCRIPTED_NAMES, scripted_from_spec
from sim.cli import read_toml
from worlds.loader import WorldFileError, load_world
from worlds.registry import SPELLINGS, expand, world_names

STUDIES_DIR = Path(__file__).resolve().with_name("studies")
STUDY_SCALES = ("smoke", "full")  # [scale.NAME] of a spec: seeds and budgets (not a probe scale)
REPORTS = ("emergence", "transfer", "teach_vs_incentivize", "specialist_vs_generalist", "thesis", "ecosystem")


class SpecError(ValueError):
    """A spec file that cannot be used; the message names the file, the key and what was expected."""


Check = Callable[[object], str | None]


def _int(low: int = 0) -> Check:
    def check(v: object) -> str | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and v >= low
        return None if ok else f"an integer >= {low}"
    return check


def _number(low: float = 0.0) -> Check:
    def check(v: object) -> str | None:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and v >= low
        return None if ok else f"a number >= {low}"
    return check


def _str(v: object) -> str | None:
    return None if isinstance(v, str) and v else "a non-empty string"


def _bool(v: object) -> str | None:
    return None if isinstance(v, bool) else "true or false"


def _one_of(*options: str) -> Check:
    def check(v: object) -> str | None:
        return None if v in options else f"one of {', '.join(repr(o) for o in options)}"
    return check


def _list(item: Check, non_empty: bool = True) -> Check:
    def check(v: object) -> str | None:
        if not isinstance(v, list) or (non_empty and not v):
            return "a non-empty list" if non_empty else "a list"
        for x in v:
            problem = item(x)
            if problem:
                return f"a list of {problem}s (bad item {x!r})"
        if len({json.dumps(x) for x in v}) != len(v):
            return "a list without repeated items"
        return None
    return check


def _table(v: object) -> str | None:
    return None if isinstance(v, dict) else "a table of key = value"


def _world(v: object) -> str | None:
    """One world: a registered name, generated:SEED[:SIZE], or a world file (checked at load time)."""
    if not isinstance(v, str) or v.startswith(("suite:", "all")) or ".." in v:
        return "one world: a world name, a world file or generated:SEED[:SIZE]"
    try:
        load_world(v)
    except (WorldFileError, ValueError, OSError):
        return f"a world name ({', '.join(world_names())}), a world file or generated:SEED[:SIZE]"
    return None


def _pool(v: object) -> str | None:
    """A training pool: any spec of worlds.registry (suite:NAME, generated:A..B, ...) or a list."""
    if isinstance(v, list):
        return _list(_world)(v)

    try:
        expand(v) if isinstance(v, str) else None
    except ValueError:
        return SPELLINGS
    return None if isinstance(v, str) else SPELLINGS


def _policy(v: object) -> str | None:
    if isinstance(v, str) and v.startswith("scripted:"):
        try:
            scripted_from_spec(v)
        except ValueError:
            return f"scripted:NAME with NAME in {SCRIPTED_NAMES} (optionally :KEY=INT,... parameters)"
        return None
    return None if isinstance(v, str) and v else "scripted:NAME or a policy file / run folder"


def _algo(v: object) -> str | None:
    return _one_of(*ALGOS)(v)


def _reward(v: object) -> str | None:
    from agents.rewards import check_reward

    return check_reward(v)


# section -> {key: (check, required)}; "arms" is a list of tables with ARM keys
TOP = {"name": (_str, True), "report": (_one_of(*REPORTS), True), "question": (_str, True),
       "description": (_str, False)}
ARM = {"name": (_str, True), "world": (_world, False), "worlds": (_pool, False), "reward": (_reward, False),
       "algo": (_algo, False), "policy": (_policy, False), "overrides": (_table, False),
       "budget": (_int(1), False)}
SECTIONS: dict[str, dict[str, tuple[Check, bool]]] = {
    "train": {"steps": (_int(1), True), "seeds": (_list(_int(0)), True), "checkpoint_every": (_int(0), False),
              "eval_every": (_int(0), False), "overrides": (_table, False),
              "budgets": (_list(_int(1)), False)},
    "evaluate": {"worlds": (_list(_world), True), "episodes": (_int(1), False), "fishers": (_int(1), False),
                 "ticks": (_int(1), False), "respawn": (_bool, False), "deterministic": (_bool, False),
                 "seed": (_int(0), False)},
    "probe": {"worlds": (_list(_world), True), "at": (_one_of("final", "checkpoints"), False),
              "scale": (_str, False), "seed": (_int(0), False),
              "source": (_one_of("auto", "rollout"), False)},
    "finetune": {"worlds": (_list(_world), True), "steps": (_int(1), True)},
    "sweep": {"world": (_world, False), "fishers": (_list(_int(1)), True),
              "regrowth": (_list(_number(0.0)), True), "replicates": (_int(1), True),
              "ticks": (_int(1), True), "policy": (_policy, False), "respawn": (_bool, False)},
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "arm": {"world": "lake", "reward": "eat", "algo": "ppo", "overrides": {}},
    "train": {"checkpoint_every": 0, "eval_every": 0, "overrides": {}, "budgets": [1]},
    "evaluate": {"episodes": 16, "fishers": 4, "ticks": 1000, "respawn": False, "deterministic": False,
                 "seed": 1_000_003},
    "probe": {"at": "final", "scale": "quick", "seed": 0, "source": "auto"},
    "sweep": {"world": "lake", "policy": "scripted:expert", "respawn": True},
}


def _fail(where: str, key: str, expected: str, got: object = ...) -> SpecError:
    tail = "" if got is ... else f", got {got!r}"
    return SpecError(f"{where}: {key}: expected {expected}{tail}")


def _check_table(table: object, schema: dict[str, tuple[Check, bool]], where: str, section: str,
                 partial: bool) -> None:
    prefix = f"[{section}] " if section else ""
    if not isinstance(table, dict):
        raise _fail(where, f"{prefix}".strip() or "file", "a table of key = value", table)
    for key, value in table.items():
        if key not in schema:
            raise SpecError(f"{where}: {prefix}unknown key {key!r}; expected one of {', '.join(schema)}")
        problem = schema[key][0](value)
        if problem:
            raise _fail(where, f"{prefix}{key}", problem, value)
    if not partial:
        for key, (_, required) in schema.items():
            if required and key not in table:
                expected = schema[key][0](None) or "required"
                raise SpecError(f"{where}: {prefix}missing key {key!r} (expected {expected})")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _check_layer(data: dict[str, Any], where: str, partial: bool) -> None:
    """Every key of a base or scale layer is known and well typed (required keys only when whole)."""
    for key, value in data.items():
        if key in TOP:
            problem = TOP[key][0](value)
            if problem:
                raise _fail(where, key, problem, value)
        elif key == "arms":
            if not isinstance(value, list) or not value or not all(isinstance(a, dict) for a in value):
                raise _fail(where, "arms", "a non-empty list of [[arms]] tables")
            for i, arm in enumerate(value):
                _check_table(arm, ARM, where, f"arms {i + 1}", partial=False)
        elif key in SECTIONS:
            _check_table(value, SECTIONS[key], where, key, partial)
        elif key != "scale":
            raise SpecError(f"{where}: unknown key {key!r}; expected one of "
                            f"{', '.join([*TOP, 'arms', *SECTIONS, 'scale'])}")


def _check_resolved(spec: dict[str, Any], where: str) -> None:
    """The merged spec of one scale: required keys, sections the report needs, consistent arms."""
    for key, (_, required) in TOP.items():
        if required and key not in spec:
            raise SpecError(f"{where}: missing key {key!r}")
    for section in SECTIONS:
        if section in spec:
            _check_table(spec[section], SECTIONS[section], where, section, partial=False)
    if spec["report"] == "ecosystem" and "sweep" not in spec:
        raise SpecError(f"{where}: missing section [sweep] (report = 'ecosystem' is a Mesa sweep)")
    if spec["report"] == "ecosystem" and "arms" not in spec:
        return  # a sweep alone (a [sweep] may also ride along with any other study)
    if "arms" not in spec:
        raise SpecError(f"{where}: missing [[arms]] (the fishers this study trains or measures)")
    names = [a["name"] for a in with_budgets(spec["arms"], spec.get("train", {}).get("budgets", [1]))]
    if len(set(names)) != len(names) or any("/" in n for n in names):
        raise _fail(where, "arms.name", "distinct names without '/'", names)
    for arm in spec["arms"]:
        trained = "policy" not in arm
        if not trained and set(arm) & {"worlds", "reward", "algo", "overrides", "budget"}:
            raise SpecError(f"{where}: arm {arm['name']!r}: a reference (policy = ...) is not trained; "
                            f"drop worlds/reward/algo/overrides/budget")
        if trained and "train" not in spec:
            raise SpecError(f"{where}: missing section [train] (arm {arm['name']!r} is trained)")
    if "train" in spec and "seeds" not in spec["train"]:
        raise SpecError(f"{where}: [train] missing key 'seeds'")
    if not any(s in spec for s in ("evaluate", "probe", "finetune")):
        raise SpecError(f"{where}: expected at least one of [evaluate], [probe], [finetune]")
    _check_hyperparams(spec, where)


def _check_hyperparams(spec: dict[str, Any], where: str) -> None:
    base = spec.get("train", {}).get("overrides", {})
    for arm in spec["arms"]:
        if "policy" in arm:
            continue
        arm = {**DEFAULTS["arm"], **arm}
        try:
            load_hyperparams(arm["algo"], world_keys(arm["world"], arm.get("worlds")),
                             overrides={**base, **arm["overrides"]})
        except HyperparamsError as err:
            raise SpecError(f"{where}: arm {arm['name']!r} overrides: {err}") from None


def read_spec(path: str | Path) -> dict[str, Any]:
    """Parse and validate a spec file (base and every scale); returns the raw data."""
    path = _find(path)
    where = str(path)
    data = read_toml(path, SpecError)
    _check_layer(data, where, partial=True)
    scales = data.get("scale")
    if not isinstance(scales, dict):
        raise SpecError(f"{where}: missing [scale.smoke] and [scale.full] (a CI run and a user's run)")
    for name, layer in scales.items():
        if name not in STUDY_SCALES:
            raise SpecError(f"{where}: unknown scale [scale.{name}]; expected one of "
                            f"{', '.join(STUDY_SCALES)}")
        if not isinstance(layer, dict):
            raise _fail(where, f"scale.{name}", "a table")
        if set(layer) & {"name", "report", "scale"}:
            raise SpecError(f"{where}: [scale.{name}] may not change name, report or scale")
        _check_layer(layer, f"{where} [scale.{name}]", partial=True)
    for name in STUDY_SCALES:
        if name not in scales:
            raise SpecError(f"{where}: missing [scale.{name}]")
        _check_resolved(_merge({k: v for k, v in data.items() if k != "scale"}, scales[name]),
                        f"{where} (scale {name})")
    return data


def with_budgets(arms: list[dict[str, Any]], budgets: list[int]) -> list[dict[str, Any]]:
    """Each trained arm once per budget multiple of [train] steps (`budgets = [1, 4, 16]`): arm NAME
    becomes NAME-x1, NAME-x4, NAME-x16, each with its "budget" and its "family" (NAME); an arm that
    sets its own budget, and a reference, stay one arm. With budgets [1] the names do not change."""
    out = []
    for arm in arms:
        if "policy" in arm or "budget" in arm or budgets == [1]:
            out.append({"budget": 1, **arm, "family": arm["name"]} if "policy" not in arm else arm)
            continue
        out += [{**arm, "name": f"{arm['name']}-x{b}", "budget": b, "family": arm["name"]} for b in budgets]
    return out


def _find(path: str | Path) -> Path:
    """A spec path, or the name of a shipped study (emergence, transfer, ...)."""
    p = Path(path)
    if not p.exists() and not p.suffix and (STUDIES_DIR / f"{p.name}.toml").exists():
        return STUDIES_DIR / f"{p.name}.toml"
    return p


def list_studies() -> list[str]:
    """The shipped study names (files under experiments/studies/)."""
    return sorted(p.stem for p in STUDIES_DIR.glob("*.toml"))


def load_spec(path: str | Path, scale: str = "smoke") -> dict[str, Any]:
    """The resolved spec of one scale, with every default filled in (what the tasks are built from)."""
    if scale not in STUDY_SCALES:
        raise SpecError(f"scale: expected one of {', '.join(STUDY_SCALES)}, got {scale!r}")
    path = _find(path)
    data = read_spec(path)
    spec = _merge({k: v for k, v in data.items() if k != "scale"}, data["scale"][scale])
    for section, defaults in DEFAULTS.items():
        if section in spec:
            spec[section] = {**defaults, **spec[section]}
    if "arms" in spec:
        spec["arms"] = [a if "policy" in a else {**DEFAULTS["arm"], **a} for a in spec["arms"]]
        spec["arms"] = with_budgets(spec["arms"], spec.get("train", {}).get("budgets", [1]))
    spec["scale"] = scale
    try:  # relative to the working directory when inside it: reports then read the same everywhere
        spec["spec_file"] = str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        spec["spec_file"] = str(path)
    spec["spec_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return spec
