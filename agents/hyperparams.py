"""Training hyperparameters as data: agents/hyperparams.toml, rl-baselines3-zoo style.

A file holds [ALGO.default] (complete) and [ALGO.KEY] sections that override some keys for one
world or pool. A run takes [ALGO.default], then at most one [ALGO.KEY] (`world_keys` says which
keys are tried), then `--set KEY=VALUE` overrides. Every section and value is checked against
SCHEMA: an unknown key or a bad value is an error that names the file, the section and the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.cli import UsageError, read_toml
from worlds.loader import list_worlds

ALGOS = ("ppo", "recurrent_ppo")
HYPERPARAMS_FILE = Path(__file__).resolve().with_name("hyperparams.toml")

Check = Callable[[object], str | None]  # a value -> None when valid, else what was expected


class HyperparamsError(ValueError):
    """A hyperparameter file (or override) with an unknown section or key, or a bad value."""


def _int(low: int) -> Check:
    def check(v: object) -> str | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and v >= low
        return None if ok else f"expected an integer >= {low}"
    return check


def _float(low: float, high: float = math.inf, low_open: bool = False) -> Check:
    def check(v: object) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            return "expected a number"
        if v < low or v > high or (low_open and v == low):
            lo = "(" if low_open else "["
            return f"expected a number in {lo}{low}, {high}]"
        return None
    return check


def _bool(v: object) -> str | None:
    return None if isinstance(v, bool) else "expected true or false"


def _layers(v: object) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in v)
    return None if ok else "expected a list of layer sizes (integers >= 1), e.g. [64, 64]"


def _activation(v: object) -> str | None:
    return None if v in ("tanh", "relu") else 'expected "tanh" or "relu"'


# key -> check; keys in RECURRENT_KEYS are for recurrent_ppo only
SCHEMA: dict[str, Check] = {
    "n_timesteps": _int(1), "n_worlds": _int(1), "n_fishers": _int(1), "horizon": _int(0),
    "n_steps": _int(2), "batch_size": _int(2), "n_epochs": _int(1),
    "learning_rate": _float(0.0, low_open=True), "gamma": _float(0.0, 1.0), "gae_lambda": _float(0.0, 1.0),
    "clip_range": _float(0.0, low_open=True), "ent_coef": _float(0.0), "vf_coef": _float(0.0),
    "max_grad_norm": _float(0.0, low_open=True), "normalize_advantage": _bool, "target_kl": _float(0.0),
    "net_arch": _layers, "shared_layers": _int(0), "activation": _activation,
    "lstm_hidden_size": _int(1), "n_lstm_layers": _int(1), "shared_lstm": _bool, "enable_critic_lstm": _bool,
    "eval_worlds": _int(1), "eval_fishers": _int(1), "eval_ticks": _int(1), "eval_seed": _int(0),
}
RECURRENT_KEYS = ("lstm_hidden_size", "n_lstm_layers", "shared_lstm", "enable_critic_lstm")
PPO_KEYS = ("shared_layers",)  # the MLP trunk (agents.trunk); a recurrent policy's LSTM reads the observation
# keys newer than some hyperparameter files: a file without them keeps its meaning
DEFAULTS: dict[str, Any] = {"shared_layers": 0}


def allowed_keys(algo: str) -> list[str]:
    """The keys an algorithm's sections may hold (LSTM keys: recurrent_ppo; trunk: ppo)."""
    other = PPO_KEYS if algo == "recurrent_ppo" else RECURRENT_KEYS
    return [k for k in SCHEMA if k not in other]


def check_section(algo: str, section: str, table: object, where: str) -> None:
    """Raise HyperparamsError naming `where` and [algo.section] for an unknown key or a bad value."""
    if not isinstance(table, dict):
        raise HyperparamsError(f"{where}: [{algo}.{section}] must be a table of key = value")
    allowed = allowed_keys(algo)
    for key, value in table.items():
        if key not in allowed:
            hint = (" (recurrent_ppo only)" if key in RECURRENT_KEYS else
                    " (ppo only)" if key in PPO_KEYS else "")
            raise HyperparamsError(f"{where}: [{algo}.{section}] unknown key {key!r}{hint}; "
                                   f"expected one of {', '.join(allowed)}")
        problem = SCHEMA[key](value)
        if problem:
            raise HyperparamsError(f"{where}: [{algo}.{section}] {key} = {value!r}: {problem}")


