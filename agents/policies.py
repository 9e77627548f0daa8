"""Trained fishers as files: a weights-only policy format, and one loader for every kind of policy.

Why a format of our own: a stable-baselines3 model .zip keeps cloudpickled objects in its
`data` entry, so `PPO.load(zip)` runs whatever code the file carries (API_NOTES section 3
has a working proof). A policy file holds numbers and plain JSON only:

    policy.npz   the policy network's state_dict, one array per tensor (np.savez, no pickle;
                 read with np.load(allow_pickle=False))
    policy.json  format name and version, algo ("ppo" | "recurrent_ppo"), the SB3 policy
                 class, net_arch, activation, LSTM sizes, the observation space (shape,
                 low, high, dtype) and action space (n) it was trained on, the npz's sha256

`load_policy(spec)` turns any of these into an object with `.act(obs) -> actions`:

    scripted:NAME              a scripted fisher (agents.scripted)
    PATH/policy.json | .npz    a policy file (the pair is found from either name)
    RUN_DIR                    a training run folder: its exported policy.json if there is
                               one, else its newest checkpoint .zip that its manifest.json
                               lists with a matching sha256, read weights only
    PATH.zip                   a model zip: read weights only when a manifest.json of a run
                               folder holding it lists it with a matching sha256; loaded in
                               full (PPO.load, which can run code) only with trust_zip=True

"Weights only" means: the network is rebuilt here from shapes and plain JSON (never
unpickled) and `policy.pth` is read with torch's `weights_only` loader, which is what SB3's
`set_parameters` does. Observation and action spaces are checked against this project's
(`sim.env.observation_bounds`, `sim.fishers.N_ACTIONS`); a mismatch or a broken file is a
`PolicyFileError` (a ValueError) that names the file.

Recurrent policies (RecurrentPPO, MlpLstmPolicy) keep an LSTM state per slot inside the
loaded object across `.act` calls; `reset()` clears it. `.act` cannot see when a slot's
fisher died and a new one took its place: pass `episode_start` (a (N,) bool mask) or call
`new_lives(sim.state.lives)` after each step (sim.run and agents.evaluate do), otherwise a
newcomer inherits its predecessor's memory. A batch of a different size starts fresh.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: spinning OpenMP workers starve numpy

import datetime as _dt
import hashlib
import io
import json
import re
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch as th

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
_KNOWN_KWARGS = {"net_arch", "activation_fn", "ortho_init", "log_std_init", "optimizer_class",
                 "optimizer_kwargs", "lstm_hidden_size", "n_lstm_layers", "shared_lstm",
                 "enable_critic_lstm", "share_features_extractor", "normalize_images", "lstm_kwargs",
                 "features_extractor_class", "features_extractor_kwargs"}
_SAFE_MODULES = {"stable_baselines3.common.policies": "ppo",
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


def _one_line(err: object, limit: int = 300) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def project_spaces() -> dict[str, Any]:
    """This project's observation and action spaces, in the policy file's JSON form."""
    from sim.env import observation_bounds
    from sim.fishers import N_ACTIONS

    low, high = observation_bounds()
    return {"observation_space": {"type": "Box", "shape": list(low.shape), "dtype": "float32",
                                  "low": low.tolist(), "high": high.tolist()},
            "action_space": {"type": "Discrete", "n": int(N_ACTIONS)}}


def _gym_spaces():
    from gymnasium import spaces

    from sim.env import observation_bounds
    from sim.fishers import N_ACTIONS

    low, high = observation_bounds()
    return spaces.Box(low, high, dtype=np.float32), spaces.Discrete(N_ACTIONS)


def _check_spaces(obs: dict[str, Any], act: dict[str, Any], source: Path) -> None:
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


def _activation_name(value: object, source: Path) -> str:
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
    from stable_baselines3.common.policies import ActorCriticPolicy

    if not isinstance(policy, ActorCriticPolicy):
        raise ValueError(f"export_policy: expected an SB3 PPO / RecurrentPPO model or its policy, "
                         f"got {type(model).__name__}")
    return policy


def _is_recurrent(policy: object) -> bool:
    try:
        from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
    except ImportError:  # without sb3_contrib there are no recurrent policies
        return False
    return isinstance(policy, RecurrentActorCriticPolicy)


def _arch_of(policy) -> dict[str, Any]:
    """The JSON description of a live SB3 policy (only what a rebuild needs)."""
    from gymnasium import spaces
    from stable_baselines3.common.torch_layers import FlattenExtractor

    if policy.features_extractor_class is not FlattenExtractor:
        raise ValueError(f"export_policy: only the flatten features extractor (MlpPolicy / MlpLstmPolicy) is "
                         f"supported, got {policy.features_extractor_class.__name__}")
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
    recurrent = _is_recurrent(policy)
    algo = "recurrent_ppo" if recurrent else "ppo"
    out: dict[str, Any] = {
        "algo": algo, "policy_class": type(policy).__name__,
        "net_arch": net_arch,
        "activation_fn": _activation_name(policy.activation_fn.__name__, Path("policy")),
        "features_extractor": "FlattenExtractor",
        "share_features_extractor": bool(policy.share_features_extractor),
        "normalize_images": bool(policy.normalize_images), "lstm": None,
        "observation_space": {"type": "Box", "shape": list(box.shape), "dtype": str(box.dtype),
                              "low": box.low.astype(np.float64).tolist(),
                              "high": box.high.astype(np.float64).tolist()},
        "action_space": {"type": "Discrete", "n": int(policy.action_space.n)},
    }
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
    import stable_baselines3
    import torch as th

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

def _build_policy(arch: dict[str, Any], source: Path):
    """An SB3 policy module with the architecture `arch` (the JSON form), on this project's spaces."""
    import torch as th

    algo = arch.get("algo")
    if algo not in ALGOS:
        raise PolicyFileError(f"{source}: algo {algo!r} is not one of {', '.join(ALGOS)}")
    net_arch = arch.get("net_arch") or {}
    try:
        net_arch = {key: [int(n) for n in net_arch.get(key, [])] for key in ("pi", "vf")}
    except (AttributeError, TypeError, ValueError):
        raise PolicyFileError(f"{source}: net_arch {arch.get('net_arch')!r} is not "
                              "{pi: [...], vf: [...]}") from None
    if arch.get("features_extractor", "FlattenExtractor") != "FlattenExtractor":
        raise PolicyFileError(f"{source}: features extractor {arch.get('features_extractor')!r} "
                              "is not supported")
    activation = getattr(th.nn, _activation_name(arch.get("activation_fn"), source))
    obs_space, act_space = _gym_spaces()
    kwargs: dict[str, Any] = dict(net_arch=net_arch, activation_fn=activation,
                                  share_features_extractor=bool(arch.get("share_features_extractor", True)),
                                  normalize_images=bool(arch.get("normalize_images", True)))
    try:
        if algo == "ppo":
            from stable_baselines3.common.policies import ActorCriticPolicy

            policy = ActorCriticPolicy(obs_space, act_space, lambda _: 0.0, **kwargs)
        else:
            from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy

            lstm = arch.get("lstm") or {}
            policy = RecurrentActorCriticPolicy(
                obs_space, act_space, lambda _: 0.0, **kwargs,
                lstm_hidden_size=int(lstm["hidden_size"]), n_lstm_layers=int(lstm.get("n_layers", 1)),
                shared_lstm=bool(lstm.get("shared_lstm", False)),
                enable_critic_lstm=bool(lstm.get("enable_critic_lstm", True)),
                lstm_kwargs={} if lstm.get("bias", True) else {"bias": False})
    except (KeyError, TypeError, ValueError, AssertionError) as err:
        raise PolicyFileError(f"{source}: cannot build the policy it describes ({_one_line(err)})") from None
    policy.set_training_mode(False)
    return policy


