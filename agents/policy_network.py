"""A trained policy's network without its pickles: the policy file's constants and bounds, exporting
a model's weights to a policy file, and rebuilding the network from shapes and plain JSON (the bounds
are checked before torch allocates anything, so a hostile file cannot exhaust memory).
agents.policies reads the files; agents.loaded_policy is the fisher a network becomes."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.fishers import N_ACTIONS

if TYPE_CHECKING:
    pass

FORMAT = "hungry-fisher-policy"
FORMAT_VERSION = 1
ALGOS = ("ppo", "recurrent_ppo")
POLICY_CLASSES = {"ppo": "ActorCriticPolicy", "recurrent_ppo": "RecurrentActorCriticPolicy"}
# activations a policy file may name (looked up in torch.nn by this name, nothing else)
ACTIVATIONS = ("Tanh", "ReLU", "ELU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Softplus", "Mish", "SELU",
               "CELU", "Identity")
MANIFEST = "manifest.json"
MANIFEST_LEVELS = 3  # a zip's run folder is at most this many folders up (RUN/checkpoints/x.zip)
TRUST_HINT = ("a model .zip can run code when it is loaded; pass --trust-zip (trust_zip=True) only for "
              "files you created")
# SB3 policy_kwargs a weights-only rebuild understands (others need the full, trusted load)
KNOWN_KWARGS = {"net_arch", "activation_fn", "ortho_init", "log_std_init", "optimizer_class",
                 "optimizer_kwargs", "lstm_hidden_size", "n_lstm_layers", "shared_lstm",
                 "enable_critic_lstm", "share_features_extractor", "normalize_images", "lstm_kwargs",
                 "features_extractor_class", "features_extractor_kwargs"}
SAFE_MODULES = {"stable_baselines3.common.policies": "ppo",
                 "sb3_contrib.common.recurrent.policies": "recurrent_ppo"}


class PolicyFileError(ValueError):
    """A policy spec or file that cannot be used: missing, corrupt, untrusted or for other spaces."""


# --- small helpers -----------------------------------------------------------------------------------------

def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def one_line(err: object, limit: int = 300) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def project_spaces() -> dict[str, Any]:
    """This project's observation and action spaces, in the policy file's JSON form."""
    from sim.env import observation_bounds  # deferred: heavy at start-up

    low, high = observation_bounds()
    return {"observation_space": {"type": "Box", "shape": list(low.shape), "dtype": "float32",
                                  "low": low.tolist(), "high": high.tolist()},
            "action_space": {"type": "Discrete", "n": int(N_ACTIONS)}}


def _gym_spaces():
    from gymnasium import spaces  # deferred: heavy at start-up

    from sim.env import observation_bounds  # deferred: heavy at start-up

    low, high = observation_bounds()
    return spaces.Box(low, high, dtype=np.float32), spaces.Discrete(N_ACTIONS)


def check_spaces(obs: dict[str, Any], act: dict[str, Any], source: Path) -> None:
    """Raise PolicyFileError naming `source` unless the spaces are this project's."""
    ours = project_spaces()
    o, a = ours["observation_space"], ours["action_space"]
    where = f"{source}: the policy was trained"
    if not isinstance(obs, dict) or not isinstance(act, dict):
        raise PolicyFileError(f"{source}: observation_space and action_space must be JSON objects")
    try:
        n = int(act.get("n", -1))
    except (TypeError, ValueError):
        n = -1
    if obs.get("type", "Box") != "Box" or list(obs.get("shape", [])) != o["shape"]:
        raise PolicyFileError(f"{where} on observations of shape {tuple(obs.get('shape', []))}, but this "
                              f"project's are {tuple(o['shape'])} (a different observation layout)")
    if act.get("type", "Discrete") != "Discrete" or n != a["n"]:
        raise PolicyFileError(f"{where} for actions {act.get('type', '?')}({act.get('n', '?')}), but this "
                              f"project's fishers have Discrete({a['n']})")
    if obs.get("dtype", "float32") != "float32":
        raise PolicyFileError(f"{where} on {obs.get('dtype')} observations, but this project's are float32")
    for key in ("low", "high"):
        if key in obs:
            theirs = np.asarray(obs[key], dtype=np.float64)
            mine = np.asarray(o[key], dtype=np.float64)
            if theirs.shape != mine.shape or not np.allclose(theirs, mine):
                bad = np.flatnonzero(theirs != mine)[:5].tolist() if theirs.shape == mine.shape else "shape"
                raise PolicyFileError(f"{where} on observations with other bounds ({key} differs at "
                                      f"{bad}), not this project's")