def read_hyperparams_file(path: Path | str = HYPERPARAMS_FILE) -> dict[str, dict[str, dict[str, Any]]]:
    """Parse and validate a whole hyperparameter file: {algo: {section: {key: value}}}."""
    path = Path(path)
    data = read_toml(path, HyperparamsError)
    for algo, sections in data.items():
        if algo not in ALGOS:
            raise HyperparamsError(f"{path}: unknown algorithm section [{algo}]; "
                                   f"expected one of {', '.join(ALGOS)}")
        if not isinstance(sections, dict) or not all(isinstance(v, dict) for v in sections.values()):
            raise HyperparamsError(f"{path}: [{algo}] must hold sections like [{algo}.default], "
                                   f"[{algo}.lake], not keys")
        for section, table in sections.items():
            check_section(algo, section, table, str(path))
    return data


def _names_a_registry_world(spec: str) -> bool:
    """Whether a world or pool spec is a name the project resolves (a shipped world, a suite,
    generated worlds) rather than a path: the rule worlds.loader.load_world follows."""
    if spec.startswith(("generated", "suite:")):
        return True
    return spec in list_worlds() and not Path(spec).exists()


def world_keys(world: str, worlds: object = None, key: str | None = None) -> list[str]:
    """Section names tried after `default`, first match wins.

    An explicit `key` (--hyperparams-key) is the only one tried. Otherwise the section follows
    the pool spec ("suite:train", then "suite") or the world ("generated:7", then "generated";
    "lake") when it is a registry name; a world or pool given by path (or as a list) gets
    [ALGO.default] only: a user's world in a folder called lake is not the shipped lake.
    """
    if key is not None:
        return [key]
    spec = worlds if isinstance(worlds, str) else (None if worlds else world)
    if not isinstance(spec, str) or not _names_a_registry_world(spec):
        return []
    return list(dict.fromkeys([spec, spec.split(":", 1)[0]]))


def load_hyperparams(algo: str, keys: Sequence[str] = (), path: Path | str | None = None,
                     overrides: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The resolved hyperparameters for an algorithm and world: [algo.default], then the first of
    [algo.KEY] for KEY in keys, then `overrides`. Returns (params, the sections used)."""
    path = Path(path or HYPERPARAMS_FILE)
    data = read_hyperparams_file(path)
    if algo not in ALGOS:
        raise HyperparamsError(f"algo: expected one of {', '.join(ALGOS)}, got {algo!r}")
    sections = data.get(algo, {})
    if "default" not in sections:
        raise HyperparamsError(f"{path}: [{algo}.default] is missing")
    params = dict(sections["default"])
    used = [f"{algo}.default"]
    for key in keys:
        if key != "default" and key in sections:
            params.update(sections[key])
            used.append(f"{algo}.{key}")
            break
    if overrides:
        check_section(algo, "overrides", dict(overrides), "--set")
        params.update(overrides)
    allowed = allowed_keys(algo)
    params = {**{k: v for k, v in DEFAULTS.items() if k in allowed}, **params}
    missing = [k for k in allowed if k not in params]
    if missing:
        raise HyperparamsError(f"{path}: [{algo}.default] lacks {', '.join(missing)}")
    if algo == "recurrent_ppo" and params["shared_lstm"] and params["enable_critic_lstm"]:
        raise HyperparamsError(f"{path}: shared_lstm = true needs enable_critic_lstm = false")
    if params.get("shared_layers", 0) > len(params["net_arch"]):
        raise HyperparamsError(f"{path}: shared_layers = {params['shared_layers']} is more than the "
                               f"{len(params['net_arch'])} layers of net_arch {params['net_arch']}")
    return params, used


def parse_override(text: str) -> tuple[str, Any]:
    """KEY=VALUE with VALUE in TOML syntax (bare words are strings), as --set takes it."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError("--set", f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key, parsed