def _load_state(policy, state: dict[str, Any], source: Path) -> None:
    import torch as th

    try:
        tensors = {k: v if isinstance(v, th.Tensor) else th.as_tensor(np.asarray(v))
                   for k, v in state.items()}
        policy.load_state_dict(tensors, strict=True)
    except (RuntimeError, ValueError, TypeError) as err:
        raise PolicyFileError(f"{source}: the weights do not fit the policy it describes "
                              f"({_one_line(err)})") from None


# --- the loaded policy -------------------------------------------------------------------------------------

class LoadedPolicy:
    """A trained SB3 policy network as a fisher: `act(obs (N, OBS_SIZE)) -> (N,) int64` actions.

    Deterministic (the most likely action) by default; with `deterministic=False` actions are
    sampled from the policy's distribution with this object's own numpy generator (seeded by
    `seed`, reseeded by `reset(seed=...)`), so runs repeat exactly and torch's global RNG is
    left alone. Recurrent policies keep (h, c) per slot; see the module docstring for
    episode starts.
    """

    def __init__(self, policy, name: str, info: dict[str, Any], deterministic: bool = True, seed: int = 0):
        self.policy = policy
        self.name = name
        self.info = info
        self.deterministic = bool(deterministic)
        self.seed = int(seed)
        self.recurrent = _is_recurrent(policy)
        self.rng = np.random.default_rng(self.seed)
        self._state: tuple[th.Tensor, th.Tensor] | None = None
        self._pending: np.ndarray | None = None
        self._lives: np.ndarray | None = None

    def __repr__(self) -> str:
        mode = "deterministic" if self.deterministic else "stochastic"
        return f"LoadedPolicy({self.name!r}, {self.info.get('algo')}, {mode})"

    def reset(self, seed: int | None = None) -> None:
        """Forget every slot's LSTM state and restart the sampling generator (from `seed` if given)."""
        self._state = None
        self._pending = None
        self._lives = None
        self.rng = np.random.default_rng(self.seed if seed is None else seed)

    def new_lives(self, lives: np.ndarray) -> None:
        """Tell the policy each slot's count of lives (sim.state.lives, (B, F) or flat) after a step.

        Slots whose count changed since the last call (every slot starts with 1 life) begin a new
        episode at the next `act`: their LSTM state is cleared, as in training, where a death
        ends a slot's episode. A no-op for memoryless policies.
        """
        lives = np.asarray(lives).reshape(-1)
        prev = self._lives
        if prev is None or prev.shape != lives.shape:
            prev = np.ones_like(lives)
        changed = lives != prev
        self._lives = lives.copy()
        if changed.any():
            self._pending = changed if self._pending is None or self._pending.shape != changed.shape \
                else (self._pending | changed)

    def act(self, obs: np.ndarray, episode_start: np.ndarray | None = None) -> np.ndarray:
        """Actions for a batch of observations: (N, OBS_SIZE) float32 -> (N,) int64.

        episode_start: optional (N,) bool, slots whose fisher is new since the last call (their
        LSTM state is cleared first); ignored by memoryless policies.
        """
        import torch as th

        obs = np.asarray(obs, dtype=np.float32)
        obs = obs.reshape(-1, obs.shape[-1]) if obs.ndim != 2 else obs
        expected = self.policy.observation_space.shape[0]
        if obs.shape[-1] != expected:
            raise ValueError(f"act: expected observations of shape (N, {expected}), got {obs.shape}")
        n = obs.shape[0]
        with th.no_grad():
            obs_t = th.as_tensor(obs)
            if self.recurrent:
                starts = np.zeros(n, dtype=bool)
                if self._state is None or self._state[0].shape[1] != n:
                    shape = (self.policy.lstm_actor.num_layers, n, self.policy.lstm_actor.hidden_size)
                    self._state = (th.zeros(shape), th.zeros(shape))
                    starts[:] = True
                if self._pending is not None and self._pending.shape == (n,):
                    starts |= self._pending
                self._pending = None
                if episode_start is not None:
                    starts |= np.asarray(episode_start, dtype=bool).reshape(n)
                dist, self._state = self.policy.get_distribution(
                    obs_t, self._state, th.as_tensor(starts.astype(np.float32)))
            else:
                dist = self.policy.get_distribution(obs_t)
            if self.deterministic:
                return dist.get_actions(deterministic=True).cpu().numpy().astype(np.int64).reshape(n)
            probs = dist.distribution.probs.cpu().numpy().astype(np.float64)
        cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
        u = self.rng.random(n)
        return np.minimum((u[:, None] >= cdf).sum(axis=1), probs.shape[1] - 1).astype(np.int64)


