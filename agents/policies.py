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
`new_lives(sim.state.lives)` after each step (every runner does: sim.policy), otherwise a
newcomer inherits its predecessor's memory. A batch of a different size starts fresh.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.loaded_policy import LoadedPolicy
from agents.policy_network import (
    FORMAT,
    FORMAT_VERSION,
    KNOWN_KWARGS,
    MANIFEST,
    MANIFEST_LEVELS,
    MAX_WEIGHTS_BYTES,
    SAFE_MODULES,
    TRUST_HINT,
    PolicyFileError,
    activation_name,
    build_policy,
    check_spaces,
    load_state,
    one_line,
    sha256_file,
)
from agents.scripted import scripted_from_spec
from sim.archive import ArchiveError, read_npz, zip_members

if TYPE_CHECKING:
    pass


# --- reading policy files ----------------------------------------------------------------------------------

def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise PolicyFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PolicyFileError(f"{path}: not a readable JSON file ({one_line(err)})") from None


def _load_policy_json(json_path: Path, deterministic: bool, seed: int, expected_sha: str | None = None,
                      name: str | None = None) -> LoadedPolicy:
    meta = _read_json(json_path)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise PolicyFileError(f"{json_path}: not a policy file (expected format {FORMAT!r})")
    version = meta.get("version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise PolicyFileError(f"{json_path}: format version {version!r} is not one this code reads "
                              f"(1 to {FORMAT_VERSION})")
    check_spaces(meta.get("observation_space") or {}, meta.get("action_space") or {}, json_path)
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
    policy = build_policy(meta, json_path)
    try:
        state = read_npz(npz_path, MAX_WEIGHTS_BYTES)
    except ArchiveError as err:
        raise PolicyFileError(f"{npz_path}: not a readable weights file ({one_line(err)})") from None
    load_state(policy, state, npz_path)
    info = {"algo": meta["algo"], "source": str(json_path), "kind": "policy-file",
            "num_timesteps": meta.get("num_timesteps")}
    return LoadedPolicy(policy, name or f"{meta['algo']}:{json_path}", info, deterministic, seed)


def _zip_contents(zip_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the plain-JSON part of the zip's `data`, the policy state dict) without unpickling anything.

    `data` is parsed as JSON only: its cloudpickled entries stay base64 text that is never decoded.
    `policy.pth` is read with torch's weights_only loader.
    """
    import torch as th  # deferred: heavy at start-up

    try:
        with zipfile.ZipFile(zip_path) as archive:
            names = [m.filename for m in zip_members(archive, MAX_WEIGHTS_BYTES)]
            if "policy.pth" not in names:
                raise PolicyFileError(f"{zip_path}: no policy.pth inside (not an SB3 model zip)")
            data = json.loads(archive.read("data").decode()) if "data" in names else {}
            state = th.load(io.BytesIO(archive.read("policy.pth")), map_location="cpu", weights_only=True)
    except PolicyFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError, KeyError, UnicodeDecodeError,
            pickle.UnpicklingError, zlib.error) as err:  # ArchiveError is a ValueError
        raise PolicyFileError(f"{zip_path}: not a readable SB3 model zip ({one_line(err)})") from None
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
    if module is not None and module not in SAFE_MODULES:
        raise PolicyFileError(f"{zip_path}: policy class from {module!r} cannot be rebuilt from weights "
                              f"alone; {TRUST_HINT}")
    kwargs = _plain(data.get("policy_kwargs"))
    unknown = sorted(set(kwargs) - KNOWN_KWARGS)
    if unknown:
        raise PolicyFileError(f"{zip_path}: policy_kwargs {unknown} cannot be rebuilt from weights alone; "
                              f"{TRUST_HINT}")
    fe = kwargs.get("features_extractor_class")
    if fe is not None and not any(name in str(fe) for name in ("FlattenExtractor", "agents.trunk.Trunk")):
        raise PolicyFileError(f"{zip_path}: features extractor {fe!r} cannot be rebuilt from weights alone; "
                              f"{TRUST_HINT}")

    def layers(prefix: str) -> list[int]:
        sizes, i = [], 0
        while f"{prefix}.{i}.weight" in state:
            sizes.append(int(state[f"{prefix}.{i}.weight"].shape[0]))
            i += 2  # Linear, activation, Linear, ...
        return sizes

    recurrent = "lstm_actor.weight_ih_l0" in state
    if module is not None and (SAFE_MODULES[module] == "recurrent_ppo") != recurrent:
        raise PolicyFileError(f"{zip_path}: its policy class and its weights disagree about an LSTM")
    if "action_net.weight" not in state:
        raise PolicyFileError(f"{zip_path}: policy.pth has no action_net (not an actor-critic policy)")
    arch: dict[str, Any] = {
        "algo": "recurrent_ppo" if recurrent else "ppo",
        "net_arch": {"pi": layers("mlp_extractor.policy_net"), "vf": layers("mlp_extractor.value_net")},
        "activation_fn": activation_name(kwargs.get("activation_fn"), zip_path),
        "share_features_extractor": kwargs.get("share_features_extractor", True) is not False,
        "features_extractor": "FlattenExtractor", "lstm": None,
        "trunk": layers("features_extractor.layers"),  # agents.trunk.Trunk's, shared by both nets
    }
    if arch["trunk"]:
        arch["features_extractor"] = "Trunk"
    in_dim = (state["lstm_actor.weight_ih_l0"].shape[1] if recurrent else
              state["features_extractor.layers.0.weight"].shape[1] if arch["trunk"] else
              state["mlp_extractor.policy_net.0.weight"].shape[1] if arch["net_arch"]["pi"] else
              state["action_net.weight"].shape[1])
    obs = {"type": "Box", "shape": [int(in_dim)]}
    shape = _plain(data.get("observation_space")).get("_shape")
    if isinstance(shape, list):
        obs["shape"] = shape
        obs["dtype"] = _plain(data.get("observation_space")).get("dtype", "float32")
    check_spaces(obs, {"type": "Discrete", "n": int(state["action_net.weight"].shape[0])}, zip_path)
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
        raise PolicyFileError(f"{zip_path}: not a policy this code can rebuild ({one_line(err)})") from None
    policy = build_policy(arch, zip_path)
    load_state(policy, state, zip_path)
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
                              f"{one_line(err)})") from None
    space, act_space = model.observation_space, model.action_space
    obs = {"type": type(space).__name__, "shape": list(getattr(space, "shape", ()) or ()),
           "dtype": str(getattr(space, "dtype", ""))}
    if hasattr(space, "low"):
        obs.update(low=space.low.tolist(), high=space.high.tolist())
    check_spaces(obs, {"type": type(act_space).__name__, "n": getattr(act_space, "n", -1)}, zip_path)
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
        spec: "scripted:NAME[:KEY=INT,...]", a policy.json / policy.npz path, a training run folder,
            or a model .zip
            (see the module docstring for what each means and what is refused).
        trust_zip: load a .zip with PPO.load / RecurrentPPO.load even when no manifest vouches for it.
            Such a load runs code stored in the file: only for files you created.
        deterministic: the most likely action (default) or a sample from the policy's distribution.
        seed: seeds a scripted fisher, or the sampling of a stochastic policy.

    Raises:
        PolicyFileError: the spec cannot be used; the message names the file and the reason.
    """
    if isinstance(spec, str) and spec.startswith("scripted:"):
        try:
            return scripted_from_spec(spec, seed)
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