def activation_name(value: object, source: Path) -> str:
    """'Tanh', or the name inside SB3's repr "<class 'torch.nn.modules.activation.ReLU'>"."""
    if value is None:
        return "Tanh"
    text = str(value)
    m = re.fullmatch(r"<class '([\w.]+)'>", text)
    name = m.group(1).rsplit(".", 1)[-1] if m else text
    if name not in ACTIVATIONS:
        raise PolicyFileError(f"{source}: activation {text!r} is not one of {', '.join(ACTIVATIONS)}")
    return name


# --- export ------------------------------------------------------------------------------------------------

def _policy_module(model: object):
    policy = getattr(model, "policy", model)
    from stable_baselines3.common.policies import ActorCriticPolicy  # deferred: heavy at start-up

    if not isinstance(policy, ActorCriticPolicy):
        raise ValueError(f"export_policy: expected an SB3 PPO / RecurrentPPO model or its policy, "
                         f"got {type(model).__name__}")
    return policy


def is_recurrent(policy: object) -> bool:
    try:
        from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
    except ImportError:  # without sb3_contrib there are no recurrent policies
        return False
    return isinstance(policy, RecurrentActorCriticPolicy)


def _arch_of(policy) -> dict[str, Any]:
    """The JSON description of a live SB3 policy (only what a rebuild needs)."""
    from gymnasium import spaces  # deferred: heavy at start-up
    from stable_baselines3.common.torch_layers import FlattenExtractor  # deferred: heavy at start-up

    from agents.trunk import Trunk  # deferred: heavy at start-up (torch)

    if policy.features_extractor_class not in (FlattenExtractor, Trunk):
        raise ValueError(f"export_policy: only the flatten features extractor (MlpPolicy / MlpLstmPolicy) or "
                         f"agents.trunk.Trunk is supported, got {policy.features_extractor_class.__name__}")
    if getattr(policy, "use_sde", False):
        raise ValueError("export_policy: gSDE policies are not supported")
    if not isinstance(policy.action_space, spaces.Discrete):
        raise ValueError(f"export_policy: expected a Discrete action space, got {policy.action_space}")
    box = policy.observation_space
    if not isinstance(box, spaces.Box):
        raise ValueError(f"export_policy: expected a Box observation space, got {box}")
    net_arch = policy.net_arch
    if isinstance(net_arch, dict):
        net_arch = {"pi": list(net_arch.get("pi", [])), "vf": list(net_arch.get("vf", []))}
    else:
        net_arch = {"pi": list(net_arch), "vf": list(net_arch)}
    recurrent = is_recurrent(policy)
    algo = "recurrent_ppo" if recurrent else "ppo"
    out: dict[str, Any] = {
        "algo": algo, "policy_class": type(policy).__name__,
        "net_arch": net_arch,
        "activation_fn": activation_name(policy.activation_fn.__name__, Path("policy")),
        "features_extractor": "FlattenExtractor",
        "share_features_extractor": bool(policy.share_features_extractor),
        "trunk": [],
        "normalize_images": bool(policy.normalize_images), "lstm": None,
        "observation_space": {"type": "Box", "shape": list(box.shape), "dtype": str(box.dtype),
                              "low": box.low.astype(np.float64).tolist(),
                              "high": box.high.astype(np.float64).tolist()},
        "action_space": {"type": "Discrete", "n": int(policy.action_space.n)},
    }
    if isinstance(policy.features_extractor, Trunk):
        out["features_extractor"] = "Trunk"
        out["trunk"] = list(policy.features_extractor.sizes)
    if recurrent:
        lstm = policy.lstm_actor
        out["lstm"] = {"hidden_size": int(lstm.hidden_size), "n_layers": int(lstm.num_layers),
                       "shared_lstm": bool(policy.shared_lstm),
                       "enable_critic_lstm": bool(policy.enable_critic_lstm), "bias": bool(lstm.bias)}
    return out


def _stem(path: str | os.PathLike) -> Path:
    """PATH.json / PATH.npz / PATH -> PATH (a folder that exists -> FOLDER/policy)."""
    p = Path(path)
    if p.suffix in (".json", ".npz"):
        return p.with_suffix("")
    if p.is_dir():
        return p / "policy"
    return p