# --- reading policy files ----------------------------------------------------------------------------------

def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise PolicyFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PolicyFileError(f"{path}: not a readable JSON file ({_one_line(err)})") from None


def _load_policy_json(json_path: Path, deterministic: bool, seed: int, expected_sha: str | None = None,
                      name: str | None = None) -> LoadedPolicy:
    meta = _read_json(json_path)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise PolicyFileError(f"{json_path}: not a policy file (expected format {FORMAT!r})")
    version = meta.get("version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise PolicyFileError(f"{json_path}: format version {version!r} is not one this code reads "
                              f"(1 to {FORMAT_VERSION})")
    _check_spaces(meta.get("observation_space") or {}, meta.get("action_space") or {}, json_path)
    weights = meta.get("weights") or {}
    file_name = str(weights.get("file", json_path.with_suffix(".npz").name))
    if Path(file_name).name != file_name:
        raise PolicyFileError(f"{json_path}: weights file {file_name!r} must be a name beside it")
    npz_path = json_path.parent / file_name
    if not npz_path.is_file():
        raise PolicyFileError(f"{npz_path}: no such file (named by {json_path})")
    digest = sha256_file(npz_path)
    if weights.get("sha256") != digest:
        raise PolicyFileError(f"{npz_path}: sha256 {digest[:12]}... does not match {json_path.name}'s "
                              f"{str(weights.get('sha256'))[:12]}... (changed or truncated since export)")
    if expected_sha is not None and expected_sha != sha256_file(json_path):
        raise PolicyFileError(f"{json_path}: sha256 does not match the run folder's {MANIFEST}")
    policy = _build_policy(meta, json_path)
    try:
        with np.load(npz_path, allow_pickle=False) as z:
            state = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as err:
        raise PolicyFileError(f"{npz_path}: not a readable weights file ({_one_line(err)})") from None
    _load_state(policy, state, npz_path)
    info = {"algo": meta["algo"], "source": str(json_path), "kind": "policy-file",
            "num_timesteps": meta.get("num_timesteps")}
    return LoadedPolicy(policy, name or f"{meta['algo']}:{json_path}", info, deterministic, seed)


def _zip_contents(zip_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the plain-JSON part of the zip's `data`, the policy state dict) without unpickling anything.

    `data` is parsed as JSON only: its cloudpickled entries stay base64 text that is never decoded.
    `policy.pth` is read with torch's weights_only loader.
    """
    import pickle

    import torch as th

    try:
        with zipfile.ZipFile(zip_path) as archive:
            names = archive.namelist()
            if "policy.pth" not in names:
                raise PolicyFileError(f"{zip_path}: no policy.pth inside (not an SB3 model zip)")
            data = json.loads(archive.read("data").decode()) if "data" in names else {}
            state = th.load(io.BytesIO(archive.read("policy.pth")), map_location="cpu", weights_only=True)
    except PolicyFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError, KeyError, UnicodeDecodeError,
            pickle.UnpicklingError) as err:
        raise PolicyFileError(f"{zip_path}: not a readable SB3 model zip ({_one_line(err)})") from None
    if not isinstance(data, dict) or not isinstance(state, dict):
        raise PolicyFileError(f"{zip_path}: not an SB3 model zip (unexpected data or policy.pth)")
    return data, state


def _plain(entry: object) -> dict[str, Any]:
    """The readable fields of a `data` entry (a non-JSON value is {":type:", ":serialized:", field: repr})."""
    if not isinstance(entry, dict):
        return {}
    return {k: v for k, v in entry.items() if not k.startswith(":")}


def _arch_from_zip(data: dict[str, Any], state: dict[str, Any], zip_path: Path) -> dict[str, Any]:
    """The JSON architecture of a model zip, from its weights' shapes and the plain text of `data`."""
    module = _plain(data.get("policy_class")).get("__module__")
    if module is not None and module not in _SAFE_MODULES:
        raise PolicyFileError(f"{zip_path}: policy class from {module!r} cannot be rebuilt from weights "
                              f"alone; {TRUST_HINT}")
    kwargs = _plain(data.get("policy_kwargs"))
    unknown = sorted(set(kwargs) - _KNOWN_KWARGS)
    if unknown:
        raise PolicyFileError(f"{zip_path}: policy_kwargs {unknown} cannot be rebuilt from weights alone; "
                              f"{TRUST_HINT}")
    fe = kwargs.get("features_extractor_class")
    if fe is not None and "FlattenExtractor" not in str(fe):
        raise PolicyFileError(f"{zip_path}: features extractor {fe!r} cannot be rebuilt from weights alone; "
                              f"{TRUST_HINT}")

    def layers(prefix: str) -> list[int]:
        sizes, i = [], 0
        while f"{prefix}.{i}.weight" in state:
            sizes.append(int(state[f"{prefix}.{i}.weight"].shape[0]))
            i += 2  # Linear, activation, Linear, ...
        return sizes

    recurrent = "lstm_actor.weight_ih_l0" in state
    if module is not None and (_SAFE_MODULES[module] == "recurrent_ppo") != recurrent:
        raise PolicyFileError(f"{zip_path}: its policy class and its weights disagree about an LSTM")
    if "action_net.weight" not in state:
        raise PolicyFileError(f"{zip_path}: policy.pth has no action_net (not an actor-critic policy)")
    arch: dict[str, Any] = {
        "algo": "recurrent_ppo" if recurrent else "ppo",
        "net_arch": {"pi": layers("mlp_extractor.policy_net"), "vf": layers("mlp_extractor.value_net")},
        "activation_fn": _activation_name(kwargs.get("activation_fn"), zip_path),
        "share_features_extractor": kwargs.get("share_features_extractor", True) is not False,
        "features_extractor": "FlattenExtractor", "lstm": None,
    }
    in_dim = (state["lstm_actor.weight_ih_l0"].shape[1] if recurrent else
              state["mlp_extractor.policy_net.0.weight"].shape[1] if arch["net_arch"]["pi"] else
              state["action_net.weight"].shape[1])
    obs = {"type": "Box", "shape": [int(in_dim)]}
    shape = _plain(data.get("observation_space")).get("_shape")
    if isinstance(shape, list):
        obs["shape"] = shape
        obs["dtype"] = _plain(data.get("observation_space")).get("dtype", "float32")
    _check_spaces(obs, {"type": "Discrete", "n": int(state["action_net.weight"].shape[0])}, zip_path)
    if recurrent:
        n_layers = 0
        while f"lstm_actor.weight_ih_l{n_layers}" in state:
            n_layers += 1
        critic_lstm = "lstm_critic.weight_ih_l0" in state
        arch["lstm"] = {"hidden_size": int(state["lstm_actor.weight_hh_l0"].shape[1]), "n_layers": n_layers,
                        "enable_critic_lstm": critic_lstm,
                        "shared_lstm": not critic_lstm and "critic.weight" not in state,
                        "bias": "lstm_actor.bias_ih_l0" in state}
    return arch


def _load_zip_weights_only(zip_path: Path, deterministic: bool, seed: int) -> LoadedPolicy:
    data, state = _zip_contents(zip_path)
    try:
        arch = _arch_from_zip(data, state, zip_path)
    except (AttributeError, IndexError, TypeError) as err:  # entries of unexpected types
        raise PolicyFileError(f"{zip_path}: not a policy this code can rebuild ({_one_line(err)})") from None
    policy = _build_policy(arch, zip_path)
    _load_state(policy, state, zip_path)
    info = {"algo": arch["algo"], "source": str(zip_path), "kind": "checkpoint-weights",
            "num_timesteps": data.get("num_timesteps")}
    return LoadedPolicy(policy, f"{arch['algo']}:{zip_path}", info, deterministic, seed)


def _load_zip_trusted(zip_path: Path, deterministic: bool, seed: int) -> LoadedPolicy:
    """PPO.load / RecurrentPPO.load: runs the zip's pickles; only for files the caller vouches for."""
    _, state = _zip_contents(zip_path)
    recurrent = "lstm_actor.weight_ih_l0" in state
    try:
        if recurrent:
            from sb3_contrib import RecurrentPPO as Algo
        else:
            from stable_baselines3 import PPO as Algo
        model = Algo.load(zip_path, device="cpu")
    except Exception as err:  # anything the file's own objects raise while loading
        raise PolicyFileError(f"{zip_path}: could not be loaded ({type(err).__name__}: "
                              f"{_one_line(err)})") from None
    space, act_space = model.observation_space, model.action_space
    obs = {"type": type(space).__name__, "shape": list(getattr(space, "shape", ()) or ()),
           "dtype": str(getattr(space, "dtype", ""))}
    if hasattr(space, "low"):
        obs.update(low=space.low.tolist(), high=space.high.tolist())
    _check_spaces(obs, {"type": type(act_space).__name__, "n": getattr(act_space, "n", -1)}, zip_path)
    policy = model.policy
    policy.set_training_mode(False)
    algo = "recurrent_ppo" if recurrent else "ppo"
    info = {"algo": algo, "source": str(zip_path), "kind": "trusted-zip",
            "num_timesteps": model.num_timesteps}
    return LoadedPolicy(policy, f"{algo}:{zip_path}", info, deterministic, seed)


# --- run folders and manifests -----------------------------------------------------------------------------

def manifest_entries(manifest_path: Path) -> dict[Path, str]:
    """{resolved path: sha256} of every file a run folder's manifest.json lists.

    Accepted shapes: {"files": [{"path": ..., "sha256": ...}, ...]}, {"files": {path: sha256 or
    {"sha256": ...}}}, a bare list of such entries, or a bare {path: sha256} mapping. Paths are
    relative to the manifest's folder.
    """
    data = _read_json(manifest_path)
    files = data.get("files", data) if isinstance(data, dict) else data
    pairs: list[tuple[object, object]] = []
    if isinstance(files, dict):
        for key, value in files.items():
            pairs.append((key, value.get("sha256") if isinstance(value, dict) else value))
    elif isinstance(files, list):
        for entry in files:
            if isinstance(entry, dict):
                key = entry.get("path", entry.get("file", entry.get("name")))
                pairs.append((key, entry.get("sha256")))
    root = manifest_path.parent.resolve()
    out = {}
    for key, sha in pairs:
        if isinstance(key, str) and isinstance(sha, str) and re.fullmatch(r"[0-9a-fA-F]{64}", sha):
            out[(root / key).resolve()] = sha.lower()
    return out


def _listed_sha(path: Path) -> tuple[Path, str] | None:
    """(manifest, sha256) of the nearest run folder's manifest.json that lists `path`, or None."""
    target = path.resolve()
    folder = target.parent
    for _ in range(MANIFEST_LEVELS):
        manifest = folder / MANIFEST
        if manifest.is_file():
            sha = manifest_entries(manifest).get(target)
            if sha is not None:
                return manifest, sha
        if folder.parent == folder:
            break
        folder = folder.parent
    return None


def _load_zip(zip_path: Path, trust_zip: bool, deterministic: bool, seed: int) -> LoadedPolicy:
    if not zip_path.is_file():
        raise PolicyFileError(f"{zip_path}: no such file")
    if trust_zip:
        return _load_zip_trusted(zip_path, deterministic, seed)
    listed = _listed_sha(zip_path)
    if listed is None:
        raise PolicyFileError(f"{zip_path}: refused: not listed with a sha256 in a run folder's {MANIFEST}; "
                              f"{TRUST_HINT}")
    manifest, sha = listed
    if sha256_file(zip_path) != sha:
        raise PolicyFileError(f"{zip_path}: refused: its sha256 does not match {manifest} (changed since "
                              f"training wrote it); {TRUST_HINT}")
    return _load_zip_weights_only(zip_path, deterministic, seed)


def _checkpoint_order(path: Path) -> tuple[int, int, float]:
    """Newest first: final.zip, then checkpoints by the step count in their name, then by time."""
    steps = re.findall(r"(\d+)", path.stem)
    return (path.name == "final.zip", int(steps[-1]) if steps else -1, path.stat().st_mtime)


def _load_run_folder(folder: Path, deterministic: bool, seed: int) -> LoadedPolicy:
    manifest = folder / MANIFEST
    listed = manifest_entries(manifest) if manifest.is_file() else {}
    for json_path in (folder / "policy.json", folder / "policy" / "policy.json"):
        if json_path.is_file():
            expected = listed.get(json_path.resolve())
            policy = _load_policy_json(json_path, deterministic, seed, expected_sha=expected)
            policy.name = f"{policy.info['algo']}:{folder}"
            return policy
    if not manifest.is_file():
        raise PolicyFileError(f"{folder}: a folder with neither policy.json nor {MANIFEST}; expected a "
                              f"training run folder")
    zips = [p for p in folder.glob("*.zip")] + [p for p in (folder / "checkpoints").glob("*.zip")]
    candidates = sorted((p for p in zips if p.resolve() in listed), key=_checkpoint_order, reverse=True)
    if not candidates:
        unlisted = f" ({len(zips)} .zip not listed in it)" if zips else ""
        raise PolicyFileError(f"{folder}: no policy.json and no model .zip listed in its "
                              f"{MANIFEST}{unlisted}")
    newest = candidates[0]
    if sha256_file(newest) != listed[newest.resolve()]:
        raise PolicyFileError(f"{newest}: refused: its sha256 does not match {manifest} (changed since "
                              f"training wrote it)")
    policy = _load_zip_weights_only(newest, deterministic, seed)
    policy.name = f"{policy.info['algo']}:{folder}"
    return policy


# --- the one entry point -----------------------------------------------------------------------------------

def load_policy(spec: str | os.PathLike, trust_zip: bool = False, deterministic: bool = True, seed: int = 0):
    """A fisher from a spec: an object with `.act(obs (N, OBS_SIZE) float32) -> (N,) int64`, `.reset()`
    and `.name`.

    Args:
        spec: "scripted:NAME", a policy.json / policy.npz path, a training run folder, or a model .zip
            (see the module docstring for what each means and what is refused).
        trust_zip: load a .zip with PPO.load / RecurrentPPO.load even when no manifest vouches for it.
            Such a load runs code stored in the file: only for files you created.
        deterministic: the most likely action (default) or a sample from the policy's distribution.
        seed: seeds a scripted fisher, or the sampling of a stochastic policy.

    Raises:
        PolicyFileError: the spec cannot be used; the message names the file and the reason.
    """
    if isinstance(spec, str) and spec.startswith("scripted:"):
        from agents.scripted import scripted_policy

        try:  # scripted:NAME or scripted:NAME:KEY=INT,...
            return scripted_policy(spec, seed=seed)
        except ValueError as err:
            raise PolicyFileError(str(err)) from None
    if not isinstance(spec, str | os.PathLike):
        raise TypeError(f"load_policy: expected a str or path, got {type(spec).__name__}")
    path = Path(spec)
    if not path.exists():
        raise PolicyFileError(f"{path}: no such file or folder; expected scripted:NAME, a policy.json/.npz, "
                              f"a training run folder or a model .zip")
    if path.is_dir():
        return _load_run_folder(path, deterministic, seed)
    if path.suffix == ".json":
        return _load_policy_json(path, deterministic, seed)
    if path.suffix == ".npz":
        json_path = path.with_suffix(".json")
        if not json_path.is_file():
            raise PolicyFileError(f"{path}: its description {json_path.name} is not beside it")
        return _load_policy_json(json_path, deterministic, seed)
    if path.suffix == ".zip":
        return _load_zip(path, trust_zip, deterministic, seed)
    raise PolicyFileError(f"{path}: expected a policy .json/.npz, a model .zip or a run folder")