def export_policy(model: object, path: str | os.PathLike) -> tuple[Path, Path]:
    """Write `model`'s policy as PATH.npz (weights) + PATH.json (description); returns both paths.

    Args:
        model: an SB3 PPO (MlpPolicy) or sb3_contrib RecurrentPPO (MlpLstmPolicy) model, or its `.policy`.
        path: PATH, PATH.json or PATH.npz (a folder that exists: FOLDER/policy.npz and .json).

    The npz holds the policy's full state_dict (actor and critic) as float arrays, written with
    np.savez (no pickle); the JSON names the npz and its sha256. Both are written to temporary
    names first and then moved into place, so a crash leaves no half-written policy behind.
    """
    import stable_baselines3  # deferred: heavy at start-up
    import torch as th  # deferred: heavy at start-up

    policy = _policy_module(model)
    arch = _arch_of(policy)
    stem = _stem(path)
    stem.parent.mkdir(parents=True, exist_ok=True)
    npz_path, json_path = stem.parent / (stem.name + ".npz"), stem.parent / (stem.name + ".json")
    tensors = {k: v.detach().cpu().numpy() for k, v in policy.state_dict().items()}
    fd, tmp_npz = tempfile.mkstemp(dir=stem.parent, prefix=f".{stem.name}.", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **tensors)
        digest = sha256_file(tmp_npz)
        meta = {
            "format": FORMAT, "version": FORMAT_VERSION, **arch,
            "weights": {"file": npz_path.name, "sha256": digest,
                        "tensors": {k: list(v.shape) for k, v in tensors.items()}},
            "num_timesteps": int(getattr(model, "num_timesteps", 0) or 0),
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "versions": {"stable-baselines3": stable_baselines3.__version__, "torch": th.__version__,
                         "numpy": np.__version__},
        }
        tmp_json = json_path.with_name(f".{json_path.name}.tmp")
        tmp_json.write_text(json.dumps(meta, indent=1) + "\n")
        os.replace(tmp_npz, npz_path)
        os.replace(tmp_json, json_path)
    finally:
        if os.path.exists(tmp_npz):
            os.unlink(tmp_npz)
    return npz_path, json_path


# --- rebuilding a policy network ---------------------------------------------------------------------------

# Sizes a policy file may describe, checked before torch allocates anything: a file is data from
# anywhere, and [100000, 100000] would ask for 40 GB. The project's networks are far smaller
# (64 x 64 by default; the largest in agents/hyperparams.toml is 256 units).
MAX_UNITS = 4096          # units of one hidden layer, and of an LSTM
MAX_LAYERS = 8            # hidden layers of the policy or value net
MAX_LSTM_LAYERS = 4
MAX_PARAMETERS = 20_000_000  # all weights together (80 MB of float32)
MAX_WEIGHTS_BYTES = 1 << 30  # what a weights file (.npz) or a model zip may unpack to


def _layers(value: object, what: str, source: Path) -> list[int]:
    """A list of hidden-layer sizes from a file, each an integer in [1, MAX_UNITS], at most MAX_LAYERS."""
    if not isinstance(value, list) or len(value) > MAX_LAYERS or not all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_UNITS for n in value):
        raise PolicyFileError(f"{source}: net_arch {what}: expected at most {MAX_LAYERS} layer sizes, each "
                              f"an integer in [1, {MAX_UNITS}] (got {one_line(value, 80)})")
    return value


def _count_parameters(net_arch: dict[str, list[int]], lstm: dict[str, Any] | None, trunk: list[int]) -> int:
    """About how many weights the described network holds (enough to refuse an absurd one)."""
    obs, _ = _gym_spaces()
    width = int(obs.shape[0])
    total = 0
    for n in trunk:
        total += width * n + n
        width = n
    if lstm is not None:
        hidden, layers = lstm["hidden_size"], lstm["n_layers"]
        one = 4 * hidden * (width + hidden + 2) + 4 * hidden * (2 * hidden + 2) * (layers - 1)
        total += one * (2 if lstm["enable_critic_lstm"] else 1)
        width = hidden
    for key, head in (("pi", 16), ("vf", 1)):
        prev = width
        for n in net_arch[key]:
            total += prev * n + n
            prev = n
        total += prev * head + head
    return total


def _check_lstm(lstm: object, source: Path) -> dict[str, Any]:
    """The LSTM description of a recurrent policy file, its sizes bounded."""
    if not isinstance(lstm, dict):
        raise PolicyFileError(f"{source}: lstm: expected a table with hidden_size (a recurrent policy)")
    hidden, layers = lstm.get("hidden_size"), lstm.get("n_layers", 1)
    for name, value, high in (("hidden_size", hidden, MAX_UNITS), ("n_layers", layers, MAX_LSTM_LAYERS)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
            raise PolicyFileError(f"{source}: lstm.{name}: expected an integer in [1, {high}] "
                                  f"(got {one_line(repr(value), 40)})")
    return {**lstm, "hidden_size": hidden, "n_layers": layers,
            "enable_critic_lstm": bool(lstm.get("enable_critic_lstm", True))}


def build_policy(arch: dict[str, Any], source: Path):
    """An SB3 policy module with the architecture `arch` (the JSON form), on this project's spaces.

    Every size is bounded (MAX_UNITS, MAX_LAYERS, MAX_LSTM_LAYERS, MAX_PARAMETERS) before torch
    builds anything, so a hostile file ends in a PolicyFileError, not in an allocation.
    """
    import torch as th  # deferred: heavy at start-up

    algo = arch.get("algo")
    if algo not in ALGOS:
        raise PolicyFileError(f"{source}: algo {algo!r} is not one of {', '.join(ALGOS)}")
    net_arch = arch.get("net_arch") or {}
    if not isinstance(net_arch, dict):
        raise PolicyFileError(f"{source}: net_arch {one_line(net_arch, 80)} is not {{pi: [...], vf: [...]}}")
    net_arch = {key: _layers(net_arch.get(key, []), key, source) for key in ("pi", "vf")}
    lstm = _check_lstm(arch.get("lstm"), source) if algo == "recurrent_ppo" else None
    extractor = arch.get("features_extractor", "FlattenExtractor")
    if extractor not in ("FlattenExtractor", "Trunk") or (extractor == "Trunk" and algo != "ppo"):
        raise PolicyFileError(f"{source}: features extractor {extractor!r} is not supported (expected "
                              f"FlattenExtractor, or Trunk for a ppo policy)")
    trunk = _layers(arch.get("trunk") or [], "trunk", source) if extractor == "Trunk" else []
    if extractor == "Trunk" and not trunk:
        raise PolicyFileError(f"{source}: features extractor Trunk: expected its layer sizes in trunk, "
                              "e.g. [64]")
    n_parameters = _count_parameters(net_arch, lstm, trunk)
    if n_parameters > MAX_PARAMETERS:
        raise PolicyFileError(f"{source}: the network it describes holds about {n_parameters:,} weights, "
                              f"more than the {MAX_PARAMETERS:,} allowed")
    activation = getattr(th.nn, activation_name(arch.get("activation_fn"), source))
    obs_space, act_space = _gym_spaces()
    kwargs: dict[str, Any] = dict(net_arch=net_arch, activation_fn=activation,
                                  share_features_extractor=bool(arch.get("share_features_extractor", True)),
                                  normalize_images=bool(arch.get("normalize_images", True)))
    if trunk:
        from agents.trunk import Trunk  # deferred: heavy at start-up (torch)

        kwargs.update(features_extractor_class=Trunk, share_features_extractor=True,
                      features_extractor_kwargs={"sizes": trunk, "activation_fn": activation})
    try:
        if algo == "ppo":
            from stable_baselines3.common.policies import ActorCriticPolicy

            policy = ActorCriticPolicy(obs_space, act_space, lambda _: 0.0, **kwargs)
        else:
            from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy

            assert lstm is not None  # checked above for every recurrent policy
            policy = RecurrentActorCriticPolicy(
                obs_space, act_space, lambda _: 0.0, **kwargs,
                lstm_hidden_size=lstm["hidden_size"], n_lstm_layers=lstm["n_layers"],
                shared_lstm=bool(lstm.get("shared_lstm", False)),
                enable_critic_lstm=bool(lstm.get("enable_critic_lstm", True)),
                lstm_kwargs={} if lstm.get("bias", True) else {"bias": False})
    except (KeyError, TypeError, ValueError, AssertionError) as err:
        raise PolicyFileError(f"{source}: cannot build the policy it describes ({one_line(err)})") from None
    policy.set_training_mode(False)
    return policy


def load_state(policy, state: dict[str, Any], source: Path) -> None:
    import torch as th  # deferred: heavy at start-up

    try:
        tensors = {k: v if isinstance(v, th.Tensor) else th.as_tensor(np.asarray(v))
                   for k, v in state.items()}
        policy.load_state_dict(tensors, strict=True)
    except (RuntimeError, ValueError, TypeError) as err:
        raise PolicyFileError(f"{source}: the weights do not fit the policy it describes "
                              f"({one_line(err)})") from None
